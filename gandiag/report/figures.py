"""Figures: the tutorial's two-panel history plot, sample grids and 2D scatters.

matplotlib is imported lazily (``Agg`` backend, :mod:`.canvas`) inside each
function. The scatter's fitted axes are :mod:`.scatter`'s; the figures of a
run's evolution and of what the sample rules read are :mod:`.evolution`,
:mod:`.animation` and :mod:`.sample_stats`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gandiag.report import canvas

#: (column, legend label) for the top (loss) and bottom (accuracy) panels, as in the tutorial
LOSS_SERIES = (("d_loss_real", "d-real"), ("d_loss_fake", "d-fake"), ("d_loss", "d"), ("g_loss", "gen"))
ACC_SERIES = (("d_acc_real", "acc-real"), ("d_acc_fake", "acc-fake"), ("d_acc", "acc"))


def _as_columns(history: Any) -> dict[str, np.ndarray]:
    """Accept a CSV path, a pandas DataFrame, a mapping of arrays or a RunHistory-like object."""
    if isinstance(history, (str, os.PathLike)):
        import pandas as pd

        history = pd.read_csv(history)
    if hasattr(history, "columns") and hasattr(history, "to_numpy") and not isinstance(history, Mapping):
        return {str(c): history[c].to_numpy(dtype=float) for c in history.columns}
    if isinstance(history, Mapping):
        return {str(k): np.asarray(v, dtype=float) for k, v in history.items()}
    series = getattr(history, "series", None)
    steps = getattr(history, "steps", None)
    if isinstance(series, Mapping) and steps is not None:
        cols = {str(k): np.asarray(v, dtype=float) for k, v in series.items()}
        cols["step"] = np.asarray(steps, dtype=float)
        return cols
    raise TypeError(f"cannot plot a history of type {type(history).__name__}")


#: one colour per series on every figure: real is blue, fake orange, combined purple, generator green
SERIES_COLOURS = {"d_loss_real": "tab:blue", "d_loss_fake": "tab:orange", "d_loss": "tab:purple",
                  "g_loss": "tab:green", "d_acc_real": "tab:blue", "d_acc_fake": "tab:orange", "d_acc": "tab:purple"}
#: colours of the rule lanes, by first appearance of each label: none of them is a series colour
SPAN_COLOURS = ("tab:red", "tab:olive", "tab:cyan", "tab:brown", "tab:pink", "tab:gray", "gold", "teal", "navy",
                "salmon")
ONSET_COLOUR = "black"


def span_colours(spans: Iterable[tuple[float, float, str]]) -> dict[str, str]:
    """The same label (a rule) gets the same colour on all of its episodes."""
    colours: dict[str, str] = {}
    for _, _, label in spans:
        if label not in colours:
            colours[label] = SPAN_COLOURS[len(colours) % len(SPAN_COLOURS)]
    return colours


def legend_outside(ax: Any) -> None:
    """Legends go right of the axes: inside they hide the curves a reader came to see."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0.0)


def plot_history(history: Any, path: str | os.PathLike[str], *, title: str | None = None,
                 spans: Iterable[tuple[float, float, str]] = (), onset_step: float | None = None) -> Path:
    """The tutorial's figure: losses (top) and discriminator accuracy (bottom) against step.

    The harness writes it after training and ``gandiag report`` writes it with
    the findings on it: one implementation, so both look the same. Rule spans
    get a lane each in a strip under the two panels (code on the left, name on
    the right): shaded on top of the curves, several overlapping rules turn the
    panels into one brown block.

    Parameters
    ----------
    history : path to history.csv, DataFrame, mapping of arrays, or object with ``steps``/``series``
    path : output PNG
    title : figure title
    spans : (start_step, end_step, label) episodes; a label such as
        ``"GD101 discriminator-loss-vanishes"`` names its lane (the first word
        on the left, the rest on the right), and episodes with the same label share it
    onset_step : step of a vertical dashed line through every panel (e.g. the verdict's onset)
    """
    plt = canvas.pyplot()
    cols = _as_columns(history)
    n = len(next(iter(cols.values()))) if cols else 0
    steps = cols.get("step", np.arange(1, n + 1, dtype=float))
    spans = list(spans)
    lanes = list(span_colours(spans))
    heights = [3.0, 2.0] + ([0.3 * len(lanes) + 0.3] if lanes else [])
    fig, axes = plt.subplots(len(heights), 1, figsize=(10, sum(heights) + 1.0), sharex=True,
                             layout="constrained", gridspec_kw={"height_ratios": heights})
    ax_loss, ax_acc = axes[0], axes[1]
    draw_series(ax_loss, ax_acc, cols, steps)
    if lanes:
        _rule_lanes(axes[2], spans, lanes)
    for ax in axes:
        if onset_step is not None:
            ax.axvline(onset_step, color=ONSET_COLOUR, linestyle="--", linewidth=1.2,
                       label=f"onset (step {onset_step:g})" if ax is ax_loss else None)
    for ax in (ax_loss, ax_acc):
        legend_outside(ax)
    axes[-1].set_xlabel("step")
    if title:
        fig.suptitle(title)
    return canvas.save(plt, fig, path)


def draw_series(ax_loss: Any, ax_acc: Any, cols: Mapping[str, np.ndarray], steps: np.ndarray) -> None:
    """The losses and the accuracies of ``cols`` (canonical names) against ``steps`` on two panels; a panel
    without any says so; a diverging run's losses on a symlog scale; non-finite losses shaded from where they start."""
    losses = [cols[name] for name, _ in LOSS_SERIES if name in cols]
    first_bad = _first_nonfinite(steps, losses)
    for ax, series, ylabel in ((ax_loss, LOSS_SERIES, "loss"), (ax_acc, ACC_SERIES, "accuracy")):
        for name, label in series:
            if name in cols and np.isfinite(cols[name]).any():
                ax.plot(steps, cols[name], label=label, linewidth=0.9, color=SERIES_COLOURS[name])
        if first_bad is not None:
            ax.axvspan(first_bad, steps[-1], color="0.5", alpha=0.12,
                       label=f"non-finite losses (from step {first_bad:g})" if ax is ax_loss else None)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if not any(name in cols and np.isfinite(cols[name]).any() for name, _ in series):
            what = "losses" if ax is ax_loss else "discriminator accuracy"
            ax.text(0.5, 0.5, f"no {what} in the log", transform=ax.transAxes, ha="center", va="center",
                    color="0.35")
    finite = np.concatenate([v[np.isfinite(v)] for v in losses]) if losses else np.array([])
    if finite.size and np.abs(finite).max() > 100:  # a diverging run: keep the healthy range readable
        ax_loss.set_yscale("symlog", linthresh=1.0)
        ax_loss.set_ylabel("loss (symlog)")
    ax_acc.set_ylim(-0.05, 1.05)


def _rule_lanes(ax: Any, spans: list[tuple[float, float, str]], lanes: list[str]) -> None:
    """One row per rule: a bar per episode, the code as the row's label, the name on the right."""
    colours = span_colours(spans)
    row = {label: len(lanes) - 1 - i for i, label in enumerate(lanes)}  # first lane on top
    for start, end, label in spans:
        ax.barh(row[label], max(end - start, 1.0), left=start, height=0.6, color=colours[label], alpha=0.7)
    ticks = [row[label] for label in lanes]
    ax.set_yticks(ticks, [label.split(" ", 1)[0] for label in lanes], fontsize="small")
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_ylabel("rules")
    names = ax.twinx()
    names.set_ylim(ax.get_ylim())
    names.set_yticks(ticks, [label.split(" ", 1)[1] if " " in label else "" for label in lanes], fontsize="small")
    names.tick_params(axis="y", length=0)
    ax.grid(axis="x", alpha=0.3)


#: (snapshot statistic, legend label) for the diversity figure's two panels
DIVERSITY_RATIOS = (("coverage_ratio", "coverage"), ("precision_ratio", "precision"), ("density_ratio", "density"))
DIVERSITY_SHARES = (("dup_share", "near-duplicate share"), ("recall", "recall"), ("ndb", "NDB (bins off)"))
DIVERSITY_COLOURS = {"coverage_ratio": "tab:blue", "precision_ratio": "tab:orange", "density_ratio": "tab:purple",
                     "dup_share": "tab:red", "recall": "tab:green", "ndb": "tab:brown"}


def plot_diversity(snapshots: Iterable[Mapping[str, Any]], path: str | os.PathLike[str], *,
                   title: str | None = None, onset_step: float | None = None) -> Path:
    """Sample diversity per snapshot: ratios to real-vs-real (top) and shares of samples (bottom).

    These are precision, coverage and density at the noise scale: reported in the JSON, not judged. The report
    draws what the rules read instead (:func:`gandiag.report.sample_stats.plot_sample_rules`).

    A ratio of 1 means "as diverse as real data against itself"; collapse
    pulls coverage and the ratios towards 0 and pushes the near-duplicate share up.
    """
    plt = canvas.pyplot()
    rows = list(snapshots)
    steps = np.array([float(r["step"]) for r in rows])
    fig, (ax_ratio, ax_share) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, layout="constrained")
    for ax, series in ((ax_ratio, DIVERSITY_RATIOS), (ax_share, DIVERSITY_SHARES)):
        for key, label in series:
            values = np.array([float(r.get(key, np.nan)) for r in rows])
            if np.isfinite(values).any():
                ax.plot(steps, values, marker="o", markersize=3, linewidth=1.0, label=label,
                        color=DIVERSITY_COLOURS[key])
        if onset_step is not None:
            ax.axvline(onset_step, color=ONSET_COLOUR, linestyle="--", linewidth=1.2,
                       label=f"onset (step {onset_step:g})" if ax is ax_ratio else None)
        ax.grid(alpha=0.3)
    ax_ratio.axhline(1.0, color="0.4", linestyle=":", linewidth=1.0, label="real vs real (1.0)")
    top = max(1.2, min(3.0, np.nanmax([float(r.get(k, np.nan)) for r in rows for k, _ in DIVERSITY_RATIOS] + [1.0]) * 1.1))
    ax_ratio.set_ylim(0.0, top)
    ax_share.set_ylim(-0.02, 1.02)
    ax_ratio.set_ylabel("ratio to real data")
    ax_share.set_ylabel("share")
    ax_share.set_xlabel("step")
    for ax in (ax_ratio, ax_share):
        legend_outside(ax)
    if title:
        fig.suptitle(title)
    return canvas.save(plt, fig, path)


def _first_nonfinite(steps: np.ndarray, series: list[np.ndarray]) -> float | None:
    bad = np.zeros(len(steps), dtype=bool)
    for v in series:
        bad |= ~np.isfinite(v)
    return float(steps[np.argmax(bad)]) if bad.any() else None


def tile_mosaic(samples: np.ndarray, rows: int, cols: int, gap: int = 1) -> np.ndarray:
    """``rows x cols`` images in [-1, 1] as one array in [0, 1], each tile stretched between its own darkest and
    lightest pixel (as the tutorial's ``imshow`` shows a grid tile), tiles apart by ``gap`` light grey pixels."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    x = np.nan_to_num(x[: rows * cols], nan=0.0, posinf=1.0, neginf=-1.0)
    n, h, w, c = x.shape if x.size else (0, 1, 1, 1)
    flat = x.reshape(n, -1)
    lo = flat.min(axis=1, keepdims=True) if n else flat
    hi = flat.max(axis=1, keepdims=True) if n else flat
    x = ((flat - lo) / np.where(hi > lo, hi - lo, 1.0)).reshape(x.shape) if n else x
    if c == 1:
        x = 1.0 - x  # gray_r: ink is dark on white paper
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, c), 0.8, dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, k * (w + gap): k * (w + gap) + w] = x[i]
    return out[..., 0] if c == 1 else out


def show_mosaic(ax: Any, mosaic: np.ndarray) -> None:
    """An image mosaic in a panel without ticks (grey scale for one channel)."""
    if mosaic.ndim == 2:
        ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(np.clip(mosaic, 0.0, 1.0), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_sample_grid(samples: np.ndarray, path: str | os.PathLike[str], *, rows: int = 10,
                     cols: int = 10, title: str | None = None, real: np.ndarray | None = None) -> Path:
    """A rows x cols grid of images in [-1, 1], each tile scaled as the tutorial's ``imshow`` scales it.

    Grayscale is shown with ``gray_r`` and, as ``imshow`` does without
    ``vmin``/``vmax``, each tile is stretched between its own darkest and
    lightest pixel: a faint generated digit reads as the tutorial's grids show it.
    With ``real``, a grid of real images of the same size is drawn beside it.
    """
    plt = canvas.pyplot()
    panels = 2 if real is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(cols * 0.6 * panels + 0.2 * (panels - 1), rows * 0.6 + (0.4 if title else 0.1)),
                             squeeze=False)
    show_mosaic(axes[0, 0], tile_mosaic(samples, rows, cols))
    if real is not None:
        axes[0, 0].set_title("generated", fontsize="small")
        show_mosaic(axes[0, 1], tile_mosaic(real, rows, cols))
        axes[0, 1].set_title("real", fontsize="small")
    if title:
        fig.suptitle(title, fontsize="small")
    fig.subplots_adjust(wspace=0.05, left=0.01, right=0.99, bottom=0.01,
                        top=(0.93 if title else 0.99) - (0.04 if real is not None else 0.0))
    return canvas.save(plt, fig, path)


def plot_scatter(samples: np.ndarray, real: np.ndarray | None, path: str | os.PathLike[str], *,
                 title: str | None = None) -> Path:
    """Generated points (red) over real points (grey, beneath) on axes fitted to both (:mod:`.scatter`);
    samples of more than two values are projected on the reference's first two principal axes."""
    from gandiag.report.scatter import plot_points

    return plot_points(samples, real, path, title=title)
