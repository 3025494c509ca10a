"""Every series signal a rule can ask for: its function and the look-back it needs, in one table.

The offline engine computes a signal with :data:`SIGNALS` (``SignalCache``),
and the live monitor keeps a trailing window of :func:`lookback` rows so that
its values equal the offline ones (the signals are causal). Adding a signal
here and its parameters to ``engine.model.SIGNAL_PARAMS`` is all a new signal
needs. ``value``, ``nonfinite`` and ``snapshot`` read the history or the
snapshot table directly and are not in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from gandiag.signals import oscillation, rolling, trend


@dataclass(frozen=True)
class SignalSpec:
    """``compute(values, params)`` over a whole series; ``lookback(params)``: rows before a row its value uses."""

    compute: Callable[[np.ndarray, Mapping[str, object]], np.ndarray]
    lookback: Callable[[Mapping[str, object]], int]


def _window(p: Mapping[str, object]) -> int:
    return int(p.get("window", 1) or 1)


SIGNALS: dict[str, SignalSpec] = {
    "rolling_mean": SignalSpec(lambda v, p: rolling.rolling_mean(v, window=p["window"]), lambda p: _window(p) + 1),
    "rolling_median": SignalSpec(lambda v, p: rolling.rolling_median(v, window=p["window"]), lambda p: _window(p) + 1),
    "rolling_std": SignalSpec(lambda v, p: rolling.rolling_std(v, window=p["window"]), lambda p: _window(p) + 1),
    "rolling_cv": SignalSpec(lambda v, p: rolling.rolling_cv(v, window=p["window"]), lambda p: _window(p) + 1),
    "saturation": SignalSpec(lambda v, p: rolling.saturation(v, window=p["window"], level=p["level"]),
                             lambda p: _window(p) + 1),
    "near_zero": SignalSpec(lambda v, p: rolling.near_zero(v, window=p["window"], level=p["level"]),
                            lambda p: _window(p) + 1),
    # the median smoothing runs before the slope: both windows, plus the forward fill's one row
    "trend": SignalSpec(lambda v, p: trend.relative_trend(v, window=p["window"], smooth=p["smooth"]),
                        lambda p: int(p.get("smooth", 5) or 5) + _window(p) + 2),
    "oscillation": SignalSpec(
        lambda v, p: oscillation.relative_amplitude(v, window=p["window"], long_window=p["long_window"] or None),
        lambda p: int(p.get("long_window", 0) or 4 * _window(p)) + _window(p) + 2),
    "sign_change_rate": SignalSpec(lambda v, p: oscillation.sign_change_rate(v, window=p["window"]),
                                   lambda p: _window(p) + 3),
}

#: Signals read from the history or the snapshot table as they are (no window).
DIRECT = ("value", "nonfinite", "snapshot")


def lookback(signal: str, params: Mapping[str, object]) -> int:
    """Rows of history a causal signal needs before a row to equal the offline value."""
    spec = SIGNALS.get(str(signal))
    return spec.lookback(params) if spec is not None else 1
