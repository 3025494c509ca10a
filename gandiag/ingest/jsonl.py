"""JSON lines: one object per logged step (``{"step": 12, "d_loss": 0.61, ...}``).

- Nested objects are flattened with ``/`` (``{"loss": {"d": 0.6}}`` -> ``loss/d``),
  so the alias table sees ``loss/d`` like a TensorBoard tag; a name it does
  not know is tried without the prefixes TensorBoard tags lose
  (:data:`gandiag.ingest.labels.STRIPPED_PREFIXES`, e.g. ``losses/g_loss`` ->
  ``g_loss``; the original key is kept in ``notes['original_names']``).
- Numbers, booleans excluded, are values; so are strings that are exactly a
  number or ``nan``/``inf`` (trackers write ``"NaN"``); JSON's ``NaN`` and
  ``Infinity`` tokens are accepted. Anything else (strings, lists) is ignored.
- The step is the first of ``step``, ``global_step``, ``_step``,
  ``iteration``, ``iter`` present; without one, ``epoch`` is the step (the
  step unit is then the epoch); without either, the line order. A step
  counted from 0 is shifted by one (gandiag counts completed generator updates
  from 1) and the shift is noted.
- A last line that is not valid JSON is dropped with a warning (a log cut
  while being written); other invalid lines are skipped and counted; so is a
  line too deeply nested to parse. Objects nested deeper than
  :data:`MAX_DEPTH` levels are ignored.
- Lines are read one at a time under the read limits (:mod:`gandiag.infra.limits`):
  line length, rows, different keys and numbers kept.
"""

from __future__ import annotations

import json
import re
from array import array
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.history.model import RawTable
from gandiag.history.roles import resolve_role
from gandiag.infra.files import open_log
from gandiag.infra.limits import ReadLimits, current_limits
from gandiag.ingest.console import decode
from gandiag.ingest.labels import shorten

FORMAT = "jsonl"

STEP_KEYS = ("step", "global_step", "_step", "iteration", "iter")
_NUMBER = re.compile(r"\s*[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|infinity)\s*\Z", re.IGNORECASE)
_MAX_EXAMPLES = 5


#: nested objects deeper than this are ignored (their keys would be a path of this many parts)
MAX_DEPTH = 32


def _flatten(obj: dict, prefix: str = "", out: dict[str, float] | None = None, depth: int = 0) -> dict[str, float]:
    out = {} if out is None else out
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth < MAX_DEPTH:
                _flatten(value, name + "/", out, depth + 1)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float) or isinstance(value, int) and abs(value) < 2**1023 or isinstance(value, str) and len(value) < 100 and _NUMBER.match(value):
            out[name] = float(value)
    return out


def _index_column(columns: dict[str, np.ndarray], notes: dict) -> None:
    """Make ``step`` the run's step (see the module docstring)."""
    lower = {name.lower(): name for name in columns}
    key = next((lower[k] for k in STEP_KEYS if k in lower), None)
    unit = "generator update"
    if key is None and "epoch" in lower:
        key, unit = lower["epoch"], "epoch"
    if key is None:
        notes["step_rule"] = "step = order of the line (no step key)"
        notes["step_unit"] = "line"
        return
    step = columns.pop(key).copy()
    finite = step[np.isfinite(step)]
    rule = f"step = '{key}'"
    if finite.size and finite.min() == 0:
        step = step + 1
        rule += " + 1 (logged from 0)"
    columns_in_order = {"step": step}
    columns_in_order.update(columns)
    columns.clear()
    columns.update(columns_in_order)
    notes["step_rule"] = rule
    notes["step_unit"] = unit
    notes["step_key"] = key


class _Rows:
    """JSON-object lines read one at a time, kept as sparse columns (row numbers and values per name)."""

    def __init__(self, source: str, limits: ReadLimits):
        self.source, self.limits = source, limits
        self.n = 0
        self.rows: dict[str, array] = {}
        self.values: dict[str, array] = {}
        self.nan_rows: dict[str, array] = {}  # rows where the name was logged as NaN
        self.cells = 0
        self.skipped: dict[str, int] = {}
        self.examples: list[str] = []
        self.warnings: list[str] = []
        self.first: list[str] = []
        self._cut: tuple[int, str] | None = None  # the latest line that is not JSON: the cut last line if it stays last

    def line(self, i: int, line: str) -> None:
        if not line.strip():
            return
        if len(self.first) < 5:
            self.first.append(repr(line.strip()[:60]))
        if self._cut is not None:
            self._count("not a JSON object")
            self._cut = None
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # a line of 100,000 '[' is not JSON either
            obj = None
        if not isinstance(obj, dict):
            if len(self.examples) < _MAX_EXAMPLES:
                self.examples.append(f"line {i + 1}: {line.strip()[:100]}")
            if obj is None:
                self._cut = (i, line)
            else:
                self._count("not a JSON object")
            return
        row = _flatten(obj)
        limits = self.limits
        if self.n >= limits.max_rows:
            raise LimitError(f"more than {limits.max_rows:,} JSON objects", where=self.source,
                             hint=limits.raise_hint("max_rows"))
        for name, value in row.items():
            rows = self.rows.get(name)
            if rows is None:
                if len(self.rows) >= limits.max_labels:
                    raise LimitError(f"more than {limits.max_labels:,} different keys", where=self.source,
                                     hint=limits.raise_hint("max_labels"))
                rows = self.rows[name] = array("q")
                self.values[name] = array("d")
            rows.append(self.n)
            self.values[name].append(value)
            if value != value:
                self.nan_rows.setdefault(name, array("q")).append(self.n)
        self.cells += len(row)
        if self.cells > limits.max_cells:
            raise LimitError(f"more than {limits.max_cells:,} numbers", where=self.source,
                             hint=limits.raise_hint("max_cells"))
        self.n += 1

    def _count(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def table(self) -> RawTable:
        source = self.source
        if self._cut is not None:
            i, _ = self._cut
            self.warnings.append(f"{source}:{i + 1}: the last line is not complete JSON (the log may have been cut "
                                 "while being written); it was dropped")
            self._count("cut last line")
        if not self.n:
            first = " | ".join(self.first)[:200] or "nothing"
            raise InputError(f"no JSON object lines found (first lines: {first})", where=source,
                             hint="Write one JSON object per line, e.g. {\"step\": 1, \"d_loss\": 0.61, \"g_loss\": 0.87}")
        if self.n * len(self.rows) > self.limits.max_cells:
            raise LimitError(f"{self.n:,} rows of {len(self.rows):,} keys are more than {self.limits.max_cells:,} "
                             "numbers", where=source, hint=self.limits.raise_hint("max_cells"))
        warnings = list(self.warnings)
        if self.skipped.get("not a JSON object"):
            warnings.append(f"{self.skipped['not a JSON object']} line(s) were not JSON objects and were skipped")
        columns: dict[str, np.ndarray] = {}
        logged_nan: dict[str, np.ndarray] = {}
        for name, rows in self.rows.items():
            col = np.full(self.n, np.nan)
            col[np.frombuffer(rows, dtype=np.int64)] = np.frombuffer(self.values[name], dtype=np.float64)
            columns[name] = col
            nan = np.zeros(self.n, dtype=bool)
            if name in self.nan_rows:
                nan[np.frombuffer(self.nan_rows[name], dtype=np.int64)] = True
            logged_nan[name] = nan
        notes: dict[str, object] = {"skipped": self.skipped, "skipped_examples": self.examples, "records": self.n}
        renamed = _shorten_names(list(columns))
        if renamed:
            columns = {renamed.get(k, k): v for k, v in columns.items()}
            logged_nan = {renamed.get(k, k): v for k, v in logged_nan.items()}
            notes["original_names"] = {new: old for old, new in renamed.items()}
        _index_column(columns, notes)
        nonfinite = {name: np.isinf(col) | logged_nan[name] for name, col in columns.items()
                     if name in logged_nan and name != "step"}
        return RawTable(columns=columns, source=source, input_format=FORMAT, nonfinite=nonfinite,
                        warnings=tuple(warnings), notes=notes)


def read_text(text: str, source: str = "<text>") -> RawTable:
    """Read JSON lines given as a string."""
    rows = _Rows(source, current_limits())
    for i, line in enumerate(text.split("\n")):
        rows.line(i, line)
    return rows.table()


def _shorten_names(names: list[str]) -> dict[str, str]:
    """Nested keys the alias table does not know, shortened when a known prefix hides a series name."""
    taken = set(names)
    out = {}
    for name in names:
        if "/" not in name and not name.lower().startswith(("train_", "epoch_", "batch_")):
            continue
        if resolve_role(name) is not None:
            continue
        short = shorten(name)
        if short is not None and short not in taken:
            out[name] = short
            taken.add(short)
    return out


def read(path: Path | str, **options) -> RawTable:
    """Read a JSON-lines history file (optionally gzip-compressed), streaming under the read limits."""
    with open_log(path) as stream:
        source = str(path) if str(path) != "-" else stream.where
        rows = _Rows(source, stream.limits)
        i = -1
        for i, line in enumerate(_decoded_lines(stream)):
            rows.line(i, line)
        table = rows.table()
    if stream.warnings:
        table = RawTable(columns=table.columns, source=table.source, input_format=table.input_format,
                         nonfinite=table.nonfinite, warnings=tuple(stream.warnings) + table.warnings,
                         notes=table.notes)
    return table


def _decoded_lines(stream):
    """Lines as text, as ``decode(data).split("\n")`` gives them (UTF-16 with a BOM, else UTF-8 per line)."""
    from gandiag.ingest.console import text_lines

    for line in text_lines(stream):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                line = line.decode("latin-1")
        yield line[:-1] if line.endswith("\n") else line


def sniff(path: Path, head: bytes) -> float:
    """JSON lines: most non-blank lines of the head are JSON objects."""
    if not head or path.is_dir():
        return 0.0
    name = path.name.lower()
    lines = [ln.strip() for ln in decode(head).split("\n") if ln.strip()][:50]
    if not lines:
        return 0.0
    good = 0
    for ln in lines[:-1] if len(lines) > 1 else lines:
        try:
            good += isinstance(json.loads(ln), dict)
        except (ValueError, RecursionError):
            pass
    fraction = good / max(1, len(lines) - 1 if len(lines) > 1 else 1)
    if fraction == 0:
        return 0.0
    bonus = 0.05 if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".json")) else 0.0
    return min(1.0, 0.5 + 0.45 * fraction + bonus)
