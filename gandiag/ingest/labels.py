"""Labelled numbers in a line of text: the lexer under the console-log reader.

A console line such as ``[Epoch 3/200] [Batch 5/938] [D loss: 0.69] [G loss: 0.81]``
is read as a sequence of numbers, each with the label printed in front of it.
Nothing here knows a training script; the layouts in
:mod:`gandiag.ingest.console` decide what the unlabelled numbers mean.

Rules
-----
- A number is an integer, a decimal or scientific-notation literal, or
  ``nan``/``inf``/``infinity`` (any case, optionally signed), optionally
  followed by ``%``. It must stand apart: after a blank or one of
  ``= : [ ( { , ; | > / ' "`` and before a blank or one of
  ``, ; ) ] } | ' "``, so ``d1``, ``5s``, ``57ms/step`` and ``0.5-93`` give
  no number.
- ``a/b`` (or ``a / b``) is one token: a *fraction* when both sides are
  integers and the label is empty or an index name (``Epoch 3/200``,
  ``[50/1583]``), otherwise two values (``D(G(z)): 0.0000 / 0.0000``).
- The label of a number is the text since the previous number, cut at the
  last hard delimiter (``,`` ``;`` ``|`` tab ``]`` `` - ``), with brackets,
  quotes, ``:`` and ``=`` trimmed, and only the part after an inner ``:``
  or ``=`` kept. When the label does not name a known series but a shorter
  tail of it does (``train D loss`` -> ``D loss``), the tail is used.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from gandiag.history.roles import INDEX_ROLES, Role, resolve_role

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)(?![a-z])"
# A number starts the line or follows a blank or one of = : [ ( { , ; | > / ' " and
# ends the line or comes before a blank or one of , ; ) ] } | % / ' " (after the
# optional % and "/ second value"), so "0.5-93" or "1.2.3" give no number at all.
_BEFORE = r"(?:^|(?<=[\s=:\[({,;|>/'\"]))"
_AFTER = r"(?=[\s,;)\]}|'\"]|$)"
_TOKEN = re.compile(
    rf"{_BEFORE}(?P<a>{_NUM})(?P<pa>%)?(?:[ \t]*/[ \t]*(?P<b>{_NUM})(?P<pb>%)?)?{_AFTER}",
    re.IGNORECASE,
)
_INT = re.compile(r"[-+]?\d+\Z")
_HARD = re.compile(r"[,;|\t\]]| - |\s{3,}")
_TRIM = " \t[({<>'\"*:=#"
# An index word glued to its number ("Step12", "iter100") is split before lexing.
_GLUED = re.compile(r"\b(step|epoch|iter|iteration|batch)(\d+)\b", re.IGNORECASE)


@lru_cache(maxsize=8192)
def role_of(label: str) -> Role | None:
    """:func:`~gandiag.history.roles.resolve_role`, cached: a log repeats the same few labels on every line."""
    return resolve_role(label) if label else None


@dataclass(frozen=True)
class Labelled:
    """One number found in a line.

    ``value`` is exactly ``float()`` of the printed text; ``second`` is the
    number after a ``/`` (a fraction's total or a second value); ``percent``
    says the value was printed with ``%``; ``start`` is its column.
    ``span``, ``second_span`` and ``label_start`` are positions in the string
    given to :func:`lex`: the printed value(s) and where the text its label is
    taken from begins.
    """

    label: str
    value: float
    text: str
    second: float | None = None
    second_text: str | None = None
    percent: bool = False
    fraction: bool = False
    start: int = 0
    span: tuple[int, int] = (0, 0)
    second_span: tuple[int, int] | None = None
    label_start: int = 0

    @property
    def role(self) -> Role | None:
        return role_of(self.label)


class TooManyLabels(ValueError):
    """A line holds more labelled numbers than the reader accepts (``max_labels``)."""


@lru_cache(maxsize=8192)
def clean_label(segment: str) -> str:
    """Reduce the text between two numbers to the label of the second one."""
    pieces = [p for p in _HARD.split(segment)]
    label = pieces[-1] if pieces else ""
    label = label.strip(_TRIM).lstrip(".…-~>_ )")  # ")" closes a group before the label: "(epoch: 1, ...) D_A: 0.2"
    for sep in (":", "="):
        if sep in label:
            label = label.rsplit(sep, 1)[1].strip(_TRIM)
    if not label or role_of(label) is not None:
        return label
    words = label.split()
    for i in range(1, len(words)):
        tail = " ".join(words[i:])
        if role_of(tail) is not None:
            return tail
    return label


def lex(line: str, max_labels: int | None = None) -> list[Labelled]:
    """All labelled numbers of ``line``, in order.

    Raises :class:`TooManyLabels` after ``max_labels`` numbers (a hostile
    line of a million labels stops early instead of filling the memory).

    >>> [(t.label, t.value) for t in lex(">12, d1=0.593, d2=0.546 g=1.330, a1=76, a2=82")]
    [('', 12.0), ('d1', 0.593), ('d2', 0.546), ('g', 1.33), ('a1', 76.0), ('a2', 82.0)]
    >>> t = lex("D(G(z)): 0.0012 / 0.0003")[0]
    >>> (t.label, t.value, t.second, t.fraction)
    ('D(G(z))', 0.0012, 0.0003, False)
    """
    inserted = [m.start(2) + k for k, m in enumerate(_GLUED.finditer(line))]
    if inserted:
        line = _GLUED.sub(r"\1 \2", line)

    def at(q: int) -> int:  # a position in the split line -> the same position in the line given
        return q - bisect_left(inserted, q) if inserted else q

    out: list[Labelled] = []
    prev_end = 0
    for m in _TOKEN.finditer(line):
        if max_labels is not None and len(out) >= max_labels:
            raise TooManyLabels(f"more than {max_labels:,} labelled numbers in one line")
        label = clean_label(line[prev_end:m.start()])
        label_start = prev_end
        prev_end = m.end()
        a, b = m.group("a"), m.group("b")
        fraction = False
        if b is not None and _INT.match(a) and _INT.match(b):
            role = role_of(label)
            fraction = (role is None and not label) or role in INDEX_ROLES
        out.append(
            Labelled(
                label=label,
                value=float(a),
                text=a,
                second=float(b) if b is not None else None,
                second_text=b,
                percent=bool(m.group("pa")),
                fraction=fraction,
                start=m.start(),
                span=(at(m.start("a")), at(m.end("a"))),
                second_span=(at(m.start("b")), at(m.end("b"))) if b is not None else None,
                label_start=at(label_start),
            )
        )
    return out


#: Leading parts removed (repeatedly) from a structured-log name (TensorBoard
#: tag, flattened JSON key) that the alias table does not know. Held-out
#: prefixes (``val``, ``validation``, ``test``, ``eval``) are never removed.
STRIPPED_PREFIXES = ("train/", "training/", "train_", "epoch_", "batch_", "scalars/", "scalar/",
                     "losses/", "loss/", "metrics/", "summary/", "summaries/", "gan/")
#: Trailing parts removed after the prefixes: Lightning logs ``d_loss_step`` and ``d_loss_epoch``.
STRIPPED_SUFFIXES = ("_step", "_epoch")


def shorten(name: str) -> str | None:
    """``name``, or the first form without :data:`STRIPPED_PREFIXES` (then :data:`STRIPPED_SUFFIXES`) that names a series; else None.

    >>> shorten("train/epoch_d_loss")
    'd_loss'
    >>> shorten("validation/epoch_d_loss") is None
    True
    >>> shorten("train/d_loss_step")
    'd_loss'

    """
    current = name
    while True:
        if resolve_role(current) is not None:
            return current
        low = current.lower()
        for prefix in STRIPPED_PREFIXES:
            if low.startswith(prefix) and len(current) > len(prefix):
                current = current[len(prefix):]
                break
        else:
            for suffix in STRIPPED_SUFFIXES:
                if low.endswith(suffix) and len(current) > len(suffix):
                    current = current[: -len(suffix)]
                    break
            else:
                return None
