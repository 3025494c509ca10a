"""Console logs: what a training script printed.

The reader is general: every line is lexed into labelled numbers
(:mod:`gandiag.ingest.labels`) whose labels go through the alias table, and a
*layout* only says how the start of a line gives the step. Layouts are small
templates (``"[{epoch0}/{epochs}][{batch0}/{batches}]"``), tried in order;
the layout that recognises most lines wins and the others' lines are skipped.

Template fields: ``step``, ``epoch``, ``batch`` (as printed, 1-based),
``step0``, ``epoch0``, ``batch0`` (0-based) and the totals ``epochs`` and
``batches``. A space stands for any run of blanks.

Steps (gandiag counts completed generator updates from 1)
----------------------------------------------------------
- a printed step: itself, plus one when it counts from 0 (``step0``, or a
  labelled ``step``/``iter`` whose first value is 0);
- epoch and batch: ``(epoch - 1) * batches + batch`` with both made 1-based;
  ``batches`` is the printed total or, when not printed, the largest batch
  seen (noted as an estimate); a labelled ``Step`` that restarts every epoch
  counts as a batch;
- epoch only (per-epoch prints, Keras ``fit``): the 1-based epoch; the step
  unit is then ``epoch`` (``notes['step_unit']``);
- nothing (``INFO:root:Generator loss: ...``): the order of the line.

Lines that give no metric are skipped and counted by reason with examples;
``...``, ``…`` and ``[...]`` elisions are recorded as gaps between the steps
around them. Carriage returns keep only the last state of a progress bar, ANSI
colour codes and backspaces are removed, and a last line without a line end
is dropped with a warning (it may have been cut while being written).

Reading is streamed line by line under the read limits (:mod:`gandiag.infra.limits`:
line length, labelled numbers per line, rows) and the rows are kept as columns
of numbers, not objects, so a million-line log needs tens of megabytes. Lines
of one log mostly share one shape (the same text with other digits), so each
shape is parsed once into a *plan* (which layout, which printed numbers go to
which column) and later lines of that shape only have their numbers read; see
:class:`_Scan`.
"""

from __future__ import annotations

import codecs
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, LimitError
from gandiag.history.model import RawTable
from gandiag.history.roles import INDEX_ROLES, METRIC_ROLES, normalize_name
from gandiag.infra.files import iter_lines, open_log
from gandiag.infra.limits import ReadLimits, current_limits
from gandiag.ingest.assemble import NEEDS_NORMALISING, assemble, normalise
from gandiag.ingest.labels import Labelled, TooManyLabels, lex
from gandiag.ingest.layouts import BY_NAME, IGNORED_NAMES, LAYOUTS, Layout

FORMAT = "console"


# The registry lives in its own module; the names stay importable from here.
_BY_NAME = BY_NAME


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_KERAS_HEADER = re.compile(r"\s*Epoch\s+(\d+)\s*/\s*(\d+)\s*$", re.IGNORECASE)
_PREFIXES = (
    re.compile(r"\s*\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?\s*(?:[-|:]\s+)?"),
    re.compile(r"\s*[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+[\w.]+:\d+\]\s*"),  # absl
    re.compile(r"\s*(?:[\w.<>]+\s+-\s+)?\[?(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]?"
               r"(?::[\w.<>-]*:|\s*[-:|]\s+|\s+)", re.IGNORECASE),
)
_ELISION = re.compile(r"\s*(?:\.{3,}|…|\[\s*(?:\.{3,}|…)\s*\])\s*$")
# Web pages that show the tutorial's output often join its lines: ">5, d1=... a2=9 ... >446, d1=...".
_INLINE_SPLIT = re.compile(r"\s+(\.{3,}|…|\[\s*(?:\.{3,}|…)\s*\])(?=\s+>\d+,)|\s+(?=>\d+,)")
_MAX_EXAMPLES = 5
_METRICS = frozenset(METRIC_ROLES)
_TOTALS = {"step": "steps", "epoch": "epochs", "batch": "batches"}
_LAYOUT_INDEX = {layout.name: i for i, layout in enumerate(LAYOUTS)}
_KERAS_FIT = _LAYOUT_INDEX["keras-fit"]

#: Shapes of lines remembered (a log has a handful; more only when numbers change width).
MAX_PLANS = 4096
# A run of ASCII digits is "free" unless it is glued to a word ("d1", "a2", "Step12"):
# free digits are the printed numbers, which may change from line to line of one shape.
_FREE_RUN = re.compile(r"(?<![A-Za-z_0-9])[0-9]+")
_GLUED_RUN = re.compile(r"(?<=[A-Za-z_])[0-9]+")
_ZEROS = str.maketrans("0123456789", "0000000000")
_ZEROS_B = bytes.maketrans(b"0123456789", b"0000000000")
_GLUED_RUN_B = re.compile(rb"(?<=[A-Za-z_])[0-9]+")


def strip_prefix(text: str) -> str:
    """Remove timestamps and Python-logging/absl prefixes from a line."""
    for _ in range(3):
        before = text
        for pattern in _PREFIXES:
            m = pattern.match(text)
            if m and m.end() > 0:
                text = text[m.end():]
        if text == before:
            break
    return text


def _metric_tokens(tokens: list[Labelled]) -> list[Labelled]:
    return [t for t in tokens if t.label and not t.fraction and t.role not in INDEX_ROLES]


def _has_metric(tokens: list[Labelled], extra: frozenset[str] = frozenset()) -> bool:
    """Whether a labelled number names a metric: through the alias table, or a name given with ``--column``."""
    return any(t.role in _METRICS or (extra and normalize_name(t.label) in extra) for t in _metric_tokens(tokens))


def decode(data: bytes) -> str:
    """Bytes to text: UTF-16 with a BOM, else UTF-8 line by line with a Latin-1 fallback."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    for raw in data.split(b"\n"):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _text_lines(stream) -> Iterator[str] | Iterator[bytes]:
    """A log's lines, split on ``\n`` only (a ``\r`` is a progress-bar state, handled later), each with its end.

    UTF-16 (with a BOM) comes as text; anything else as bytes, decoded per
    line as UTF-8 with a Latin-1 fallback: ``decode(data).split("\n")``.
    """
    head = stream.head(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        pending = ""
        while True:
            chunk = stream.read(1 << 16)
            final = not chunk
            pending += decoder.decode(chunk or b"", final=final)
            *complete, pending = pending.split("\n")
            yield from (line + "\n" for line in complete)
            if final:
                if pending:
                    yield pending
                return
    if head.startswith(codecs.BOM_UTF8):
        stream.skip(3)
    yield from iter_lines(stream)  # bytes: decoded line by line by the scan (most lines never need it)


@dataclass(frozen=True)
class _Spec:
    """The columns one record fills: index keys then metric names (the values come from the line)."""

    layout: int
    index_keys: tuple[str, ...]
    names: tuple[str, ...]
    percent: tuple[bool, ...]


@dataclass(frozen=True)
class _Plan:
    """How a line of one shape becomes skips, elisions, headers and records (positions in the line)."""

    items: tuple[tuple, ...]


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


class _Scan:
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
        self.specs: dict[_Spec, int] = {}
        self.spec_list: list[_Spec] = []
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
                raw = _ANSI.sub("", raw)
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
            key = text.translate(_ZEROS)
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
            spans = tuple(m.span() for m in _GLUED_RUN.finditer(text))
            bucket = cache.setdefault(key, (spans, {}))
            bucket[1][tuple([text[a:b] for a, b in spans])] = cached = plan
            self.n_plans += 1
        self._apply(plan, text, lineno, where)
        return None if normalised else cached

    def line_bytes(self, lineno: int, raw: bytes, where: str = "<text>") -> None:
        """A line as bytes (UTF-8, or Latin-1 when it is not UTF-8): lines of a known shape skip decoding."""
        clean = not (b"\x1b" in raw or b"\r" in raw or b"\b" in raw)
        if clean and self.bcache is not None and len(self.first_lines) >= 5:
            key = raw.translate(_ZEROS_B)
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
                        self._apply(plan, _decode_line(raw), lineno, where)
                    return
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
        plan = self.line(lineno, text, where)
        if plan is not None and clean and self.bcache is not None and text == _decode_line(raw):
            spans = tuple(m.span() for m in _GLUED_RUN_B.finditer(raw))
            bucket = self.bcache.setdefault(raw.translate(_ZEROS_B), (spans, {}))
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

    def _plan_or_fail(self, text: str, lineno: int, where: str) -> tuple[_Plan, bool]:
        try:
            return _plan(text, self.limits.max_labels, self.extra)
        except TooManyLabels:
            raise LimitError(f"line {lineno:,} holds more than {self.limits.max_labels:,} labelled numbers",
                             where=where, hint=self.limits.raise_hint("max_labels")) from None

    def _same_shape(self, text: str, plan: _Plan) -> bool:
        """The plan does not depend on the values of the line's free digits (checked with all 0 and all 1)."""
        for digit in "01":
            variant = _FREE_RUN.sub(lambda m, d=digit: d * len(m.group()), text)
            try:
                if _plan(variant, self.limits.max_labels, self.extra) != (plan, True):
                    return False
            except TooManyLabels:
                return False
        return True

    def _compile(self, plan: _Plan) -> tuple:
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
            if spec.layout == _KERAS_FIT:
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
                if n and self.spec_list[self.rec_spec[n - 1]].layout == _KERAS_FIT \
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


# -- parsing one line into a plan ---------------------------------------------------------------

def _pieces(text: str) -> list[tuple[int, int]]:
    """Spans of ``_INLINE_SPLIT.split(text)``'s pieces (the captured elisions included, ``None`` left out)."""
    out, pos = [], 0
    for m in _INLINE_SPLIT.finditer(text):
        out.append((pos, m.start()))
        if m.group(1) is not None:
            out.append((m.start(1), m.end(1)))
        pos = m.end()
    out.append((pos, len(text)))
    return out


def _plan(text: str, max_labels: int | None, extra: frozenset[str] = frozenset()) -> tuple[_Plan, bool]:
    """What ``text`` gives, and whether the same plan holds for every line of its shape."""
    stripped = strip_prefix(text)
    header = _KERAS_HEADER.match(stripped)
    if header:
        off = len(text) - len(stripped)
        return _Plan((("header", (off + header.start(1), off + header.end(1))),)), True
    items: list[tuple] = []
    cacheable = True
    for ps, pe in _pieces(text):
        piece = text[ps:pe]
        body = strip_prefix(piece)
        if _ELISION.match(body) or not body.strip():
            if body.strip():
                items.append(("elision", (ps, pe)))
            continue
        found = _match(text, pe - len(body), pe, max_labels, extra)
        if found is None:
            near = _closest(text[pe - len(body):pe])
            labels = tuple(dict.fromkeys(t.label for t in _safe_lex(body, max_labels) if t.label and not t.fraction
                                         and t.role not in INDEX_ROLES and normalize_name(t.label) not in IGNORED_NAMES))
            items.append(("skip", f"no metric (starts like {near})" if near else "no metric", (ps, pe), labels[:8]))
            continue
        spec, spans, ok = found
        cacheable &= ok
        items.append(("record", spec, spans, (ps, pe)))
    return _Plan(tuple(items)), cacheable


def _known(layout: Layout) -> frozenset[str]:
    """Names that are metrics in ``layout`` although the alias table does not know them."""
    return _KNOWN[layout.name]


_KNOWN = {layout.name: frozenset({k for k, v in layout.roles.items() if v and v in {r.value for r in METRIC_ROLES}}
                                 | {n for _, names in layout.combine.values() for n in names})
          for layout in LAYOUTS}
#: The order layouts are tried in: those with a signature (``match``) first, as they are the more specific.
_ORDER = tuple([i for i, layout in enumerate(LAYOUTS) if layout.match]
               + [i for i, layout in enumerate(LAYOUTS) if not layout.match])
_NO_CLOSEST = frozenset({"keras-fit", "labelled", "unindexed"})


def _closest(body: str) -> str | None:
    """The layout whose step prefix or signature ``body`` has, although it gave no metric (for messages)."""
    for i in _ORDER:
        layout = LAYOUTS[i]
        if layout.name in _NO_CLOSEST:
            continue
        if layout.matcher is not None and not layout.matcher.search(body):
            continue
        if layout.pattern is not None and not layout.pattern.match(body):
            continue
        if layout.matcher is None and layout.pattern is None:
            continue
        return layout.name
    return None


def _match(text: str, start: int, end: int, max_labels: int | None, extra: frozenset[str] = frozenset()):
    """``(spec, value spans, cacheable)`` of the metric record in ``text[start:end]``, or None.

    Layouts are tried in order: one with a signature (``match``) only where the
    line has it; one with a template where the line starts with it.
    """
    body = text[start:end]
    tokens_all: list[Labelled] | None = None
    for i in _ORDER:
        layout = LAYOUTS[i]
        pattern, matcher = layout.pattern, layout.matcher
        if pattern is None and matcher is None:
            continue
        if matcher is not None and not matcher.search(body):
            continue
        known = extra | _KNOWN[layout.name] if _KNOWN[layout.name] else extra
        if pattern is None:
            if tokens_all is None:
                tokens_all = lex(body, max_labels)
            if _has_metric(tokens_all, known):
                return _labelled(i, tokens_all, text, start)
            continue
        m = pattern.match(body)
        if m is None:
            continue
        offset = start + m.end()
        tokens = lex(body[m.end():], max_labels)
        if _has_metric(tokens, known):
            keys = tuple(m.groupdict())
            spans = [(start + m.start(k), start + m.end(k)) for k in keys]
            if i == _KERAS_FIT:
                keys, spans = ("epoch",), []  # the epoch comes from the last "Epoch N/M" header
            return _record(i, keys, spans, tokens, text, offset, True)
    tokens = tokens_all if tokens_all is not None else lex(body, max_labels)
    if not _has_metric(tokens, extra):
        return None
    return _labelled(None, tokens, text, start)


def _labelled(layout: int | None, tokens: list[Labelled], text: str, start: int):
    """A record whose step comes from labelled ``epoch``/``step``/``batch`` numbers (or from the line order)."""
    keys: list[str] = []
    spans: list[tuple[int, int]] = []
    cacheable = True
    for t in tokens:
        if t.role in INDEX_ROLES and t.label:
            if not t.text.isdigit() or (t.second_text is not None and not t.second_text.lstrip("+-").isdigit()):
                cacheable = False  # whether it counts as an index depends on its value
            if float(t.value).is_integer() and t.value >= 0:
                key = t.role.value
                if key not in keys:
                    keys.append(key)
                    spans.append((start + t.span[0], start + t.span[1]))
                    if t.second is not None and t.fraction and _TOTALS[key] not in keys:
                        keys.append(_TOTALS[key])
                        spans.append((start + t.second_span[0], start + t.second_span[1]))
    if layout is None:
        layout = _LAYOUT_INDEX["labelled" if keys else "unindexed"]
    return _record(layout, tuple(keys), spans, [t for t in tokens if t.role not in INDEX_ROLES],
                   text, start, cacheable)


def _record(layout: int, keys: tuple[str, ...], index_spans: list[tuple[int, int]], tokens: list[Labelled],
            text: str, offset: int, cacheable: bool):
    """The spec and value spans of one record: index values first, then each metric (and its second value)."""
    names: list[str] = []
    percent: list[bool] = []
    spans = list(index_spans)
    pct_names = LAYOUTS[layout].percent_names
    seen: dict[str, int] = {}
    for t in tokens:
        if _FREE_RUN.search(text, offset + t.label_start, offset + t.span[0]):
            cacheable = False  # a label made of (or cut at) printed digits
        if not t.label or t.fraction or t.role in INDEX_ROLES or len(t.label) > 40:
            continue
        seen[t.label] = seen.get(t.label, 0) + 1
        name = t.label if seen[t.label] == 1 else f"{t.label}#{seen[t.label]}"
        names.append(name)
        percent.append(t.percent or name in pct_names)
        spans.append((offset + t.span[0], offset + t.span[1]))
        if t.second is not None:
            names.append(f"{name}#2")
            percent.append(t.percent)
            spans.append((offset + t.second_span[0], offset + t.second_span[1]))
    return _Spec(layout, keys, tuple(names), tuple(percent)), tuple(spans), cacheable


# -- the table ---------------------------------------------------------------------------------

def _scan_lines(lines: Iterable[str] | Iterable[bytes], source: str, limits: ReadLimits | None = None, *,
                cache: bool = True, extra: frozenset[str] = frozenset()) -> _Scan:
    """Scan lines given as text, or as bytes (UTF-8 with a Latin-1 fallback per line); each keeps its line end.

    The loop handles the common line itself (bytes of a known shape whose plan
    is one record, see :class:`_Batch`) and leaves every other line to the scan.
    """
    scan = _Scan(limits, cache=cache, extra=extra)
    lineno, terminated = 0, True
    line_bytes, line_text = scan.line_bytes, scan.line
    bcache = scan.bcache
    rec_spec, rec_off, values = scan.rec_spec, scan.rec_off, scan.values
    max_rows, max_cells, size, zeros = scan.limits.max_rows, scan.limits.max_cells, _Batch.SIZE, _ZEROS_B
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


def _steps(field, keys: set[str], n: int, layout: Layout, notes: dict) -> np.ndarray:
    """Global 1-based steps of the chosen layout's records (see the module docstring)."""

    def one_based(values: np.ndarray, zero_based: bool) -> tuple[np.ndarray, bool]:
        finite = values[np.isfinite(values)]
        shift = zero_based or (finite.size > 0 and finite.min() == 0)
        return values + (1 if shift else 0), shift

    step_key = "step0" if "step0" in keys else "step" if "step" in keys else None
    epoch_key = "epoch0" if "epoch0" in keys else "epoch" if "epoch" in keys else None
    batch_key = "batch0" if "batch0" in keys else "batch" if "batch" in keys else None
    epoch = one_based(field(epoch_key), epoch_key == "epoch0")[0] if epoch_key else None
    totals_key = "batches"

    if layout.epoch_rows and epoch is not None:
        notes["step_unit"] = "epoch"
        notes["step_rule"] = "step = epoch (1-based)"
        return epoch
    if step_key:
        step = field(step_key)
        finite = step[np.isfinite(step)]
        restarts = epoch is not None and finite.size > 1 and bool(np.any(np.diff(finite) < 0))
        if not restarts:
            step, shifted = one_based(step, step_key == "step0")
            notes["step_unit"] = "generator update"
            notes["step_rule"] = "step as printed" + (" + 1 (printed from 0)" if shifted else "")
            return step
        if not batch_key:  # a step counter that restarts every epoch is a batch index
            batch_key, totals_key = step_key, "steps"
    if batch_key and epoch is not None:
        batch = one_based(field(batch_key), batch_key.endswith("0"))[0]
        totals = field(totals_key)
        if np.isnan(totals).all():
            estimate = float(np.nanmax(batch)) if np.isfinite(batch).any() else np.nan
            totals = np.full(n, estimate)
            notes["batches_per_epoch_estimated"] = estimate
        notes["step_unit"] = "generator update"
        notes["step_rule"] = "step = (epoch - 1) * batches_per_epoch + batch, epoch and batch 1-based"
        return (epoch - 1) * totals + batch
    if epoch is not None:
        notes["step_unit"] = "epoch"
        notes["step_rule"] = "step = epoch (1-based)"
        return epoch
    if batch_key:  # a batch counter and no epoch: the step when it never goes back
        batch = field(batch_key)
        finite = batch[np.isfinite(batch)]
        if finite.size and not np.any(np.diff(finite) < 0):
            batch, shifted = one_based(batch, batch_key.endswith("0"))
            notes["step_unit"] = "generator update"
            notes["step_rule"] = "step = batch as printed" + (" + 1 (printed from 0)" if shifted else "")
            return batch
    notes["step_unit"] = "printed line"
    notes["step_rule"] = "step = order of the line (the log prints no step)"
    return np.arange(1, n + 1, dtype=float)


def _table(scan: _Scan, chosen_layout: int, source: str) -> RawTable:
    layout = LAYOUTS[chosen_layout]
    rec_layout = scan.layouts()
    is_chosen = rec_layout == chosen_layout
    chosen = np.flatnonzero(is_chosen)
    counts = np.bincount(rec_layout, minlength=len(LAYOUTS))
    present, first = np.unique(rec_layout, return_index=True)
    for i in present[np.argsort(first)]:  # in the order the layouts were first seen
        if i != chosen_layout:
            scan.skipped[f"other layout ({LAYOUTS[i].name})"] = int(counts[i])
    notes: dict[str, object] = {"layout": layout.name, "layout_example": layout.example,
                                "layout_source": layout.source}
    n = int(chosen.size)
    spec_of = np.frombuffer(scan.rec_spec, dtype=np.int64)[chosen] if n else np.zeros(0, np.int64)
    offsets = np.frombuffer(scan.rec_off, dtype=np.int64)[chosen] if n else np.zeros(0, np.int64)
    values = np.frombuffer(scan.values, dtype=np.float64) if len(scan.values) else np.zeros(0)
    uniq, first = np.unique(spec_of, return_index=True)
    used = [int(sid) for sid in uniq[np.argsort(first)]]  # in the order of first use: the columns' order

    index: dict[str, np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}
    nonfinite: dict[str, np.ndarray] = {}
    percent: set[str] = set()
    for sid in used:
        spec = scan.spec_list[sid]
        rows = np.flatnonzero(spec_of == sid)
        width = len(spec.index_keys) + len(spec.names)
        block = values[offsets[rows][:, None] + np.arange(width)] if width else np.zeros((rows.size, 0))
        for j, key in enumerate(spec.index_keys):
            index.setdefault(key, np.full(n, np.nan))[rows] = block[:, j]
        for j, (name, pct) in enumerate(zip(spec.names, spec.percent), len(spec.index_keys)):
            if name not in columns:
                columns[name] = np.full(n, np.nan)
                nonfinite[name] = np.zeros(n, dtype=bool)
            columns[name][rows] = block[:, j]
            nonfinite[name][rows] = ~np.isfinite(block[:, j])
            if pct:
                percent.add(name)

    def field(name: str) -> np.ndarray:
        return index.get(name, np.full(n, np.nan))

    steps = _steps(field, set(index), n, layout, notes)
    out: dict[str, np.ndarray] = {"step": steps}
    has_epoch0 = any("epoch0" in scan.spec_list[sid].index_keys for sid in used)
    if not layout.epoch_rows and ("epoch0" in index or "epoch" in index):
        e = np.where(np.isnan(field("epoch0")), field("epoch"), field("epoch0"))
        if has_epoch0 or np.nanmin(e) == 0:
            e = e + 1
        out["epoch"] = e
    columns, nonfinite, percent = _layout_names(layout, columns, nonfinite, percent, notes)
    out.update(columns)
    warnings = list(scan.warnings)
    garbled = scan.skipped.get(f"no metric (starts like {layout.name})", 0)
    if garbled:
        lineno, text = scan.first_skip[f"no metric (starts like {layout.name})"]
        warnings.append(f"{source}: {garbled} line(s) that start like {layout.name} records hold no readable loss and "
                        f"were skipped (first: line {lineno}: {text[:60]!r})")

    finite = steps[np.isfinite(steps)]
    if finite.size > 1:
        notes["print_interval"] = float(np.median(np.diff(np.sort(finite))))
    prev_row = np.concatenate(([-1], np.cumsum(is_chosen) - 1))  # last chosen row before record i
    gaps = []
    total = scan.n_records
    for at in sorted({min(int(at), total) for at in scan.elisions}):  # records of a cut last line are gone
        gap: dict[str, object] = {}
        if prev_row[at] >= 0:
            gap["after_step"] = float(steps[prev_row[at]])
        if prev_row[at] + 1 < n:
            gap["before_step"] = float(steps[prev_row[at] + 1])
        gaps.append(gap)
    notes["gaps"] = gaps
    notes["skipped"] = dict(scan.skipped)
    notes["skipped_examples"] = list(scan.examples)
    notes["records"] = n
    return RawTable(
        columns=out,
        source=source,
        input_format=FORMAT,
        nonfinite=nonfinite,
        default_reduction=layout.reduction,
        percent_names=frozenset(percent),
        warnings=tuple(warnings),
        notes=notes,
    )


def _combined(how: str, stack: np.ndarray) -> np.ndarray:
    """``max`` or ``mean`` over the rows of ``stack``, ignoring NaN (a term not printed), without numpy warnings."""
    logged = ~np.isnan(stack)
    count = logged.sum(axis=0)
    if how == "max":
        out = np.where(logged, stack, -np.inf).max(axis=0)
    else:
        out = np.where(logged, stack, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(count > 0, out, np.nan)


def _layout_names(layout: Layout, columns: dict[str, np.ndarray], nonfinite: dict[str, np.ndarray], percent: set[str],
                  notes: dict) -> tuple[dict, dict, set]:
    """Apply the layout's own names: terms combined into a role, names renamed to their role, names that are no loss.

    The renamed and combined columns come first, so they win over a name the
    alias table maps to the same role. ``notes`` records, for ``inspect``, the
    printed name behind each renamed column and why, and the ignored names.
    """
    by_key = {normalize_name(name): name for name in columns}
    front: dict[str, np.ndarray] = {}
    front_nf: dict[str, np.ndarray] = {}
    original: dict[str, str] = {}
    why: dict[str, str] = {}
    ignored: dict[str, str] = {}
    used: set[str] = set()
    for role, (how, keys) in layout.combine.items():
        present = [by_key[k] for k in keys if k in by_key]
        if not present or role in columns:
            continue
        stack = np.vstack([columns[n] for n in present])
        front[role] = _combined(how, stack) if len(present) > 1 else stack[0]
        front_nf[role] = np.any(np.vstack([nonfinite[n] for n in present]), axis=0)
        if front_nf[role].any():  # a diverged term diverges the combination
            front[role] = np.where(front_nf[role], np.nan, front[role])
        original[role] = " + ".join(present)
        why[role] = (f"{how} of {', '.join(present)} ({layout.name} layout: "
                     + ("the discriminator has won only when every term is near 0)" if how == "max"
                        else "the generator's adversarial terms)"))
        used.update(present)
    for key, role in layout.roles.items():
        name = by_key.get(key)
        if name is None or name in used:
            continue
        if not role:
            ignored[name] = f"not a loss in the {layout.name} layout"
            used.add(name)
            continue
        if role in columns or role in front or role in INDEX_NAMES:
            continue
        front[role], front_nf[role] = columns[name], nonfinite[name]
        original[role] = name
        why[role] = f"the {layout.name} layout ({layout.codebase}) prints {role} as {name!r}"
        if name in percent:
            percent.add(role)
        used.add(name)
    for name in columns:
        if name not in used and normalize_name(name) in IGNORED_NAMES:
            ignored[name] = "timing, throughput or schedule, not a metric"
    if layout.family:
        notes["loss_family"] = layout.family
    notes["original_names"] = original
    notes["role_reasons"] = why
    notes["ignored"] = ignored
    if not front and not any(n in used for n in columns):
        return columns, nonfinite, percent
    rest = {n: v for n, v in columns.items() if n not in used}
    rest_nf = {n: v for n, v in nonfinite.items() if n not in used}
    return {**front, **rest}, {**front_nf, **rest_nf}, percent


INDEX_NAMES = frozenset({"step", "epoch", "batch"})


def _safe_lex(body: str, max_labels: int | None) -> list[Labelled]:
    try:
        return lex(body, max_labels)
    except TooManyLabels:
        return []


def _no_metrics(scan: _Scan, source: str) -> InputError:
    """The error for a log without one metric record: the closest layout, the line where it failed, the hint."""
    near = {reason[len("no metric (starts like "):-1]: n for reason, n in scan.skipped.items()
            if reason.startswith("no metric (starts like ")}
    if near:
        layout = max(near, key=lambda name: (near[name], -_LAYOUT_INDEX[name]))
        lineno, text = scan.first_skip[f"no metric (starts like {layout})"]
        what = (f"no training metrics recognised: closest layout {layout} ({near[layout]} line(s) start like its "
                f"records), but line {lineno} names no known loss: {text[:60]!r}")
    elif "no metric" in scan.first_skip:
        lineno, text = scan.first_skip["no metric"]
        what = f"no training metrics recognised: no layout fits; line {lineno} names no known loss: {text[:60]!r}"
    else:
        seen = " | ".join(repr(s[:40]) for s in scan.first_lines[:2]) or "nothing but blank lines"
        what = f"no training metrics recognised (first lines: {seen})"
    example = scan.unknown_names[0] if scan.unknown_names else "NAME"
    found = f" (names found: {', '.join(scan.unknown_names[:5])})" if scan.unknown_names else ""
    return InputError(what, where=source,
                      hint=f"Map a name to a role with --column ROLE=NAME, e.g. --column g_loss={example}{found}")


def _result(scan: _Scan, source: str) -> RawTable:
    if not scan.n_records:
        raise _no_metrics(scan, source)
    counts = np.bincount(scan.layouts(), minlength=len(LAYOUTS))
    best = max(range(len(LAYOUTS)), key=lambda i: (counts[i], -i))
    return _table(scan, best, source)


def _extra(names) -> frozenset[str]:
    return frozenset(normalize_name(n) for n in names or ())


def read_text(text: str, source: str = "<text>", *, cache: bool = True, names=()) -> RawTable:
    """Read console output given as a string (see :func:`read`)."""
    lines = text.split("\n")
    pieces = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        pieces.append(lines[-1])
    return _result(_scan_lines(pieces, source, cache=cache, extra=_extra(names)), source)


def read(path: Path | str, *, names=(), **options) -> RawTable:
    """Read a console log (a file of printed training progress) into a :class:`RawTable`, streaming.

    ``names``: labels given with ``--column ROLE=NAME``, read as metrics although the alias table does not know them.
    """
    with open_log(path) as stream:
        source = str(path) if str(path) != "-" else stream.where
        scan = _scan_lines(_text_lines(stream), source, stream.limits, extra=_extra(names))
        table = _result(scan, source)
    if stream.warnings:
        table = RawTable(columns=table.columns, source=table.source, input_format=table.input_format,
                         nonfinite=table.nonfinite, default_reduction=table.default_reduction,
                         percent_names=table.percent_names, warnings=tuple(stream.warnings) + table.warnings,
                         notes=table.notes)
    return table


def sniff(path: Path, head: bytes) -> float:
    """How much ``head`` looks like a console log (0..1)."""
    if not head or path.is_dir():
        return 0.0
    text = decode(head)
    lines = [ln for ln in text.split("\n")[:200] if ln.strip()]
    if not lines:
        return 0.0
    if sum(ln.lstrip().startswith("{") for ln in lines) > len(lines) / 2:
        return 0.05  # JSON lines; leave them to the jsonl reader
    scan = _Scan(cache=False)
    for i, ln in enumerate(lines, 1):
        try:
            scan.line(i, ln)
        except LimitError:
            continue  # a line of too many labels: the read says so
    if not scan.n_records:
        # Plain text nothing else claims still comes here, so that the error
        # lists the layouts tried and the first lines seen.
        return 0.01 if "\x00" not in text else 0.0
    fraction = scan.n_records / len(lines)
    bonus = 0.05 if path.suffix.lower() in {".log", ".txt", ".out", ".err"} else 0.0
    return min(0.9, 0.4 + 0.45 * fraction + bonus)
