"""Fit what the rules leave open from a labelled corpus of runs (SpamAssassin's mass-check and rescoring).

A rule's threshold is fitted when its condition declares a range
(``tune = [low, high]`` in the rule file): the fit chooses, within those
ranges, the thresholds under which the corpus's runs are classified best
(macro-F1 of the three outcomes) while at most ``bound`` of its stable runs
are flagged as failures. Everything else -- signals, the order of the outcome
tests, persistence -- stays as the rule files say.

The work is done once per run (:func:`collect`: read the run, measure its
samples, evaluate every rule at every candidate threshold); a fit then only
re-classifies the stored findings (:func:`decide`), so that leave-one-family-
out fits over hundreds of runs take seconds.

Fitted thresholds live in a scores file (``rules/scores.toml``, read by
:func:`gandiag.engine.loader.load_rules`)::

    schema = "gandiag.scores/1"
    [thresholds]
    GD302 = 0.55
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .classify import classify
from .engine.evaluate import SignalCache, evaluate_rule, rule_applies
from .engine.model import Family, Rule
from .findings import FAILURE_VERDICTS, Finding, Verdict

LABELS = (Verdict.STABLE.value, Verdict.MODE_COLLAPSE.value, Verdict.NON_CONVERGED.value)
#: Candidate thresholds per tuned condition: evenly spaced over its range.
GRID_POINTS = 15
#: Default bound on the share of stable runs flagged as failures.
DEFAULT_BOUND = 0.05


def tuned_condition(rule: Rule) -> int | None:
    """Index of the rule's tunable condition (at most one per rule), or ``None``."""
    idx = [i for i, c in enumerate(rule.when) if c.tune is not None]
    return idx[0] if idx else None


def with_threshold(rule: Rule, value: float) -> Rule:
    """The rule with its tunable condition's threshold set to ``value``."""
    i = tuned_condition(rule)
    if i is None:
        return rule
    when = list(rule.when)
    when[i] = dataclasses.replace(when[i], value=float(value))
    return dataclasses.replace(rule, when=tuple(when))


def candidates(rule: Rule) -> tuple[float, ...]:
    """The thresholds a fit tries for ``rule``: its range in GRID_POINTS steps, and its current value."""
    i = tuned_condition(rule)
    if i is None:
        return ()
    lo, hi = rule.when[i].tune
    values = set(np.round(np.linspace(lo, hi, GRID_POINTS), 4).tolist()) | {float(rule.when[i].value)}
    return tuple(sorted(values))


@dataclass
class Case:
    """One labelled run in one mode, with every rule's findings at every candidate threshold."""

    id: str
    family: str
    label: str
    oracle_onset: int | None
    mode: str  # "samples" or "losses"
    n_rows: int
    last_step: int
    history: object
    loss_family: object
    family_reason: str
    judged: int
    samples_judged: bool
    fixed: list[Finding]
    tunable: dict[str, dict[float, list[Finding]]]
    defaults: dict[str, float] = field(default_factory=dict)  # each tunable rule's threshold as loaded
    meta: dict = field(default_factory=dict)


def collect(prepared, rules: Mapping[str, Rule], *, id: str, family: str, label: str,
            oracle_onset: int | None, mode: str, meta: dict | None = None) -> Case:
    """Evaluate every rule on a prepared run (:func:`gandiag.api.prepare`), tunable ones at every candidate."""
    history, snaps, fam = prepared.history, prepared.snaps, prepared.family
    cache = SignalCache(history, snaps)
    fixed: list[Finding] = []
    tunable: dict[str, dict[float, list[Finding]]] = {}
    defaults: dict[str, float] = {}
    judged, samples_judged = 0, False
    for code, rule in rules.items():
        if Family.ANY not in rule.families and Family(fam.value) not in rule.families:
            continue
        if rule_applies(rule, history, snaps):
            continue
        judged += 1
        samples_judged |= rule.on_samples
        axis = prepared.snap_axis if rule.on_samples else prepared.axis
        values = candidates(rule)
        if not values:
            fixed.extend(evaluate_rule(rule, cache, axis))
            continue
        tunable[code] = {v: evaluate_rule(with_threshold(rule, v), cache, axis) for v in values}
        defaults[code] = float(rule.when[tuned_condition(rule)].value)
    return Case(id=id, family=family, label=label, oracle_onset=oracle_onset, mode=mode, n_rows=len(history),
                last_step=int(history.steps[-1]) if len(history) else 0, history=history, loss_family=fam,
                family_reason=prepared.family_reason, judged=judged, samples_judged=samples_judged,
                fixed=fixed, tunable=tunable, defaults=defaults, meta=dict(meta or {}))


def _nearest(values: Iterable[float], v: float) -> float:
    return min(values, key=lambda x: abs(x - v))


def decide(case: Case, thresholds: Mapping[str, float]) -> tuple[str, float, int | None]:
    """The verdict, confidence and onset the analyzer gives ``case`` with these thresholds."""
    findings = list(case.fixed)
    for code, by_value in case.tunable.items():
        findings.extend(by_value[_nearest(by_value, thresholds.get(code, case.defaults[code]))])
    verdict, confidence, onset, _ = classify(case.history, findings, family=case.loss_family,
                                             family_reason=case.family_reason, judged_rules=case.judged,
                                             samples_judged=case.samples_judged)
    return verdict.value, confidence, onset


def macro_f1(labels: Sequence[str], verdicts: Sequence[str]) -> float:
    f1s = []
    for lab in LABELS:
        tp = sum(a == lab and b == lab for a, b in zip(labels, verdicts))
        pred = sum(b == lab for b in verdicts)
        true = sum(a == lab for a in labels)
        if not true:
            continue
        p = tp / pred if pred else 0.0
        r = tp / true
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def stable_flagged(labels: Sequence[str], verdicts: Sequence[str]) -> float:
    flagged = [b in {v.value for v in FAILURE_VERDICTS} for a, b in zip(labels, verdicts) if a == Verdict.STABLE.value]
    return float(np.mean(flagged)) if flagged else 0.0


def objective(cases: Sequence[Case], thresholds: Mapping[str, float], bound: float) -> float:
    """Macro-F1, less a steep penalty for every point of stable runs flagged above ``bound``."""
    verdicts = [decide(c, thresholds)[0] for c in cases]
    labels = [c.label for c in cases]
    excess = max(0.0, stable_flagged(labels, verdicts) - bound)
    return macro_f1(labels, verdicts) - 5.0 * excess


def fit(cases: Sequence[Case], rules: Mapping[str, Rule], *, bound: float = DEFAULT_BOUND,
        passes: int = 3) -> dict[str, float]:
    """Thresholds for the tunable rules that maximise :func:`objective` on ``cases`` (coordinate ascent).

    Starts from the rule files' values; each pass tries every candidate of
    every rule in code order and keeps the best (ties keep the current value,
    then the value nearest the rule file's). Deterministic.
    """
    present = sorted({code for c in cases for code in c.tunable})
    start = {code: float(rules[code].when[tuned_condition(rules[code])].value) for code in present}
    current = dict(start)
    best = objective(cases, current, bound)
    for _ in range(passes):
        changed = False
        for code in present:
            for v in candidates(rules[code]):
                if v == current[code]:
                    continue
                trial = {**current, code: v}
                score = objective(cases, trial, bound)
                closer = abs(v - start[code]) < abs(current[code] - start[code])
                if score > best + 1e-12 or (abs(score - best) <= 1e-12 and closer):
                    best, current, changed = score, trial, True
        if not changed:
            break
    return current
