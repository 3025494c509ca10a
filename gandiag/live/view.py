"""A live view of a run: ``live.png`` and a ``live.html`` that reloads itself, redrawn as rows and snapshots arrive.

:class:`LiveView` takes rows (``row(step, **metrics)``: two list operations;
they reach column buffers a block at a time) and snapshots (the latest is
kept), and redraws when :meth:`LiveView.update` finds it *due*. What the view
costs is bounded by wall time: it may take at most ``budget`` (1%) of the time
since it started. It counts the time its draws took (measured) and the time
its per-row path took (the rows so far times that path's cost, timed once per
process, :func:`per_row_seconds`: 1-3 us here), and draws only when that
plus the expected cost of this draw (the most the last three draws took;
0.8 s before the first, about what matplotlib's import and a first figure
take here) stays within 80% of ``budget`` times the elapsed time
(:data:`HEADROOM`: the rest absorbs a draw slower than the last ones), and
at most every ``min_interval`` seconds. At 1% a figure that takes 0.3 s to
draw is redrawn every 40 s or so, and the first figure waits until the run has
lasted about 100 s; the page says so meanwhile.

The page embeds the figure (one file: the browser never shows a page of one
draw with the picture of another), reloads every ``refresh`` seconds while the
run goes on, and stops reloading once :meth:`LiveView.close` marks the run
ended. Used by ``gandiag watch --live``, ``gandiag train --live`` and the
Keras callback (``GanDiagnostics(..., live=True)``).
"""

from __future__ import annotations

import base64
import functools
import html
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gandiag.errors import UsageError
from gandiag.history.roles import ACC_ROLES, LOSS_ROLES, resolve_role
from gandiag.live.buffer import Column

#: the share of the elapsed time drawing may take
DEFAULT_BUDGET = 0.01
#: seconds between two draws at least, and between two reloads of the page
DEFAULT_MIN_INTERVAL = 5.0
DEFAULT_REFRESH = 5
#: the cost assumed for the first draw (seconds): matplotlib's import and a first figure
FIRST_DRAW_GUESS = 0.8
#: the share of the budget a draw is planned within: the rest absorbs a draw that takes longer than the last ones did
#: (a loaded machine) and the estimate of the per-row path
HEADROOM = 0.8
#: rows kept in a list before they are moved to the column buffers
BLOCK_ROWS = 1024
PNG_NAME = "live.png"
HTML_NAME = "live.html"


class Throttle:
    """When drawing is due: within ``budget`` of the elapsed time, ``min_interval`` apart.

    ``spent`` is what the view has cost: the time all draws took, and the
    per-row path's time as charged by the view (``charged``); :meth:`due`
    answers whether one more draw (expected to cost what the costliest of the
    last three cost) keeps ``spent`` within ``budget`` of the time since the
    throttle started.
    """

    def __init__(self, budget: float = DEFAULT_BUDGET, min_interval: float = DEFAULT_MIN_INTERVAL,
                 clock: Callable[[], float] = time.perf_counter):
        if not 0 < budget <= 1:
            raise UsageError(f"the live view's budget must be in (0, 1], got {budget}",
                             hint="For example 0.01: drawing takes at most 1% of the training time")
        if min_interval < 0:
            raise UsageError(f"the live view's min_interval must be >= 0 seconds, got {min_interval}")
        self.budget = budget
        self.min_interval = min_interval
        self.clock = clock
        self.start = clock()
        self.drawn = 0.0  # seconds the draws took, measured
        self.charged = 0.0  # seconds the per-row path took, estimated (rows x its calibrated cost)
        self.costs: list[float] = []
        self.last = -math.inf

    @property
    def spent(self) -> float:
        """What the view has cost so far: its draws and its per-row path."""
        return self.drawn + self.charged

    @property
    def expected(self) -> float:
        return max(self.costs[-3:]) if self.costs else FIRST_DRAW_GUESS

    def elapsed(self) -> float:
        return self.clock() - self.start

    def due(self) -> bool:
        return self.fits(self.expected) and self.clock() - self.last >= self.min_interval

    def fits(self, cost: float) -> bool:
        """Whether ``cost`` more seconds keep the view within :data:`HEADROOM` of its budget."""
        return self.spent + cost <= HEADROOM * self.budget * self.elapsed()

    def record(self, cost: float) -> None:
        self.drawn += cost
        self.costs.append(cost)
        self.last = self.clock()

    @property
    def share(self) -> float:
        """The share of the elapsed time the view has cost so far."""
        elapsed = self.elapsed()
        return self.spent / elapsed if elapsed > 0 else 0.0


class RowBuffer:
    """Rows as they are logged: appended to a list (two list operations a row), moved to column buffers
    (:class:`~gandiag.live.buffer.Column`) a block at a time, and kept only for the losses and accuracies."""

    def __init__(self) -> None:
        self.steps = Column(np.int64, fill=0)
        self.series: dict[str, Column] = {}
        self.roles: dict[str, str | None] = {}  # a metric's name -> its canonical series (None: not drawn)
        self._pending: list = []  # step, then each metric's value, row after row
        self._pending_rows = 0
        self._keys: tuple[str, ...] = ()

    def add(self, step: int, metrics: dict[str, Any]) -> None:
        keys = tuple(metrics)
        if keys != self._keys:
            self.flush()
            self._keys = keys
        self._pending.append(step)
        self._pending.extend(metrics.values())
        self._pending_rows += 1
        if self._pending_rows >= BLOCK_ROWS:
            self.flush()

    @property
    def rows(self) -> int:
        return self.steps.n + self._pending_rows

    def _role(self, name: str) -> str | None:
        """The canonical series a metric's name stands for, if it is drawn (losses and accuracies)."""
        if name not in self.roles:
            found = resolve_role(name)
            self.roles[name] = found.value if found is not None and (found in LOSS_ROLES or found in ACC_ROLES) else None
        return self.roles[name]

    def flush(self) -> None:
        """The pending rows into the column buffers (None and non-numbers become NaN)."""
        if not self._pending_rows:
            return
        width = 1 + len(self._keys)
        try:
            block = np.array(self._pending, dtype=np.float64).reshape(self._pending_rows, width)
        except (TypeError, ValueError):  # a value that is not a number: drawn as a gap
            block = np.array([_number(v) for v in self._pending], dtype=np.float64).reshape(self._pending_rows, width)
        n = self.steps.n
        self.steps.extend(block[:, 0].astype(np.int64))
        for j, name in enumerate(self._keys):
            role = self._role(name)
            if role is None:
                continue
            col = self.series.get(role)
            if col is None:
                col = self.series[role] = Column(np.float64, fill=np.nan)
            col.pad_to(n)
            col.extend(block[:, j + 1])
        self._pending.clear()
        self._pending_rows = 0

    def columns(self) -> dict[str, np.ndarray]:
        """``step`` and each drawn series (canonical names) of the rows so far."""
        self.flush()
        n = self.steps.n
        out = {"step": self.steps.view(0, n).astype(float)}
        for role, col in self.series.items():
            col.pad_to(n)
            values = col.view(0, n).copy()
            if role.startswith("d_acc") and np.nanmax(np.r_[np.abs(values[np.isfinite(values)]), 0.0]) > 1.5:
                values = values / 100.0  # accuracies logged in percent
            out[role] = values
        return out

    def last_step(self) -> int:
        self.flush()
        n = self.steps.n
        return int(self.steps.view(n - 1, n)[0]) if n else 0


@functools.lru_cache(maxsize=1)
def per_row_seconds() -> float:
    """What one row costs the view when no figure is due (``row`` and ``update``), timed once per process on
    2,048 rows of eight metrics: the time the view charges itself per row, beside the draws it measures."""
    buffer, throttle = RowBuffer(), Throttle(budget=1e-9)
    metrics = {f"metric_{i}": 0.5 for i in range(8)}

    def row(step: int, **values: float) -> None:  # the call as LiveView.row receives it
        buffer.add(step, values)

    t0 = time.perf_counter()
    for step in range(1, 2049):
        row(step, **metrics)
        rows = buffer.rows  # and update's checks
        throttle.charged = rows * 1e-6
        _ = rows > 0 and throttle.due()
    return (time.perf_counter() - t0) / 2048


class LiveView:
    """``live.png`` and ``live.html`` of a training run under ``out_dir``, kept up to date within a time budget.

    Parameters
    ----------
    out_dir : path
        Folder for ``live.png`` and ``live.html`` (created).
    real : array, optional
        The real data the latest snapshot is drawn over.
    budget : float
        The most drawing may cost, as a share of the time since the view was made (default 0.01).
    min_interval : float
        Seconds between two draws at least (default 5).
    refresh : int
        Seconds between two reloads of the page in the browser (default 5).
    title : str
        The run's name on the page and the figure.
    planned_steps : int, optional
        The run's planned length, shown as ``step 300 of 600``.
    """

    def __init__(self, out_dir: str | Path, *, real: Any = None, budget: float = DEFAULT_BUDGET,
                 min_interval: float = DEFAULT_MIN_INTERVAL, refresh: int = DEFAULT_REFRESH, title: str = "run",
                 planned_steps: int | None = None, clock: Callable[[], float] = time.perf_counter):
        self.throttle = Throttle(budget, min_interval, clock)
        if refresh < 1:
            raise UsageError(f"the live page's refresh must be >= 1 second, got {refresh}")
        self.out_dir = Path(out_dir)
        self.real = None if real is None else np.asarray(real)
        self.refresh = int(refresh)
        self.title = title
        self.planned_steps = planned_steps
        self.buffer = RowBuffer()
        self.per_row = per_row_seconds()
        self.latest: tuple[int, np.ndarray] | None = None
        self.draws = 0
        self.drawn_rows = 0
        self.drawn_snapshot: int | None = None
        self.state: Any = None
        self.closed = False
        from gandiag.infra.outputs import prepare_out_dir

        prepare_out_dir(self.out_dir, "--live")
        self._page(None, waiting=True)

    @property
    def png_path(self) -> Path:
        return self.out_dir / PNG_NAME

    @property
    def html_path(self) -> Path:
        return self.out_dir / HTML_NAME

    def row(self, step: int, **metrics: float | None) -> None:
        """One logged row: two list operations (the rows reach the column buffers a block at a time)."""
        self.buffer.add(step, metrics)

    @property
    def rows(self) -> int:
        """Rows given so far."""
        return self.buffer.rows

    def snapshot(self, step: int, samples: Any) -> None:
        """The latest generated samples (drawn at the next due update)."""
        self.latest = (int(step), np.asarray(samples))

    def update(self, state: Any = None) -> bool:
        """Redraw when due and something new arrived; ``state`` is the monitor's (verdict so far). True if drawn."""
        if state is not None:
            self.state = state
        rows = self.buffer.rows
        self.throttle.charged = rows * self.per_row
        news = rows > self.drawn_rows or (self.latest is not None and self.latest[0] != self.drawn_snapshot)
        if self.closed or not news or not self.throttle.due():
            return False
        self._draw()
        return True

    def close(self, state: Any = None) -> None:
        """The run ended: a last figure if the budget allows it, and a page that no longer reloads."""
        if state is not None:
            self.state = state
        if self.closed:
            return
        self.throttle.charged = self.buffer.rows * self.per_row
        news = self.rows > self.drawn_rows or (self.latest is not None and self.latest[0] != self.drawn_snapshot)
        if news and self.throttle.fits(self.throttle.expected):
            self._draw()
        self.closed = True
        self._page(self.png_path if self.draws else None, waiting=False)

    def columns(self) -> dict[str, np.ndarray]:
        """``step`` and each drawn series (canonical names) of the rows so far."""
        return self.buffer.columns()

    def _heading(self) -> str:
        step = self.buffer.last_step()
        of = f" of {self.planned_steps}" if self.planned_steps else ""
        head = f"{self.title}: step {step}{of}"
        s = self.state
        if s is not None and getattr(s, "verdict", None) is not None:
            head += f"; verdict so far {s.verdict.value} {s.confidence:.2f}"
            if getattr(s, "active", ()):
                head += f" ({', '.join(s.active)})"
        return head

    def _draw(self) -> None:
        from gandiag.report.live_figure import draw_live

        t0 = self.throttle.clock()
        draw_live(self.png_path, self.columns(), heading=self._heading(), snapshot=self.latest, real=self.real,
                  samples_note="no snapshot yet")
        self.draws += 1
        self.drawn_rows = self.buffer.rows
        self.drawn_snapshot = self.latest[0] if self.latest is not None else None
        self._page(self.png_path, waiting=False)
        self.throttle.record(self.throttle.clock() - t0)

    def _page(self, png: Path | None, *, waiting: bool) -> None:
        from gandiag.infra.outputs import atomic_write_text

        t = self.throttle
        reload = "" if self.closed else f'<meta http-equiv="refresh" content="{self.refresh}">'
        if png is not None and png.is_file():
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            picture = f'<img src="data:image/png;base64,{data}" alt="{html.escape(self._heading())}">'
        elif waiting:
            picture = (f"<p>Waiting for the first figure: it is drawn once drawing it costs at most "
                       f"{t.budget:.0%} of the time so far (after about {t.expected / (HEADROOM * t.budget):.0f} s)."
                       f"</p>")
        else:
            picture = ("<p>No figure was drawn: the run ended before drawing one fitted in "
                       f"{t.budget:.0%} of its time. <code>gandiag report</code> draws the run's full report.</p>")
        status = (f"The run has ended. {self.draws} figure(s) drawn, {t.drawn:.2f} s in all; with the rows, the view "
                  f"cost {t.share:.2%} of {t.elapsed():.0f} s." if self.closed else
                  f"This page reloads every {self.refresh} s. The view has cost {t.share:.2%} of the "
                  f"{t.elapsed():.0f} s so far (limit {t.budget:.0%}); updated {time.strftime('%H:%M:%S')}.")
        body = (f"<h1>{html.escape(self._heading())}</h1>\n{picture}\n<p class='status'>{html.escape(status)}</p>")
        atomic_write_text(self.html_path, _PAGE.format(reload=reload, title=html.escape(f"gandiag live: {self.title}"),
                                                       body=body))


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{reload}
<title>{title}</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1300px; color: #222; }}
img {{ max-width: 100%; border: 1px solid #ddd; }} .status {{ color: #555; }}</style>
</head>
<body>
{body}
</body>
</html>
"""
