"""Readers for training logs, one module per input family, and format sniffing.

Each reader module exposes ``FORMAT`` (its name), ``sniff(path, head) -> float``
(0 = not this format, 1 = certainly this format) and
``read(path, **options) -> RawTable``. :func:`read_run` picks the reader,
then :func:`gandiag.history.build_history` normalises what it found.

In: a path (file, run folder, ``-`` for stdin). Out: a
:class:`~gandiag.history.RunHistory`. The console layouts are data
(:mod:`.layouts`); sample snapshots are read by :mod:`gandiag.samples`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path

from gandiag.errors import InputError, UsageError
from gandiag.history.model import RawTable, Reduction, RunHistory, build_history
from gandiag.infra.files import check_input_path, read_head

#: input format name -> module (imported only when used).
READER_MODULES: Mapping[str, str] = {
    "csv": "gandiag.ingest.csv",
    "jsonl": "gandiag.ingest.jsonl",
    "console": "gandiag.ingest.console",
    "tensorboard": "gandiag.ingest.tensorboard",
}

#: File names that hold a run's history inside a run folder, in order of preference.
HISTORY_FILENAMES = ("history.csv", "history.csv.gz", "metrics.csv", "history.jsonl", "metrics.jsonl",
                     "train.log", "log.txt")

HEAD_BYTES = 64 * 1024


def available_formats() -> list[str]:
    """Formats whose reader module is installed in this version."""
    out = []
    for name, module in READER_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


def _reader(fmt: str):
    module = READER_MODULES.get(fmt)
    if module is None or importlib.util.find_spec(module) is None:
        raise UsageError(f"unknown input format '{fmt}'", hint="Use one of: " + ", ".join(available_formats()))
    return importlib.import_module(module)


def _read_head(path: Path) -> bytes:
    """The first bytes (decompressed when gzip) of a regular file; b"" for a folder."""
    return read_head(path, HEAD_BYTES)


def sniff_format(path: str | Path) -> str:
    """Guess the input format of ``path`` from its name and first bytes."""
    path = Path(path)
    head = _read_head(path) if str(path) != "-" else b""
    best, best_score = None, 0.0
    for fmt in available_formats():
        score = float(_reader(fmt).sniff(path, head))
        if score > best_score:
            best, best_score = fmt, score
        if best_score >= 0.9:
            break  # certain enough (e.g. a .csv name with a CSV header): skip the other sniffers
    if best is None:
        raise InputError(
            "not a training log gandiag can read",
            where=str(path),
            hint="Give a CSV/JSONL history, a console log or a TensorBoard folder; "
            "or name the format with --input-format (" + ", ".join(available_formats()) + ")",
        )
    return best


def read_raw(path: str | Path, *, input_format: str | None = None, names=(), **options) -> RawTable:
    """Read a log with the right reader, without mapping names to roles.

    ``names``: the names given with ``--column ROLE=NAME``; a console log reads
    lines labelled with them as metrics although the alias table does not know them.
    """
    p = Path(path)
    if str(path) != "-":
        check_input_path(p)  # missing, unreadable, or a FIFO/device: a clear error before any open
    fmt = input_format or ("csv" if str(path) == "-" else sniff_format(p))
    if fmt == "console" and names:
        options["names"] = tuple(names)
    return _reader(fmt).read(p if str(path) != "-" else "-", **options)


def read_run(
    path: str | Path,
    *,
    input_format: str | None = None,
    columns: Mapping[str, str] | None = None,
    d_loss_reduction: Reduction | str | None = None,
) -> RunHistory:
    """Read a training log into a :class:`~gandiag.history.RunHistory`.

    Parameters
    ----------
    path : str or Path
        A history file, a run folder (its ``history.csv`` or the first of
        :data:`HISTORY_FILENAMES`), or ``-`` for CSV on standard input.
    input_format : str, optional
        Skip sniffing and use this reader.
    columns : mapping of role -> name, optional
        ``--column`` overrides of the alias table.
    d_loss_reduction : 'mean' or 'sum', optional
        How a combined discriminator loss was reported; default per format.
    """
    p = Path(path)
    if str(path) != "-" and p.is_dir():
        p = find_history_in(p)
    raw = read_raw(p if str(path) != "-" else "-", input_format=input_format,
                   names=tuple((columns or {}).values()))
    return build_history(raw, overrides=columns, d_loss_reduction=d_loss_reduction)


def find_history_in(folder: Path) -> Path:
    """The history file of a run folder (TensorBoard folders are returned as is)."""
    for name in HISTORY_FILENAMES:
        if (folder / name).is_file():
            return folder / name
    if any(folder.glob("events.out.tfevents.*")) or any(folder.glob("*/events.out.tfevents.*")):
        return folder
    for name in HISTORY_FILENAMES:  # a history that is not a regular file (a FIFO): its read says so
        if (folder / name).exists():
            return folder / name
    raise InputError(
        "folder holds no training history",
        where=str(folder),
        hint="Expected one of " + ", ".join(HISTORY_FILENAMES) + " or TensorBoard event files",
    )


def discover_runs(path: str | Path) -> list[Path]:
    """The histories under ``path``: the file itself, a run folder's history, or every run folder below.

    Raises :class:`InputError` for a missing path or a folder with no history in it.
    """
    p = Path(path)
    if str(path) == "-":
        return [p]
    if not p.exists():
        raise InputError("file or folder not found", where=str(path), hint="Check the path")
    if not p.is_dir():
        return [p]  # a file, or a FIFO/device whose read refuses it with a clear error
    try:
        own = find_history_in(p)
    except InputError:
        own = None
    # A folder is one TensorBoard run when event files sit in it, or only in its sub-folders (Keras's
    # train/ and validation/); a folder of runs where one run is a TensorBoard run is searched run by run.
    if own is not None and (own != p or any(p.glob("events.out.tfevents.*"))
                            or not any(next(p.rglob(name), None) for name in HISTORY_FILENAMES)):
        return [own]
    found: list[Path] = []
    for folder in sorted({q.parent for name in HISTORY_FILENAMES for q in p.rglob(name)}):
        found.append(find_history_in(folder))
    tb = sorted({q.parent for q in p.rglob("events.out.tfevents.*")} - {f.parent for f in found})
    found.extend(tb)
    if not found:
        raise InputError(
            "folder holds no training history",
            where=str(p),
            hint="Expected run folders with " + ", ".join(HISTORY_FILENAMES[:3]) + " or TensorBoard event files",
        )
    return found
