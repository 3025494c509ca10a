"""Rolling (trailing-window) statistics that skip missing values."""

from __future__ import annotations

import numpy as np


def _min_periods(window: int) -> int:
    return max(1, window // 2)


def _as_float(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _fit(values: np.ndarray, window: int, min_count: int) -> tuple[int, int]:
    """Window and minimum count clipped to the series (bottleneck rejects longer windows)."""
    w = max(1, min(window, np.size(values)))
    return w, max(1, min(min_count, w))


def rolling_mean(values: np.ndarray, *, window: int) -> np.ndarray:
    """Trailing mean over ``window`` rows, ignoring NaN (NaN until half a window is seen).

    >>> rolling_mean(np.array([1.0, 2.0, 3.0, 4.0]), window=2).tolist()
    [1.0, 1.5, 2.5, 3.5]
    """
    import bottleneck as bn  # O(n) moving-window kernels in C; NaN-skipping like pandas

    v = _as_float(values)
    if v.size == 0:
        return v
    w, mc = _fit(v, window, _min_periods(window))
    return bn.move_mean(v, w, min_count=mc)


def rolling_median(values: np.ndarray, *, window: int) -> np.ndarray:
    """Trailing median over ``window`` rows, ignoring NaN.

    >>> rolling_median(np.array([1.0, 9.0, 2.0, 3.0]), window=3).tolist()
    [1.0, 5.0, 2.0, 3.0]
    """
    import bottleneck as bn  # O(n log w) moving median

    v = _as_float(values)
    if v.size == 0:
        return v
    w, mc = _fit(v, window, _min_periods(window))
    return bn.move_median(v, w, min_count=mc)


def rolling_std(values: np.ndarray, *, window: int) -> np.ndarray:
    """Trailing sample standard deviation over ``window`` rows, ignoring NaN."""
    import bottleneck as bn

    v = _as_float(values)
    if window < 2 or v.size < 2:
        return np.full(v.shape, np.nan)
    w, mc = _fit(v, window, max(2, _min_periods(window)))
    return bn.move_std(v, w, min_count=max(2, mc), ddof=1)


def rolling_fraction(mask: np.ndarray, valid: np.ndarray, *, window: int) -> np.ndarray:
    """Share of valid rows in the trailing window where ``mask`` holds.

    Rows where ``valid`` is False (missing values) count neither way.
    """
    m = np.where(valid, mask.astype(float), np.nan)
    return rolling_mean(m, window=window)


def rolling_cv(values: np.ndarray, *, window: int) -> np.ndarray:
    """Coefficient of variation: rolling std over the absolute rolling mean."""
    mean = np.abs(rolling_mean(values, window=window))
    with np.errstate(divide="ignore", invalid="ignore"):
        return rolling_std(values, window=window) / np.maximum(mean, 1e-12)


def saturation(values: np.ndarray, *, window: int, level: float = 0.99) -> np.ndarray:
    """Rolling share of rows with ``values >= level`` (accuracy pinned at 100%).

    >>> saturation(np.array([1.0, 1.0, 0.5, 1.0]), window=4, level=0.99).tolist()[-1]
    0.75
    """
    v = np.asarray(values, dtype=float)
    valid = ~np.isnan(v)
    return rolling_fraction(v >= level, valid, window=window)


def near_zero(values: np.ndarray, *, window: int, level: float = 0.05) -> np.ndarray:
    """Rolling share of rows with ``|values| <= level``."""
    v = np.asarray(values, dtype=float)
    valid = ~np.isnan(v)
    return rolling_fraction(np.abs(v) <= level, valid, window=window)
