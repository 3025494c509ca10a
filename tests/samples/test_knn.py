"""The scalable precision/recall/density/coverage (gandiag.samples.knn) against a naive float64 computation."""

from __future__ import annotations

import importlib.util
import math
import tracemalloc

import numpy as np
import pytest

from gandiag.samples import knn, knn_approx, knn_exact
from gandiag.samples.diversity import prdc

KEYS = ("coverage", "density", "precision", "recall")


def naive(real, fake, k=5):
    """Every pairwise distance in float64 with scipy, straight from the definitions."""
    from scipy.spatial.distance import cdist

    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_real = np.sort(rr, axis=1)[:, k]  # column 0 is the point itself
    r_fake = np.sort(ff, axis=1)[:, k]
    inside = rf <= r_real[:, None]
    return {"coverage": inside.any(axis=1).mean(), "density": inside.sum() / (k * len(fake)),
            "precision": inside.any(axis=0).mean(), "recall": (rf <= r_fake[None, :]).any(axis=1).mean()}


def clusters(n, d, modes, seed, rank=None):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 4, (8, d))
    x = centres[rng.integers(0, modes, n)]
    if rank is None:
        return (x + rng.normal(size=(n, d))).astype(np.float32)
    basis = np.random.default_rng(98).normal(size=(rank, d))
    return (x + rng.normal(size=(n, rank)) @ basis).astype(np.float32)


@pytest.mark.parametrize("d", [8, 64])
def test_exact_matches_the_definitions(d):
    real, fake = clusters(400, d, 8, 0).astype(np.float64), clusters(300, d, 5, 1).astype(np.float64)
    got, want = knn.prdc_exact(real, fake).as_dict(), naive(real, fake)
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=1e-9), key
    assert 0.3 < got["coverage"] < 0.9 and got["recall"] < 0.9  # a partial collapse, not a trivial case


def test_float32_features_differ_from_float64_only_at_the_tie_tolerance():
    real, fake = clusters(400, 64, 8, 0), clusters(300, 64, 5, 1)
    got, want = knn.prdc_exact(real, fake).as_dict(), naive(real, fake)
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=0.005), key


def test_standard_errors_are_those_of_a_mean_of_per_point_values():
    real, fake = clusters(400, 8, 8, 0), clusters(300, 8, 5, 1)
    s = knn.prdc_exact(real, fake)
    c = s.coverage
    assert s.coverage_se == pytest.approx(math.sqrt(c * (1 - c) / 399), rel=1e-9)  # ddof=1 over 400 real points
    p = s.precision
    assert s.precision_se == pytest.approx(math.sqrt(p * (1 - p) / 299), rel=1e-9)
    big = knn.prdc_exact(clusters(1600, 8, 8, 2), clusters(1200, 8, 5, 3))
    assert big.coverage_se < 0.6 * s.coverage_se  # four times the points: about half the error


def test_approximate_with_exact_search_and_no_projection_is_exact():
    real, fake = clusters(500, 16, 8, 0), clusters(400, 16, 5, 1)
    got = knn.prdc_approximate(real, fake, backend="brute", dims=16, candidates=8).as_dict()
    want = knn.prdc_exact(real, fake).as_dict()
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=1e-6), key


def test_projection_finds_the_neighbours_of_low_rank_data():
    """Eight centres and variation along 8 directions span 15 of 96 dimensions: a 16-dimensional PCA keeps every
    distance, so the candidates are the true neighbours and their full-space distances give the exact values."""
    real = clusters(600, 96, 8, 0, rank=8)
    fake = clusters(500, 96, 5, 1, rank=8)
    got = knn.prdc_approximate(real, fake, backend="brute", dims=16, candidates=8).as_dict()
    want = knn.prdc_exact(real, fake).as_dict()
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=1e-6), key
    # float64 features of 32 dimensions or more are measured in float32 on the approximate path: the same
    # values up to a point whose distance ties its radius at float32 resolution
    wide = knn.prdc_approximate(real.astype(np.float64), fake.astype(np.float64), backend="brute", dims=16).as_dict()
    for key in KEYS:
        assert wide[key] == pytest.approx(want[key], abs=0.005), key


@pytest.mark.parametrize("how", ["pca", "random"])
def test_a_poor_projection_costs_time_not_accuracy(how):
    """Four dimensions out of 64 of full-rank data rank the neighbours badly, but the projected distance is a lower
    bound of the true one: every ball test the bounds cannot decide is measured in the full space and every list
    that might miss a neighbour is searched further, so with an exact index the result is the exact one."""
    real, fake = clusters(500, 64, 8, 0), clusters(400, 64, 5, 1)
    got = knn.prdc_approximate(real, fake, backend="brute", dims=4, candidates=8, projection=how,
                               max_candidates=10**6).as_dict()
    want = knn.prdc_exact(real, fake).as_dict()
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=1e-6), key


def test_lists_cut_at_the_cap_are_counted_in_the_method():
    real, fake = clusters(500, 64, 8, 0), clusters(400, 64, 5, 1)
    capped = knn.prdc_approximate(real, fake, backend="brute", dims=4, candidates=8, max_candidates=8)
    assert "candidate lists cut at 8" in capped.method and not capped.method.split(";")[-1].startswith(" 0 of")


def test_auto_compares_every_pair_when_the_projection_leaves_too_much_out(monkeypatch):
    """Full-rank 200-dimensional data: a 128-dimension PCA leaves about a third of each point out, far above the
    limit, so ``prdc_auto`` compares every pair (and says why) even where the work would call for the index."""
    if knn.default_backend() != "faiss-ivf":
        pytest.skip("faiss is not installed")
    monkeypatch.setattr(knn, "AUTO_APPROXIMATE_WORK", 1.0)
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(600, 200)).astype(np.float32), rng.normal(size=(500, 200)).astype(np.float32)
    got = knn.prdc_auto(real, fake)
    assert got.method.startswith("exact: the 128-dimension projection leaves") and "% of the data out" in got.method
    assert got.as_dict() == knn.prdc_exact(real, fake).as_dict()
    low = clusters(600, 200, 8, 0, rank=8)  # 15 dimensions of variation: the projection keeps all of it
    assert knn.prdc_auto(low, clusters(500, 200, 5, 1, rank=8)).method.startswith("approximate")


def test_auto_compares_every_pair_when_too_many_lists_cannot_be_certified(monkeypatch):
    """The projection keeps enough (the residual check passes) but the radii's lists are cut: past the share
    measured to hold, ``prdc_auto`` gives the approximate path up and compares every pair."""
    if knn.default_backend() != "faiss-ivf":
        pytest.skip("faiss is not installed")
    monkeypatch.setattr(knn, "AUTO_APPROXIMATE_WORK", 1.0)
    monkeypatch.setattr(knn, "MAX_CANDIDATES", 6)  # a list not certified at its first length is cut
    monkeypatch.setattr(knn, "CANDIDATES", 6)
    real, fake = clusters(600, 200, 8, 0, rank=8), clusters(500, 200, 5, 1, rank=8)
    assert knn.prdc_auto(real, fake).method.startswith("approximate")  # a few lists cut: within the limit
    monkeypatch.setattr(knn, "CUT_LIMIT", 0.001)
    got = knn.prdc_auto(real, fake)
    assert got.method.startswith("exact: the approximate path could not certify"), got.method
    assert got.as_dict() == knn.prdc_exact(real, fake).as_dict()


def test_the_bounds_decide_most_pairs_of_well_projected_data(monkeypatch):
    """Low-rank data in a projection that keeps its span: the lower and upper bounds settle nearly every ball
    test, so far fewer pairs are measured in the full space than the candidates listed."""
    real = clusters(600, 96, 8, 0, rank=8)
    fake = clusters(500, 96, 5, 1, rank=8)
    measured = []
    original = knn_approx._pair_d2
    monkeypatch.setattr(knn_approx, "_pair_d2", lambda a, ia, b, ib: measured.append(ia.size) or original(a, ia, b, ib))
    knn.prdc_approximate(real, fake, backend="brute", dims=16, candidates=16)
    listed = 2 * (600 + 500) * 16  # two radius searches and two member searches of 16 candidates
    assert sum(measured) < 0.5 * listed


def test_balls_holding_more_points_than_candidates_are_searched_further():
    """A collapse: 300 generated samples on top of one real point. Its ball holds all of them, far more than the
    8 candidates asked for; the density must still count every one."""
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 6)).astype(np.float32)
    fake = (real[0] + 1e-3 * rng.normal(size=(300, 6))).astype(np.float32)
    got = knn.prdc_approximate(real, fake, backend="brute", dims=6, candidates=8).as_dict()
    want = naive(real, fake)
    assert want["density"] > 0.5
    assert got["density"] == pytest.approx(want["density"], abs=1e-9)
    assert got["precision"] == pytest.approx(want["precision"], abs=1e-9)


def test_faiss_and_numpy_measure_the_same_pair_distances():
    if importlib.util.find_spec("faiss") is None:
        pytest.skip("faiss is not installed")
    real, fake = clusters(300, 48, 8, 0), clusters(200, 48, 5, 1)
    rs, fs, _ = knn_approx.make_sides(real, fake, 8, "pca", 0)
    rng = np.random.default_rng(0)
    ia, ib = rng.integers(0, 300, 1000), rng.integers(0, 200, 1000)
    got = knn_approx._pair_d2(rs, ia, fs, ib)
    want = ((real[ia].astype(np.float64) - fake[ib]) ** 2).sum(axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_generated_samples_on_one_point_are_judged_exactly():
    """Full collapse: every generated sample is the same point. The generated radii are 0 and the real balls near
    the point hold all of them; with the default index the statistics equal the exact ones."""
    real = clusters(3000, 40, 8, 0)
    fake = np.repeat(real[:1] + 0.01, 2500, axis=0)
    got = knn.prdc_approximate(real, fake).as_dict()
    want = knn.prdc_exact(real, fake).as_dict()
    assert want["density"] > 0.5
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=1e-9), key


@pytest.mark.parametrize("backend", ["faiss-ivf", "faiss", "usearch"])
def test_index_backends_agree_with_exact(backend):
    module = "usearch" if backend == "usearch" else "faiss"
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    real, fake = clusters(800, 32, 8, 0), clusters(700, 32, 5, 1)
    got = knn.prdc_approximate(real, fake, backend=backend, dims=32, threads=1).as_dict()  # the index alone
    want = knn.prdc_exact(real, fake).as_dict()
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], abs=0.02), key


def test_memory_is_a_block_not_the_distance_matrix(monkeypatch):
    monkeypatch.setattr(knn_exact, "BLOCK_ELEMENTS", 50_000)
    real, fake = clusters(3000, 8, 8, 0), clusters(3000, 8, 5, 1)
    tracemalloc.start()
    try:
        knn.prdc_exact(real, fake)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3000 * 3000 * 4 / 4  # a quarter of one n x n float32 matrix


def test_prdc_methods():
    real, fake = clusters(300, 8, 8, 0), clusters(300, 8, 5, 1)
    exact = prdc(real, fake, method="exact")
    assert prdc(real, fake) == exact  # small sets: auto is exact
    assert set(exact) == {*KEYS, *(f"{k}_se" for k in KEYS)}
    approx = prdc(real, fake, method="approximate")
    assert all(abs(approx[k] - exact[k]) <= 0.02 for k in KEYS)
    with pytest.raises(ValueError, match="method"):
        prdc(real, fake, method="fast")
