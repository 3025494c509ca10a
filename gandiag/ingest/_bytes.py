"""Reading a log's bytes: a file, standard input, or gzip (a stream cut short by a killed run keeps what decompresses)."""

from __future__ import annotations

import gzip
import sys
import zlib
from pathlib import Path

from ..errors import InputError


def read_log_bytes(path: str | Path) -> bytes:
    """The bytes of a log, decompressed when gzip; ``-`` reads standard input."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", where=str(path), hint="Check the path") from None
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        # A gzip stream cut short (a run killed while writing): keep what decompresses.
        try:
            partial = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
        except zlib.error:
            partial = b""
        if not partial:
            raise InputError("the gzip file is damaged", where=str(path), hint="Decompress it by hand or re-export the log") from None
        return partial
