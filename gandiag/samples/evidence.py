"""The samples stage: generated-sample snapshots -> per-snapshot diversity statistics.

Sits beside the loss history: ``samples.npz`` / ``real.npz`` next to a
history are found automatically (``--no-samples`` turns that off), or given
with ``--samples`` / ``--real``. Statistics come from
:func:`gandiag.samples.compare.snapshot_signals`; this module adds the
ratios the GD3xx rules read (the generator's value over the real-vs-real
value of the same statistic) and lays them on the snapshots' step axis.

scikit-learn is imported only here, and only when snapshots exist, so the
losses-only path stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gandiag.samples.table import SnapshotTable

SAMPLE_FILES = ("samples.npz",)
REAL_FILES = ("real.npz",)


#: ``full_set`` values: ``auto`` (every pair up to the size where the approximate path is faster, approximate
#: above; docs/diversity.md), ``exact`` (every pair whatever the size: ``--exact``), ``off`` (``--no-full-set``).
FULL_SET_CHOICES = ("auto", "exact", "off")


@dataclass(frozen=True)
class SampleInputs:
    samples: Path | None
    real: Path | None
    grid: tuple[int, int] | None = None
    tile_shape: tuple[int, int] | None = None
    full_set: str = "auto"


def discover(history_path: str | Path, *, samples=None, real=None, no_samples=False, grid=None, tile_shape=None,
             full_set: str = "auto", no_real: bool = False) -> SampleInputs:
    """Sample files to use for a history: the ones given, else those beside it.

    ``no_real`` judges the snapshots without a reference even when ``real.npz``
    lies beside the history (what the calibration does to learn how much a
    verdict without one is worth).

    With ``grid`` and no ``samples``, the tutorial's ``generated_plot_NNN.png``
    grids beside the history are used; if there are none, that is an error
    (``--grid`` says the samples are grids, but not where they are).
    """
    if no_samples:
        return SampleInputs(None, None)
    folder = Path(history_path)
    folder = folder if folder.is_dir() else folder.parent
    if samples is None and grid is not None:
        if str(history_path) != "-" and any(folder.glob("generated_plot_*.png")):
            samples = folder
        else:
            from gandiag.errors import UsageError

            raise UsageError("--grid needs the grid images, and there are no generated_plot_NNN.png beside the log",
                             where=str(history_path),
                             hint="Pass --samples FOLDER (the tutorial writes them to results_<experiment>/)")
    if samples is None and str(history_path) != "-":
        samples = next((folder / n for n in SAMPLE_FILES if (folder / n).is_file()), None)
    if no_real:
        real = None
    elif real is None and str(history_path) != "-":
        real = next((folder / n for n in REAL_FILES if (folder / n).is_file()), None)
    if full_set not in FULL_SET_CHOICES:
        from gandiag.errors import UsageError

        raise UsageError(f"full_set must be one of {', '.join(FULL_SET_CHOICES)}, got {full_set!r}")
    return SampleInputs(Path(samples) if samples else None, Path(real) if real else None, grid, tile_shape, full_set)


def _grid_notes(samples: Path) -> list[str]:
    """What a folder of grid images held besides the grids (the tutorial's loss plot, say)."""
    if not samples.is_dir():
        return []
    from gandiag.samples.grids import grid_files

    pngs = sorted(f for f in samples.iterdir() if f.suffix.lower() == ".png" and f.is_file())
    if not pngs:
        return []
    _, skipped = grid_files(pngs)
    if not skipped:
        return []
    names = ", ".join(f.name for f in skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
    return [f"ignored {len(skipped)} PNG file(s) in {samples} that are not grid images: {names}"]


def _autoscaled(real: np.ndarray) -> np.ndarray:
    """Each real sample stretched to [-1, 1] by its own minimum and maximum, as imshow shows a grid tile."""
    x = np.asarray(real, dtype=np.float32)
    flat = x.reshape(len(x), -1)
    lo = np.nanmin(flat, axis=1, keepdims=True)
    hi = np.nanmax(flat, axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    return ((flat - lo) / span * 2.0 - 1.0).reshape(x.shape)


def _ratio(a: float, b: float) -> float:
    if not np.isfinite(a) or not np.isfinite(b) or b <= 0:
        return float("nan")
    return float(a / b)


def _last_reference(fake, real, seed, prepared):
    """The prepared reference for the next snapshot (built once per sample size)."""
    from gandiag.samples.compare import prepare_reference
    from gandiag.samples.diversity import DEFAULT_MAX_SAMPLES, MIN_SAMPLES

    if real is None:
        return None
    n_fake = int(np.isfinite(np.asarray(fake).reshape(len(fake), -1)).all(axis=1).sum())  # no float64 copy
    m = min(n_fake, len(real) // 2, DEFAULT_MAX_SAMPLES)
    if m < MIN_SAMPLES:
        return prepared
    if prepared is not None and prepared.m == m and prepared.seed == seed:
        return prepared
    return prepare_reference(real, m, seed=seed)


class SnapshotStats:
    """Diversity statistics of snapshots given one at a time, in step order.

    The offline table (:func:`snapshot_table`) is this object fed every
    snapshot of a file; the live monitor (:meth:`gandiag.Monitor.snapshot`)
    feeds it as the run writes them, so both compute the same numbers.
    """

    def __init__(self, real: np.ndarray | None = None, *, grid: bool = False, seed: int = 0):
        from gandiag.samples.diversity import ABS_DUP_RMS, GRID_DUP_RMS

        self.real = None if real is None else np.asarray(real)
        self.seed = seed
        self.dup_rms = GRID_DUP_RMS if grid else ABS_DUP_RMS
        self.rows: list[dict] = []
        self._prepared = None

    def add(self, step: int, samples: np.ndarray) -> dict:
        """Measure one snapshot; returns its row (the statistics and the ratios the GD3xx rules read)."""
        from gandiag.samples.compare import snapshot_signals

        step = int(step)
        if self.rows and step <= self.rows[-1]["step"]:
            from gandiag.errors import UsageError

            raise UsageError(f"snapshot steps must increase: got step {step} after {self.rows[-1]['step']}",
                             hint="Give each snapshot the step it was generated at")
        # prepared before measuring, so the snapshot is compared with it (not a second copy built inside)
        self._prepared = _last_reference(samples, self.real, self.seed, self._prepared)
        stats = snapshot_signals(samples, self.real, seed=self.seed, reference=self._prepared, dup_rms=self.dup_rms)
        stats["coverage_ratio"] = _ratio(stats["coverage"], stats["coverage_ref"])
        stats["density_ratio"] = _ratio(stats["density"], stats["density_ref"])
        stats["precision_ratio"] = _ratio(stats["precision"], stats["precision_ref"])
        stats["near_ratio"] = _ratio(stats["near"], stats["near_ref"])
        stats["reach_ratio"] = _ratio(stats["reach"], stats["reach_ref"])
        stats["ndb_excess"] = float(stats["ndb"] - stats["ndb_ref"]) if np.isfinite(stats["ndb"]) and np.isfinite(stats["ndb_ref"]) else float("nan")
        # the leave-one-out 1-NN two-sample accuracy over both sides, above its real-vs-real value (0 for data alike)
        stats["nn1_excess"] = float((stats["nn1_real"] + stats["nn1_fake"] - stats["nn1_real_ref"] - stats["nn1_fake_ref"]) / 2)
        row = {"step": step, **stats}
        self.rows.append(row)
        return row

    def table(self, upto: int | None = None) -> SnapshotTable:
        """The rows so far (those at steps up to ``upto``) as the rules' table."""
        rows = self.rows if upto is None else [r for r in self.rows if r["step"] <= upto]
        steps = np.array([r["step"] for r in rows], dtype=np.int64)
        keys = [k for k in rows[0] if k != "step"] if rows else []
        stats = {k: np.array([float(r[k]) for r in rows]) for k in keys}
        # Relative to the run's own first snapshot, for the no-reference case.
        if "mpd" in stats and stats["mpd"].size and np.isfinite(stats["mpd"][0]) and stats["mpd"][0] > 0:
            stats["mpd_vs_start"] = stats["mpd"] / np.nanmax(stats["mpd"])
        return SnapshotTable(steps=steps, stats=stats)

    def notes(self) -> list[str]:
        """What the report should say about the sample evidence (too small, no reference ...)."""
        from gandiag.samples.diversity import MIN_SAMPLES, SMALL_SAMPLES

        rows, real, notes = self.rows, self.real, []
        if any(r.get("insufficient") == 1.0 for r in rows):
            n = min(int(round(r["n_fake"] * (1 - (r["nonfinite_share"] if np.isfinite(r["nonfinite_share"]) else 0))))
                    for r in rows)
            notes.append(f"insufficient samples: snapshots of {n} finite samples are too small for diversity "
                         f"statistics (need at least {MIN_SAMPLES}); sample rules did not judge them")
        used = [int(r["n_used"]) for r in rows if np.isfinite(r.get("n_used", np.nan)) and r.get("insufficient") != 1.0]
        if real is None:
            notes.append("no real reference (real.npz or --real): only reference-free sample measures were used, "
                         "so the sample evidence is weaker")
        elif any(r.get("insufficient_reference") == 1.0 for r in rows):
            notes.append(f"the real reference holds {len(real)} samples, too few for the statistics that compare "
                         f"with it (need at least {2 * MIN_SAMPLES}): only reference-free measures were used")
        elif used and min(used) < SMALL_SAMPLES:
            why = "the snapshots" if min(int(r["n_fake"]) for r in rows) < SMALL_SAMPLES else "the reference's halves"
            notes.append(f"small samples: statistics compare {min(used)} generated with {min(used)} real samples "
                         f"(limited by {why}); each is judged against its real-vs-real value at that size, but it "
                         f"is noisier than at {SMALL_SAMPLES} or more")
        return notes


def snapshot_table(inputs: SampleInputs, *, last_step: int | None, seed: int = 0) -> tuple[SnapshotTable | None, list[dict], list[str]]:
    """Read the snapshots and compute their statistics.

    Returns the table for the rules, one dict per snapshot for the report,
    and notes (for example ``insufficient samples``).
    """
    if inputs.samples is None:
        return None, [], []
    from gandiag.samples.read import read_reference, read_snapshots

    notes: list[str] = []
    real = read_reference(inputs.real) if inputs.real is not None else None
    tile_shape = inputs.tile_shape
    if inputs.grid is not None:
        notes += _grid_notes(inputs.samples)
        if real is not None and tile_shape is None and np.asarray(real).ndim >= 3:
            tile_shape = tuple(int(v) for v in np.asarray(real).shape[1:3])  # tiles at the data's resolution
        if real is not None:
            # imshow scales each tile to its own darkest and lightest pixel: compare like with like
            real = _autoscaled(real)
    snaps = read_snapshots(inputs.samples, last_step=last_step, grid=inputs.grid, tile_shape=tile_shape)
    _check_dimensions(snaps, real, inputs)
    measured = SnapshotStats(real, grid=inputs.grid is not None, seed=seed)
    for step in sorted(snaps):
        measured.add(step, snaps[step])
    full = full_set_statistics(snaps, real, measured.rows, inputs.full_set)
    sample_notes = measured.notes()
    if real is None and snaps:
        hint = reference_hint(next(iter(snaps.values())).shape[1:])
        sample_notes = [n + hint if n.startswith("no real reference") else n for n in sample_notes]
    return measured.table(), measured.rows, notes + sample_notes + space_notes(snaps, real, measured.rows,
                                                                                    grid=inputs.grid is not None,
                                                                                    full=full)


def reference_hint(sample_shape: tuple[int, ...]) -> str:
    """How to give a reference in one word when the samples have the shape of a data set gandiag can load."""
    from gandiag.data.datasets import names_for_values

    names = names_for_values(int(np.prod(sample_shape)))
    if not names:
        return ""
    more = f" (or {', '.join(names[1:4])})" if len(names) > 1 else ""
    return f"; if the samples are of a data set gandiag knows, name it: --real {names[0]}{more}"


def full_set_statistics(snaps: dict, real: np.ndarray | None, rows: list[dict], how: str = "auto") -> str | None:
    """Precision, recall, density and coverage of the last snapshot on all its samples against the whole reference,
    when the verdict's statistics used a subsample of it (more than ``DEFAULT_MAX_SAMPLES`` generated samples, as
    an FID pipeline's 10,000-50,000 features). The verdict stays on the subsample, whose real-vs-real values the
    rules compare with; these are the figures such a pipeline reports, each with its standard error.

    Adds ``full_<statistic>`` and ``full_<statistic>_se``, ``full_n_fake``, ``full_n_real`` and ``full_exact``
    (1.0 when every pair was compared) to the last row, and returns how they were computed (``None`` when not).
    """
    from gandiag.samples import knn
    from gandiag.samples.diversity import DEFAULT_K, DEFAULT_MAX_SAMPLES, as_samples

    if how == "off" or real is None or not snaps or not rows or rows[-1].get("insufficient") == 1.0:
        return None
    fake = as_samples(next(reversed(snaps.values())), name="samples")
    fake = fake[np.isfinite(fake).all(axis=1)]
    ref = as_samples(real, name="reference")
    ref = ref[np.isfinite(ref).all(axis=1)]
    if fake.shape[0] <= DEFAULT_MAX_SAMPLES or ref.shape[0] <= DEFAULT_K or fake.shape[1] != ref.shape[1]:
        return None
    approximate = how != "exact" and knn.auto_method(ref.shape[0], fake.shape[0], ref.shape[1]) == "approximate"
    from gandiag.infra.progress import stderr_bar

    progress = stderr_bar(f"precision/recall/density/coverage on {fake.shape[0]:,} vs {ref.shape[0]:,} "
                           f"({'approximate neighbours' if approximate else 'every pair'})")
    if how == "exact":
        result = knn.prdc_exact(ref, fake, DEFAULT_K, progress=progress)
    else:
        result = knn.prdc_auto(ref, fake, DEFAULT_K, progress=progress)
    row = rows[-1]
    for key, value in result.as_dict().items():
        row[f"full_{key}"] = float(value)
    exact = result.method.startswith("exact")
    row.update(full_n_fake=float(fake.shape[0]), full_n_real=float(ref.shape[0]), full_exact=1.0 if exact else 0.0)
    if result.method == "exact":
        return "every pair compared"
    if exact:
        return f"every pair compared ({result.method.removeprefix('exact: ')})"
    return (f"{result.method}; measured within 0.0001 of every pair at 50,000 x 2,048 where the projection leaves "
            f"under 2% out (docs/diversity.md); --exact compares every pair")


def _check_dimensions(snaps: dict, real: np.ndarray | None, inputs: SampleInputs) -> None:
    """Samples and reference must be points of one space: the same number of values each."""
    if real is None or not snaps:
        return
    shape = next(iter(snaps.values())).shape[1:]
    if int(np.prod(shape)) != int(np.prod(real.shape[1:])):
        from gandiag.errors import InputError

        raise InputError(f"generated samples are {_shape_text(shape)} each but the reference's are "
                         f"{_shape_text(real.shape[1:])}", where=f"{inputs.samples} vs {inputs.real}",
                         hint="Give both from the same feature extractor (same layer), or images of one size")


def _shape_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"{shape[0]:,} features"
    return " x ".join(f"{v:,}" for v in shape) + " values"


def describe_samples(shape: tuple[int, ...], *, grid: bool = False) -> str:
    """``features (50,000 x 2,048)`` or ``images (1,000 x 28 x 28)``: what the distances were taken between."""
    kind = "grid tiles" if grid else ("features" if len(shape) <= 2 else "images")
    return f"{kind} ({' x '.join(f'{v:,}' for v in shape)})"


def space_notes(snaps: dict, real: np.ndarray | None, rows: list[dict], *, grid: bool = False,
                full: str | None = None) -> list[str]:
    """Which space the distances were taken in, at what size, and the last snapshot's statistics with their
    standard errors (the uncertainty at the size they were computed)."""
    if not snaps:
        return []
    last = next(reversed(snaps.values()))
    given = describe_samples(last.shape, grid=grid)
    space = "feature space" if last.ndim <= 2 else "pixel space (flattened)"
    ref = f" against a reference of {describe_samples(real.shape)}" if real is not None else ""
    line = f"samples: {given} in the last snapshot{ref}; Euclidean distances in {space}"
    row = rows[-1] if rows else {}
    m = row.get("n_used", float("nan"))
    if np.isfinite(m) and row.get("insufficient") != 1.0:
        line += f", every pair compared on {int(m):,} samples per set (seeded subsample)"
    parts = [f"{key} {row[key]:.3f} +/- {row[key + '_se']:.3f}" for key in ("coverage", "density", "precision", "recall")
             if np.isfinite(row.get(key, np.nan)) and np.isfinite(row.get(key + "_se", np.nan))]
    if parts:
        line += f"; at step {row['step']}: " + ", ".join(parts) + " (one standard error at that size)"
    lines = [line]
    if full is not None:
        stats = ", ".join(f"{key} {row['full_' + key]:.3f} +/- {row['full_' + key + '_se']:.3f}"
                          for key in ("coverage", "density", "precision", "recall"))
        lines.append(f"samples: all {int(row['full_n_fake']):,} generated samples of step {row['step']} against all "
                     f"{int(row['full_n_real']):,} reference samples: {stats} ({full}). Reported, not judged: the "
                     f"verdict reads the subsample above, against real-vs-real at its size")
    return lines
