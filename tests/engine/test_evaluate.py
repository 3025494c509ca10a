"""Rule evaluation and verdicts on hand-made series (synthetic histories, named as such).

These check the rules' mechanics as the rule files state them (``scores=False``: the files' own thresholds and the
uncalibrated confidence), not the fitted scores, which tests/test_calibrate.py covers.
"""

import functools

import numpy as np
import pytest

import gandiag
from gandiag.engine.findings import Severity, Status, Verdict
from gandiag.history import RunHistory

analyze = functools.partial(gandiag.analyze, scores=False)


def synthetic_stable(n=450):
    rng = np.random.default_rng(0)  # this test's own data, whatever ran before
    return dict(
        d_loss_real=0.6 + rng.normal(0, 0.06, n),
        d_loss_fake=0.6 + rng.normal(0, 0.06, n),
        g_loss=1.2 + rng.normal(0, 0.15, n),
        d_acc_real=np.clip(0.75 + rng.normal(0, 0.08, n), 0, 1),
        d_acc_fake=np.clip(0.75 + rng.normal(0, 0.08, n), 0, 1),
    )


def test_synthetic_stable_run_is_stable_with_healthy_evidence():
    d = analyze(RunHistory.from_arrays(**synthetic_stable()))
    assert d.verdict is Verdict.STABLE
    assert d.onset_step is None
    assert {"GD110", "GD111", "GD210"} <= {f.rule for f in d.findings if f.status is Status.ACTIVE}
    assert d.confidence > 0.7


def test_d_loss_vanishing_is_non_converged_with_onset():
    s = synthetic_stable()
    s["d_loss_real"][100:] = 0.0005
    s["d_loss_fake"][100:] = 0.0008
    s["d_acc_real"][100:] = 1.0
    s["d_acc_fake"][100:] = 1.0
    d = analyze(RunHistory.from_arrays(**s))
    assert d.verdict is Verdict.NON_CONVERGED
    assert 100 <= d.onset_step <= 115  # causal windows lag by at most half a window
    gd101 = next(f for f in d.findings if f.rule == "GD101")
    assert gd101.evidence[0].observed < 0.05 and gd101.evidence[0].threshold == 0.05


def test_early_failure_that_recovers_is_reported_but_does_not_decide():
    s = synthetic_stable()
    s["d_loss_real"][20:80] = 0.001
    s["d_loss_fake"][20:80] = 0.001
    d = analyze(RunHistory.from_arrays(**s))
    assert d.verdict is Verdict.STABLE
    past = [f for f in d.findings if f.rule == "GD101"]
    assert past and past[0].status is Status.RECOVERED and past[0].severity is Severity.WARNING


def test_oscillating_g_loss_alone_is_a_warning_and_stays_stable():
    s = synthetic_stable()
    t = np.arange(450)
    s["g_loss"] = 1.5 + 1.0 * np.sin(2 * np.pi * t / 25)
    d = analyze(RunHistory.from_arrays(**s))
    assert d.verdict is Verdict.STABLE
    gd202 = next(f for f in d.findings if f.rule == "GD202")
    assert gd202.severity is Severity.WARNING and gd202.status is Status.ACTIVE
    assert "period about 25" in gd202.message


def test_oscillating_g_loss_with_fakes_spotted_is_mode_collapse():
    s = synthetic_stable()
    t = np.arange(450)
    s["g_loss"] = 1.5 + 1.0 * np.sin(2 * np.pi * t / 25)
    s["d_acc_fake"][:] = 0.98
    d = analyze(RunHistory.from_arrays(**s))
    assert d.verdict is Verdict.MODE_COLLAPSE
    assert 0.4 < d.confidence < 0.9


def test_nonfinite_losses_are_non_converged_whatever_else():
    s = synthetic_stable()
    s["g_loss"][300:] = np.nan
    s["d_loss_fake"][300:] = np.inf
    d = analyze(RunHistory.from_arrays(**s))
    assert d.verdict is Verdict.NON_CONVERGED and d.onset_step == 301
    assert d.findings[0].rule == "GD901"


def test_negative_losses_are_inconclusive_wgan():
    rng = np.random.default_rng(0)  # this test's own data, whatever ran before
    n = 400
    d = analyze(RunHistory.from_arrays(d_loss=-2 + rng.normal(0, 0.3, n), g_loss=1 + rng.normal(0, 0.3, n)))
    assert d.verdict is Verdict.INCONCLUSIVE and d.loss_family == "wgan"
    assert "Wasserstein" in d.reason
    assert any(code == "GD101" for code, _ in d.skipped_rules)


def test_declared_loss_family_skips_bce_rules():
    d = analyze(RunHistory.from_arrays(**synthetic_stable()), loss="lsgan")
    assert d.verdict is Verdict.INCONCLUSIVE and "lsgan" in d.reason


def test_too_short_is_inconclusive():
    s = {k: v[:8] for k, v in synthetic_stable().items()}
    d = analyze(RunHistory.from_arrays(**s))
    assert d.verdict is Verdict.INCONCLUSIVE and "too short" in d.reason


def test_an_episode_that_reaches_the_last_row_is_active_not_recovered():
    # accuracy pinned over the last 60 of 400 steps: too little of the settled window to have
    # decided the verdict under the old reading, but the run has not recovered from it
    s = synthetic_stable(400)
    s["d_acc_real"][340:] = 1.0
    s["d_acc_fake"][340:] = 1.0
    d = analyze(RunHistory.from_arrays(**s))
    gd102 = [f for f in d.findings if f.rule == "GD102"]
    assert gd102 and gd102[-1].status is Status.ACTIVE
    assert "recovered" not in gd102[-1].message


def test_sum_reduction_halves_combined_d_loss():
    rng = np.random.default_rng(0)  # this test's own data, whatever ran before
    n = 400
    d_sum = 1.3 + rng.normal(0, 0.05, n)  # PyTorch-style sum of two healthy terms
    h = RunHistory.from_arrays(d_loss=d_sum, g_loss=1 + rng.normal(0, 0.1, n), d_loss_reduction="sum")
    assert np.nanmedian(h.get("d_loss_term")) == pytest.approx(0.65, abs=0.02)
    d = analyze(h)
    assert any(f.rule == "GD110" and f.status is Status.ACTIVE for f in d.findings)


def test_missing_series_are_listed_as_skipped():
    rng = np.random.default_rng(0)  # this test's own data, whatever ran before
    n = 200
    d = analyze(RunHistory.from_arrays(g_loss=1 + rng.normal(0, 0.1, n)))
    skipped = dict(d.skipped_rules)
    assert "GD101" in skipped and "d_loss_term" in skipped["GD101"]


def test_select_limits_the_rules_run():
    s = synthetic_stable()
    s["d_loss_real"][100:] = 0.0005
    s["d_loss_fake"][100:] = 0.0008
    d = analyze(RunHistory.from_arrays(**s), select=["GD2"])
    assert all(f.rule.startswith("GD2") for f in d.findings)
    assert d.verdict is not Verdict.NON_CONVERGED or any(f.rule == "GD201" for f in d.findings)


def test_settle_fraction_changes_what_is_judged():
    # a collapse from step 250 to 420 of 450: most of the final quarter, a third of the whole run
    s = synthetic_stable()
    s["d_loss_real"][250:420] = 0.0005
    s["d_loss_fake"][250:420] = 0.0008
    h = RunHistory.from_arrays(**s)
    assert analyze(h, settle_fraction=0.25).verdict is Verdict.NON_CONVERGED
    assert analyze(h, settle_fraction=1.0).verdict is Verdict.STABLE


def test_tiny_negative_critic_values_are_wgan_not_a_vanishing_bce_loss():
    rng = np.random.default_rng(0)  # this test's own data, whatever ran before
    # A weight-clipped critic's terms can stay within +-2e-4: near 0, but a BCE loss is never negative.
    n = 400
    tiny = rng.normal(0, 1e-4, n)
    d = analyze(RunHistory.from_arrays(d_loss_real=tiny, d_loss_fake=-tiny, g_loss=np.abs(tiny)))
    assert d.loss_family == "wgan" and d.verdict is Verdict.INCONCLUSIVE
