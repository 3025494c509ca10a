"""Precision, recall, density and coverage at the scale real GANs are judged (tens of thousands of samples).

Two ways to the same four statistics (definitions in :mod:`gandiag.samples.diversity` and docs/diversity.md):
:func:`prdc_exact` (:mod:`.knn_exact`) compares every pair and is the reference of every benchmark;
:func:`prdc_approximate` (:mod:`.knn_approx`) searches a projection with an index and certifies what it finds with
bounds. :func:`prdc_auto` (``method="auto"``) chooses between them, here.

Each statistic is a mean over points (coverage, recall and density over real points -- density as the number of
generated points in each real ball times ``n_real / (k n_fake)`` --, precision over generated ones) and comes with
its standard error at the size it was computed (``*_se``): the spread of the per-point values over the square root
of their number. It is the sampling uncertainty of the statistic for sets of this size, which is what decides
whether two values differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gandiag.infra.progress import Progress
from gandiag.samples.knn_approx import (
    CANDIDATES,
    MAX_CANDIDATES,
    PROJECTION_DIMS,
    Uncertain,
    approximate,
    default_backend,
    make_sides,
    prdc_approximate,
    share_left_out,
)
from gandiag.samples.knn_exact import PRDC, prdc_exact

#: ``method="auto"`` uses the approximate path when ``n_real * n_fake * dims`` (the exact path's work) is above this
#: and faiss is installed: measured on 2 cores, the approximate path is faster from about 5,000 x 512 or 3,000 x
#: 2,048 on (docs/diversity.md, "Scaling"); below, every pair is compared.
AUTO_APPROXIMATE_WORK = 1e10
#: ``method="auto"`` also needs the projection to keep the data: above this median share of a point's squared norm
#: (centred) left out of the 128-dimension projection, the bounds are too loose to decide ball tests and the
#: candidate lists too short to be certain; the approximate path was measured within 0.01 of exact at 1.4-1.8%
#: and 0.04 off (and slower than exact) at 15-19% (docs/diversity.md), so there every pair is compared instead.
RESIDUAL_LIMIT = 0.05
#: And where, once the radii are found, more than this share of their candidate lists could not be certified (cut at
#: :data:`MAX_CANDIDATES`), ``auto`` gives up the approximate path and compares every pair. Measured: 0.07-0.5% cut
#: where it was within 0.0001 of exact, 58% where it was 0.016 off (docs/diversity.md).
CUT_LIMIT = 0.05

__all__ = ["AUTO_APPROXIMATE_WORK", "CUT_LIMIT", "PRDC", "PROJECTION_DIMS", "RESIDUAL_LIMIT", "auto_method",
           "default_backend", "prdc_approximate", "prdc_auto", "prdc_exact"]


def auto_method(n_real: int, n_fake: int, dims: int) -> str:
    """``"approximate"`` or ``"exact"``: what ``method="auto"`` considers for sets of these sizes (before looking at
    the data: :func:`prdc_auto` still compares every pair when the projection leaves too much out)."""
    if n_real * n_fake * dims > AUTO_APPROXIMATE_WORK and default_backend() == "faiss-ivf":
        return "approximate"
    return "exact"


def prdc_auto(real: np.ndarray, fake: np.ndarray, k: int = 5, *, seed: int = 0,
              progress: Progress | None = None) -> PRDC:
    """``method="auto"``: the approximate path where it is faster and its projection keeps the data (at most
    :data:`RESIDUAL_LIMIT` of the squared norm left out), every pair otherwise. ``PRDC.method`` says which, and
    why when the projection decided."""
    if auto_method(real.shape[0], fake.shape[0], real.shape[1]) == "exact":
        return prdc_exact(real, fake, k, progress=progress)
    rs, fs, centre = make_sides(real, fake, PROJECTION_DIMS, "pca", seed)
    left_out = share_left_out(rs, fs)
    if left_out > RESIDUAL_LIMIT:
        why = (f"exact: the {PROJECTION_DIMS}-dimension projection leaves {100 * left_out:.0f}% of the data out, more "
               f"than the {100 * RESIDUAL_LIMIT:.0f}% the approximate path was measured within 0.01 at")
        return dataclasses.replace(prdc_exact(real, fake, k, progress=progress), method=why)
    try:
        return approximate(rs, fs, centre, k, backend=default_backend(), dims=PROJECTION_DIMS, projection="pca",
                            candidates=CANDIDATES, probes=None, max_candidates=MAX_CANDIDATES, threads=None,
                            progress=progress, max_cut_share=CUT_LIMIT)
    except Uncertain as uncertain:
        why = (f"exact: the approximate path could not certify {100 * uncertain.args[0]:.0f}% of its nearest-"
               f"neighbour lists, more than the {100 * CUT_LIMIT:.0f}% it was measured within 0.01 at")
        return dataclasses.replace(prdc_exact(real, fake, k, progress=progress), method=why)
