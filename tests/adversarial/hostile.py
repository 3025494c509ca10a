"""Hostile inputs: each builder writes one bad run into a folder and says what the error must mention.

A builder ``(folder) -> Hostile`` writes the run's history (or sample files)
under ``folder`` and returns where it is, a phrase the one-line error must
hold, and the environment the case runs with: several cases set a low read
limit (``GANDIAG_MAX_*``) so that a small file exercises the same code path as
a huge one; the tests in ``test_hostile_memory.py`` use the real sizes.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from contract import STABLE, write_history


@dataclass(frozen=True)
class Hostile:
    path: Path  # the history file (or run folder) to hand to gandiag
    says: str  # a phrase the error line must hold
    env: dict[str, str] = field(default_factory=dict)
    watchable: bool = True  # csv/console: `gandiag watch` reads it too


def _csv_rows(n: int) -> bytes:
    lines = STABLE.read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    return ("\n".join([lines[0], *(body[i % len(body)] for i in range(n))]) + "\n").encode()


def jsonl_brackets(folder: Path) -> Hostile:
    p = folder / "history.jsonl"
    p.write_text("[" * 100_000 + "\n")
    return Hostile(p, "no training metrics", watchable=False)


def gzip_of_zeros(folder: Path) -> Hostile:
    p = folder / "history.csv.gz"
    p.write_bytes(gzip.compress(b"\0" * (20 << 20), 9))  # 20 MB of zeros in 20 kB
    return Hostile(p, "binary data", watchable=False)


def gzip_one_endless_line(folder: Path) -> Hostile:
    p = folder / "history.csv.gz"
    p.write_bytes(gzip.compress(b"step,g_loss," + b"0.5," * (2 << 20), 9))  # 8 MB without a line end
    return Hostile(p, "longer than 1,048,576 bytes", watchable=False)


def gzip_rows_past_the_limit(folder: Path) -> Hostile:
    p = folder / "history.csv.gz"
    p.write_bytes(gzip.compress(_csv_rows(3000)))
    return Hostile(p, "more than 1,000 rows", env={"GANDIAG_MAX_ROWS": "1000"}, watchable=False)


def console_too_many_labels(folder: Path) -> Hostile:
    p = folder / "train.log"
    p.write_text(">1, d1=0.5, d2=0.5 g=1.0, a1=70, a2=70\n>2, " + "d1=0.5 " * 2000 + "\n")
    return Hostile(p, "more than 500 labelled numbers", env={"GANDIAG_MAX_LABELS": "500"})


def console_line_too_long(folder: Path) -> Hostile:
    p = folder / "train.log"
    p.write_text(">1, d1=0.5, d2=0.5 g=1.0\n>2, d1=0.5, d2=0.5 g=1.0 " + "x" * 100_000 + "\n")
    return Hostile(p, "longer than 65,536 bytes", env={"GANDIAG_MAX_LINE": "65536"})


def csv_more_fields_than_header(folder: Path) -> Hostile:
    p = folder / "history.csv"
    p.write_text("step,d_loss,g_loss\n" + "".join(f"{i},0.5,1.0,7\n" for i in range(1, 60)))
    return Hostile(p, "more fields than the header")


def csv_huge_field(folder: Path) -> Hostile:
    p = folder / "history.csv"
    p.write_text("step,d_loss,g_loss\n1,0.5,1.0\n2,0.5," + "<img src=x onerror=alert(1)>" * 400_000 + "\n3,0.5,1.0\n")
    return Hostile(p, "longer than 1,048,576 bytes")


def csv_big_text_value(folder: Path) -> Hostile:
    p = folder / "history.csv"
    p.write_text("step,d_loss,g_loss\n1,0.5,1.0\n2,0.5,\x1b[31m" + "z" * 300_000 + "\n3,0.5,1.0\n")
    return Hostile(p, "non-numeric value")


def csv_non_numeric_step(folder: Path) -> Hostile:
    p = folder / "history.csv"
    p.write_text("step,d_loss,g_loss\n1,0.5,1.0\nabc,0.5,1.0\n3,0.5,1.0\n")
    return Hostile(p, "non-numeric value 'abc'")


def empty_history(folder: Path) -> Hostile:
    p = folder / "history.csv"
    p.write_bytes(b"")
    return Hostile(p, "empty file", watchable=False)


def damaged_gzip(folder: Path) -> Hostile:
    p = folder / "history.csv.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(200))
    return Hostile(p, "gzip file is damaged", watchable=False)


def event_file_garbage(folder: Path) -> Hostile:
    p = folder / "events.out.tfevents.1.host"
    p.write_bytes(np.random.default_rng(0).bytes(5000))
    return Hostile(folder, "not a TensorBoard event file", watchable=False)


def event_file_huge_record(folder: Path) -> Hostile:
    from gandiag.ingest import tfrecord

    header = struct.pack("<Q", 1 << 40)
    record = header + struct.pack("<I", tfrecord.masked(tfrecord.crc32c(header))) + b"x" * 100
    (folder / "events.out.tfevents.1.host").write_bytes(record)
    return Hostile(folder, "no scalar summaries", watchable=False)


def fifo_history(folder: Path) -> Hostile:
    p = folder / "history.csv"
    os.mkfifo(p)
    return Hostile(p, "not a regular file")


#: every bad history, by the name the test ids use
HISTORIES: dict[str, Callable[[Path], Hostile]] = {
    "jsonl-line-of-100k-brackets": jsonl_brackets,
    "gzip-of-20MB-zeros": gzip_of_zeros,
    "gzip-8MB-line": gzip_one_endless_line,
    "gzip-rows-past-max-rows": gzip_rows_past_the_limit,
    "console-line-past-max-labels": console_too_many_labels,
    "console-line-past-max-line": console_line_too_long,
    "csv-rows-wider-than-header": csv_more_fields_than_header,
    "csv-11MB-field": csv_huge_field,
    "csv-300kB-text-value": csv_big_text_value,
    "csv-non-numeric-step": csv_non_numeric_step,
    "empty-history": empty_history,
    "damaged-gzip": damaged_gzip,
    "event-file-random-bytes": event_file_garbage,
    "event-file-1TB-record-length": event_file_huge_record,
    "history-is-a-fifo": fifo_history,
}


def good_run(folder: Path, rows: int = 80) -> Path:
    return write_history(folder / "history.csv", rows)


def baseline_of(runs: Path, out: Path) -> Path:
    """A baseline report of the good run alone (what main's CI would have written)."""
    import gandiag

    d = gandiag.analyze(runs / "good", no_samples=True)
    doc = {"schema": "gandiag.report/1", "runs": [{"key": "good/history.csv", "source": d.source,
                                                   "verdict": d.verdict.value}]}
    out.write_text(json.dumps(doc))
    return out
