"""The issue's memory cases at their real sizes, each in its own process with its peak memory measured.

Marked ``slow``: each reads up to a few hundred megabytes before its limit
stops it. ``benchmarks/hostile_inputs.py`` prints the same figures.
"""

from __future__ import annotations

import pytest
from bombs import gzip_gibibyte_of_rows, repeated_gzip
from contract import GANDIAG, peak_rss_mb, write_history

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
MAX_PEAK_MB = 500


def _check(argv, says: str, **kw) -> None:
    code, peak, out, err = peak_rss_mb(argv, **kw)
    assert code == 2, (code, err[-500:])
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and len(lines[0]) <= 300 and says in lines[0], err[-500:]
    assert "Traceback" not in err
    assert peak <= MAX_PEAK_MB, f"peak memory {peak:.0f} MB"


def test_gzip_bomb_of_zeros(tmp_path):
    bomb = tmp_path / "history.csv.gz"
    repeated_gzip(bomb, b"\0" * (64 << 20), 32)  # 2 GiB of zeros
    _check([*GANDIAG, "analyze", str(bomb)], "binary data")


def test_gzip_bomb_of_text_without_line_ends(tmp_path):
    bomb = tmp_path / "train.log.gz"
    repeated_gzip(bomb, b"d1=0.5 " * (8 << 20), 40)  # 2.2 GB, one line
    _check([*GANDIAG, "analyze", str(bomb)], "longer than 1,048,576 bytes")


def test_gzip_of_a_gibibyte_of_valid_rows(tmp_path):
    bomb = tmp_path / "history.csv.gz"
    gzip_gibibyte_of_rows(bomb, write_history(tmp_path / "rows.csv", 600).read_bytes())  # as in the issue
    _check([*GANDIAG, "analyze", str(bomb)], "GANDIAG_MAX_CELLS")  # 9 columns: the numbers limit comes first


def test_console_line_of_a_million_and_a_half_labels(tmp_path):
    log = tmp_path / "train.log"
    log.write_bytes(b">1, d1=0.5, d2=0.5 g=1.0\n>2, " + b"d1=0.5 " * 1_500_000 + b"\n")
    _check([*GANDIAG, "analyze", str(log)], "longer than 1,048,576 bytes")
    _check([*GANDIAG, "analyze", str(log)], "labelled numbers", env={"GANDIAG_MAX_LINE": "64M"})


def test_standard_input_from_dev_zero(tmp_path):
    code, peak, out, err = peak_rss_mb(["/bin/sh", "-c", f"{GANDIAG[0]} analyze - < /dev/zero"])
    assert code == 2 and "binary data" in err and peak <= MAX_PEAK_MB, (code, peak, err)
