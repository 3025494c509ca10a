"""Sample grids as people save them: a PNG of ``rows x cols`` tiles (the tutorial's ``generated_plot_NNN.png``),
cut back into samples.

How grid images are cut
-----------------------
The tutorial draws sample ``i`` with ``pyplot.subplot(rows, cols, 1 + i)``,
``axis('off')`` and ``imshow(x, cmap='gray_r')``. Axes off means no frames:
a tile's blank background is as white as the figure's margins, so tile
boxes cannot be seen directly. They are found from the ink instead:

1. ink is any pixel darker than 253 (after compositing transparency on white);
2. along each axis the ink projection splits into runs; the runs are merged
   across the smallest gaps until there is one per grid row (column), and a
   straight line through the run centres gives the pitch (tile + gap);
3. matplotlib's subplots leave a gap of ``spacing`` (``wspace``/``hspace``,
   0.2 by default) times the cell size, so a cell is ``pitch / (1 + spacing)``;
   ``imshow`` keeps the tile's aspect and centres it in its cell, so the
   tile is the largest box of that aspect inside the cell;
4. the tile lattice is placed in the middle of the offsets that keep every
   run of ink inside its tile (a digit never touches the gap).

Nothing depends on the figure size, dpi or margins, so cropped
(``bbox_inches='tight'``) and resized figures work too. When the ink does
not show the grid (whole rows of blank tiles), the layout of matplotlib's
default subplot parameters is used instead. ``imshow`` scales each tile to
its own min..max, so tiles come back with their darkest pixel at 1 and
their lightest at -1: the absolute level of a tile is lost, its pattern is not.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.infra.files import check_input_path

#: the largest step a snapshot key may name (the history's steps are 64-bit integers too)
MAX_STEP = 2**62

GRID_NAME = re.compile(r".*?(\d+)\.png\Z", re.IGNORECASE)
_INK_BELOW = 253
# matplotlib's default figure.subplot.{left,right,bottom,top,wspace,hspace}
_MPL_DEFAULT = dict(left=0.125, right=0.9, bottom=0.11, top=0.88, spacing=0.2)


def read_grid_png(path: str | Path, grid: tuple[int, int] = (10, 10), *,
                  tile_shape: tuple[int, int] | None = None, spacing: float = 0.2) -> np.ndarray:
    """Cut one grid image into its tiles: ``(rows * cols, h, w)`` in [-1, 1], ink high, row-major."""
    p = Path(path)
    return split_grid(_darkness(_open_image(p)), grid, tile_shape=tile_shape, spacing=spacing, where=str(p))


def split_grid(dark: np.ndarray, grid: tuple[int, int], *, tile_shape: tuple[int, int] | None = None,
               spacing: float = 0.2, where: str = "image") -> np.ndarray:
    """Tiles of a grid figure given its darkness image ``(H, W)`` in [0, 1] (see the module notes)."""
    from PIL import Image

    rows, cols = _grid_dims(grid, where)
    aspect = 1.0 if tile_shape is None else tile_shape[0] / tile_shape[1]
    ys, xs, th, tw = _tile_boxes(dark > 1 - _INK_BELOW / 255, rows, cols, aspect, spacing)
    size = (max(1, round(tw)), max(1, round(th))) if tile_shape is None else (tile_shape[1], tile_shape[0])
    img = Image.fromarray(np.ascontiguousarray(dark, dtype=np.float32))
    tiles = np.empty((rows * cols, size[1], size[0]), dtype=np.float32)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            box = (max(x, 0.0), max(y, 0.0), min(x + tw, dark.shape[1]), min(y + th, dark.shape[0]))
            tiles[i * cols + j] = np.asarray(img.resize(size, Image.Resampling.BOX, box=box))
    return np.clip(tiles, 0, 1) * 2 - 1


def _runs(profile: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as ``(start, stop)`` pixel intervals (stop exclusive)."""
    edges = np.diff(np.r_[0, profile.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _groups(profile: np.ndarray, n: int) -> list[tuple[int, int]] | None:
    """Ink runs merged across the smallest gaps into ``n`` groups, or None."""
    runs = _runs(profile)
    if len(runs) < n:
        return None
    while len(runs) > n:
        gaps = [runs[i + 1][0] - runs[i][1] for i in range(len(runs) - 1)]
        i = int(np.argmin(gaps))
        runs[i:i + 2] = [(runs[i][0], runs[i + 1][1])]
    return runs


def _pitch(groups: list[tuple[int, int]]) -> float | None:
    """Lattice pitch through the group centres; None when they are not evenly spaced."""
    if len(groups) < 2:
        return None
    centres = np.array([(a + b) / 2 for a, b in groups])
    idx = np.arange(len(groups))
    pitch, _ = np.polyfit(idx, centres, 1)
    resid = centres - np.polyval(np.polyfit(idx, centres, 1), idx)
    return float(pitch) if pitch > 0 and np.abs(resid).max() < 0.25 * pitch else None


def _place(groups: list[tuple[int, int]], pitch: float, size: float) -> tuple[float, float]:
    """Offset of the first tile (and the tile size, grown if the ink needs it)."""
    idx = np.arange(len(groups))
    starts = np.array([a for a, _ in groups]) - idx * pitch
    stops = np.array([b for _, b in groups]) - idx * pitch
    # offsets that keep all ink inside; an edge pixel of ink may be only partly
    # covered by the tile (tiles sit at fractional positions), hence the 1 px.
    lo, hi = stops.max() - 1 - size, starts.min() + 1
    if lo > hi:  # ink wider than the tile: the tile is at least the ink's extent
        return float(starts.min() + 0.5), float(stops.max() - starts.min() - 1)
    return float((lo + hi) / 2), size


def _tile_boxes(ink: np.ndarray, rows: int, cols: int, aspect: float, spacing: float):
    """Tile origins along y and x, and tile height and width, in pixels."""
    row_groups, col_groups = _groups(ink.any(axis=1), rows), _groups(ink.any(axis=0), cols)
    py = _pitch(row_groups) if row_groups else None
    px = _pitch(col_groups) if col_groups else None
    seen_y = row_groups is not None and (rows == 1 or py is not None)
    seen_x = col_groups is not None and (cols == 1 or px is not None)
    if not (seen_y and seen_x) or (py is None and px is None):
        return _default_boxes(ink.shape, rows, cols, aspect, spacing)
    cell_h = py / (1 + spacing) if py else None
    cell_w = px / (1 + spacing) if px else None
    if cell_h is None:
        cell_h = cell_w * aspect
    if cell_w is None:
        cell_w = cell_h / aspect
    th = min(cell_h, cell_w * aspect)
    y0, th = _place(row_groups, py or 0.0, th)
    x0, tw = _place(col_groups, px or 0.0, th / aspect)
    return y0 + np.arange(rows) * (py or 0.0), x0 + np.arange(cols) * (px or 0.0), th, tw


def _default_boxes(shape: tuple[int, int], rows: int, cols: int, aspect: float, spacing: float):
    """Tile boxes of matplotlib's default subplot layout for an image of ``shape``."""
    h, w = shape
    d = _MPL_DEFAULT
    cell_w = (d["right"] - d["left"]) * w / (cols + spacing * (cols - 1))
    cell_h = (d["top"] - d["bottom"]) * h / (rows + spacing * (rows - 1))
    th = min(cell_h, cell_w * aspect)
    tw = th / aspect
    x_cells = d["left"] * w + np.arange(cols) * cell_w * (1 + spacing)
    y_cells = (1 - d["top"]) * h + np.arange(rows) * cell_h * (1 + spacing)
    return y_cells + (cell_h - th) / 2, x_cells + (cell_w - tw) / 2, th, tw


def _grid_dims(grid, where: str) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in grid)
    except (TypeError, ValueError):
        raise InputError(f"grid must be two numbers, got {grid!r}", where=where, hint="Use --grid 10x10") from None
    if rows < 1 or cols < 1:
        raise InputError(f"grid must be at least 1x1, got {rows}x{cols}", where=where, hint="Use --grid 10x10")
    return rows, cols


def _open_image(p: Path):
    from PIL import Image, UnidentifiedImageError

    check_input_path(p, what="image")
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "P") or "transparency" in im.info:
                rgba = im.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return Image.alpha_composite(white, rgba).convert("L")
            return im.convert("L") if im.mode not in ("L", "I", "I;16", "F") else im.copy()
    except Image.DecompressionBombError:
        raise LimitError("image is larger than Pillow's decompression-bomb limit", where=str(p),
                         hint="Give sample images of a normal size (raise PIL.Image.MAX_IMAGE_PIXELS in Python if genuine)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"cannot read image ({str(exc)[:80]})", where=str(p),
                         hint="Give PNG files written by matplotlib or Pillow") from None


def to_unit(im) -> np.ndarray:
    a = np.asarray(im, dtype=np.float64)
    top = 65535.0 if im.mode.startswith("I") and a.max() > 255 else (1.0 if im.mode == "F" else 255.0)
    return np.clip(a / top, 0.0, 1.0)


def _darkness(im) -> np.ndarray:
    return 1.0 - to_unit(im)


_TUTORIAL_GRID = re.compile(r"generated_plot_(\d+)\.png\Z", re.IGNORECASE)


def grid_files(pngs: list[Path]) -> tuple[list[Path], list[Path]]:
    """The grid images among a folder's PNGs, and the PNGs left out.

    When the tutorial's ``generated_plot_NNN.png`` are present only they are
    grids (its results folder also holds ``plot_line_plot_loss.png``);
    otherwise every PNG whose name ends in a number is.
    """
    tutorial = [f for f in pngs if _TUTORIAL_GRID.match(f.name)]
    chosen = tutorial or [f for f in pngs if GRID_NAME.match(f.name)]
    if not chosen:
        raise InputError("no grid images here: no PNG name ends in a step number", where=str(pngs[0].parent),
                         hint="Give the folder of the tutorial's generated_plot_NNN.png (NNN = step)")
    return chosen, [f for f in pngs if f not in chosen]


def read_grid_files(files: list[Path], grid, tile_shape, spacing) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for f in files:
        step = step_in_name(f, GRID_NAME, out, unnamed="grid image name has no step number", name="grid image name",
                             kind="grid images", hint="Name grid images like generated_plot_NNN.png (NNN = step)",
                             one="Keep one image per step")
        out[step] = read_grid_png(f, grid, tile_shape=tile_shape, spacing=spacing)
    return dict(sorted(out.items()))


def step_in_name(f: Path, pattern: re.Pattern[str], seen: dict, *, unnamed: str, name: str, kind: str, hint: str,
                 one: str) -> int:
    """The training step a snapshot file's name gives (its first group), checked: present, in range, not seen."""
    m = pattern.match(f.name)
    if not m:
        raise InputError(unnamed, where=str(f), hint=hint)
    if len(m.group(1)) > 19 or int(m.group(1)) > MAX_STEP:
        raise InputError(f"{name} gives a step beyond {MAX_STEP:,}", where=str(f), hint=hint)
    step = int(m.group(1))
    if step in seen:
        raise InputError(f"two {kind} for step {step}", where=str(f), hint=one)
    return step
