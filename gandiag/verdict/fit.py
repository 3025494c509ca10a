"""Scores from a labelled corpus of runs, as SpamAssassin's rescoring does for its rules.

The rules stay declarative and documented; what they leave open is fitted on
runs whose outcome is known (:mod:`gandiag.verdict.cases`):

1. **thresholds**: a rule condition that declares a range (``tune = [low,
   high]``) gets the threshold, within that range, under which the corpus is
   classified best (macro-F1 of the three outcomes) while at most ``bound`` of
   its stable runs are flagged as failures (:func:`fit`);
2. **probabilities**: per decision path, the share of corpus runs decided that
   way that ended stable, collapsed or unconverged
   (:func:`gandiag.verdict.calibration.fit_probabilities`).

:func:`leave_one_family_out` fits on all families but one and judges the one
left out, for figures that are not in-sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gandiag.engine.findings import Status
from gandiag.engine.model import Rule
from gandiag.verdict.calibration import LABELS, PathProbabilities, fit_probabilities
from gandiag.verdict.cases import Case, candidates, case_path, decide, findings_at, tuned_condition
from gandiag.verdict.metrics import macro_f1, stable_flagged

#: Default bounds on the share of stable runs flagged as failures: with samples, from losses alone.
DEFAULT_BOUND = 0.05
DEFAULT_LOSS_BOUND = 0.10


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


@dataclass
class Calibration:
    """A fit on a corpus: thresholds per mode, probability tables, and the per-run predictions it rests on."""

    thresholds: dict[str, float]
    probabilities: dict[str, PathProbabilities]
    rows: list[dict]


def predictions(cases: Sequence[Case], thresholds: Mapping[str, float]) -> list[dict]:
    out = []
    for c in cases:
        verdict, path, onset = case_path(c, thresholds)
        out.append({"id": c.id, "family": c.family, "mode": c.mode, "label": c.label, "verdict": verdict,
                    "path": path, "onset": onset, "oracle_onset": c.oracle_onset, "last_step": c.last_step,
                    **c.meta})
    return out


def calibrate(cases: Sequence[Case], rules: Mapping[str, Rule], *, bound: float = DEFAULT_BOUND,
              loss_bound: float = DEFAULT_LOSS_BOUND) -> Calibration:
    """Fit thresholds (sample rules with samples, loss rules from losses alone) and the probability tables."""
    with_samples = [c for c in cases if c.mode == "samples"]
    losses = [c for c in cases if c.mode == "losses"]
    thresholds: dict[str, float] = {}
    if losses:
        thresholds.update(fit(losses, rules, bound=loss_bound))
    if with_samples:
        sample_codes = {code for code, r in rules.items() if r.on_samples}
        fitted = fit(with_samples, rules, bound=bound)
        thresholds.update({k: v for k, v in fitted.items() if k in sample_codes or k not in thresholds})
    rows = predictions(cases, thresholds)
    table = fit_probabilities([r["path"] for r in rows], [r["label"] for r in rows])
    for r in rows:
        r["confidence"] = table[r["path"]].probabilities.get(r["verdict"], 0.0) if r["verdict"] in LABELS else 0.0
        r["probabilities"] = dict(table[r["path"]].probabilities)
    return Calibration(thresholds, table, rows)


_FOLD_INPUT: tuple = ()  # (cases, rules, bound, loss_bound), inherited by forked fold workers


def _fit_fold(fam: str) -> tuple[str, dict[str, float], list[dict]]:
    cases, rules, bound, loss_bound = _FOLD_INPUT
    cal = calibrate([c for c in cases if c.family != fam], rules, bound=bound, loss_bound=loss_bound)
    held = predictions([c for c in cases if c.family == fam], cal.thresholds)
    for r in held:
        entry = cal.probabilities.get(r["path"])
        if entry is None:  # a path the other families never took: no calibrated probability
            uniform = 1.0 / len(LABELS)
            r["probabilities"] = {lab: uniform for lab in LABELS}
        else:
            r["probabilities"] = dict(entry.probabilities)
        r["confidence"] = r["probabilities"].get(r["verdict"], 0.0)
    return fam, cal.thresholds, held


def leave_one_family_out(cases: Sequence[Case], rules: Mapping[str, Rule], *, bound: float = DEFAULT_BOUND,
                         loss_bound: float = DEFAULT_LOSS_BOUND, jobs: int = 1,
                         ) -> tuple[list[dict], dict[str, dict[str, float]]]:
    """Predictions for every case from a calibration fitted without its family; and each fold's thresholds.

    Folds run in ``jobs`` forked processes where the platform forks (the cases are inherited, not pickled).
    """
    global _FOLD_INPUT
    families = sorted({c.family for c in cases})
    _FOLD_INPUT = (list(cases), rules, bound, loss_bound)
    try:
        import multiprocessing as mp

        if jobs > 1 and len(families) > 1 and "fork" in mp.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(min(jobs, len(families)), mp_context=mp.get_context("fork")) as pool:
                results = list(pool.map(_fit_fold, families))
        else:
            results = [_fit_fold(fam) for fam in families]
    finally:
        _FOLD_INPUT = ()
    rows, fitted = [], {}
    for fam, thresholds, held in results:
        fitted[fam] = thresholds
        rows += held
    return rows, fitted


def rule_stats(cases: Sequence[Case], rules: Mapping[str, Rule], thresholds: Mapping[str, float]) -> list[dict]:
    """Per rule (SpamAssassin's hit-frequencies): active and recovered counts per outcome, precision, misfires."""
    out = []
    for code, rule in sorted(rules.items()):
        active: Counter = Counter()
        recovered: Counter = Counter()
        judged: Counter = Counter()
        against = []
        for c in cases:
            if code not in c.ran:
                continue
            judged[c.label] += 1
            fs = [f for f in findings_at(c, thresholds) if f.rule == code]
            if any(f.status is Status.ACTIVE for f in fs):
                active[c.label] += 1
                if rule.supports is not None and c.label != rule.supports.value:
                    against.append(f"{c.id} ({c.label})")
            elif fs:
                recovered[c.label] += 1
        supports = rule.supports.value if rule.supports else None
        hits = sum(active.values())
        out.append({
            "rule": code, "name": rule.name, "supports": supports, "outcome_test": rule.outcome_test,
            "judged": {lab: judged[lab] for lab in LABELS}, "active": {lab: active[lab] for lab in LABELS},
            "recovered": {lab: recovered[lab] for lab in LABELS},
            "precision": (active[supports] / hits) if hits and supports else None,
            "recall": (active[supports] / judged[supports]) if supports and judged[supports] else None,
            "fires_against_label": against,
        })
    return out
