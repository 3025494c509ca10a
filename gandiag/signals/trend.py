"""Trends: a rolling least-squares slope on a median-smoothed series, and Theil-Sen."""

from __future__ import annotations

import numpy as np

from gandiag.signals.rolling import rolling_mean, rolling_median


def rolling_slope(values: np.ndarray, *, window: int) -> np.ndarray:
    """Least-squares slope (per row) over the trailing ``window`` rows, O(n).

    Missing values are filled forward first, so a sparse series keeps its trend.

    >>> round(float(rolling_slope(np.arange(10.0), window=4)[-1]), 6)
    1.0
    """
    y = np.asarray(values, dtype=float)
    n = y.size
    out = np.full(n, np.nan)
    if n < 2 or window < 2:
        return out
    y = _ffill(y)
    ok = ~np.isnan(y)
    y0 = np.where(ok, y, 0.0)
    x = np.arange(n, dtype=float)
    c1 = np.concatenate(([0.0], np.cumsum(ok.astype(float))))
    cx = np.concatenate(([0.0], np.cumsum(np.where(ok, x, 0.0))))
    cy = np.concatenate(([0.0], np.cumsum(y0)))
    cxx = np.concatenate(([0.0], np.cumsum(np.where(ok, x * x, 0.0))))
    cxy = np.concatenate(([0.0], np.cumsum(y0 * x)))
    hi = np.arange(1, n + 1)
    lo = np.maximum(0, hi - window)
    cnt = c1[hi] - c1[lo]
    sx = cx[hi] - cx[lo]
    sy = cy[hi] - cy[lo]
    sxx = cxx[hi] - cxx[lo]
    sxy = cxy[hi] - cxy[lo]
    den = cnt * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (cnt * sxy - sx * sy) / den
    valid = (cnt >= max(3, window // 2)) & (den > 0)
    out[valid] = slope[valid]
    return out


def relative_trend(values: np.ndarray, *, window: int, smooth: int = 5) -> np.ndarray:
    """Change across one window relative to the series' level.

    The series is median-smoothed over ``smooth`` rows (robust to spikes),
    the trailing least-squares slope is multiplied by ``window`` (the change
    a steady trend makes across the window) and divided by the absolute mean
    level of the window. ``0.5`` means the value grew by half its level
    within the window.
    """
    v = np.asarray(values, dtype=float)
    smoothed = rolling_median(v, window=smooth) if smooth > 1 else v
    slope = rolling_slope(smoothed, window=window)
    level = np.abs(rolling_mean(smoothed, window=window))
    with np.errstate(divide="ignore", invalid="ignore"):
        return slope * window / np.maximum(level, 1e-3)


def theil_sen_slope(values: np.ndarray, *, max_points: int = 400) -> float:
    """Median of pairwise slopes (per row), on at most ``max_points`` evenly spaced rows.

    >>> theil_sen_slope(np.array([0.0, 1.0, 2.0, 100.0, 4.0]))
    1.0
    """
    y = np.asarray(values, dtype=float)
    x = np.arange(y.size, dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if y.size < 2:
        return float("nan")
    if y.size > max_points:
        idx = np.linspace(0, y.size - 1, max_points).round().astype(int)
        x, y = x[idx], y[idx]
    i, j = np.triu_indices(y.size, k=1)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i])))


def _ffill(y: np.ndarray) -> np.ndarray:
    mask = np.isnan(y)
    if not mask.any():
        return y
    idx = np.where(~mask, np.arange(y.size), 0)
    np.maximum.accumulate(idx, out=idx)
    return y[idx]  # leading NaNs map to y[0], itself NaN
