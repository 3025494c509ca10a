"""A console log's bytes as lines: decoding, prefixes and control codes stripped, joined lines split, elisions.

Carriage returns keep only the last state of a progress bar, ANSI colour codes
and backspaces are removed, logging prefixes (``INFO:root:``, timestamps) are
cut, and web pages that joined the tutorial's lines onto one are split again.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from gandiag.infra.files import iter_lines

FORMAT = "console"

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
KERAS_HEADER = re.compile(r"\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$", re.IGNORECASE)
_PREFIXES = (
    re.compile(r"\s*\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?\s*(?:[-|:]\s+)?"),
    re.compile(r"\s*[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+[\w.]+:\d+\]\s*"),  # absl
    re.compile(r"\s*(?:[\w.<>]+\s+-\s+)?\[?(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]?"
               r"(?::[\w.<>-]*:|\s*[-:|]\s+|\s+)", re.IGNORECASE),
)
ELISION = re.compile(r"\s*(?:\.{3,}|…|\[\s*(?:\.{3,}|…)\s*\])\s*$")
# Web pages that show the tutorial's output often join its lines: ">5, d1=... a2=9 ... >446, d1=...".
INLINE_SPLIT = re.compile(r"\s+(\.{3,}|…|\[\s*(?:\.{3,}|…)\s*\])(?=\s+>\d+,)|\s+(?=>\d+,)")


def strip_prefix(text: str) -> str:
    """Remove timestamps and Python-logging/absl prefixes from a line."""
    for _ in range(3):
        before = text
        for pattern in _PREFIXES:
            m = pattern.match(text)
            if m and m.end() > 0:
                text = text[m.end():]
        if text == before:
            break
    return text


def decode(data: bytes) -> str:
    """Bytes to text: UTF-16 with a BOM, else UTF-8 line by line with a Latin-1 fallback."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    for raw in data.split(b"\n"):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def text_lines(stream) -> Iterator[str] | Iterator[bytes]:
    """A log's lines, split on ``\n`` only (a ``\r`` is a progress-bar state, handled later), each with its end.

    UTF-16 (with a BOM) comes as text; anything else as bytes, decoded per
    line as UTF-8 with a Latin-1 fallback: ``decode(data).split("\n")``.
    """
    head = stream.head(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        pending = ""
        while True:
            chunk = stream.read(1 << 16)
            final = not chunk
            pending += decoder.decode(chunk or b"", final=final)
            *complete, pending = pending.split("\n")
            yield from (line + "\n" for line in complete)
            if final:
                if pending:
                    yield pending
                return
    if head.startswith(codecs.BOM_UTF8):
        stream.skip(3)
    yield from iter_lines(stream)  # bytes: decoded line by line by the scan (most lines never need it)
