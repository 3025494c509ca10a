"""A run's evolution at a glance: small multiples of its snapshots, the onset and the verdict marked.

Points are drawn as :mod:`.scatter` draws them (the reference in grey beneath,
axes fitted to the data, shared by the snapshots of a typical extent so their
panels compare directly; a snapshot far wider than the others gets its own and
says so). Images are a grid of the first samples per snapshot, beside a grid of
real ones. Runs with more snapshots than :data:`MAX_PANELS` show that many,
evenly spaced, always with the first, the last and the onset's.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gandiag.report import canvas
from gandiag.report.scatter import FAKE_COLOUR, REAL_COLOUR, draw_points, finite_rows, is_image, point_frames

#: the most snapshots drawn in one figure
MAX_PANELS = 24
#: tiles per side of an image panel (the first 16 samples of a snapshot)
MOSAIC_SIDE = 4
ONSET_COLOUR = "tab:red"


def onset_snapshot(steps: Sequence[int], onset_step: int | None) -> int | None:
    """The first snapshot at or after the onset (the last one when the onset is later than every snapshot)."""
    if onset_step is None or not steps:
        return None
    after = [s for s in steps if s >= onset_step]
    return after[0] if after else steps[-1]


def pick_steps(steps: Sequence[int], onset_step: int | None, limit: int = MAX_PANELS) -> list[int]:
    """All the steps, or ``limit`` of them evenly spaced with the first, the last and the onset's snapshot."""
    steps = sorted(steps)
    if len(steps) <= limit:
        return steps
    chosen = [steps[i] for i in np.unique(np.round(np.linspace(0, len(steps) - 1, limit)).astype(int))]
    onset = onset_snapshot(steps, onset_step)
    if onset is not None and onset not in chosen:
        inner = range(1, len(chosen) - 1)
        nearest = min(inner, key=lambda i: abs(chosen[i] - onset))
        chosen[nearest] = onset
    return sorted(set(chosen))


def _grid(n: int) -> tuple[int, int]:
    cols = n if n <= 4 else min(6, math.ceil(math.sqrt(n * 1.5)))
    return math.ceil(n / cols), cols


def _mark_onset(ax: Any) -> None:
    for spine in ax.spines.values():
        spine.set_color(ONSET_COLOUR)
        spine.set_linewidth(2.0)


def plot_evolution(snaps: Mapping[int, Any], real: Any, path: str | os.PathLike[str], *,
                   heading: str | None = None, onset_step: int | None = None) -> Path:
    """Every snapshot (up to :data:`MAX_PANELS`) in one figure; the onset's panel framed in red."""
    plt = canvas.pyplot()
    steps = pick_steps(list(snaps), onset_step)
    onset = onset_snapshot(steps, onset_step)
    images = is_image(snaps[steps[0]])
    n = len(steps) + (1 if images else 0)
    rows, cols = _grid(n)
    fig, axes = _panels(plt, rows, cols, images)
    flat = list(axes.reshape(-1))
    for ax in flat[n:]:
        ax.set_axis_off()
    if images:
        _image_panels(flat[:n], snaps, steps, real, onset)
    else:
        _point_panels(fig, flat[:n], snaps, steps, real, onset)
    if heading:
        fig.suptitle(heading, fontsize="medium")
    return canvas.save(plt, fig, path)


#: inches: a panel's side, the room between panels (ticks and titles) and around them (title, legend)
PANEL, GAP_X, GAP_Y, LEFT, RIGHT, TOP, BOTTOM = 2.1, 0.45, 0.7, 0.45, 0.15, 0.7, 0.85


def _panels(plt: Any, rows: int, cols: int, images: bool) -> tuple[Any, np.ndarray]:
    """A grid of square panels laid out by fixed margins (a constrained layout of 24 panels costs a second)."""
    gap_x, gap_y = (0.1, 0.35) if images else (GAP_X, GAP_Y)
    width = LEFT + cols * PANEL + (cols - 1) * gap_x + RIGHT
    height = TOP + rows * PANEL + (rows - 1) * gap_y + (0.3 if images else BOTTOM)
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(left=LEFT / width, right=1 - RIGHT / width, top=1 - TOP / height,
                        bottom=(0.3 if images else BOTTOM) / height, wspace=gap_x / PANEL, hspace=gap_y / PANEL)
    return fig, axes


def _title(step: int, onset: int | None, extra: str = "") -> tuple[str, str]:
    label = f"step {step}" + (": onset" if step == onset else "") + extra
    return label, ONSET_COLOUR if step == onset else "black"


def _point_panels(fig: Any, axes: list[Any], snaps: Mapping[int, Any], steps: list[int], real: Any,
                  onset: int | None) -> None:
    from matplotlib.lines import Line2D

    plane, real2d, frames = point_frames(snaps, steps, real)
    cols = axes[0].get_gridspec().ncols
    for i, (ax, frame) in enumerate(zip(axes, frames)):
        notes = draw_points(ax, frame.window, real2d, frame.points, size=2.0)
        label, colour = _title(frame.step, onset, " (own axes)" if frame.own else "")
        ax.set_title(label, fontsize="small", color=colour)
        ax.locator_params(nbins=4)
        # shared axes are labelled once, on the left column and the bottom panels: the texts are most of the cost
        below = i + cols < len(frames) and not frames[i + cols].own
        ax.tick_params(labelsize=6, length=2, pad=1, labelleft=frame.own or i % cols == 0,
                       labelbottom=frame.own or not below)
        if notes:
            ax.set_xlabel("\n".join(notes), fontsize="x-small")
        if frame.step == onset:
            _mark_onset(ax)
    handles = [Line2D([], [], ls="", marker="o", ms=4, color=FAKE_COLOUR, label="generated")]
    if real2d is not None:
        handles.insert(0, Line2D([], [], ls="", marker="o", ms=4, color=REAL_COLOUR, label="real data"))
    else:
        handles.append(Line2D([], [], ls="", label="no reference: pass --real to compare with the data"))
    if any(not f.window.inside(finite_rows(f.points)).all() for f in frames):
        handles.append(Line2D([], [], ls="", marker="x", ms=5, color=FAKE_COLOUR, label="beyond the axes, at the edge"))
    axes_named = f"horizontal: {plane.names[0]}; vertical: {plane.names[1]}" if plane.projected else None
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize="small", frameon=False,
               title=axes_named, title_fontsize="small", borderaxespad=0.2)


def _image_panels(axes: list[Any], snaps: Mapping[int, Any], steps: list[int], real: Any, onset: int | None) -> None:
    from gandiag.report.figures import show_mosaic, tile_mosaic

    side = MOSAIC_SIDE
    if real is not None:
        show_mosaic(axes[0], tile_mosaic(np.asarray(real)[: side * side], side, side))
        axes[0].set_title("real data", fontsize="small")
    else:
        canvas.note(axes[0], "no reference:\npass --real\nto compare with\nthe data", fontsize="small")
    for ax, step in zip(axes[1:], steps):
        show_mosaic(ax, tile_mosaic(np.asarray(snaps[step])[: side * side], side, side))
        label, colour = _title(step, onset)
        ax.set_title(label, fontsize="small", color=colour)
        if step == onset:
            _mark_onset(ax)
