"""Markdown: a summary table for a job summary (``$GITHUB_STEP_SUMMARY``) or a pull-request comment.

GitHub-flavoured Markdown: a heading with the counts, one table row per run
(worst verdict first), then a collapsed section with the findings and fixes
of each failing run so the comment stays short. Everything that comes from a
run is escaped (:mod:`gandiag.report.escape`): this text is pasted into
pull-request comments, where a value such as ``<img onerror=...>`` or a
backtick in a folder name must stay text.
"""

from __future__ import annotations

from collections.abc import Sequence

from gandiag.report.escape import md_code, md_text
from gandiag.report.summary import (
    ReportRun,
    as_report_runs,
    onset_text,
    sort_runs,
    top_findings,
    verdict_counts,
)
from gandiag.verdict.diagnosis import Diagnosis


def cell(text: str) -> str:
    """A table cell or line of plain text: no HTML, links or mentions; pipes escaped; one line."""
    return md_text(text)


def _row(r: ReportRun) -> str:
    d = r.diagnosis
    findings = ", ".join(f"{f.rule} {f.name}" for f in top_findings(d)) or "-"
    check = f"**fail**: {cell(r.failure)}" if r.fails else ("ok" + (f" ({cell(r.note)})" if r.note else ""))
    return (f"| {md_code(r.key)} | {d.verdict.value} | {d.confidence:.2f} | {onset_text(d)} | "
            f"{cell(findings)} | {check} |")


def _details(r: ReportRun) -> list[str]:
    d = r.diagnosis
    out = [f"**{md_code(r.key)}**: {d.verdict.value}, onset step {onset_text(d)}. {cell(d.reason)}", ""]
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
        lines += ["**Unreadable inputs**", ""] + [f"- {md_code(s)}: {cell(m)}" for s, m in errors] + [""]
    if failing:
        lines += ["<details><summary>Findings of the failing runs</summary>", ""]
        for r in failing:
            lines += _details(r)
        lines += ["</details>", ""]
    lines += [cell(f) for f in footer]
    return "\n".join(lines).rstrip() + "\n"
