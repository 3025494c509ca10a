"""Growable column buffers: O(1) amortised appends, zero-copy views of the rows so far."""

from __future__ import annotations

import numpy as np


class Column:
    """One preallocated array that doubles when full (a list of floats would cost a copy per analysis).

    >>> c = Column(np.float64, fill=np.nan, capacity=2)
    >>> for v in (1.0, 2.0, 3.0): c.append(v)
    >>> c.view().tolist()
    [1.0, 2.0, 3.0]
    """

    __slots__ = ("_data", "_fill", "n")

    def __init__(self, dtype: type, *, fill: object, capacity: int = 1024):
        self._data = np.full(max(1, capacity), fill, dtype=dtype)
        self._fill = fill
        self.n = 0

    def _grow(self, need: int) -> None:
        size = self._data.size
        while size < need:
            size *= 2
        bigger = np.full(size, self._fill, dtype=self._data.dtype)
        bigger[: self.n] = self._data[: self.n]
        self._data = bigger

    def append(self, value: object) -> None:
        if self.n == self._data.size:
            self._grow(self.n + 1)
        self._data[self.n] = value
        self.n += 1

    def extend(self, values: np.ndarray) -> None:
        """Append several rows at once."""
        k = int(np.size(values))
        if self.n + k > self._data.size:
            self._grow(self.n + k)
        self._data[self.n : self.n + k] = values
        self.n += k

    def pad_to(self, n: int) -> None:
        """Extend with the fill value up to ``n`` rows (a series that starts late, or a row without it)."""
        if n > self._data.size:
            self._grow(n)
        self.n = max(self.n, n)

    def view(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``start:stop`` without copying (valid until the next append)."""
        return self._data[start : self.n if stop is None else stop]

    def scale(self, factor: float) -> None:
        """Multiply the rows so far (accuracies found to be in percent)."""
        self._data[: self.n] *= factor
