"""The diagnosis: the verdict the findings add up to, with its confidence, onset and evidence.

It holds numbers and text only: no colours, no markup. Renderers in
:mod:`gandiag.report` turn it into text, JSON and the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gandiag.engine.findings import FAILURE_VERDICTS, Finding, Verdict


@dataclass(frozen=True)
class SettleWindow:
    start_step: int
    end_step: int
    fraction: float


@dataclass(frozen=True)
class Diagnosis:
    """The analyzer's answer for one run."""

    source: str
    verdict: Verdict
    confidence: float
    onset_step: int | None
    reason: str
    findings: tuple[Finding, ...]
    skipped_rules: tuple[tuple[str, str], ...]  # (code, why)
    warnings: tuple[str, ...]
    settle_window: SettleWindow | None
    inputs: Mapping[str, object] = field(default_factory=dict)
    loss_family: str = "bce"
    n_steps: int = 0
    snapshots: tuple[Mapping[str, object], ...] = ()
    #: the calibrated probability of each outcome (empty without a scores file's table)
    probabilities: Mapping[str, float] = field(default_factory=dict)
    #: which test of the outcome definition decided the verdict, e.g. "samples/test4", "losses/stable"
    decision_path: str | None = None
    #: recovered episodes per rule counted but not described (beyond engine.evaluate.MAX_EPISODES_DESCRIBED)
    episodes_omitted: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.verdict in FAILURE_VERDICTS
