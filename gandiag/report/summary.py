"""What every many-run renderer shares: a run with its check outcome, verdict order, top findings.

The CLI decides whether a run fails the check (``--fail-on``, or a baseline
comparison) and says why in words; renderers only lay that out. Keeping the
order and the choice of "top findings" here makes the text table, Markdown,
JUnit, GitHub annotations and the HTML index agree with each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gandiag.engine.findings import Finding, Severity, Status, Verdict
from gandiag.verdict.diagnosis import Diagnosis

#: worst first: the order of summary tables
VERDICT_ORDER = {Verdict.NON_CONVERGED: 0, Verdict.MODE_COLLAPSE: 1, Verdict.INCONCLUSIVE: 2, Verdict.STABLE: 3}

_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class ReportRun:
    """A diagnosis with the name a reader knows it by and the outcome of the check."""

    diagnosis: Diagnosis
    key: str  # path relative to the analyzed root
    run_id: str | None = None
    failure: str | None = None  # why this run fails the check; None when it passes
    note: str | None = None  # a baseline remark for runs that pass (improved, new run)

    @property
    def fails(self) -> bool:
        return self.failure is not None


def as_report_runs(items: Iterable[Diagnosis | ReportRun]) -> list[ReportRun]:
    """Wrap bare diagnoses (the API's renderers predate ReportRun); failure means a failure verdict."""
    out = []
    for item in items:
        if isinstance(item, ReportRun):
            out.append(item)
        else:
            why = f"verdict {item.verdict.value}" if item.failed else None
            out.append(ReportRun(item, item.source, failure=why))
    return out


def sort_runs(runs: Sequence[ReportRun]) -> list[ReportRun]:
    """Worst verdict first, failing the check before passing, then by name."""
    return sorted(runs, key=lambda r: (VERDICT_ORDER[r.diagnosis.verdict], not r.fails, r.key))


def top_findings(d: Diagnosis, n: int = 3) -> list[Finding]:
    """The active warning and error findings the verdict rests on: those supporting it first, most severe first,
    otherwise in the diagnosis's order (the rules of the test that decided first, then by onset)."""
    active = [f for f in d.findings if f.status is Status.ACTIVE and f.severity is not Severity.INFO]
    active.sort(key=lambda f: (f.supports is not d.verdict, _SEVERITY_RANK[f.severity]))  # stable: keeps that order
    return active[:n]


def verdict_counts(runs: Sequence[ReportRun]) -> str:
    """'7 non_converged, 4 mode_collapse, 7 stable' in verdict order."""
    counts: dict[Verdict, int] = {}
    for r in runs:
        counts[r.diagnosis.verdict] = counts.get(r.diagnosis.verdict, 0) + 1
    return ", ".join(f"{counts[v]} {v.value}" for v in sorted(counts, key=VERDICT_ORDER.__getitem__))


def onset_text(d: Diagnosis) -> str:
    return "-" if d.onset_step is None else str(d.onset_step)
