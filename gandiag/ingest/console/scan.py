"""One streamed pass over a console log's lines: records kept as columns of numbers, skips counted, elisions noted.

Plans (:mod:`.plan`) are cached by line shape, and lines of one shape whose
plan is a single record are parsed in bulk with numpy (:class:`_Batch`), so a
million-line log is read in seconds and tens of megabytes.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable

import numpy as np

from gandiag.errors import LimitError
from gandiag.infra.limits import ReadLimits, current_limits
from gandiag.ingest.assemble import NEEDS_NORMALISING, assemble, normalise
from gandiag.ingest.console.lines import ANSI, decode_line
from gandiag.ingest.console.plan import (
    FREE_RUN,
    GLUED_RUN,
    GLUED_RUN_B,
    KERAS_FIT,
    MAX_PLANS,
    ZEROS,
    ZEROS_B,
    Plan,
    Spec,
    make_plan,
)
from gandiag.ingest.labels import TooManyLabels

_MAX_EXAMPLES = 5


class _Batch:
    """Lines of one shape whose plan is a single record: kept as text and parsed in bulk with numpy.

    Lines of one shape (the same bytes but for free digits) have the same length and their numbers sit
    at the same byte offsets, so a batch of them is a 2-D array of bytes and
    each number a column of it: plain decimals of up to 15 digits are summed
    digit by digit (exactly ``float()``: an integer below 2**53 divided by a
    power of ten up to 1e22 is correctly rounded), anything else goes through
    numpy's string-to-float conversion, which is also exact.
    """

    SIZE = 4096
    _PLAIN = re.compile(r"([-+]?)([0-9]*)(?:\.([0-9]*))?\Z")

    def __init__(self, sid: int, width: int, length: int, fields: list[tuple]):
        self.sid = sid
        self.reserve = array("d", bytes(8 * width))  # zeros, overwritten when the batch is parsed
        self.length = length
        self.fields = fields
        self.texts: list[bytes] = []
        self.offsets: list[int] = []

    @classmethod
    def of(cls, plan: tuple, text: str, encoding: str = "utf-8") -> _Batch | None:
        """A batch for a compiled single-record plan (not Keras progress) of lines in ``encoding``, or None."""
        if len(plan) != 1 or plan[0][0] != "fast":
            return None
        _, sid, slices = plan[0]
        fields = []
        for sl in slices:
            token = text[sl]
            if not token.isascii():
                return None
            start = len(text[: sl.start].encode(encoding))
            m = cls._PLAIN.match(token)
            digits = (m.group(2) or "") + (m.group(3) or "") if m else ""
            if m and digits and len(digits) <= 15:
                body = start + len(m.group(1))
                positions = [body + i for i, ch in enumerate(token[len(m.group(1)):]) if ch != "."]
                fields.append(("plain", positions, len(m.group(3) or ""), m.group(1) == "-"))
            else:
                fields.append(("any", start, start + len(token)))
        return cls(sid, len(slices), len(text.encode(encoding)), fields)

    def parse(self) -> np.ndarray:
        """The numbers of the waiting lines: one row per line, one column per field."""
        n = len(self.texts)
        blob = b"".join(self.texts)
        out = np.empty((n, len(self.fields)))
        if len(blob) != n * self.length:  # cannot happen for lines of one shape; parse them one by one
            raise AssertionError("lines of one shape differ in length")
        rows = np.frombuffer(blob, dtype=np.uint8).reshape(n, self.length)
        for j, field in enumerate(self.fields):
            if field[0] == "plain":
                _, positions, frac, negative = field
                digits = rows[:, positions].astype(np.int64) - 48
                mantissa = digits @ (10 ** np.arange(len(positions) - 1, -1, -1, dtype=np.int64))
                col = mantissa.astype(np.float64) / 10.0 ** frac
                out[:, j] = -col if negative else col
            else:
                _, a, b = field
                out[:, j] = np.ascontiguousarray(rows[:, a:b]).view(f"S{b - a}").ravel().astype(np.float64)
        return out


class Scan:
    """One pass over the lines: records (as columns of numbers), skips and elisions.

    Plans are cached by the line's *shape*: its text with every free digit
    made 0, plus its glued digits. Two lines of one shape have the same length
    and differ only in free digits, and every pattern the reader applies looks
    at digits by class, never by value, so they give the same plan; a plan is
    only cached after the line parsed with its free digits all 0 and all 1
    gives the same plan, and never when a label or an index number could
    depend on a digit's value.

    A record is a spec id and an offset into one flat array of values (the
    spec's index values, then its metric values), so a million records take
    tens of megabytes.
    """

    def __init__(self, limits: ReadLimits | None = None, *, cache: bool = True,
                 extra: frozenset[str] = frozenset()) -> None:
        self.extra = extra  # names given with --column (normalised): metrics although the alias table lacks them
        self.first_skip: dict[str, tuple[int, str]] = {}  # reason -> the first line skipped for it
        self.unknown_names: list[str] = []  # labelled numbers of skipped lines (for the --column hint)
        self.limits = limits or current_limits()
        self.cache: dict[str, tuple[tuple[tuple[int, int], ...], dict[tuple[str, ...], tuple]]] | None = \
            {} if cache else None
        self.bcache: dict[bytes, tuple] | None = {} if cache else None  # the same plans, keyed by raw bytes
        self.n_plans = 0
        self.specs: dict[Spec, int] = {}
        self.spec_list: list[Spec] = []
        self.rec_spec = array("q")
        self.rec_off = array("q")
        self.values = array("d")
        self.skipped: dict[str, int] = {}
        self.examples: list[str] = []
        self.elisions = array("q")  # record count where a gap starts
        self.first_lines: list[str] = []
        self.warnings: list[str] = []
        self.epoch: int | None = None  # Keras fit "Epoch 3/20" header
        self._tail_line = -1  # the line the last records came from, and how many
        self._tail_count = 0
        self.batches: list[_Batch] = []

    @property
    def n_records(self) -> int:
        return len(self.rec_spec)

    def layouts(self) -> np.ndarray:
        """The layout of every record, in order."""
        if not self.rec_spec:
            return np.zeros(0, dtype=np.int64)
        of_spec = np.array([spec.layout for spec in self.spec_list], dtype=np.int64)
        return of_spec[np.frombuffer(self.rec_spec, dtype=np.int64)]

    def skip(self, reason: str, lineno: int, text: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if reason not in self.first_skip and reason != "blank":
            self.first_skip[reason] = (lineno, text.strip()[:100])
        if len(self.examples) < _MAX_EXAMPLES and reason != "blank":
            self.examples.append(f"line {lineno}: {text.strip()[:100]}")

    # -- one line -------------------------------------------------------------------------

    def line(self, lineno: int, raw: str, where: str = "<text>") -> tuple | None:
        if "\x1b" in raw or "\r" in raw or "\b" in raw:
            if "\x1b" in raw:
                raw = ANSI.sub("", raw)
            shown = [s for s in raw.split("\r") if s.replace("\b", "").strip()]
            text = shown[-1].replace("\b", "") if shown else ""
        else:
            text = raw
        if not text or text.isspace():
            self.skip("blank", lineno, "")
            return None
        if len(self.first_lines) < 5:
            self.first_lines.append(text.strip()[:80])
        if "\x00" in text:
            self.skip("binary", lineno, repr(text[:60]))
            return None
        normalised = False
        if NEEDS_NORMALISING.search(text):
            plain = normalise(text)
            normalised = plain != text
            text = plain
        cache = self.cache
        if cache is not None:
            key = text.translate(ZEROS)
            bucket = cache.get(key)
            if bucket is not None:
                glued = tuple([text[a:b] for a, b in bucket[0]]) if bucket[0] else ()
                plan = bucket[1].get(glued)
                if plan is not None:
                    self._apply(plan, text, lineno, where)
                    return None if normalised else plan  # a plan of the normalised text: not for the raw bytes
        parsed, cacheable = self._plan_or_fail(text, lineno, where)
        plan = self._compile(parsed)
        cached = None
        if cache is not None and cacheable and self.n_plans < MAX_PLANS and self._same_shape(text, parsed):
            spans = tuple(m.span() for m in GLUED_RUN.finditer(text))
            bucket = cache.setdefault(key, (spans, {}))
            bucket[1][tuple([text[a:b] for a, b in spans])] = cached = plan
            self.n_plans += 1
        self._apply(plan, text, lineno, where)
        return None if normalised else cached

    def line_bytes(self, lineno: int, raw: bytes, where: str = "<text>") -> None:
        """A line as bytes (UTF-8, or Latin-1 when it is not UTF-8): lines of a known shape skip decoding."""
        clean = not (b"\x1b" in raw or b"\r" in raw or b"\b" in raw)
        if clean and self.bcache is not None and len(self.first_lines) >= 5:
            key = raw.translate(ZEROS_B)
            bucket = self.bcache.get(key)
            if bucket is not None:
                plan = bucket[1].get(tuple([raw[a:b] for a, b in bucket[0]]) if bucket[0] else ())
                if plan is not None:
                    if type(plan) is _Batch:
                        if len(self.rec_spec) >= self.limits.max_rows or len(self.values) > self.limits.max_cells:
                            self._too_many(where)
                        off = len(self.values)
                        self.rec_spec.append(plan.sid)
                        self.rec_off.append(off)
                        self.values.extend(plan.reserve)
                        plan.texts.append(raw)
                        plan.offsets.append(off)
                        if lineno == self._tail_line:
                            self._tail_count += 1
                        else:
                            self._tail_line, self._tail_count = lineno, 1
                        if len(plan.texts) >= _Batch.SIZE:
                            self._flush(plan)
                    else:
                        self._apply(plan, decode_line(raw), lineno, where)
                    return
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
        plan = self.line(lineno, text, where)
        if plan is not None and clean and self.bcache is not None and text == decode_line(raw):
            spans = tuple(m.span() for m in GLUED_RUN_B.finditer(raw))
            bucket = self.bcache.setdefault(raw.translate(ZEROS_B), (spans, {}))
            batch = _Batch.of(plan, text, encoding)
            if batch is not None:
                self.batches.append(batch)
            bucket[1][tuple([raw[a:b] for a, b in spans])] = batch or plan

    def _flush(self, batch: _Batch) -> None:
        if not batch.texts:
            return
        block = batch.parse()
        values = np.frombuffer(self.values, dtype=np.float64)
        values[np.asarray(batch.offsets, dtype=np.int64)[:, None] + np.arange(block.shape[1])] = block
        del values  # an array exporting its buffer cannot grow
        batch.texts.clear()
        batch.offsets.clear()

    def flush(self) -> None:
        """Parse the numbers of every line still waiting in a batch."""
        for batch in self.batches:
            self._flush(batch)

    def _too_many(self, where: str) -> None:
        if len(self.values) > self.limits.max_cells:
            raise LimitError(f"more than {self.limits.max_cells:,} numbers", where=where,
                             hint=self.limits.raise_hint("max_cells"))
        raise LimitError(f"more than {self.limits.max_rows:,} metric lines", where=where,
                         hint=self.limits.raise_hint("max_rows"))

    def _plan_or_fail(self, text: str, lineno: int, where: str) -> tuple[Plan, bool]:
        try:
            return make_plan(text, self.limits.max_labels, self.extra)
        except TooManyLabels:
            raise LimitError(f"line {lineno:,} holds more than {self.limits.max_labels:,} labelled numbers",
                             where=where, hint=self.limits.raise_hint("max_labels")) from None

    def _same_shape(self, text: str, plan: Plan) -> bool:
        """The plan does not depend on the values of the line's free digits (checked with all 0 and all 1)."""
        for digit in "01":
            variant = FREE_RUN.sub(lambda m, d=digit: d * len(m.group()), text)
            try:
                if make_plan(variant, self.limits.max_labels, self.extra) != (plan, True):
                    return False
            except TooManyLabels:
                return False
        return True

    def _compile(self, plan: Plan) -> tuple:
        """The plan's items with spec ids and slices, ready to apply to any line of its shape."""
        out = []
        for item in plan.items:
            if item[0] != "record":
                out.append(item)
                continue
            _, spec, spans, piece = item
            sid = self.specs.get(spec)
            if sid is None:
                sid = self.specs[spec] = len(self.spec_list)
                self.spec_list.append(spec)
            slices = tuple(slice(a, b) for a, b in spans)
            if spec.layout == KERAS_FIT:
                out.append(("keras", sid, slices, piece))
            else:
                out.append(("fast", sid, slices))
        return tuple(out)

    def _apply(self, plan: tuple, text: str, lineno: int, where: str) -> None:
        for item in plan:
            kind = item[0]
            if kind == "fast":
                self._add(item[1], lineno, map(float, map(text.__getitem__, item[2])), where)
            elif kind == "keras":
                _, sid, slices, (ps, pe) = item
                if self.epoch is None:
                    self.skip("keras progress before an 'Epoch N/M' line", lineno, text[ps:pe])
                    continue
                n = len(self.rec_spec)
                if n and self.spec_list[self.rec_spec[n - 1]].layout == KERAS_FIT \
                        and self.values[self.rec_off[n - 1]] == self.epoch:
                    self._pop()  # a later state of the same epoch's progress bar
                values = [float(self.epoch)]
                values.extend(map(float, map(text.__getitem__, slices)))
                self._add(sid, lineno, values, where)
            elif kind == "skip":
                self.skip(item[1], lineno, text[item[2][0]:item[2][1]])
                if len(item) > 3 and len(self.unknown_names) < 8:
                    for label in item[3]:
                        if label not in self.unknown_names and len(self.unknown_names) < 8:
                            self.unknown_names.append(label)
            elif kind == "elision":
                self.elisions.append(len(self.rec_spec))
                self.skip("elision", lineno, text[item[1][0]:item[1][1]])
            else:  # "header"
                self.epoch = int(text[item[1][0]:item[1][1]])
                self.skipped["epoch header"] = self.skipped.get("epoch header", 0) + 1

    def _add(self, sid: int, lineno: int, values, where: str) -> None:
        if len(self.rec_spec) >= self.limits.max_rows or len(self.values) > self.limits.max_cells:
            self._too_many(where)
        self.rec_spec.append(sid)
        self.rec_off.append(len(self.values))
        self.values.extend(values)
        if lineno == self._tail_line:
            self._tail_count += 1
        else:
            self._tail_line, self._tail_count = lineno, 1

    def _pop(self) -> None:
        del self.values[self.rec_off[-1]:]
        self.rec_spec.pop()
        self.rec_off.pop()
        self._tail_count -= 1
        if self._tail_count <= 0:
            self._tail_line, self._tail_count = -1, 0

    def finish(self, last: int, terminated: bool, source: str) -> None:
        """Parse what waits in batches; drop the records of a last line without a line end (maybe cut)."""
        self.flush()
        if terminated or not self.rec_spec or self._tail_line != last:
            return
        while self._tail_count:
            self._pop()
        self.skipped["cut last line"] = self.skipped.get("cut last line", 0) + 1
        self.warnings.append(f"{source}:{last}: the last line has no line end (the log may have been cut "
                             "while being written); it was dropped")


def scan_lines(lines: Iterable[str] | Iterable[bytes], source: str, limits: ReadLimits | None = None, *,
               cache: bool = True, extra: frozenset[str] = frozenset()) -> Scan:
    """Scan lines given as text, or as bytes (UTF-8 with a Latin-1 fallback per line); each keeps its line end.

    The loop handles the common line itself (bytes of a known shape whose plan
    is one record, see :class:`_Batch`) and leaves every other line to the scan.
    """
    scan = Scan(limits, cache=cache, extra=extra)
    lineno, terminated = 0, True
    line_bytes, line_text = scan.line_bytes, scan.line
    bcache = scan.bcache
    rec_spec, rec_off, values = scan.rec_spec, scan.rec_off, scan.values
    max_rows, max_cells, size, zeros = scan.limits.max_rows, scan.limits.max_cells, _Batch.SIZE, ZEROS_B
    ready = False  # the first five lines are seen (they are kept for error messages)
    hot_last = -1
    for lineno, raw in enumerate(assemble(lines), 1):  # records printed over several lines joined into one
        if type(raw) is bytes:
            terminated = raw[-1:] == b"\n"
            if terminated:
                raw = raw[:-1]
            if ready and not (b"\x1b" in raw or b"\r" in raw or b"\b" in raw):
                bucket = bcache.get(raw.translate(zeros))
                if bucket is not None:
                    spans = bucket[0]
                    plan = bucket[1].get(tuple([raw[a:b] for a, b in spans]) if spans else ())
                    if type(plan) is _Batch:
                        if len(rec_spec) >= max_rows or len(values) > max_cells:
                            scan._too_many(source)
                        off = len(values)
                        rec_spec.append(plan.sid)
                        rec_off.append(off)
                        values.extend(plan.reserve)
                        plan.texts.append(raw)
                        plan.offsets.append(off)
                        hot_last = lineno
                        if len(plan.texts) >= size:
                            scan._flush(plan)
                        continue
            line_bytes(lineno, raw, source)
            if not ready:
                ready = bcache is not None and len(scan.first_lines) >= 5
        else:
            terminated = raw.endswith("\n")
            line_text(lineno, raw[:-1] if terminated else raw, source)
    if hot_last > scan._tail_line:  # a line handled here gave exactly one record
        scan._tail_line, scan._tail_count = hot_last, 1
    scan.finish(lineno, terminated, source)
    return scan
