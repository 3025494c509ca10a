"""NDB (Richardson & Weiss 2018): the share of k-means bins of the reference whose proportion of generated samples differs significantly.

:func:`ndb` is the statistic, :func:`ndb_chance` its real-vs-real value at the
same sizes (what a perfect generator would score).
"""

from __future__ import annotations

import numpy as np

from gandiag.samples.diversity import as_pair, as_samples

#: Significance level of NDB's per-bin two-proportion z-test.
NDB_ALPHA = 0.05


def default_bins(n: int) -> int:
    """NDB bin count for ``n`` real samples: about 20 samples per bin, 5 to 50 bins."""
    return int(np.clip(n // 20, 5, 50))


class Bins:
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


def ndb_from_labels(labels_real: np.ndarray, labels_fake: np.ndarray, n_bins: int, alpha: float) -> float:
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
    r, f = as_pair(real, fake)
    bins = Bins(r, n_bins or default_bins(r.shape[0]), seed)
    return ndb_from_labels(bins.labels, bins.assign(f.astype(r.dtype)), bins.n_bins, alpha)


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
