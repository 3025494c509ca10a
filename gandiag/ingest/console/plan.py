"""One line of a console log parsed into a *plan*: which layout matched, and which printed number goes to which column.

Lines of one log mostly share one shape (the same text with other digits), so
a plan is made once per shape and reused (:mod:`.scan`). A line is lexed into
labelled numbers (:mod:`gandiag.ingest.labels`), the layouts
(:mod:`gandiag.ingest.layouts`) are tried in order on its start, and the
plan records index fields, metric columns, headers, elisions or why the line
is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gandiag.history.roles import INDEX_ROLES, METRIC_ROLES, normalize_name
from gandiag.ingest.console.lines import ELISION, INLINE_SPLIT, KERAS_HEADER, strip_prefix
from gandiag.ingest.labels import Labelled, TooManyLabels, lex
from gandiag.ingest.layouts import IGNORED_NAMES, LAYOUTS, Layout

_METRICS = frozenset(METRIC_ROLES)
LAYOUT_INDEX = {layout.name: i for i, layout in enumerate(LAYOUTS)}
KERAS_FIT = LAYOUT_INDEX["keras-fit"]
#: Shapes of lines remembered (a log has a handful; more only when numbers change width).
_TOTALS = {"step": "steps", "epoch": "epochs", "batch": "batches"}
MAX_PLANS = 4096
# A run of ASCII digits is "free" unless it is glued to a word ("d1", "a2", "Step12"):
# free digits are the printed numbers, which may change from line to line of one shape.
FREE_RUN = re.compile(r"(?<![A-Za-z_0-9])[0-9]+")
GLUED_RUN = re.compile(r"(?<=[A-Za-z_])[0-9]+")
ZEROS = str.maketrans("0123456789", "0000000000")
ZEROS_B = bytes.maketrans(b"0123456789", b"0000000000")
GLUED_RUN_B = re.compile(rb"(?<=[A-Za-z_])[0-9]+")


def _metric_tokens(tokens: list[Labelled]) -> list[Labelled]:
    return [t for t in tokens if t.label and not t.fraction and t.role not in INDEX_ROLES]


def _has_metric(tokens: list[Labelled], extra: frozenset[str] = frozenset()) -> bool:
    """Whether a labelled number names a metric: through the alias table, or a name given with ``--column``."""
    return any(t.role in _METRICS or (extra and normalize_name(t.label) in extra) for t in _metric_tokens(tokens))


@dataclass(frozen=True)
class Spec:
    """The columns one record fills: index keys then metric names (the values come from the line)."""

    layout: int
    index_keys: tuple[str, ...]
    names: tuple[str, ...]
    percent: tuple[bool, ...]


@dataclass(frozen=True)
class Plan:
    """How a line of one shape becomes skips, elisions, headers and records (positions in the line)."""

    items: tuple[tuple, ...]


def _pieces(text: str) -> list[tuple[int, int]]:
    """Spans of ``INLINE_SPLIT.split(text)``'s pieces (the captured elisions included, ``None`` left out)."""
    out, pos = [], 0
    for m in INLINE_SPLIT.finditer(text):
        out.append((pos, m.start()))
        if m.group(1) is not None:
            out.append((m.start(1), m.end(1)))
        pos = m.end()
    out.append((pos, len(text)))
    return out


def make_plan(text: str, max_labels: int | None, extra: frozenset[str] = frozenset()) -> tuple[Plan, bool]:
    """What ``text`` gives, and whether the same plan holds for every line of its shape."""
    stripped = strip_prefix(text)
    header = KERAS_HEADER.match(stripped)
    if header:
        off = len(text) - len(stripped)
        return Plan((("header", (off + header.start(1), off + header.end(1))),)), True
    items: list[tuple] = []
    cacheable = True
    for ps, pe in _pieces(text):
        piece = text[ps:pe]
        body = strip_prefix(piece)
        if ELISION.match(body) or not body.strip():
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
    return Plan(tuple(items)), cacheable


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
            if i == KERAS_FIT:
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
        layout = LAYOUT_INDEX["labelled" if keys else "unindexed"]
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
        if FREE_RUN.search(text, offset + t.label_start, offset + t.span[0]):
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
    return Spec(layout, keys, tuple(names), tuple(percent)), tuple(spans), cacheable


def _safe_lex(body: str, max_labels: int | None) -> list[Labelled]:
    try:
        return lex(body, max_labels)
    except TooManyLabels:
        return []
