"""Plain-text report for terminals and CI logs."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from ..findings import Diagnosis, Severity, Status

_WIDTH = 100


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
        lines.extend(textwrap.wrap("warning: " + w, _WIDTH, initial_indent="  ", subsequent_indent="    "))
    return "\n".join(lines)


def render(diagnoses: Sequence[Diagnosis], *, errors: Sequence[tuple[str, str]] = (), verbose: bool = False) -> str:
    blocks = [render_one(d, verbose=verbose) for d in diagnoses]
    if len(diagnoses) > 1:
        counts: dict[str, int] = {}
        for d in diagnoses:
            counts[d.verdict.value] = counts.get(d.verdict.value, 0) + 1
        summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        blocks.append(f"{len(diagnoses)} runs: {summary}" + (f"; {len(errors)} unreadable" if errors else ""))
    return "\n\n".join(blocks)
