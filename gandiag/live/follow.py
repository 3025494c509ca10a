"""Following a growing log: complete lines as they are appended, turned into rows for a Monitor.

A training script writes its log while ``gandiag watch`` reads it, so the
last line is often cut in the middle: it is held back until its line end
arrives, never reported as an error. CSV histories are parsed line by line
with the analyzer's CSV rules (a non-numeric step or metric, or a row with
more fields than the header, is the same error ``gandiag analyze`` gives);
console logs go through the console reader's scan, fed line by line, and
only rows past the last step fed are passed on.

The file is followed by identity, not by name: if it is replaced (rotated:
``mv h.csv h.csv.1`` and a new ``h.csv``), truncated, or rewritten from the
start, :meth:`LineFollower.poll` raises :class:`~gandiag.errors.InputError`
rather than mixing two files into one history. Lines longer than the read
limit (:mod:`gandiag.infra.limits`) stop the watch with a clear error too.
"""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.history.roles import INDEX_ROLES, LOSS_ROLES, Role, accepted_names, map_names
from gandiag.infra.limits import ReadLimits, current_limits

Row = tuple[int, dict[str, float | None]]

_MISSING = {"", "na", "n/a", "null", "none", "nat", "<na>"}
_NONFINITE = {"nan", "-nan", "+nan", "inf", "+inf", "-inf", "infinity", "-infinity", "+infinity"}
#: bytes compared at the start of the file and just before the read offset to notice a rewrite
FINGERPRINT = 64
#: bytes read per poll at most (a large backlog is read over several polls)
CHUNK = 4 << 20


class LineFollower:
    """The complete lines appended to a file since the last :meth:`poll`; raises if the file is replaced."""

    def __init__(self, path: Path, limits: ReadLimits | None = None):
        self.path = path
        self.limits = limits or current_limits()
        self.offset = 0
        self.lines = 0  # complete lines returned so far
        self._partial = b""
        self._identity: tuple[int, int] | None = None
        self._head = b""  # the file's first bytes, as first read
        self._before = b""  # the bytes just before ``offset``
        self.rewritten = False  # kept for callers of the old interface; poll() raises instead

    def _replaced(self, what: str) -> InputError:
        return InputError(f"the log was {what} while being watched (after {self.lines:,} lines); "
                          "the lines read so far were not mixed with the new file",
                          where=str(self.path), hint="Watch the new file from its start: run gandiag watch again")

    def poll(self) -> list[str]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._identity is not None:
                raise self._replaced("moved or deleted") from None
            return []
        except OSError as exc:
            raise InputError(f"cannot read the log ({exc.strerror})", where=str(self.path),
                             hint="Check the path and its permissions") from None
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file (a FIFO, device or folder)", where=str(self.path),
                             hint="Watch the log file itself")
        identity = (st.st_dev, st.st_ino)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            raise self._replaced("replaced by another file (rotated)")
        if st.st_size < self.offset:
            raise self._replaced("truncated")
        if st.st_size == self.offset:
            return []
        try:
            with open(self.path, "rb") as fh:
                if os.fstat(fh.fileno()).st_ino != st.st_ino:
                    raise self._replaced("replaced by another file (rotated)")
                if self._head:
                    if fh.read(len(self._head)) != self._head:
                        raise self._replaced("rewritten from the start")
                    fh.seek(self.offset - len(self._before))
                    if fh.read(len(self._before)) != self._before:
                        raise self._replaced("rewritten")
                fh.seek(self.offset)
                data = fh.read(min(st.st_size - self.offset, CHUNK))
        except OSError as exc:
            raise InputError(f"cannot read the log ({exc.strerror})", where=str(self.path),
                             hint="Check the path and its permissions") from None
        if len(self._head) < FINGERPRINT:
            self._head = (self._head + data)[:FINGERPRINT]
        self.offset += len(data)
        self._before = (self._before + data)[-FINGERPRINT:]
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]  # a line still being written
        if len(self._partial) > self.limits.max_line:
            raise LimitError(f"line {self.lines + 1:,} is longer than {self.limits.max_line:,} bytes",
                             where=str(self.path), hint=self.limits.raise_hint("max_line"))
        complete = data[:cut]
        if self.lines == 0 and complete.startswith(b"\xef\xbb\xbf"):
            complete = complete[3:]
        out = [_decode(raw) for raw in complete.split(b"\n")[:-1]] if complete else []
        for i, line in enumerate(out):
            if len(line) > self.limits.max_line:
                raise LimitError(f"line {self.lines + i + 1:,} is longer than {self.limits.max_line:,} bytes",
                                 where=str(self.path), hint=self.limits.raise_hint("max_line"))
        self.lines += len(out)
        return [line[:-1] if line.endswith("\r") else line for line in out]


def _decode(raw: bytes) -> str:
    """A line as the readers decode it: UTF-8, or Latin-1 when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class CsvRows:
    """Rows of a growing CSV history, parsed line by line with the analyzer's CSV conventions.

    A row is refused exactly where ``gandiag analyze`` refuses the file: a step
    or metric that is not a number, nan/inf or a missing marker, or more fields
    than the header. A row with fewer fields is kept with the missing fields
    empty, as pandas reads it.
    """

    def __init__(self, source: str, columns: dict[str, str] | None = None, limits: ReadLimits | None = None):
        self.source = source
        self.columns = columns
        self.limits = limits or current_limits()
        self.names: list[str] | None = None
        self.sep = ","
        self.step_col: int | None = None
        self.roles: dict[int, str] = {}
        self.offset: int | None = None
        self.row = 0
        self.line = 1  # the header's line

    def feed(self, lines: list[str]) -> Iterator[Row]:
        old = csv.field_size_limit()
        csv.field_size_limit(max(old, self.limits.max_line))  # fields are bounded by the line limit instead
        try:
            for line in lines:
                if self.names is not None:
                    self.line += 1
                if not line.strip():
                    continue
                if self.names is None:
                    self._header(line)
                    continue
                row = self._parse(line)
                if row is not None:
                    yield row
        finally:
            csv.field_size_limit(old)

    def _split(self, line: str) -> list[str]:
        try:
            return next(csv.reader([line], delimiter=self.sep))
        except csv.Error as exc:
            raise InputError(f"malformed CSV at line {self.line:,} ({exc})", where=self.source,
                             hint="Fix or remove the bad line") from None

    def _header(self, line: str) -> None:
        counts = {s: line.count(s) for s in (",", ";", "\t")}
        self.sep = max(counts, key=counts.get)
        self.names = [c.strip().strip('"') for c in self._split(line)]
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
        cells = self._split(line)
        names = self.names or []
        if len(cells) > len(names):
            raise InputError(f"malformed CSV (line {self.line:,} has {len(cells)} fields, the header {len(names)})",
                             where=self.source, hint="Every row needs as many fields as the header; fix or remove the bad line")
        cells += [""] * (len(names) - len(cells))  # a short row: the missing fields are empty, as pandas reads them
        self.row += 1
        if self.row > self.limits.max_rows:
            raise LimitError(f"more than {self.limits.max_rows:,} rows", where=self.source,
                             hint=self.limits.raise_hint("max_rows"))
        step = float(self.row)
        if self.step_col is not None:
            value = self._number(cells[self.step_col], self.step_col)
            if value is None or not np.isfinite(value) or abs(value) > 2.0**62:
                return None  # a row without a step is dropped, as offline (with a warning there)
            step = value
        if self.offset is None:
            self.offset = 1 if step == 0 else 0  # 0-based step counters become 1-based, as offline
        return int(step) + self.offset, {role: self._number(cells[i], i) for i, role in self.roles.items()}

    def _number(self, text: str, column: int) -> float | None:
        """A cell as the CSV reader reads it: a number (``%`` allowed), nan/inf, a missing marker, else an error."""
        t = text.strip().strip('"').strip()
        low = t.lower()
        if low in _MISSING:
            return None
        try:
            if low in _NONFINITE:
                return float(low)
            if "_" in t:
                raise ValueError(t)  # float() reads 1_000; the offline reader does not
            return float(t[:-1] if t.endswith("%") else t)
        except ValueError:
            name = (self.names or [""])[column]
            shown = t if len(t) <= 40 else t[:39] + "…"
            raise InputError(f"column '{name[:40]}' has a non-numeric value {shown!r} at line {self.line:,}",
                             where=self.source,
                             hint="Loss and accuracy columns must hold numbers (nan/inf are allowed)") from None


class ConsoleRows:
    """Rows of a growing console log: lines fed to the console reader's scan, new steps passed on.

    The scan keeps its records as columns of numbers, so each poll costs the
    new lines plus one pass over the columns (the layout and the step rule
    need the whole log), not a re-read of every line.
    """

    def __init__(self, source: str, columns: dict[str, str] | None = None, limits: ReadLimits | None = None):
        from gandiag.ingest.console import Scan

        self.source = source
        self.columns = columns
        self.scan = Scan(limits or current_limits())
        self.lineno = 0
        self.last_step: int | None = None
        self.unsorted = False  # the steps so far go backwards somewhere: only rows past the last step are passed on

    def feed(self, lines: list[str]) -> Iterator[Row]:
        from gandiag.history.model import build_history
        from gandiag.ingest.console import raw_table
        from gandiag.live.monitor import history_rows

        for line in lines:
            self.lineno += 1
            self.scan.line(self.lineno, line, self.source)
        if not lines or not self.scan.n_records:
            return  # no metric line yet: keep waiting
        try:
            history = build_history(raw_table(self.scan, self.source), overrides=self.columns)
        except InputError:
            return  # nothing usable yet (no loss value so far): keep waiting
        self.unsorted = any(w.startswith("steps were not strictly increasing") for w in history.warnings)
        start = 0 if self.last_step is None else int(np.searchsorted(history.steps, self.last_step, side="right"))
        for step, metrics in history_rows(history, start):
            self.last_step = step
            yield step, metrics
