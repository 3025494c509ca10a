"""Every user-facing failure is a :class:`GandiagError`.

The CLI turns one into a single line (``error: WHAT (WHERE). HINT``) and exit
code 2; nothing else reaches the user as a traceback.
"""

from __future__ import annotations


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
        text = self.message.rstrip(".")
        if self.where:
            text = f"{self.where}: {text}"
        if self.hint:
            text = f"{text}. {self.hint.rstrip('.')}."
        else:
            text += "."
        return " ".join(text.split())

    def __str__(self) -> str:  # pragma: no cover - exercised through one_line
        return self.one_line()


class InputError(GandiagError):
    """A training log or sample file that cannot be read as asked."""


class RuleError(GandiagError):
    """One or more rule files are invalid; ``problems`` lists every one."""

    def __init__(self, problems: list[str], *, hint: str | None = None):
        self.problems = list(problems)
        first = problems[0] if problems else "invalid rule file"
        more = f" (and {len(problems) - 1} more: " + "; ".join(problems[1:]) + ")" if len(problems) > 1 else ""
        super().__init__(f"invalid rules: {first}{more}", hint=hint or "Fix the rule file(s) listed")


class UsageError(GandiagError):
    """Options that contradict each other or name something unknown."""


class MissingExtraError(GandiagError):
    """An optional dependency (TensorFlow, matplotlib, dask) is not installed."""
