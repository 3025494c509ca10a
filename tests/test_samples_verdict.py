"""Sample evidence in the verdict, on hand-made sample sets (synthetic, named as such) around a healthy-looking history."""

import numpy as np
import pytest

import gandiag
from gandiag.engine.findings import Status, Verdict
from gandiag.history import RunHistory


def ring(n, modes, rng, sd=0.05):
    centres = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1)
    idx = rng.choice(modes, size=n)
    return centres[idx] + rng.normal(0, sd, (n, 2))


def healthy_losses(n=400, seed=0):
    rng = np.random.default_rng(seed)  # synthetic balanced losses, as 2D runs often show even when failing
    return RunHistory.from_arrays(d_loss_real=0.69 + rng.normal(0, .03, n), d_loss_fake=0.69 + rng.normal(0, .03, n),
                                  g_loss=0.7 + rng.normal(0, .05, n), d_acc_real=0.55 + rng.normal(0, .05, n),
                                  d_acc_fake=0.55 + rng.normal(0, .05, n))


def write_run(tmp_path, make_fake, n_snaps=8):
    rng = np.random.default_rng(1)
    real = ring(1000, np.arange(8), rng)
    snaps = {f"step_{50 * (i + 1)}": make_fake(rng).astype(np.float16) for i in range(n_snaps)}
    np.savez(tmp_path / "samples.npz", **snaps)
    np.savez(tmp_path / "real.npz", real=real.astype(np.float16))
    return tmp_path / "samples.npz", tmp_path / "real.npz"


@pytest.mark.parametrize("case,expected,rule", [
    ("all modes", Verdict.STABLE, "GD310"),
    ("half the modes", Verdict.MODE_COLLAPSE, "GD301"),
    ("one mode", Verdict.MODE_COLLAPSE, "GD301"),
    ("uniform noise", Verdict.NON_CONVERGED, "GD302"),
])
def test_verdict_from_samples_with_healthy_losses(tmp_path, case, expected, rule):
    makers = {
        "all modes": lambda rng: ring(500, np.arange(8), rng),
        "half the modes": lambda rng: ring(500, np.arange(0, 8, 2), rng),
        "one mode": lambda rng: ring(500, np.array([3]), rng),
        "uniform noise": lambda rng: rng.uniform(-3, 3, (500, 2)),
    }
    samples, real = write_run(tmp_path, makers[case])
    d = gandiag.analyze(healthy_losses(), samples=samples, real=real)
    assert d.verdict is expected, (d.reason, [(f.rule, f.message) for f in d.findings])
    assert any(f.rule == rule and f.status is Status.ACTIVE for f in d.findings)
    assert len(d.snapshots) == 8 and "coverage_ratio" in d.snapshots[0]
    # the same losses alone say nothing is wrong
    assert gandiag.analyze(healthy_losses()).verdict is Verdict.STABLE


def test_tiny_snapshots_are_noted_not_judged(tmp_path):
    samples, real = write_run(tmp_path, lambda rng: ring(30, np.array([3]), rng))
    d = gandiag.analyze(healthy_losses(), samples=samples, real=real)
    assert d.verdict is Verdict.STABLE
    assert any("insufficient samples" in w for w in d.warnings)


def test_a_tutorial_sized_snapshot_of_one_mode_is_judged_and_says_it_is_small(tmp_path):
    samples, real = write_run(tmp_path, lambda rng: ring(100, np.array([3]), rng))
    d = gandiag.analyze(healthy_losses(), samples=samples, real=real)
    assert d.verdict is Verdict.MODE_COLLAPSE
    assert any(w.startswith("small samples: statistics compare 100") for w in d.warnings)


def test_without_reference_the_verdict_says_it_is_weaker(tmp_path):
    samples, _ = write_run(tmp_path, lambda rng: ring(500, np.array([3]), rng, sd=0.0001))
    d = gandiag.analyze(healthy_losses(), samples=samples)
    assert any("no real reference" in w for w in d.warnings)
    assert d.verdict is Verdict.MODE_COLLAPSE and any(f.rule == "GD303" for f in d.findings)
