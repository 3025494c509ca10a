"""What the monitor hands back after each update: its provisional state, and the events that changed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gandiag.engine.findings import Severity, Verdict
from gandiag.live.stop import (
    DEFAULT_STOP_ON,
)


@dataclass(frozen=True)
class Event:
    """A rule that became active (``fired``) or stopped being active (``cleared``)."""

    kind: str  # "fired" | "cleared"
    rule: str
    name: str
    title: str
    severity: Severity
    supports: Verdict | None
    step: int  # the step at which the change was seen
    onset_step: int | None  # start of the episode (fired) / of the episode that ended (cleared)


@dataclass(frozen=True)
class MonitorState:
    """What the monitor knows as of ``step`` (the last evaluated row).

    ``verdict``, ``confidence``, ``onset_step`` and ``reason`` are those
    ``gandiag analyze`` would give if the run ended at ``step``;
    ``provisional`` is False only for the state :meth:`Monitor.finish` returns.
    ``events`` are the changes since the previous call to ``update``.
    ``confirmed`` says the failure passed the stop policy.
    ``decision_path`` is how the verdict was decided (``samples/test3``,
    ``losses/test2`` ...; the calibration table's key), ``p_failed`` the share
    of corpus runs decided that way that had failed (None where the table does
    not speak), and ``snapshots`` the number of snapshots judged.
    """

    step: int
    rows: int
    verdict: Verdict
    confidence: float
    onset_step: int | None
    reason: str
    active: tuple[str, ...]
    events: tuple[Event, ...]
    confirmed: bool
    provisional: bool = True
    decision_path: str = ""
    p_failed: float | None = None
    snapshots: int = 0

    @property
    def failed(self) -> bool:
        return self.verdict in DEFAULT_STOP_ON
