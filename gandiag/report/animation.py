"""An animated GIF of a run's snapshots: the generator's points moving over the data, frame by frame.

Each frame is drawn by matplotlib (the same panels as :mod:`.evolution`: points
over the grey reference on fitted axes, or a grid of samples beside a grid of
real ones) and the frames are joined by pillow. One frame per snapshot, up to
:data:`MAX_FRAMES` (evenly spaced beyond that, with the onset's); the last
frame is held longer so the end of the run can be read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gandiag.report import canvas
from gandiag.report.evolution import MOSAIC_SIDE, ONSET_COLOUR, onset_snapshot, pick_steps
from gandiag.report.scatter import is_image, point_frames

#: the most frames in one GIF
MAX_FRAMES = 120
#: how long each frame shows, and the last one (milliseconds)
FRAME_MS = 600
LAST_FRAME_MS = 2400
#: pixels per inch of the frames (a 4.4 x 4.6 inch frame is 352 x 368 pixels)
FRAME_DPI = 80


def write_gif(snaps: Mapping[int, Any], real: Any, path: str | os.PathLike[str], *, heading: str | None = None,
              onset_step: int | None = None) -> Path:
    """Write an animated GIF with one frame per snapshot (up to :data:`MAX_FRAMES`); returns its path."""
    plt = canvas.pyplot()
    steps = pick_steps(list(snaps), onset_step, MAX_FRAMES)
    onset = onset_snapshot(steps, onset_step)
    if is_image(snaps[steps[0]]):
        frames = _image_frames(plt, snaps, steps, real, onset, heading)
    else:
        frames = _point_frames(plt, snaps, steps, real, onset, heading)
    return _save_gif(frames, Path(path))


def _grab(fig: Any) -> Any:
    from PIL import Image

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return Image.fromarray(rgba[..., :3].copy()).quantize(colors=64, method=Image.Quantize.FASTOCTREE,
                                                           dither=Image.Dither.NONE)


def _label(step: int, onset: int | None, extra: str = "") -> tuple[str, str]:
    return f"step {step}" + (": onset" if step == onset else "") + extra, ONSET_COLOUR if step == onset else "black"


def _point_frames(plt: Any, snaps: Mapping[int, Any], steps: list[int], real: Any, onset: int | None,
                  heading: str | None) -> list[Any]:
    """One figure whose artists are updated per frame (a fresh layout per frame would cost 5x the drawing)."""
    from gandiag.report.scatter import FAKE_COLOUR, REAL_COLOUR, point_notes, split_far

    plane, real2d, frames = point_frames(snaps, steps, real)
    fig = plt.figure(figsize=(4.4, 4.8), dpi=FRAME_DPI)
    ax = fig.add_axes((0.15, 0.17, 0.8, 0.7))
    if heading:
        fig.suptitle(heading, fontsize="small")
    ax.set_aspect("equal", adjustable="box")
    ax.tick_params(labelsize=7)
    ax.locator_params(nbins=5)
    ax.set_ylabel(plane.names[1], fontsize="x-small")
    layers = {}
    for label, colour, z in (("real", REAL_COLOUR, 1), ("generated", FAKE_COLOUR, 3)):
        layers[label] = (ax.scatter([], [], s=3.0, c=colour, alpha=0.55 if z == 1 else 0.7, linewidths=0, zorder=z),
                         ax.scatter([], [], s=18.0, c=colour, marker="x", linewidths=1.0, zorder=z + 1))
    if real2d is None:
        ax.text(0.5, 0.98, "no reference: pass --real", transform=ax.transAxes, ha="center", va="top",
                fontsize="x-small", color="0.3")
    title = ax.set_title("", fontsize="small")
    images = []
    try:
        for frame in frames:
            ax.set_xlim(*frame.window.x)
            ax.set_ylim(*frame.window.y)
            notes = []
            for label, points in (("real", real2d), ("generated", frame.points)):
                inside, edge, nonfinite = split_far(frame.window, points)
                layers[label][0].set_offsets(inside)
                layers[label][1].set_offsets(edge)
                notes += point_notes(label, len(edge), nonfinite)
            text, colour = _label(frame.step, onset, " (own axes)" if frame.own else "")
            title.set_text(text)
            title.set_color(colour)
            ax.set_xlabel("\n".join([plane.names[0]] + notes), fontsize="x-small")
            images.append(_grab(fig))
    finally:
        plt.close(fig)
    return images


def _image_frames(plt: Any, snaps: Mapping[int, Any], steps: list[int], real: Any, onset: int | None,
                  heading: str | None) -> list[Any]:
    from gandiag.report.figures import show_mosaic, tile_mosaic

    side = MOSAIC_SIDE + 1
    fig, (ax_fake, ax_real) = plt.subplots(1, 2, figsize=(5.6, 3.3), dpi=FRAME_DPI)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.82, wspace=0.06)
    images = []
    try:
        if real is not None:
            show_mosaic(ax_real, tile_mosaic(np.asarray(real)[: side * side], side, side))
            ax_real.set_title("real data", fontsize="small")
        else:
            canvas.note(ax_real, "no reference:\npass --real", fontsize="small")
        if heading:
            fig.suptitle(heading, fontsize="small")
        shown = None
        for step in steps:
            mosaic = tile_mosaic(np.asarray(snaps[step])[: side * side], side, side)
            if shown is None:
                show_mosaic(ax_fake, mosaic)
                shown = ax_fake.images[0]
            else:
                shown.set_data(mosaic)
            label, colour = _label(step, onset)
            ax_fake.set_title(label, fontsize="small", color=colour)
            images.append(_grab(fig))
    finally:
        plt.close(fig)
    return images


def _save_gif(frames: list[Any], path: Path) -> Path:
    """Join the frames into a looping GIF, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.gif")
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   disposal=1, optimize=False)
    os.replace(tmp, path)
    return path
