"""Every user-facing failure is a :class:`GandiagError`.

The CLI turns one into a single line (``error: WHERE: WHAT. HINT.``) and exit
code 2; nothing else reaches the user as a traceback. The line is at most
:data:`MAX_LINE` characters whatever the input held: values quoted from a file
are clipped, control characters are shown escaped (a log cannot move the
cursor or colour the terminal through an error message), and a long path is
shortened in the middle.
"""

from __future__ import annotations

#: the longest ``error: ...`` line the CLI prints (the "error: " prefix included)
MAX_LINE = 300
_PREFIX = len("error: ")
_MAX_WHERE = 120
_MAX_HINT = 160
_KEPT_HINT = 100  # the hint keeps this much before the message gives up any of its own
_MIN_MESSAGE = 80


def printable(text: object) -> str:
    """``text`` on one line: whitespace runs folded to one space, other control characters escaped."""
    s = " ".join(str(text).split())
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in s)


def clip(text: str, limit: int, *, middle: bool = False) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (at the end, or in the middle for paths)."""
    if len(text) <= limit:
        return text
    if limit < 2:
        return text[:limit]
    if middle:
        head = (limit - 1) // 2
        return text[:head] + "…" + text[len(text) - (limit - 1 - head):]
    return text[: limit - 1] + "…"


class GandiagError(Exception):
    """A problem the user can fix: bad input, bad options or a bad rule file.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    where : str, optional
        File, ``file:line``, ``file:key`` or column the problem is in.
    hint : str, optional
        What to do about it.
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def one_line(self) -> str:
        """``WHERE: WHAT. HINT.`` on one line of at most ``MAX_LINE - len('error: ')`` characters.

        The place (up to 120 characters) and the first 100 characters of the
        hint are kept; the message gets the rest (at least 80 characters), and
        the hint any room left after it.
        """
        budget = MAX_LINE - _PREFIX
        where = printable(self.where) if self.where else ""
        hint = printable(self.hint).rstrip(".") if self.hint else ""
        message = printable(self.message).rstrip(".")
        extra = (2 if where else 0) + (3 if hint else 1)  # ": " and ". " + "."
        w = min(len(where), _MAX_WHERE)
        m = min(len(message), max(_MIN_MESSAGE, budget - extra - w - min(len(hint), _KEPT_HINT)))
        h = min(len(hint), _MAX_HINT, max(0, budget - extra - w - m))
        if hint and h < min(len(hint), 40):  # a long message and a long place: keep 40 characters of the hint
            h = min(len(hint), 40)
            w = max(0, budget - extra - m - h)
        where, hint, message = clip(where, w, middle=True), clip(hint, h), clip(message, m)
        text = f"{where}: {message}" if where else message
        text = f"{text}. {hint}." if hint else f"{text}."
        return clip(text, budget)

    def __str__(self) -> str:  # pragma: no cover - exercised through one_line
        return self.one_line()


class InputError(GandiagError):
    """A training log or sample file that cannot be read as asked."""


class LimitError(InputError):
    """An input exceeds one of the documented read limits (:mod:`gandiag.infra.limits`)."""


class RuleError(GandiagError):
    """One or more rule files are invalid; ``problems`` lists every one."""

    def __init__(self, problems: list[str], *, hint: str | None = None):
        self.problems = list(problems)
        first = problems[0] if problems else "invalid rule file"
        more = f" (and {len(problems) - 1} more: " + "; ".join(problems[1:]) + ")" if len(problems) > 1 else ""
        super().__init__(f"invalid rules: {first}{more}", hint=hint or "Fix the rule file(s) listed")


class UsageError(GandiagError):
    """Options that contradict each other or name something unknown."""


class OutputError(GandiagError):
    """An output folder or file that cannot be created or written."""


class RunLockedError(UsageError):
    """Another process is logging to the same run folder."""


class MissingExtraError(GandiagError):
    """An optional dependency (TensorFlow, matplotlib, dask) is not installed."""


class UnexpectedError(GandiagError):
    """One run failed in a way gandiag did not foresee (a bug): reported for that run, the others go on."""
