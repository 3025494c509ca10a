"""The callback's logic without Keras: logging, de-averaging running means, and the actions.

``gandiag.live.keras._Diagnostics`` is what ``GanDiagnostics`` runs per batch; the
Keras subclass itself is exercised by test_training_stops.py.
"""

import subprocess
import sys

import numpy as np
import pytest

import gandiag
from gandiag.live.keras import _Diagnostics
from gandiag.live.monitor import history_rows


class Model:
    stop_training = False


#: The recorded fixture runs are 450-600 steps, shorter than the default policy's 500-step floor (chosen on the
#: corpus, where early collapses of short runs recover): these tests of the callback's actions use a short-run policy.
SHORT = {"min_steps": 100, "min_fraction": 0.1}


def logs_of(history, keys=("d_loss", "g_loss", "d_acc")):
    """A run's rows as a Keras DCGAN-style train_step returns them (d_loss, g_loss, d_acc)."""
    return [(step, {k: m[k] for k in keys}) for step, m in history_rows(history)]


def test_stop_action_sets_stop_training_and_leaves_an_analyzable_log(tmp_path, histories):
    cb = _Diagnostics(tmp_path, planned_steps=600, verbose=False, **SHORT)
    model = Model()

    def feed():
        for batch, (_, logs) in enumerate(logs_of(histories["digits-convergence_failure-s0"])):
            cb.batch_end(batch, logs, model)
            if model.stop_training:
                break

    with pytest.warns(RuntimeWarning, match="non_converged confirmed"):
        feed()
    cb.close()
    state = cb.triggered[0]
    assert model.stop_training and cb.step == state.step < 300
    offline = gandiag.analyze(tmp_path, no_samples=True)
    assert (offline.n_steps, offline.verdict, offline.onset_step) == (state.step, state.verdict, state.onset_step)


def test_a_loss_heuristic_alone_does_not_stop_a_run_the_corpus_calls_a_coin_flip(histories):
    # With accuracies logged, the discriminator's win is test 2 of the outcome definition; a loss heuristic that fires
    # without it (GD106 on grid25-aggressive_adam-s0, which ends stable) was right about half the time on the corpus,
    # below the default gate of 0.7. Without the gate the monitor stops it.
    rows = logs_of(histories["grid25-aggressive_adam-s0"], ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake"))
    gated = _Diagnostics(planned_steps=len(rows), verbose=False, **SHORT)
    ungated = _Diagnostics(planned_steps=len(rows), verbose=False, min_probability=0.0, **SHORT)
    with pytest.warns(RuntimeWarning, match="mode_collapse confirmed"):
        for batch, (_, logs) in enumerate(rows):
            gated.batch_end(batch, logs, Model())
            ungated.batch_end(batch, logs, Model())
    assert gated.monitor.stopped_at is None
    assert ungated.monitor.stopped_at is not None
    assert gandiag.analyze(histories["grid25-aggressive_adam-s0"]).verdict.value == "stable"


def test_without_accuracies_the_gate_does_not_apply(histories):
    # The calibration corpus logs accuracies; a d_loss/g_loss-only log is not on its decision paths (docs/monitor.md).
    cb = _Diagnostics(planned_steps=600, verbose=False, **SHORT)
    with pytest.warns(RuntimeWarning, match="non_converged confirmed"):
        for batch, (_, logs) in enumerate(logs_of(histories["digits-convergence_failure-s0"], ("d_loss", "g_loss"))):
            cb.batch_end(batch, logs, Model())
    assert cb.monitor.stopped_at is not None and cb.monitor.stopped_at < 300


def test_hook_runs_once_per_failure(histories):
    calls = []
    cb = _Diagnostics(planned_steps=600, action=lambda state, model: calls.append(state.step), verbose=False,
                      **SHORT)
    for batch, (_, logs) in enumerate(logs_of(histories["digits-convergence_failure-s0"])):
        cb.batch_end(batch, logs, Model())
    assert len(calls) == 1 and cb.state.confirmed


def test_running_means_are_turned_back_into_batch_values(histories):
    """Keras Mean trackers report the epoch's running mean; the callback recovers each batch's value."""
    rows = logs_of(histories["digits-stable-s0"], ("d_loss_real", "g_loss"))[:100]
    cb = _Diagnostics(running_mean=True, verbose=False)
    per_epoch = 28
    for epoch_start in range(0, len(rows), per_epoch):
        total = {"d_loss_real": 0.0, "g_loss": 0.0}
        for k, (_, logs) in enumerate(rows[epoch_start : epoch_start + per_epoch]):
            for name in total:
                total[name] += logs[name]
            cb.batch_end(k, {name: total[name] / (k + 1) for name in total}, Model())
    cb.monitor.evaluate()
    got = cb.monitor.history().series["g_loss"]
    want = np.array([logs["g_loss"] for _, logs in rows])
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9)


def test_bad_action_is_refused():
    with pytest.raises(gandiag.GandiagError, match="unknown action"):
        _Diagnostics(action="explode")


def test_importing_gandiag_keras_does_not_load_tensorflow():
    code = "import sys, gandiag.live.keras; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sample_fn_snapshots_are_judged_live_and_stop_a_quiet_collapse(tmp_path):
    """circle-g_lr_10x-s0 (corpus): healthy-looking losses, samples collapsed to one output. The callback asks
    sample_fn for samples every 125 batches (the recorded snapshots), writes them to samples.npz and stops."""
    import os

    from fixture_runs import FIXTURE_RUNS

    from gandiag.ingest import read_run
    from gandiag.samples.read import read_reference, read_snapshots

    src = os.path.join(os.path.dirname(FIXTURE_RUNS), "corpus", "runs", "circle-g_lr_10x-s0")
    history = read_run(src)
    snaps = read_snapshots(os.path.join(src, "samples.npz"))
    real = read_reference(os.path.join(src, "real.npz"))
    keys = ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake")
    rows = logs_of(history, keys)
    asked = []

    def sample_fn(model):
        asked.append(cb.step)
        return snaps[max(s for s in snaps if s <= cb.step)]

    cb = _Diagnostics(tmp_path, planned_steps=len(rows), verbose=False, sample_fn=sample_fn, sample_every=125,
                      real=real)
    model = Model()
    with pytest.warns(RuntimeWarning, match="mode_collapse confirmed"):
        for batch, (_, logs) in enumerate(rows):
            cb.batch_end(batch, logs, model)
            if model.stop_training:
                break
    cb.close()
    state = cb.triggered[0]
    assert model.stop_training and state.decision_path == "samples/test3" and state.step <= 1000
    assert asked == list(range(125, state.step + 1, 125))
    written = read_snapshots(tmp_path / "samples.npz")
    assert sorted(written) == asked
    offline = gandiag.analyze(tmp_path, real=os.path.join(src, "real.npz"))
    assert (offline.verdict, offline.n_steps) == (gandiag.Verdict.MODE_COLLAPSE, state.step)


def test_sample_fn_must_be_callable():
    with pytest.raises(gandiag.errors.UsageError, match="sample_fn must be callable"):
        _Diagnostics(sample_fn="generator")
