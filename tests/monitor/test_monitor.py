"""The Monitor against the offline analysis, on the recorded real runs (fixtures/runs).

The offline side is computed live in each test (``gandiag.analyze``), never
pinned: the rules and thresholds may change and the two must still agree.
"""

import dataclasses
import os

import numpy as np
import pytest
from fixture_runs import FIXTURE_RUNS, RUNS

import gandiag
from gandiag.engine.findings import Verdict
from gandiag.errors import UsageError
from gandiag.live.monitor import Monitor, history_rows

FAILING = {"digits-convergence_failure-s0", "digits-diverge-s0", "digits-aggressive_adam-s0"}


def replay(history, **options):
    options.setdefault("planned_steps", len(history))
    monitor = Monitor(**options)
    states = [monitor.update(step, **metrics) for step, metrics in history_rows(history)]
    monitor.evaluate()
    return monitor, states


def prefix(history, t):
    return dataclasses.replace(history, steps=history.steps[:t], series={k: v[:t] for k, v in history.series.items()},
                               nonfinite={k: v[:t] for k, v in history.nonfinite.items()})


@pytest.mark.parametrize("run", RUNS)
def test_replay_ends_with_the_offline_verdict_and_onset(run, histories):
    monitor, _ = replay(histories[run])
    offline = gandiag.analyze(os.path.join(FIXTURE_RUNS, run), no_samples=True)
    live = monitor.state
    assert (live.verdict, live.onset_step) == (offline.verdict, offline.onset_step)
    assert live.rows == offline.n_steps
    final = monitor.finish()
    assert (final.verdict, final.onset_step, final.confidence) == (offline.verdict, offline.onset_step,
                                                                   offline.confidence)
    assert live.provisional  # the live state never claims to be final


@pytest.mark.parametrize("run", RUNS)
def test_provisional_state_is_the_offline_answer_for_the_rows_so_far(run, histories):
    """At each evaluation the live state equals gandiag.analyze of the log cut at that row."""
    h = histories[run]
    monitor = Monitor(planned_steps=len(h))
    checked = 0
    for i, (step, metrics) in enumerate(history_rows(h)):
        state = monitor.update(step, **metrics)
        if (i + 1) % 96 == 0:
            assert state.rows == i + 1
            offline = gandiag.analyze(prefix(h, i + 1))
            assert (state.verdict, state.onset_step) == (offline.verdict, offline.onset_step), (run, i + 1)
            checked += 1
    assert checked >= 3


def test_a_short_run_policy_stops_failing_runs_early_and_no_stable_run(histories):
    # the fixture runs are 450-600 steps: below the default 500-step floor (tests/monitor/test_samples_live.py and
    # benchmarks/monitor_replay.py measure the default policy on the corpus)
    for run, h in histories.items():
        monitor, states = replay(h, min_steps=100, min_fraction=0.1)
        offline = gandiag.analyze(h)
        if run in FAILING:
            assert monitor.stopped_at is not None and monitor.stopped_at < int(h.steps[-1]) // 2, run
            first = next(s for s in states if s.confirmed)
            assert first.verdict is offline.verdict
        elif offline.verdict is Verdict.STABLE:
            assert monitor.stopped_at is None, run


def test_min_steps_holds_back_an_early_confirmation(histories):
    h = histories["digits-convergence_failure-s0"]
    early, _ = replay(h, min_steps=0, min_fraction=0.0)
    late, _ = replay(h, min_steps=200, min_fraction=0.0)
    assert early.stopped_at < 100
    assert late.stopped_at >= 200


def test_patience_delays_the_stop(histories):
    h = histories["digits-aggressive_adam-s0"]
    base, _ = replay(h, min_steps=0)
    patient, _ = replay(h, min_steps=0, patience=96)
    assert patient.stopped_at >= base.stopped_at + 96


def test_a_logged_nan_is_divergence_and_a_missing_value_is_not(histories):
    h = histories["digits-diverge-s0"]
    as_logged, _ = replay(h)
    assert as_logged.state.verdict is Verdict.NON_CONVERGED and "GD901" in as_logged.state.active
    missing = Monitor(planned_steps=len(h))
    for step, metrics in history_rows(h):
        missing.update(step, **{k: (None if v is not None and not np.isfinite(v) else v) for k, v in metrics.items()})
    assert "GD901" not in missing.evaluate().active


def test_aliases_and_percent_accuracies_as_a_tutorial_prints_them(histories):
    h = histories["digits-convergence_failure-s0"]
    canonical, _ = replay(h)
    tutorial = Monitor(planned_steps=len(h))
    for step, m in history_rows(h):
        tutorial.update(step, d=m["d_loss"], g=m["g_loss"], a=100 * m["d_acc"])
    state = tutorial.evaluate()
    assert (state.verdict, state.onset_step) == (canonical.state.verdict, canonical.state.onset_step)
    assert (tutorial.finish().verdict, tutorial.finish().onset_step) == (state.verdict, state.onset_step)


def test_evaluation_window_does_not_grow_with_the_run(histories, monkeypatch):
    """Bounded cost: the rows handed to the signals stay at context + every, at step 600 as at step 64."""
    import gandiag.live.monitor as mod

    sizes = []
    real = mod.SignalCache

    def spy(history, *a, **kw):
        sizes.append(len(history))
        return real(history, *a, **kw)

    monkeypatch.setattr(mod, "SignalCache", spy)
    monitor, _ = replay(histories["digits-stable-s0"])
    assert len(sizes) >= 18 and max(sizes) <= monitor._context + monitor.every
    assert sizes[2] == sizes[-2]


def test_events_report_what_fired_and_cleared(histories):
    _, states = replay(histories["digits-convergence_failure-s0"], min_steps=0)
    fired = [e for s in states for e in s.events if e.kind == "fired"]
    assert {"GD101", "GD102"} <= {e.rule for e in fired}
    assert all(not s.events for s in states if s.rows % 32)  # only evaluations carry events, once


def test_bad_input_is_a_usage_error():
    m = Monitor()
    m.update(5, g_loss=1.0)
    with pytest.raises(UsageError, match="steps must increase"):
        m.update(5, g_loss=1.0)
    with pytest.raises(UsageError, match="unknown verdict"):
        Monitor(stop_on=["diverged"])
    with pytest.raises(UsageError, match="min_fraction"):
        Monitor(min_fraction=2.0)
    with pytest.raises(UsageError, match="unknown role"):
        Monitor(columns={"lossy": "x"})
    with pytest.raises(UsageError, match="no rows"):
        Monitor().finish()


def test_monitor_is_exported():
    assert gandiag.Monitor is Monitor and "Monitor" in gandiag.__all__


@pytest.mark.parametrize("run", ["digits-stable-s0", "digits-convergence_failure-s0", "ring8-stable-s0"])
def test_accuracies_in_percent_give_the_same_live_and_offline_answers(run, histories):
    # The tutorial prints a1/a2 in percent; every row must be converted, not only those before the first
    # percent value (a healthy run was once confirmed non_converged live while analyze said stable).
    h = histories[run]
    acc = {k for k in h.series if k.startswith("d_acc")}
    assert acc
    rows = [(step, {k: (100 * v if k in acc and v is not None else v) for k, v in m.items()})
            for step, m in history_rows(h)]
    fractions, _ = replay(h)
    percent = Monitor(planned_steps=len(h))
    for step, m in rows:
        percent.update(step, **m)
    percent.evaluate()
    assert (percent.state.verdict, percent.state.onset_step, percent.state.confirmed) == \
        (fractions.state.verdict, fractions.state.onset_step, fractions.state.confirmed)
    assert percent.stopped_at == fractions.stopped_at
    assert percent.finish().verdict is gandiag.analyze(h).verdict is percent.state.verdict


def test_an_assumed_loss_family_caps_the_live_confidence_as_offline(histories):
    """A log without accuracies whose failure rests on D loss near 0: hinge or relativistic losses make that normal,
    so offline the verdict says so and is at most 0.5 confident; the live state must say the same."""
    h = histories["digits-convergence_failure-s0"]
    keep = [k for k in h.series if k in ("d_loss", "d_loss_real", "d_loss_fake", "g_loss")]
    h = dataclasses.replace(h, series={k: h.series[k] for k in keep}, columns={k: h.columns[k] for k in keep if k in
                            h.columns}, nonfinite={k: v for k, v in h.nonfinite.items() if k in keep})
    offline = gandiag.analyze(h)
    monitor, _ = replay(h)
    live = monitor.state
    assert offline.confidence <= 0.5 and "does not tell its loss family" in offline.reason
    assert (live.verdict, live.onset_step, live.confidence) == (offline.verdict, offline.onset_step, offline.confidence)
    assert offline.reason.startswith(live.reason)  # offline adds why the confidence is not calibrated
    named = Monitor(planned_steps=len(h))  # a name that tells the family: no caveat
    for step, metrics in history_rows(h):
        named.update(step, **{("loss_bce_D" if k == "d_loss" else k): v for k, v in metrics.items()})
    assert "does not tell" not in named.evaluate().reason
