"""Sample diversity: how much of the real data a generator's samples cover.

All statistics are built from Euclidean distances between flattened samples
(any input of shape ``(n, ...)`` is read as ``n`` points in ``d`` dimensions):

* :func:`coverage` and :func:`density` (Naeem et al. 2020) and
  :func:`precision` and :func:`recall` (Kynkaanniemi et al. 2019), from the
  k-nearest-neighbour balls of each sample set;
* NDB (Richardson & Weiss 2018, :mod:`gandiag.samples.ndb`), the share of
  k-means bins whose proportions differ significantly;
* :func:`mean_pairwise_distance_ratio` and :func:`near_duplicate_share`,
  for severe collapse and for runs without a real reference;
* in :mod:`gandiag.samples.compare`, the real-vs-real value of each
  statistic (a perfect generator scores about 0.97 coverage, not 1), and
  everything for one snapshot as a flat dict.

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

import numpy as np

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
#: Without a reference, samples of fewer values than this (2-D and 8-D points) are duplicates only when they are
#: the same point: within ABS_DUP_RMS_FEW per value. Measured on the corpus judged without its references: at
#: ABS_DUP_RMS the dense but healthy modes of point data counted as repeats (GD303 fired on 45 stable and 44
#: unconverged runs against 36 collapses, `gandiag calibrate` on the corpus).
REFERENCE_FREE_MIN_VALUES = 16
ABS_DUP_RMS_FEW = 0.001
#: Without a reference, the spread of nearest neighbours (``nn_spread``: median nearest-neighbour distance among the
#: generated samples over their mean pairwise distance) is measured for samples of at least this many values
#: (images of 8x8 and more). A varied set of images shows 0.4-0.6 (scikit-learn's digits: 0.43-0.55 at 100-500
#: samples); a few outputs repeated, 0.02-0.25. Points and short vectors are dense by nature (2-D mixtures and
#: the breast-cancer features score 0.05-0.3 when healthy), so there it is not measured.
NN_SPREAD_MIN_VALUES = 64
#: The same for tiles cut from grid images: rendering and resampling a repeated image at different places
#: of a figure leaves up to about 0.1 root-mean-square difference between its copies, while different
#: real digits stay about 0.3-0.4 apart (measured on the tutorial's grid of scikit-learn's eights).
GRID_DUP_RMS = 0.15
_BLOCK = 1024
#: Below this many dimensions distances are always computed in float64.
_FLOAT32_MIN_DIM = 32


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


def as_pair(real, fake) -> tuple[np.ndarray, np.ndarray]:
    r, f = as_samples(real, name="real"), as_samples(fake, name="fake")
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real samples have {r.shape[1]} values each but fake samples {f.shape[1]}")
    return r, f


def subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if x.shape[0] <= n:
        return x
    return x[np.sort(rng.choice(x.shape[0], size=n, replace=False))]


class Space:
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


def distance_dtype(exact: bool, d: int):
    """float64 when asked, or when cheap (few dimensions, where float32 blurs small distances)."""
    return np.float64 if exact or d < _FLOAT32_MIN_DIM else np.float32


def _ball_counts(space: Space, r2_real: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """For real points (set 0, ``rows``): is a fake (set 1) in its ball, and how many."""
    n = space.sets[0].shape[0] if rows is None else len(rows)
    covered = np.empty(n, dtype=bool)
    counts = np.empty(n, dtype=np.int64)
    for sl, h, na in space.partial_blocks(0, 1, rows):
        limit = (r2_real[sl] + space.slack - na)[:, None]
        covered[sl] = h.min(axis=1) <= limit[:, 0]
        counts[sl] = np.count_nonzero(h <= limit, axis=1)
    return covered, counts


def _share_in_balls(space: Space, query: int, balls: int, r2_balls: np.ndarray) -> float:
    """Share of points of set ``query`` inside at least one k-NN ball of set ``balls``."""
    hit = np.zeros(space.sets[query].shape[0], dtype=bool)
    for sl, d2 in space.blocks(balls, query):
        hit |= (d2 <= (r2_balls[sl, None] + space.slack)).any(axis=0)
    return float(hit.mean())


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

    r, f = as_pair(real, fake)
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
    r, f = as_pair(real, fake)
    space = Space(r, f, dtype=distance_dtype(exact, r.shape[1]))
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
    r, f = as_pair(real, fake)
    space = Space(r, f, dtype=distance_dtype(exact, r.shape[1]))
    return _share_in_balls(space, query=1, balls=0, r2_balls=space.kth_radius2(0, k))


def recall(real, fake, k: int = DEFAULT_K, *, exact: bool = False) -> float:
    """Share of real samples inside at least one fake k-NN ball (Kynkaanniemi et al. 2019)."""
    r, f = as_pair(real, fake)
    space = Space(r, f, dtype=distance_dtype(exact, r.shape[1]))
    return _share_in_balls(space, query=0, balls=1, r2_balls=space.kth_radius2(1, k))


def mean_pairwise(space: Space, a: int) -> float:
    n = space.sets[a].shape[0]
    if n < 2:
        return float("nan")
    total = 0.0
    for _, d2 in space.blocks(a, a):
        total += float(np.sqrt(np.maximum(d2, 0, out=d2)).sum(dtype=np.float64))
    return total / (n * (n - 1))


def mean_pairwise_distance(x, *, max_samples: int = DEFAULT_MAX_SAMPLES, seed: int = 0) -> float:
    """Mean Euclidean distance between two different samples (seeded subsample of ``max_samples``)."""
    s = subsample(as_samples(x), max_samples, np.random.default_rng(seed))
    return mean_pairwise(Space(s), 0)


def mean_pairwise_distance_ratio(fake, real, *, max_samples: int = DEFAULT_MAX_SAMPLES, seed: int = 0) -> float:
    """Mean pairwise distance of the fake samples over that of the real samples.

    About 1 for a healthy generator, near 0 for full collapse. Partial
    collapse onto modes spread over the space, and blurred samples, keep it
    near 1: use it with :func:`coverage`, not instead of it.
    """
    r, f = as_pair(real, fake)
    rng = np.random.default_rng(seed)
    space = Space(subsample(r, max_samples, rng), subsample(f, max_samples, rng))
    return mean_pairwise(space, 1) / mean_pairwise(space, 0)


def _nn_dist(space: Space, a: int) -> np.ndarray:
    return np.sqrt(space.kth_radius2(a, 1).astype(np.float64))


def duplicate_threshold(real, *, fraction: float = DUP_FRACTION, n: int | None = None, seed: int = 0) -> float:
    """Near-duplicate distance from a reference: ``fraction`` of the median of its nearest-neighbour distances.

    ``n`` subsamples the reference to the size of the set it will judge
    (nearest-neighbour distances shrink as a set grows).
    """
    r = as_samples(real, name="real")
    if n is not None:
        r = subsample(r, max(n, 2), np.random.default_rng(seed))
    return float(fraction * np.median(_nn_dist(Space(r), 0)))


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
    f = subsample(as_samples(fake, name="fake"), max_samples, rng)
    if f.shape[0] < 2:
        return float("nan")
    if threshold is None:
        if real is not None:
            threshold = duplicate_threshold(real, fraction=fraction, n=f.shape[0], seed=seed)
        else:
            threshold = absolute_duplicate_threshold(f.shape[1])
    space = Space(f)
    return float(np.mean(space.kth_radius2(0, 1) <= threshold**2 + space.slack))
