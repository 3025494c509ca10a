"""GitHub Actions workflow commands: annotations on the history files of runs that fail the check.

GitHub shows at most 10 error and 10 warning annotations per step, so each run
gets one annotation: titled by its top finding (``GD101
discriminator-loss-vanishes``), with the verdict, onset and the other codes in
the message. Runs that pass but have active warnings get a ``::warning``; a
closing ``::notice`` gives the counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from gandiag.report.escape import terminal_text
from gandiag.report.summary import (
    ReportRun,
    as_report_runs,
    onset_text,
    sort_runs,
    top_findings,
    verdict_counts,
)
from gandiag.verdict.diagnosis import Diagnosis

#: the longest message written (GitHub truncates annotations anyway; a 10 MB value must not reach the log)
MAX_MESSAGE = 4000


def _escape_data(text: str) -> str:
    """Message escaping from the workflow-command spec: a newline would end the command; control characters escaped."""
    text = terminal_text(text)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """Property values also may not hold ':' or ',' (they separate properties)."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: str) -> str:
    """``::kind key=value,...::message`` with both parts escaped."""
    head = ",".join(f"{k}={_escape_property(v)}" for k, v in props.items())
    return f"::{kind}{' ' + head if head else ''}::{_escape_data(message)}"


def _annotation(r: ReportRun, kind: str) -> str:
    d: Diagnosis = r.diagnosis
    top = top_findings(d)
    title = f"{top[0].rule} {top[0].name}" if top else f"gandiag {d.verdict.value}"
    head = f"{d.verdict.value} (confidence {d.confidence:.2f}), onset step {onset_text(d)}"
    if r.failure:
        head = f"{r.failure}; {head}"
    body = (top[0].message if top else d.reason).rstrip(". ") + "."
    more = f" Also: {', '.join(f.rule for f in top[1:])}." if len(top) > 1 else ""
    fix = f" Fix: {top[0].fix}" if top and kind == "error" else ""
    return command(kind, f"{head}: {body}{more}{fix}", file=d.source, title=title)


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = ()) -> str:
    """One annotation per failing or warning run, one per unreadable input, and a closing notice."""
    runs = sort_runs(as_report_runs(diagnoses))
    lines = []
    for r in runs:
        if r.fails:
            lines.append(_annotation(r, "error"))
        elif top_findings(r.diagnosis):
            lines.append(_annotation(r, "warning"))
    for source, message in errors:
        lines.append(command("error", message, file=source, title="gandiag unreadable input"))
    summary = f"{len(runs)} runs: {verdict_counts(runs) or 'none'}; {sum(r.fails for r in runs)} failing the check"
    if errors:
        summary += f"; {len(errors)} unreadable"
    lines.append(command("notice", summary, title="gandiag"))
    return "\n".join(lines)
