"""Figures: the tutorial's two-panel history plot, sample grids and 2D scatters.

matplotlib is imported lazily (``Agg`` backend) inside each function.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingExtraError

#: (column, legend label) for the top (loss) and bottom (accuracy) panels, as in the tutorial
LOSS_SERIES = (("d_loss_real", "d-real"), ("d_loss_fake", "d-fake"), ("d_loss", "d"), ("g_loss", "gen"))
ACC_SERIES = (("d_acc_real", "acc-real"), ("d_acc_fake", "acc-fake"), ("d_acc", "acc"))


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingExtraError("matplotlib is not installed", hint="pip install 'gandiag[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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


def plot_history(history: Any, path: str | os.PathLike[str], *, title: str | None = None,
                 spans: Iterable[tuple[float, float, str]] = (), onset_step: float | None = None) -> Path:
    """The tutorial's figure: losses (top) and discriminator accuracy (bottom) against step.

    Parameters
    ----------
    history : path to history.csv, DataFrame, mapping of arrays, or object with ``steps``/``series``
    path : output PNG
    title : figure title
    spans : (start_step, end_step, label) regions shaded on both panels
    onset_step : step of a vertical dashed line (e.g. a finding's onset)
    """
    plt = _pyplot()
    cols = _as_columns(history)
    n = len(next(iter(cols.values()))) if cols else 0
    steps = cols.get("step", np.arange(1, n + 1, dtype=float))
    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    losses = [cols[name] for name, _ in LOSS_SERIES if name in cols]
    first_bad = _first_nonfinite(steps, losses)
    for ax, series, ylabel in ((ax_loss, LOSS_SERIES, "loss"), (ax_acc, ACC_SERIES, "accuracy")):
        plotted = False
        for name, label in series:
            if name in cols and np.isfinite(cols[name]).any():
                ax.plot(steps, cols[name], label=label, linewidth=0.9)
                plotted = True
        for i, (start, end, label) in enumerate(spans):
            ax.axvspan(start, end, color=f"C{(i + 4) % 10}", alpha=0.15,
                       label=label if ax is ax_loss else None)
        if onset_step is not None:
            ax.axvline(onset_step, color="red", linestyle="--", linewidth=1.2,
                       label=f"onset (step {onset_step:g})" if ax is ax_loss else None)
        if first_bad is not None:
            ax.axvspan(first_bad, steps[-1], color="0.5", alpha=0.12,
                       label=f"non-finite losses (from step {first_bad:g})" if ax is ax_loss else None)
        ax.set_ylabel(ylabel)
        if plotted or ax is ax_loss:
            handles, _ = ax.get_legend_handles_labels()
            if handles:
                ax.legend(loc="upper right", fontsize="small")
        ax.grid(alpha=0.3)
    finite = np.concatenate([v[np.isfinite(v)] for v in losses]) if losses else np.array([])
    if finite.size and np.abs(finite).max() > 100:  # a diverging run: keep the healthy range readable
        ax_loss.set_yscale("symlog", linthresh=1.0)
        ax_loss.set_ylabel("loss (symlog)")
    ax_acc.set_ylim(-0.05, 1.05)
    ax_acc.set_xlabel("step")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(plt, fig, path)


def _first_nonfinite(steps: np.ndarray, series: list[np.ndarray]) -> float | None:
    bad = np.zeros(len(steps), dtype=bool)
    for v in series:
        bad |= ~np.isfinite(v)
    return float(steps[np.argmax(bad)]) if bad.any() else None


def _save(plt: Any, fig: Any, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def plot_sample_grid(samples: np.ndarray, path: str | os.PathLike[str], *, rows: int = 10,
                     cols: int = 10, title: str | None = None) -> Path:
    """A rows x cols grid of images in [-1, 1] (grayscale shown with ``gray_r`` as in the tutorial)."""
    plt = _pyplot()
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    x = np.clip((np.nan_to_num(x) + 1.0) / 2.0, 0.0, 1.0)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.6, rows * 0.6 + (0.4 if title else 0)))
    for i, ax in enumerate(np.asarray(axes).reshape(-1)):
        ax.axis("off")
        if i < len(x):
            img = x[i]
            if img.shape[-1] == 1:
                ax.imshow(img[..., 0], cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
            else:
                ax.imshow(img, interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize="small")
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.01, right=0.99, bottom=0.01,
                        top=0.93 if title else 0.99)
    return _save(plt, fig, path)


def plot_scatter(samples: np.ndarray, real: np.ndarray | None, path: str | os.PathLike[str], *,
                 title: str | None = None) -> Path:
    """Generated 2D points (red) over real points (blue)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    if real is not None:
        r = np.asarray(real, dtype=np.float32)
        ax.scatter(r[:, 0], r[:, 1], s=4, c="tab:blue", alpha=0.4, label="real")
    s = np.asarray(samples, dtype=np.float32)
    ax.scatter(s[:, 0], s[:, 1], s=4, c="tab:red", alpha=0.6, label="generated")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right", fontsize="small")
    if title:
        ax.set_title(title, fontsize="small")
    fig.tight_layout()
    return _save(plt, fig, path)
