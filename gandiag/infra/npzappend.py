"""Appending arrays to an ``.npz`` archive in place, with a journal that survives a crash.

An ``.npz`` is a zip archive of ``.npy`` members, and a zip can be appended
to: the new member is written where the central directory was, followed by a
new central directory. That makes each snapshot cost the same whatever the
number of snapshots before it (rewriting the archive costs all of them).

The write overwrites the old central directory, so a process killed in the
middle would leave an archive no zip reader can open. Before touching the
archive, :func:`append_arrays` saves the old directory (the archive's bytes
from the directory's start to its end, a few bytes per member) in a journal
file beside it, ``.NAME.journal``, and removes the journal once the archive is
complete again. :func:`recover` puts the old directory back from a journal
that is still there (the archive is then exactly what it was before the
interrupted append), and :func:`open_archive` lets a reader see that state
without writing anything.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gandiag.infra.outputs import create_exclusive

_MAGIC = b"GDJ1"
_HEAD = struct.Struct("<4sQQ")


def journal_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.journal")


def _read_journal(path: Path) -> tuple[int, bytes] | None:
    """``(start of the old directory, the old tail)`` from a complete journal, else None."""
    try:
        data = journal_path(path).read_bytes()
    except OSError:
        return None
    if len(data) < _HEAD.size + 4:
        return None
    magic, start, length = _HEAD.unpack_from(data)
    body = data[: _HEAD.size + length]
    if magic != _MAGIC or len(data) != _HEAD.size + length + 4:
        return None
    (crc,) = struct.unpack_from("<I", data, _HEAD.size + length)
    if zlib.crc32(body) != crc:
        return None
    return start, data[_HEAD.size: _HEAD.size + length]


def recover(path: str | os.PathLike[str]) -> bool:
    """Undo an append that was interrupted: True when a journal was applied (or dropped, if incomplete)."""
    path = Path(path)
    jp = journal_path(path)
    if not jp.exists():
        return False
    saved = _read_journal(path)
    if saved is not None and path.exists():
        start, tail = saved
        with open(path, "r+b") as fh:
            fh.truncate(start)
            fh.seek(start)
            fh.write(tail)
            fh.flush()
            os.fsync(fh.fileno())
    jp.unlink(missing_ok=True)  # an incomplete journal means the archive was not touched yet
    return True


class _Spliced(io.RawIOBase):
    """The first ``start`` bytes of a file followed by ``tail``: the archive as it was before an append."""

    def __init__(self, fh, start: int, tail: bytes):
        super().__init__()
        self._fh, self._start, self._tail = fh, start, tail
        self._pos = 0
        self._size = start + len(tail)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self._size - self._pos))
        if n == 0:
            return 0
        if self._pos < self._start:
            take = min(n, self._start - self._pos)
            self._fh.seek(self._pos)
            got = self._fh.readinto(view[:take])
            self._pos += got
            return got
        off = self._pos - self._start
        view[:n] = self._tail[off: off + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_archive(path: str | os.PathLike[str]):
    """A binary file object of the archive, as it was before an interrupted append if a journal says so."""
    path = Path(path)
    fh = open(path, "rb")
    saved = _read_journal(path) if journal_path(path).exists() else None
    if saved is None:
        return fh
    return io.BufferedReader(_Spliced(fh, *saved))


def _write_member(zf: zipfile.ZipFile, key: str, array: np.ndarray) -> None:
    with zf.open(f"{key}.npy", "w", force_zip64=True) as fh:
        np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)


def new_archive(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write a compressed archive of ``arrays`` atomically (a temporary file and a rename)."""
    from gandiag.infra.outputs import atomic_write_bytes

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, array in arrays.items():
            _write_member(zf, key, array)
    atomic_write_bytes(path, buf.getvalue())


def append_arrays(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Add ``arrays`` as new members of the archive at ``path`` (created if missing).

    The caller must hold the archive exclusively (RunLogger's folder lock) and
    the names must be new; the cost does not depend on the members already there.
    """
    path = Path(path)
    recover(path)
    if not path.exists():
        new_archive(path, arrays)
        return
    with open(path, "r+b") as fh:
        with zipfile.ZipFile(fh, "r") as probe:
            start = probe.start_dir
        fh.seek(start)
        tail = fh.read()
    head = _HEAD.pack(_MAGIC, start, len(tail)) + tail
    jp = journal_path(path)
    fd = create_exclusive(jp)
    with os.fdopen(fd, "wb") as jh:
        jh.write(head + struct.pack("<I", zlib.crc32(head)))
        jh.flush()
        os.fsync(jh.fileno())
    with open(path, "r+b") as fh:
        with zipfile.ZipFile(fh, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            for key, array in arrays.items():
                _write_member(zf, key, array)
        fh.flush()
        os.fsync(fh.fileno())
    jp.unlink()


def member_names(path: str | os.PathLike[str]) -> list[str]:
    """The array names in the archive (member names without ``.npy``), as it stands or before an interrupted append."""
    with open_archive(path) as fh, zipfile.ZipFile(fh) as zf:
        return [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
