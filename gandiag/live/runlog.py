"""Crash-safe run logging for any training loop (no TensorFlow needed).

A :class:`RunLogger` writes the files the analyzer reads:

- ``history.csv``: one row per step, appended and flushed as it is written, so
  a process killed with SIGKILL leaves every completed row;
- ``samples.npz``: generated samples, one key ``step_<N>`` per snapshot,
  appended to the archive in place (:mod:`gandiag.infra.npzappend`): each snapshot
  costs the same however many came before, and a process killed in the
  middle of one leaves the earlier ones readable;
- any JSON file (``meta.json``), written to a temporary file and renamed.

Files get the modes ``open()`` gives (``0o666`` minus the umask). The logger
holds an exclusive lock on its folder from creation to :meth:`RunLogger.close`:
a second process logging to the same folder gets a clear error instead of
deleting the first one's rows, and an existing history is only appended to
with ``resume=True``.

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
import math
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gandiag.errors import InputError, OutputError, RunLockedError, UsageError
from gandiag.infra import npzappend
from gandiag.infra.outputs import TEMP_SUFFIX, atomic_write_bytes, prepare_out_dir
from gandiag.infra.outputs import atomic_write_json as _atomic_write_json

try:  # POSIX; elsewhere the folder is not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

HISTORY_FILE = "history.csv"
SAMPLES_FILE = "samples.npz"
# temporary files of an atomic write (ours: 8 hex digits; older versions: mkstemp's 8 characters)
_STALE_TEMP = re.compile(r"\..+\.[A-Za-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + r"\Z")

__all__ = ["RunLogger", "atomic_write_bytes", "atomic_write_json", "atomic_write_npz", "load_npz"]


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    _atomic_write_json(path, obj, default=_json_default)


def atomic_write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write a (compressed) ``.npz`` archive atomically."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **dict(arrays))
    atomic_write_bytes(path, buf.getvalue())


def load_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file into memory (empty dict if it does not exist).

    An append interrupted by a crash is seen as it was before (the journal beside it).
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        with npzappend.open_archive(path) as fh, np.load(fh, allow_pickle=False) as data:
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
    """Append-only, crash-safe writer of a run folder, holding the folder's lock until :meth:`close`.

    Parameters
    ----------
    out_dir : path
        Run folder; created if missing.
    columns : iterable of str, optional
        Metric columns (``step`` is always the first column). When omitted
        they are fixed by the first call to :meth:`log`.
    resume : bool
        Keep an existing ``history.csv`` and ``samples.npz`` and append to
        them (the header must match). Without ``resume`` a folder that
        already holds a run's history or samples is refused.
    mlflow : bool
        Also send each row's metrics, with its step, to the active MLflow run
        (:mod:`gandiag.integrations.mlflow_mirror`; needs the ``mlflow`` extra and
        ``mlflow.start_run()`` first).

    Raises
    ------
    RunLockedError
        Another process is logging to ``out_dir``.
    UsageError
        ``out_dir`` holds a previous run and ``resume`` is False.
    """

    def __init__(self, out_dir: str | os.PathLike[str], columns: Iterable[str] | None = None,
                 resume: bool = False, mlflow: bool = False):
        self._mirror = None
        if mlflow:
            from gandiag.integrations.mlflow_mirror import MlflowMirror

            self._mirror = MlflowMirror()
        self.out_dir = prepare_out_dir(out_dir, "run folder")
        self.history_path = self.out_dir / HISTORY_FILE
        self.samples_path = self.out_dir / SAMPLES_FILE
        self._columns: list[str] | None = None
        self._fh: io.TextIOWrapper | None = None
        self._writer: Any = None
        self._lock_fd: int | None = None
        self._snapshot_keys: set[str] | None = None
        self._lock()
        try:
            self._tidy()
            if columns is not None:
                self._columns = self._normalise_columns(columns)
            has_history = self.history_path.exists() and self.history_path.stat().st_size > 0
            if not resume and (has_history or self.samples_path.exists()):
                what = HISTORY_FILE if has_history else SAMPLES_FILE
                raise UsageError(f"the folder already holds a run ({what}); RunLogger does not overwrite it",
                                 where=str(self.out_dir),
                                 hint="Pass resume=True to append to it, or use a new folder (or delete the old run)")
            if resume and has_history:
                header = self._read_header()
                if self._columns is not None and header != self._columns:
                    raise UsageError(
                        f"cannot resume: history.csv has columns {header}, the run logs {self._columns}",
                        where=str(self.history_path), hint="Start a new run folder or pass matching columns")
                self._columns = header
                self._repair_tail()
                self._open(write_header=False)
        except BaseException:
            self._unlock()
            raise

    # -- the folder's lock -------------------------------------------------------------

    def _lock(self) -> None:
        if fcntl is None:
            return
        fd = os.open(self.out_dir, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError("another process is logging to this run folder", where=str(self.out_dir),
                                 hint="Log each run to its own folder, or wait for the other process to finish") from None
        except OSError:
            os.close(fd)  # a file system without locks: go on unlocked
            return
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def _ensure_lock(self) -> None:
        """Take the lock again after :meth:`close` (a snapshot or JSON written after the run ended)."""
        if self._lock_fd is None and fcntl is not None:
            self._lock()

    def _tidy(self) -> None:
        """With the lock held: finish or undo what a killed writer left (an interrupted snapshot, temp files)."""
        npzappend.recover(self.samples_path)
        for entry in os.scandir(self.out_dir):
            if entry.is_file(follow_symlinks=False) and _STALE_TEMP.match(entry.name):
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass

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
            first = fh.readline(1 << 20)
        return next(csv.reader([first]))

    def _repair_tail(self) -> None:
        """Drop a final partial line (a crash in the middle of a write), in place."""
        size = self.history_path.stat().st_size
        if not size:
            return
        with open(self.history_path, "r+b") as fh:
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            pos, block = size, 1 << 16
            while pos > 0:  # the last line end
                start = max(0, pos - block)
                fh.seek(start)
                chunk = fh.read(pos - start)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    fh.truncate(start + i + 1)
                    return
                pos = start
            fh.truncate(0)

    def _open(self, *, write_header: bool) -> None:
        # line buffering: each row reaches the OS as soon as it is written
        self._ensure_lock()
        try:
            self._fh = open(self.history_path, "a", newline="", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise OutputError(f"cannot write the history ({exc.strerror})", where=str(self.history_path),
                              hint="Check the folder can be written") from None
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
        if self._mirror is not None:
            self._mirror.log(step, metrics)

    def truncate_after(self, step: int) -> None:
        """Keep only rows with ``step <= step`` (atomic rewrite); used by resume."""
        was_open = self._fh is not None
        self._ensure_lock()
        if self._fh is not None:
            self._fh.close()
            self._fh = self._writer = None
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
                npzappend.new_archive(self.samples_path, keep)
            self._snapshot_keys = set(keep)
        if was_open:
            self._open(write_header=False)

    # -- samples and JSON --------------------------------------------------------

    def snapshot(self, step: int, samples: np.ndarray, *, dtype: Any = np.float16) -> None:
        """Add ``samples`` under key ``step_<step>`` to ``samples.npz``.

        Appended in place with a crash journal, at a cost that does not grow
        with the number of snapshots; a snapshot at a step already in the
        archive replaces it (a full rewrite).
        """
        self._ensure_lock()
        key = f"step_{int(step)}"
        array = np.asarray(samples).astype(dtype)
        if self._snapshot_keys is None:
            npzappend.recover(self.samples_path)
            self._snapshot_keys = set(npzappend.member_names(self.samples_path)) if self.samples_path.exists() else set()
        try:
            if key in self._snapshot_keys:
                arrays = load_npz(self.samples_path)
                arrays[key] = array
                ordered = dict(sorted(arrays.items(), key=lambda kv: _snapshot_step(kv[0])))
                npzappend.new_archive(self.samples_path, ordered)
            else:
                npzappend.append_arrays(self.samples_path, {key: array})
        except OSError as exc:
            raise OutputError(f"cannot write the snapshot ({exc.strerror or type(exc).__name__})",
                              where=str(self.samples_path), hint="Free some space or check the folder") from None
        self._snapshot_keys.add(key)

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
        """Close the history file (rows are already on disk) and release the folder's lock."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None
        self._unlock()

    def __del__(self) -> None:
        try:
            self._unlock()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _snapshot_step(key: str) -> int:
    try:
        return int(key.rsplit("_", 1)[1])
    except (IndexError, ValueError):
        return -1
