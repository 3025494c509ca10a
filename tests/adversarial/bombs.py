"""Real-size hostile files, cheap to build and huge to read: shared by test_hostile_memory.py and
benchmarks/hostile_inputs.py (which imports this module from here)."""

from __future__ import annotations

import gzip
from pathlib import Path


def repeated_gzip(path: Path, block: bytes, times: int) -> None:
    """A multi-member gzip: ``block`` compressed once, written ``times`` times."""
    member = gzip.compress(block, 9)
    with open(path, "wb") as fh:
        for _ in range(times):
            fh.write(member)


def gzip_gibibyte_of_rows(path: Path, csv: bytes) -> None:
    """A gzip holding ``csv``'s header, then its first 100 rows repeated to 1 GiB of valid rows (a few MB on disk)."""
    header, body = csv.split(b"\n", 1)
    block = b"\n".join(body.split(b"\n")[:100]) + b"\n"
    member = gzip.compress(block * 150, 9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(header + b"\n"))
        for _ in range((1 << 30) // (len(block) * 150)):
            fh.write(member)
