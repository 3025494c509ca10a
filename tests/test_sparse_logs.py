"""Excerpts and sparse logs are judged on what they show (issue: the tutorial as people run it).

Inputs: the tutorial's own published excerpt of its convergence-failure run (the first ten lines, ``...``,
the last five), and recorded real runs (fixtures/runs) thinned to one row in 10 or 50, as scripts that
print every k iterations write them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gandiag
from gandiag.engine.findings import Verdict
from gandiag.history import RunHistory
from gandiag.ingest import read_run

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "fixtures" / "runs"

TUTORIAL_EXCERPT = """\
>1, d=0.514, g=0.969, a=80
>2, d=0.475, g=0.395, a=74
>3, d=0.452, g=0.223, a=69
>4, d=0.302, g=0.220, a=85
>5, d=0.177, g=0.195, a=100
>6, d=0.122, g=0.200, a=100
>7, d=0.088, g=0.179, a=100
>8, d=0.075, g=0.159, a=100
>9, d=0.071, g=0.167, a=100
>10, d=0.102, g=0.127, a=100
...
>446, d=0.000, g=0.001, a=100
>447, d=0.000, g=0.001, a=100
>448, d=0.000, g=0.001, a=100
>449, d=0.000, g=0.001, a=100
>450, d=0.000, g=0.001, a=100
"""


def test_the_tutorials_published_excerpt_is_its_convergence_failure(tmp_path):
    log = tmp_path / "excerpt.log"
    log.write_text(TUTORIAL_EXCERPT)
    d = gandiag.analyze(log)
    assert d.verdict is Verdict.NON_CONVERGED, d.reason
    assert d.decision_path == "losses/test2" and d.onset_step == 446
    assert d.settle_window.start_step == 446  # the final quarter of the steps, not of the 15 rows


def _thin(history: RunHistory, every: int) -> RunHistory:
    keep = (history.steps % every == 0) | (history.steps == history.steps[-1])
    return RunHistory.from_arrays(history.steps[keep], **{k: v[keep] for k, v in history.series.items()})


@pytest.mark.parametrize("run", ["digits-stable-s0", "digits-convergence_failure-s0",
                                 "digits-aggressive_adam-s0", "ring8-stable-s0", "digits-diverge-s0"])
@pytest.mark.parametrize("every", [10, 50])
def test_a_run_logged_every_k_steps_gets_the_full_logs_verdict(run, every):
    full = read_run(RUNS / run)
    expected = gandiag.analyze(full).verdict
    thinned = _thin(full, every)
    assert len(thinned) < len(full) // (every - 1) + 2
    assert gandiag.analyze(thinned).verdict is expected


def test_windows_are_steps_not_rows():
    # the same hand-made signal, logged every step and every 20 steps: the onset of a vanishing
    # D loss lands at the same step (to within one logging interval)
    n = 2000
    steps = np.arange(1, n + 1)
    d = np.where(steps < 1200, 0.6, 0.001)
    acc = np.where(steps < 1200, 0.7, 1.0)
    dense = RunHistory.from_arrays(steps, d_loss_real=d, d_loss_fake=d, g_loss=np.full(n, 1.0),
                                   d_acc_real=acc, d_acc_fake=acc)
    a = gandiag.analyze(dense)
    b = gandiag.analyze(_thin(dense, 20))
    assert a.verdict is b.verdict is Verdict.NON_CONVERGED
    assert abs(a.onset_step - b.onset_step) <= 20
