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
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ._bytes import read_log_bytes
from ..errors import InputError
from ..history import RawTable, Reduction
from ..roles import INDEX_ROLES, METRIC_ROLES
from .labels import Labelled, lex

FORMAT = "console"


@dataclass(frozen=True)
class Layout:
    """A printed layout: how the start of a line gives the step."""

    name: str
    template: str
    example: str
    source: str
    reduction: Reduction = Reduction.MEAN
    percent_names: frozenset[str] = frozenset()
    epoch_rows: bool = False  # one row per epoch (the step unit is the epoch)

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return _compile(self.template) if self.template else None


@lru_cache(maxsize=64)
def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\}| )", template)
    regex = "".join(
        rf"(?P<{p[1:-1]}>\d{{1,15}})" if p.startswith("{") else r"\s*" if p == " " else re.escape(p)
        for p in parts
        if p
    )
    return re.compile(r"\s*" + regex, re.IGNORECASE)


_TUTORIAL_PCT = frozenset({"a", "a1", "a2"})

#: Layouts in the order they are tried. The last two need no template: the
#: index comes from labelled ``epoch``/``step``/``batch`` numbers, or from
#: the line order.
LAYOUTS: tuple[Layout, ...] = (
    Layout("tutorial-epoch-batch", ">{epoch}, {batch}/{batches},",
           ">1, 4/390, d1=0.522, d2=0.709 g=0.680", "GAN tutorial (CIFAR-10 DCGAN)",
           percent_names=_TUTORIAL_PCT),
    Layout("tutorial", ">{step},", ">12, d1=0.593, d2=0.546 g=1.330, a1=76, a2=82",
           "GAN failure-mode tutorial", percent_names=_TUTORIAL_PCT),
    Layout("pytorch-dcgan", "[{epoch0}/{epochs}][{batch0}/{batches}]",
           "[0/5][50/1583]\tLoss_D: 0.0154\tLoss_G: 35.5240\tD(x): 0.9927\tD(G(z)): 0.0000 / 0.0000",
           "PyTorch examples, dcgan/main.py", reduction=Reduction.SUM),
    Layout("pytorch-gan", "[Epoch {epoch0}/{epochs}] [Batch {batch0}/{batches}]",
           "[Epoch 3/200] [Batch 500/938] [D loss: 0.690274] [G loss: 0.808068]",
           "PyTorch-GAN (eriklindernoren)"),
    Layout("epoch-step", "Epoch [{epoch0}/{epochs}], Step [{batch}/{batches}]",
           "Epoch [0/200], Step [200/600], d_loss: 0.0536, g_loss: 4.1040, D(x): 0.99, D(G(z)): 0.04",
           "pytorch-tutorial (yunjey) GAN", reduction=Reduction.SUM),
    Layout("per-epoch", "Epoch [{epoch}/{epochs}]",
           "Epoch [12/200], d_loss: 0.0126, g_loss: 0.0364, D(x): 0.99, D(G(z)): 0.01",
           "per-epoch summary prints", reduction=Reduction.SUM, epoch_rows=True),
    Layout("keras-gan", "{step0} [", "1234 [D loss: 0.622592, acc.: 62.50%] [G loss: 1.056955]",
           "Keras-GAN (eriklindernoren)"),
    Layout("keras-fit", "{batch}/{batches}",
           "Epoch 3/20 ... 469/469 ━━━━━━━━━━━━━━━━━━━━ 5s 11ms/step - d_loss: 0.6100 - g_loss: 0.8700",
           "Keras Model.fit progress of a custom train_step", epoch_rows=True),
    Layout("labelled", "", "Epoch 3, Step12, d_loss: 0.61, g_loss: 0.87",
           "labelled epoch/step/iter numbers anywhere in the line"),
    Layout("unindexed", "", "INFO:root:Generator loss: 0.97, Discriminator loss: 0.0004",
           "metrics without a step (Python logging and the like)"),
)
_BY_NAME = {layout.name: layout for layout in LAYOUTS}

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


@dataclass
class _Record:
    layout: Layout
    index: dict[str, int]
    tokens: list[Labelled]
    line: int


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


def _has_metric(tokens: list[Labelled]) -> bool:
    return any(t.role in _METRICS for t in _metric_tokens(tokens))


def _match(text: str) -> _Record | None:
    """The record a line piece gives, or None when it gives no metric."""
    for layout in LAYOUTS:
        pattern = layout.pattern
        if pattern is None:
            continue
        m = pattern.match(text)
        if m is None:
            continue
        tokens = lex(text[m.end():])
        if _has_metric(tokens):
            return _Record(layout, {k: int(v) for k, v in m.groupdict().items()}, tokens, 0)
    tokens = lex(text)
    if not _has_metric(tokens):
        return None
    index: dict[str, int] = {}
    for t in tokens:
        if t.role in INDEX_ROLES and t.label and float(t.value).is_integer() and t.value >= 0:
            key = t.role.value
            if key not in index:
                index[key] = int(t.value)
                if t.second is not None and t.fraction:
                    index[_TOTALS[key]] = int(t.second)
    layout = _BY_NAME["labelled" if index else "unindexed"]
    return _Record(layout, index, [t for t in tokens if t.role not in INDEX_ROLES], 0)


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


class _Scan:
    """One pass over the lines: records, skips and elisions."""

    def __init__(self) -> None:
        self.records: list[_Record] = []
        self.skipped: dict[str, int] = {}
        self.examples: list[str] = []
        self.elisions: list[int] = []  # index into records where a gap starts
        self.first_lines: list[str] = []
        self.warnings: list[str] = []
        self.epoch: int | None = None  # Keras fit "Epoch 3/20" header

    def skip(self, reason: str, lineno: int, text: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.examples) < _MAX_EXAMPLES and reason != "blank":
            self.examples.append(f"line {lineno}: {text.strip()[:100]}")

    def line(self, lineno: int, raw: str) -> None:
        segments = [s.replace("\b", "") for s in _ANSI.sub("", raw).split("\r")]
        shown = [s for s in segments if s.strip()]
        text = shown[-1] if shown else ""
        if len(self.first_lines) < 5 and text.strip():
            self.first_lines.append(text.strip()[:80])
        if not text.strip():
            self.skip("blank", lineno, text)
            return
        if "\x00" in text:
            self.skip("binary", lineno, repr(text[:60]))
            return
        header = _KERAS_HEADER.match(strip_prefix(text))
        if header:
            self.epoch = int(header.group(1))
            self.skipped["epoch header"] = self.skipped.get("epoch header", 0) + 1
            return
        for piece in _INLINE_SPLIT.split(text):
            if piece is not None:
                self.piece(lineno, piece)

    def piece(self, lineno: int, text: str) -> None:
        body = strip_prefix(text)
        if _ELISION.match(body) or not body.strip():
            if body.strip():
                self.elisions.append(len(self.records))
                self.skip("elision", lineno, text)
            return
        record = _match(body)
        if record is None:
            self.skip("no metric", lineno, text)
            return
        record.line = lineno
        if record.layout.name == "keras-fit":
            if self.epoch is None:
                self.skip("keras progress before an 'Epoch N/M' line", lineno, text)
                return
            record.index = {"epoch": self.epoch}
            last = self.records[-1] if self.records else None
            if last is not None and last.layout.name == "keras-fit" and last.index == record.index:
                self.records[-1] = record  # a later state of the same epoch's progress bar
                return
        self.records.append(record)


def _scan(text: str, source: str) -> _Scan:
    scan = _Scan()
    lines = text.split("\n")
    terminated = lines[-1] == ""
    if terminated:
        lines.pop()
    for i, raw in enumerate(lines, 1):
        scan.line(i, raw)
    last = len(lines)
    if not terminated and scan.records and scan.records[-1].line == last:
        while scan.records and scan.records[-1].line == last:
            scan.records.pop()
        scan.skipped["cut last line"] = scan.skipped.get("cut last line", 0) + 1
        scan.warnings.append(f"{source}:{last}: the last line has no line end (the log may have been cut "
                             "while being written); it was dropped")
    return scan


def _steps(records: list[_Record], layout: Layout, notes: dict) -> np.ndarray:
    """Global 1-based steps of the chosen layout's records (see the module docstring)."""
    n = len(records)

    def field(name: str) -> np.ndarray:
        return np.array([r.index.get(name, np.nan) for r in records], dtype=float)

    def one_based(values: np.ndarray, zero_based: bool) -> tuple[np.ndarray, bool]:
        finite = values[np.isfinite(values)]
        shift = zero_based or (finite.size > 0 and finite.min() == 0)
        return values + (1 if shift else 0), shift

    keys = set().union(*(r.index for r in records)) if records else set()
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
    notes["step_unit"] = "printed line"
    notes["step_rule"] = "step = order of the line (the log prints no step)"
    return np.arange(1, n + 1, dtype=float)


def _table(scan: _Scan, layout: Layout, source: str) -> RawTable:
    chosen = [r for r in scan.records if r.layout is layout]
    others: dict[str, int] = {}
    for r in scan.records:
        if r.layout is not layout:
            others[r.layout.name] = others.get(r.layout.name, 0) + 1
    for name, count in others.items():
        scan.skipped[f"other layout ({name})"] = count
    notes: dict[str, object] = {"layout": layout.name, "layout_example": layout.example,
                                "layout_source": layout.source}
    steps = _steps(chosen, layout, notes)
    n = len(chosen)
    columns: dict[str, np.ndarray] = {}
    nonfinite: dict[str, np.ndarray] = {}
    percent: set[str] = set()

    def put(name: str, row: int, value: float, is_percent: bool) -> None:
        if name not in columns:
            columns[name] = np.full(n, np.nan)
            nonfinite[name] = np.zeros(n, dtype=bool)
        columns[name][row] = value
        nonfinite[name][row] = not np.isfinite(value)
        if is_percent:
            percent.add(name)

    for row, rec in enumerate(chosen):
        seen: dict[str, int] = {}
        for t in _metric_tokens(rec.tokens):
            if len(t.label) > 40:
                continue
            seen[t.label] = seen.get(t.label, 0) + 1
            name = t.label if seen[t.label] == 1 else f"{t.label}#{seen[t.label]}"
            put(name, row, t.value, t.percent or name in layout.percent_names)
            if t.second is not None:
                put(f"{name}#2", row, t.second, t.percent)
    out: dict[str, np.ndarray] = {"step": steps}
    epochs = [r.index.get("epoch0", r.index.get("epoch")) for r in chosen]
    if not layout.epoch_rows and any(e is not None for e in epochs):
        e = np.array([np.nan if v is None else v for v in epochs], dtype=float)
        if any("epoch0" in r.index for r in chosen) or np.nanmin(e) == 0:
            e = e + 1
        out["epoch"] = e
    out.update(columns)

    finite = steps[np.isfinite(steps)]
    if finite.size > 1:
        notes["print_interval"] = float(np.median(np.diff(np.sort(finite))))
    row_of = {id(r): i for i, r in enumerate(chosen)}
    prev_row = np.full(len(scan.records) + 1, -1)  # last chosen row before record i
    for i, r in enumerate(scan.records):
        prev_row[i + 1] = row_of.get(id(r), prev_row[i])
    gaps = []
    for at in sorted({min(at, len(scan.records)) for at in scan.elisions}):  # records of a cut last line are gone
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
        warnings=tuple(scan.warnings),
        notes=notes,
    )


def read_text(text: str, source: str = "<text>") -> RawTable:
    """Read console output given as a string (see :func:`read`)."""
    scan = _scan(text, source)
    if not scan.records:
        tried = ", ".join(layout.name for layout in LAYOUTS)
        seen = " | ".join(repr(s) for s in scan.first_lines[:3]) or "nothing but blank lines"
        raise InputError(
            f"no training metrics recognised in this console log (layouts tried: {tried}; first lines: {seen})",
            where=source,
            hint="Lines need labelled losses such as 'd_loss: 0.61' or 'D loss=0.61'; name the series with "
            "--column ROLE=NAME or pick another reader with --input-format",
        )
    counts: dict[str, int] = {}
    for r in scan.records:
        counts[r.layout.name] = counts.get(r.layout.name, 0) + 1
    order = {layout.name: i for i, layout in enumerate(LAYOUTS)}
    best = max(counts, key=lambda name: (counts[name], -order[name]))
    return _table(scan, _BY_NAME[best], source)


def read(path: Path | str, **options) -> RawTable:
    """Read a console log (a file of printed training progress) into a :class:`RawTable`."""
    path = Path(path)
    data = read_log_bytes(path)
    return read_text(decode(data), str(path))


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
    scan = _Scan()
    for i, ln in enumerate(lines, 1):
        scan.line(i, ln)
    if not scan.records:
        # Plain text nothing else claims still comes here, so that the error
        # lists the layouts tried and the first lines seen.
        return 0.01 if "\x00" not in text else 0.0
    fraction = len(scan.records) / len(lines)
    bonus = 0.05 if path.suffix.lower() in {".log", ".txt", ".out", ".err"} else 0.0
    return min(0.9, 0.4 + 0.45 * fraction + bonus)
