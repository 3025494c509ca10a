"""The figures of one diagnosed run: history with the findings on it, diversity, and samples.

Built from a :class:`~gandiag.verdict.diagnosis.Diagnosis` and the files it names
(``inputs['history']``, ``inputs['samples']``, ``inputs['real']``), so the
figures show exactly what was analyzed. Drawing is in :mod:`.figures`; this
module only decides what to draw: which spans, which snapshots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gandiag.engine.findings import Severity
from gandiag.ingest import HISTORY_FILENAMES
from gandiag.verdict.diagnosis import Diagnosis


@dataclass(frozen=True)
class RunFigure:
    """A written figure and what it shows (the HTML page's caption)."""

    path: Path
    caption: str


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


def write_run_figures(d: Diagnosis, out_dir: str | Path, *, title: str | None = None) -> list[RunFigure]:
    """Write the history figure, the diversity curve and sample figures of one run under ``out_dir``."""
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
        written.append(RunFigure(
            figures.plot_diversity(d.snapshots, out / "diversity.png", title=f"{title}: sample diversity",
                                   onset_step=d.onset_step),
            "Diversity of the generated samples per snapshot, relative to real data against itself."))
    written.extend(_sample_figures(d, out, title))
    return written


def _read_history(d: Diagnosis, path: Path):
    """The canonical series, read as the analysis read them: same reader, same names, same D-loss convention."""
    from gandiag.ingest import read_run

    columns = d.inputs.get("columns")
    return read_run(path, input_format=str(d.inputs.get("format") or "") or None,
                    columns=dict(columns) if isinstance(columns, dict) and columns else None,
                    d_loss_reduction=d.inputs.get("d_loss_reduction"))


def _sample_figures(d: Diagnosis, out: Path, title: str) -> list[RunFigure]:
    samples = d.inputs.get("samples")
    grid = d.inputs.get("grid")
    if not samples or not (str(samples).endswith(".npz") or grid):
        return []
    from gandiag.report import figures
    from gandiag.samples.read import read_reference, read_snapshots

    real = read_reference(d.inputs["real"]) if d.inputs.get("real") else None
    tile_shape = tuple(int(v) for v in np.asarray(real).shape[1:3]) if grid and real is not None and np.asarray(real).ndim >= 3 else None
    snaps = read_snapshots(samples, grid=tuple(grid) if grid else None, tile_shape=tile_shape)
    written = []
    for step, label in _sample_picks(sorted(snaps), d.onset_step):
        x = np.asarray(snaps[step], dtype=np.float32)
        name = f"samples_step_{step}.png"
        heading = f"step {step} ({label})"
        if x.ndim == 2 and x.shape[1] == 2:
            path = figures.plot_scatter(x, real, out / name, title=f"{title}: {heading}")
            what = "generated points (red) over real data (blue)"
        else:
            path = figures.plot_sample_grid(x[:100], out / name, title=heading)
            what = "the first 100 generated samples"
        written.append(RunFigure(path, f"Samples at {heading}: {what}."))
    return written
