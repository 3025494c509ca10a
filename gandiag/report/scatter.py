"""Generated points over the real data, on axes that fit both.

The window is fitted to the real and the generated points together, not fixed:
data of radius 2, or scaled by 0.1 or 10, fills its plot. It holds at least 99%
of each cloud's finite points (:data:`INSIDE`): a point counts as a *far
outlier* only when it lies more than :data:`FAR` times farther from the centre
than 99% of its cloud (measured in the data's own spread, per axis), and far
outliers are drawn as crosses at the edge of the axes and counted in the plot,
never dropped silently. Both axes have the same scale (a circle looks round)
and the reference is drawn first, in grey, beneath the generated points.

Samples of more than two values are shown on the first two principal axes of
the reference (or, without one, of the last snapshot), and the axes say so:
``PC1 of the real data (41% of its variance)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: the share of each cloud's finite points every window holds at least
INSIDE = 0.99
#: a point this many times farther out than 99% of its cloud is a far outlier, marked at the edge
FAR = 2.0
#: margin around the points, as a share of the larger span
PAD = 0.06
#: a snapshot whose own window is this many times wider than the typical snapshot's gets its own axes
OWN_AXES = 2.0
#: rows used to fit a projection (a seeded subsample of larger references)
FIT_ROWS = 2000
REAL_COLOUR = "0.6"
FAKE_COLOUR = "tab:red"


@dataclass(frozen=True)
class Plane:
    """How samples are shown on two axes: their two values, or their projection on two principal axes."""

    names: tuple[str, str]
    mean: np.ndarray | None = None
    basis: np.ndarray | None = None  # (values per sample, 2)

    def project(self, samples: Any) -> np.ndarray:
        """``(n, 2)`` coordinates of ``samples`` (rows with NaN or inf stay non-finite)."""
        x = np.asarray(samples, dtype=np.float64)
        x = x.reshape(len(x), -1)
        if self.basis is None:
            return x[:, :2] if x.shape[1] >= 2 else np.column_stack([x[:, 0], np.zeros(len(x))])
        with np.errstate(invalid="ignore", over="ignore"):
            return (x - self.mean) @ self.basis

    @property
    def projected(self) -> bool:
        return self.basis is not None


def plane_for(real: Any, snapshots: Sequence[Any]) -> Plane:
    """Identity for 2-D points; otherwise the first two principal axes of the reference (or the last snapshot)."""
    first = real if real is not None else (snapshots[-1] if len(snapshots) else None)
    if first is None:
        return Plane(("x1", "x2"))
    x = np.asarray(first, dtype=np.float64)
    x = x.reshape(len(x), -1)
    if x.shape[1] <= 2:
        return Plane(("x1", "x2") if x.shape[1] == 2 else ("x1", ""))
    what = "the real data" if real is not None else "the last snapshot"
    x = x[np.isfinite(x).all(axis=1)]
    if len(x) > FIT_ROWS:
        x = x[np.sort(np.random.default_rng(0).choice(len(x), FIT_ROWS, replace=False))]
    if len(x) < 3:
        basis = np.eye(x.shape[1])[:, :2]
        return Plane(("value 1", "value 2"), np.zeros(x.shape[1]), basis)
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    share = s**2 / max(float(np.sum(s**2)), 1e-300)
    names = tuple(f"PC{i + 1} of {what} ({share[i]:.0%} of its variance)" for i in range(2))
    return Plane(names, mean, vt[:2].T.copy())  # type: ignore[arg-type]


def finite_rows(points: np.ndarray | None) -> np.ndarray:
    if points is None:
        return np.empty((0, 2))
    return points[np.isfinite(points).all(axis=1)]


@dataclass(frozen=True)
class Window:
    """The axes' limits."""

    x: tuple[float, float]
    y: tuple[float, float]

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Which rows lie within the limits (non-finite rows do not)."""
        p = np.asarray(points, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return ((p[:, 0] >= self.x[0]) & (p[:, 0] <= self.x[1]) & (p[:, 1] >= self.y[0])
                    & (p[:, 1] <= self.y[1]))

    def share_inside(self, points: np.ndarray | None) -> float:
        """The share of the finite rows within the limits (1.0 when there are none)."""
        p = finite_rows(points)
        return float(self.inside(p).mean()) if len(p) else 1.0

    @property
    def span(self) -> float:
        return max(self.x[1] - self.x[0], self.y[1] - self.y[0])

    def union(self, other: Window) -> Window:
        return Window((min(self.x[0], other.x[0]), max(self.x[1], other.x[1])),
                      (min(self.y[0], other.y[0]), max(self.y[1], other.y[1])))

    def squared(self) -> Window:
        """The same centre, both spans the larger one: square panels at equal scale."""
        half = self.span / 2
        cx, cy = sum(self.x) / 2, sum(self.y) / 2
        return Window((cx - half, cx + half), (cy - half, cy + half))

    def edge(self, points: np.ndarray) -> np.ndarray:
        """Points moved onto the border of the window (where far outliers are marked)."""
        inset = 0.015 * self.span
        return np.column_stack([np.clip(points[:, 0], self.x[0] + inset, self.x[1] - inset),
                                np.clip(points[:, 1], self.y[0] + inset, self.y[1] - inset)])


def fit_window(*clouds: np.ndarray | None) -> Window:
    """Square limits holding at least 99% of each cloud's finite points; only far outliers fall outside."""
    pts = [p for p in (finite_rows(c) for c in clouds) if len(p)]
    if not pts:
        return Window((-1.0, 1.0), (-1.0, 1.0))
    every = np.vstack(pts)
    centre = np.median(every, axis=0)
    spread = np.quantile(every, 0.95, axis=0) - np.quantile(every, 0.05, axis=0)
    tiny = 1e-9 * max(float(np.abs(centre).max()), 1.0)
    spread = np.where(spread > tiny, spread, max(float(spread.max()), tiny))

    def reach(p: np.ndarray) -> np.ndarray:
        return np.max(np.abs(p - centre) / spread, axis=1)

    limit = FAR * max(float(np.quantile(reach(p), INSIDE, method="higher")) for p in pts)
    kept = np.vstack([p[reach(p) <= limit] for p in pts])
    lo, hi = kept.min(axis=0), kept.max(axis=0)
    pad = PAD * max(float((hi - lo).max()), float(spread.max()) * 0.1, tiny)
    return Window((lo[0] - pad, hi[0] + pad), (lo[1] - pad, hi[1] + pad)).squared()


def windows_for(real: np.ndarray | None, snapshots: Sequence[np.ndarray]) -> list[tuple[Window, bool]]:
    """One window per snapshot: shared by the snapshots of a typical extent (and any other it holds), a far wider
    one on its own axes.

    Returns ``(window, own)`` pairs; every window holds at least 99% of the
    reference's and its snapshot's finite points.
    """
    own = [fit_window(real, s) for s in snapshots]
    if not own:
        return []
    typical = float(np.median([w.span for w in own]))
    group = [i for i, w in enumerate(own) if w.span <= OWN_AXES * typical]
    shared = own[group[0]]
    for i in group[1:]:
        shared = shared.union(own[i])
    shared = shared.squared()
    fits = {i for i, s in enumerate(snapshots)  # a wide snapshot that the shared axes hold anyway shares them
            if i in group or min(shared.share_inside(s), shared.share_inside(real)) >= INSIDE}
    return [(shared, False) if i in fits else (w, True) for i, w in enumerate(own)]


@dataclass(frozen=True)
class Frame:
    """One snapshot on the plane: its step, its points and the window it is drawn in (``own``: not the shared one)."""

    step: int
    points: np.ndarray
    window: Window
    own: bool


def point_frames(snaps: Mapping[int, Any], steps: Sequence[int],
                 real: Any) -> tuple[Plane, np.ndarray | None, list[Frame]]:
    """The plane, the reference on it and one frame per step (windows as :func:`windows_for` shares them)."""
    plane = plane_for(real, [snaps[s] for s in steps])
    real2d = plane.project(real) if real is not None else None
    points = [plane.project(snaps[s]) for s in steps]
    windows = windows_for(real2d, points)
    return plane, real2d, [Frame(int(s), p, w, own) for s, p, (w, own) in zip(steps, points, windows)]


def is_image(samples: Any) -> bool:
    """Snapshots of images (``n x h x w`` or ``n x h x w x c``) are shown as grids, others as points."""
    return np.ndim(samples) >= 3


def split_far(window: Window, points: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """``(inside, far outliers moved to the edge, non-finite count)`` of ``points`` for ``window``."""
    if points is None:
        return np.empty((0, 2)), np.empty((0, 2)), 0
    finite = finite_rows(points)
    inside = window.inside(finite)
    return finite[inside], window.edge(finite[~inside]), len(points) - len(finite)


def draw_points(ax: Any, window: Window, real: np.ndarray | None, fake: np.ndarray | None, *,
                size: float = 4.0) -> list[str]:
    """Reference (grey, beneath) and generated points (red) within ``window``; far outliers as crosses at the edge.

    Returns what the reader must be told (``3 generated beyond the axes``, non-finite samples not drawn), for the
    caller to print beside the panel, where it hides no point.
    """
    ax.set_xlim(*window.x)
    ax.set_ylim(*window.y)
    ax.set_aspect("equal", adjustable="box")
    notes = []
    for points, colour, label, z in ((real, REAL_COLOUR, "real", 1), (fake, FAKE_COLOUR, "generated", 3)):
        if points is None:
            continue
        inside, edge, nonfinite = split_far(window, points)
        ax.scatter(inside[:, 0], inside[:, 1], s=size, c=colour, alpha=0.55 if z == 1 else 0.7,
                   linewidths=0, label=f"{label} ({len(points):,})", zorder=z)
        if len(edge):
            ax.scatter(edge[:, 0], edge[:, 1], s=size * 6, c=colour, marker="x", linewidths=1.0, zorder=z + 1)
        notes += point_notes(label, len(edge), nonfinite)
    return notes


def point_notes(label: str, far: int, nonfinite: int) -> list[str]:
    """What a panel says about the points it could not show where they are."""
    return ([f"{far} {label} beyond the axes (x at the edge)"] if far else []) + (
        [f"{nonfinite} {label} not finite, not drawn"] if nonfinite else [])


def plot_points(samples: Any, real: Any, path: str | os.PathLike[str], *, title: str | None = None,
                plane: Plane | None = None) -> Path:
    """One snapshot's generated points over the reference, on axes fitted to both (projected beyond 2-D)."""
    from gandiag.report import canvas

    plt = canvas.pyplot()
    plane = plane or plane_for(real, [samples])
    fake2d = plane.project(samples)
    real2d = plane.project(real) if real is not None else None
    fig = plt.figure(figsize=(5.2, 5.6))
    ax = fig.add_axes((0.15, 0.15, 0.8, 0.7))  # a fixed layout: a constrained one costs more than the points
    notes = draw_points(ax, fit_window(real2d, fake2d), real2d, fake2d)
    ax.set_xlabel(plane.names[0], fontsize="small" if plane.projected else "medium")
    ax.set_ylabel(plane.names[1], fontsize="small" if plane.projected else "medium")
    ax.grid(alpha=0.25)
    if real is None:
        notes.insert(0, "no reference: pass --real to compare with the data")
    fig.legend(loc="lower center", ncol=2, fontsize="small", markerscale=2.5, frameon=False)
    heading = "\n".join(([title] if title else []) + notes)
    if heading:
        ax.set_title(heading, fontsize="small")
    return canvas.save(plt, fig, path)
