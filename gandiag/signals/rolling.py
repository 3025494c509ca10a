"""Rolling (trailing-window) statistics that skip missing values."""

from __future__ import annotations

import numpy as np


def _min_periods(window: int) -> int:
    return max(1, window // 2)


def _frame(values: np.ndarray):
    import pandas as pd  # pandas' rolling kernels are C; imported lazily

    return pd.Series(np.asarray(values, dtype=float))


def rolling_mean(values: np.ndarray, *, window: int) -> np.ndarray:
    """Trailing mean over ``window`` rows, ignoring NaN (NaN until half a window is seen).

    >>> rolling_mean(np.array([1.0, 2.0, 3.0, 4.0]), window=2).tolist()
    [1.0, 1.5, 2.5, 3.5]
    """
    return _frame(values).rolling(window, min_periods=_min_periods(window)).mean().to_numpy()


def rolling_median(values: np.ndarray, *, window: int) -> np.ndarray:
    """Trailing median over ``window`` rows, ignoring NaN.

    >>> rolling_median(np.array([1.0, 9.0, 2.0, 3.0]), window=3).tolist()
    [1.0, 5.0, 2.0, 3.0]
    """
    return _frame(values).rolling(window, min_periods=_min_periods(window)).median().to_numpy()


def rolling_std(values: np.ndarray, *, window: int) -> np.ndarray:
    """Trailing sample standard deviation over ``window`` rows, ignoring NaN."""
    return _frame(values).rolling(window, min_periods=max(2, _min_periods(window))).std().to_numpy()


def rolling_fraction(mask: np.ndarray, valid: np.ndarray, *, window: int) -> np.ndarray:
    """Share of valid rows in the trailing window where ``mask`` holds.

    Rows where ``valid`` is False (missing values) count neither way.
    """
    m = np.where(valid, mask.astype(float), np.nan)
    return _frame(m).rolling(window, min_periods=_min_periods(window)).mean().to_numpy()


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
