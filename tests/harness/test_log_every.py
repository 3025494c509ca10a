"""log_every: rows at multiples of k plus the final step; resume between logged steps; every step monitored."""

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest

from gandiag.harness import make_config, train

pytestmark = pytest.mark.train
pytest.importorskip("tensorflow")


def _cfg(**kw):
    return make_config("stable", "ring8", steps=23, seed=4, hidden=32, log_every=5, checkpoint_every=12, **kw)


def _history(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array([[float(v) for v in r] for r in rows[1:]])


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    seen = []
    train(_cfg(), lambda s, n, m: seen.append((s, m["g_loss"])), out=out, plots=False)
    return out, seen


def test_rows_at_multiples_and_the_final_step(full):
    out, seen = full
    _, values = _history(out / "history.csv")
    assert values[:, 0].tolist() == [5, 10, 15, 20, 23]
    assert [s for s, _ in seen] == list(range(1, 24))  # progress still sees every step
    by_step = dict(seen)
    assert values[:, 4].tolist() == [by_step[s] for s in (5, 10, 15, 20, 23)]  # that step's own values
    meta = json.loads((out / "meta.json").read_text())
    assert meta["log_every"] == 5 and meta["steps_done"] == 23 and meta["status"] == "completed"
    assert meta["deterministic"] is True and meta["op_determinism"] is True
    assert "step_2" in np.load(out / "samples.npz").files  # snapshots unaffected (every 2 steps)


def test_resume_from_a_checkpoint_between_logged_steps(tmp_path, full):
    class Stop(Exception):
        pass

    def stop_at_14(step, total, metrics):
        if step == 14:
            raise Stop

    with pytest.raises(Stop):
        train(_cfg(), stop_at_14, out=tmp_path, plots=False)
    _, partial = _history(tmp_path / "history.csv")
    assert partial[:, 0].tolist() == [5, 10]
    assert json.loads((tmp_path / "meta.json").read_text())["steps_done"] == 14
    result = train(_cfg(), out=tmp_path, resume=True, plots=False)
    assert result.resumed_from == 12
    assert (tmp_path / "history.csv").read_text() == (full[0] / "history.csv").read_text()


def test_truncation_keeps_rows_up_to_the_checkpoint(tmp_path, full):
    import shutil

    from gandiag.live.runlog import RunLogger

    shutil.copy(full[0] / "history.csv", tmp_path / "history.csv")
    logger = RunLogger(tmp_path, resume=True)
    logger.truncate_after(12)
    logger.close()
    assert _history(tmp_path / "history.csv")[1][:, 0].tolist() == [5, 10]


def test_monitor_sees_every_step(tmp_path):
    class Recorder:
        real = None

        def __init__(self):
            self.steps, self.snapshots = [], []

        def update(self, step, **metrics):
            self.steps.append(step)
            return SimpleNamespace(confirmed=False)

        def snapshot(self, step, samples):
            self.snapshots.append(step)
            return SimpleNamespace(confirmed=False)

    mon = Recorder()
    train(make_config("stable", "ring8", steps=7, seed=0, hidden=16, log_every=3), out=tmp_path,
          plots=False, checkpoints=False, monitor=mon)
    assert mon.steps == list(range(1, 8))
    assert mon.snapshots == sorted(int(k.split("_")[1]) for k in np.load(tmp_path / "samples.npz").files)
    assert mon.real is not None and mon.real.shape[1:] == (2,)  # judged against what real.npz holds
    assert _history(tmp_path / "history.csv")[1][:, 0].tolist() == [3, 6, 7]
