"""Precision, recall, density and coverage from every pair: the reference every faster path is measured against.

Three matrix products (real-real for the real balls, fake-fake for the fake
balls, real-fake for everything else) in row blocks, so the memory is a block,
never ``n x n``. float32 input above 32 dimensions is computed in float32 (as
every GPU and BLAS-based implementation does: features are float32), anything
else in float64. :class:`PRDC` is the result of every path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gandiag.infra.progress import Progress

#: Rows of a distance block: ``BLOCK_ELEMENTS / n`` rows at a time keeps every block near 64 MB in float32.
BLOCK_ELEMENTS = 16 * 1024 * 1024
FLOAT32_MIN_DIM = 32


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


def prdc_result(covered, in_fake_ball, in_real_ball, fakes_in_ball, k, method, dims) -> PRDC:
    """The statistics as means of per-point values: covered, in a fake ball, (fakes in the ball) per real point."""
    n_real, n_fake = covered.size, in_real_ball.size
    density_terms = fakes_in_ball * (n_real / (k * n_fake))  # density = mean over real balls of this
    return PRDC(
        precision=float(in_real_ball.mean()), recall=float(in_fake_ball.mean()),
        density=float(density_terms.mean()), coverage=float(covered.mean()),
        precision_se=_se(in_real_ball.astype(np.float64)), recall_se=_se(in_fake_ball.astype(np.float64)),
        density_se=_se(density_terms), coverage_se=_se(covered.astype(np.float64)),
        method=method, n_real=n_real, n_fake=n_fake, dims=dims)


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
    return np.float64 if real.shape[1] < FLOAT32_MIN_DIM or wide else np.float32


def block_rows(n_cols: int, budget: int | None = None) -> int:
    """Rows of a block of ``n_cols`` columns within ``budget`` elements (default and cap :data:`BLOCK_ELEMENTS`)."""
    budget = BLOCK_ELEMENTS if budget is None else min(budget, BLOCK_ELEMENTS)
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
    step = block_rows(n, budget)
    minus2 = x.dtype.type(-2)
    for start in range(0, n, step):
        sl = slice(start, min(start + step, n))
        h = (x[sl] * minus2) @ x.T
        h += norms[None, :]
        h[np.arange(h.shape[0]), np.arange(sl.start, sl.stop)] = np.inf
        out[sl] = np.partition(h, k - 1, axis=1)[:, k - 1] + norms[sl]
    return np.maximum(out, 0, out=out)


def prdc_exact(real: np.ndarray, fake: np.ndarray, k: int = 5, *, progress: Progress | None = None) -> PRDC:
    """Precision, recall, density and coverage from every pair of points (see the module notes)."""
    dims = real.shape[1]
    dtype = _working_dtype(real, fake)
    fr = _Frame(real, fake, dtype)
    budget = _budget(fr.real, fr.fake)
    n_real, n_fake = fr.real.shape[0], fr.fake.shape[0]
    total = float(n_real * n_real + n_fake * n_fake + n_real * n_fake)  # pairs compared
    r2_real = _kth_radius2(fr.real, fr.nr, k, budget)
    if progress is not None:
        progress(n_real * n_real, total)
    r2_fake = _kth_radius2(fr.fake, fr.nf, k, budget)
    if progress is not None:
        progress(n_real * n_real + n_fake * n_fake, total)
    covered = np.empty(n_real, dtype=bool)
    in_fake_ball = np.empty(n_real, dtype=bool)
    fakes_in_ball = np.empty(n_real, dtype=np.int64)
    in_real_ball = np.zeros(n_fake, dtype=bool)
    fake_limit = (r2_fake + dtype(fr.slack) - fr.nf)[None, :]  # d2 <= r2_fake  <=>  |x|^2 - 2 x.y <= r2_fake - |y|^2
    step = block_rows(n_fake, budget)
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
        if progress is not None:
            progress(n_real * n_real + n_fake * n_fake + sl.stop * n_fake, total)
    return prdc_result(covered, in_fake_ball, in_real_ball, fakes_in_ball, k, "exact", dims)
