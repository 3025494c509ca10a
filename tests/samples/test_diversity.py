"""Diversity signals on hand-made sample sets whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from gandiag.errors import InputError
from gandiag.samples.compare import SIGNAL_KEYS, reference_values, snapshot_signals
from gandiag.samples.diversity import (
    absolute_duplicate_threshold,
    as_samples,
    coverage,
    density,
    mean_pairwise_distance,
    mean_pairwise_distance_ratio,
    near_duplicate_share,
    prdc,
    precision,
    recall,
)
from gandiag.samples.ndb import ndb, ndb_chance

# ----------------------------------------------------------------------------- hand-made sets

def ring_of_8(n: int, *, modes=range(8), std: float = 0.05, seed: int = 0) -> np.ndarray:
    """The classic 2-D test mixture: 8 Gaussians on the unit circle (optionally only some modes)."""
    rng = np.random.default_rng(seed)
    ang = 2 * np.pi * np.asarray(list(modes)) / 8
    centres = np.c_[np.cos(ang), np.sin(ang)]
    return centres[rng.integers(0, len(centres), n)] + std * rng.standard_normal((n, 2))


def grid_of_25(n: int, *, modes=range(25), std: float = 0.03, seed: int = 0) -> np.ndarray:
    """25 Gaussians on a 5x5 grid in [-1, 1]^2."""
    rng = np.random.default_rng(seed)
    m = np.asarray(list(modes))
    centres = np.c_[(m % 5) / 2 - 1, (m // 5) / 2 - 1]
    return centres[rng.integers(0, len(centres), n)] + std * rng.standard_normal((n, 2))


def blurry_images(n: int, *, seed: int = 0, blur: float = 0.0) -> np.ndarray:
    """8x8 'images': 10 prototypes plus noise; ``blur`` > 0 smooths each sample (a blurred copy)."""
    rng = np.random.default_rng(123)
    protos = np.tanh(2 * gaussian_filter(rng.standard_normal((10, 8, 8)), sigma=(0, 1, 1)) * 3)
    rng = np.random.default_rng(seed)
    x = protos[rng.integers(0, 10, n)] + 0.3 * rng.standard_normal((n, 8, 8))
    if blur:
        x = gaussian_filter(x, sigma=(0, blur, blur))
    return x.astype(np.float32)


REAL = ring_of_8(1000, seed=1)


# ----------------------------------------------------------------------------- input handling

def test_any_shape_is_flattened_and_typed():
    assert as_samples(np.zeros((5, 4, 4, 1), dtype=np.float16)).shape == (5, 16)
    assert as_samples(np.zeros((5, 4, 4, 1), dtype=np.float16)).dtype == np.float32
    assert as_samples(np.zeros((5, 3), dtype=np.int64)).dtype == np.float64
    assert as_samples(np.arange(7.0)).shape == (7, 1)


def test_mismatched_dimensions_raise():
    with pytest.raises(ValueError, match="2 values each"):
        coverage(REAL, np.zeros((10, 3)))
    with pytest.raises(InputError, match="reference has 2"):
        snapshot_signals(np.zeros((300, 3)), REAL)


# ----------------------------------------------------------------------------- boundary rule

def test_identical_points_are_covered_boundary_is_inclusive():
    # k+1 copies of one point: every k-NN radius is 0, and a fake at that very
    # point is at distance 0 <= 0. A strict '<' would give coverage 0.
    real = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 6, axis=0)
    fake = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert coverage(real, fake, k=5) == 1.0
    assert precision(real, fake, k=5) == 1.0
    assert density(real, fake, k=5) == pytest.approx(6 / 5)  # each fake sits in 6 balls
    # and the same in the float32 fast path with many dimensions
    real32 = np.repeat(np.random.default_rng(0).normal(size=(3, 100)).astype(np.float32), 6, axis=0)
    assert coverage(real32, real32[::6], k=5) == 1.0


def test_fake_exactly_on_the_radius_counts_as_inside():
    # real points 0, 1, 2, ..., 9 on a line; with k=1 each radius is 1.
    real = np.arange(10.0)[:, None]
    on_radius = np.array([[0.5], [11.0]]) + np.array([[0.5], [-1.0]])  # 1.0 and 10.0
    assert coverage(real, on_radius, k=1) == pytest.approx(0.4)  # balls of 0,1,2 and 9 reach them
    assert precision(real, np.array([[10.0]]), k=1) == 1.0  # 10 is exactly 1 from 9


# ----------------------------------------------------------------------------- known answers

def test_real_vs_real_is_near_the_perfect_generator_values():
    fake = ring_of_8(1000, seed=2)
    s = prdc(REAL, fake, k=5)
    assert 0.94 <= s["coverage"] <= 1.0  # 1 - 2**-5 = 0.97 in theory
    assert 0.85 <= s["density"] <= 1.15
    assert s["precision"] > 0.95 and s["recall"] > 0.95


def test_half_the_modes_halves_coverage_and_recall_but_not_precision():
    fake = ring_of_8(1000, modes=range(0, 8, 2), seed=2)
    s = prdc(REAL, fake)
    assert 0.4 <= s["coverage"] <= 0.6
    assert 0.4 <= s["recall"] <= 0.6
    assert s["precision"] > 0.95 and s["density"] > 0.8
    # the mean pairwise distance ratio cannot see it: the kept modes span the ring
    assert mean_pairwise_distance_ratio(fake, REAL) > 0.9


def test_grid_of_25_with_12_modes():
    real = grid_of_25(2000, seed=1)
    fake = grid_of_25(1000, modes=range(0, 25, 2), seed=3)  # 13 of 25
    assert coverage(real[:1000], fake) == pytest.approx(13 / 25, abs=0.06)
    assert mean_pairwise_distance_ratio(fake, real) > 0.9


def test_uniform_cloud_resembles_nothing():
    fake = np.random.default_rng(3).uniform(-1.2, 1.2, size=(1000, 2))
    s = prdc(REAL, fake)
    assert s["density"] < 0.2 and s["precision"] < 0.3
    assert s["recall"] > 0.9  # the cloud's wide balls still swallow the real points


def test_blurred_copy_loses_density_and_precision():
    real, fake = blurry_images(1000, seed=1), blurry_images(1000, seed=2, blur=1.0)
    sharp = prdc(real, blurry_images(1000, seed=2))
    blurred = prdc(real, fake)
    assert blurred["density"] < 0.3 * sharp["density"]
    assert blurred["precision"] < 0.5 * sharp["precision"]


def test_subset_of_the_real_data():
    # fakes that *are* real points: every fake is a ball centre, so precision is 1.
    labels = np.round(np.arctan2(REAL[:, 1], REAL[:, 0]) / (2 * np.pi / 8)).astype(int) % 8
    half_modes = REAL[labels % 2 == 0]  # the real points of 4 of the 8 modes
    assert precision(REAL, half_modes) == 1.0
    assert coverage(REAL, half_modes) == pytest.approx(0.5, abs=0.06)
    assert recall(REAL, half_modes) == pytest.approx(0.5, abs=0.06)
    random_half = REAL[::2]  # half of the points of every mode: nothing is missing
    assert precision(REAL, random_half) == 1.0 and coverage(REAL, random_half) > 0.95


def test_single_point_collapse():
    fake = np.tile([[1.0, 0.0]], (500, 1))
    s = prdc(REAL, fake)
    assert s["coverage"] < 0.05 and s["recall"] < 0.05
    assert mean_pairwise_distance_ratio(fake, REAL) == 0.0
    assert near_duplicate_share(fake, real=REAL) == 1.0


def test_swapping_arguments_inverts_precision_and_recall():
    fake = ring_of_8(800, modes=range(0, 8, 2), seed=5)
    assert precision(REAL, fake) == recall(fake, REAL)
    assert recall(REAL, fake) == precision(fake, REAL)
    # with swapped arguments a half collapse looks like perfect coverage/precision
    assert precision(fake, REAL) < 0.6 < precision(REAL, fake)


# ----------------------------------------------------------------------------- fast path

def test_fast_path_estimates_the_exact_value():
    real = blurry_images(4000, seed=1)
    fake = blurry_images(4000, seed=2, blur=0.3)
    for fn in (coverage, density):
        exact = fn(real, fake, exact=True)
        fast = fn(real, fake, max_queries=1500)
        # sampling error of the 1500 real query points; density's grows with its level
        assert abs(fast - exact) <= 0.03 * max(1.0, exact), fn.__name__
    assert coverage(real, fake, max_queries=1500, seed=4) == coverage(real, fake, max_queries=1500, seed=4)


# ----------------------------------------------------------------------------- NDB

def test_ndb_sees_missing_modes_and_chance_is_low():
    fake_half = ring_of_8(1000, modes=range(0, 8, 2), seed=2)
    assert ndb(REAL, fake_half, n_bins=16) >= 0.5
    assert ndb(REAL, ring_of_8(1000, seed=2), n_bins=16) <= 0.25
    assert ndb_chance(REAL, n_bins=16) <= 0.25


# ----------------------------------------------------------------------------- pairwise / duplicates

def test_mean_pairwise_distance_of_two_points():
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)


def test_near_duplicate_share_thresholds():
    fake = np.vstack([np.zeros((10, 4)), np.eye(4) * 10])
    assert near_duplicate_share(fake, threshold=0.0) == pytest.approx(10 / 14)  # '<=' again
    assert absolute_duplicate_threshold(784) == pytest.approx(0.02 * 28)
    real = ring_of_8(1000, seed=4)
    assert near_duplicate_share(ring_of_8(500, seed=6), real=real) < 0.05


# ----------------------------------------------------------------------------- per snapshot

def test_reference_values_are_the_perfect_generator_level():
    ref = reference_values(REAL)
    assert ref["coverage"] > 0.93 and 0.8 < ref["density"] < 1.2
    assert ref["mpd_ratio"] == pytest.approx(1.0, abs=0.05)
    assert ref["dup_share"] <= 0.05 and ref["n_used"] == 500


def test_snapshot_signals_keys_and_comparison_with_reference():
    s = snapshot_signals(ring_of_8(500, modes=range(0, 8, 2), seed=7), REAL)
    assert set(s) == set(SIGNAL_KEYS)
    assert s["insufficient"] == 0.0 and s["n_used"] == 500 and s["n_real"] == 1000
    assert s["coverage"] / s["coverage_ref"] < 0.65
    assert s["ndb"] > s["ndb_ref"] + 0.3
    good = snapshot_signals(ring_of_8(500, seed=7), REAL)
    assert good["coverage"] / good["coverage_ref"] > 0.9


def test_snapshot_signals_is_deterministic():
    fake = ring_of_8(600, seed=8)
    a, b = snapshot_signals(fake, REAL, seed=3), snapshot_signals(fake, REAL, seed=3)
    assert a == b or all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


def test_too_few_samples_are_insufficient_not_measured():
    s = snapshot_signals(ring_of_8(40, seed=9), REAL)
    assert s["insufficient"] == 1.0 and s["n_fake"] == 40
    assert math.isnan(s["coverage"]) and math.isnan(s["dup_share"])


def test_a_tutorial_grid_of_100_is_measured_against_real_at_the_same_size():
    s = snapshot_signals(ring_of_8(100, seed=9), REAL)  # a tutorial grid holds 100
    assert s["insufficient"] == 0.0 and s["n_used"] == 100
    assert s["near"] / s["near_ref"] > 0.8 and s["reach"] / s["reach_ref"] > 0.8


def test_small_reference_keeps_reference_free_values():
    s = snapshot_signals(ring_of_8(500, seed=9), REAL[:80])
    assert s["insufficient_reference"] == 1.0 and math.isnan(s["coverage"])
    assert not math.isnan(s["mpd"])


def test_without_reference_a_dense_mode_of_points_is_not_a_repeat_but_one_point_is():
    # 500 points in one mode as narrow as ring8's (sd 0.03) sit within the images' absolute duplicate distance
    # (0.02 per value) of each other; in two dimensions only the same point counts
    rng = np.random.default_rng(1)
    assert snapshot_signals(rng.normal(0, 0.03, (500, 2)))["dup_share"] < 0.5  # GD303 needs 0.9
    assert snapshot_signals(rng.normal(0, 1e-4, (500, 2)))["dup_share"] == 1.0
    wide = snapshot_signals(rng.normal(0, 0.03, (500, 64)))  # 64 values: the images' threshold applies
    assert wide["dup_threshold"] == pytest.approx(0.02 * 8)


def test_without_reference_only_reference_free_values():
    collapsed = np.tile(np.random.default_rng(0).uniform(-1, 1, (1, 64)), (300, 1))
    s = snapshot_signals(collapsed)
    assert s["dup_share"] == 1.0 and s["mpd"] == 0.0
    assert math.isnan(s["coverage"]) and math.isnan(s["coverage_ref"]) and s["n_real"] == 0


def test_nonfinite_samples_are_dropped_and_counted():
    fake = ring_of_8(400, seed=10)
    fake[:40] = np.nan
    s = snapshot_signals(fake, REAL)
    assert s["nonfinite_share"] == pytest.approx(0.1) and s["n_used"] == 360


def test_prepared_reference_gives_the_same_statistics_as_per_snapshot_computation():
    # A reference prepared once per run must not change any number a snapshot gets.
    from gandiag.samples.compare import prepare_reference, snapshot_signals

    rng = np.random.default_rng(7)
    real = rng.normal(size=(900, 16))
    fakes = [rng.normal(size=(400, 16)) + shift for shift in (3.0, 0.0)]  # hand-made: a displaced and a faithful cloud
    prepared = prepare_reference(real, 400, seed=3)
    for fake in fakes:
        direct = snapshot_signals(fake, real, seed=3)
        reused = snapshot_signals(fake, real, seed=3, reference=prepared)
        for key, value in direct.items():
            assert (np.isnan(value) and np.isnan(reused[key])) or value == pytest.approx(reused[key], abs=1e-12), key
    assert snapshot_signals(fakes[0], real, seed=3, reference=prepared)["coverage"] < 0.5 < direct["coverage"]


def test_nn_spread_without_reference_tells_a_few_repeated_images_from_varied_ones():
    from sklearn.datasets import load_digits

    digits = (load_digits().images / 8.0 - 1.0).reshape(-1, 64)
    rng = np.random.default_rng(0)
    varied = digits[rng.choice(len(digits), 300, replace=False)]
    few = digits[rng.integers(0, 5, 300)] + rng.normal(0, 0.05, (300, 64))  # five images, slightly perturbed
    assert 0.4 <= snapshot_signals(varied)["nn_spread"] <= 0.65
    assert snapshot_signals(few)["nn_spread"] < 0.25
    assert snapshot_signals(few)["dup_share"] < 0.9  # the absolute duplicate distance misses these repeats
    assert math.isnan(snapshot_signals(few, digits)["nn_spread"])  # with a reference the reference tests judge
    assert math.isnan(snapshot_signals(rng.normal(size=(300, 2)))["nn_spread"])  # points: not measured


def _naive_one_nn(a: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Leave-one-out 1-NN accuracy on a + g by brute force: (real side, generated side)."""
    from scipy.spatial.distance import cdist

    aa, gg, ag = cdist(a, a), cdist(g, g), cdist(a, g)
    np.fill_diagonal(aa, np.inf)
    np.fill_diagonal(gg, np.inf)
    return float(np.mean(aa.min(1) < ag.min(1))), float(np.mean(gg.min(1) < ag.min(0)))


def test_one_nn_two_sample_accuracy_per_side_against_brute_force():
    from gandiag.samples.compare import prepare_reference

    rng = np.random.default_rng(3)
    real = rng.normal(size=(800, 6))
    cases = {"alike": rng.normal(size=(400, 6)), "shifted": rng.normal(size=(400, 6)) + 1.5,
             "collapsed": real[:1] + 0.01 * rng.normal(size=(400, 6))}
    for name, fake in cases.items():
        s = snapshot_signals(fake, real)
        ref = prepare_reference(real, 400)
        want_real, want_fake = _naive_one_nn(ref.a, fake)
        assert s["nn1_real"] == pytest.approx(want_real, abs=1e-9), name
        assert s["nn1_fake"] == pytest.approx(want_fake, abs=1e-9), name
        assert 0.4 <= s["nn1_real_ref"] <= 0.6 and 0.4 <= s["nn1_fake_ref"] <= 0.6  # real against real
    alike, shifted = snapshot_signals(cases["alike"], real), snapshot_signals(cases["shifted"], real)
    assert abs(alike["nn1_fake"] - 0.5) < 0.1 and shifted["nn1_fake"] > 0.9 and shifted["nn1_real"] > 0.9
    collapsed = snapshot_signals(cases["collapsed"], real)
    assert collapsed["nn1_fake"] == 1.0 and collapsed["nn1_real"] > 0.95  # repeats on one side, the rest dropped
    assert 0 < alike["nn1_fake_se"] < 0.05
