"""Findings -> verdict, confidence and onset.

The verdict judges the settled end of the run (its final quarter by
default): runs can fail for a while and recover, and those earlier episodes
are reported as findings without deciding the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gandiag.engine.findings import FAILURE_VERDICTS, Finding, Severity, Status, Verdict
from gandiag.history.family import NOTHING_TELLS
from gandiag.history.model import LossFamily, RunHistory

#: Fewer logged rows than this and the run is too short to judge from losses.
MIN_ROWS = 10
#: Findings at least this weighty date the onset of a failure.
STRONG_WEIGHT = 0.75


#: The confidence of a verdict that rests on the discriminator's loss near 0 when the loss family is only assumed.
FAMILY_UNKNOWN_CONFIDENCE = 0.5
FAMILY_CAVEAT = ("the discriminator's loss is near 0, which means it won under binary cross-entropy or LSGAN but is "
                 "normal under hinge and relativistic losses, and the log does not tell its loss family (declare it "
                 "with --loss-family); ")


def _rests_on_d_loss(findings: Sequence[Finding]) -> bool:
    """Whether every finding's evidence is the discriminator's loss level (no accuracy or output probability)."""
    def one(f: Finding) -> bool:
        series = [e.series for e in f.evidence]
        return any(s.startswith("d_loss") for s in series) and not any(
            s.startswith(("d_acc", "d_real_prob", "d_fake_prob")) for s in series)
    return bool(findings) and all(one(f) for f in findings)


def _family_caveat(decided: tuple[Verdict, float, int | None, str], findings: Sequence[Finding], family: LossFamily,
                   family_reason: str) -> tuple[Verdict, float, int | None, str]:
    """A failure verdict resting on "D loss near 0" while BCE is only assumed: said so, and at most 0.5 confident."""
    verdict, confidence, onset, reason = decided
    if family is not LossFamily.BCE or NOTHING_TELLS not in family_reason or not _rests_on_d_loss(findings):
        return decided
    return verdict, min(confidence, FAMILY_UNKNOWN_CONFIDENCE), onset, FAMILY_CAVEAT + reason


def _combine(weights: Sequence[float]) -> float:
    """Noisy-OR of independent pieces of evidence."""
    return float(1.0 - np.prod([1.0 - w for w in weights])) if weights else 0.0


#: What each test of the outcome definition decides (docs/outcomes.md), in the order the tests apply.
OUTCOME_ORDER: tuple[tuple[int, Verdict], ...] = (
    (1, Verdict.NON_CONVERGED),  # non-finite losses or samples
    (2, Verdict.NON_CONVERGED),  # the discriminator has won outright
    (3, Verdict.MODE_COLLAPSE),  # one output for every input
    (4, Verdict.NON_CONVERGED),  # output that does not look like the data
    (5, Verdict.MODE_COLLAPSE),  # good samples of only part of the data
)
#: The tests that read the samples; with snapshots judged, they decide and the loss heuristics are evidence only.
SAMPLE_TESTS = (3, 4, 5)
#: A stable verdict from snapshots without a real reference: what was judged, what was not, and how little it claims
#: (the calibrated probability of the ``samples-noref/stable`` path replaces the number where a scores file has it).
NO_REFERENCE_REASON = ("no repeats or collapse among the samples (test 3 of the outcome definition holds no finding); "
                       "whether they resemble the data and cover it (tests 4 and 5) was not judged: there is no real "
                       "reference to compare them with")
NO_REFERENCE_CONFIDENCE = 0.5


def _decided(errors: Sequence[Finding], verdict: Verdict, test: int | None,
             others: Sequence[Finding]) -> tuple[Verdict, float, int | None, str]:
    """Verdict, confidence, onset and reason from the findings that decided it."""
    strong = [f for f in errors if f.weight >= STRONG_WEIGHT] or list(errors)
    onset = min(f.onset_step for f in strong)
    reason = "; ".join(f"{f.rule} {f.name}" for f in errors)
    if test is not None:
        reason = f"test {test} of the outcome definition: " + reason
    other = [f for f in others if f not in errors]
    if other:
        reason += " (also: " + ", ".join(f"{f.rule} for {f.supports.value}" for f in other) + ")"
    return verdict, round(_combine([f.weight for f in errors]), 3), onset, reason


def classify(
    history: RunHistory,
    findings: Sequence[Finding],
    *,
    family: LossFamily,
    family_reason: str,
    judged_rules: int,
    samples_judged: bool = False,
    reference_judged: bool = True,
) -> tuple[Verdict, float, int | None, str]:
    """Return ``(verdict, confidence, onset_step, reason)``.

    The tests of the outcome definition apply in their order (docs/outcomes.md):
    a finding of a rule that decides a test (``outcome_test``) settles the
    verdict when no earlier test holds. When the samples were judged
    (``samples_judged``) and none of tests 1-5 holds, the run is stable: the
    loss heuristics are then evidence, reported but not deciding. From losses
    alone the loss heuristics vote (noisy-OR of their weights). Snapshots
    judged without a real reference (``reference_judged=False``) can show
    repeats (test 3) but not whether the samples resemble the data or cover
    it (tests 4 and 5): a stable verdict then says so and claims less.
    """
    active = [f for f in findings if f.status is Status.ACTIVE]
    errors = [f for f in active if f.severity is Severity.ERROR and f.supports in FAILURE_VERDICTS]
    for test, verdict in OUTCOME_ORDER:
        if test in SAMPLE_TESTS and not samples_judged:
            continue
        decided = [f for f in errors if f.outcome_test == test]
        if decided:
            return _decided(decided, verdict, test, errors)
        if test == 1 and len(history) < MIN_ROWS and not samples_judged:
            return Verdict.INCONCLUSIVE, 0.0, None, (
                f"too short to judge: {len(history)} logged steps (need at least {MIN_ROWS})"
            )

    healthy = [f for f in active if f.supports is Verdict.STABLE]
    warnings = [f for f in active if f.severity is Severity.WARNING]
    heuristics = [f for f in errors if f.outcome_test is None]
    if samples_judged and not reference_judged:
        reason = NO_REFERENCE_REASON
        if heuristics:
            reason += "; the losses show " + ", ".join(f"{f.rule} {f.name}" for f in heuristics)
        return Verdict.STABLE, NO_REFERENCE_CONFIDENCE, None, reason
    if samples_judged:
        confidence = 0.5 + 0.45 * _combine([f.weight for f in healthy if f.rule.startswith("GD3")])
        reason = "the samples resemble the data and cover it (no test of the outcome definition holds)"
        if heuristics:
            reason += "; the losses show " + ", ".join(f"{f.rule} {f.name}" for f in heuristics) + \
                " (evidence only: the samples decide)"
        return Verdict.STABLE, round(float(min(0.95, confidence)), 3), None, reason

    if heuristics:
        scores = {v: _combine([f.weight for f in heuristics if f.supports is v]) for v in FAILURE_VERDICTS}
        verdict = max(scores, key=lambda v: (scores[v], v is Verdict.NON_CONVERGED))
        deciding = [f for f in heuristics if f.supports is verdict]
        return _family_caveat(_decided(deciding, verdict, None, heuristics), deciding, family, family_reason)

    if family is not LossFamily.BCE:
        return Verdict.INCONCLUSIVE, 0.0, None, (
            f"loss family '{family.value}': {family_reason}; the loss heuristics are written for "
            "binary cross-entropy GANs, so no verdict is given from losses"
        )
    if judged_rules == 0:
        return Verdict.INCONCLUSIVE, 0.0, None, "no rule could judge this log (none of the series the rules need is present)"

    confidence = 0.5 + 0.45 * _combine([f.weight for f in healthy]) - 0.1 * len(warnings)
    confidence = float(min(0.95, max(0.3, confidence)))
    if healthy:
        reason = "no failure in the settled window; healthy: " + ", ".join(f"{f.rule} {f.name}" for f in healthy)
    else:
        reason = "no failure rule fired in the settled window (values outside the tutorial's healthy ranges, so confidence is low)"
    if warnings:
        reason += "; warnings: " + ", ".join(f.rule for f in warnings)
    return Verdict.STABLE, round(confidence, 3), None, reason
