"""Precision, recall, density and coverage at the scale real GANs are judged (tens of thousands of samples).

Two ways to the same four statistics (definitions in :mod:`gandiag.signals.diversity` and docs/diversity.md):

* :func:`prdc_exact` compares every pair. Three matrix products (real-real for the real balls, fake-fake for the
  fake balls, real-fake for everything else) in row blocks, so the memory is a block, never ``n x n``. float32
  input above 32 dimensions is computed in float32 (as every GPU and BLAS-based implementation does: features are
  float32), anything else in float64. This is the reference of every benchmark.
* :func:`prdc_approximate` finds each point's neighbours with an approximate nearest-neighbour index built on a
  PCA projection of the data, then measures every candidate's distance again in the full space. Only the
  candidates' distances are exact: a neighbour the index misses is what the error is made of, and
  ``benchmarks/diversity_scale.py`` measures it against :func:`prdc_exact`.

Each statistic is a mean over points (coverage, recall and density over real points -- density as the number of
generated points in each real ball times ``n_real / (k n_fake)`` --, precision over generated ones) and comes with its standard error at the size it was computed (``*_se``): the spread of the
per-point values over the square root of their number. It is the sampling uncertainty of the statistic for
sets of this size, which is what decides whether two values differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Above this many samples in either set, ``method="auto"`` uses the approximate path.
AUTO_APPROXIMATE_ABOVE = 20_000
#: Dimensions of the PCA projection the approximate index searches in (the data's own dimension when lower).
PROJECTION_DIMS = 128
#: Candidate neighbours per query taken from the index and measured again in the full space.
CANDIDATES = 32
#: HNSW graph quality: candidates kept while building, and while searching (at least twice the neighbours asked).
EF_CONSTRUCTION = 80
EF_SEARCH = 96
#: Inverted lists searched per query by the IVF index (of about 4 sqrt(n)).
IVF_PROBES = 24
#: Rows of a distance block: ``_BLOCK_ELEMENTS / n`` rows at a time keeps every block near 64 MB in float32.
_BLOCK_ELEMENTS = 16 * 1024 * 1024
_FLOAT32_MIN_DIM = 32


@dataclass(frozen=True)
class PRDC:
    """The four statistics with their standard errors and how they were computed."""

    precision: float
    recall: float
    density: float
    coverage: float
    precision_se: float
    recall_se: float
    density_se: float
    coverage_se: float
    method: str
    n_real: int
    n_fake: int
    dims: int

    def as_dict(self) -> dict[str, float]:
        keys = ("precision", "recall", "density", "coverage")
        out = {key: getattr(self, key) for key in keys}
        out.update({f"{key}_se": getattr(self, f"{key}_se") for key in keys})
        return out


def _se(values: np.ndarray) -> float:
    """Standard error of a mean of per-point values."""
    n = values.size
    return float(np.std(values, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")


def _result(covered, in_fake_ball, in_real_ball, fakes_in_ball, k, method, dims) -> PRDC:
    """The statistics as means of per-point values: covered, in a fake ball, (fakes in the ball) per real point."""
    n_real, n_fake = covered.size, in_real_ball.size
    density_terms = fakes_in_ball * (n_real / (k * n_fake))  # density = mean over real balls of this
    return PRDC(
        precision=float(in_real_ball.mean()), recall=float(in_fake_ball.mean()),
        density=float(density_terms.mean()), coverage=float(covered.mean()),
        precision_se=_se(in_real_ball.astype(np.float64)), recall_se=_se(in_fake_ball.astype(np.float64)),
        density_se=_se(density_terms), coverage_se=_se(covered.astype(np.float64)),
        method=method, n_real=n_real, n_fake=n_fake, dims=dims)


# ----------------------------------------------------------------------------- exact

class _Frame:
    """Both sets centred on the real mean, in the working precision, with squared norms and a tie tolerance.

    Centring shrinks the norms and so the rounding error of ``|x|^2 + |y|^2 - 2 x.y``. Squared distances within
    ``128 * eps * max|x|^2`` of each other count as equal (docs/diversity.md, "Boundary rule").
    """

    def __init__(self, real: np.ndarray, fake: np.ndarray, dtype):
        centre = real.mean(axis=0, dtype=np.float64).astype(dtype)
        self.real = np.subtract(real, centre, dtype=dtype)
        self.fake = np.subtract(fake, centre, dtype=dtype)
        self.nr = np.einsum("ij,ij->i", self.real, self.real, dtype=np.float64).astype(dtype)
        self.nf = np.einsum("ij,ij->i", self.fake, self.fake, dtype=np.float64).astype(dtype)
        biggest = max(float(self.nr.max()), float(self.nf.max()), 1e-30)
        self.slack = 128 * float(np.finfo(dtype).eps) * biggest


def _working_dtype(real: np.ndarray, fake: np.ndarray):
    """float32 for float32 input above 32 dimensions; float64 for anything else (few dimensions, float64 input)."""
    wide = real.dtype == np.float64 or fake.dtype == np.float64
    return np.float64 if real.shape[1] < _FLOAT32_MIN_DIM or wide else np.float32


def _rows(n_cols: int, budget: int | None = None) -> int:
    """Rows of a block of ``n_cols`` columns within ``budget`` elements (default and cap :data:`_BLOCK_ELEMENTS`)."""
    budget = _BLOCK_ELEMENTS if budget is None else min(budget, _BLOCK_ELEMENTS)
    return max(16, min(4096, budget // max(n_cols, 1)))


def _budget(*arrays: np.ndarray) -> int:
    """Elements of one distance block: a fifth of the inputs' size (at least 2^20, 4 MB in float32), so a block and its
    temporaries stay within the inputs' own memory (under 3x the inputs in all, once they exceed a few MB)."""
    return max(1 << 20, sum(a.size for a in arrays) // 5)


def _kth_radius2(x: np.ndarray, norms: np.ndarray, k: int, budget: int | None = None) -> np.ndarray:
    """Squared distance from each point to its k-th nearest *other* point of the same set."""
    n = x.shape[0]
    if n <= k:
        raise ValueError(f"need more than k={k} samples for k-nearest-neighbour radii, got {n}")
    out = np.empty(n, dtype=x.dtype)
    step = _rows(n, budget)
    minus2 = x.dtype.type(-2)
    for start in range(0, n, step):
        sl = slice(start, min(start + step, n))
        h = (x[sl] * minus2) @ x.T
        h += norms[None, :]
        h[np.arange(h.shape[0]), np.arange(sl.start, sl.stop)] = np.inf
        out[sl] = np.partition(h, k - 1, axis=1)[:, k - 1] + norms[sl]
    return np.maximum(out, 0, out=out)


def prdc_exact(real: np.ndarray, fake: np.ndarray, k: int = 5) -> PRDC:
    """Precision, recall, density and coverage from every pair of points (see the module notes)."""
    dims = real.shape[1]
    dtype = _working_dtype(real, fake)
    fr = _Frame(real, fake, dtype)
    budget = _budget(fr.real, fr.fake)
    r2_real = _kth_radius2(fr.real, fr.nr, k, budget)
    r2_fake = _kth_radius2(fr.fake, fr.nf, k, budget)
    n_real, n_fake = fr.real.shape[0], fr.fake.shape[0]
    covered = np.empty(n_real, dtype=bool)
    in_fake_ball = np.empty(n_real, dtype=bool)
    fakes_in_ball = np.empty(n_real, dtype=np.int64)
    in_real_ball = np.zeros(n_fake, dtype=bool)
    fake_limit = (r2_fake + dtype(fr.slack) - fr.nf)[None, :]  # d2 <= r2_fake  <=>  |x|^2 - 2 x.y <= r2_fake - |y|^2
    step = _rows(n_fake, budget)
    minus2 = dtype(-2)
    for start in range(0, n_real, step):
        sl = slice(start, min(start + step, n_real))
        h = (fr.real[sl] * minus2) @ fr.fake.T  # -2 x.y; + |x|^2 + |y|^2 is the squared distance
        h += fr.nr[sl, None]
        in_fake_ball[sl] = (h <= fake_limit).any(axis=1)
        h += fr.nf[None, :]
        inside = h <= (r2_real[sl] + dtype(fr.slack))[:, None]
        fakes_in_ball[sl] = np.count_nonzero(inside, axis=1)
        covered[sl] = fakes_in_ball[sl] > 0
        in_real_ball |= inside.any(axis=0)
    return _result(covered, in_fake_ball, in_real_ball, fakes_in_ball, k, "exact", dims)


# ----------------------------------------------------------------------------- approximate

def _principal_axes(scatter: np.ndarray, dims: int, rng: np.random.Generator, iterations: int = 6) -> np.ndarray:
    """The top ``dims`` eigenvectors of a symmetric ``(d, d)`` matrix, by subspace iteration (float32, seconds)."""
    d = scatter.shape[0]
    width = min(d, dims + 16)
    q = np.linalg.qr(rng.standard_normal((d, width)).astype(np.float32))[0]
    for _ in range(iterations):
        q = np.linalg.qr(scatter @ q)[0]
    values, vectors = np.linalg.eigh((q.T @ scatter @ q).astype(np.float64))
    order = np.argsort(values)[::-1][:dims]
    return np.ascontiguousarray(q @ vectors[:, order].astype(np.float32))


def project(real: np.ndarray, fake: np.ndarray, dims: int, *, how: str = "pca", seed: int = 0,
            fit_rows: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Both sets in ``dims`` dimensions (float32): PCA fitted on a seeded subsample of both, or a random projection."""
    d = real.shape[1]
    if dims >= d:
        return np.ascontiguousarray(real, dtype=np.float32), np.ascontiguousarray(fake, dtype=np.float32)
    rng = np.random.default_rng(seed)
    centre = real.mean(axis=0, dtype=np.float64).astype(np.float32)
    if how == "random":
        basis = (rng.standard_normal((d, dims)) / math.sqrt(dims)).astype(np.float32)
    else:
        half = fit_rows // 2
        rows = [x[np.sort(rng.choice(x.shape[0], size=min(half, x.shape[0]), replace=False))] for x in (real, fake)]
        sample = np.concatenate(rows).astype(np.float32) - centre
        basis = _principal_axes(sample.T @ sample, dims, rng)
    out = []
    for x in (real, fake):
        y = np.empty((x.shape[0], dims), dtype=np.float32)
        step = _rows(d)
        for start in range(0, x.shape[0], step):
            sl = slice(start, min(start + step, x.shape[0]))
            y[sl] = (np.asarray(x[sl], dtype=np.float32) - centre) @ basis
        out.append(y)
    return out[0], out[1]


def default_backend() -> str:
    """``faiss-ivf`` when faiss-cpu is installed (measured the fastest within 0.01: docs/diversity.md), else ``brute``."""
    import importlib.util

    return "faiss-ivf" if importlib.util.find_spec("faiss") is not None else "brute"


class _Index:
    """An approximate nearest-neighbour index over ``base`` (or brute force), searched for any number of neighbours."""

    def __init__(self, base: np.ndarray, backend: str, threads: int | None):
        self.base, self.backend, self.threads = base, backend, threads
        if backend == "faiss":
            import faiss

            if threads:
                faiss.omp_set_num_threads(threads)
            self.index = faiss.IndexHNSWFlat(base.shape[1], 32)
            self.index.hnsw.efConstruction = EF_CONSTRUCTION
            for start in range(0, base.shape[0], 8192):  # batches: Ctrl-C is seen between them
                self.index.add(base[start:start + 8192])
        elif backend == "faiss-ivf":
            import faiss

            if threads:
                faiss.omp_set_num_threads(threads)
            n_lists = max(1, min(int(4 * math.sqrt(base.shape[0])), base.shape[0] // 39))
            self.index = faiss.IndexIVFFlat(faiss.IndexFlatL2(base.shape[1]), base.shape[1], n_lists)
            rng = np.random.default_rng(0)
            train = base[np.sort(rng.choice(base.shape[0], size=min(base.shape[0], 40 * n_lists), replace=False))]
            self.index.cp.seed = 0
            self.index.train(train)
            self.index.add(base)
            self.index.nprobe = min(n_lists, IVF_PROBES)
        elif backend == "usearch":
            from usearch.index import Index

            self.index = Index(ndim=base.shape[1], metric="l2sq", dtype="f32", connectivity=32,
                               expansion_add=EF_CONSTRUCTION)
            for start in range(0, base.shape[0], 8192):
                stop = min(start + 8192, base.shape[0])
                self.index.add(np.arange(start, stop), base[start:stop], threads=threads or 0)
        elif backend == "brute":
            self.norms = np.einsum("ij,ij->i", base, base)
        else:
            raise ValueError(f"unknown neighbour backend {backend!r}")

    def search(self, queries: np.ndarray, n_neighbours: int) -> np.ndarray:
        """Indices ``(len(queries), n)`` of about the ``n`` nearest points (-1 where fewer were found)."""
        n = min(n_neighbours, self.base.shape[0])
        out = np.empty((queries.shape[0], n), dtype=np.int64)
        step = 8192 if self.backend not in ("brute", "faiss-ivf") else _rows(self.base.shape[0])
        for start in range(0, queries.shape[0], step):
            sl = slice(start, min(start + step, queries.shape[0]))
            out[sl] = self._search(queries[sl], n)
        return out

    def _search(self, q: np.ndarray, n: int) -> np.ndarray:
        if self.backend == "faiss-ivf":
            return self.index.search(q, n)[1]
        if self.backend == "faiss":
            self.index.hnsw.efSearch = max(EF_SEARCH, 2 * n)
            return self.index.search(q, n)[1]
        if self.backend == "usearch":
            self.index.expansion_search = max(EF_SEARCH, 2 * n)
            found = self.index.search(q, n, threads=self.threads or 0)
            keys = np.asarray(found.keys).astype(np.int64, copy=False).reshape(q.shape[0], -1)
            counts = np.asarray(getattr(found, "counts", [keys.shape[1]])).reshape(-1)
            keys[np.arange(keys.shape[1])[None, :] >= counts[:, None]] = -1
            return keys
        h = q @ (np.float32(-2) * self.base.T)
        h += self.norms
        return np.argpartition(h, n - 1, axis=1)[:, :n] if n < h.shape[1] else np.tile(np.arange(n), (q.shape[0], 1))


def _candidate_d2(x: np.ndarray, xn: np.ndarray, y: np.ndarray, yn: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Full-space squared distances from each row of ``x`` to its candidates ``y[idx[i]]`` (missing: inf)."""
    out = np.empty(idx.shape, dtype=x.dtype)
    step = max(1, _BLOCK_ELEMENTS // (idx.shape[1] * x.shape[1]))
    for start in range(0, x.shape[0], step):
        sl = slice(start, min(start + step, x.shape[0]))
        ids = idx[sl]
        valid = ids >= 0
        safe = np.where(valid, ids, 0)
        dots = np.matmul(y[safe], x[sl, :, None])[:, :, 0]
        block = xn[sl, None] + yn[safe] - 2 * dots
        block[~valid] = np.inf
        out[sl] = block
    return np.maximum(out, 0, out=out)


def _balls(x: np.ndarray, xn: np.ndarray, r2: np.ndarray, y: np.ndarray, yn: np.ndarray, index: _Index,
           queries: np.ndarray, candidates: int, slack: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What lies in the ball of each point of ``x`` (squared radius ``r2``) among the points of ``y``.

    Returns the squared distance to the nearest point of ``y``, how many points of ``y`` each ball holds, and
    which points of ``y`` lie in at least one ball. Every point in a ball is nearer than the ball's radius, so
    it is among the ball centre's nearest neighbours: where every candidate was inside, the search goes four
    times further (and past 1,024 candidates, over every point).
    """
    nearest = np.empty(x.shape[0], dtype=x.dtype)
    counts = np.zeros(x.shape[0], dtype=np.int64)
    held = np.zeros(y.shape[0], dtype=bool)
    todo = np.arange(x.shape[0])
    n, first = candidates, True
    while todo.size:
        if n >= min(y.shape[0], 1024):
            step = _rows(y.shape[0])
            for start in range(0, todo.size, step):
                rows = todo[start:start + step]
                h = x[rows] @ (x.dtype.type(-2) * y.T)
                h += xn[rows, None]
                h += yn[None, :]
                inside = h <= (r2[rows] + slack)[:, None]
                counts[rows] = np.count_nonzero(inside, axis=1)
                held |= inside.any(axis=0)
                if first:
                    nearest[rows] = h.min(axis=1)
            break
        idx = index.search(queries if first else queries[todo], n)
        d2 = _candidate_d2(x if first else x[todo], xn[todo], y, yn, idx)
        if first:
            nearest[:] = d2.min(axis=1)
        inside = d2 <= (r2[todo] + slack)[:, None]
        counts[todo] = np.count_nonzero(inside, axis=1)
        held[idx[inside]] = True
        todo = todo[counts[todo] >= idx.shape[1]]  # every candidate inside: there may be more
        n, first = 4 * n, False
    return np.maximum(nearest, 0), counts, held


def _radii_from(fr_x: np.ndarray, norms: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    d2 = _candidate_d2(fr_x, norms, fr_x, norms, idx)
    d2[idx == np.arange(idx.shape[0])[:, None]] = np.inf  # a point is not its own neighbour
    return np.partition(d2, k - 1, axis=1)[:, k - 1]


def prdc_approximate(real: np.ndarray, fake: np.ndarray, k: int = 5, *, dims: int = PROJECTION_DIMS,
                     candidates: int = CANDIDATES, projection: str = "pca", backend: str | None = None,
                     rerank: bool = True, seed: int = 0, threads: int | None = None) -> PRDC:
    """The four statistics from approximate neighbours (see the module notes), with standard errors.

    ``backend``: ``faiss-ivf`` (the default when faiss-cpu is installed: ``pip install 'gandiag[scale]'``),
    ``faiss`` (HNSW), ``usearch`` (HNSW), or ``brute`` (numpy matrix products in the projection; the default
    without faiss). ``rerank``: measure the candidates' distances in the full space (otherwise in the projection).
    """
    if backend is None:
        backend = default_backend()
    d = real.shape[1]
    fr = _Frame(real, fake, _working_dtype(real, fake))
    pr, pf = project(fr.real, fr.fake, dims, how=projection, seed=seed)
    if rerank:
        xr, xf, nr, nf, slack = fr.real, fr.fake, fr.nr, fr.nf, fr.real.dtype.type(fr.slack)
    else:
        xr, xf = pr, pf
        nr, nf = np.einsum("ij,ij->i", pr, pr), np.einsum("ij,ij->i", pf, pf)
        slack = np.float32(128 * np.finfo(np.float32).eps * max(float(nr.max()), float(nf.max()), 1e-30))
    n_cand = max(candidates, k + 1)
    real_index = _Index(pr, backend, threads)
    r2_real = _radii_from(xr, nr, real_index.search(pr, n_cand), k)
    fake_index = _Index(pf, backend, threads)
    r2_fake = _radii_from(xf, nf, fake_index.search(pf, n_cand), k)
    nearest_fake, fakes_in_ball, in_real_ball = _balls(xr, nr, r2_real, xf, nf, fake_index, pr, n_cand, slack)
    covered = nearest_fake <= r2_real + slack
    _, _, in_fake_ball = _balls(xf, nf, r2_fake, xr, nr, real_index, pf, n_cand, slack)
    where = "full-space distances" if rerank else "distances in the projection"
    method = f"approximate ({backend} on {projection} {min(dims, d)} dims, {n_cand} candidates, {where})"
    return _result(covered, in_fake_ball, in_real_ball, fakes_in_ball, k, method, d)
