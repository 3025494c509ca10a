"""Following a growing log: complete lines as they are appended, turned into rows for a Monitor.

A training script writes its log while ``gandiag watch`` reads it, so the
last line is often cut in the middle: it is held back until its line end
arrives, never reported as an error. CSV histories are parsed line by line;
console logs are re-read through the console reader (its layout and step
rules need the lines seen so far) and only rows past the last step fed are
passed on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..roles import INDEX_ROLES, LOSS_ROLES, Role, accepted_names, map_names

Row = tuple[int, dict[str, float | None]]

_MISSING = {"", "na", "n/a", "null", "none", "nat", "<na>"}


class LineFollower:
    """The complete lines appended to a file since the last :meth:`poll`."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self._partial = b""
        self.rewritten = False  # set when the file shrank (rewritten from the start)

    def poll(self) -> list[str]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.offset:
            self.offset, self._partial, self.rewritten = 0, b"", True
        if size == self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(size - self.offset)
        self.offset += len(data)
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]  # a line still being written
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
            cut -= 3
        return data[:cut].decode("utf-8", errors="replace").splitlines()


class CsvRows:
    """Rows of a growing CSV history, parsed line by line (the analyzer's CSV conventions)."""

    def __init__(self, source: str, columns: dict[str, str] | None = None):
        self.source = source
        self.columns = columns
        self.names: list[str] | None = None
        self.sep = ","
        self.step_col: int | None = None
        self.roles: dict[int, str] = {}
        self.offset: int | None = None
        self.row = 0

    def feed(self, lines: list[str]) -> Iterator[Row]:
        for line in lines:
            if not line.strip():
                continue
            if self.names is None:
                self._header(line)
                continue
            row = self._parse(line)
            if row is not None:
                yield row

    def _header(self, line: str) -> None:
        counts = {s: line.count(s) for s in (",", ";", "\t")}
        self.sep = max(counts, key=counts.get)
        self.names = [c.strip().strip('"') for c in next(csv.reader([line], delimiter=self.sep))]
        mapping = map_names(self.names, self.columns)
        if not any(r in mapping for r in LOSS_ROLES):
            accepted = "; ".join(f"{r.value}: {', '.join(accepted_names(r)[:6])}" for r in LOSS_ROLES)
            raise InputError("no recognisable loss column in the header (found: " + ", ".join(self.names[:20]) + ")",
                             where=self.source, hint=f"Accepted names include {accepted}; or map one with --column")
        index = {name: i for i, name in enumerate(self.names)}
        if Role.STEP in mapping:
            self.step_col = index[mapping[Role.STEP]]
        self.roles = {index[name]: role.value for role, name in mapping.items() if role not in INDEX_ROLES}

    def _parse(self, line: str) -> Row | None:
        cells = next(csv.reader([line], delimiter=self.sep))
        self.row += 1
        if len(cells) < len(self.names or ()):
            return None  # a short row (a crash mid-write, then a restart): the offline reader rejects it too
        step = float(self.row)
        if self.step_col is not None:
            try:
                step = float(cells[self.step_col])
            except ValueError:
                return None
        if self.offset is None:
            self.offset = 1 if step == 0 else 0  # 0-based step counters become 1-based, as offline
        return int(step) + self.offset, {role: _number(cells[i]) for i, role in self.roles.items()}


def _number(text: str) -> float | None:
    t = text.strip().strip('"')
    if t.lower() in _MISSING:
        return None
    try:
        return float(t.rstrip("%"))
    except ValueError:
        return None


class ConsoleRows:
    """Rows of a growing console log: the lines so far re-read by the console reader, new steps passed on."""

    def __init__(self, source: str, columns: dict[str, str] | None = None):
        self.source = source
        self.columns = columns
        self.lines: list[str] = []
        self.last_step: int | None = None

    def feed(self, lines: list[str]) -> Iterator[Row]:
        from ..history import build_history
        from ..ingest.console import read_text
        from ..monitor import history_rows

        self.lines.extend(lines)
        if not lines:
            return
        try:
            history = build_history(read_text("\n".join(self.lines) + "\n", self.source), overrides=self.columns)
        except InputError:
            return  # no metric line yet: keep waiting
        start = 0 if self.last_step is None else int(np.searchsorted(history.steps, self.last_step, side="right"))
        for step, metrics in history_rows(history, start):
            self.last_step = step
            yield step, metrics
