"""Sample diversity: how much of the real data a generator's samples cover.

All statistics are built from Euclidean distances between flattened samples
(any input of shape ``(n, ...)`` is read as ``n`` points in ``d`` dimensions):

* :func:`coverage` and :func:`density` (Naeem et al. 2020) and
  :func:`precision` and :func:`recall` (Kynkaanniemi et al. 2019), from the
  k-nearest-neighbour balls of each sample set;
* :func:`ndb` (Richardson & Weiss 2018), the share of k-means bins whose
  proportions differ significantly, with its real-vs-real :func:`ndb_chance`;
* :func:`mean_pairwise_distance_ratio` and :func:`near_duplicate_share`,
  for severe collapse and for runs without a real reference;
* :func:`reference_values`, the real-vs-real value of each statistic (a
  perfect generator scores about 0.97 coverage, not 1), and
  :func:`snapshot_signals`, everything for one snapshot as a flat dict.

Boundary rule: a point lies in a ball when its distance is **at most** the
radius (``<=``), up to floating-point resolution (squared distances within
``128 * eps * max|x|^2`` of each other count as equal; data are centred
first, and computed in float64 below 32 dimensions). With a strict ``<``, a generator that reproduces real points exactly
would get zero coverage, because duplicates have radius 0.

Everything is deterministic: subsampling and k-means use ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gandiag.errors import InputError

#: Below this many samples a snapshot is reported as ``insufficient`` (the same bound holds for each half of
#: the reference). Statistics are compared with their real-vs-real value at the same size, so a snapshot of
#: 100 (the tutorial's 10x10 grid) or a reference of 174 (sklearn's eights) is judged; below
#: SMALL_SAMPLES the report says the statistics are noisy.
MIN_SAMPLES = 50
SMALL_SAMPLES = 200
#: Neighbourhood size of the k-NN balls.
DEFAULT_K = 5
#: Snapshot statistics use at most this many samples per set (seeded subsample).
DEFAULT_MAX_SAMPLES = 2000
#: Real query points used by the fast path of the standalone k-NN statistics.
DEFAULT_MAX_QUERIES = 3000
#: Near-duplicate threshold with a reference: this fraction of the median nearest-neighbour distance among
#: as many real samples. Five times closer than real samples usually are to their nearest neighbour: the same
#: image repeated (or one blob) qualifies, a thin curve traced by a 1-D latent mostly does not (measured:
#: repeats put >= 99% of samples within it, 2-D curves about 65%, real data about 0%).
DUP_FRACTION = 0.2
#: Near-duplicate threshold without a reference: root-mean-square difference
#: per value, for data scaled to [-1, 1] (1% of the range, ~2.5 grey levels).
ABS_DUP_RMS = 0.02
#: The same for tiles cut from grid images: rendering and resampling a repeated image at different places
#: of a figure leaves up to about 0.1 root-mean-square difference between its copies, while different
#: real digits stay about 0.3-0.4 apart (measured on the tutorial's grid of scikit-learn's eights).
GRID_DUP_RMS = 0.15
#: Significance level of NDB's per-bin two-proportion z-test.
NDB_ALPHA = 0.05
#: Closeness at the scale of the data's structure (see :func:`structure_scale`): a generated sample is
#: *near* the data within the larger of NEAR_NN_FACTOR times the NEAR_NN_QUANTILE of the reference's own
#: nearest-neighbour distances (the noise's scale: as close as real points are to each other) and
#: NEAR_MPD_FRACTION of its mean pairwise distance (the structure's scale, when the noise is far narrower
#: than the gaps between modes).
NEAR_NN_QUANTILE = 0.99
NEAR_NN_FACTOR = 1.2
NEAR_MPD_FRACTION = 0.05

#: Keys of :func:`snapshot_signals`, always all present (NaN when not computed).
SIGNAL_KEYS = (
    "n_fake", "n_real", "n_used", "insufficient", "insufficient_reference", "nonfinite_share",
    "coverage", "coverage_ref", "density", "density_ref",
    "precision", "precision_ref", "recall", "recall_ref",
    "ndb", "ndb_ref", "mpd", "mpd_ratio", "mpd_ratio_ref",
    "dup_share", "dup_share_ref", "dup_threshold",
    "near", "near_ref", "reach", "reach_ref", "near_scale",
    "coverage_se", "density_se", "precision_se", "recall_se",
    "coverage_ref_se", "density_ref_se", "precision_ref_se", "recall_ref_se",
)

_BLOCK = 1024
#: Below this many dimensions distances are always computed in float64.
_FLOAT32_MIN_DIM = 32


# ----------------------------------------------------------------------------- inputs

def as_samples(x, *, name: str = "samples") -> np.ndarray:
    """Samples of any shape ``(n, ...)`` as a 2-D float array ``(n, d)``.

    float16/float32 input becomes float32, everything else float64. A 1-D
    array is read as ``n`` scalar samples.
    """
    a = np.asarray(x)
    if a.ndim == 0:
        raise ValueError(f"{name}: expected an array of samples, got a scalar")
    if a.ndim == 1:
        a = a[:, None]
    a = a.reshape(a.shape[0], -1)
    if a.dtype in (np.float16, np.float32):
        return a.astype(np.float32, copy=False)
    return a.astype(np.float64, copy=False)


def _pair(real, fake) -> tuple[np.ndarray, np.ndarray]:
    r, f = as_samples(real, name="real"), as_samples(fake, name="fake")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real samples have {r.shape[1]} values each but fake samples {f.shape[1]}")
    return r, f


def _subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if x.shape[0] <= n:
        return x
    return x[np.sort(rng.choice(x.shape[0], size=n, replace=False))]


# ----------------------------------------------------------------------------- distances

class _Space:
    """Sets of points in one coordinate frame, with squared norms and a tie tolerance.

    Points are centred on the mean of the first set, which shrinks the norms
    and so the rounding error of ``|x|^2 + |y|^2 - 2 x.y``.
    """

    def __init__(self, *sets: np.ndarray, dtype=np.float64):
        centre = sets[0].mean(axis=0, dtype=np.float64)
        self.sets = [np.ascontiguousarray((s - centre).astype(dtype, copy=False)) for s in sets]
        self.norms = [np.einsum("ij,ij->i", s, s, dtype=np.float64).astype(dtype) for s in self.sets]
        biggest = max(float(n.max()) if n.size else 0.0 for n in self.norms)
        # rounding error of one squared distance is below ``tol``; a comparison of
        # two computed values (distance vs radius) may be off by twice that.
        self.tol = 64 * float(np.finfo(dtype).eps) * max(biggest, 1e-30)
        self.slack = 2 * self.tol

    def partial_blocks(self, a: int, b: int, rows: np.ndarray | None = None):
        """``|y|^2 - 2 x.y`` from (some rows of) set ``a`` to all of set ``b``, in row blocks.

        That is the squared distance less the row's own ``|x|^2``, which does
        not change a row's order or minimum: one pass over the block fewer.
        Yields ``(slice, block, |x|^2 of the block's rows)``.
        """
        xa, na = self.sets[a], self.norms[a]
        if rows is not None:
            xa, na = xa[rows], na[rows]
        xb, nb = self.sets[b], self.norms[b]
        for start in range(0, xa.shape[0], _BLOCK):
            sl = slice(start, min(start + _BLOCK, xa.shape[0]))
            h = (xa[sl] * xa.dtype.type(-2)) @ xb.T
            h += nb[None, :]
            yield sl, h, na[sl]

    def blocks(self, a: int, b: int, rows: np.ndarray | None = None) -> Iterator[tuple[slice, np.ndarray]]:
        """Squared distances from (some rows of) set ``a`` to all of set ``b``, in row blocks."""
        for sl, h, na in self.partial_blocks(a, b, rows):
            h += na[:, None]
            yield sl, h  # may be slightly negative from rounding: consumers clip or compare with slack

    def kth_radius2(self, a: int, k: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Squared distance from each point of set ``a`` to its k-th nearest *other* point of ``a``."""
        n = self.sets[a].shape[0]
        if n <= k:
            raise ValueError(f"need more than k={k} samples for k-nearest-neighbour radii, got {n}")
        idx = np.arange(n) if rows is None else np.asarray(rows)
        out = np.empty(idx.size, dtype=self.sets[a].dtype)
        for sl, h, na in self.partial_blocks(a, a, idx):
            h[np.arange(h.shape[0]), idx[sl]] = np.inf  # a point is not its own neighbour
            out[sl] = np.partition(h, k - 1, axis=1)[:, k - 1] + na
        return np.maximum(out, 0, out=out)


def _dtype(exact: bool, d: int):
    """float64 when asked, or when cheap (few dimensions, where float32 blurs small distances)."""
    return np.float64 if exact or d < _FLOAT32_MIN_DIM else np.float32


def _ball_counts(space: _Space, r2_real: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """For real points (set 0, ``rows``): is a fake (set 1) in its ball, and how many."""
    n = space.sets[0].shape[0] if rows is None else len(rows)
    covered = np.empty(n, dtype=bool)
    counts = np.empty(n, dtype=np.int64)
    for sl, h, na in space.partial_blocks(0, 1, rows):
        limit = (r2_real[sl] + space.slack - na)[:, None]
        covered[sl] = h.min(axis=1) <= limit[:, 0]
        counts[sl] = np.count_nonzero(h <= limit, axis=1)
    return covered, counts


def _share_in_balls(space: _Space, query: int, balls: int, r2_balls: np.ndarray) -> float:
    """Share of points of set ``query`` inside at least one k-NN ball of set ``balls``."""
    hit = np.zeros(space.sets[query].shape[0], dtype=bool)
    for sl, d2 in space.blocks(balls, query):
        hit |= (d2 <= (r2_balls[sl, None] + space.slack)).any(axis=0)
    return float(hit.mean())


# ----------------------------------------------------------------------------- k-NN statistics

def prdc(real, fake, k: int = DEFAULT_K, *, exact: bool = False, method: str = "auto",
         seed: int = 0, progress=None) -> dict[str, float]:
    """Precision, recall, density and coverage in one pass (shared k-NN radii), with standard errors.

    Parameters
    ----------
    real, fake : array_like, shape (n, ...)
        Reference and generated samples.
    k : int
        Neighbourhood size of the balls.
    exact : bool
        Every pair of points (:func:`gandiag.samples.knn.prdc_exact`), whatever the size. Same as
        ``method="exact"``.
    method : {"auto", "exact", "approximate"}
        ``auto`` (:func:`gandiag.samples.knn.prdc_auto`) compares every pair unless ``n_real * n_fake * dims``
        exceeds :data:`gandiag.samples.knn.AUTO_APPROXIMATE_WORK`, faiss is installed and a 128-dimension PCA
        keeps the data (:data:`gandiag.samples.knn.RESIDUAL_LIMIT`); then it uses the approximate path (its error
        is measured in ``benchmarks/diversity_scale.py`` and docs/diversity.md).
    seed : int
        Seed of the approximate path's projection and index.
    progress : callable, optional
        ``progress(done, total)`` as the work advances (for a progress bar).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``density``, ``coverage`` and their standard errors ``*_se`` at this size.
    """
    from gandiag.samples import knn

    r, f = _pair(real, fake)
    if r.shape[0] <= k or f.shape[0] <= k:
        raise ValueError(f"need more than k={k} samples in each set, got {r.shape[0]} real and {f.shape[0]} fake")
    if exact:
        method = "exact"
    if method == "auto":
        return knn.prdc_auto(r, f, k, seed=seed, progress=progress).as_dict()
    if method == "exact":
        return knn.prdc_exact(r, f, k, progress=progress).as_dict()
    if method == "approximate":
        return knn.prdc_approximate(r, f, k, seed=seed, progress=progress).as_dict()
    raise ValueError(f"method must be 'auto', 'exact' or 'approximate', got {method!r}")


def _coverage_density(real, fake, k, exact, max_queries, seed) -> tuple[float, float]:
    r, f = _pair(real, fake)
    space = _Space(r, f, dtype=_dtype(exact, r.shape[1]))
    rows = None
    if not exact and r.shape[0] > max_queries:
        rows = np.sort(np.random.default_rng(seed).choice(r.shape[0], size=max_queries, replace=False))
    r2 = space.kth_radius2(0, k, rows)
    covered, counts = _ball_counts(space, r2, rows)
    dens = counts.mean() * r.shape[0] / (k * f.shape[0])
    return float(covered.mean()), float(dens)


def coverage(real, fake, k: int = DEFAULT_K, *, exact: bool = False,
             max_queries: int = DEFAULT_MAX_QUERIES, seed: int = 0) -> float:
    """Share of real samples whose k-NN ball (among the real samples) holds a fake sample.

    Naeem et al. (2020). About ``1 - 2**-k`` (0.97 for k=5) when fake and
    real come from the same distribution and have equal sizes; falls with
    the share of the real modes the generator misses. Points at exactly the
    radius count as inside (see the module notes). See :func:`prdc` for
    ``exact``, ``max_queries`` and ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(400, 2))
    >>> coverage(x, x[x[:, 0] > 0]) < 0.6   # half of the data is never generated
    True
    """
    return _coverage_density(real, fake, k, exact, max_queries, seed)[0]


def density(real, fake, k: int = DEFAULT_K, *, exact: bool = False,
            max_queries: int = DEFAULT_MAX_QUERIES, seed: int = 0) -> float:
    """Mean number of real k-NN balls holding each fake sample, divided by k.

    Naeem et al. (2020). About 1 for a perfect generator; near 0 when the
    samples resemble nothing in the data (noise, non-convergence); above 1
    when the samples crowd into the densest regions of the data.
    """
    return _coverage_density(real, fake, k, exact, max_queries, seed)[1]


def precision(real, fake, k: int = DEFAULT_K, *, exact: bool = False) -> float:
    """Share of fake samples inside at least one real k-NN ball (Kynkaanniemi et al. 2019).

    ``precision(real, fake) == recall(fake, real)``: swapping the arguments
    turns precision into recall.
    """
    r, f = _pair(real, fake)
    space = _Space(r, f, dtype=_dtype(exact, r.shape[1]))
    return _share_in_balls(space, query=1, balls=0, r2_balls=space.kth_radius2(0, k))


def recall(real, fake, k: int = DEFAULT_K, *, exact: bool = False) -> float:
    """Share of real samples inside at least one fake k-NN ball (Kynkaanniemi et al. 2019)."""
    r, f = _pair(real, fake)
    space = _Space(r, f, dtype=_dtype(exact, r.shape[1]))
    return _share_in_balls(space, query=0, balls=1, r2_balls=space.kth_radius2(1, k))


# ----------------------------------------------------------------------------- NDB

def default_bins(n: int) -> int:
    """NDB bin count for ``n`` real samples: about 20 samples per bin, 5 to 50 bins."""
    return int(np.clip(n // 20, 5, 50))


class _Bins:
    """k-means bins of a real sample set: its labels and nearest-centre assignment."""

    def __init__(self, real: np.ndarray, n_bins: int, seed: int):
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        # one thread: on small sets, OpenMP/BLAS threads fighting for busy cores
        # cost 10x more than they save.
        with threadpool_limits(1):
            model = KMeans(n_clusters=n_bins, n_init=3, random_state=seed).fit(real)
        self.n_bins = n_bins
        self.labels = model.labels_
        self.centres = model.cluster_centers_.astype(real.dtype)

    def assign(self, x: np.ndarray) -> np.ndarray:
        c = self.centres
        d2 = np.einsum("ij,ij->i", c, c)[None, :] - 2 * (x @ c.T)
        return np.argmin(d2, axis=1)


def _ndb_from_labels(labels_real: np.ndarray, labels_fake: np.ndarray, n_bins: int, alpha: float) -> float:
    from scipy.stats import norm

    n1, n2 = labels_real.size, labels_fake.size
    c1 = np.bincount(labels_real, minlength=n_bins).astype(float)
    c2 = np.bincount(labels_fake, minlength=n_bins).astype(float)
    p1, p2 = c1 / n1, c2 / n2
    pooled = (c1 + c2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = np.divide(p1 - p2, se, out=np.zeros_like(se), where=se > 0)
    return float(np.mean(np.abs(z) > norm.ppf(1 - alpha / 2)))


def ndb(real, fake, n_bins: int | None = None, *, seed: int = 0, alpha: float = NDB_ALPHA) -> float:
    """Share of statistically different bins (NDB/K, Richardson & Weiss 2018).

    The real samples are clustered by k-means into ``n_bins`` bins (default
    :func:`default_bins`); each fake sample goes to its nearest centre. A
    bin differs when a two-sided two-proportion z-test rejects equal shares
    at level ``alpha``. 0 for a perfect generator up to chance (see
    :func:`ndb_chance`, typically 0.0-0.15), near 1 for full collapse.
    """
    r, f = _pair(real, fake)
    bins = _Bins(r, n_bins or default_bins(r.shape[0]), seed)
    return _ndb_from_labels(bins.labels, bins.assign(f.astype(r.dtype)), bins.n_bins, alpha)


def ndb_chance(real, n_bins: int | None = None, *, seed: int = 0, alpha: float = NDB_ALPHA,
               n_splits: int = 3) -> float:
    """NDB of real against real: the mean over ``n_splits`` seeded half/half splits.

    This is the level a perfect generator reaches with this reference and
    bin count; compare :func:`ndb` against it, not against 0.
    """
    r = as_samples(real, name="real")
    rng = np.random.default_rng(seed)
    half = r.shape[0] // 2
    vals = []
    for i in range(n_splits):
        perm = rng.permutation(r.shape[0])
        vals.append(ndb(r[perm[:half]], r[perm[half:2 * half]], n_bins, seed=seed + i, alpha=alpha))
    return float(np.mean(vals))


# ----------------------------------------------------------------------------- pairwise distances

def _mean_pairwise(space: _Space, a: int) -> float:
    n = space.sets[a].shape[0]
    if n < 2:
        return float("nan")
    total = 0.0
    for _, d2 in space.blocks(a, a):
        total += float(np.sqrt(np.maximum(d2, 0, out=d2)).sum(dtype=np.float64))
    return total / (n * (n - 1))


def mean_pairwise_distance(x, *, max_samples: int = DEFAULT_MAX_SAMPLES, seed: int = 0) -> float:
    """Mean Euclidean distance between two different samples (seeded subsample of ``max_samples``)."""
    s = _subsample(as_samples(x), max_samples, np.random.default_rng(seed))
    return _mean_pairwise(_Space(s), 0)


def mean_pairwise_distance_ratio(fake, real, *, max_samples: int = DEFAULT_MAX_SAMPLES, seed: int = 0) -> float:
    """Mean pairwise distance of the fake samples over that of the real samples.

    About 1 for a healthy generator, near 0 for full collapse. Partial
    collapse onto modes spread over the space, and blurred samples, keep it
    near 1: use it with :func:`coverage`, not instead of it.
    """
    r, f = _pair(real, fake)
    rng = np.random.default_rng(seed)
    space = _Space(_subsample(r, max_samples, rng), _subsample(f, max_samples, rng))
    return _mean_pairwise(space, 1) / _mean_pairwise(space, 0)


def _nn_dist(space: _Space, a: int) -> np.ndarray:
    return np.sqrt(space.kth_radius2(a, 1).astype(np.float64))


def duplicate_threshold(real, *, fraction: float = DUP_FRACTION, n: int | None = None, seed: int = 0) -> float:
    """Near-duplicate distance from a reference: ``fraction`` of the median of its nearest-neighbour distances.

    ``n`` subsamples the reference to the size of the set it will judge
    (nearest-neighbour distances shrink as a set grows).
    """
    r = as_samples(real, name="real")
    if n is not None:
        r = _subsample(r, max(n, 2), np.random.default_rng(seed))
    return float(fraction * np.median(_nn_dist(_Space(r), 0)))


def absolute_duplicate_threshold(d: int, rms: float = ABS_DUP_RMS) -> float:
    """Fallback near-duplicate distance without a reference, for data scaled to [-1, 1].

    Two samples are duplicates when their root-mean-square difference per
    value is at most :data:`ABS_DUP_RMS` (0.02, 1% of the range), i.e. a
    Euclidean distance of ``0.02 * sqrt(d)``. Meaningful for images; for
    low-dimensional data (2-D mixtures) real points are often that close,
    so there the share is only comparable between snapshots of one run.
    """
    return rms * math.sqrt(d)


def near_duplicate_share(fake, threshold: float | None = None, *, real=None, fraction: float = DUP_FRACTION,
                         max_samples: int = DEFAULT_MAX_SAMPLES, seed: int = 0) -> float:
    """Share of fake samples that have another fake sample within ``threshold``.

    The threshold is, in order: ``threshold`` if given; else with ``real``
    ``fraction`` (0.2) of the median real nearest-neighbour distance at the
    same sample size (real data itself scores about 0); else
    :func:`absolute_duplicate_threshold`. Full collapse scores 1. It is a
    share of *samples* (how much of the output repeats something else), not
    of pairs: collapse onto 10 images scores ~1 although only ~10% of pairs
    are duplicates.
    """
    rng = np.random.default_rng(seed)
    f = _subsample(as_samples(fake, name="fake"), max_samples, rng)
    if f.shape[0] < 2:
        return float("nan")
    if threshold is None:
        if real is not None:
            threshold = duplicate_threshold(real, fraction=fraction, n=f.shape[0], seed=seed)
        else:
            threshold = absolute_duplicate_threshold(f.shape[1])
    space = _Space(f)
    return float(np.mean(space.kth_radius2(0, 1) <= threshold**2 + space.slack))


# ----------------------------------------------------------------------------- per snapshot

def _compare(space: _Space, real: int, other: int, r2_real: np.ndarray, k: int,
             bins: _Bins, dup2: float, mpd_real: float, near2: float) -> dict[str, float]:
    """Every two-set statistic of set ``other`` against set ``real`` (exact on these sets)."""
    nr, no = space.sets[real].shape[0], space.sets[other].shape[0]
    covered = np.empty(nr, dtype=bool)
    counts = np.empty(nr, dtype=np.int64)
    in_real_ball = np.zeros(no, dtype=bool)
    r2_other = space.kth_radius2(other, k)
    in_other_ball = np.empty(nr, dtype=bool)
    near_other = np.full(no, np.inf)  # squared distance from each ``other`` point to the nearest real one
    reached = np.empty(nr, dtype=bool)
    limit = near2 + space.slack
    for sl, d2 in space.blocks(real, other):
        inside = d2 <= (r2_real[sl, None] + space.slack)
        covered[sl] = inside.any(axis=1)
        counts[sl] = inside.sum(axis=1)
        in_real_ball |= inside.any(axis=0)
        in_other_ball[sl] = (d2 <= (r2_other[None, :] + space.slack)).any(axis=1)
        reached[sl] = d2.min(axis=1) <= limit
        np.minimum(near_other, d2.min(axis=0), out=near_other)
    nn2_other = space.kth_radius2(other, 1)
    density_terms = counts * (nr / (k * no))
    return {
        "coverage_se": _se(covered), "density_se": _se(density_terms),
        "precision_se": _se(in_real_ball), "recall_se": _se(in_other_ball),
        "near": float(np.mean(near_other <= limit)),
        "reach": float(reached.mean()),
        "coverage": float(covered.mean()),
        "density": float(counts.sum() / (k * no)),
        "precision": float(in_real_ball.mean()),
        "recall": float(in_other_ball.mean()),
        "ndb": _ndb_from_labels(bins.labels, bins.assign(space.sets[other]), bins.n_bins, NDB_ALPHA),
        "mpd_ratio": _mean_pairwise(space, other) / mpd_real if mpd_real > 0 else float("nan"),
        "dup_share": float(np.mean(nn2_other <= dup2 + space.slack)),
    }


def _se(values: np.ndarray) -> float:
    """Standard error of a mean of per-point values (the statistic's sampling uncertainty at this size)."""
    v = np.asarray(values, dtype=np.float64)
    return float(np.std(v, ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")


def _split_reference(r: np.ndarray, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(r.shape[0])
    return r[np.sort(perm[:m])], r[np.sort(perm[m:2 * m])]


def structure_scale(nn_dist: np.ndarray, mpd: float) -> float:
    """The distance within which a sample counts as *near* the data, from a reference alone.

    The larger of the noise's scale (``NEAR_NN_FACTOR`` times the
    ``NEAR_NN_QUANTILE`` of the reference's leave-one-out nearest-neighbour
    distances ``nn_dist``: as close as real points are to each other) and the
    structure's scale (``NEAR_MPD_FRACTION`` of its mean pairwise distance
    ``mpd``). In many dimensions the first dominates (real points are far
    apart); in two, where a mixture's modes are much narrower than the gaps
    between them, the second does, so that clusters somewhat wider than the
    real ones still count as on the data while a haze or a ring drawn through
    the modes does not (docs/outcomes.md, "Judging resembles the data").
    """
    noise = NEAR_NN_FACTOR * float(np.quantile(nn_dist, NEAR_NN_QUANTILE)) if nn_dist.size else 0.0
    return max(noise, NEAR_MPD_FRACTION * float(mpd) if np.isfinite(mpd) else 0.0)


def _reference_space(a: np.ndarray, others: list[np.ndarray], k: int, n_bins: int | None, seed: int):
    """Shared pieces for comparisons against reference half ``a``."""
    space = _Space(a, *others, dtype=_dtype(False, a.shape[1]))
    bins = _Bins(space.sets[0], n_bins or default_bins(a.shape[0]), seed)
    nn2 = space.kth_radius2(0, 1).astype(np.float64)
    dup2 = float((DUP_FRACTION * np.sqrt(max(float(np.median(nn2)), 0.0))) ** 2)
    mpd = _mean_pairwise(space, 0)
    near2 = structure_scale(np.sqrt(nn2), mpd) ** 2
    return space, space.kth_radius2(0, k), bins, dup2, mpd, near2


def reference_values(real, k: int = DEFAULT_K, seed: int = 0, *, n_bins: int | None = None,
                     max_samples: int = DEFAULT_MAX_SAMPLES) -> dict[str, float]:
    """Real-vs-real value of each statistic: one half of the reference against the other.

    This is what a perfect generator scores with this reference, sample size
    and ``k`` (coverage ~0.97, density ~1, NDB at its chance level, mpd
    ratio ~1, duplicate share ~0.01). Rules compare against these values.
    The halves hold ``min(n // 2, max_samples)`` samples each (seeded split).

    Returns
    -------
    dict
        ``coverage``, ``density``, ``precision``, ``recall``, ``ndb``,
        ``mpd_ratio``, ``dup_share``, ``n_used``.
    """
    r = as_samples(real, name="real")
    m = min(r.shape[0] // 2, max_samples)
    if m <= k:
        raise ValueError(f"reference too small: {r.shape[0]} samples for k={k}")
    a, b = _split_reference(r, m, np.random.default_rng(seed))
    space, r2, bins, dup2, mpd_a, near2 = _reference_space(a, [b], k, n_bins, seed)
    out = _compare(space, 0, 1, r2, k, bins, dup2, mpd_a, near2)
    out["n_used"] = float(m)
    return out


def snapshot_signals(fake, real=None, *, k: int = DEFAULT_K, max_samples: int = DEFAULT_MAX_SAMPLES,
                     seed: int = 0, n_bins: int | None = None, min_samples: int = MIN_SAMPLES,
                     reference: PreparedReference | None = None, dup_rms: float = ABS_DUP_RMS) -> dict[str, float]:
    """Every diversity signal of one snapshot, with its real-vs-real reference value.

    The reference is split (seeded) into halves A and B of ``m`` samples,
    and ``m`` generated samples are drawn, where
    ``m = min(n_fake, n_real // 2, max_samples)``. Each statistic is then
    computed for the snapshot against A (``coverage``, ...) and for B
    against A (``coverage_ref``, ...): same sizes, same balls, same k-means
    bins, so the only difference is B versus the generator.

    Parameters
    ----------
    fake : array_like, shape (n, ...)
        Generated samples of one snapshot. Rows with NaN/inf are dropped and
        counted in ``nonfinite_share``.
    real : array_like, shape (n, ...), optional
        Real reference. Without it only ``mpd`` (the snapshot's own mean
        pairwise distance, to compare with earlier snapshots) and
        ``dup_share`` (with :func:`absolute_duplicate_threshold`) are
        computed; the other statistics are NaN.
    k, max_samples, seed, n_bins
        As in the individual functions.
    reference : PreparedReference, optional
        From :func:`prepare_reference` (or a previous call's size): reuses the
        reference's split, balls, bins and real-vs-real values across the
        snapshots of a run. Recomputed when the sample size differs.
    min_samples : int
        Snapshots with fewer finite samples (default 50) get
        ``insufficient = 1.0`` and NaN statistics.
        A reference with fewer than ``2 * min_samples`` samples gets
        ``insufficient_reference = 1.0``: the reference-free values are
        still computed.

    Returns
    -------
    dict of str -> float
        Exactly the keys of :data:`SIGNAL_KEYS`: ``n_fake``, ``n_real``
        (samples given), ``n_used`` (``m``), the flags ``insufficient``,
        ``insufficient_reference`` (0.0 or 1.0), ``nonfinite_share``,
        ``coverage``, ``density``, ``precision``, ``recall``, ``ndb``,
        ``mpd_ratio``, ``dup_share`` and their ``*_ref`` values, ``mpd``,
        ``dup_threshold`` (the distance used for ``dup_share``), and the standard
        errors ``coverage_se``, ``density_se``, ``precision_se``, ``recall_se``
        (and ``*_ref_se``) at the size ``m`` they were computed.

    Raises
    ------
    InputError
        When real and generated samples have different sizes.
    """
    out = dict.fromkeys(SIGNAL_KEYS, float("nan"))
    f = as_samples(fake, name="fake")
    finite = np.isfinite(f).all(axis=1)
    out.update(n_fake=float(f.shape[0]), n_real=0.0, insufficient=0.0, insufficient_reference=0.0,
               nonfinite_share=float(1 - finite.mean()) if f.shape[0] else float("nan"))
    f = f[finite]
    r = None
    if real is not None:
        r = as_samples(real, name="real")
        if r.shape[1] != f.shape[1]:
            raise InputError(
                f"generated samples have {f.shape[1]} values each but the real reference has {r.shape[1]}",
                hint="Give a reference drawn from the data the generator was trained on",
            )
        r = r[np.isfinite(r).all(axis=1)]
        out["n_real"] = float(r.shape[0])
    if f.shape[0] < max(min_samples, k + 1):
        out["insufficient"] = 1.0
        return out
    rng = np.random.default_rng(seed)
    if r is None or min(f.shape[0], r.shape[0] // 2) < max(min_samples, k + 1):
        if r is not None:
            out["insufficient_reference"] = 1.0
        fs = _subsample(f, max_samples, rng)
        space = _Space(fs, dtype=_dtype(False, fs.shape[1]))
        thr = absolute_duplicate_threshold(fs.shape[1], dup_rms)
        out.update(n_used=float(fs.shape[0]), mpd=_mean_pairwise(space, 0), dup_threshold=thr,
                   dup_share=float(np.mean(space.kth_radius2(0, 1) <= thr**2 + space.slack)))
        return out
    m = min(f.shape[0], r.shape[0] // 2, max_samples)
    if reference is None or reference.m != m or reference.k != k or reference.seed != seed:
        reference = prepare_reference(r, m, k=k, seed=seed, n_bins=n_bins)
    rng = np.random.default_rng(seed)
    rng.bit_generator.state = reference.rng_state  # as if the split had just been drawn here
    fs = _subsample(f, m, rng)
    space = _Space(reference.a, fs, dtype=_dtype(False, reference.a.shape[1]))
    snap = _compare(space, 0, 1, reference.r2, k, reference.bins, reference.dup2, reference.mpd_a, reference.near2)
    out.update(snap)
    out.update({(f"{key[:-3]}_ref_se" if key.endswith("_se") else f"{key}_ref"): val
                for key, val in reference.ref.items()})
    out.update(n_used=float(m), mpd=snap["mpd_ratio"] * reference.mpd_a, dup_threshold=math.sqrt(reference.dup2),
               near_scale=math.sqrt(reference.near2))
    return out


@dataclass(frozen=True)
class PreparedReference:
    """A real reference split and measured once, reused for every snapshot of a run.

    Holds half A (the balls every snapshot is compared against), its k-NN
    radii, the k-means bins, the duplicate distance, A's mean pairwise
    distance, and the real-vs-real values (half B against A). Results are
    the same as computing everything per snapshot (up to the
    floating-point tie tolerance, which depends on the largest norm present).
    """

    m: int
    k: int
    seed: int
    a: np.ndarray
    r2: np.ndarray
    bins: _Bins
    dup2: float
    mpd_a: float
    near2: float
    ref: dict
    rng_state: dict


def prepare_reference(real, m: int, *, k: int = DEFAULT_K, seed: int = 0, n_bins: int | None = None) -> PreparedReference:
    """Split ``real`` into halves of ``m`` samples and measure what every snapshot is compared with."""
    r = as_samples(real, name="real")
    r = r[np.isfinite(r).all(axis=1)]
    rng = np.random.default_rng(seed)
    a, b = _split_reference(r, m, rng)
    state = rng.bit_generator.state
    space, r2, bins, dup2, mpd_a, near2 = _reference_space(a, [b], k, n_bins, seed)
    ref = _compare(space, 0, 1, r2, k, bins, dup2, mpd_a, near2)
    # Raw A: a snapshot's space centres on A's mean again, so coordinates, radii and bins line up.
    return PreparedReference(m=m, k=k, seed=seed, a=a, r2=r2, bins=bins, dup2=dup2, mpd_a=mpd_a,
                             near2=near2, ref=ref, rng_state=state)
