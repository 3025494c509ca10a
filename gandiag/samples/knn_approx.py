"""Precision, recall, density and coverage with an approximate nearest-neighbour index, certified by bounds.

Each point's candidate neighbours come from an index (faiss IVF, or numpy when
faiss is missing) built on a PCA projection of the data. The projected distance
is a lower bound of the true one, and with the norm of what the projection
leaves out it gives an upper bound too: a ball test the two bounds decide is
settled without measuring, every other candidate is measured in the full space,
and a candidate list that might not reach a ball's edge is searched further.
Only a neighbour the index does not list at all (it sits in an inverted list
not probed) can make an error; ``benchmarks/diversity_scale.py`` measures it
against :func:`gandiag.samples.knn_exact.prdc_exact`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from gandiag.infra.progress import Progress
from gandiag.samples.knn_exact import BLOCK_ELEMENTS, FLOAT32_MIN_DIM, PRDC, block_rows, prdc_result

#: Dimensions of the PCA projection the approximate index searches in (the data's own dimension when lower).
PROJECTION_DIMS = 128
#: Candidate neighbours per query taken from the index and measured again in the full space.
CANDIDATES = 32
#: HNSW graph quality: candidates kept while building, and while searching (at least twice the neighbours asked).
EF_CONSTRUCTION = 80
EF_SEARCH = 96
#: The longest candidate list searched on the bounds' account alone: a list the bounds still cannot certify there is
#: cut (its radius or count kept; the method string says how many). Balls found to hold many points (a collapse)
#: are searched further regardless.
MAX_CANDIDATES = 128
#: Queries handled at a time (bounds the candidate arrays: about 8,192 x 512 x 20 bytes at most).
_CHUNK = 8192
#: Inverted lists searched per query by the IVF index (of about 4 sqrt(n)).
IVF_PROBES = 16


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


class Side:
    """One set on the approximate path: the points as given (float32), their projection, and two norms.

    ``p`` is the centred point projected on an orthonormal basis, ``sq`` the squared norm of the centred point
    and ``rho`` the norm of what the projection leaves out. For two points, ``|p_i - p_j|^2`` plus
    ``(rho_i - rho_j)^2`` is a lower bound of their squared distance and ``|p_i - p_j|^2 + (rho_i + rho_j)^2`` an
    upper bound: pairs whose bounds already decide a ball test are never measured in the full space.
    """

    def __init__(self, x: np.ndarray, p: np.ndarray, sq: np.ndarray):
        self.x = x
        self.p = p
        self.sq = sq
        self.rho = np.sqrt(np.maximum(sq - np.einsum("ij,ij->i", p, p, dtype=np.float64), 0.0))
        self.n = x.shape[0]


def make_sides(real: np.ndarray, fake: np.ndarray, dims: int, how: str, seed: int,
                fit_rows: int = 8192) -> tuple[Side, Side, np.ndarray]:
    """Both sets projected on ``dims`` axes (PCA fitted on a seeded subsample of both, or random), and the centre.

    Above 32 dimensions the points are float32 (a float64 feature file is converted: its distances move by about
    1e-7 relative, and faiss measures float32 pairs four times faster than numpy); below, float64 as on the exact
    path. The projection, which only finds candidates and bounds, is float32.
    """
    dtype = np.float64 if real.shape[1] < FLOAT32_MIN_DIM else np.float32
    real = np.ascontiguousarray(real, dtype=dtype)
    fake = np.ascontiguousarray(fake, dtype=dtype)
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    centre = real.mean(axis=0, dtype=np.float64).astype(dtype)
    if dims >= d:
        basis = None
    elif how == "random":
        basis = np.linalg.qr(rng.standard_normal((d, dims)).astype(np.float32))[0]  # orthonormal: a lower bound
    elif how == "pca":
        half = fit_rows // 2
        rows = [x[np.sort(rng.choice(x.shape[0], size=min(half, x.shape[0]), replace=False))] for x in (real, fake)]
        sample = (np.concatenate(rows) - centre).astype(np.float32, copy=False)
        basis = _principal_axes(sample.T @ sample, dims, rng)
    else:
        raise ValueError(f"projection must be 'pca' or 'random', got {how!r}")
    sides = []
    for x in (real, fake):
        p = np.empty((x.shape[0], min(dims, d)), dtype=np.float32)
        sq = np.empty(x.shape[0], dtype=np.float64)
        step = block_rows(d)
        for start in range(0, x.shape[0], step):
            sl = slice(start, min(start + step, x.shape[0]))
            block = x[sl] - centre
            sq[sl] = np.einsum("ij,ij->i", block, block, dtype=np.float64)
            p[sl] = block if basis is None else block.astype(np.float32, copy=False) @ basis
        sides.append(Side(x, p, sq))
    return sides[0], sides[1], centre


def default_backend() -> str:
    """``faiss-ivf`` when faiss-cpu is installed (measured the fastest within 0.01: docs/diversity.md), else ``brute``."""
    import importlib.util

    return "faiss-ivf" if importlib.util.find_spec("faiss") is not None else "brute"


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class _Index:
    """An approximate nearest-neighbour index over ``base`` (or brute force), searched for any number of neighbours.

    :meth:`search` returns squared distances in the searched space and indices, both ``(queries, n)``, nearest
    first; ``-1`` (distance ``inf``) where the index found fewer than ``n`` points.
    """

    def __init__(self, base: np.ndarray, backend: str, threads: int | None, probes: int | None = None):
        self.base, self.backend, self.threads = base, backend, threads
        if backend in ("faiss", "faiss-ivf"):
            import faiss

            self._faiss = faiss
            if threads:
                faiss.omp_set_num_threads(threads)
        if backend == "faiss":
            self.index = faiss.IndexHNSWFlat(base.shape[1], 32)
            self.index.hnsw.efConstruction = EF_CONSTRUCTION
            for start in range(0, base.shape[0], 8192):  # batches: Ctrl-C is seen between them
                self.index.add(base[start:start + 8192])
        elif backend == "faiss-ivf":
            n_lists = max(1, min(int(4 * math.sqrt(base.shape[0])), base.shape[0] // 39))
            self.index = faiss.IndexIVFFlat(faiss.IndexFlatL2(base.shape[1]), base.shape[1], n_lists)
            rng = np.random.default_rng(0)
            train = base[np.sort(rng.choice(base.shape[0], size=min(base.shape[0], 40 * n_lists), replace=False))]
            self.index.cp.seed = 0
            self.index.cp.verbose = False
            self.index.train(train)
            self.index.add(base)
            sizes = np.array([self.index.invlists.list_size(i) for i in range(n_lists)])
            if (sizes == 0).any():
                # Repeated points (a collapse) leave lists empty, their centroids copies of a full list's: a query
                # would probe the copies and miss the points. Index again on the centroids that hold points.
                kept = self.index.quantizer.reconstruct_n(0, n_lists)[sizes > 0]
                self.quantizer = faiss.IndexFlatL2(base.shape[1])
                self.quantizer.add(kept)
                self.index = faiss.IndexIVFFlat(self.quantizer, base.shape[1], kept.shape[0])
                self.index.is_trained = True
                self.index.add(base)
                n_lists = kept.shape[0]
            self.index.nprobe = min(n_lists, probes or IVF_PROBES)
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

    def _search_ivf(self, q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The IVF search, probing four times more lists for the queries whose probed lists held fewer than ``n``
        points, until every list is probed: a short list then means there are no more points, never that the
        points sat in lists not probed (a mode repeated many times is split over many lists)."""
        dist, ids = self.index.search(q, n)
        short = np.flatnonzero((ids < 0).any(axis=1))
        probes, n_lists = self.index.nprobe, self.index.nlist
        while short.size and probes < n_lists:
            probes = min(4 * probes, n_lists)
            params = self._faiss.SearchParametersIVF(nprobe=probes)
            dist[short], ids[short] = self.index.search(q[short], n, params=params)
            short = short[(ids[short] < 0).any(axis=1)]
        return dist, ids

    def search(self, queries: np.ndarray, n_neighbours: int) -> tuple[np.ndarray, np.ndarray]:
        n = min(n_neighbours, self.base.shape[0])
        dist = np.empty((queries.shape[0], n), dtype=np.float32)
        ids = np.empty((queries.shape[0], n), dtype=np.int64)
        step = 8192 if self.backend != "brute" else block_rows(self.base.shape[0])
        for start in range(0, queries.shape[0], step):  # batches: Ctrl-C is seen between them
            sl = slice(start, min(start + step, queries.shape[0]))
            dist[sl], ids[sl] = self._search(np.ascontiguousarray(queries[sl]), n)
        dist[ids < 0] = np.inf
        return dist, ids

    def _search(self, q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.backend == "faiss-ivf":
            return self._search_ivf(q, n)
        if self.backend == "faiss":
            self.index.hnsw.efSearch = max(EF_SEARCH, 2 * n)
            return self.index.search(q, n)
        if self.backend == "usearch":
            self.index.expansion_search = max(EF_SEARCH, 2 * n)
            found = self.index.search(q, n, threads=self.threads or 0)
            keys = np.asarray(found.keys).astype(np.int64, copy=False).reshape(q.shape[0], -1)
            dist = np.asarray(found.distances, dtype=np.float32).reshape(q.shape[0], -1)
            counts = np.asarray(getattr(found, "counts", [keys.shape[1]])).reshape(-1)
            keys[np.arange(keys.shape[1])[None, :] >= counts[:, None]] = -1
            return dist, keys
        h = q @ (np.float32(-2) * self.base.T)
        h += self.norms
        h += np.einsum("ij,ij->i", q, q)[:, None]
        ids = np.argpartition(h, n - 1, axis=1)[:, :n] if n < h.shape[1] else np.tile(np.arange(n), (q.shape[0], 1))
        dist = np.take_along_axis(h, ids, axis=1)
        order = np.argsort(dist, axis=1)  # nearest first, as the indexes list them
        return np.maximum(np.take_along_axis(dist, order, axis=1), 0), np.take_along_axis(ids, order, axis=1)


def _pair_d2(a: Side, ia: np.ndarray, b: Side, ib: np.ndarray) -> np.ndarray:
    """Full-space squared distances between ``a.x[ia[t]]`` and ``b.x[ib[t]]`` for every ``t`` (direct differences)."""
    out = np.empty(ia.size, dtype=a.x.dtype)
    if not ia.size:
        return out
    faiss = _faiss() if a.x.dtype == np.float32 else None
    if faiss is not None:
        ia = np.ascontiguousarray(ia, dtype=np.int64)
        ib = np.ascontiguousarray(ib, dtype=np.int64)
        faiss.pairwise_indexed_L2sqr(a.x.shape[1], ia.size, faiss.swig_ptr(a.x), faiss.swig_ptr(ia),
                                     faiss.swig_ptr(b.x), faiss.swig_ptr(ib), faiss.swig_ptr(out))
        return out
    step = max(1, BLOCK_ELEMENTS // (4 * a.x.shape[1]))
    for start in range(0, ia.size, step):
        sl = slice(start, min(start + step, ia.size))
        diff = a.x[ia[sl]] - b.x[ib[sl]]
        out[sl] = np.einsum("ij,ij->i", diff, diff)
    return out


def _full_d2(a: Side, rows: np.ndarray, b: Side, centre: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every squared distance from ``a.x[rows]`` to all of ``b``, a block of rows at a time (centred, in the
    working precision, as the exact path computes them)."""
    dtype = a.x.dtype
    step = block_rows(b.n)
    for start in range(0, rows.size, step):
        chunk = rows[start:start + step]
        xa = a.x[chunk] - centre
        h = np.empty((chunk.size, b.n), dtype=dtype)
        col_step = block_rows(b.x.shape[1])
        for c0 in range(0, b.n, col_step):
            cols = slice(c0, min(c0 + col_step, b.n))
            h[:, cols] = xa @ (dtype.type(-2) * (b.x[cols] - centre)).T
        h += a.sq[chunk, None].astype(dtype)
        h += b.sq[None, :].astype(dtype)
        yield chunk, np.maximum(h, 0, out=h)


def _margin(loose: float, r2: np.ndarray) -> np.ndarray:
    """How far a bound must clear a radius to decide a ball test without measuring: four times the float32 tie
    tolerance (``loose``: the projection and the bounds are float32) plus a relative 1e-4."""
    return 4 * loose + 1e-4 * r2


def _list_end(dist: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per row, the searched-space distance no unlisted point is nearer than: the farthest listed one, or ``inf``
    when the index listed fewer than asked (it returned every point it holds near the query)."""
    full = (ids >= 0).all(axis=1)
    return np.where(full, dist.max(axis=1, initial=0.0), np.inf)


def _radii(side: Side, index: _Index, k: int, width: int, slack: float, loose: float, centre: np.ndarray,
           max_width: int, cut: list[int]) -> np.ndarray:
    """Squared distance from each point to its k-th nearest other point of the same set.

    The k candidates with the smallest lower bound are measured first; then every candidate whose lower bound is
    under the k-th distance so far, until none is. The radius is final when no point beyond the candidate list
    can be nearer (the list's farthest projected distance is past it); otherwise the search goes four times
    further, up to ``max_width`` candidates. A list still not certain there is *cut*: its k-th distance is kept
    (an upper bound of the radius) and counted in ``cut[0]``. Where the lists would cover the whole set, every
    point is compared.
    """
    r2 = np.empty(side.n, dtype=np.float32)
    for start in range(0, side.n, _CHUNK):  # bounded memory: the candidate arrays of one chunk of queries
        rows, w = np.arange(start, min(start + _CHUNK, side.n)), width
        while rows.size:
            if w >= side.n - 1:
                for chunk, h in _full_d2(side, rows, side, centre):
                    h[np.arange(chunk.size), chunk] = np.inf
                    r2[chunk] = np.partition(h, k - 1, axis=1)[:, k - 1]
                break
            dist, ids = index.search(side.p[rows], w + 1)
            valid = (ids >= 0) & (ids != rows[:, None])
            safe = np.where(valid, ids, 0)
            lower = np.where(valid, dist + (side.rho[rows, None] - side.rho[safe]) ** 2, np.inf)
            d2 = np.full(ids.shape, np.inf, dtype=np.float32)
            todo = np.zeros(ids.shape, dtype=bool)
            np.put_along_axis(todo, np.argpartition(lower, k - 1, axis=1)[:, :k], True, axis=1)
            todo &= valid
            measured = np.zeros(ids.shape, dtype=bool)
            while todo.any():
                r, c = np.nonzero(todo)
                d2[r, c] = _pair_d2(side, rows[r], side, ids[r, c])
                measured |= todo
                kth = np.partition(d2, k - 1, axis=1)[:, k - 1].astype(np.float64)
                todo = valid & ~measured & (lower - _margin(loose, kth)[:, None] <= kth[:, None])
            kth = np.partition(d2, k - 1, axis=1)[:, k - 1]
            reach = _list_end(dist, ids) - _margin(loose, kth)  # no unlisted point is nearer than this
            done = np.isfinite(kth) & ((reach >= kth - slack) | (kth <= slack))
            if 4 * w > max_width and 4 * w < side.n - 1:
                give_up = np.isfinite(kth) & ~done
                cut[0] += int(give_up.sum())
                done |= give_up
            r2[rows[done]] = kth[done]
            rows, w = rows[~done], 4 * w
    return r2


def _members(balls: Side, r2: np.ndarray, points: Side, index: _Index, width: int, slack: float, loose: float,
             centre: np.ndarray, max_width: int, cut: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """How many of ``points`` each ball (centre ``balls.x[i]``, squared radius ``r2[i]``) holds, and which points
    lie in at least one ball.

    Candidates come from the index; a candidate whose upper bound is inside the radius is counted, one whose lower
    bound is outside is not, and only the rest are measured in the full space. Every point of a ball is nearer
    than its radius, so a ball is complete when the candidate list reaches past the radius in the projection;
    otherwise its search goes four times further. A ball whose farthest quarter of candidates still holds members
    is big (a collapse piles samples into it): it is searched further, and past 1,024 candidates over every point.
    One whose farthest quarter holds none is only uncertain because the bounds are loose: past ``max_width``
    candidates its count is kept and it is counted in ``cut[0]``.
    """
    counts = np.zeros(balls.n, dtype=np.int64)
    held = np.zeros(points.n, dtype=bool)
    for start in range(0, balls.n, _CHUNK):
        rows, w = np.arange(start, min(start + _CHUNK, balls.n)), width
        while rows.size:
            if w >= min(points.n, 1024):
                for chunk, h in _full_d2(balls, rows, points, centre):
                    inside = h <= (r2[chunk] + slack)[:, None]
                    counts[chunk] = np.count_nonzero(inside, axis=1)
                    held |= inside.any(axis=0)
                break
            dist, ids = index.search(balls.p[rows], w)
            valid = ids >= 0
            safe = np.where(valid, ids, 0)
            a, b = balls.rho[rows, None], points.rho[safe]
            limit = r2[rows].astype(np.float64)[:, None]
            margin = _margin(loose, limit)
            inside = valid & (dist + (a + b) ** 2 + margin < limit)
            unsure = valid & ~inside & (dist + (a - b) ** 2 - margin <= limit)
            r, c = np.nonzero(unsure)
            inside[r, c] = _pair_d2(balls, rows[r], points, ids[r, c]) <= limit[r, 0] + slack
            done = _list_end(dist, ids) - margin[:, 0] > limit[:, 0] + slack
            if 4 * w > max_width:  # lists come nearest first: their last quarter is the farthest
                give_up = ~done & ~inside[:, -max(1, ids.shape[1] // 4):].any(axis=1)
                cut[0] += int(give_up.sum())
                done |= give_up
            counts[rows[done]] = np.count_nonzero(inside[done], axis=1)
            held[ids[done][inside[done]]] = True
            rows, w = rows[~done], 4 * w
    return counts, held


def prdc_approximate(real: np.ndarray, fake: np.ndarray, k: int = 5, *, dims: int = PROJECTION_DIMS,
                     candidates: int = CANDIDATES, projection: str = "pca", backend: str | None = None,
                     probes: int | None = None, max_candidates: int = MAX_CANDIDATES, seed: int = 0,
                     threads: int | None = None, progress: Progress | None = None) -> PRDC:
    """The four statistics from approximate neighbours (see the module notes), with standard errors.

    ``backend``: ``faiss-ivf`` (the default when faiss-cpu is installed: ``pip install 'gandiag[scale]'``),
    ``faiss`` (HNSW), ``usearch`` (HNSW), or ``brute`` (numpy matrix products in the projection; the default
    without faiss). ``probes``: inverted lists the IVF index scans per query (default :data:`IVF_PROBES`).
    Every ball test a candidate's bounds cannot decide is measured in the full space, so the error left is a
    neighbour the index did not list, or one beyond a list cut at ``max_candidates`` (the method string counts
    them). ``progress(done, 6)`` is called after each of the six stages.
    """
    if backend is None:
        backend = default_backend()
    rs, fs, centre = make_sides(real, fake, dims, projection, seed)
    return approximate(rs, fs, centre, k, backend=backend, dims=dims, projection=projection, candidates=candidates,
                        probes=probes, max_candidates=max_candidates, threads=threads, progress=progress)


def approximate(rs: Side, fs: Side, centre: np.ndarray, k: int, *, backend: str, dims: int, projection: str,
                candidates: int, probes: int | None, max_candidates: int, threads: int | None,
                progress: Progress | None, max_cut_share: float | None = None) -> PRDC:
    def stage(done: int) -> None:
        if progress is not None:
            progress(done, 6)

    d = rs.x.shape[1]
    biggest = max(float(rs.sq.max()), float(fs.sq.max()), 1e-30)
    slack = 128 * float(np.finfo(rs.x.dtype).eps) * biggest  # ties, as in the exact path
    loose = 128 * float(np.finfo(np.float32).eps) * biggest  # the float32 projection's resolution
    width = max(candidates, k + 1)
    stage(1)
    real_index = _Index(rs.p, backend, threads, probes)
    fake_index = _Index(fs.p, backend, threads, probes)
    stage(2)
    cut = [0]
    r2_real = _radii(rs, real_index, k, width, slack, loose, centre, max_candidates, cut)
    stage(3)
    r2_fake = _radii(fs, fake_index, k, width, slack, loose, centre, max_candidates, cut)
    if max_cut_share is not None and cut[0] > max_cut_share * (rs.n + fs.n):
        raise Uncertain(cut[0] / (rs.n + fs.n))
    stage(4)
    fakes_in_ball, in_real_ball = _members(rs, r2_real, fs, fake_index, width, slack, loose, centre,
                                           max_candidates, cut)
    stage(5)
    _, in_fake_ball = _members(fs, r2_fake, rs, real_index, width, slack, loose, centre, max_candidates, cut)
    stage(6)
    lists = 2 * (rs.n + fs.n)
    method = (f"approximate ({backend} on {projection} {min(dims, d)} dims, full-space distances; the projection "
              f"leaves {100 * share_left_out(rs, fs):.1f}% out; {cut[0]:,} of {lists:,} candidate lists cut at "
              f"{max_candidates})")
    return prdc_result(fakes_in_ball > 0, in_fake_ball, in_real_ball, fakes_in_ball, k, method, d)


class Uncertain(Exception):
    """The approximate path could not certify enough of its candidate lists (``args[0]``: the share cut)."""


def share_left_out(rs: Side, fs: Side) -> float:
    """Median share of a point's (centred) squared norm that the projection leaves out, over both sets."""
    share = np.concatenate([s.rho ** 2 / np.maximum(s.sq, 1e-30) for s in (rs, fs)])
    return float(np.median(share)) if share.size else 0.0
