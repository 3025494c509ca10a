"""``gandiag train`` and ``gandiag demo``: the harness behind a progress bar.

TensorFlow is imported only when a command runs (through the harness).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from gandiag.data.datasets import DATASETS
from gandiag.errors import GandiagError, UsageError
from gandiag.harness.config import EXPERIMENTS, LossKind
from gandiag.live.stop import DEFAULT_MIN_FRACTION, DEFAULT_MIN_PROBABILITY, DEFAULT_MIN_STEPS

Experiment = StrEnum("Experiment", {name: name for name in EXPERIMENTS})  # type: ignore[misc]
DatasetName = StrEnum("DatasetName", {name: name for name in DATASETS})  # type: ignore[misc]

_SHORT = (("d_loss_real", "d1"), ("d_loss_fake", "d2"), ("d_loss", "d"), ("g_loss", "g"),
          ("d_acc_real", "a1"), ("d_acc_fake", "a2"), ("d_acc", "a"))


def format_metrics(metrics: Mapping[str, float]) -> str:
    """The tutorial's console line: ``d1=0.593 d2=0.546 g=1.330 a1=76 a2=82``."""
    parts = []
    for key, short in _SHORT:
        if key in metrics:
            v = metrics[key]
            parts.append(f"{short}={int(100 * v) if v == v else 'nan'}" if key.startswith("d_acc")
                         else f"{short}={v:.3f}")
    return " ".join(parts)


def _fail(exc: GandiagError) -> typer.Exit:
    typer.echo(f"error: {exc.one_line()}", err=True)
    return typer.Exit(code=2)


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A rich Progress (or None when quiet); tasks show live losses and accuracies."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[metrics]}"), transient=False) as bar:
        yield bar


def _callback(bar: Any, name: str, total: int, start: int = 0) -> Any:
    if bar is None:
        return None
    state: dict[str, Any] = {"task": None, "last": 0.0}

    def update(step: int, n: int, metrics: Mapping[str, float]) -> None:
        if state["task"] is None:  # created on the first step: no empty bar when setup fails
            state["task"] = bar.add_task(name, total=n, completed=start, metrics="")
        now = time.monotonic()
        if now - state["last"] > 0.1 or step == n:  # keep the terminal cheap
            state["last"] = now
            bar.update(state["task"], completed=step, metrics=format_metrics(metrics))

    return update


def _monitor(stop_on: str | None, steps: int, min_steps: int, min_fraction: float, patience: int,
             min_probability: float = DEFAULT_MIN_PROBABILITY) -> Any:
    """The live monitor behind --stop-on, or None without it (validated before TensorFlow loads)."""
    if stop_on is None:
        return None
    from gandiag.live.monitor import Monitor

    verdicts = [v.strip() for v in stop_on.split(",") if v.strip()]
    if not verdicts:
        raise UsageError("--stop-on needs at least one verdict", hint="For example --stop-on non_converged,mode_collapse")
    return Monitor(planned_steps=steps, stop_on=verdicts, min_steps=min_steps, min_fraction=min_fraction,
                   patience=patience, source="<train>", min_probability=min_probability)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train_cmd(
        experiment: Annotated[Experiment, typer.Option(help="Which experiment to run.", case_sensitive=False)] = "stable",  # type: ignore[assignment]
        dataset: Annotated[DatasetName, typer.Option(help="Training data.", case_sensitive=False)] = "digits",  # type: ignore[assignment]
        steps: Annotated[int | None, typer.Option(help="Generator updates (default 600).")] = None,
        batch_size: Annotated[int | None, typer.Option(help="Full batch size (default 64).")] = None,
        latent_dim: Annotated[int | None, typer.Option(help="Latent size (default 50 for images, 2 for 2D points, 8 or 16 for longer vectors).")] = None,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
        out: Annotated[Path | None, typer.Option(help="Run folder (default runs/DATASET-EXPERIMENT-sSEED).")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue from the folder's last checkpoint.")] = False,
        data: Annotated[Path | None, typer.Option(help=".npz with x_train (and y_train) for mnist/mnist8/cifar10.")] = None,
        lr_d: Annotated[float | None, typer.Option(help="Discriminator learning rate.")] = None,
        lr_g: Annotated[float | None, typer.Option(help="Generator learning rate.")] = None,
        beta1_d: Annotated[float | None, typer.Option(help="Discriminator Adam beta_1.")] = None,
        beta1_g: Annotated[float | None, typer.Option(help="Generator Adam beta_1.")] = None,
        label_smoothing: Annotated[float | None, typer.Option(help="One-sided: real label = 1 - this (e.g. 0.1).")] = None,
        label_noise: Annotated[float | None, typer.Option(help="Probability of flipping each D label (e.g. 0.05).")] = None,
        d_steps: Annotated[int | None, typer.Option(help="D (critic) updates per G update.")] = None,
        loss: Annotated[LossKind | None, typer.Option(help="Adversarial loss (default: the experiment's; bce for all but wgan/wgan_gp).", case_sensitive=False)] = None,
        log_every: Annotated[int | None, typer.Option(help="Write a history row every N steps, plus the last (default 1).")] = None,
        deterministic: Annotated[bool, typer.Option("--deterministic/--no-deterministic", help="TensorFlow's deterministic ops (enable_op_determinism).")] = True,
        snapshot_every: Annotated[int | None, typer.Option(help="Steps between sample snapshots (default: ~15 per run).")] = None,
        plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write plots/ at the end.")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show TensorFlow's start-up messages.")] = False,
        stop_on: Annotated[str | None, typer.Option(help="Stop early when a failure verdict is confirmed live: e.g. non_converged,mode_collapse (docs/monitor.md).")] = None,
        stop_min_steps: Annotated[int, typer.Option(help="With --stop-on: never stop before this step.")] = DEFAULT_MIN_STEPS,
        stop_min_fraction: Annotated[float, typer.Option(help="With --stop-on: never stop before this share of --steps.")] = DEFAULT_MIN_FRACTION,
        stop_min_probability: Annotated[float, typer.Option(help="With --stop-on: stop only when corpus runs decided the same way failed at least this often (0: off).")] = DEFAULT_MIN_PROBABILITY,
        stop_patience: Annotated[int, typer.Option(help="With --stop-on: rows the failure verdict must hold before stopping.")] = 0,
        live: Annotated[bool, typer.Option("--live", help="Keep live.png and a self-reloading live.html in the run folder up to date while it trains (drawing within 1% of the time).")] = False,
    ) -> None:
        """Train one of the tutorial's GAN experiments and log it for `gandiag analyze`.

        With --stop-on the rules run live and a confirmed failure ends the run early (exit code 1).
        """
        from gandiag.harness import make_config, train
        from gandiag.harness._tf import set_verbose
        from gandiag.infra.outputs import prepare_out_dir

        set_verbose(verbose)
        try:
            if out is not None:
                prepare_out_dir(out, "--out")  # a file or an unwritable path: said before TensorFlow loads
            cfg = make_config(str(experiment.value), str(dataset.value), steps=steps, batch_size=batch_size,
                              latent_dim=latent_dim, seed=seed, lr_d=lr_d, lr_g=lr_g, beta1_d=beta1_d,
                              beta1_g=beta1_g, label_smoothing=label_smoothing, label_noise=label_noise,
                              d_steps=d_steps, snapshot_every=snapshot_every,
                              loss=loss.value if loss is not None else None, log_every=log_every,
                              deterministic=deterministic,
                              data=str(data) if data else None)
            monitor = _monitor(stop_on, cfg.steps, stop_min_steps, stop_min_fraction, stop_patience,
                               stop_min_probability)
            view = None
            if live:
                from gandiag.harness.run import default_out_dir
                from gandiag.live.view import LiveView

                view = LiveView(out if out is not None else default_out_dir(cfg), planned_steps=cfg.steps,
                                title=f"{cfg.dataset} / {cfg.experiment} (seed {cfg.seed})")
            with _progress(quiet) as bar:
                result = train(cfg, _callback(bar, f"{cfg.dataset}/{cfg.experiment}", cfg.steps),
                               out=out, resume=resume, plots=plots, monitor=monitor, view=view)
        except GandiagError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: the run folder is consistent; continue with --resume", err=True)
            raise typer.Exit(code=130) from None
        if not quiet:
            typer.echo(f"{result.status}: {result.steps_done} steps in {result.wall_time_s:.1f} s -> "
                       f"{result.out_dir}")
            if view is not None:
                typer.echo(f"live view: {view.html_path} ({view.draws} figures, drawing {view.throttle.share:.2%} "
                           f"of the time)")
        if result.early_stop is not None:
            e = result.early_stop
            onset = "-" if e.onset_step is None else e.onset_step
            typer.echo(f"stopped early at step {e.step} of {cfg.steps}: {e.verdict.value} "
                       f"(confidence {e.confidence:.2f}, onset step {onset}): {e.reason}")
            raise typer.Exit(code=1)

    @app.command("demo")
    def demo_cmd(
        out: Annotated[Path, typer.Option(help="Output folder for runs, plots and summary.md.")] = Path("gandiag-demo"),
        seed: Annotated[int, typer.Option(help="Random seed of every run.")] = 0,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars; only the table.")] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show TensorFlow's start-up messages.")] = False,
    ) -> None:
        """Train the tutorial's experiments on embedded data, diagnose each, and summarise."""
        from gandiag.harness._tf import set_verbose
        from gandiag.harness.demo import run_demo
        from gandiag.infra.outputs import prepare_out_dir

        set_verbose(verbose)
        t0 = time.perf_counter()
        try:
            prepare_out_dir(out, "--out")
            with _progress(quiet) as bar:
                rows = run_demo(out, seed=seed,
                                progress_for=lambda name, n: _callback(bar, name, n))
        except GandiagError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(code=130) from None
        _print_table(rows)
        typer.echo(f"wrote {out / 'summary.md'} ({time.perf_counter() - t0:.0f} s)")


def _print_table(rows: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="gandiag demo")
    for col in ("experiment", "expected behaviour", "verdict", "confidence", "onset step"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.experiment, r.expected, r.verdict, f"{r.confidence:.2f}",
                      "-" if r.onset_step is None else str(r.onset_step))
    Console(width=100).print(table)
