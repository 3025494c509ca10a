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
  while being written); other invalid lines are skipped and counted.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from ._bytes import read_log_bytes
from ..errors import InputError
from ..history import RawTable
from ..roles import resolve_role
from .console import decode
from .labels import shorten

FORMAT = "jsonl"

STEP_KEYS = ("step", "global_step", "_step", "iteration", "iter")
_NUMBER = re.compile(r"\s*[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|infinity)\s*\Z", re.IGNORECASE)
_MAX_EXAMPLES = 5


def _flatten(obj: dict, prefix: str = "", out: dict[str, float] | None = None) -> dict[str, float]:
    out = {} if out is None else out
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, name + "/", out)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float) or isinstance(value, int) and abs(value) < 2**1023:
            out[name] = float(value)
        elif isinstance(value, str) and len(value) < 100 and _NUMBER.match(value):
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


def read_text(text: str, source: str = "<text>") -> RawTable:
    """Read JSON lines given as a string."""
    lines = text.split("\n")
    rows: list[dict[str, float]] = []
    skipped: dict[str, int] = {}
    examples: list[str] = []
    warnings: list[str] = []
    last_content = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            obj = None
        if not isinstance(obj, dict):
            if i == last_content and obj is None:
                warnings.append(f"{source}:{i + 1}: the last line is not complete JSON (the log may have been cut "
                                "while being written); it was dropped")
                reason = "cut last line"
            else:
                reason = "not a JSON object"
            skipped[reason] = skipped.get(reason, 0) + 1
            if len(examples) < _MAX_EXAMPLES:
                examples.append(f"line {i + 1}: {line.strip()[:100]}")
            continue
        rows.append(_flatten(obj))
    if not rows:
        first = " | ".join(repr(ln.strip()[:60]) for ln in lines if ln.strip())[:200] or "nothing"
        raise InputError(f"no JSON object lines found (first lines: {first})", where=source,
                         hint="Write one JSON object per line, e.g. {\"step\": 1, \"d_loss\": 0.61, \"g_loss\": 0.87}")
    if skipped.get("not a JSON object"):
        warnings.append(f"{skipped['not a JSON object']} line(s) were not JSON objects and were skipped")
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    n = len(rows)
    columns = {name: np.array([row.get(name, math.nan) for row in rows], dtype=float) for name in names}
    logged_nan = {name: _logged_nan(rows, name) for name in names}
    notes: dict[str, object] = {"skipped": skipped, "skipped_examples": examples, "records": n}
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


def _logged_nan(rows: list[dict[str, float]], name: str) -> np.ndarray:
    return np.array([name in row and math.isnan(row[name]) for row in rows], dtype=bool)


def read(path: Path | str, **options) -> RawTable:
    """Read a JSON-lines history file (optionally gzip-compressed)."""
    path = Path(path)
    data = read_log_bytes(path)
    return read_text(decode(data), str(path))


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
        except ValueError:
            pass
    fraction = good / max(1, len(lines) - 1 if len(lines) > 1 else 1)
    if fraction == 0:
        return 0.0
    bonus = 0.05 if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".json")) else 0.0
    return min(1.0, 0.5 + 0.45 * fraction + bonus)
