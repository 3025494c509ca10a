import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gandiag.errors import UsageError
from gandiag.live.runlog import RunLogger, load_npz


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_header_written_once_and_rows_flushed(tmp_path):
    log = RunLogger(tmp_path)
    log.log(1, d_loss=0.5, g_loss=1.0)
    # visible on disk before close: flushed per row
    assert read_rows(tmp_path / "history.csv") == [["step", "d_loss", "g_loss"], ["1", "0.5", "1.0"]]
    log.log(2, d_loss=float("nan"), g_loss=float("inf"))
    log.close()
    rows = read_rows(tmp_path / "history.csv")
    assert rows[2] == ["2", "nan", "inf"]


def test_new_metric_after_first_row_is_an_error(tmp_path):
    log = RunLogger(tmp_path)
    log.log(1, d_loss=0.5)
    with pytest.raises(UsageError, match="g_loss"):
        log.log(2, d_loss=0.4, g_loss=1.0)


def test_fixed_columns_and_missing_values(tmp_path):
    log = RunLogger(tmp_path, columns=["a", "b"])
    log.log(1, b=2.0)
    log.close()
    assert read_rows(tmp_path / "history.csv") == [["step", "a", "b"], ["1", "", "2.0"]]


def test_resume_appends_and_truncate_after(tmp_path):
    log = RunLogger(tmp_path)
    for s in range(1, 6):
        log.log(s, x=s / 10)
        log.snapshot(s, np.full((3, 2), s))
    log.close()
    log = RunLogger(tmp_path, resume=True)
    log.truncate_after(3)
    log.log(4, x=0.44)
    log.close()
    rows = read_rows(tmp_path / "history.csv")
    assert [r[0] for r in rows] == ["step", "1", "2", "3", "4"]
    assert rows[-1] == ["4", "0.44"]
    assert sorted(load_npz(tmp_path / "samples.npz")) == ["step_1", "step_2", "step_3"]


def test_resume_rejects_other_columns(tmp_path):
    RunLogger(tmp_path).log(1, x=1.0)
    with pytest.raises(UsageError, match="cannot resume"):
        RunLogger(tmp_path, columns=["y"], resume=True)


def test_resume_drops_a_partial_last_line(tmp_path):
    (tmp_path / "history.csv").write_text("step,x\n1,0.5\n2,0.")
    log = RunLogger(tmp_path, resume=True)
    log.log(2, x=0.25)
    log.close()
    assert read_rows(tmp_path / "history.csv") == [["step", "x"], ["1", "0.5"], ["2", "0.25"]]


def test_snapshot_and_json_are_atomic_files(tmp_path):
    log = RunLogger(tmp_path)
    log.snapshot(10, np.ones((4, 8, 8, 1), np.float32))
    log.snapshot(20, np.zeros((4, 8, 8, 1), np.float32))
    log.write_json("meta.json", {"a": np.float32(1.5), "nan": float("nan")})
    arrays = load_npz(tmp_path / "samples.npz")
    assert list(arrays) == ["step_10", "step_20"]
    assert arrays["step_10"].dtype == np.float16 and arrays["step_10"].shape == (4, 8, 8, 1)
    assert json.loads((tmp_path / "meta.json").read_text())["a"] == 1.5
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_sigkill_keeps_every_completed_row(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from gandiag.live.runlog import RunLogger
        log = RunLogger({str(tmp_path)!r})
        for s in range(1, 101):
            log.log(s, d_loss=s * 0.5, g_loss=1.0)
            if s == 57:
                os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    rows = read_rows(tmp_path / "history.csv")
    assert rows[0] == ["step", "d_loss", "g_loss"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 58))
