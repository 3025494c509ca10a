"""One line per run, as ruff and flake8 print in a pre-commit hook (``--output-format concise``).

``PATH:LINE: VERDICT CONFIDENCE RULE name (onset step N)``: the history file,
the line that logged the onset (CSV and JSON lines; other inputs name the file
alone, :mod:`gandiag.report.locate`), the verdict, its confidence and the
finding the verdict rests on. Lines are sorted by path, so a hook's output
reads like a linter's; a closing line counts the verdicts. The full report is
the default ``text`` format, one flag away.
"""

from __future__ import annotations

from collections.abc import Sequence

from gandiag.report.escape import one_line
from gandiag.report.locate import step_lines
from gandiag.report.summary import ReportRun, as_report_runs, top_findings, verdict_counts
from gandiag.verdict.diagnosis import Diagnosis


def run_line(r: ReportRun) -> str:
    """``PATH[:LINE]: VERDICT CONFIDENCE RULE name (onset step N)`` for one run."""
    d = r.diagnosis
    line = step_lines(d, [d.onset_step]).get(d.onset_step) if d.onset_step is not None else None
    where = one_line(d.source) + (f":{line}" if line is not None else "")
    top = top_findings(d)
    if top:
        why = f"{top[0].rule} {top[0].name}"
    elif d.decision_path:
        why = f"(no warning or error active; decided by {d.decision_path})"
    else:
        why = "(no warning or error active)"
    onset = f" (onset step {d.onset_step})" if d.onset_step is not None else ""
    return f"{where}: {d.verdict.value} {d.confidence:.2f} {one_line(why)}{onset}"


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = (),
           footer: Sequence[str] = ()) -> str:
    """Every run's line, by path, then ``N runs: ...; M failing the check`` (and the baseline's lines)."""
    runs = sorted(as_report_runs(diagnoses), key=lambda r: (r.diagnosis.source, r.key))
    lines = [run_line(r) for r in runs]
    summary = f"{len(runs)} runs: {verdict_counts(runs) or 'none'}; {sum(r.fails for r in runs)} failing the check"
    if errors:
        summary += f"; {len(errors)} unreadable"
    lines.append(summary)
    lines.extend(one_line(f) for f in footer)
    return "\n".join(lines)
