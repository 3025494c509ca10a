"""Findings -> verdict, confidence and onset.

The verdict judges the settled end of the run (its final quarter by
default): runs can fail for a while and recover, and those earlier episodes
are reported as findings without deciding the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .findings import FAILURE_VERDICTS, Finding, Severity, Status, Verdict
from .history import LossFamily, RunHistory
from .roles import LOSS_ROLES

#: Fewer logged rows than this and the run is too short to judge from losses.
MIN_ROWS = 30
#: Findings at least this weighty date the onset of a failure.
STRONG_WEIGHT = 0.75


def detect_loss_family(history: RunHistory) -> tuple[LossFamily, str]:
    """BCE unless the losses show otherwise (negative values mean a WGAN or hinge critic).

    LSGAN and hinge losses cannot always be told from BCE by the numbers;
    declare them with ``--loss``.
    """
    for role in LOSS_ROLES:
        if not history.has(role.value):
            continue
        v = history.get(role.value)
        v = v[np.isfinite(v)]
        # Cross-entropy is never negative, however small; a clipped WGAN critic's values can be tiny
        # (1e-4) and print as "-0.000" at 3 decimals, so the sign bit is the evidence.
        negative = float(np.mean(np.signbit(v)))
        if v.size and negative >= 0.05:
            return LossFamily.WGAN, (
                f"{role.value} is negative in {100 * negative:.0f}% of steps, "
                "which a binary cross-entropy loss cannot be: this looks like a Wasserstein or hinge critic"
            )
    return LossFamily.BCE, "losses are non-negative (assumed binary cross-entropy; declare --loss otherwise)"


def _combine(weights: Sequence[float]) -> float:
    """Noisy-OR of independent pieces of evidence."""
    return float(1.0 - np.prod([1.0 - w for w in weights])) if weights else 0.0


def classify(
    history: RunHistory,
    findings: Sequence[Finding],
    *,
    family: LossFamily,
    family_reason: str,
    judged_rules: int,
) -> tuple[Verdict, float, int | None, str]:
    """Return ``(verdict, confidence, onset_step, reason)``."""
    active = [f for f in findings if f.status is Status.ACTIVE]
    errors = [f for f in active if f.severity is Severity.ERROR and f.supports in FAILURE_VERDICTS]
    # A diverged run is non-converged whatever its loss family or length.
    diverged = [f for f in errors if f.rule.startswith("GD9")]
    if diverged:
        onset = min(f.onset_step for f in diverged)
        return Verdict.NON_CONVERGED, 0.99, onset, f"{diverged[0].rule}: {diverged[0].title.lower()}"

    if len(history) < MIN_ROWS:
        return Verdict.INCONCLUSIVE, 0.0, None, (
            f"too short to judge: {len(history)} logged steps (need at least {MIN_ROWS})"
        )

    if errors:
        scores = {v: _combine([f.weight for f in errors if f.supports is v]) for v in FAILURE_VERDICTS}
        verdict = max(scores, key=lambda v: (scores[v], v is Verdict.NON_CONVERGED))
        support = [f for f in errors if f.supports is verdict]
        # The failure began where the earliest *strong* piece of evidence began; weak,
        # reference-free signs (near-duplicates of garbage early samples) would date it too early.
        strong = [f for f in support if f.weight >= STRONG_WEIGHT] or support
        onset = min(f.onset_step for f in strong)
        reason = "; ".join(f"{f.rule} {f.name}" for f in support)
        other = [v for v in FAILURE_VERDICTS if v is not verdict and scores[v] > 0]
        if other:
            reason += f" (also signs of {other[0].value}: " + ", ".join(
                f.rule for f in errors if f.supports is other[0]) + ")"
        return verdict, round(scores[verdict], 3), onset, reason

    if family is not LossFamily.BCE:
        return Verdict.INCONCLUSIVE, 0.0, None, (
            f"loss family '{family.value}': {family_reason}; the loss heuristics are written for "
            "binary cross-entropy GANs, so no verdict is given from losses"
        )
    if judged_rules == 0:
        return Verdict.INCONCLUSIVE, 0.0, None, "no rule could judge this log (none of the series the rules need is present)"

    healthy = [f for f in active if f.supports is Verdict.STABLE]
    warnings = [f for f in active if f.severity is Severity.WARNING]
    confidence = 0.5 + 0.45 * _combine([f.weight for f in healthy]) - 0.1 * len(warnings)
    confidence = float(min(0.95, max(0.3, confidence)))
    if healthy:
        reason = "no failure in the settled window; healthy: " + ", ".join(f"{f.rule} {f.name}" for f in healthy)
    else:
        reason = "no failure rule fired in the settled window (values outside the tutorial's healthy ranges, so confidence is low)"
    if warnings:
        reason += "; warnings: " + ", ".join(f.rule for f in warnings)
    return Verdict.STABLE, round(confidence, 3), None, reason
