"""TFRecord framing, CRC32C and the protobuf wire format, by hand.

Just enough to read TensorBoard event files without TensorFlow, tensorboard or
protobuf: a record is ``uint64 length | masked crc32c(length) | data |
masked crc32c(data)`` (little-endian), and protobuf messages are sequences of
``(field number, wire type, value)``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


class Malformed(ValueError):
    """Bytes that are not the protobuf or framing they should be."""


def _crc_table() -> np.ndarray:
    poly = 0x82F63B78  # CRC-32C (Castagnoli), reflected
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table[i] = crc
    return table


_TABLE = _crc_table()
_TABLE_LIST = [int(x) for x in _TABLE]


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (slow pure Python; see :func:`crc32c_many` for bulk)."""
    crc = 0xFFFFFFFF
    table = _TABLE_LIST
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c_many(chunks: list[bytes]) -> list[int]:
    """CRC-32C of many byte strings, vectorised over strings of equal length."""
    out = [0] * len(chunks)
    by_len: dict[int, list[int]] = {}
    for i, chunk in enumerate(chunks):
        by_len.setdefault(len(chunk), []).append(i)
    for length, idx in by_len.items():
        if len(idx) < 4:
            for i in idx:
                out[i] = crc32c(chunks[i])
            continue
        block = np.frombuffer(b"".join(chunks[i] for i in idx), dtype=np.uint8).reshape(len(idx), length)
        crc = np.full(len(idx), 0xFFFFFFFF, dtype=np.uint32)
        for j in range(length):
            crc = _TABLE[(crc ^ block[:, j]) & 0xFF] ^ (crc >> np.uint32(8))
        crc ^= np.uint32(0xFFFFFFFF)
        for i, value in zip(idx, crc.tolist()):
            out[i] = value
    return out


def masked(crc: int) -> int:
    """TFRecord's masked CRC."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@dataclass(frozen=True)
class Record:
    offset: int
    data: bytes
    crc: int  # the masked data CRC stored in the file


@dataclass(frozen=True)
class Framing:
    records: list[Record]
    problem: str | None = None  # why reading stopped early, if it did
    problem_offset: int | None = None
    truncated: bool = False


def split_records(buf: bytes) -> Framing:
    """Cut a TFRecord file into records, checking each length's CRC.

    Data CRCs are checked later, only on records whose values are used (see
    :func:`data_crc_ok`), which keeps big image summaries cheap.
    """
    records: list[Record] = []
    pos, n = 0, len(buf)
    while pos < n:
        if n - pos < 12:
            return Framing(records, "the last record is cut (incomplete header)", pos, truncated=True)
        header = buf[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", buf[pos + 8:pos + 12])
        if masked(crc32c(header)) != length_crc:
            return Framing(records, "bad record header (length checksum does not match)", pos)
        end = pos + 12 + length + 4
        if end > n:
            return Framing(records, "the last record is cut (incomplete data)", pos, truncated=True)
        data = buf[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", buf[end - 4:end])
        records.append(Record(pos, data, data_crc))
        pos = end
    return Framing(records)


class RecordStream:
    """The records of a TFRecord file read one at a time (the file is never held whole).

    Iterating yields :class:`Record` objects; afterwards ``problem``,
    ``problem_offset`` and ``truncated`` say why reading stopped early, as in
    :class:`Framing`. A record longer than ``max_record`` bytes (an image
    summary, or a damaged length) is skipped without being read and counted
    in ``skipped_large``.
    """

    def __init__(self, fh, *, max_record: int, max_bytes: int | None = None):
        self.fh = fh
        self.max_record = max_record
        self.max_bytes = max_bytes
        self.problem: str | None = None
        self.problem_offset: int | None = None
        self.truncated = False
        self.skipped_large = 0
        self.bytes_read = 0
        self.count = 0

    def __iter__(self) -> Iterator[Record]:
        fh, pos = self.fh, 0
        while True:
            header = fh.read(12)
            if not header:
                return
            if len(header) < 12:
                self._stop("the last record is cut (incomplete header)", pos, truncated=True)
                return
            (length,) = struct.unpack("<Q", header[:8])
            (length_crc,) = struct.unpack("<I", header[8:12])
            if masked(crc32c(header[:8])) != length_crc:
                self._stop("bad record header (length checksum does not match)", pos)
                return
            if length > self.max_record:
                here = fh.seek(0, 1)
                end = fh.seek(0, 2)
                if here + length + 4 > end:
                    self._stop("the last record is cut (incomplete data)", pos, truncated=True)
                    return
                fh.seek(here + length + 4)
                self.skipped_large += 1
                pos = here + length + 4
                continue
            body = fh.read(length + 4)
            if len(body) < length + 4:
                self._stop("the last record is cut (incomplete data)", pos, truncated=True)
                return
            self.bytes_read += 12 + length + 4
            if self.max_bytes is not None and self.bytes_read > self.max_bytes:
                raise OverflowError(self.bytes_read)
            (data_crc,) = struct.unpack("<I", body[length:])
            self.count += 1
            yield Record(pos, body[:length], data_crc)
            pos += 12 + length + 4

    def _stop(self, problem: str, offset: int, *, truncated: bool = False) -> None:
        self.problem, self.problem_offset, self.truncated = problem, offset, truncated


def data_crc_ok(records: list[Record]) -> list[bool]:
    """Whether each record's data matches its stored CRC."""
    crcs = crc32c_many([r.data for r in records])
    return [masked(c) == r.crc for c, r in zip(crcs, records)]


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise Malformed("bad varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; value is int or bytes."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise Malformed("field number 0")
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            if pos + 8 > n:
                raise Malformed("cut fixed64")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = varint(buf, pos)
            if pos + length > n:
                raise Malformed("cut length-delimited field")
            value, pos = bytes(buf[pos:pos + length]), pos + length
        elif wire == 5:
            if pos + 4 > n:
                raise Malformed("cut fixed32")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        else:
            raise Malformed(f"unsupported wire type {wire}")
        yield number, wire, value


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def packed_varints(buf: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(buf):
        value, pos = varint(buf, pos)
        out.append(value)
    return out
