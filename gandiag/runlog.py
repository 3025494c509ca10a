"""Crash-safe run logging for any training loop (no TensorFlow needed).

A :class:`RunLogger` writes the files the analyzer reads:

- ``history.csv``: one row per step, appended and flushed as it is written, so
  a process killed with SIGKILL leaves every completed row;
- ``samples.npz``: generated samples, one key ``step_<N>`` per snapshot;
- any JSON file (``meta.json``), written to a temporary file and renamed.

Example
-------
>>> import tempfile, numpy as np
>>> d = tempfile.mkdtemp()
>>> log = RunLogger(d)
>>> log.log(1, d_loss_real=0.7, d_loss_fake=0.6, g_loss=0.9)
>>> log.snapshot(1, np.zeros((4, 2)))
>>> log.close()
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, UsageError

HISTORY_FILE = "history.csv"
SAMPLES_FILE = "samples.npz"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=_json_default, allow_nan=True)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def atomic_write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write a (compressed) ``.npz`` archive atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **dict(arrays))
    atomic_write_bytes(path, buf.getvalue())


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file into memory (empty dict if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", where=str(path)) from exc


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x) if abs(x) >= 1e-4 or x == 0.0 else f"{x:.9g}"


class RunLogger:
    """Append-only, crash-safe writer of a run folder.

    Parameters
    ----------
    out_dir : path
        Run folder; created if missing.
    columns : iterable of str, optional
        Metric columns (``step`` is always the first column). When omitted
        they are fixed by the first call to :meth:`log`.
    resume : bool
        Keep an existing ``history.csv`` and append to it (its header must
        match). Without ``resume`` an existing history is replaced.
    """

    def __init__(self, out_dir: str | os.PathLike[str], columns: Iterable[str] | None = None,
                 resume: bool = False):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.history_path = self.out_dir / HISTORY_FILE
        self.samples_path = self.out_dir / SAMPLES_FILE
        self._columns: list[str] | None = None
        self._fh: io.TextIOWrapper | None = None
        self._writer: Any = None
        if columns is not None:
            self._columns = self._normalise_columns(columns)
        if resume and self.history_path.exists() and self.history_path.stat().st_size > 0:
            header = self._read_header()
            if self._columns is not None and header != self._columns:
                raise UsageError(
                    f"cannot resume: history.csv has columns {header}, the run logs {self._columns}",
                    where=str(self.history_path), hint="Start a new run folder or pass matching columns")
            self._columns = header
            self._repair_tail()
            self._open(write_header=False)
        elif not resume and self.history_path.exists():
            self.history_path.unlink()

    # -- history ---------------------------------------------------------------

    @staticmethod
    def _normalise_columns(columns: Iterable[str]) -> list[str]:
        cols = [str(c) for c in columns if str(c) != "step"]
        if len(set(cols)) != len(cols):
            raise UsageError(f"duplicate column names in {cols}")
        return ["step", *cols]

    @property
    def columns(self) -> list[str] | None:
        """The header of ``history.csv`` (``None`` before the first row)."""
        return None if self._columns is None else list(self._columns)

    def _read_header(self) -> list[str]:
        with open(self.history_path, newline="", encoding="utf-8") as fh:
            first = fh.readline()
        return next(csv.reader([first]))

    def _repair_tail(self) -> None:
        """Drop a final partial line (a crash in the middle of a write)."""
        data = self.history_path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            atomic_write_bytes(self.history_path, data[:cut])

    def _open(self, *, write_header: bool) -> None:
        # line buffering: each row reaches the OS as soon as it is written
        self._fh = open(self.history_path, "a", newline="", encoding="utf-8", buffering=1)
        self._writer = csv.writer(self._fh, lineterminator="\n")
        if write_header:
            self._writer.writerow(self._columns)
            self._fh.flush()

    def log(self, step: int, **metrics: Any) -> None:
        """Append one row; ``metrics`` must name exactly the columns fixed by the first row.

        Missing metrics are written as empty cells; a name not in the header
        raises :class:`~gandiag.errors.UsageError`.
        """
        if self._columns is None:
            self._columns = self._normalise_columns(metrics)
        unknown = [k for k in metrics if k not in self._columns]
        if unknown:
            raise UsageError(
                f"metric(s) {unknown} not in the history columns {self._columns[1:]}",
                where=str(self.history_path),
                hint="Log every metric from the first step on, or pass columns= to RunLogger")
        if self._fh is None:
            exists = self.history_path.exists() and self.history_path.stat().st_size > 0
            self._open(write_header=not exists)
        row = [str(int(step))] + [_format_value(metrics.get(c)) for c in self._columns[1:]]
        self._writer.writerow(row)
        self._fh.flush()

    def truncate_after(self, step: int) -> None:
        """Keep only rows with ``step <= step`` (atomic rewrite); used by resume."""
        was_open = self._fh is not None
        self.close()
        if self.history_path.exists():
            self._repair_tail()
            with open(self.history_path, newline="", encoding="utf-8") as fh:
                lines = fh.read().splitlines(keepends=True)
            kept = lines[:1]
            for line in lines[1:]:
                head = line.split(",", 1)[0].strip()
                try:
                    if int(float(head)) <= step:
                        kept.append(line)
                except ValueError:
                    continue
            atomic_write_bytes(self.history_path, "".join(kept).encode("utf-8"))
        if self.samples_path.exists():
            arrays = load_npz(self.samples_path)
            keep = {k: v for k, v in arrays.items() if _snapshot_step(k) <= step}
            if len(keep) != len(arrays):
                atomic_write_npz(self.samples_path, keep)
        if was_open:
            self._open(write_header=False)

    # -- samples and JSON --------------------------------------------------------

    def snapshot(self, step: int, samples: np.ndarray, *, dtype: Any = np.float16) -> None:
        """Add ``samples`` under key ``step_<step>`` to ``samples.npz`` (atomic rewrite)."""
        arrays = load_npz(self.samples_path)
        arrays[f"step_{int(step)}"] = np.asarray(samples).astype(dtype)
        ordered = dict(sorted(arrays.items(), key=lambda kv: _snapshot_step(kv[0])))
        atomic_write_npz(self.samples_path, ordered)

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` to ``out_dir/name`` atomically; returns the path."""
        path = self.out_dir / name
        atomic_write_json(path, obj)
        return path

    def write_npz(self, name: str, **arrays: np.ndarray) -> Path:
        """Write arrays to ``out_dir/name`` atomically; returns the path."""
        path = self.out_dir / name
        atomic_write_npz(path, arrays)
        return path

    def close(self) -> None:
        """Close the history file (rows are already on disk)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _snapshot_step(key: str) -> int:
    try:
        return int(key.rsplit("_", 1)[1])
    except (IndexError, ValueError):
        return -1
