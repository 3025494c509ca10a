"""Live monitoring: the analyzer's rules evaluated while a run trains.

``Monitor.update(step, **metrics)`` appends a row to preallocated column
buffers (O(1)) and, every ``every`` rows, evaluates the rules on the new rows
only: the signals are computed by the offline engine's own code
(:class:`~gandiag.engine.evaluate.SignalCache`, :func:`~gandiag.engine.evaluate.compare`)
on a bounded trailing window (the signals are causal, so the largest lookback
of any rule is enough), persistence is carried across chunks by
:class:`~gandiag.live.episodes.EpisodeTracker`, and the verdict comes from
:func:`gandiag.verdict.outcome.classify`. The cost per step is therefore bounded and
does not grow with the run.

The state after any update is *provisional*: it is what ``gandiag analyze``
would say if the run ended at that row (its settled window is the final
quarter of the rows so far). :meth:`Monitor.finish` runs the offline analysis
on the buffered history once, so the final verdict and onset are exactly those
of ``gandiag analyze`` on the log the run wrote.

A failure is *confirmed*, and worth stopping for, when the provisional verdict
is one of ``stop_on``, the run has reached ``min_steps`` (and ``min_fraction``
of ``planned_steps``), the verdict has held for ``patience`` rows, and runs
of the calibration corpus decided the same way failed at least
``min_probability`` of the time. See
docs/monitor.md for the trade-off.

Example
-------
>>> import numpy as np
>>> m = Monitor(planned_steps=300, min_steps=50)
>>> for step in range(1, 301):
...     state = m.update(step, d_loss=0.6 if step < 20 else 0.001, g_loss=1.0 + step / 30)
...     if state.confirmed:
...         break
>>> state.verdict.value, state.step <= 100
('non_converged', True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace

import numpy as np

from gandiag.engine.evaluate import (
    Axis,
    SignalCache,
    evaluate_rule,
    rows_for,
    rule_applies,
    settle_start_at,
    step_interval,
)
from gandiag.engine.findings import Finding, Status, Verdict
from gandiag.engine.loader import load_rules, select_rules
from gandiag.engine.model import Family, Rule
from gandiag.errors import UsageError
from gandiag.history.model import (
    DERIVED_SERIES,
    LossFamily,
    RawTable,
    Reduction,
    RunHistory,
    build_history,
)
from gandiag.history.roles import ACC_ROLES, INDEX_ROLES, LOSS_ROLES, resolve_role
from gandiag.live.buffer import Column
from gandiag.live.conditions import ConditionMasks, LiveRule, active_finding
from gandiag.live.options import check_options, check_roles, declared_family
from gandiag.live.state import Event, MonitorState
from gandiag.live.stop import (
    DEFAULT_MIN_FRACTION,
    DEFAULT_MIN_PROBABILITY,
    DEFAULT_MIN_STEPS,
    DEFAULT_PATIENCE,
    DEFAULT_SAMPLE_TESTS,
    DEFAULT_SNAPSHOT_PATIENCE,
    DEFAULT_STOP_ON,
    StopGate,
)
from gandiag.live.validate import checked_row
from gandiag.verdict.diagnosis import Diagnosis
from gandiag.verdict.outcome import classify

#: Rows between two evaluations of the rules (the cost of one evaluation is spread over them).
DEFAULT_EVERY = 32
_ACC = frozenset(r.value for r in ACC_ROLES)
_LOSSES = tuple(r.value for r in LOSS_ROLES)


class Monitor:
    """Evaluate gandiag's rules incrementally while a run trains.

    Parameters
    ----------
    rules : mapping, optional
        Pre-loaded rules (``gandiag.engine.loader.load_rules()``); default the shipped rules plus ``rule_paths``.
    select, ignore : sequence of str
        Rule codes or prefixes, as for ``gandiag analyze``.
    settle : float
        Final share of the rows so far that the verdict judges (``--settle-fraction``, default 0.25).
    planned_steps : int, optional
        Length of the run; used by ``min_fraction`` and by rules with a ``warmup_fraction``.
    loss : str, optional
        Declare the loss family instead of detecting it.
    d_loss_reduction : 'mean' or 'sum'
        How a combined ``d_loss`` is reported.
    columns : mapping of role -> name, optional
        Names to map to roles, overriding the alias table (``--column``).
    stop_on : iterable of verdicts
        Verdicts that can be confirmed (default ``non_converged`` and ``mode_collapse``).
    min_steps, min_fraction, patience : int, float, int
        The stop policy: no confirmation before step ``max(min_steps, min_fraction * planned_steps)``,
        and only after the verdict held for ``patience`` rows.
    snapshot_patience : int
        A failure the samples decided must have held at this many consecutive snapshots (default 2).
    sample_tests : iterable of int
        The sample tests that may stop the run (default 3, one output; see :class:`gandiag.live.stop.StopGate`).
    min_probability : float
        Confirm only when runs of the calibration corpus decided the same way failed at least this often
        (``1 - P(stable)`` of the verdict's decision path, default 0.7). A loss heuristic on its own is
        right about half the time and does not stop a run; the discriminator having won, or non-finite
        losses, does. 0 turns the gate off.
    scores : str, optional
        Scores file with the probability table (default the shipped ``rules/scores.toml``).
    every : int
        Rows between evaluations: a larger value lowers the mean cost per step and delays the news.
    real : array, optional
        Real data for the sample rules (the reference of :meth:`snapshot`'s statistics, like ``real.npz``).
        Without it only the reference-free sample measures judge, as offline.
    """

    def __init__(
        self,
        *,
        rules: Mapping[str, Rule] | None = None,
        rule_paths: Sequence[str] = (),
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        settle: float = 0.25,
        planned_steps: int | None = None,
        loss: str | None = None,
        d_loss_reduction: str = "mean",
        columns: Mapping[str, str] | None = None,
        stop_on: Iterable[str | Verdict] = DEFAULT_STOP_ON,
        min_steps: int = DEFAULT_MIN_STEPS,
        min_fraction: float = DEFAULT_MIN_FRACTION,
        patience: int = DEFAULT_PATIENCE,
        every: int = DEFAULT_EVERY,
        source: str = "<live>",
        min_probability: float = DEFAULT_MIN_PROBABILITY,
        scores: str | None = None,
        real: np.ndarray | None = None,
        snapshot_patience: int = DEFAULT_SNAPSHOT_PATIENCE,
        sample_tests: Iterable[int] = DEFAULT_SAMPLE_TESTS,
    ):
        check_options(settle, planned_steps, min_steps, min_fraction, patience, every)
        if snapshot_patience < 0:
            raise UsageError(f"invalid monitor options: snapshot_patience must be >= 0, got {snapshot_patience}")
        self.rules = select_rules(dict(load_rules(list(rule_paths)) if rules is None else rules),
                                  select=select, ignore=ignore)
        self.settle = settle
        self.planned_steps = planned_steps
        self.every = every
        self.source = source
        if not 0.0 <= min_probability <= 1.0:
            raise UsageError(f"min_probability must lie in [0, 1], got {min_probability}",
                             hint="Give a share, e.g. 0.7")
        self.gate = StopGate(stop_on=stop_on, min_steps=min_steps, min_fraction=min_fraction, patience=patience,
                             min_probability=min_probability, snapshot_patience=snapshot_patience,
                             planned_steps=planned_steps, sample_tests=sample_tests)
        from gandiag.verdict.judge import probability_table

        self._scores = scores
        self._table = probability_table(scores)
        self.family, self.family_reason = declared_family(loss)
        self.d_loss_reduction = Reduction(d_loss_reduction)
        self._overrides = {name: role for role, name in (columns or {}).items()}
        check_roles(self._overrides)
        # built at the first evaluation, when the rows so far tell how many steps lie between two rows
        self._live: list[LiveRule] = []
        self._context = 1
        self._interval: float | None = None
        self._steps = Column(np.int64, fill=0)
        self._values: dict[str, Column] = {}
        self._nonfinite: dict[str, Column] = {}
        self._role_of: dict[str, str | None] = {}
        self._names: dict[str, str] = {}  # role -> the name it was logged under
        self._logged: set[str] = set()  # roles with at least one logged value (finite or not)
        self._percent: dict[str, bool] = {}  # accuracy roles found to be logged in percent
        self._sign = {r: [0, 0] for r in _LOSSES}  # finite values, negative ones
        self._evaluated = 0
        self._active: dict[str, int] = {}  # code -> onset step of its active episode
        self._state = MonitorState(0, 0, Verdict.INCONCLUSIVE, 0.0, None, "no step logged yet", (), (), False)
        self._quiet = self._state
        self.real = real  # the reference of the sample statistics; may be set until the first snapshot
        self._snapshots = None  # sampling.SnapshotStats, from the first snapshot
        self._sample_memo: tuple | None = None  # (snapshots used, settle) -> sample findings

    # -- feeding -----------------------------------------------------------------

    def update(self, step: int, **metrics: float | None) -> MonitorState:
        """Append one row and return the current state (re-evaluated every ``every`` rows).

        ``None`` means the metric was not logged at this step; NaN or inf is a
        logged non-finite value (evidence of divergence). Names go through the
        alias table (``d1``, ``errD``, ``lossG`` ...) like a log's columns.
        """
        step, metrics = checked_row(step, metrics)
        row = self._steps.n
        if row and step <= self._steps.view(row - 1, row)[0]:
            raise UsageError(f"steps must increase: got step {step} after {self.last_step}",
                             hint="Give each update a larger step (completed generator updates)")
        self._steps.append(step)
        for name, value in metrics.items():
            role = self._role_of[name] if name in self._role_of else self._resolve(name)
            if role is None or value is None:
                continue
            v = float(value)
            col = self._values[role]
            col.pad_to(row)
            if role in _ACC and math.isfinite(v):
                if self._percent.get(role):
                    v *= 0.01  # the column is in percent: every later value too
                elif 1.5 < v <= 100.0:
                    self._percent[role] = True  # accuracies in percent, as build_history would divide them
                    col.scale(0.01)
                    v *= 0.01
            col.append(v)
            self._logged.add(role)
            if not math.isfinite(v):
                nf = self._nonfinite[role]
                nf.pad_to(row)
                nf.append(True)
        if self._steps.n - self._evaluated >= self.every:
            return self._evaluate()
        return self._quiet

    def snapshot(self, step: int, samples: np.ndarray) -> MonitorState:
        """Add generated samples taken at ``step`` and re-judge with them.

        The statistics are those ``gandiag analyze`` computes for a snapshot
        in ``samples.npz`` (:class:`gandiag.samples.evidence.SnapshotStats`, against
        ``real``); with snapshots the verdict is decided by the samples, as
        offline, so a quiet collapse can be confirmed. A snapshot is judged
        once rows up to its step have been given to :meth:`update`.
        Snapshot steps must increase.
        """
        from gandiag.samples.evidence import SnapshotStats

        if self._snapshots is None:
            self._snapshots = SnapshotStats(self.real)
        self._snapshots.add(step, samples)
        if self._steps.n == 0:
            return self._state
        if self._steps.n > self._evaluated:
            return self._evaluate()
        return self._keep(self._judge(self._steps.n, self._present()))

    @property
    def snapshot_steps(self) -> tuple[int, ...]:
        """Steps of the snapshots given to :meth:`snapshot`."""
        return tuple(r["step"] for r in self._snapshots.rows) if self._snapshots is not None else ()

    def evaluate(self) -> MonitorState:
        """Evaluate the rows not evaluated yet now (``update`` does it every ``every`` rows)."""
        return self._evaluate() if self._steps.n > self._evaluated else self._quiet

    @property
    def last_step(self) -> int | None:
        """The step of the last row given to :meth:`update` (None before the first)."""
        n = self._steps.n
        return int(self._steps.view(n - 1, n)[0]) if n else None

    @property
    def state(self) -> MonitorState:
        """The latest state (its ``events`` are those of the last evaluation)."""
        return self._state

    def _resolve(self, name: str) -> str | None:
        role = self._overrides.get(name)
        if role is None:
            found = resolve_role(name)
            role = found.value if found is not None and found not in INDEX_ROLES else None
        if role is not None and role in self._names and self._names[role] != name:
            role = None  # the first name that resolves to a role wins, as in map_names
        self._role_of[name] = role
        if role is not None:
            self._names[role] = name
            self._values[role] = Column(np.float64, fill=np.nan)
            self._nonfinite[role] = Column(np.bool_, fill=False)
        return role

    # -- evaluation --------------------------------------------------------------

    def _build_rules(self, n: int) -> None:
        """Live rules with windows and persistence in rows, from the step interval of the first rows.

        The offline engine takes the median interval of the whole log; a log
        written every k steps gives both the same k.
        """
        self._interval = step_interval(self._steps.view(0, n))
        n_plan = self.planned_steps or 0
        self._live = [LiveRule(r, max(rows_for(r.persistence.warmup_steps, self._interval, 0),
                                       round(r.persistence.warmup_fraction * n_plan / self._interval)), self._interval)
                      for r in self.rules.values() if not r.on_samples]
        self._context = max((lr.lookback for lr in self._live), default=1)

    def _evaluate(self) -> MonitorState:
        n = self._steps.n
        if self._interval is None:
            self._build_rules(n)
        first = self._evaluated
        k = n - first
        window = self._window(first, n)
        present = self._present()
        masks = ConditionMasks(SignalCache(window, interval=self._interval), present, k)
        for live in self._live:
            live.extend(masks, first, k)
        self._count_signs(first, n)
        self._evaluated = n
        return self._keep(self._judge(n, present))

    def _keep(self, state: MonitorState) -> MonitorState:
        """Make ``state`` the current one; calls between evaluations return it without its events."""
        self._state = state
        self._quiet = replace(state, events=())
        return state

    def _present(self) -> set[str]:
        return {s for s in (*self._logged, *DERIVED_SERIES) if self._has(s)}

    def _window(self, first: int, n: int) -> RunHistory:
        """The rows ``first - context .. n`` as a history, NaN-padded in front at the start of the run.

        The padding keeps every rolling window as long as offline (bottleneck
        clips a window to a short series, which would change early values).
        """
        lo = first - self._context
        pad = max(0, -lo)
        lo = max(0, lo)
        series, nonfinite = {}, {}
        for role, col in self._values.items():
            col.pad_to(n)
            nf = self._nonfinite[role]
            nf.pad_to(n)
            v, m = col.view(lo, n), nf.view(lo, n)
            if pad:
                v = np.concatenate((np.full(pad, np.nan), v))
                m = np.concatenate((np.zeros(pad, dtype=bool), m))
            series[role], nonfinite[role] = v, m
        steps = np.arange(pad + n - lo, dtype=np.int64)  # row positions; no signal reads steps
        return RunHistory(steps=steps, series=series, nonfinite=nonfinite, d_loss_reduction=self.d_loss_reduction)

    def _has(self, series: str) -> bool:
        if series in ("d_loss_term", "d_loss_worst"):
            return {"d_loss_real", "d_loss_fake"} <= self._logged or "d_loss" in self._logged
        if series in ("d_acc_mean", "d_acc_worst"):
            return {"d_acc_real", "d_acc_fake"} <= self._logged or "d_acc" in self._logged
        return series in self._logged

    def _count_signs(self, first: int, n: int) -> None:
        """Running counts for the loss-family test of :func:`gandiag.history.family.detect_loss_family`."""
        for role in _LOSSES:
            if role in self._values:
                v = self._values[role].view(first, n)
                v = v[np.isfinite(v)]
                self._sign[role][0] += int(v.size)
                self._sign[role][1] += int(np.signbit(v).sum())

    def _current_family(self) -> tuple[LossFamily, str]:
        if self.family is not None:
            return self.family, self.family_reason
        for role in _LOSSES:
            finite, negative = self._sign[role]
            if finite and negative / finite >= 0.05:
                return LossFamily.WGAN, (f"{role} is negative in {100 * negative / finite:.0f}% of steps, which a "
                                         "binary cross-entropy loss cannot be: this looks like a Wasserstein or hinge critic")
        from gandiag.history.family import ASSUMED_REASON, family_from_names

        named = family_from_names(RunHistory(steps=self._steps.view(0, 0), series={}, columns=dict(self._names)))
        return named if named is not None else (LossFamily.BCE, ASSUMED_REASON)

    def _judge(self, n: int, present: set[str]) -> MonitorState:
        steps = self._steps.view(0, n)
        family, reason = self._current_family()
        s0 = settle_start_at(steps, self.settle)
        findings: list[Finding] = []
        judged = 0
        unjudged = False  # a rule of test 2 (the discriminator won) lacks its series: see calibration_applies
        for live in self._live:
            rule = live.rule
            if Family.ANY not in rule.families and Family(family.value) not in rule.families:
                continue
            if not all(any(s in present for s in c.series) for c in rule.when):
                unjudged |= rule.outcome_test == 2
                continue
            judged += 1
            onset = live.active_onset(s0)
            if onset is not None:
                findings.append(active_finding(rule, int(steps[onset]), int(steps[-1]), present))
        sample_findings, sample_judged = self._sample_findings(family, int(steps[-1]))
        findings += sample_findings
        judged += sample_judged
        history = RunHistory(steps=steps, series={})
        referenced = self._reference_judged(int(steps[-1]))
        verdict, confidence, onset_step, why = classify(history, findings, family=family, family_reason=reason,
                                                        judged_rules=judged, samples_judged=sample_judged > 0,
                                                        reference_judged=referenced)
        from gandiag.verdict.calibration import calibration_applies, confidence_of, decision_path

        p_failed = None
        path = decision_path(findings, samples_judged=sample_judged > 0, verdict=verdict.value, reference=referenced)
        if self._table and verdict is not Verdict.INCONCLUSIVE:
            calibrated = (confidence_of(verdict.value, path, self._table)
                          if calibration_applies(verdict.value, path, test2_unjudged=unjudged) else None)
            if calibrated is not None:
                confidence = round(calibrated[0], 3)
                p_failed = 1.0 - calibrated[1].get(Verdict.STABLE.value, 0.0)
        events = self._events(findings, int(steps[-1]))
        confirmed = self.gate.check(verdict, n, int(steps[-1]), p_failed, path,
                                    self._sample_memo[0][0] if self._sample_memo else 0)
        return MonitorState(int(steps[-1]), n, verdict, confidence, onset_step, why,
                            tuple(f.rule for f in findings), events, confirmed, decision_path=path,
                            p_failed=p_failed, snapshots=self._sample_memo[0][0] if self._sample_memo else 0)

    def _reference_judged(self, last_step: int) -> bool:
        """Whether a snapshot so far was compared with a real reference (as :attr:`Prepared.reference_judged`)."""
        rows = self._snapshots.rows if self._snapshots is not None else []
        return any(r["step"] <= last_step and r.get("n_real", 0) > 0 and r.get("insufficient_reference") != 1.0
                   and r.get("insufficient") != 1.0 for r in rows)

    def _sample_findings(self, family: LossFamily, last_step: int) -> tuple[list[Finding], int]:
        """Active findings of the sample rules on the snapshots up to ``last_step``, and how many rules judged.

        The offline engine's own evaluation (:func:`gandiag.engine.evaluate.evaluate_rule`) on the snapshot
        table: a handful of rows, recomputed only when a snapshot is added or the family changes.
        """
        if self._snapshots is None:
            return [], 0
        used = sum(1 for r in self._snapshots.rows if r["step"] <= last_step)
        key = (used, family)
        if self._sample_memo is not None and self._sample_memo[0] == key:
            return self._sample_memo[1], self._sample_memo[2]
        found: list[Finding] = []
        judged = 0
        if used:
            snaps = self._snapshots.table(upto=last_step)
            axis = Axis(steps=snaps.steps, settle_start=settle_start_at(snaps.steps, self.settle))
            cache = SignalCache(RunHistory(steps=snaps.steps, series={}), snaps)
            for rule in self.rules.values():
                if not rule.on_samples:
                    continue
                if Family.ANY not in rule.families and Family(family.value) not in rule.families:
                    continue
                if rule_applies(rule, cache.history, snaps):
                    continue
                judged += 1
                found += [f for f in evaluate_rule(rule, cache, axis) if f.status is Status.ACTIVE]
        self._sample_memo = (key, found, judged)
        return found, judged

    # the stop policy's settings, read through the gate (one copy)
    stop_on = property(lambda self: self.gate.stop_on)
    min_steps = property(lambda self: self.gate.min_steps)
    min_fraction = property(lambda self: self.gate.min_fraction)
    patience = property(lambda self: self.gate.patience)
    min_probability = property(lambda self: self.gate.min_probability)
    snapshot_patience = property(lambda self: self.gate.snapshot_patience)
    stopped_at = property(lambda self: self.gate.stopped_at, doc="The first step a failure was confirmed.")

    def _events(self, findings: list[Finding], step: int) -> tuple[Event, ...]:
        now = {f.rule: f for f in findings}
        events = [Event("fired", f.rule, f.name, f.title, f.severity, f.supports, step, f.onset_step)
                  for code, f in now.items() if code not in self._active]
        for code, onset in self._active.items():
            if code not in now:
                r = self.rules[code]
                events.append(Event("cleared", code, r.name, r.title, r.severity, r.supports, step, onset))
        self._active = {code: f.onset_step for code, f in now.items()}
        return tuple(events)

    # -- the end -----------------------------------------------------------------

    def history(self) -> RunHistory:
        """The rows so far as a :class:`~gandiag.history.RunHistory`, normalised like a log file."""
        n = self._steps.n
        if n == 0:
            raise UsageError("the monitor has no rows yet", hint="Call update() at least once")
        columns: dict[str, np.ndarray] = {"step": self._steps.view(0, n).astype(float)}
        nonfinite: dict[str, np.ndarray] = {}
        for role, col in self._values.items():
            col.pad_to(n)
            self._nonfinite[role].pad_to(n)
            columns[role] = col.view(0, n).copy()
            nonfinite[role] = self._nonfinite[role].view(0, n).copy()
        raw = RawTable(columns=columns, source=self.source, input_format="live", nonfinite=nonfinite,
                       default_reduction=self.d_loss_reduction)
        return build_history(raw)

    def finish(self) -> Diagnosis:
        """The offline analysis of the rows and snapshots so far: what ``gandiag analyze`` says of the run.

        Without snapshots that is ``gandiag analyze --no-samples`` of the log.
        """
        from gandiag.history.family import detect_loss_family
        from gandiag.samples.evidence import SampleInputs
        from gandiag.verdict.judge import Prepared, judge, probability_table

        history = self.history()
        if self.family is not None:
            family, reason = self.family, self.family_reason
        else:
            family, reason = detect_loss_family(history)
        snaps, rows, notes = None, (), ()
        last = int(history.steps[-1])
        if self._snapshots is not None and any(r["step"] <= last for r in self._snapshots.rows):
            snaps = self._snapshots.table(upto=last)
            rows = tuple(r for r in self._snapshots.rows if r["step"] <= last)
            notes = tuple(self._snapshots.notes())
        prepared = Prepared(history, family, reason, SampleInputs(None, None), snaps, rows, notes, self.settle)
        return judge(prepared, self.rules, probability_table(self._scores))


def history_rows(history: RunHistory, start: int = 0) -> Iterator[tuple[int, dict[str, float | None]]]:
    """``(step, metrics)`` for each row of a recorded history from row ``start``, as ``update`` takes them.

    A value that was not logged is ``None``; a logged NaN or inf stays as it is.
    Replaying a finished log through a :class:`Monitor` is how the live and the
    offline answers are compared (``benchmarks/monitor_replay.py``).
    """
    names = list(history.series)
    values = [history.series[k] for k in names]
    missing = [np.isnan(history.series[k]) & ~history.nonfinite.get(k, np.zeros(len(history), dtype=bool))
               for k in names]
    for i in range(start, len(history)):
        yield int(history.steps[i]), {k: None if miss[i] else float(v[i]) for k, v, miss in zip(names, values, missing)}


def replay(monitor: Monitor, history: RunHistory,
           snapshots: Mapping[int, np.ndarray] | None = None) -> Iterator[MonitorState]:
    """Feed a recorded run to ``monitor`` as it was written; yields the state after every row and snapshot.

    A snapshot is given right after the row of its step (or of the last step
    before it), as a training loop that logs and then samples would.
    """
    pending = sorted((snapshots or {}).items())
    i = 0
    for step, metrics in history_rows(history):
        while i < len(pending) and pending[i][0] < step:
            yield monitor.snapshot(*pending[i])
            i += 1
        yield monitor.update(step, **metrics)
        while i < len(pending) and pending[i][0] == step:
            yield monitor.snapshot(*pending[i])
            i += 1
