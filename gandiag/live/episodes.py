"""Incremental persistence: :func:`gandiag.signals.persistence.episodes` over a mask that grows.

The offline engine finds episodes on the whole mask at once. A live monitor
sees the mask in chunks, so it keeps only what the next chunk can change: the
episodes already closed and the start of the run of True that touches the
end. The result after any number of chunks equals ``episodes(whole_mask)``
(``tests/monitor/test_episodes.py`` checks this on random masks).
"""

from __future__ import annotations

import numpy as np

from gandiag.signals import persistence


class EpisodeTracker:
    """Episodes of a condition, updated chunk by chunk in time proportional to the chunk.

    Parameters
    ----------
    for_steps : int
        Rows a streak must last to count (the rule's ``for_steps``).
    max_gap : int, optional
        Qualifying streaks separated by fewer rows are merged (default ``for_steps``).

    Examples
    --------
    >>> t = EpisodeTracker(for_steps=3)
    >>> t.extend(np.array([1, 1], dtype=bool)); t.last() is None
    True
    >>> t.extend(np.array([1, 0], dtype=bool)); t.last()
    (0, 2)
    """

    def __init__(self, *, for_steps: int, max_gap: int | None = None):
        self.min_len = max(1, for_steps)
        self.gap = for_steps if max_gap is None else max_gap
        self.n = 0
        self._first: tuple[int, int] | None = None
        self._last: list[int] | None = None  # the last closed episode, still open to merging
        self._open: int | None = None  # start of the run of True that reaches the last row

    def extend(self, mask: np.ndarray) -> None:
        """Append rows to the mask."""
        m = np.asarray(mask, dtype=bool)
        if m.size == 0:
            return
        if not m.any():  # fast paths: most chunks of most rules are all False or all True
            if self._open is not None:
                self._close(self._open, self.n - 1)
                self._open = None
            self.n += int(m.size)
            return
        if m.all():
            if self._open is None:
                self._open = self.n
            self.n += int(m.size)
            return
        offset = self.n
        runs = persistence.streaks(m) + offset
        if self._open is not None:
            if m[0]:
                runs[0, 0] = self._open  # the open run continues into this chunk
            else:
                self._close(self._open, offset - 1)
            self._open = None
        self.n += int(m.size)
        if runs.shape[0] and runs[-1, 1] == self.n - 1:
            self._open = int(runs[-1, 0])
            runs = runs[:-1]
        for start, end in runs:
            self._close(int(start), int(end))

    def _close(self, start: int, end: int) -> None:
        if end - start + 1 < self.min_len:
            return
        if self._last is not None and start - self._last[1] - 1 < self.gap:
            self._last[1] = end
        else:
            self._last = [start, end]
        if self._first is None or self._first[0] == self._last[0]:
            self._first = (self._last[0], self._last[1])

    def _pending(self) -> tuple[int, int] | None:
        """The open run as an episode, when it already lasts long enough."""
        if self._open is not None and self.n - self._open >= self.min_len:
            return self._open, self.n - 1
        return None

    def last(self) -> tuple[int, int] | None:
        """The last episode of the mask so far (row indices, inclusive), or None."""
        pending = self._pending()
        if pending is None:
            return None if self._last is None else (self._last[0], self._last[1])
        if self._last is not None and pending[0] - self._last[1] - 1 < self.gap:
            return self._last[0], pending[1]
        return pending

    def first(self) -> tuple[int, int] | None:
        """The first episode of the mask so far, or None."""
        if self._first is not None:
            last = self.last()
            return last if last is not None and last[0] == self._first[0] else self._first
        return self._pending()
