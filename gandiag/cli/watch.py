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

from ..errors import GandiagError, InputError, UsageError
from .analyze import fail


class WatchFormat(StrEnum):
    CSV = "csv"
    CONSOLE = "console"


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _target(path: Path) -> Path:
    """The file to follow: the path itself, or a run folder's history file."""
    if path.is_dir():
        from ..ingest import HISTORY_FILENAMES

        for name in HISTORY_FILENAMES:
            if (path / name).is_file():
                return path / name
        return path / "history.csv"  # not written yet: wait for it
    return path


def _looks_like_csv_header(line: str) -> bool:
    from ..roles import resolve_role

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
    try:
        return json.loads((folder / "meta.json").read_text())["status"] != "running"
    except (OSError, ValueError, KeyError, TypeError):
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
        min_steps: Annotated[int, typer.Option(help="Never confirm a failure before this step.")] = 100,
        min_fraction: Annotated[float, typer.Option(help="Never confirm before this share of --planned-steps.")] = 0.1,
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
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print healthy-range findings.")] = False,
    ) -> None:
        """Follow a training log as it grows; print findings as they fire; exit 1 on a confirmed failure.

        Exit codes: 1 a failure was confirmed (or the final verdict is one), 0 the log stopped growing
        without one, 2 bad input.
        """
        from ..engine.loader import load_rules
        from ..live.follow import ConsoleRows, CsvRows, LineFollower
        from ..monitor import Monitor
        from ..roles import parse_column_overrides

        try:
            if d_loss_reduction not in ("mean", "sum"):
                raise UsageError(f"--d-loss-reduction must be mean or sum, got '{d_loss_reduction}'")
            if poll <= 0 or idle < 0:
                raise UsageError("--poll must be > 0 and --idle >= 0")
            columns = parse_column_overrides(column or []) or None
            monitor = Monitor(rules=load_rules(rules or []), select=_split(select), ignore=_split(ignore),
                              settle=settle_fraction, planned_steps=planned_steps, loss=loss,
                              d_loss_reduction=d_loss_reduction, columns=columns, stop_on=_split(stop_on),
                              min_steps=min_steps, min_fraction=min_fraction, patience=patience, source=str(path))
        except GandiagError as exc:
            raise fail(exc) from None

        folder = path if path.is_dir() else None
        target = _target(path)
        follower = LineFollower(target)
        reader: Any = None
        last_news = time.monotonic()
        fed = 0
        try:
            while True:
                lines = follower.poll()
                if follower.rewritten:
                    raise InputError("the file was rewritten from the start while being watched", where=str(target),
                                     hint="Watch the new run again")
                if lines:
                    last_news = time.monotonic()
                    if reader is None:
                        is_csv = (input_format is WatchFormat.CSV or
                                  (input_format is None and _looks_like_csv_header(lines[0])))
                        reader = (CsvRows if is_csv else ConsoleRows)(str(target), columns)
                    for step, metrics in reader.feed(lines):
                        if monitor.last_step is not None and step <= monitor.last_step:
                            continue  # a repeated or older step (a restarted script): not fed twice
                        state = monitor.update(step, **metrics)
                        fed += 1
                        if _report(state, verbose):
                            raise typer.Exit(code=1)
                    if fed and _report(monitor.evaluate(), verbose):
                        raise typer.Exit(code=1)
                elif time.monotonic() - last_news >= idle or (_finished(folder) and fed):
                    break
                else:
                    time.sleep(poll)
            if not fed:
                what = "file not found" if not target.exists() else "no training metrics in the log"
                raise InputError(f"{what} (waited {idle:g} s)", where=str(target),
                                 hint="Check the path, or start the watch after the run begins logging")
            final = monitor.finish()
        except GandiagError as exc:
            raise fail(exc) from None
        onset = "-" if final.onset_step is None else final.onset_step
        typer.echo(f"final    {final.verdict.value} (confidence {final.confidence:.2f}, onset step {onset}) "
                   f"over {final.n_steps} steps: {final.reason}")
        if final.verdict in monitor.stop_on:
            raise typer.Exit(code=1)


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
