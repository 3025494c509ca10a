"""The one place matplotlib is reached: a lazy ``pyplot`` on the Agg backend, and atomic figure files.

Every figure module calls :func:`pyplot` inside its drawing function (``gandiag
analyze`` never imports matplotlib) and writes through :func:`save` (a PNG
is renamed into place, so a browser refreshing a page never reads half of one).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gandiag.errors import MissingExtraError

#: pixels per inch of every PNG written
DPI = 100


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend; :class:`MissingExtraError` when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingExtraError("matplotlib is not installed", hint="pip install 'gandiag[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(plt: Any, fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=DPI)
    finally:
        plt.close(fig)
    os.replace(tmp, path)
    return path


def note(ax: Any, text: str, *, fontsize: str = "medium") -> None:
    """Say in an empty panel what is missing and how to get it, instead of leaving a blank frame."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("0.8")
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", wrap=True, fontsize=fontsize,
            color="0.3")
