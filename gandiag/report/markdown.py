"""Markdown: a summary table for a job summary (``$GITHUB_STEP_SUMMARY``) or a pull-request comment.

GitHub-flavoured Markdown: a heading with the counts, one table row per run
(worst verdict first), then a collapsed section with the findings and fixes
of each failing run so the comment stays short.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..findings import Diagnosis
from .summary import (
    ReportRun,
    as_report_runs,
    onset_text,
    sort_runs,
    top_findings,
    verdict_counts,
)


def cell(text: str) -> str:
    """A table cell: pipes escaped and newlines folded, so one run stays one row."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(r: ReportRun) -> str:
    d = r.diagnosis
    findings = ", ".join(f"{f.rule} {f.name}" for f in top_findings(d)) or "-"
    check = f"**fail**: {r.failure}" if r.fails else ("ok" + (f" ({r.note})" if r.note else ""))
    return (f"| `{cell(r.key)}` | {d.verdict.value} | {d.confidence:.2f} | {onset_text(d)} | "
            f"{cell(findings)} | {cell(check)} |")


def _details(r: ReportRun) -> list[str]:
    d = r.diagnosis
    out = [f"**`{cell(r.key)}`**: {d.verdict.value}, onset step {onset_text(d)}. {cell(d.reason)}", ""]
    for f in top_findings(d, n=5):
        out.append(f"- **{f.rule} {f.name}** (from step {f.onset_step}): {cell(f.message)}  ")
        out.append(f"  Fix: {cell(f.fix)}")
    out.append("")
    return out


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = (),
           footer: Sequence[str] = ()) -> str:
    """The whole summary; ``footer`` lines (the baseline comparison) end it."""
    runs = sort_runs(as_report_runs(diagnoses))
    failing = [r for r in runs if r.fails]
    head = f"### gandiag: {len(runs)} run{'s' if len(runs) != 1 else ''}"
    lines = [head, "", f"{verdict_counts(runs) or 'no runs'}; **{len(failing)} failing the check**"
             + (f"; {len(errors)} unreadable" if errors else ""), ""]
    if runs:
        lines += ["| run | verdict | confidence | onset step | top findings | check |",
                  "| --- | --- | ---: | ---: | --- | --- |"]
        lines += [_row(r) for r in runs]
        lines.append("")
    if errors:
        lines += ["**Unreadable inputs**", ""] + [f"- `{cell(s)}`: {cell(m)}" for s, m in errors] + [""]
    if failing:
        lines += ["<details><summary>Findings of the failing runs</summary>", ""]
        for r in failing:
            lines += _details(r)
        lines += ["</details>", ""]
    lines += [cell(f) for f in footer]
    return "\n".join(lines).rstrip() + "\n"
