"""Console lines made readable before they are read: one line a record, numbers as numbers.

Two steps, both pure text-to-text:

- :func:`normalise` (one line): clock times (``10:15:30``) and ETAs
  (``eta: 2 days, 10:15:30``) are removed, thousands separators after an index
  label are dropped (``iter:  12,400`` -> ``iter:  12400``), the MSVC spellings of
  non-finite values (``1.#INF``, ``-1.#IND``, ``1.#QNAN``) become ``inf``/``nan``,
  and the names inside grouped terms get their group as a prefix
  (``[G - gan: 2.1] [D - real: 0.5]`` -> ``G_gan: 2.1; D_real: 0.5``;
  ``[D] real 0.05 [G] fake 2.3`` -> ``D_real 0.05 G_fake 2.3``).
- :func:`assemble` (the stream of lines): records printed over several lines
  become one line. A *block* is a line that holds the step and no metric
  (``progress  epoch 50  step 602 ...`` or ``Epoch: 1``) followed by lines of one
  ``name value`` pair each; a *table* is a header row of names followed by rows of
  numbers, ``|``-separated or aligned by blanks, whose extra trailing cells (a
  timestamp) are ignored. Both are looked for in the first lines of a log; a log
  without them passes through untouched.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from gandiag.history.roles import METRIC_ROLES, normalize_name, resolve_role
from gandiag.ingest.layouts import IGNORED_NAMES

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"

#: A cheap test: only lines that hold one of these go through :func:`normalise`.
NEEDS_NORMALISING = re.compile(r"\d:\d\d|\d,\d\d\d|#(?:INF|IND|QNAN)|\[\s*[A-Za-z]{1,3}\s*(?:\]|-\s)|\beta\b|[:=[]\s{3}|[:=]\s*\[\s*[-+.\d]"
                               r"|\d:(?:[A-Za-z]|\s*\d+%\||\s*$)|[A-Za-z)]\t(?:[-+.\d]|nan|inf)", re.IGNORECASE)
_ETA = re.compile(r"\beta\s*[:=]?\s*(?:\d+\s+days?,\s*)?(?:\d+:)?\d+:\d\d(?:[.,]\d+)?", re.IGNORECASE)
_DAYS_CLOCK = re.compile(r"\b\d+\s+days?,\s*\d+:\d\d:\d\d(?:[.,]\d+)?")
_CLOCK = re.compile(r"(?<![\d.])\d+:\d\d(?::\d\d)?(?:[.,]\d+)?(?![\d:])")
_GROUPED_DIGITS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d.])")
_INDEX_BEFORE = re.compile(r"\b(?:iter|iters|iteration|step|steps|it|epoch|batch|kimg)\s*[:=]?\s*$", re.IGNORECASE)
_DIGIT_COLON = re.compile(r"\d:")
_LIST_START = re.compile(r"[:=]\s*\[\s*[-+.\dnNiI]")
_WIDE = re.compile(r"([:=[])\s{3,}")  # "iter:     600": the blanks would cut the label off its number
_COLON_AFTER = re.compile(r"(?<=\d)(?=:(?:[A-Za-z]|\s*\d+%\||\s*$))")  # "Epoch 28:g_loss=", "0.5: 100%|"
_TAB_PAIR = re.compile(r"(?<=[A-Za-z)])\t(?=[-+.\d]|nan|inf)", re.IGNORECASE)  # "disc cost\t-0.81": a tab would cut the label off
_LIST = re.compile(rf"(?<![\w-])([A-Za-z][\w-]*)\s*([:=])\s*\[\s*((?:{_NUM})(?:\s*,\s*(?:{_NUM})){{1,3}})\s*\]",
                   re.IGNORECASE)  # "D-Loss=[0.94, 0.51]": one value a name
_MSVC = re.compile(r"([-+]?)1\.#(INF|IND|QNAN|SNAN)\d*", re.IGNORECASE)
_DASH_GROUP = re.compile(r"\[\s*([A-Za-z]{1,3})\s+-\s+([^\[\]]*)\]")
_MARK_GROUP = re.compile(r"\[\s*(?!(?:nan|inf)\s*\])([A-Za-z]{1,3})\s*\]", re.IGNORECASE)
_NAME_BEFORE_NUMBER = re.compile(rf"(?<![\w.()/])([A-Za-z][\w()]*)(?=\s*[:=]?\s*(?:{_NUM})(?![\w.]))", re.IGNORECASE)


def _prefix(group: str, text: str) -> str:
    return _NAME_BEFORE_NUMBER.sub(lambda m: f"{group}_{m.group(1)}", text)


def _msvc(m: re.Match) -> str:
    kind = m.group(2).upper()
    return (m.group(1) + "inf") if kind == "INF" else "nan"


def _ungroup(m: re.Match, text: str) -> str:
    """``12,400`` -> ``12400`` after an index label (``iter:  12,400``); elsewhere the comma may separate values."""
    return m.group().replace(",", "") if _INDEX_BEFORE.search(text, max(0, m.start() - 16), m.start()) else m.group()


def _list(m: re.Match) -> str:
    name, sep = m.group(1), m.group(2)
    values = [v.strip() for v in m.group(3).split(",")]
    return ", ".join(f"{name}{'' if k == 0 else f'_{k + 1}'}{sep} {v}" for k, v in enumerate(values))


def normalise(text: str) -> str:
    """``text`` with clocks, ETAs, thousands separators, MSVC non-finite spellings and groups made plain."""
    if "#" in text:
        text = _MSVC.sub(_msvc, text)
    if ":" in text and _DIGIT_COLON.search(text):
        if "eta" in text or "ETA" in text or "Eta" in text:
            text = _ETA.sub(" ", text)
        if "day" in text:
            text = _DAYS_CLOCK.sub(" ", text)
        text = _CLOCK.sub(" ", text)
        text = _COLON_AFTER.sub(" ", text)
    if "\t" in text:
        text = _TAB_PAIR.sub(": ", text)
    text = _WIDE.sub(lambda m: m.group(1) + " ", text)
    if "," in text:
        text = _GROUPED_DIGITS.sub(lambda m: _ungroup(m, text), text)
    if "[" in text:
        if _LIST_START.search(text):
            text = _LIST.sub(_list, text)
        text = _DASH_GROUP.sub(lambda m: _prefix(m.group(1), m.group(2)) + ";", text)
        marks = list(_MARK_GROUP.finditer(text))
        if marks:
            out = [text[: marks[0].start()]]
            for k, m in enumerate(marks):
                end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
                out.append(_prefix(m.group(1), text[m.end(): end]))
            text = "".join(out)
    return text


# -- several lines -> one record ------------------------------------------------------------------

_PAIR = re.compile(rf"^\s*([A-Za-z_][\w/().\-]*(?:\s[A-Za-z_][\w/().\-]*)?)\s*[:=]?\s+({_NUM})\s*$", re.IGNORECASE)
_BLOCK_START = re.compile(r"^\s*(?:progress\s+epoch\s+\d+\s+step\s+\d+.*|epoch\s*[:=]?\s*\d+\s*)$", re.IGNORECASE)
_NUMBER_CELL = re.compile(rf"^\s*(?:{_NUM})%?\s*$", re.IGNORECASE)
_CELL_SPLIT = re.compile(r"\s*\|\s*|\s{2,}|\t")
HEAD_LINES = 200


def _text(line) -> tuple[str, str]:
    """A line (str or bytes, with its end) as text without the end, and the end."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            line = line.decode("latin-1")
    body = line.rstrip("\n")
    return body, line[len(body):]


def _cells(text: str) -> list[str]:
    return [c for c in _CELL_SPLIT.split(text.strip().strip("|")) if c != ""]


def _header(text: str) -> list[str] | None:
    """The names of a table header row, or None: at least two names, none a number, one a metric."""
    cells = _cells(text)
    if len(cells) < 2 or any(_NUMBER_CELL.match(c) or not re.match(r"^[A-Za-z(][\w().%/ \-]*$", c) for c in cells):
        return None
    if not any(resolve_role(c) in METRIC_ROLES for c in cells):
        return None
    return cells


def _row(text: str, names: list[str]) -> list[tuple[str, str]] | None:
    """The ``(name, number)`` pairs of a table row under ``names``; a clock or date under ``time`` is left out."""
    cells = _cells(text)
    if len(cells) < len(names):
        return None
    out = []
    for name, cell in zip(names, cells):
        if _NUMBER_CELL.match(cell):
            out.append((name, cell.strip()))
        elif normalize_name(name) not in IGNORED_NAMES:
            return None
    return out or None


def _kind(head: list) -> str | None:
    """``block``, ``table`` or None for the first lines of a log."""
    texts = [_text(x)[0] for x in head]
    for i, t in enumerate(texts[:-1]):
        if _BLOCK_START.match(t) and _PAIR.match(texts[i + 1]):
            return "block"
        names = _header(t)
        if names and _row(texts[i + 1], names):
            return "table"
    return None


def assemble(lines: Iterable) -> Iterator:
    """The lines of a log with multi-line records joined into one line each (see the module docstring)."""
    it = iter(lines)
    head = []
    for line in it:
        head.append(line)
        if len(head) >= HEAD_LINES:
            break
    kind = _kind(head)
    if kind is None:
        yield from head
        yield from it
        return
    source = itertools.chain(head, it)
    if kind == "block":
        yield from _blocks(source)
    else:
        yield from _tables(source)


def _blocks(lines: Iterable) -> Iterator[str]:
    pending: list[str] = []
    end = "\n"
    for line in lines:
        text, end = _text(line)
        if _BLOCK_START.match(text):
            if pending:
                yield "; ".join(pending) + "\n"
            pending = [text.strip()]
            continue
        if pending and _PAIR.match(text):
            pending.append(text.strip())
            continue
        if pending:
            yield "; ".join(pending) + "\n"
            pending = []
        yield text + end
    if pending:
        yield "; ".join(pending) + end


def _tables(lines: Iterable) -> Iterator[str]:
    names: list[str] | None = None
    for line in lines:
        text, end = _text(line)
        header = _header(text)
        if header:
            names = header
            yield text + end
            continue
        row = _row(text, names) if names else None
        if row is None:
            yield text + end
            continue
        yield "table-row: " + ", ".join(f"{n}: {v}" for n, v in row) + end
