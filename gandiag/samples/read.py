"""Generated-sample snapshots and real references, as numpy arrays.

Snapshots are returned as ``{step: samples}`` with ``samples`` of shape
``(n, ...)``, in the data scale [-1, 1]. Accepted inputs:

* ``.npz`` with one array per snapshot under keys ``step_<N>`` (what the
  gandiag harness writes);
* a single ``.npy``: one snapshot, taken at the end of the run (``last_step``,
  or :data:`END_OF_RUN` for the caller to replace with the history's last step);
* a folder of per-sample PNG images: one snapshot, likewise at the end;
* the tutorial's grid images ``generated_plot_NNN.png`` (a folder of them,
  or one file) with ``grid=(rows, cols)``: each is cut into its tiles.
  ``NNN`` is the tutorial's 1-based step (``step + 1`` in its code, the
  number its console log prints), used as the step as is.

How grid images are cut into tiles: :mod:`gandiag.samples.grids`.
"""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.infra.files import check_input_path
from gandiag.infra.limits import current_limits
from gandiag.samples.grids import GRID_NAME, MAX_STEP, grid_files, read_grid_files, step_in_name, to_unit

#: Step key of a snapshot that holds the end of the run (``.npy`` or image folder
#: read without ``last_step``); the caller replaces it with the history's last step.
END_OF_RUN = -1
_STEP_KEY = re.compile(r"step_(\d+)\Z")


def read_snapshots(path: str | Path, *, last_step: int | None = None, grid: tuple[int, int] | None = None,
                   tile_shape: tuple[int, int] | None = None, spacing: float = 0.2) -> dict[int, np.ndarray]:
    """Read generated-sample snapshots as ``{step: samples}``.

    Parameters
    ----------
    path : str or Path
        ``.npz`` (keys ``step_<N>``), ``.npy``, a folder of per-sample PNGs,
        or grid PNGs (a folder of ``generated_plot_NNN.png`` or one of them).
    last_step : int, optional
        Step of a single-snapshot input (``.npy``, sample folder); default
        :data:`END_OF_RUN`.
    grid : (rows, cols), optional
        Cut each PNG into this grid of tiles (the tutorial's is ``(10, 10)``).
    tile_shape : (height, width), optional
        Resample each tile to this resolution (the data's, e.g. ``(28, 28)``);
        default: the tile's size in pixels.
    spacing : float
        The figure's subplot spacing (matplotlib's ``wspace``/``hspace``).

    Returns
    -------
    dict of int -> ndarray
        Samples of shape ``(n, ...)`` per step, sorted by step.

    Raises
    ------
    InputError
        Missing, empty or unreadable input, no ``step_<N>`` keys, or
        snapshots with different sample shapes.
    """
    p = Path(path)
    if not p.exists() and grid is not None and _is_glob(str(p)):
        files = _glob_pngs(str(p))
        return _check_shapes(read_grid_files(files, grid, tile_shape, spacing), p)
    step = END_OF_RUN if last_step is None else int(last_step)
    named = split_named_array(p)
    if named is not None:
        check_input_path(named[0], what="sample file")
        return {step: _named_array(named[0], named[1], "--samples")}
    if not p.exists():
        raise InputError("sample file not found", where=str(p), hint="Check the --samples path")
    check_input_path(p, what="sample file")
    if p.is_dir():
        if grid is not None:  # grid images (the tutorial's folder also holds real.npy and the loss plot)
            return _check_shapes(read_grid_files(grid_files(_pngs(p))[0], grid, tile_shape, spacing), p)
        steps = _step_arrays(p)
        if steps:
            return _check_shapes(steps, p)
        pngs = _pngs(p)
        if any(GRID_NAME.match(f.name) and f.name.startswith("generated_plot_") for f in pngs):
            raise InputError("folder holds the tutorial's grid images", where=str(p),
                             hint="Pass --grid 10x10 to cut them into samples")
        return {step: _read_image_samples(pngs, p)}
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return _check_shapes(_read_npz_snapshots(p), p)
    if suffix == ".npy":
        return {step: _as_sample_array(_load_npy(p), p)}
    if suffix == ".png":
        if grid is None:
            raise InputError("a single PNG is read as a grid of samples", where=str(p),
                             hint="Pass --grid ROWSxCOLS (the tutorial's is 10x10)")
        return read_grid_files([p], grid, tile_shape, spacing)
    raise InputError(f"unknown sample file type '{p.suffix}'", where=str(p),
                     hint="Give a .npz with step_<N> keys, a .npy, FILE.npz:ARRAY, a folder of step_<N>.npy, "
                          "or a folder of PNG/JPEG images")


def read_reference(path: str | Path) -> np.ndarray:
    """Read real reference samples ``(n, ...)``: ``.npz`` (key ``real`` or its only array), ``.npy``, a PNG folder,
    or the name of a data set gandiag knows (``digits``, ``mnist`` from the Keras cache ...: :mod:`gandiag.data`)."""
    p = Path(path)
    if not p.exists() and str(path) in _dataset_names():
        from gandiag.data.datasets import load_dataset

        try:
            return load_dataset(str(path)).x
        except InputError as exc:  # MNIST or CIFAR-10 not in the Keras cache: gandiag never downloads
            raise InputError(exc.message, where=exc.where,
                             hint="Give the reference as a file instead: --real FILE.npz (key 'real') or .npy") from None
    named = split_named_array(p)
    if named is not None:
        check_input_path(named[0], what="reference file")
        return _finite_reference(_named_array(named[0], named[1], "--real"), p)
    if not p.exists():
        raise InputError("reference file not found", where=str(p),
                         hint="Check the --real path, or name a data set gandiag knows: " + ", ".join(sorted(_dataset_names())))
    check_input_path(p, what="reference file")
    return _finite_reference(_read_reference(p), p)


def _dataset_names() -> frozenset[str]:
    from gandiag.data.datasets import DATASETS

    return frozenset(DATASETS)


def split_named_array(p: Path) -> tuple[Path, str] | None:
    """``FILE.npz:ARRAY`` as ``(FILE.npz, ARRAY)``; None for any other path (or a file really named so)."""
    text = str(p)
    if p.exists() or ":" not in text:
        return None
    file, _, key = text.rpartition(":")
    if not key or not file.lower().endswith(".npz"):
        return None
    return Path(file), key


def _named_array(p: Path, key: str, option: str) -> np.ndarray:
    """One named array of a ``.npz`` (for example precomputed features: ``feats.npz:pool3``)."""
    if not p.is_file():
        raise InputError("file not found", where=str(p), hint=f"Check the {option} path (FILE.npz:ARRAY)")
    arrays = _load_npz(p)
    if key not in arrays:
        shown = ", ".join(sorted(arrays)[:8])
        raise InputError(f"no array named '{key[:40]}' in the .npz (it holds: {shown})", where=str(p),
                         hint=f"Name one of its arrays after the colon, e.g. {option} {p}:{sorted(arrays)[0]}")
    return _as_sample_array(arrays[key], p, key=key)


_STEP_FILE = re.compile(r"(?:.*?[_-])?(\d+)\.npy\Z", re.IGNORECASE)


def _step_arrays(folder: Path) -> dict[int, np.ndarray]:
    """A folder of per-snapshot feature files named by step (``step_1000.npy``, ``feats-1000.npy``), or {}."""
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() == ".npy" and f.is_file())
    if not files:
        return {}
    out: dict[int, np.ndarray] = {}
    used = 0
    for f in files:
        step = step_in_name(f, _STEP_FILE, out, unnamed="a .npy file in a snapshot folder must be named by its step",
                             name="file name", kind="arrays", hint="Name per-snapshot arrays step_<N>.npy (N = training step)",
                             one="Keep one file per step")
        with open(f, "rb") as fh:
            shape, dtype = _array_header(fh, str(f))
        used = _checked_size(shape, dtype, used, str(f))
        out[step] = _as_sample_array(_load_npy(f), f)
    return dict(sorted(out.items()))


def _read_reference(p: Path) -> np.ndarray:
    if p.is_dir():
        steps = _step_arrays(p)
        if steps:
            raise InputError("the reference is a folder of per-step arrays", where=str(p),
                             hint="Give the real reference as one .npy, FILE.npz:ARRAY or a folder of images")
        return _read_image_samples(_pngs(p), p)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return _as_sample_array(_load_npy(p), p)
    if suffix == ".npz":
        arrays = _load_npz(p)
        if "real" in arrays:
            return _as_sample_array(arrays["real"], p, key="real")
        if len(arrays) == 1:
            key, arr = next(iter(arrays.items()))
            return _as_sample_array(arr, p, key=key)
        raise InputError(f"reference .npz has {len(arrays)} arrays and none is called 'real'",
                         where=str(p), hint=f"Name the array: --real {p}:{sorted(arrays)[0]} (or store it as 'real')")
    raise InputError(f"unknown reference file type '{p.suffix}'", where=str(p),
                     hint="Give a .npz (key 'real'), a .npy or a folder of PNG images")


def _finite_reference(arr: np.ndarray, p: Path) -> np.ndarray:
    """A reference must hold real data: at least one sample whose values are all finite."""
    flat = arr.reshape(len(arr), -1)
    finite = np.isfinite(flat).all(axis=1) if flat.dtype.kind == "f" else np.ones(len(arr), dtype=bool)
    if arr.ndim == 2 and not finite.all():  # features: a NaN is a broken embedding, not data
        bad = int((~finite).sum())
        raise InputError(f"the real reference holds NaN or inf in {bad} of {len(arr)} rows", where=str(p),
                         hint="Recompute the reference features (a NaN there is a bug in the feature "
                              "extraction), or drop those rows before saving")
    if not finite.any():
        raise InputError(f"the real reference holds no finite sample (all {len(arr)} hold NaN or inf)", where=str(p),
                         hint="Write real.npz from the training data (scaled to [-1, 1]), not from generated samples")
    return arr


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _glob_pngs(pattern: str) -> list[Path]:
    import glob

    files = sorted(Path(f) for f in glob.glob(pattern) if f.lower().endswith(".png") and Path(f).is_file())
    if not files:
        raise InputError("no PNG file matches the pattern", where=pattern,
                         hint="Quote the pattern, e.g. --samples 'results_collapse/generated_plot_*.png'")
    return files


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _pngs(folder: Path) -> list[Path]:
    """The sample images of a folder (PNG or JPEG), sorted by name."""
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES and f.is_file())
    if not files:
        raise InputError("folder holds no PNG images (nor JPEG)", where=str(folder),
                         hint="Give a folder of PNG/JPEG samples, a .npz, a .npy or a folder of step_<N>.npy")
    return files




def _open_sample(p: Path) -> np.ndarray:
    """One sample image in [-1, 1]: ``(h, w)`` for grey, ``(h, w, 3)`` for colour (transparency on white)."""
    from PIL import Image, UnidentifiedImageError

    check_input_path(p, what="image")
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode in ("L", "I", "I;16", "F", "1") or (im.mode in ("LA", "P") and _is_grey_palette(im)):
                return to_unit(im.convert("L") if im.mode in ("1", "LA", "P") else im) * 2 - 1
            if im.mode in ("RGBA", "LA", "P", "PA") or "transparency" in im.info:
                rgba = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
            return np.asarray(im.convert("RGB"), dtype=np.float32) / np.float32(127.5) - 1
    except Image.DecompressionBombError:
        raise LimitError("image is larger than Pillow's decompression-bomb limit", where=str(p),
                         hint="Give sample images of a normal size (raise PIL.Image.MAX_IMAGE_PIXELS in Python if genuine)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise InputError(f"cannot read image ({str(exc)[:80]})", where=str(p),
                         hint="Give PNG or JPEG files") from None


def _is_grey_palette(im) -> bool:
    if im.mode == "LA":
        return True
    palette = im.getpalette() or []
    rgb = np.asarray(palette[: 3 * (len(palette) // 3)]).reshape(-1, 3)
    return bool(rgb.size) and bool((rgb == rgb[:, :1]).all())


def _read_image_samples(files: list[Path], folder: Path, *, progress=None) -> np.ndarray:
    """Per-sample images in [-1, 1] (not inverted: bright is high), read one at a time into one array.

    The array is allocated once from the first image's size (at most ``max_sample_bytes``), so a folder of
    50,000 images takes the memory of its samples and no more; an image of another size or colour is an
    error naming it. ``progress(done, total)`` is called every few hundred images.
    """
    limits = current_limits()
    first = _open_sample(files[0])
    need = 4 * first.size * len(files)
    if need > limits.max_sample_bytes:
        raise LimitError(f"the {len(files):,} images hold {need:,} bytes of samples, more than "
                         f"{limits.max_sample_bytes:,}", where=str(folder), hint=limits.raise_hint("max_sample_bytes"))
    out = np.empty((len(files), *first.shape), dtype=np.float32)
    out[0] = first
    if progress is None:
        from gandiag.infra.progress import stderr_bar

        progress = stderr_bar(f"reading {len(files):,} images")
    for i, f in enumerate(files[1:], start=1):
        a = _open_sample(f)
        if a.shape != first.shape:
            raise InputError(f"image is {_describe(a.shape)} but {files[0].name} is {_describe(first.shape)}",
                             where=str(f), hint="All samples in one folder must have the same size and colour "
                                                "mode: resize or convert them to one format first")
        out[i] = a
        if progress is not None and (i % 500 == 0 or i == len(files) - 1):
            progress(i + 1, len(files))
    return out


def _describe(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}" + (" colour" if len(shape) == 3 else " grey")


def _array_header(fh, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a ``.npy`` header, without reading the data."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = npy.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a numpy array ({str(exc)[:80]})", where=where,
                         hint="Save samples with numpy.save / numpy.savez") from None
    if dtype.hasobject:
        raise InputError("the array holds Python objects (a pickle), which gandiag does not load", where=where,
                         hint="Save samples as a numeric array")
    return tuple(shape), dtype


def _checked_size(shape: tuple[int, ...], dtype: np.dtype, used: int, where: str) -> int:
    limits = current_limits()
    total = used + math.prod(shape) * dtype.itemsize
    if total > limits.max_sample_bytes:
        raise LimitError(f"sample arrays of more than {limits.max_sample_bytes:,} bytes (shape {shape}, {dtype})",
                         where=where, hint=limits.raise_hint("max_sample_bytes"))
    return total


def _load_npy(p: Path) -> np.ndarray:
    try:
        with open(p, "rb") as fh:
            shape, dtype = _array_header(fh, str(p))
            _checked_size(shape, dtype, 0, str(p))
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"cannot read .npy ({str(exc)[:80]})", where=str(p), hint="Save samples with numpy.save") from None


def _load_npz(p: Path) -> dict[str, np.ndarray]:
    """The ``.npy`` members of an archive (a later member of the same name wins), headers checked first."""
    from numpy.lib import format as npy

    from gandiag.infra.npzappend import open_archive

    arrays: dict[str, np.ndarray] = {}
    try:
        with open_archive(p) as fh, zipfile.ZipFile(fh) as zf:  # as before an append a crash interrupted
            members = {}
            for info in zf.infolist():
                if info.filename.endswith(".npy") and not info.is_dir():
                    members[info.filename[:-4]] = info  # the last of a name wins, as numpy's reader does
            used = 0
            for key, info in members.items():
                with zf.open(info) as fh:
                    shape, dtype = _array_header(fh, f"{p}:{key}")
                used = _checked_size(shape, dtype, used, f"{p}:{key}")
            for key, info in members.items():
                with zf.open(info) as fh:
                    arrays[key] = npy.read_array(fh, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise InputError(f"cannot read .npz ({str(exc)[:80]})", where=str(p), hint="Save samples with numpy.savez") from None
    if not arrays:
        raise InputError(".npz holds no arrays", where=str(p), hint="Save one array per snapshot as step_<N>")
    return arrays


def _read_npz_snapshots(p: Path) -> dict[int, np.ndarray]:
    arrays = _load_npz(p)
    out = {}
    for key, arr in arrays.items():
        m = _STEP_KEY.match(key)
        if m:
            if len(m.group(1)) > 19 or int(m.group(1)) > MAX_STEP:
                raise InputError(f"snapshot key '{key[:40]}' names a step beyond {MAX_STEP:,}", where=str(p),
                                 hint="Name each snapshot step_<N> with N the training step")
            out[int(m.group(1))] = _as_sample_array(arr, p, key=key)
    if not out:
        shown = ", ".join(sorted(arrays)[:5])
        raise InputError(f"no step_<N> arrays in .npz (found: {shown})", where=str(p),
                         hint="Store each snapshot as step_<N>, or give a single snapshot as .npy")
    return dict(sorted(out.items()))


def _as_sample_array(arr: np.ndarray, p: Path, *, key: str | None = None) -> np.ndarray:
    where = f"{p}:{key}" if key else str(p)
    if arr.dtype.kind not in "fiub":
        raise InputError(f"samples must be numbers, got dtype {arr.dtype}", where=where,
                         hint="Save generated samples as a float array")
    if arr.ndim < 1 or arr.shape[0] == 0:
        raise InputError(f"no samples (shape {arr.shape})", where=where,
                         hint="Save an array of shape (n_samples, ...)")
    if arr.ndim == 1:
        arr = arr[:, None]
    if 0 in arr.shape[1:]:
        raise InputError(f"samples have no features (shape {arr.shape})", where=where,
                         hint="Save an array of shape (n_samples, n_features) or (n_samples, height, width[, channels])")
    return arr


def _check_shapes(snaps: dict[int, np.ndarray], p: Path) -> dict[int, np.ndarray]:
    shapes = {a.shape[1:] for a in snaps.values()}
    if len(shapes) > 1:
        raise InputError(f"snapshots have different sample shapes: {sorted(shapes)}", where=str(p),
                         hint="Write every snapshot from the same generator")
    return snaps
