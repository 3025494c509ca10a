"""Reading a log's bytes as a stream under the read limits: a file, standard input, or gzip.

Nothing here holds a whole log in memory. :func:`open_log` returns a
:class:`LogStream`, a raw binary stream that counts what passes through it and
raises :class:`~gandiag.errors.LimitError` as soon as the decompressed bytes or
the length of one line pass their limit (:mod:`gandiag.infra.limits`), so a gzip bomb
or ``/dev/zero`` stops after a bounded read. A gzip stream cut short (a run
killed while writing) ends where it ends, with a warning.

Paths that are not regular files (a FIFO, a device, a socket) are refused
before they are opened: opening a FIFO waits for a writer forever.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.infra.limits import ReadLimits, current_limits

_GZIP_MAGIC = b"\x1f\x8b"


def _strerror(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_input_path(path: str | Path, *, what: str = "file") -> os.stat_result:
    """``stat`` of an input path that gandiag may open: a regular file or a folder, else InputError.

    Refuses FIFOs, devices and sockets (``/dev/zero``, a named pipe): reading one
    either never ends or waits for a writer. Standard input is ``-``.
    """
    where = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{what} not found", where=where, hint="Check the path") from None
    except OSError as exc:
        raise InputError(f"cannot open the {what} ({_strerror(exc)})", where=where,
                         hint="Check the path and its permissions") from None
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return st
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else \
        "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else \
        "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file"
    raise InputError(f"not a regular file ({kind})", where=where,
                     hint="Give a log file or a run folder; to read a stream, pipe it to `gandiag analyze -`")


def open_binary(path: str | Path, *, what: str = "file"):
    """Open a regular file for reading, with the errors a user can act on."""
    st = check_input_path(path, what=what)
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"expected a {what}, got a folder", where=str(path), hint="Give the file inside it")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read the {what} ({_strerror(exc)})", where=str(path),
                         hint="Check the path and its permissions") from None


class LogStream(io.RawIOBase):
    """A raw binary stream over a log that enforces the read limits while it is read.

    ``head(n)`` reads ahead and keeps the first ``n`` bytes so that sniffing and
    header parsing see them and the reader still gets every byte. With
    :meth:`hold_last_line` the last line is held back until the end of the
    stream and dropped (with a warning) when it has fewer fields than the
    header: a CSV row cut by a killed run.
    """

    def __init__(self, source, where: str, limits: ReadLimits, *, closer=None, gz: bool = False):
        super().__init__()
        self._src = source
        self._closer = closer
        self.where = where
        self.limits = limits
        self.gz = gz
        self.total = 0  # bytes delivered from the source (decompressed)
        self.lines = 0  # line ends seen
        self._run = 0  # bytes since the last line end
        self._pending = b""  # read ahead by head(), not yet delivered
        self._eof = False
        self.warnings: list[str] = []
        self._hold: tuple[bytes, int] | None = None
        self._held = b""
        self._seen_line_end = False

    # -- io.RawIOBase --------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed and self._closer is not None:
            self._closer()
        super().close()

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        while True:
            if self._pending:
                n = min(len(view), len(self._pending))
                view[:n] = self._pending[:n]
                self._pending = self._pending[n:]
                return n
            chunk = self._pull(max(len(view), 1 << 16))
            if chunk is None:
                return 0
            self._pending = chunk  # may be b"" while a held line waits for more data

    # -- reading ahead ----------------------------------------------------------------

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer at the end of the stream), still to be delivered by ``read``."""
        while len(self._pending) < n and not self._eof:
            chunk = self._pull(n - len(self._pending))
            if chunk is None:
                break
            self._pending += chunk
        return self._pending[:n]

    def skip(self, n: int) -> None:
        """Drop ``n`` bytes already read ahead by :meth:`head` (a byte-order mark)."""
        self._pending = self._pending[n:]

    def hold_last_line(self, sep: bytes, n_fields: int) -> None:
        """Hold back the last non-empty line; drop it at the end if it has fewer than ``n_fields`` fields."""
        self._hold = (sep, n_fields)
        self._held, self._pending = self._pending, b""
        self._seen_line_end = False

    # -- the source -------------------------------------------------------------------

    def _read_source(self, n: int) -> bytes:
        if self._eof:
            return b""
        try:
            data = self._src.read(n)
        except EOFError:
            data = b""
            self.warnings.append(f"{self.where}: the gzip stream is cut short (a run killed while writing?); "
                                 "what decompressed was read")
        except (OSError, zlib.error) as exc:
            if not self.gz:
                raise InputError(f"cannot read the file ({_strerror(exc) if isinstance(exc, OSError) else exc})",
                                 where=self.where, hint="Check the path and its permissions") from None
            if self.total == 0:
                raise InputError("the gzip file is damaged", where=self.where,
                                 hint="Decompress it by hand or re-export the log") from None
            data = b""
            self.warnings.append(f"{self.where}: the gzip stream is damaged after {self.total:,} bytes; "
                                 "what decompressed before was read")
        if not data:
            self._eof = True
            return b""
        self._count(data)
        return data

    def _count(self, data: bytes) -> None:
        limits = self.limits
        self.total += len(data)
        if self.total > limits.max_bytes:
            raise LimitError(f"more than {limits.max_bytes:,} bytes" + (" after decompression" if self.gz else ""),
                             where=self.where, hint=limits.raise_hint("max_bytes"))
        first = data.find(b"\n")
        if first < 0:
            self._run += len(data)
        else:
            longest = self._run + first
            last = data.rfind(b"\n")
            if last > first and last - first > limits.max_line:
                ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
                longest = max(longest, int(np.diff(ends).max()) - 1)
            self._run = len(data) - last - 1
            if longest > limits.max_line:
                self._too_long(self.lines + 1)
            self.lines += data.count(b"\n")
        if self._run > limits.max_line:
            self._too_long(self.lines + 1)

    def _too_long(self, line: int) -> None:
        raise LimitError(f"line {line:,} is longer than {self.limits.max_line:,} bytes (binary data, or no line ends?)",
                         where=self.where, hint=self.limits.raise_hint("max_line"))

    def _pull(self, n: int) -> bytes | None:
        """The next bytes to deliver (b"" when a held line needs more), or None at the end."""
        data = self._read_source(n)
        if self._hold is None:
            return data or None
        if data:
            joined = self._held + data
            end = len(joined.rstrip(b"\r\n"))
            start = joined.rfind(b"\n", 0, end) + 1 if end else len(joined)
            self._held = joined[start:]
            self._seen_line_end |= start > 0
            return joined[:start]
        joined, self._held = self._held, b""
        self._hold, (sep, n_fields) = None, self._hold
        end = len(joined.rstrip(b"\r\n"))
        start = joined.rfind(b"\n", 0, end) + 1
        last = joined[start:end]
        if (self._seen_line_end or start > 0) and last.count(sep) < n_fields - 1:
            shown = last[:60].decode("utf-8", "replace")
            self.warnings.append(f"the last line was incomplete (a run killed mid-write?) and was dropped: {shown!r}")
            joined = joined[:start]
        return joined or None


def open_log(path: str | Path, *, limits: ReadLimits | None = None) -> LogStream:
    """A :class:`LogStream` over a log file, ``-`` (standard input), gzip or not."""
    limits = limits or current_limits()
    if str(path) == "-":
        stdin = sys.stdin.buffer
        if not hasattr(stdin, "peek"):  # a BytesIO (tests, embedding): buffered, so that it can be peeked at
            stdin = io.BufferedReader(stdin)
        if stdin.peek(2)[:2] == _GZIP_MAGIC:
            return LogStream(gzip.GzipFile(fileobj=stdin, mode="rb"), "<stdin>", limits, gz=True)
        return LogStream(stdin, "<stdin>", limits)
    fh = open_binary(path)
    try:
        magic = fh.read(2)
        fh.seek(0)
    except OSError as exc:
        fh.close()
        raise InputError(f"cannot read the file ({_strerror(exc)})", where=str(path),
                         hint="Check the path and its permissions") from None
    if magic == _GZIP_MAGIC:
        gz = gzip.GzipFile(fileobj=fh, mode="rb")

        def close_both() -> None:
            gz.close()
            fh.close()

        return LogStream(gz, str(path), limits, closer=close_both, gz=True)
    return LogStream(fh, str(path), limits, closer=fh.close)


def read_head(path: str | Path, n: int) -> bytes:
    """The first ``n`` bytes of a log (decompressed when gzip), for sniffing; b"" for a folder."""
    p = Path(path)
    st = check_input_path(p)
    if stat.S_ISDIR(st.st_mode):
        return b""
    stream = open_log(p, limits=current_limits())
    try:
        return stream.head(n)
    finally:
        stream.close()


def iter_lines(stream: LogStream, chunk: int = 1 << 18) -> Iterator[bytes]:
    """The lines of a stream, each with its ``\\n`` (the last one may lack it); bounded by ``max_line``."""
    buffered = io.BufferedReader(stream, buffer_size=chunk)
    yield from buffered
