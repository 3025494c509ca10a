"""The training loop: seeding, logging, snapshots, checkpoints and resume.

All sampling (batch indices, latents, label noise) uses one numpy
``Generator`` whose state is saved in every checkpoint, so a run killed and
resumed reproduces the uninterrupted run. Snapshot latents come from a
generator seeded with ``(seed, step)``: fresh at every snapshot, reproducible.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gandiag.data.datasets import Dataset, load_dataset
from gandiag.errors import UsageError
from gandiag.harness.config import LOSS_FAMILY, TrainConfig, validate
from gandiag.live.runlog import RunLogger, atomic_write_npz, load_npz

if TYPE_CHECKING:
    from gandiag.live.monitor import Monitor
    from gandiag.live.view import LiveView

ProgressFn = Callable[[int, int, Mapping[str, float]], None]

CHECKPOINT_FILE = "checkpoint/ckpt.npz"
#: config fields that may differ between a run and its resumption
_RESUMABLE_CHANGES = {"steps", "snapshot_every", "checkpoint_every", "tags"}


@dataclass(frozen=True)
class RunResult:
    """What :func:`train` produced."""

    out_dir: Path
    config: TrainConfig
    steps_done: int
    status: str  # "completed", "early_stopped" (a monitor confirmed a failure) or "stopped"
    wall_time_s: float
    resumed_from: int = 0
    early_stop: Any = None  # the MonitorState that stopped the run, when one did

    @property
    def history_path(self) -> Path:
        return self.out_dir / "history.csv"

    @property
    def samples_path(self) -> Path:
        return self.out_dir / "samples.npz"


def default_out_dir(cfg: TrainConfig) -> Path:
    return Path("runs") / f"{cfg.dataset}-{cfg.experiment}-s{cfg.seed}"


def train(config: TrainConfig, progress: ProgressFn | None = None, *, out: str | Path | None = None,
          resume: bool = False, plots: bool = True, checkpoints: bool = True,
          monitor: Monitor | None = None, view: LiveView | None = None) -> RunResult:
    """Train ``config`` and write the run folder (see docs/harness.md for its contract).

    Parameters
    ----------
    config : TrainConfig
        See :func:`gandiag.harness.make_config`.
    progress : callable, optional
        Called after every step as ``progress(step, total_steps, metrics)``.
    out : path, optional
        Run folder; default ``runs/<dataset>-<experiment>-s<seed>``.
    resume : bool
        Continue from the folder's last checkpoint (a fresh run if there is none).
    plots : bool
        Write ``plots/`` at the end.
    checkpoints : bool
        Write ``checkpoint/ckpt.npz`` (needed by ``resume``).
    monitor : gandiag.live.monitor.Monitor, optional
        Fed every row; when it confirms a failure the run ends early (status
        ``early_stopped``) after a last snapshot and checkpoint (docs/monitor.md).
    view : gandiag.live.view.LiveView, optional
        Fed every row and snapshot; keeps ``live.png`` / ``live.html`` up to date within its time budget.
    """
    validate(config)
    data = load_dataset(config.dataset, config.data)  # before TensorFlow: fast failure on bad data
    from gandiag.harness._tf import enable_determinism, require_tensorflow

    tf, keras = require_tensorflow()
    from gandiag.harness.models import build_models, default_batchnorm
    from gandiag.harness.step import GanStep, history_columns

    out_dir = Path(out) if out is not None else default_out_dir(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    latent_dim = config.latent_dim or data.default_latent_dim
    batchnorm = default_batchnorm(data.sample_shape) if config.batchnorm is None else config.batchnorm

    if config.deterministic:
        enable_determinism(tf)
    keras.utils.set_random_seed(config.seed)
    g, d = build_models(data.sample_shape, latent_dim, batchnorm=batchnorm, hidden=config.hidden,
                        g_width=config.g_width)
    step_fn = GanStep(g, d, config)
    columns = history_columns(config)
    ckpt_path = out_dir / CHECKPOINT_FILE

    rng = np.random.default_rng(config.seed)
    start, wall_before = 0, 0.0
    if resume and ckpt_path.exists():
        start, rng_state = _load_checkpoint(ckpt_path, step_fn, config)
        rng.bit_generator.state = rng_state
        wall_before = _previous_wall_time(out_dir)
        logger = RunLogger(out_dir, columns=columns, resume=True)
        logger.truncate_after(start)
        if monitor is not None:
            _replay(monitor, out_dir)
    else:
        for stale in ("history.csv", "samples.npz", CHECKPOINT_FILE):
            (out_dir / stale).unlink(missing_ok=True)
        logger = RunLogger(out_dir, columns=columns)
        logger.write_npz("real.npz", real=data.reference(1000, config.seed).astype(np.float16))
    if monitor is not None and monitor.real is None:  # snapshots are judged live against what real.npz holds
        monitor.real = data.reference(1000, config.seed).astype(np.float16).astype(np.float32)
    if view is not None and view.real is None:
        view.real = data.reference(1000, config.seed).astype(np.float16).astype(np.float32)

    meta = _meta(config, data, latent_dim, batchnorm, tf, keras)
    logger.write_json("meta.json", {**meta, "status": "running", "steps_done": start,
                                    "wall_time_s": wall_before})
    t0 = time.perf_counter()
    half = config.batch_size // 2
    per_epoch = max(1, len(data.x) // config.batch_size)
    snap_every = config.resolved_snapshot_every()
    ckpt_every = config.resolved_checkpoint_every()
    log_every = config.log_every
    step, done, status, early = start, start, "stopped", None
    try:
        for step in range(start + 1, config.steps + 1):
            batch = _draw_batch(rng, data, config, latent_dim, half)
            out_t = step_fn.train(*batch)
            done = step
            metrics = {k: float(v) for k, v in out_t.items()}
            row = {"epoch": (step - 1) // per_epoch + 1, **metrics}
            state = None
            if monitor is not None:  # the monitor sees every step, logged or not
                state = monitor.update(step, **metrics)
                early = state if state.confirmed else None
            if view is not None:
                view.row(step, **metrics)
            samples = None
            if step % snap_every == 0 or step == config.steps or early is not None:
                z = np.random.default_rng([config.seed, step, 99]).standard_normal(
                    (data.snapshot_size, latent_dim)).astype(np.float32)
                samples = np.asarray(step_fn.generate(z))
                if monitor is not None and early is None:  # judged as samples.npz will hold it (float16)
                    state = monitor.snapshot(step, samples.astype(np.float16).astype(np.float32))
                    early = state if state.confirmed else None
                if view is not None:
                    view.snapshot(step, samples)
            last = step == config.steps or early is not None
            if step % log_every == 0 or last:
                logger.log(step, **row)
            if progress is not None:
                progress(step, config.steps, row)
            if samples is not None:
                logger.snapshot(step, samples)
            if checkpoints and (step % ckpt_every == 0 or last):
                _save_checkpoint(ckpt_path, step, step_fn, rng, config)
            if view is not None:
                view.update(state)
            if early is not None:
                break
        status = "completed" if early is None else "early_stopped"
    finally:
        wall = wall_before + time.perf_counter() - t0
        extra = {} if early is None else {"early_stop": _early_stop_record(early, monitor)}
        logger.write_json("meta.json", {**meta, "status": status, "steps_done": done,
                                        "wall_time_s": round(wall, 3), **extra})
        logger.close()
        if view is not None:
            view.close(monitor.state if monitor is not None else None)
    if plots:
        write_plots(out_dir, title=f"{config.dataset} / {config.experiment} (seed {config.seed})")
    return RunResult(out_dir, config, step, status, wall, start, early)


def _early_stop_record(state: Any, monitor: Any) -> dict[str, Any]:
    """What meta.json says about an early stop: when, why, and the policy that allowed it."""
    return {"step": state.step, "verdict": state.verdict.value, "confidence": state.confidence,
            "onset_step": state.onset_step, "reason": state.reason, "active_rules": list(state.active),
            "policy": {"stop_on": sorted(v.value for v in monitor.stop_on), "min_steps": monitor.min_steps,
                       "min_fraction": monitor.min_fraction, "patience": monitor.patience,
                       "min_probability": monitor.min_probability, "snapshot_patience": monitor.snapshot_patience,
                       "every": monitor.every}, "decision_path": state.decision_path}


def _replay(monitor: Any, out_dir: Path) -> None:
    """Feed a resumed run's kept rows to the monitor, so its state covers the whole run."""
    from gandiag.ingest import read_run
    from gandiag.live.monitor import history_rows

    path = out_dir / "history.csv"
    if path.exists() and path.stat().st_size > 0 and len(path.read_text(encoding="utf-8").splitlines()) > 1:
        for step, metrics in history_rows(read_run(path)):
            monitor.update(step, **metrics)


def _draw_batch(rng: np.random.Generator, data: Dataset, cfg: TrainConfig, latent_dim: int,
                half: int) -> tuple[np.ndarray, ...]:
    k = cfg.d_steps
    idx = rng.integers(0, len(data.x), (k, half))
    x_real = data.x[idx]
    z_fake = rng.standard_normal((k, half, latent_dim)).astype(np.float32)
    z_gen = rng.standard_normal((cfg.batch_size, latent_dim)).astype(np.float32)
    y_real = np.full((k, half, 1), 1.0 - cfg.label_smoothing, np.float32)
    y_fake = np.zeros((k, half, 1), np.float32)
    if cfg.label_noise > 0:
        y_real[rng.random(y_real.shape) < cfg.label_noise] = 0.0
        y_fake[rng.random(y_fake.shape) < cfg.label_noise] = 1.0 - cfg.label_smoothing
    eps_shape = (k, half) + (1,) * (x_real.ndim - 2)
    if cfg.gradient_penalty > 0:  # drawn only when used: other runs keep their random stream
        eps = rng.uniform(0.0, 1.0, eps_shape).astype(np.float32)
    else:
        eps = np.zeros(eps_shape, np.float32)
    return x_real, z_fake, y_real, y_fake, z_gen, eps


def _meta(cfg: TrainConfig, data: Dataset, latent_dim: int, batchnorm: bool, tf: Any,
          keras: Any) -> dict[str, Any]:
    from gandiag import _version
    from gandiag.harness._tf import op_determinism_enabled
    from gandiag.harness.config import EXPECTED_BEHAVIOUR
    from gandiag.harness.step import history_columns

    combined = "d_loss" in history_columns(cfg)
    return {
        "format": "gandiag-run/1",
        "experiment": cfg.experiment,
        "expected_behaviour": EXPECTED_BEHAVIOUR.get(cfg.experiment),
        "dataset": cfg.dataset,
        "dataset_source": data.source,
        "n_train": int(len(data.x)),
        "sample_shape": list(data.sample_shape),
        "seed": cfg.seed,
        "steps": cfg.steps,
        "config": cfg.to_dict(),
        "latent_dim": latent_dim,
        "batchnorm": batchnorm,
        "loss": str(cfg.loss),
        "loss_family": LOSS_FAMILY[str(cfg.loss)],
        "d_update": "combined" if combined else "split",
        "d_loss_reduction": "mean",
        "log_every": cfg.log_every,
        "deterministic": cfg.deterministic,
        "op_determinism": op_determinism_enabled(tf),
        "snapshot_every": cfg.resolved_snapshot_every(),
        "snapshot_size": data.snapshot_size,
        "versions": {"gandiag": _version.__version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }


def _previous_wall_time(out_dir: Path) -> float:
    try:
        return float(json.loads((out_dir / "meta.json").read_text())["wall_time_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def _save_checkpoint(path: Path, step: int, step_fn: Any, rng: np.random.Generator,
                     cfg: TrainConfig) -> None:
    arrays = {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(step_fn.variables())}
    arrays["step"] = np.asarray(step)
    arrays["rng_state"] = np.asarray(json.dumps(rng.bit_generator.state))
    arrays["config"] = np.asarray(json.dumps(cfg.to_dict()))
    atomic_write_npz(path, arrays)


def _load_checkpoint(path: Path, step_fn: Any, cfg: TrainConfig) -> tuple[int, dict[str, Any]]:
    arrays = load_npz(path)
    saved = json.loads(str(arrays["config"]))
    now = cfg.to_dict()
    # a checkpoint from before a field existed ran with that field's default
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)
                if f.default is not dataclasses.MISSING}
    changed = sorted(k for k in now if k not in _RESUMABLE_CHANGES
                     and saved.get(k, defaults.get(k)) != now[k])
    if changed:
        raise UsageError(f"cannot resume with different options: {', '.join(changed)}",
                         where=str(path), hint="Use the options of the original run, or a new --out folder")
    variables = step_fn.variables()
    keys = sorted(k for k in arrays if k.startswith("v"))
    if len(keys) != len(variables):
        raise UsageError(f"checkpoint holds {len(keys)} variables, the models have {len(variables)}",
                         where=str(path))
    for key, var in zip(keys, variables):
        var.assign(arrays[key])
    return int(arrays["step"]), json.loads(str(arrays["rng_state"]))


def write_plots(out_dir: str | Path, *, title: str | None = None, n_grids: int = 3) -> list[Path]:
    """Write ``plots/history.png`` and sample grids (or scatters) at a few snapshots."""
    from gandiag.report import figures

    out_dir = Path(out_dir)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    written = [figures.plot_history(out_dir / "history.csv", plot_dir / "history.png", title=title)]
    samples = load_npz(out_dir / "samples.npz")
    real = load_npz(out_dir / "real.npz").get("real")
    keys = sorted(samples, key=lambda k: int(k.rsplit("_", 1)[1]))
    if not keys:
        return written
    picks = sorted({keys[round(i * (len(keys) - 1) / max(1, n_grids - 1))] for i in range(n_grids)},
                   key=keys.index)
    for key in picks:
        x = samples[key].astype(np.float32)
        label = f"{title + ' ' if title else ''}{key.replace('_', ' ')}"
        if x.ndim == 2:  # points; vectors are shown on the real data's first two principal axes, named on them
            ref = None if real is None else real.astype(np.float32)
            written.append(figures.plot_scatter(x, ref, plot_dir / f"{key}.png", title=label))
        else:
            written.append(figures.plot_sample_grid(x, plot_dir / f"{key}.png", title=label))
    return written
