"""Many runs at once: find every history under the given paths and analyze them, in parallel if asked.

A sweep is hundreds of independent runs, so the work is embarrassingly
parallel. Rather than a home-made pool, the runs go through joblib: its
default (loky) backend uses the cores of this machine, and its Dask backend
sends the same calls to an existing ``dask.distributed`` cluster
(``--scheduler``). joblib and Dask are imported only when asked for, so a
plain ``gandiag analyze run.csv`` stays light.

One unreadable run never stops the others: each run is read and analysed
inside :func:`gandiag.infra.guard.one_run`, so whatever goes wrong becomes a
one-line message in its :class:`RunResult`. A
:class:`~gandiag.errors.UsageError` (a bad option, the same for every run) is
kept too, marked ``fatal``, and the CLI stops on it. ``--jobs`` never starts
more workers than there are runs or cores.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gandiag.errors import GandiagError, MissingExtraError, UsageError
from gandiag.infra.guard import one_run
from gandiag.verdict.diagnosis import Diagnosis

#: meta.json keys that name a run independently of where its folder lies
RUN_ID_KEYS = ("run_id", "id")
#: how long to wait for a scheduler before saying it cannot be reached
DASK_CONNECT_TIMEOUT = "10s"


@dataclass(frozen=True)
class RunTarget:
    """One history to analyze, with the names a baseline can match it by."""

    path: Path  # the history file or TensorBoard folder (``-`` for stdin)
    key: str  # path relative to the analyzed root, POSIX separators
    run_id: str | None = None  # from meta.json beside the history, if it names one
    mlflow: Any = None  # an ingest.mlflow_store.MlflowRun when the run lives in an MLflow tracking store


@dataclass(frozen=True)
class RunResult:
    """What analyzing one target gave: a diagnosis, or a one-line error."""

    target: RunTarget
    diagnosis: Diagnosis | None
    error: str | None = None
    fatal: bool = False  # a usage error: the same options would fail every run
    seconds: float = 0.0


def _relative_key(target: Path, root: Path) -> str:
    """The target's path below the root the user named; the root itself is '.'."""
    try:
        rel = target.relative_to(root)
    except ValueError:
        return target.as_posix()
    return rel.as_posix() if rel.parts else "."


def _root_of(given: Path, target: Path) -> Path:
    """What a run's key is relative to: the folder of runs the user named, else the run folder's parent.

    ``runs/`` gives ``a/history.csv``; naming the run folder ``runs/a`` or the
    file ``runs/a/history.csv`` gives the same key, so a pre-commit hook (which
    passes files) and a sweep (which passes the folder) match one baseline.
    """
    run_folder = target if target.is_dir() else target.parent
    if given.is_dir() and run_folder != given:
        return given
    return run_folder.parent


def read_run_id(history: Path) -> str | None:
    """The run id recorded in ``meta.json`` beside a history, so a moved folder still matches its baseline."""
    from gandiag.infra.files import check_input_path

    folder = history if history.is_dir() else history.parent
    meta = folder / "meta.json"
    try:
        if not meta.is_file() or check_input_path(meta).st_size > 1 << 20:
            return None
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (GandiagError, OSError, ValueError, RecursionError):
        return None  # a broken meta.json must not stop the analysis; the path still matches
    if not isinstance(doc, Mapping):
        return None
    for key in RUN_ID_KEYS:
        value = doc.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def find_targets(paths: Sequence[str], *, tracking_uri: str | None = None
                 ) -> tuple[list[RunTarget], list[tuple[str, str]]]:
    """Every history under ``paths`` (recursively), and the paths that hold none.

    ``mlflow:runs/ID`` and ``mlflow:experiments/NAME`` name runs of the MLflow
    tracking store at ``tracking_uri`` (default ``MLFLOW_TRACKING_URI``).
    Returns the targets in the order found and ``(path, one-line message)``
    for each path that could not be searched.
    """
    from gandiag.ingest import discover_runs

    targets: list[RunTarget] = []
    errors: list[tuple[str, str]] = []
    for path in paths:
        if str(path).startswith("mlflow:"):
            from gandiag.integrations import mlflow_store

            try:
                with one_run(str(path)):
                    runs = mlflow_store.expand(str(path), tracking_uri)
            except UsageError:
                raise
            except GandiagError as exc:
                errors.append((str(path), exc.one_line()))
                continue
            targets.extend(RunTarget(Path(r.source), r.key, r.run_id, mlflow=r) for r in runs)
            continue
        try:
            with one_run(str(path)):
                found = discover_runs(path)
        except GandiagError as exc:
            errors.append((path, exc.one_line()))
            continue
        if str(path) == "-":
            targets.append(RunTarget(Path("-"), "-"))
            continue
        given = Path(path)
        for target in found:
            targets.append(RunTarget(target, _relative_key(target, _root_of(given, target)), read_run_id(target)))
    return targets, errors


def analyze_target(target: RunTarget, rules: Mapping[str, Any], options: Mapping[str, Any]) -> RunResult:
    """Analyze one target, turning every failure into a result (runs in a worker process)."""
    start = time.perf_counter()
    try:
        with one_run(str(target.path)):
            from gandiag.api import analyze

            if target.mlflow is not None:
                from gandiag.integrations.mlflow_store import read_history

                history = read_history(target.mlflow, columns=options.get("columns"),
                                       d_loss_reduction=options.get("d_loss_reduction"))
                skip = ("columns", "d_loss_reduction", "input_format", "samples", "real", "no_samples", "grid")
                diagnosis = analyze(history, rules=rules, **{k: v for k, v in options.items() if k not in skip})
            else:
                diagnosis = analyze("-" if str(target.path) == "-" else target.path, rules=rules, **options)
    except UsageError as exc:
        return RunResult(target, None, exc.one_line(), fatal=True, seconds=time.perf_counter() - start)
    except GandiagError as exc:
        return RunResult(target, None, exc.one_line(), seconds=time.perf_counter() - start)
    return RunResult(target, diagnosis, seconds=time.perf_counter() - start)


def analyze_many(targets: Sequence[RunTarget], *, rules: Mapping[str, Any], options: Mapping[str, Any],
                 jobs: int = 1, scheduler: str | None = None) -> list[RunResult]:
    """Analyze ``targets`` and return one result per target, in the same order.

    Parameters
    ----------
    jobs : int
        Worker processes on this machine (joblib's loky backend); 1 runs in
        this process, -1 uses every core. With ``scheduler`` it caps how many
        runs are in flight on the cluster (-1: as many as it has workers).
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786``). Its workers must see the same paths.
    """
    if jobs == 0 or jobs < -1:
        raise UsageError(f"--jobs must be a positive number or -1 (all cores), got {jobs}")
    if scheduler is None:
        jobs = local_workers(jobs, len(targets))
    if scheduler is None and jobs == 1:
        return [analyze_target(t, rules, options) for t in targets]
    joblib = _joblib()
    calls = (joblib.delayed(analyze_target)(t, rules, options) for t in targets)
    if scheduler is None:
        return list(joblib.Parallel(n_jobs=jobs)(calls))
    client = connect_dask(scheduler)
    try:
        with joblib.parallel_config(backend="dask"):
            return list(joblib.Parallel(n_jobs=jobs if jobs != 1 else -1)(calls))
    finally:
        client.close()


def local_workers(jobs: int, n_targets: int) -> int:
    """Worker processes worth starting here: never more than the runs, nor than the cores (``-1``: all cores)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    wanted = cores if jobs == -1 else jobs
    return max(1, min(wanted, cores, n_targets))


def _joblib() -> Any:
    try:
        import joblib
    except ImportError as exc:
        raise MissingExtraError("joblib is not installed", hint="pip install joblib, or run with --jobs 1") from exc
    return joblib


def connect_dask(address: str) -> Any:
    """A client of the ``dask.distributed`` scheduler at ``address`` (the Dask backend needs one to exist)."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise MissingExtraError("dask.distributed is not installed", hint="pip install 'gandiag[dask]'") from exc
    try:
        return Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=True)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address} ({type(exc).__name__})",
                         hint="Start one with `dask scheduler` or give its tcp://HOST:PORT address") from None
