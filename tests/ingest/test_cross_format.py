"""The same run written in every format reads back the same, and gets the same verdict.

Printed layouts round values, so values are compared within the layout's
printed precision, and verdicts are compared against the original run
restricted to what the layout prints (the same steps and series at full
precision): a layout that prints only the combined D loss cannot be asked for
the verdict a run with separate real/fake terms gets.
"""

from __future__ import annotations

import numpy as np
import pytest
from layouts import NO_RUNS_REASON, console_layouts, event_file_bytes, real_runs, write_jsonl

from gandiag.history import Reduction, RunHistory
from gandiag.ingest import read_run

RUNS = real_runs()
pytestmark = pytest.mark.skipif(not RUNS, reason=NO_RUNS_REASON)

TB_TAGS = {"d_loss_real": "loss/d_real", "d_loss_fake": "loss/d_fake", "d_loss": "Loss/D", "g_loss": "train/g_loss",
           "d_acc_real": "acc_real", "d_acc_fake": "acc_fake", "d_acc": "acc", "d_real_prob": "D(x)",
           "d_fake_prob": "D(G(z))"}
#: Layouts that print once per epoch summarise the run; they are compared on values only.
PER_EPOCH = {"per-epoch", "keras-fit"}


def _api():
    from gandiag.api import analyze  # an import error is a failure, not a skip

    return analyze


def _structured(h, folder):
    """The run as JSON lines and as a TensorBoard event file (float32 on disk)."""
    jsonl = folder / "history.jsonl"
    write_jsonl(h, jsonl)
    tb = folder / "tb"
    tb.mkdir()
    (tb / "events.out.tfevents.1.host").write_bytes(event_file_bytes(h, TB_TAGS))
    return {"jsonl": jsonl, "tensorboard": tb}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_structured_formats_agree(run, tmp_path):
    from layouts import runs_dir

    h = RUNS[run]
    paths = _structured(h, tmp_path)
    paths["csv"] = runs_dir() / run / "history.csv"
    histories = {fmt: read_run(p) for fmt, p in paths.items()}
    for fmt, hist in histories.items():
        assert hist.input_format == fmt
        np.testing.assert_array_equal(hist.steps, h["step"].astype(int), err_msg=fmt)
        for role, values in hist.series.items():
            ref = h[role]
            tol = 1e-6 * np.maximum(1.0, np.abs(ref)) if fmt == "tensorboard" else 0.0  # float32 on disk
            ok = np.isfinite(ref)
            assert np.all(np.abs(values[ok] - ref[ok]) <= tol[ok] if fmt == "tensorboard" else values[ok] == ref[ok]), \
                (fmt, role)
            np.testing.assert_array_equal(hist.nonfinite_mask(role), histories["csv"].nonfinite_mask(role),
                                          err_msg=f"{fmt}/{role}")
    analyze = _api()
    verdicts = {fmt: analyze(hist) for fmt, hist in histories.items()}
    ref = verdicts["csv"]
    for fmt, d in verdicts.items():
        assert d.verdict == ref.verdict, (fmt, d.verdict, ref.verdict)
        if ref.onset_step is not None:
            assert d.onset_step is not None and abs(d.onset_step - ref.onset_step) <= 1, fmt


def _reference(h, rendered, reduction):
    """The original run restricted to the steps and series a layout prints, at full precision."""
    idx = np.searchsorted(h["step"].astype(int), rendered.steps)
    series = {}
    for role in rendered.expected:
        if role == "d_loss" and "d_loss" not in h:
            terms = h["d_loss_real"] + h["d_loss_fake"]
            series[role] = (terms if reduction is Reduction.SUM else terms / 2)[idx]
        elif role == "d_loss" and reduction is Reduction.SUM:
            series[role] = 2 * h["d_loss"][idx]
        elif role == "d_acc" and "d_acc" not in h:
            series[role] = ((h["d_acc_real"] + h["d_acc_fake"]) / 2)[idx]
        else:
            series[role] = h[role][idx]
    return RunHistory.from_arrays(rendered.steps, d_loss_reduction=reduction, **series)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_console_layouts_agree_with_the_run(run, tmp_path):
    analyze = _api()
    h = RUNS[run]
    for name, rendered in console_layouts(h).items():
        if name in PER_EPOCH or name == "keras-gan-wgan":
            continue  # per-epoch summaries, or losses shifted to look like a critic's
        p = tmp_path / f"{name}.log"
        p.write_text(rendered.text)
        hist = read_run(p)
        ref = _reference(h, rendered, hist.d_loss_reduction)
        got, want = analyze(hist), analyze(ref)
        interval = float(np.median(np.diff(rendered.steps))) if len(rendered.steps) > 1 else 1.0
        assert got.verdict == want.verdict, (name, got.verdict, want.verdict)
        if want.onset_step is not None:
            assert got.onset_step is not None and abs(got.onset_step - want.onset_step) <= interval, name
