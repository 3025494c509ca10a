"""The figure of a run while it trains: losses and accuracy so far beside the latest snapshot.

Drawn by :class:`gandiag.live.view.LiveView` a few times a minute at most, so
it is built to be cheap: a fixed layout (no constrained layout), long series
thinned to their minimum and maximum per bucket (spikes survive, a million
rows cost what 2,000 do), and the snapshot drawn as :mod:`.scatter` draws it
(axes fitted to the points and the reference) or as a grid of images.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gandiag.report import canvas

#: the most points drawn per series (as minimum and maximum of a bucket of rows)
MAX_POINTS = 2000


def thin(steps: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """``steps, values`` reduced to at most ``max_points``: each bucket of rows as its minimum then its maximum."""
    n = len(steps)
    if n <= max_points:
        return steps, values
    buckets = max_points // 2
    size = -(-n // buckets)
    pad = buckets * size - n
    v = np.concatenate([values, np.full(pad, np.nan)]).reshape(buckets, size)
    s = np.concatenate([steps, np.full(pad, steps[-1])]).reshape(buckets, size)
    with np.errstate(all="ignore"):
        finite = np.isfinite(v).any(axis=1)
        lo = np.where(finite, np.nanmin(np.where(np.isfinite(v), v, np.inf), axis=1), np.nan)
        hi = np.where(finite, np.nanmax(np.where(np.isfinite(v), v, -np.inf), axis=1), np.nan)
    return np.repeat(s[:, 0], 2), np.column_stack([lo, hi]).reshape(-1)


def draw_live(path: str | os.PathLike[str], columns: Mapping[str, np.ndarray], *, heading: str,
              snapshot: tuple[int, np.ndarray] | None = None, real: np.ndarray | None = None,
              samples_note: str = "no snapshot yet") -> Path:
    """Write the live figure: ``columns`` (``step`` and canonical series) on the left, the snapshot on the right."""
    from gandiag.report.figures import draw_series, legend_outside, show_mosaic, tile_mosaic
    from gandiag.report.scatter import draw_points, fit_window, is_image, plane_for

    plt = canvas.pyplot()
    fig = plt.figure(figsize=(12.5, 5.2))
    ax_loss = fig.add_axes((0.06, 0.53, 0.44, 0.36))
    ax_acc = fig.add_axes((0.06, 0.1, 0.44, 0.36), sharex=ax_loss)
    ax_snap = fig.add_axes((0.64, 0.1, 0.34, 0.79))
    steps = np.asarray(columns.get("step", np.arange(1, 1 + len(next(iter(columns.values()), [])))), dtype=float)
    thinned: dict[str, np.ndarray] = {}
    shown_steps = steps
    for name, values in columns.items():
        if name != "step":
            shown_steps, thinned[name] = thin(steps, np.asarray(values, dtype=float))
    draw_series(ax_loss, ax_acc, thinned, shown_steps)
    ax_loss.tick_params(labelbottom=False)
    ax_acc.set_xlabel("step")
    for ax in (ax_loss, ax_acc):
        legend_outside(ax)
    if snapshot is None:
        canvas.note(ax_snap, samples_note)
    else:
        step, samples = snapshot
        if is_image(samples):
            show_mosaic(ax_snap, tile_mosaic(np.asarray(samples)[:64], 8, 8))
            ax_snap.set_title(f"samples at step {step}", fontsize="small")
        else:
            plane = plane_for(real, [samples])
            fake2d = plane.project(samples)
            real2d = plane.project(real) if real is not None else None
            notes = draw_points(ax_snap, fit_window(real2d, fake2d), real2d, fake2d, size=3.0)
            if real is None:
                notes.insert(0, "no reference to compare with")
            ax_snap.set_title("\n".join([f"samples at step {step} (red; real data grey)"] + notes), fontsize="small")
            ax_snap.set_xlabel(plane.names[0], fontsize="x-small")
            ax_snap.set_ylabel(plane.names[1], fontsize="x-small")
            ax_snap.tick_params(labelsize=7)
    fig.suptitle(heading, fontsize="medium")
    return canvas.save(plt, fig, path)
