"""The live monitor's stop policy: when a provisional failure is worth stopping a run for.

Kept apart from the rules' evaluation (:mod:`gandiag.live.monitor`): the policy
reads only the states the monitor judges, so ``benchmarks/monitor_replay.py``
replays recorded states through it to measure any policy on the whole corpus,
and the command line takes its defaults from here without loading the engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from gandiag.engine.findings import Verdict
from gandiag.errors import UsageError

#: Defaults of the stop policy (docs/monitor.md explains how they were chosen).
DEFAULT_MIN_STEPS = 500
DEFAULT_MIN_FRACTION = 0.2
DEFAULT_PATIENCE = 0
#: A failure is confirmed only when the corpus says runs judged this way failed at least this often
#: (1 - P(stable) of the decision path, from the shipped scores; docs/monitor.md).
DEFAULT_MIN_PROBABILITY = 0.7
DEFAULT_STOP_ON = (Verdict.NON_CONVERGED, Verdict.MODE_COLLAPSE)
#: A failure decided by the samples must hold at this many consecutive snapshots.
DEFAULT_SNAPSHOT_PATIENCE = 2
#: The sample tests (docs/outcomes.md) that may stop a run: 3, one output. Not 4 (does not resemble the data:
#: every run starts there) nor 5 (part of the data: early coverage often fills in); they still decide the
#: verdict, and finish() reports them. Tests 1 and 2 (non-finite losses, the discriminator won) are read from
#: the losses; when samples are judged, test 2 must also hold over ``snapshot_patience`` snapshots.
DEFAULT_SAMPLE_TESTS = (3,)


class StopGate:
    """The stop policy: when a provisional failure is worth stopping a run for.

    Fed every judged state in order (:meth:`check`); the Monitor holds one,
    and ``benchmarks/monitor_replay.py`` replays recorded states through it to
    measure a policy on the whole corpus without re-running the rules.
    A failure is confirmed when all hold:

    * the verdict is one of ``stop_on``;
    * the run has reached ``min_steps`` and ``min_fraction`` of ``planned_steps``;
    * the failure verdict has held for ``patience`` rows;
    * corpus runs decided the same way failed at least ``min_probability`` of the time;
    * when samples are judged and the verdict is not a divergence (test 1), it has held at the last
      ``snapshot_patience`` snapshots (early snapshots of every run look unlike the data: one snapshot is
      not a trend), and a deciding sample test (3-5) is one of ``sample_tests``.

    The defaults were chosen by replaying the 436 corpus runs (``benchmarks/monitor_replay.py --fit``):
    no stable run stopped, leave-one-family-out as in-sample.
    """

    def __init__(self, *, stop_on: Iterable[str | Verdict] = DEFAULT_STOP_ON, min_steps: int = DEFAULT_MIN_STEPS,
                 min_fraction: float = DEFAULT_MIN_FRACTION, patience: int = DEFAULT_PATIENCE,
                 min_probability: float = DEFAULT_MIN_PROBABILITY,
                 snapshot_patience: int = DEFAULT_SNAPSHOT_PATIENCE, planned_steps: int | None = None,
                 sample_tests: Iterable[int] = DEFAULT_SAMPLE_TESTS):
        self.stop_on = frozenset(_verdict(v) for v in stop_on)
        self.min_steps, self.min_fraction, self.patience = min_steps, min_fraction, patience
        self.min_probability, self.snapshot_patience = min_probability, snapshot_patience
        self.planned_steps = planned_steps
        self.sample_tests = frozenset(int(t) for t in sample_tests)
        self._failing_since: int | None = None
        self._snap_streak = 0
        self._snaps_seen = 0
        self.stopped_at: int | None = None  # the first step a failure was confirmed

    def check(self, verdict: Verdict, rows: int, step: int, p_failed: float | None = None,
              decision_path: str = "", snapshots: int = 0) -> bool:
        """Is the failure in this state confirmed? (Call once per judged state, in order.)"""
        failing = verdict in self.stop_on
        if not failing:
            self._failing_since = None
            self._snap_streak = 0
        else:
            if self._failing_since is None:
                self._failing_since = rows
            if snapshots != self._snaps_seen:
                self._snap_streak += 1
        self._snaps_seen = snapshots
        if not failing:
            return False
        gate = max(self.min_steps, math.ceil(self.min_fraction * self.planned_steps) if self.planned_steps else 0)
        ok = step >= gate and rows - self._failing_since >= self.patience
        ok = ok and (p_failed is None or p_failed >= self.min_probability)
        test = int(decision_path.rsplit("test", 1)[1]) if "/test" in decision_path else None
        if decision_path.startswith("samples/") and test is not None and test >= 2:
            # samples are judged: the failure must hold over snapshots, and a sample test must be one that stops
            ok = ok and self._snap_streak >= self.snapshot_patience and (test == 2 or test in self.sample_tests)
        if ok and self.stopped_at is None:
            self.stopped_at = step
        return ok


def _verdict(value: str | Verdict) -> Verdict:
    try:
        return Verdict(value)
    except ValueError:
        raise UsageError(f"unknown verdict '{value}' in stop_on",
                         hint="Use stable, mode_collapse, non_converged or inconclusive") from None
