"""``gandiag watch``: follow a growing training log and stop on a confirmed failure.

Never imports TensorFlow or pandas: it runs beside a training job (``train.py | tee log & gandiag watch log``).
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gandiag.cli.analyze import check_rule_paths, fail
from gandiag.errors import GandiagError, InputError, UsageError
from gandiag.infra.guard import one_run
from gandiag.live.stop import (
    DEFAULT_MIN_FRACTION,
    DEFAULT_MIN_PROBABILITY,
    DEFAULT_MIN_STEPS,
    DEFAULT_SNAPSHOT_PATIENCE,
)


class WatchFormat(StrEnum):
    CSV = "csv"
    CONSOLE = "console"


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _target(path: Path) -> Path:
    """The file to follow: the path itself, or a run folder's history file."""
    if path.is_dir():
        from gandiag.ingest import HISTORY_FILENAMES

        for name in HISTORY_FILENAMES:
            if (path / name).is_file():
                return path / name
        return path / "history.csv"  # not written yet: wait for it
    return path


def _looks_like_csv_header(line: str) -> bool:
    from gandiag.history.roles import resolve_role

    for sep in (",", ";", "\t"):
        cells = [c.strip().strip('"') for c in line.split(sep)]
        if len(cells) >= 2 and any(resolve_role(c) for c in cells) and not any(_is_number(c) for c in cells):
            return True
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _finished(folder: Path | None) -> bool:
    """A harness run folder whose meta.json says the run is over."""
    if folder is None:
        return False
    meta = folder / "meta.json"
    try:
        if not meta.is_file() or meta.stat().st_size > 1 << 20:
            return False
        return json.loads(meta.read_text())["status"] != "running"
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return False


def _print_event(e: Any, verbose: bool) -> None:
    if e.severity.value == "info" and not verbose:
        return
    typer.echo(f"step {e.step:>7}  {e.kind:<7}  {e.rule}  {e.severity.value:<7}  {e.name}  (onset step {e.onset_step})")


def register(app: typer.Typer) -> None:
    @app.command()
    def watch(
        path: Annotated[Path, typer.Argument(help="A growing history.csv or console log, or a run folder.")],
        stop_on: Annotated[str, typer.Option(help="Verdicts that end the watch with exit code 1 once confirmed.")] = "non_converged,mode_collapse",
        planned_steps: Annotated[int | None, typer.Option(help="Planned length of the run (for --min-fraction).")] = None,
        min_steps: Annotated[int, typer.Option(help="Never confirm a failure before this step.")] = DEFAULT_MIN_STEPS,
        min_fraction: Annotated[float, typer.Option(help="Never confirm before this share of --planned-steps.")] = DEFAULT_MIN_FRACTION,
        min_probability: Annotated[float, typer.Option(help="Confirm only when corpus runs decided the same way failed at least this often (0: off).")] = DEFAULT_MIN_PROBABILITY,
        patience: Annotated[int, typer.Option(help="Rows a failure verdict must hold before it is confirmed.")] = 0,
        idle: Annotated[float, typer.Option(help="Give up (and print the final verdict) after this many seconds without new lines.")] = 300.0,
        poll: Annotated[float, typer.Option(help="Seconds between reads of the file.")] = 1.0,
        input_format: Annotated[WatchFormat | None, typer.Option(help="csv or console (default: from the first line).", case_sensitive=False)] = None,
        rules: Annotated[list[Path] | None, typer.Option("--rules", help="Extra rule file or folder.")] = None,
        select: Annotated[str | None, typer.Option(help="Only these rule codes or prefixes.")] = None,
        ignore: Annotated[str | None, typer.Option(help="Drop these rule codes or prefixes.")] = None,
        column: Annotated[list[str] | None, typer.Option("--column", help="Map a column to a role: ROLE=NAME.")] = None,
        settle_fraction: Annotated[float, typer.Option(help="Final share of the rows so far that the verdict judges.")] = 0.25,
        loss: Annotated[str | None, typer.Option(help="Declare the loss family: bce, lsgan, hinge, wgan.")] = None,
        d_loss_reduction: Annotated[str, typer.Option(help="How a combined D loss is reported: mean or sum.")] = "mean",
        samples: Annotated[Path | None, typer.Option(help="Generated-sample snapshots to follow (default: samples.npz beside the log).")] = None,
        real: Annotated[Path | None, typer.Option(help="Real data the samples are compared with (default: real.npz beside the log).")] = None,
        no_samples: Annotated[bool, typer.Option("--no-samples", help="Judge the losses only, even if samples.npz is there.")] = False,
        snapshot_patience: Annotated[int, typer.Option(help="Snapshots a failure the samples decided must hold at before it is confirmed.")] = DEFAULT_SNAPSHOT_PATIENCE,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print healthy-range findings.")] = False,
        live: Annotated[Path | None, typer.Option("--live", help="Keep DIR/live.png and a self-reloading DIR/live.html up to date as rows and snapshots arrive (drawing throttled to --live-budget of the time).")] = None,
        live_budget: Annotated[float, typer.Option(help="With --live: the share of the time drawing may take.")] = 0.01,
    ) -> None:
        """Follow a training log as it grows; print findings as they fire; exit 1 on a confirmed failure.

        Snapshots appended to samples.npz beside the log (gandiag.RunLogger.snapshot, the Keras callback's
        sample_fn) are judged as they arrive, against real.npz, so a collapse visible only in the samples
        is confirmed too.

        Exit codes: 1 a failure was confirmed (or the final verdict is one), 0 the log stopped growing
        without one, 2 bad input.
        """
        from gandiag.engine.loader import load_rules
        from gandiag.history.roles import parse_column_overrides
        from gandiag.live.monitor import Monitor

        try:
            if d_loss_reduction not in ("mean", "sum"):
                raise UsageError(f"--d-loss-reduction must be mean or sum, got '{d_loss_reduction}'")
            if poll <= 0 or idle < 0:
                raise UsageError("--poll must be > 0 and --idle >= 0")
            columns = parse_column_overrides(column or []) or None
            sample_path, real_data = _sample_inputs(path, samples, real, no_samples)
            monitor = Monitor(rules=load_rules(check_rule_paths(rules or [])), select=_split(select), ignore=_split(ignore),
                              settle=settle_fraction, planned_steps=planned_steps, loss=loss,
                              d_loss_reduction=d_loss_reduction, columns=columns, stop_on=_split(stop_on),
                              min_steps=min_steps, min_fraction=min_fraction, patience=patience, source=str(path),
                              min_probability=min_probability, real=real_data,
                              snapshot_patience=snapshot_patience)
            view = None
            if live is not None:
                from gandiag.live.view import LiveView

                view = LiveView(live, real=real_data, budget=live_budget, title=str(path), planned_steps=planned_steps)
        except GandiagError as exc:
            raise fail(exc) from None

        folder = path if path.is_dir() else None
        target = _target(path)
        final_options = {"columns": columns, "loss": loss, "d_loss_reduction": d_loss_reduction,
                         "settle_fraction": settle_fraction, "samples": sample_path,
                         "real": None if real_data is None else (real or _beside(path, "real.npz"))}
        try:
            with one_run(str(target)):
                confirmed, final = _follow(target, folder, monitor, input_format, columns, idle, poll, verbose,
                                           final_options, sample_path, view)
                if view is not None:
                    view.close(monitor.state)
        except GandiagError as exc:
            raise fail(exc) from None
        if confirmed:
            raise typer.Exit(code=1)
        onset = "-" if final.onset_step is None else final.onset_step
        typer.echo(f"final    {final.verdict.value} (confidence {final.confidence:.2f}, onset step {onset}) "
                   f"over {final.n_steps} steps: {final.reason}")
        if final.verdict in monitor.stop_on:
            raise typer.Exit(code=1)


def _beside(path: Path, name: str) -> Path:
    return (path if path.is_dir() else path.parent) / name


def _sample_inputs(path: Path, samples: Path | None, real: Path | None, no_samples: bool) -> tuple[Path | None, Any]:
    """The samples.npz to follow (it may not exist yet) and the real reference, read now (None without one)."""
    if no_samples:
        return None, None
    sample_path = samples or _beside(path, "samples.npz")
    if samples is not None and samples.suffix.lower() != ".npz":
        raise UsageError(f"watch follows a growing .npz of step_<N> snapshots, not '{samples.suffix or samples.name}'",
                         where=str(samples), hint="Write snapshots with gandiag.RunLogger.snapshot, or pass --no-samples")
    real_path = real or _beside(path, "real.npz")
    if real is None and not real_path.is_file():
        return sample_path, None
    from gandiag.samples.read import read_reference

    return sample_path, read_reference(real_path)


def _follow(target: Path, folder: Path | None, monitor: Any, input_format: WatchFormat | None,
            columns: dict[str, str] | None, idle: float, poll: float, verbose: bool,
            final_options: dict[str, Any], sample_path: Path | None = None, view: Any = None) -> tuple[bool, Any]:
    """Feed the monitor until a failure is confirmed (``(True, None)``) or the log stops growing (``(False, final)``).

    Rows whose step does not increase are not fed (the monitor judges rows in
    the order they are written); the first one is warned about, and the final
    verdict then reads the whole log as ``gandiag analyze`` does (sorted and
    merged), so it is the offline answer.
    """
    from gandiag.live.follow import ConsoleRows, CsvRows, LineFollower
    from gandiag.live.snapshots import SnapshotFollower

    follower = LineFollower(target)
    snapshots = SnapshotFollower(sample_path) if sample_path is not None else None
    pending: list = []  # snapshots read but not given yet: each is given after the row of its step, as it was taken
    reader: Any = None
    last_news = time.monotonic()
    fed = backwards = 0
    while True:
        lines = follower.poll()
        new = snapshots.poll() if snapshots is not None else []
        pending += new
        if view is not None:
            for step, samples in new:
                view.snapshot(step, samples)
        if lines:
            last_news = time.monotonic()
            if reader is None:
                is_csv = (input_format is WatchFormat.CSV or
                          (input_format is None and _looks_like_csv_header(lines[0])))
                reader = (CsvRows if is_csv else ConsoleRows)(str(target), columns)
            for step, metrics in reader.feed(lines):
                if monitor.last_step is not None and step <= monitor.last_step:
                    backwards += 1
                    if backwards == 1:
                        _warn_backwards(target, step, monitor.last_step)
                    continue
                while pending and pending[0][0] < step:
                    if _report(monitor.snapshot(*pending.pop(0)), verbose):
                        return True, None
                state = monitor.update(step, **metrics)
                if view is not None:
                    view.row(step, **metrics)
                fed += 1
                if _report(state, verbose):
                    return True, None
                while pending and pending[0][0] == step:
                    if _report(monitor.snapshot(*pending.pop(0)), verbose):
                        return True, None
            if getattr(reader, "unsorted", False) and not backwards:
                backwards += 1
                _warn_backwards(target, None, monitor.last_step)
            if fed and _report(monitor.evaluate(), verbose):
                return True, None
        if view is not None:
            view.update(monitor.state)
        if lines or new:
            last_news = time.monotonic()
        elif time.monotonic() - last_news >= idle or (_finished(folder) and fed):
            break
        else:
            time.sleep(poll)
    while pending and fed:  # taken after the last row logged
        if _report(monitor.snapshot(*pending.pop(0)), verbose):
            return True, None
    if not fed:
        what = "file not found" if not target.exists() else "no training metrics in the log"
        raise InputError(f"{what} (waited {idle:g} s)", where=str(target),
                         hint="Check the path, or start the watch after the run begins logging")
    if not backwards:
        return False, monitor.finish()
    from gandiag.api import analyze

    fmt = "csv" if isinstance(reader, CsvRows) else "console"
    loss = monitor.family.value if monitor.family is not None else None
    with_samples = sample_path is not None and sample_path.is_file()
    return False, analyze(target, rules=monitor.rules, input_format=fmt, no_samples=not with_samples,
                          samples=sample_path if with_samples else None, real=final_options["real"],
                          columns=final_options["columns"], loss=loss,
                          d_loss_reduction=final_options["d_loss_reduction"],
                          settle_fraction=final_options["settle_fraction"])


def _warn_backwards(target: Path, step: int | None, last: int | None) -> None:
    what = f"step {step} comes after step {last}" if step is not None else "the steps go backwards"
    typer.echo(f"warning: {target}: {what}: watch judges rows in the order they are written and skips such rows; "
               "the final verdict reads the whole log sorted, as `gandiag analyze` does", err=True)


def _report(state: Any, verbose: bool) -> bool:
    """Print the state's events; True (and a FAILURE line) when a failure is confirmed."""
    for e in state.events:
        _print_event(e, verbose)
    if not state.confirmed:
        return False
    onset = "-" if state.onset_step is None else state.onset_step
    typer.echo(f"step {state.step:>7}  FAILURE  {state.verdict.value} confirmed (confidence {state.confidence:.2f}, "
               f"onset step {onset}): {state.reason}")
    return True
