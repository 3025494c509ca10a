"""Plain-text report for terminals and CI logs."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from gandiag.engine.findings import Severity, Status
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

_WIDTH = 100


#: recovered episodes of one rule printed in full; the rest are summarised in one line
MAX_EPISODES_SHOWN = 3


def _fmt_obs(x) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return "n/a"
        return f"{x:.3g}"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt_obs(v) for v in x) + "]"
    return str(x)


_SNAPSHOT_COLUMNS = (("coverage_ratio", "coverage"), ("precision_ratio", "precision"),
                     ("density_ratio", "density"), ("dup_share", "dup share"))


def _snapshot_table(d: Diagnosis, max_rows: int = 8) -> list[str]:
    """Diversity per snapshot (ratios to real-vs-real), at most ``max_rows`` evenly spread, onset marked."""
    snaps = list(d.snapshots)
    if len(snaps) > max_rows:
        idx = sorted({round(i * (len(snaps) - 1) / (max_rows - 1)) for i in range(max_rows)})
        snaps = [snaps[i] for i in idx]
    out = ["  samples    " + f"{'step':>6}  " + "  ".join(f"{title:>9}" for _, title in _SNAPSHOT_COLUMNS)]
    for row in snaps:
        cells = "  ".join(f"{_fmt_obs(float(row.get(key, float('nan')))):>9}" for key, _ in _SNAPSHOT_COLUMNS)
        mark = "  <- onset" if d.onset_step is not None and row["step"] == d.onset_step else ""
        out.append(" " * 13 + f"{row['step']:>6}  {cells}{mark}")
    out.append(" " * 13 + "(coverage, precision, density relative to real-vs-real; dup share: samples with a near-duplicate)")
    return out


def render_one(d: Diagnosis, *, verbose: bool = False) -> str:
    lines = []
    fmt = d.inputs.get("format", "?")
    snaps = f", {len(d.snapshots)} sample snapshots" if d.snapshots else ""
    lines.append(f"{d.source}  ({fmt}, {d.n_steps} steps{snaps}, loss family {d.loss_family})")
    onset = "-" if d.onset_step is None else str(d.onset_step)
    lines.append(f"  verdict    {d.verdict.value}   confidence {d.confidence:.2f}   onset step {onset}")
    if d.settle_window:
        lines.append(f"  judged on  steps {d.settle_window.start_step}-{d.settle_window.end_step} "
                     f"(final {d.settle_window.fraction:.0%} of the run)")
    lines.extend(textwrap.wrap(d.reason, _WIDTH, initial_indent="  why        ", subsequent_indent=" " * 13))
    shown = [f for f in d.findings if verbose or f.severity is not Severity.INFO or f.status is Status.ACTIVE]
    summarised: dict[str, list] = {}
    if not verbose:  # past episodes of one rule beyond the first few: one summary line (-v shows every one)
        by_rule: dict[str, list] = {}
        for f in shown:
            if f.status is Status.RECOVERED:
                by_rule.setdefault(f.rule, []).append(f)
        summarised = {rule: eps[MAX_EPISODES_SHOWN:] for rule, eps in by_rule.items() if len(eps) > MAX_EPISODES_SHOWN}
        hidden = {id(f) for eps in summarised.values() for f in eps}
        shown = [f for f in shown if id(f) not in hidden]
    if shown:
        lines.append("")
        lines.append(f"  {'rule':<6} {'severity':<8} {'status':<9} {'onset':>6}  finding")
        for f in shown:
            lines.append(f"  {f.rule:<6} {f.severity.value:<8} {f.status.value:<9} {f.onset_step:>6}  {f.title}")
            lines.extend(textwrap.wrap(f.message, _WIDTH, initial_indent=" " * 35, subsequent_indent=" " * 35))
            for e in f.evidence:
                lines.append(" " * 35 + f"evidence: {e.signal}: observed {_fmt_obs(e.observed)}, "
                             f"held in {e.fraction:.0%}, longest streak {e.streak_steps} {e.unit}")
            if f.severity is not Severity.INFO:
                lines.extend(textwrap.wrap("fix: " + f.fix, _WIDTH, initial_indent=" " * 35, subsequent_indent=" " * 40))
        for rule, rest in summarised.items():
            longest = max(rest, key=lambda f: f.end_step - f.onset_step)
            counted = d.episodes_omitted.get(rule, 0)
            where = (f"-v lists {len(rest)} of them, {counted} were only counted" if counted
                     else "-v lists them; the JSON report keeps them")
            lines.extend(textwrap.wrap(
                f"{len(rest) + counted} more recovered episodes of {rule}: longest at steps {longest.onset_step}-"
                f"{longest.end_step}, last at steps {rest[-1].onset_step}-{rest[-1].end_step} ({where})",
                _WIDTH, initial_indent=f"  {rule:<6} {'':<8} {'recovered':<9} {'':>6}  ", subsequent_indent=" " * 35))
    if d.snapshots:
        lines.append("")
        lines.extend(_snapshot_table(d))
    if d.skipped_rules:
        lines.append("")
        skipped = ", ".join(f"{c} ({why})" for c, why in d.skipped_rules)
        lines.extend(textwrap.wrap("skipped: " + skipped, _WIDTH, initial_indent="  ", subsequent_indent="    "))
    if d.inputs.get("samples"):
        used = f"samples {d.inputs['samples']}" + (f", reference {d.inputs['real']}" if d.inputs.get("real") else ", no reference")
        lines.extend(textwrap.wrap("inputs: " + used, _WIDTH, initial_indent="  ", subsequent_indent="    "))
    for w in d.warnings:
        # the line that says what the sample distances were taken between is information, not a warning
        label = "" if w.startswith("samples: ") else "warning: "
        lines.extend(textwrap.wrap(label + w, _WIDTH, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(lines)


def summary_table(runs: Sequence[ReportRun]) -> list[str]:
    """One line per run, worst verdict first: what a reader of a sweep looks at before any detail."""
    rows = [(r.key, r.diagnosis.verdict.value, f"{r.diagnosis.confidence:.2f}", onset_text(r.diagnosis),
             "FAIL" if r.fails else "ok", ", ".join(f.rule for f in top_findings(r.diagnosis)) or "-")
            for r in sort_runs(runs)]
    header = ("run", "verdict", "conf", "onset", "check", "top findings")
    widths = [min(60, max(len(row[0]) for row in [header, *rows]))] + \
        [max(len(row[i]) for row in [header, *rows]) for i in range(1, 5)]
    right = {2, 3}

    def line(row: tuple[str, ...]) -> str:
        cells = [(row[i].rjust(w) if i in right else row[i].ljust(w)) for i, w in enumerate(widths)]
        return "  ".join([*cells, row[5]]).rstrip()

    return [line(header), *(line(row) for row in rows)]


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = (),
           verbose: bool = False, footer: Sequence[str] = ()) -> str:
    """One run: its full block. Several: a summary table, then the blocks of the failing runs.

    ``footer`` lines (for example the baseline comparison) close the report. Control characters
    from the runs (a folder name, a value) are written as escapes, never sent to the terminal.
    """
    return terminal_text(_render(diagnoses, errors=errors, verbose=verbose, footer=footer))


def _render(diagnoses, *, errors, verbose, footer) -> str:
    runs = as_report_runs(diagnoses)
    if len(runs) == 1:
        return "\n\n".join([render_one(runs[0].diagnosis, verbose=verbose), *(["\n".join(footer)] if footer else [])])
    blocks = ["\n".join(summary_table(runs))] if runs else []
    shown = [r for r in sort_runs(runs) if verbose or r.fails or r.diagnosis.failed]
    blocks.extend((f"FAIL: {r.failure}\n" if r.failure else "") + render_one(r.diagnosis, verbose=verbose)
                  for r in shown)
    tail = [f"{len(runs)} runs: {verdict_counts(runs)}" + (f"; {len(errors)} unreadable (see stderr)" if errors else "")
            + f"; {sum(r.fails for r in runs)} failing the check"]
    blocks.append("\n".join([*tail, *footer]))
    return "\n\n".join(blocks)
