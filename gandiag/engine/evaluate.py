"""Evaluate rules on a history: signals (computed once each), conditions, persistence, findings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gandiag.engine.findings import Evidence, Finding, Severity, Status
from gandiag.engine.model import Condition, Op, Rule, Signal
from gandiag.history.model import RunHistory
from gandiag.samples.table import SnapshotTable
from gandiag.signals import oscillation, persistence
from gandiag.signals.registry import SIGNALS


@dataclass(frozen=True)
class Axis:
    """The rows a rule is judged on: every logged step, or every snapshot.

    ``interval`` is the usual number of steps between two logged rows
    (:func:`step_interval`): windows and persistence written in steps are
    converted to rows with it, so a run logged every step, every 10 steps or
    once per epoch is judged alike.
    """

    steps: np.ndarray
    settle_start: int  # first row index of the settled window
    interval: float = 1.0

    @property
    def n(self) -> int:
        return int(self.steps.size)


#: A rolling window never spans fewer rows than this, however sparse the log.
MIN_WINDOW_ROWS = 3


def settle_start(n: int, settle_fraction: float) -> int:
    """First row of the settled window of ``n`` evenly logged rows: the final ``settle_fraction`` of them."""
    return int(min(max(n - max(1, int(round(n * settle_fraction))), 0), max(n - 1, 0)))


def settle_start_at(steps: np.ndarray, settle_fraction: float) -> int:
    """First row of the settled window: the rows in the final ``settle_fraction`` of the *steps* covered.

    For a log with every step (or every k-th) this is :func:`settle_start`;
    for an excerpt (the first ten lines, ``...``, the last five) it is the
    rows at the end of the run, however few, not the last quarter of the rows.
    """
    steps = np.asarray(steps)
    n = int(steps.size)
    if n < 2:
        return 0
    cut = float(steps[-1]) - settle_fraction * float(steps[-1] - steps[0])
    return int(min(np.searchsorted(steps, cut - 1e-9, side="left"), n - 1))


def step_interval(steps: np.ndarray) -> float:
    """The usual number of steps between logged rows: the median gap (1 for fewer than two rows)."""
    steps = np.asarray(steps, dtype=float)
    if steps.size < 2:
        return 1.0
    gaps = np.diff(steps)
    gaps = gaps[gaps > 0]
    return float(max(1.0, np.median(gaps))) if gaps.size else 1.0


def rows_for(steps: int | None, interval: float, minimum: int = 1) -> int:
    """A length given in steps, in rows of a log with this ``interval`` (at least ``minimum``)."""
    if not steps:
        return 0 if minimum == 0 else minimum
    return max(minimum, int(math.ceil(steps / interval - 1e-9)))


def scaled_params(params: Mapping[str, object], interval: float) -> dict[str, object]:
    """A signal's windows (given in steps) in rows of a log with this ``interval``."""
    out = dict(params)
    if interval <= 1.0:
        return out
    for key in ("window", "long_window", "smooth"):
        v = out.get(key)
        if isinstance(v, int) and v > 0:
            out[key] = rows_for(v, interval, MIN_WINDOW_ROWS)
    return out


class SignalCache:
    """Computes each (signal, series, parameters) once per history (great_expectations' metric reuse).

    Windows in a condition's parameters are steps; ``interval`` (steps per
    logged row) turns them into rows.
    """

    def __init__(self, history: RunHistory, snapshots: SnapshotTable | None = None, interval: float = 1.0):
        self.history = history
        self.snapshots = snapshots
        self.interval = interval
        self._cache: dict[tuple, np.ndarray] = {}

    def values(self, cond: Condition, series: str) -> np.ndarray:
        key = (cond.signal, series, cond.params)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._compute(cond, series)
            self._cache[key] = hit
        return hit

    def _compute(self, cond: Condition, series: str) -> np.ndarray:
        p = scaled_params(dict(cond.params), self.interval)
        if cond.signal is Signal.SNAPSHOT:
            return np.asarray(self.snapshots.stats[series], dtype=float)
        if cond.signal is Signal.NONFINITE:
            return self.history.nonfinite_mask(series).astype(float)
        v = self.history.get(series)
        if cond.signal is Signal.VALUE:
            return v
        return SIGNALS[cond.signal.value].compute(v, p)  # the loader admits only known signals


def compare(values: np.ndarray, op: Op, threshold) -> np.ndarray:
    """Elementwise ``values op threshold``; NaN compares False."""
    with np.errstate(invalid="ignore"):
        if op is Op.LT:
            return values < threshold
        if op is Op.LE:
            return values <= threshold
        if op is Op.GT:
            return values > threshold
        if op is Op.GE:
            return values >= threshold
        lo, hi = threshold
        if op is Op.BETWEEN:
            return (values >= lo) & (values <= hi)
        return (values < lo) | (values > hi)


def rule_applies(rule: Rule, history: RunHistory, snapshots: SnapshotTable | None) -> str | None:
    """``None`` when the rule can run, else why it is skipped."""
    if rule.on_samples:
        if snapshots is None or snapshots.steps.size == 0:
            return "no sample snapshots"
        for c in rule.when:
            have = [s for s in c.series if s in snapshots.stats and np.isfinite(snapshots.stats[s]).any()]
            if not have:
                return f"needs {' or '.join(c.series)} (no real reference, or snapshots too small)"
        return None
    for c in rule.when:
        if not any(history.has(s) for s in c.series):
            return "needs " + " or ".join(c.series)
    return None


#: Recovered episodes of one rule described in full: the first ones, then the longest and the last of the rest;
#: the others are only counted (``omitted``), so the cost of a run with thousands of episodes stays bounded.
MAX_EPISODES_DESCRIBED = 50


def evaluate_rule(
    rule: Rule, cache: SignalCache, axis: Axis, omitted: dict[str, int] | None = None
) -> list[Finding]:
    """Findings of one rule: its active episode (if any) and earlier recovered ones.

    Beyond :data:`MAX_EPISODES_DESCRIBED` recovered episodes, only the
    longest and the last of the rest become findings; the number left out is
    added to ``omitted[rule.code]`` when a dict is given.
    """
    n = axis.n
    if n == 0:
        return []
    mask = np.ones(n, dtype=bool)
    valid = np.ones(n, dtype=bool)
    per_cond: list[tuple[Condition, str, np.ndarray]] = []
    for cond in rule.when:
        cmask = np.zeros(n, dtype=bool)
        cvalid = np.zeros(n, dtype=bool)
        chosen = None
        for series in cond.series:
            if rule.on_samples:
                if series not in cache.snapshots.stats:
                    continue
            elif not cache.history.has(series):
                continue
            vals = cache.values(cond, series)
            hit = compare(vals, cond.op, cond.value)
            cmask |= hit
            cvalid |= ~np.isnan(vals)
            if chosen is None or hit.sum() > compare(chosen[1], cond.op, cond.value).sum():
                chosen = (series, vals)
        mask &= cmask
        valid &= cvalid
        per_cond.append((cond, chosen[0], chosen[1]))
    p = rule.persistence
    if rule.on_samples:
        warm, for_rows, gap = int(round(p.warmup_fraction * n)), p.for_snapshots, p.max_gap
    else:
        warm = max(rows_for(p.warmup_steps, axis.interval, 0), int(round(p.warmup_fraction * n)))
        for_rows = rows_for(p.for_steps, axis.interval)
        gap = rows_for(p.max_gap, axis.interval) if p.max_gap else None
    if warm:
        mask[: min(warm, n)] = False
    eps = persistence.episodes(mask, for_steps=for_rows, max_gap=gap)
    if eps.shape[0] == 0:
        return []
    s0 = axis.settle_start
    settle_valid = valid[s0:]
    denom = int(settle_valid.sum())
    share = float(mask[s0:][settle_valid].sum() / denom) if denom else 0.0
    last = eps[-1]
    if p.settle_share == 0.0:
        active_idx = 0  # any episode makes the rule active (e.g. non-finite losses): onset at the first
        active = True
    else:
        # active: it holds through enough of the settled window, or it is still going at the last row
        # (an episode that reaches the end of the run has not been recovered from)
        active = bool(last[1] >= s0 and (share >= p.settle_share or last[1] == n - 1))
        active_idx = eps.shape[0] - 1
    findings = []
    described = _described(eps, active_idx if active else None,
                           rule.severity is Severity.INFO or (active and p.settle_share == 0.0))
    if omitted is not None and described is not None:
        left_out = eps.shape[0] - (1 if active else 0) - len(described)
        if left_out:
            omitted[rule.code] = omitted.get(rule.code, 0) + left_out
    for i, (start, end) in enumerate(eps):
        is_active = active and (i == active_idx if p.settle_share > 0 else True)
        if active and p.settle_share == 0.0 and i > 0:
            break
        if not is_active and rule.severity is Severity.INFO:
            continue  # past healthy spells are not worth a finding
        if not is_active and described is not None and i not in described:
            continue
        if is_active and p.settle_share == 0.0:
            span = (int(start), n - 1)
            fraction = float(mask[start:].mean())
        elif is_active:
            span = (int(start), int(end))
            fraction = share
        else:
            span = (int(start), int(end))
            fraction = float(mask[start : end + 1].mean())
        findings.append(_finding(rule, cache, per_cond, mask, span, axis, fraction, is_active))
    return findings


def _described(eps: np.ndarray, active_idx: int | None, info: bool) -> set[int] | None:
    """Indices of the recovered episodes worth a finding when there are too many (None: all of them)."""
    if info:
        return None
    recovered = [i for i in range(eps.shape[0]) if i != active_idx]
    if len(recovered) <= MAX_EPISODES_DESCRIBED:
        return None
    keep = set(recovered[:MAX_EPISODES_DESCRIBED])
    rest = recovered[MAX_EPISODES_DESCRIBED:]
    lengths = eps[rest, 1] - eps[rest, 0]
    keep.add(rest[int(np.argmax(lengths))])  # the longest of the rest (the first of equals)
    keep.add(rest[-1])
    return keep


def _finding(rule, cache, per_cond, mask, span, axis: Axis, fraction: float, is_active: bool) -> Finding:
    start, end = span
    steps = axis.steps
    st = persistence.streaks(mask[start : end + 1])
    streak = int((st[:, 1] - st[:, 0] + 1).max()) if st.size else 0
    judged = slice(max(start, axis.settle_start) if is_active and end >= axis.settle_start else start, end + 1)
    evidence = []
    for cond, series, vals in per_cond:
        seg = vals[judged]
        seg = seg[np.isfinite(seg)]
        observed = float(np.median(seg)) if seg.size else float("nan")
        if cond.signal is Signal.NONFINITE:
            observed = float(np.mean(mask[start:]))  # share of rows since onset with a non-finite loss
        threshold = cond.value if not isinstance(cond.value, tuple) else list(cond.value)
        evidence.append(
            Evidence(
                series=series, signal=cond.describe(), observed=observed, op=cond.op.value,
                threshold=threshold, streak_steps=streak, fraction=round(fraction, 4),
                start_step=int(steps[start]), end_step=int(steps[end]),
                unit="snapshots" if rule.on_samples else "steps",
            )
        )
    first = evidence[0]
    period = float("nan")
    osc_series = [s for c, s, _ in per_cond if c.signal is Signal.OSCILLATION]
    if osc_series:
        raw = cache.history.get(osc_series[0])
        period, _ = oscillation.dominant_period(raw[start : end + 1])
    fields = {
        "observed": first.observed,
        "threshold": first.threshold if not isinstance(first.threshold, list) else f"[{first.threshold[0]:g}, {first.threshold[1]:g}]",
        "streak": streak,
        "fraction": fraction,
        "onset": int(steps[start]),
        "end": int(steps[end]),
        "series": first.series,
        "period": period,
    }
    message = _format(rule.message, fields)
    severity = rule.severity
    if not is_active and severity is Severity.ERROR:
        severity = Severity.WARNING  # a past episode the run recovered from
    if not is_active:
        message += f" (episode at steps {int(steps[start])}-{int(steps[end])}; the run recovered)"
    return Finding(
        rule=rule.code, name=rule.name, title=rule.title, severity=severity,
        status=Status.ACTIVE if is_active else Status.RECOVERED, supports=rule.supports,
        weight=rule.weight, onset_step=int(steps[start]), end_step=int(steps[end]),
        evidence=tuple(evidence), message=message, fix=rule.docs.fix, outcome_test=rule.outcome_test,
    )


def _format(template: str, fields: dict) -> str:
    class _Safe(dict):
        def __missing__(self, key):
            return "{" + key + "}"

    try:
        return template.format_map(_Safe(fields))
    except (ValueError, TypeError, IndexError):
        return template
