"""Checking what a training loop hands to :meth:`gandiag.live.monitor.Monitor.update`.

A step must be a whole number that a 64-bit step counter holds; a metric must
be a real number (Python, numpy, or anything with ``__float__`` such as a 0-d
tensor) or ``None`` for "not logged at this step". Anything else is a
:class:`~gandiag.errors.UsageError` that names the argument and says what to
pass, instead of a ``ValueError`` or ``OverflowError`` from deep inside the
monitor's buffers.

``Monitor.update`` calls :func:`checked_row` first::

    step, metrics = checked_row(step, metrics)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from gandiag.errors import UsageError

#: the largest step a monitor accepts (its step buffer is a 64-bit integer column)
MAX_STEP = 2**62


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def checked_step(step: Any) -> int:
    """``step`` as an int, or a UsageError: a whole number in ``0..2**62``."""
    if isinstance(step, (bool, str, bytes)):
        raise UsageError(f"step must be a whole number, got {_shown(step)}",
                         hint="Pass the count of completed generator updates, e.g. update(120, d_loss=...)")
    try:
        if isinstance(step, numbers.Integral):
            value = int(step)
        else:
            as_float = float(step)
            if not math.isfinite(as_float) or not as_float.is_integer():
                raise ValueError(step)
            value = int(as_float)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"step must be a whole number, got {_shown(step)}",
                         hint="Pass the count of completed generator updates, e.g. update(120, d_loss=...)") from None
    if not 0 <= value <= MAX_STEP:
        raise UsageError(f"step {value if abs(value) < 10**30 else _shown(step)} is outside 0..2**62",
                         hint="Pass the count of completed generator updates")
    return value


def checked_metric(name: str, value: Any) -> float | None:
    """``value`` as a float (NaN and inf kept: they are evidence), ``None`` kept, else a UsageError."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, bool)):
        raise UsageError(f"metric '{name[:40]}' must be a number or None, got {_shown(value)}",
                         hint="Pass the metric's value as a float (None when it was not logged at this step)")
    try:
        return float(value)
    except OverflowError:  # an int beyond float's range: an overflowed loss is an infinite one
        return -math.inf if isinstance(value, numbers.Real) and value < 0 else math.inf
    except (TypeError, ValueError):
        raise UsageError(f"metric '{name[:40]}' must be a number or None, got {_shown(value)}",
                         hint="Pass the metric's value as a float (None when it was not logged at this step)") from None


def checked_row(step: Any, metrics: Mapping[str, Any]) -> tuple[int, dict[str, float | None]]:
    """The step and metrics of one ``update`` call, checked (see the module docstring)."""
    return checked_step(step), {str(name): checked_metric(str(name), value) for name, value in metrics.items()}
