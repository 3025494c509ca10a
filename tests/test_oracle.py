"""The ground-truth oracle: each check on samples whose answer is known, and its independence.

The samples here are drawn from the true data (or deliberately broken copies
of it) -- synthetic inputs for unit tests of the oracle, not runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from gandiag import oracle
from gandiag.harness.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "runs"

warnings.filterwarnings("ignore", category=FutureWarning)


def _real(name: str, n: int = 500, seed: int = 0) -> np.ndarray:
    x = load_dataset(name).x
    return x[np.random.default_rng(seed).choice(len(x), n, replace=len(x) < n)]


@pytest.mark.parametrize("name", ["ring8", "grid25", "spiral", "digits", "digits8"])
def test_real_data_is_stable(name):
    label, metrics = oracle.judge_snapshot(_real(name), name)
    assert label == oracle.STABLE, metrics
    assert metrics["quality"] > 0.9


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_on_two_modes_is_collapse(name):
    centres, sigma = oracle.mixture_centres(name)
    rng = np.random.default_rng(1)
    x = centres[rng.integers(0, 2, 500)] + sigma * rng.standard_normal((500, 2))
    label, metrics = oracle.judge_snapshot(x, name)
    assert label == oracle.COLLAPSE
    assert metrics["modes_covered"] == 2


@pytest.mark.parametrize("name", ["ring8", "grid25", "spiral"])
def test_points_off_the_data_are_non_converged(name):
    x = np.random.default_rng(2).uniform(-1, 1, (500, 2))
    label, metrics = oracle.judge_snapshot(x, name)
    assert label == oracle.NONCONV, metrics


def test_spiral_inner_turn_only_is_collapse():
    x = load_dataset("spiral").x
    r = np.linalg.norm(x, axis=1)
    inner = x[r < 0.45][:500]
    label, metrics = oracle.judge_snapshot(inner, "spiral")
    assert label == oracle.COLLAPSE
    assert metrics["coverage"] < oracle.SPIRAL_MIN_COVERAGE


def test_digits_of_one_class_are_collapse():
    from sklearn.datasets import load_digits

    b = load_digits()
    threes = (b.images[b.target == 3] / 8.0 - 1.0)[..., None]
    label, metrics = oracle.judge_snapshot(threes, "digits")
    assert label == oracle.COLLAPSE
    assert metrics["classes_covered"] == 1


def test_one_real_eight_repeated_is_collapse():
    eight = _real("digits8", 1)
    label, metrics = oracle.judge_snapshot(np.repeat(eight, 300, axis=0), "digits8")
    assert label == oracle.COLLAPSE
    assert metrics["duplicate_pairs"] == 1.0


def test_same_garbage_image_is_non_converged_not_collapse():
    # Quality comes first: collapsed garbage is non-converged (the documented order).
    blob = np.random.default_rng(3).uniform(-1, 1, (1, 8, 8, 1))
    for name in ("digits", "digits8"):
        label, _ = oracle.judge_snapshot(np.repeat(blob, 300, axis=0), name)
        assert label == oracle.NONCONV


def test_non_finite_samples_are_non_converged():
    x = _real("ring8").copy()
    x[0, 0] = np.nan
    assert oracle.judge_snapshot(x, "ring8")[0] == oracle.NONCONV


def test_classifier_is_accurate():
    assert oracle.digit_oracle().cv_accuracy > 0.95


def test_run_label_majority_of_final_quarter_and_onset_of_final_stretch():
    steps = list(range(100, 1100, 100))
    s, m, n = oracle.STABLE, oracle.COLLAPSE, oracle.NONCONV
    # recovered early failure, then a collapse from step 600 with one blip at 800
    assert oracle.run_label(steps, [n, n, s, s, s, m, m, s, m, m], 1000) == (m, 600)
    # stable at the end: no onset, whatever happened before
    assert oracle.run_label(steps, [n, n, n, n, n, n, n, s, s, s], 1000) == (s, None)
    # the last snapshot differs but the final quarter's majority holds
    assert oracle.run_label(steps, [s, s, s, s, s, s, n, n, n, s], 1000) == (n, 700)


def test_label_run_on_recorded_runs():
    assert oracle.label_run(FIXTURES / "digits-stable-s0").label == oracle.STABLE
    r = oracle.label_run(FIXTURES / "digits-convergence_failure-s0")
    assert r.label == oracle.NONCONV and r.onset_step == 40
    assert oracle.label_run(FIXTURES / "digits-mode_collapse-s0").label == oracle.COLLAPSE
    assert oracle.label_run(FIXTURES / "ring8-stable-s0").label == oracle.STABLE


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
            names.update(a.name for a in node.names)
    return names


def test_analyzer_never_imports_the_oracle():
    for path in (ROOT / "gandiag").rglob("*.py"):
        if path.name == "oracle.py":
            continue
        assert not any("oracle" in name for name in _imports(path)), path
    code = ("import sys, gandiag; d = gandiag.analyze(sys.argv[1]); "
            "assert 'gandiag.oracle' not in sys.modules; print(d.verdict)")
    out = subprocess.run([sys.executable, "-c", code, str(FIXTURES / "digits-stable-s0")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "stable"
