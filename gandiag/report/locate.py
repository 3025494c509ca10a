"""The line of a log that holds a given step, so code-scanning reports can point at the onset of a failure.

SARIF and GitLab Code Quality locate each result at a line of a file. A
diagnosis knows the *step* where a failure began; this module finds the line
of the history that logged it, with one streamed pass over the file:

- CSV: the header is line 1; the step column is the one the history's ``step``
  role came from (``Diagnosis.inputs['columns']``), else the row number. A
  step column that starts at 0 was shifted to 1-based by the reader, and is
  shifted here the same way. When the exact step was not logged (a merged or
  sparse history), the first row past it is taken.
- JSON lines: the same, with the step keys the JSONL reader accepts.

Other inputs (console logs, TensorBoard folders, MLflow runs) are not located:
their records do not map to lines one to one, and a report then names the file
without a line.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from gandiag.errors import GandiagError
from gandiag.verdict.diagnosis import Diagnosis


def _locatable(d: Diagnosis) -> str | None:
    fmt = str(d.inputs.get("format") or "")
    source = d.source
    if fmt not in ("csv", "jsonl") or source in ("-", "<stdin>") or not Path(source).is_file():
        return None
    return fmt


def step_lines(d: Diagnosis, steps: Iterable[int]) -> dict[int, int]:
    """``{step: line}`` (1-based lines) for the ``steps`` found in the history ``d`` was read from.

    Steps that cannot be located are left out; an unreadable file gives ``{}``
    (the report then names the file without a line).
    """
    wanted = sorted({int(s) for s in steps if s is not None})
    fmt = _locatable(d)
    if not wanted or fmt is None:
        return {}
    from gandiag.infra.files import iter_lines, open_log

    step_name = (d.inputs.get("columns") or {}).get("step")
    try:
        stream = open_log(d.source)
    except GandiagError:
        return {}
    try:
        lines = (raw.decode("utf-8", errors="replace") for raw in iter_lines(stream))
        pairs = _csv_steps(lines, step_name) if fmt == "csv" else _jsonl_steps(lines)
        return _match(pairs, wanted)
    except (GandiagError, OSError, ValueError):
        return {}
    finally:
        stream.close()


def _match(pairs: Iterable[tuple[int, float]], wanted: list[int]) -> dict[int, int]:
    """The first line whose step is at or past each wanted step, in the readers' 1-based numbering.

    Both numberings are tracked in one pass (as logged, and shifted by one) and
    the shifted one is used when the smallest logged step is 0.
    """
    as_logged: dict[int, int] = {}
    shifted: dict[int, int] = {}
    lowest = math.inf
    for lineno, step in pairs:
        lowest = min(lowest, step)
        for target, offset in ((as_logged, 0.0), (shifted, 1.0)):
            for w in wanted:
                if w not in target and step + offset >= w:
                    target[w] = lineno
    return shifted if lowest == 0 else as_logged


def _csv_steps(lines: Iterable[str], step_name: str | None):
    """``(line, step)`` of each data row of a CSV history."""
    it = iter(lines)
    header_line = next(it, "").lstrip("\ufeff")
    sep = max((",", ";", "\t"), key=header_line.count)
    header = [c.strip().strip('"') for c in next(csv.reader([header_line], delimiter=sep), [])]
    col = header.index(step_name) if step_name in header else None
    row = 0
    for lineno, line in enumerate(it, start=2):
        if not line.strip():
            continue
        row += 1
        if col is None:
            yield lineno, float(row)
            continue
        fields = next(csv.reader([line], delimiter=sep), [])
        try:
            value = float(fields[col])
        except (IndexError, ValueError):
            continue
        if math.isfinite(value):
            yield lineno, value


def _jsonl_steps(lines: Iterable[str]):
    """``(line, step)`` of each JSON object with a step key (the JSONL reader's keys), else its order."""
    from gandiag.ingest.jsonl import STEP_KEYS

    row = 0
    for lineno, line in enumerate(lines, start=1):
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, Mapping):
            continue
        row += 1
        lower = {str(k).lower(): v for k, v in obj.items()}
        key = next((k for k in STEP_KEYS if k in lower), None) or ("epoch" if "epoch" in lower else None)
        value = lower.get(key) if key else row
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            yield lineno, float(value)
