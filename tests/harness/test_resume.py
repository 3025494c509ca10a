"""Crash safety and --resume: a killed-and-resumed run matches an uninterrupted one."""

import csv
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gandiag.harness import make_config, train
from gandiag.live.runlog import load_npz

pytestmark = pytest.mark.train
pytest.importorskip("tensorflow")

STEPS = 60


def _cfg(**kw):
    return make_config("stable", "ring8", steps=STEPS, seed=5, snapshot_every=10, hidden=32, **kw)


def _history(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array([[float(v) for v in r] for r in rows[1:]])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    train(_cfg(), out=out, plots=False)
    return out


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, uninterrupted):
    script = textwrap.dedent(f"""
        import os, signal
        from gandiag.harness import make_config, train
        cfg = make_config("stable", "ring8", steps={STEPS}, seed=5, snapshot_every=10, hidden=32)
        def progress(step, total, metrics):
            if step == 37:
                os.kill(os.getpid(), signal.SIGKILL)
        train(cfg, progress, out={str(tmp_path)!r}, plots=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]
    header, killed = _history(tmp_path / "history.csv")
    assert killed[:, 0].tolist() == list(range(1, 38))  # every completed step, valid CSV
    assert json.loads((tmp_path / "meta.json").read_text())["status"] == "running"
    assert sorted(load_npz(tmp_path / "samples.npz")) == ["step_10", "step_20", "step_30"]

    result = train(_cfg(), out=tmp_path, resume=True, plots=False)
    assert result.resumed_from == 30 and result.status == "completed"
    header2, resumed = _history(tmp_path / "history.csv")
    _, full = _history(uninterrupted / "history.csv")
    assert header2 == header
    assert resumed[:, 0].tolist() == list(range(1, STEPS + 1))  # no duplicates, no gaps
    np.testing.assert_allclose(resumed, full, rtol=1e-5, atol=1e-6)
    got, want = load_npz(tmp_path / "samples.npz"), load_npz(uninterrupted / "samples.npz")
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_allclose(got[key].astype(float), want[key].astype(float), atol=2e-3)
    assert json.loads((tmp_path / "meta.json").read_text())["status"] == "completed"


def test_interrupt_in_process_then_resume(tmp_path, uninterrupted):
    class Stop(Exception):
        pass

    def stop_at_45(step, total, metrics):
        if step == 45:
            raise Stop

    with pytest.raises(Stop):
        train(_cfg(), stop_at_45, out=tmp_path, plots=False)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "stopped" and meta["steps_done"] == 45
    train(_cfg(), out=tmp_path, resume=True, plots=False)
    _, resumed = _history(tmp_path / "history.csv")
    _, full = _history(uninterrupted / "history.csv")
    np.testing.assert_allclose(resumed, full, rtol=1e-5, atol=1e-6)


def test_resume_with_other_options_is_refused(tmp_path, uninterrupted):
    import shutil

    from gandiag.errors import UsageError

    shutil.copytree(uninterrupted, tmp_path / "run")
    with pytest.raises(UsageError, match="lr_d"):
        train(_cfg(lr_d=1e-3), out=tmp_path / "run", resume=True, plots=False)
