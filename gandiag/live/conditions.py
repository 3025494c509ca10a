"""One rule evaluated incrementally: its conditions on each new chunk of rows, its episodes carried across chunks.

The signals and comparisons are the offline engine's own
(:mod:`gandiag.engine.evaluate`); what is live here is only which rows are
evaluated and how a streak that spans two chunks is kept.
"""

from __future__ import annotations

import math

import numpy as np

from gandiag.engine.evaluate import (
    SignalCache,
    compare,
    rows_for,
    scaled_params,
)
from gandiag.engine.findings import Evidence, Finding, Status
from gandiag.engine.model import Condition, Rule
from gandiag.live.buffer import Column
from gandiag.live.episodes import EpisodeTracker
from gandiag.signals.registry import lookback


class LiveRule:
    """One loss rule's incremental state: its mask's episodes and running counts for the settled share."""

    def __init__(self, rule: Rule, warm: int, interval: float):
        self.rule = rule
        self.warm = warm
        p = rule.persistence
        self.tracker = EpisodeTracker(for_steps=rows_for(p.for_steps, interval),
                                      max_gap=rows_for(p.max_gap, interval) if p.max_gap else None)
        self.hits = Column(np.int64, fill=0)  # cumulative count of rows where mask and valid hold
        self.valid = Column(np.int64, fill=0)  # cumulative count of valid rows
        self.hits.append(0)
        self.valid.append(0)
        self.lookback = max(lookback(c.signal.value, scaled_params(dict(c.params), interval)) for c in rule.when)

    def extend(self, masks: ConditionMasks, first_row: int, k: int) -> None:
        """Evaluate the conditions on the ``k`` new rows (rows ``first_row``...)."""
        mask, valid = masks.get(self.rule.when[0])
        for cond in self.rule.when[1:]:
            cmask, cvalid = masks.get(cond)
            mask = mask & cmask
            valid = valid & cvalid
        if first_row < self.warm:
            mask = mask.copy()
            mask[: min(self.warm - first_row, k)] = False
        self.tracker.extend(mask)
        self.hits.extend(self.hits.view()[-1] + np.cumsum(mask & valid))
        self.valid.extend(self.valid.view()[-1] + np.cumsum(valid))

    def active_onset(self, s0: int) -> int | None:
        """Row where the active episode starts, or None: the offline engine's rule, on the rows so far."""
        last = self.tracker.last()
        if last is None:
            return None
        share_needed = self.rule.persistence.settle_share
        if share_needed == 0.0:
            return self.tracker.first()[0]  # any episode makes the rule active, dated from the first
        n = self.tracker.n
        denom = int(self.valid.view()[n] - self.valid.view()[s0])
        share = float((self.hits.view()[n] - self.hits.view()[s0]) / denom) if denom else 0.0
        return last[0] if last[1] >= s0 and (share >= share_needed or last[1] == n - 1) else None


class ConditionMasks:
    """Where each condition holds on the new rows, computed once per evaluation and shared by rules."""

    def __init__(self, cache: SignalCache, present: set[str], k: int):
        self.cache, self.present, self.k = cache, present, k
        self._memo: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, cond: Condition) -> tuple[np.ndarray, np.ndarray]:
        """``(holds, valid)`` on the new rows, as :func:`gandiag.engine.evaluate.evaluate_rule` builds them."""
        key = (cond.series, cond.signal, cond.params, cond.op, cond.value)
        hit = self._memo.get(key)
        if hit is None:
            k = self.k
            cmask = np.zeros(k, dtype=bool)
            cvalid = np.zeros(k, dtype=bool)
            for series in cond.series:
                if series not in self.present or not self.cache.history.has(series):
                    continue  # absent, or nothing logged within the window: all NaN, which holds nowhere
                vals = self.cache.values(cond, series)[-k:]
                cmask |= compare(vals, cond.op, cond.value)
                cvalid |= ~np.isnan(vals)
            hit = self._memo[key] = (cmask, cvalid)
        return hit


def active_finding(rule: Rule, onset_step: int, end_step: int, present: set[str]) -> Finding:
    # which series each condition read (as offline, the verdict's loss-family caveat looks at them); no numbers
    evidence = tuple(Evidence(series=next((s for s in c.series if s in present), c.series[0]), signal=c.describe(),
                              observed=math.nan, op=c.op.value, threshold=c.value, streak_steps=0, fraction=0.0,
                              start_step=onset_step, end_step=end_step) for c in rule.when)
    return Finding(rule=rule.code, name=rule.name, title=rule.title, severity=rule.severity,
                   status=Status.ACTIVE, supports=rule.supports, weight=rule.weight, onset_step=onset_step,
                   end_step=end_step, evidence=evidence, message=rule.title, fix=rule.docs.fix,
                   outcome_test=rule.outcome_test)
