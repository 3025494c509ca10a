"""Findings: what a rule saw, with its evidence, and the outcome vocabulary rules support.

These hold numbers and text only: no colours, no markup. Renderers in
:mod:`gandiag.report` turn them into text, JSON and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    STABLE = "stable"
    MODE_COLLAPSE = "mode_collapse"
    NON_CONVERGED = "non_converged"
    INCONCLUSIVE = "inconclusive"


FAILURE_VERDICTS = frozenset({Verdict.MODE_COLLAPSE, Verdict.NON_CONVERGED})


class Severity(StrEnum):
    ERROR = "error"  # a failure the verdict rests on
    WARNING = "warning"  # a weak or past sign; does not change a stable verdict by itself
    INFO = "info"  # evidence for a healthy run


class Status(StrEnum):
    ACTIVE = "active"  # holds in the settled end of the run
    RECOVERED = "recovered"  # an earlier episode; the run left it


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a finding, ruff-style: observed value against the limit."""

    series: str
    signal: str
    observed: float
    op: str
    threshold: float
    streak_steps: int
    fraction: float  # share of the judged window where the condition held
    start_step: int
    end_step: int
    unit: str = "steps"  # what streak_steps counts: logged steps, or sample snapshots

    def as_dict(self) -> dict:
        return {
            "series": self.series,
            "signal": self.signal,
            "observed": self.observed,
            "op": self.op,
            "threshold": self.threshold,
            "streak_steps": self.streak_steps,
            "fraction": self.fraction,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class Finding:
    rule: str  # permanent code, e.g. GD101
    name: str  # readable name, e.g. discriminator-loss-vanishes
    title: str
    severity: Severity
    status: Status
    supports: Verdict | None  # the verdict this finding is evidence for
    weight: float
    onset_step: int
    end_step: int
    evidence: tuple[Evidence, ...]
    message: str
    fix: str
    outcome_test: int | None = None  # the test of the outcome definition the rule decides (docs/outcomes.md)
