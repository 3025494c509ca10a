"""Persistence: streaks of a condition, episodes and onset (Prometheus ``for:`` semantics)."""

from __future__ import annotations

import numpy as np


def streaks(mask: np.ndarray) -> np.ndarray:
    """Start and end (inclusive) row indices of every run of True, shape (k, 2).

    >>> streaks(np.array([0, 1, 1, 0, 1], dtype=bool)).tolist()
    [[1, 2], [4, 4]]
    """
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    d = np.diff(np.concatenate(([0], m.view(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return np.stack([starts, ends], axis=1).astype(np.int64)


def episodes(mask: np.ndarray, *, for_steps: int, max_gap: int | None = None) -> np.ndarray:
    """Streaks that last at least ``for_steps`` rows, merged across short gaps.

    A condition that holds, but not yet for ``for_steps`` rows, is *pending*
    and produces no episode. Two qualifying streaks separated by fewer than
    ``max_gap`` rows (default ``for_steps``) form one episode, so a single
    noisy row does not move the onset.

    >>> episodes(np.array([1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1], dtype=bool), for_steps=3).tolist()
    [[0, 6]]
    """
    s = streaks(mask)
    if s.size == 0:
        return s
    s = s[(s[:, 1] - s[:, 0] + 1) >= max(1, for_steps)]
    if s.shape[0] <= 1:
        return s
    gap = for_steps if max_gap is None else max_gap
    merged = [s[0].copy()]
    for start, end in s[1:]:
        if start - merged[-1][1] - 1 < gap:
            merged[-1][1] = end
        else:
            merged.append(np.array([start, end]))
    return np.array(merged, dtype=np.int64)


def onset_index(mask: np.ndarray, *, for_steps: int) -> int | None:
    """First row of the streak after which the condition keeps holding to the end.

    >>> onset_index(np.array([1, 0, 0, 1, 1, 1], dtype=bool), for_steps=2)
    3
    >>> onset_index(np.array([1, 1, 0], dtype=bool), for_steps=2) is None
    True
    """
    m = np.asarray(mask, dtype=bool)
    if m.size == 0 or not m[-1]:
        return None
    falses = np.flatnonzero(~m)
    start = int(falses[-1]) + 1 if falses.size else 0
    return start if m.size - start >= for_steps else None


def nonfinite(values: np.ndarray) -> np.ndarray:
    """True where a value is NaN or infinite.

    >>> nonfinite(np.array([1.0, np.nan, np.inf])).tolist()
    [False, True, True]
    """
    return ~np.isfinite(np.asarray(values, dtype=float))
