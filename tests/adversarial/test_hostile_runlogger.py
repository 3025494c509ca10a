"""RunLogger against a second writer, a kill in the middle of a snapshot, and the umask: nothing lost."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from contract import assert_no_traceback, cli

from gandiag.errors import RunLockedError, UsageError
from gandiag.live.runlog import RunLogger, load_npz
from gandiag.samples.read import read_snapshots


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def _in_subprocess(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)


def test_a_second_process_gets_a_clear_error_and_the_first_loses_nothing(tmp_path):
    first = RunLogger(tmp_path)
    for s in range(1, 3001):
        first.log(s, d_loss=0.5, g_loss=1.0)
    second = _in_subprocess(f"""
        from gandiag.live.runlog import RunLogger
        from gandiag.errors import GandiagError
        for resume in (False, True):
            try:
                RunLogger({str(tmp_path)!r}, resume=resume)
            except GandiagError as exc:
                print(type(exc).__name__, exc.one_line())
    """)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("RunLockedError") == 2 and "another process" in second.stdout
    first.log(3001, d_loss=0.5, g_loss=1.0)
    first.close()
    assert len(_rows(tmp_path / "history.csv")) == 3002


def test_a_second_writer_in_the_same_process_is_refused(tmp_path):
    log = RunLogger(tmp_path)
    log.log(1, x=1.0)
    with pytest.raises(RunLockedError):
        RunLogger(tmp_path, resume=True)
    log.close()
    RunLogger(tmp_path, resume=True).close()  # free again once closed


def test_a_new_logger_does_not_delete_an_old_run(tmp_path):
    with RunLogger(tmp_path) as log:
        for s in range(1, 11):
            log.log(s, x=s)
    with pytest.raises(UsageError, match="already holds a run") as err:
        RunLogger(tmp_path)
    assert "resume=True" in err.value.one_line()
    assert len(_rows(tmp_path / "history.csv")) == 11
    with RunLogger(tmp_path, resume=True) as log:
        log.log(11, x=11)
    assert len(_rows(tmp_path / "history.csv")) == 12


def test_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        with RunLogger(tmp_path / "run") as log:
            log.log(1, x=1.0)
            log.snapshot(1, np.zeros((4, 2)))
            log.snapshot(2, np.zeros((4, 2)))
            log.write_json("meta.json", {"a": 1})
            log.write_npz("real.npz", real=np.zeros((4, 2)))
    finally:
        os.umask(old)
    for name in ("history.csv", "samples.npz", "meta.json", "real.npz"):
        assert stat.S_IMODE((tmp_path / "run" / name).stat().st_mode) == 0o644, name


def test_rewrite_keeps_a_files_own_mode(tmp_path):
    with RunLogger(tmp_path) as log:
        log.write_json("meta.json", {"a": 1})
        (tmp_path / "meta.json").chmod(0o640)
        log.write_json("meta.json", {"a": 2})
    assert stat.S_IMODE((tmp_path / "meta.json").stat().st_mode) == 0o640


def test_snapshots_are_appended_and_all_readable(tmp_path):
    with RunLogger(tmp_path) as log:
        for s in range(10, 310, 10):
            log.snapshot(s, np.full((5, 3), s))
        log.snapshot(20, np.full((5, 3), -1))  # the same step again replaces it
    arrays = load_npz(tmp_path / "samples.npz")
    assert len(arrays) == 30 and float(arrays["step_20"][0, 0]) == -1 and float(arrays["step_300"][0, 0]) == 300
    assert sorted(read_snapshots(tmp_path / "samples.npz")) == list(range(10, 310, 10))
    with zipfile.ZipFile(tmp_path / "samples.npz") as zf:
        assert zf.testzip() is None


KILLED_SNAPSHOT = """
    import os, signal
    import numpy as np
    from gandiag.infra import npzappend
    from gandiag.live.runlog import RunLogger
    log = RunLogger({folder!r})
    log.log(1, d_loss=0.5, g_loss=1.0)
    for s in (10, 20, 30):
        log.snapshot(s, np.full((50, 4), s))
    real_write = npzappend._write_member
    def write_and_die(zf, key, array):
        with zf.open(key + ".npy", "w", force_zip64=True) as fh:
            fh.write(b"\\x93NUMPY partial" * 20000)
            fh.flush()
            zf.fp.flush()  # the half-written member has reached the file, over the old directory
            os.kill(os.getpid(), signal.SIGKILL)
    npzappend._write_member = write_and_die
    log.snapshot(40, np.full((50, 4), 40))
"""


def test_sigkill_in_the_middle_of_a_snapshot_keeps_the_earlier_ones(tmp_path):
    killed = _in_subprocess(KILLED_SNAPSHOT.format(folder=str(tmp_path)))
    assert killed.returncode == -9, killed.stderr
    with pytest.raises(zipfile.BadZipFile):  # the archive itself is broken: only the journal restores it
        zipfile.ZipFile(tmp_path / "samples.npz")
    # a reader sees the archive as it was before the interrupted append
    assert sorted(read_snapshots(tmp_path / "samples.npz")) == [10, 20, 30]
    assert sorted(load_npz(tmp_path / "samples.npz")) == ["step_10", "step_20", "step_30"]
    r = cli("analyze", tmp_path, "-f", "json")
    assert_no_traceback(r)
    assert not r.stderr and len(json.loads(r.stdout)["runs"][0]["snapshots"]) == 3
    # the next writer puts it back and goes on
    with RunLogger(tmp_path, resume=True) as log:
        log.snapshot(40, np.full((50, 4), 40))
    assert sorted(load_npz(tmp_path / "samples.npz")) == ["step_10", "step_20", "step_30", "step_40"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith((".tmp", ".journal"))]


def test_stale_temporary_files_are_removed_by_the_next_writer(tmp_path):
    with RunLogger(tmp_path) as log:
        log.log(1, x=1.0)
    (tmp_path / ".meta.json.k2x9q_a1.tmp").write_text("{")  # a killed atomic write (mkstemp's name)
    (tmp_path / ".samples.npz.0f3a9b2c.tmp").write_bytes(b"PK")
    with RunLogger(tmp_path, resume=True):
        pass
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_metric_appearing_after_the_first_batch_is_warned_not_a_crash(tmp_path):
    from gandiag.live.keras import _Diagnostics

    cb = _Diagnostics(tmp_path, planned_steps=100, verbose=False)
    cb.batch_end(0, {"d_loss": 0.6, "g_loss": 1.0}, None)
    with pytest.warns(RuntimeWarning, match="'gp' first appeared"):
        cb.batch_end(1, {"d_loss": 0.6, "g_loss": 1.0, "gp": 3.0}, None)
    cb.batch_end(2, {"d_loss": 0.6, "g_loss": 1.0, "gp": 3.0, "huge": 10**400, "text": "abc"}, None)
    cb.close()
    rows = _rows(tmp_path / "history.csv")
    assert rows[0] == ["step", "d_loss", "g_loss"] and len(rows) == 4
