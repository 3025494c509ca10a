"""The figures of one diagnosed run: history with the findings on it, what the sample rules read, and samples.

Built from a :class:`~gandiag.verdict.diagnosis.Diagnosis` and the files it names
(``inputs['history']``, ``inputs['samples']``, ``inputs['real']``), so the
figures show exactly what was analyzed. Drawing is in :mod:`.figures`; this
module only decides what to draw: which spans, which snapshots.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gandiag.engine.findings import Severity
from gandiag.engine.model import Rule
from gandiag.ingest import HISTORY_FILENAMES
from gandiag.verdict.diagnosis import Diagnosis


@dataclass(frozen=True)
class RunFigure:
    """A written figure and what it shows (the HTML page's caption); ``section``: where the page puts it
    (``figures``, ``evolution`` or ``samples``)."""

    path: Path
    caption: str
    section: str = "figures"


def rule_spans(d: Diagnosis) -> list[tuple[float, float, str]]:
    """One shaded span per warning or error episode, labelled by code and name; healthy-range rules are not shaded."""
    spans = [(float(f.onset_step), float(f.end_step), f"{f.rule} {f.name}")
             for f in d.findings if f.severity is not Severity.INFO]
    return sorted(spans, key=lambda s: (s[2], s[0]))


def run_folder_name(key: str) -> str:
    """A folder name for a run: its key without the history file name, '/' as '__', safe characters only."""
    parts = [p for p in Path(key).parts if p not in (".", "..")]
    if parts and parts[-1] in HISTORY_FILENAMES:
        parts = parts[:-1]
    name = "__".join(parts) or "run"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _sample_picks(steps: list[int], onset: int | None) -> list[tuple[int, str]]:
    """Snapshots at the start, at the onset (the first at or after it) and at the end, without repeats."""
    picks = [(steps[0], "start")]
    if onset is not None:
        after = [s for s in steps if s >= onset]
        picks.append((after[0] if after else steps[-1], "onset"))
    picks.append((steps[-1], "end"))
    seen: dict[int, str] = {}
    for step, label in picks:
        seen[step] = f"{seen[step]}, {label}" if step in seen else label
    return sorted(seen.items())


def _history_source(d: Diagnosis) -> Path | None:
    path = d.inputs.get("history") or d.source
    p = Path(str(path))
    return p if p.exists() else None  # stdin ("-") leaves nothing to re-read


def write_run_figures(d: Diagnosis, out_dir: str | Path, *, title: str | None = None,
                      rules: Mapping[str, Rule] | None = None) -> list[RunFigure]:
    """Write the figures of one run under ``out_dir``: the history with the findings on it, what the sample rules
    read against their limits (``rules``: the rule set that judged the run; default the shipped rules with their
    fitted thresholds), the evolution of the snapshots (small multiples and an animated GIF) and the snapshots at
    the start, the onset and the end."""
    from gandiag.report import figures

    out = Path(out_dir)
    title = title or d.source
    written: list[RunFigure] = []
    history = _history_source(d)
    if history is not None:
        history_arg = _read_history(d, history)
        spans = rule_spans(d)
        written.append(RunFigure(
            figures.plot_history(history_arg, out / "history.png", title=f"{title}: {d.verdict.value}",
                                 spans=spans, onset_step=d.onset_step),
            "Losses (top) and discriminator accuracy (bottom); shaded: where each rule fired; dashed: the onset."))
    if d.snapshots:
        written.append(_sample_rules_figure(d, out, title, rules))
    written.extend(_sample_figures(d, out, title))
    return written


def verdict_heading(d: Diagnosis, title: str) -> str:
    """``RUN: mode_collapse 0.94, onset step 100``: the line over the figures of a run's samples."""
    onset = f", onset step {d.onset_step}" if d.onset_step is not None else ""
    return f"{title}: {d.verdict.value} {d.confidence:.2f}{onset}"


def deciding_rule(d: Diagnosis) -> str:
    """What decided the verdict, in words: the top finding and its test, or the decision path."""
    from gandiag.report.summary import top_findings

    top = top_findings(d)
    if top and top[0].supports is d.verdict:
        test = f", test {top[0].outcome_test}" if top[0].outcome_test is not None else ""
        return f"decided by {top[0].rule} {top[0].name}{test}"
    if d.decision_path and d.decision_path.endswith("/stable"):
        return f"decided on {d.decision_path}: no failure test held"
    return f"decided on {d.decision_path}" if d.decision_path else "no rule decided"


def _sample_rules_figure(d: Diagnosis, out: Path, title: str, rules: Mapping[str, Rule] | None) -> RunFigure:
    from gandiag.engine.evaluate import settle_start_at
    from gandiag.report.sample_stats import plot_sample_rules, sample_limits

    if rules is None:
        from gandiag.engine.loader import load_rules

        rules = load_rules()
    steps = np.array([int(r["step"]) for r in d.snapshots])
    fraction = d.settle_window.fraction if d.settle_window else 0.25
    settle_from = int(steps[settle_start_at(steps, fraction)])
    path = plot_sample_rules(d.snapshots, out / "sample_rules.png", limits=sample_limits(rules),
                             heading=f"{verdict_heading(d, title)}\nwhat the sample rules read; {deciding_rule(d)}", onset_step=d.onset_step,
                             settle_from=settle_from)
    return RunFigure(path, "What the sample rules read per snapshot, at the scale they judged it: the generated "
                           "samples' value (red where a failure limit held), the real-vs-real value at the same "
                           "sample size with its band, and each rule's limit as it was applied (fitted thresholds "
                           "included). Shaded: the settled snapshots the verdict judges.")


def _read_history(d: Diagnosis, path: Path):
    """The canonical series, read as the analysis read them: same reader, same names, same D-loss convention."""
    from gandiag.ingest import read_run

    columns = d.inputs.get("columns")
    return read_run(path, input_format=str(d.inputs.get("format") or "") or None,
                    columns=dict(columns) if isinstance(columns, dict) and columns else None,
                    d_loss_reduction=d.inputs.get("d_loss_reduction"))


def _sample_figures(d: Diagnosis, out: Path, title: str) -> list[RunFigure]:
    read = read_samples(d)
    if read is None:
        return []
    snaps, real = read
    if not snaps:
        return []
    from gandiag.report import figures
    from gandiag.report.animation import write_gif
    from gandiag.report.evolution import MAX_PANELS, plot_evolution
    from gandiag.report.scatter import is_image

    heading = verdict_heading(d, title)
    images = is_image(next(iter(snaps.values())))
    shown = min(len(snaps), MAX_PANELS)
    what = ("the first 16 generated samples of each, beside real data" if images else
            "generated points (red) over the real data (grey) on shared axes fitted to both")
    count = f"all {len(snaps)} snapshots" if shown == len(snaps) else f"{shown} of the {len(snaps)} snapshots, evenly spaced"
    written = [
        RunFigure(plot_evolution(snaps, real, out / "evolution.png", heading=heading, onset_step=d.onset_step),
                  f"The run's evolution: {count}, {what}; the onset's panel is framed in red.", "evolution"),
        RunFigure(write_gif(snaps, real, out / "evolution.gif", heading=heading, onset_step=d.onset_step),
                  "The snapshots as an animation, one frame per snapshot (evolution.gif beside this page).",
                  "evolution"),
    ]
    for step, label in _sample_picks(sorted(snaps), d.onset_step):
        x = np.asarray(snaps[step], dtype=np.float32)
        name = f"samples_step_{step}.png"
        heading = f"step {step} ({label})"
        if not is_image(x):
            path = figures.plot_scatter(x, real, out / name, title=f"{title}: {heading}")
            what = "generated points (red) over real data (grey), axes fitted to both"
            if x.reshape(len(x), -1).shape[1] > 2:
                what += ", on the reference's first two principal axes"
        else:
            ref = np.asarray(real)[:100] if real is not None and is_image(real) else None
            path = figures.plot_sample_grid(x[:100], out / name, title=heading, real=ref)
            what = "the first 100 generated samples" + (" beside 100 real ones" if ref is not None else "")
        written.append(RunFigure(path, f"Samples at {heading}: {what}.", "samples"))
    return written


def read_samples(d: Diagnosis) -> tuple[dict[int, np.ndarray], np.ndarray | None] | None:
    """The snapshots ``d`` was judged on (``{step: samples}``) and its reference, read again; None when the run's
    samples are not in a form the figures read (a ``samples.npz`` or grid images)."""
    samples = d.inputs.get("samples")
    grid = d.inputs.get("grid")
    if not samples or not (str(samples).endswith(".npz") or grid):
        return None
    from gandiag.samples.read import read_reference, read_snapshots

    real = read_reference(d.inputs["real"]) if d.inputs.get("real") else None
    tile_shape = tuple(int(v) for v in np.asarray(real).shape[1:3]) if grid and real is not None and np.asarray(real).ndim >= 3 else None
    snaps = read_snapshots(samples, grid=tuple(grid) if grid else None, tile_shape=tile_shape)
    return dict(sorted(snaps.items())), real
