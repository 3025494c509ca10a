"""Snapshots judged without a real reference: repeats can decide, resemblance is never claimed, and the
confidence is the corpus's figure for verdicts reached that way."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

import gandiag
from gandiag.verdict.judge import probability_table

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "fixtures" / "runs" / "digits-stable-s0"


@pytest.fixture
def without_reference(tmp_path):
    shutil.copy(RUN / "history.csv", tmp_path / "history.csv")
    shutil.copy(RUN / "samples.npz", tmp_path / "samples.npz")
    return tmp_path


def test_a_stable_verdict_without_reference_claims_no_resemblance(without_reference):
    d = gandiag.analyze(without_reference)
    assert d.verdict.value == "stable" and d.decision_path == "samples-noref/stable"
    assert "resemble the data and cover it (no test" not in d.reason
    assert "tests 4 and 5) was not judged" in d.reason and "--real" in d.reason
    entry = probability_table()["samples-noref/stable"]
    assert d.confidence == pytest.approx(entry.probabilities["stable"], abs=1e-3)
    assert d.confidence < 0.7  # a third and more of the corpus runs judged this way had failed
    assert any("--real digits" in w for w in d.warnings)


def test_the_same_run_with_its_reference_takes_the_sample_path(without_reference):
    d = gandiag.analyze(without_reference, real=RUN / "real.npz")
    assert d.decision_path == "samples/stable" and "resemble the data and cover it" in d.reason
    named = gandiag.analyze(without_reference, real="digits")
    assert named.decision_path.startswith("samples/")


def test_repeats_still_decide_without_reference(tmp_path):
    shutil.copy(RUN / "history.csv", tmp_path / "history.csv")
    rng = np.random.default_rng(0)
    few = rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    snaps = {f"step_{s}": few[rng.integers(0, 3, 200)] for s in (300, 400, 500, 600)}
    np.savez(tmp_path / "samples.npz", **snaps)
    d = gandiag.analyze(tmp_path)
    assert d.verdict.value == "mode_collapse" and d.decision_path == "samples-noref/test3"


def test_the_calibration_judges_corpus_runs_without_their_reference():
    from gandiag.verdict.judge import prepare

    run = ROOT / "fixtures" / "corpus" / "runs" / "digits-baseline-s0"
    assert (run / "real.npz").is_file()
    assert prepare(run).reference_judged and not prepare(run, no_real=True).reference_judged


def test_the_monitor_takes_the_no_reference_path_too():
    with np.load(RUN / "samples.npz") as f:
        snaps = {int(k.split("_")[1]): f[k] for k in f.files}
    rows = list(csv.DictReader(open(RUN / "history.csv")))
    mon = gandiag.Monitor(planned_steps=len(rows), stop_on=())
    for row in rows:
        step = int(row["step"])
        mon.update(step, **{k: float(v) for k, v in row.items() if k not in ("step", "epoch") and v != ""})
        if step in snaps:
            state = mon.snapshot(step, snaps[step])
    assert state.decision_path.startswith("samples-noref/")
    assert mon.finish().decision_path == state.decision_path  # the offline verdict on what the monitor saw


def test_a_few_perturbed_images_repeated_are_a_collapse_without_reference(tmp_path):
    from sklearn.datasets import load_digits

    shutil.copy(RUN / "history.csv", tmp_path / "history.csv")
    digits = (load_digits().images / 8.0 - 1.0).astype(np.float32)
    rng = np.random.default_rng(1)
    snaps = {f"step_{s}": (digits[rng.integers(0, 4, 300)] + rng.normal(0, 0.05, (300, 8, 8)))[..., None]
             for s in (300, 400, 500, 600)}
    np.savez(tmp_path / "samples.npz", **snaps)
    d = gandiag.analyze(tmp_path)
    assert d.verdict.value == "mode_collapse" and d.decision_path == "samples-noref/test3"
    assert [f.rule for f in d.findings if f.status.value == "active" and f.outcome_test == 3] == ["GD308"]
