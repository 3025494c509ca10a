"""What the code-scanning reports (SARIF, GitLab Code Quality) share: one located issue per finding.

A run that fails the check gives one issue per finding its verdict rests on
(:func:`~gandiag.report.summary.top_findings`: at most three, the deciding
rule first), or one issue for the verdict itself when no finding is active. A
run that passes gives issues only for its active warnings, at the lowest
level. Each issue is located at the line of the history that logged the
finding's onset step (:mod:`gandiag.report.locate`), else at the file alone.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gandiag.engine.findings import Finding, Severity
from gandiag.report.locate import step_lines
from gandiag.report.summary import ReportRun, as_report_runs, onset_text, sort_runs, top_findings
from gandiag.verdict.diagnosis import Diagnosis

#: the pseudo-rule of a failing run without an active finding (its verdict is the issue)
VERDICT_RULE = "gandiag-verdict"


@dataclass(frozen=True)
class Issue:
    run: ReportRun
    finding: Finding | None
    level: str  # "error", "warning" or "note" (SARIF's levels)
    step: int | None
    line: int | None

    @property
    def rule_id(self) -> str:
        return self.finding.rule if self.finding else VERDICT_RULE

    @property
    def fingerprint(self) -> str:
        """Stable across re-runs and new onsets: the run's key and the rule."""
        return hashlib.sha256(f"{self.run.key}\0{self.rule_id}".encode()).hexdigest()[:32]

    @property
    def message(self) -> str:
        d: Diagnosis = self.run.diagnosis
        head = f"{d.verdict.value} (confidence {d.confidence:.2f}), onset step {onset_text(d)}"
        if self.run.failure:
            head = f"{self.run.failure}; {head}"
        if self.finding is None:
            return f"{head}: {d.reason}"
        f = self.finding
        step = f" from step {f.onset_step}" if f.onset_step is not None else ""
        return f"{head}. {f.rule} {f.name}{step}: {f.message.rstrip('. ')}. Fix: {f.fix}"


def issues(items: Sequence[Diagnosis | ReportRun]) -> list[Issue]:
    """The located issues of these runs, worst runs first."""
    out = []
    for run in sort_runs(as_report_runs(items)):
        d = run.diagnosis
        top = top_findings(d)
        if not run.fails:
            top = [f for f in top if f.severity is Severity.WARNING]
        if not top and not run.fails:
            continue
        lines = step_lines(d, [f.onset_step for f in top] or [d.onset_step])
        if not top:
            out.append(Issue(run, None, "error", d.onset_step, lines.get(d.onset_step)))
            continue
        for f in top:
            level = ("error" if f.severity is Severity.ERROR else "warning") if run.fails else "note"
            out.append(Issue(run, f, level, f.onset_step, lines.get(f.onset_step)))
    return out


def repo_path(source: str) -> str:
    """The source as a POSIX path relative to the working directory when it lies below it (CI checkouts)."""
    if source.startswith("mlflow:") or source in ("-", "<stdin>"):
        return source
    p = Path(source)
    if p.is_absolute():
        try:
            p = p.relative_to(Path(os.getcwd()))
        except ValueError:
            return p.as_posix()
    return PurePosixPath(*p.parts).as_posix() if p.parts else source
