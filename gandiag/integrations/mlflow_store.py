"""MLflow tracking stores as an input: ``mlflow:runs/RUN_ID`` and ``mlflow:experiments/NAME``.

Runs are read through MLflow's own client (``mlflow.MlflowClient``), so every
store it knows works the same way: a local file store (``./mlruns``,
``file:///...``), a ``sqlite:///`` (or other SQL) database, and a tracking
server (``http://host:5000``). The tracking URI comes from ``--tracking-uri``,
else ``MLFLOW_TRACKING_URI``.

Each metric's full history is read with its steps; the metric keys go through
the same alias table as CSV column names (``d_loss``, ``loss/D``,
``train/g_loss_step`` ...), and ``--column ROLE=KEY`` maps any other key.
Only keys that name a role (or a ``--column`` override) are fetched. Steps
logged from 0 are shifted to 1-based as in the other readers; a metric logged
without steps (MLflow records them all at step 0) is numbered in the order it
was logged. A SQL store keeps an infinite value as the largest float, which is
read back as infinite.

MLflow is imported only here, and only when an ``mlflow:`` input is given:
``import gandiag`` and ``gandiag analyze file.csv`` never load it. Network
calls use short timeouts and no retries unless the user set MLflow's own
variables (:data:`CLIENT_DEFAULTS`), so an unreachable server is one error
line within seconds, not minutes of back-off. Reading never creates a store:
a file store or SQLite database that does not exist is an error (MLflow's
client would create an empty one).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from gandiag.errors import InputError, MissingExtraError, UsageError
from gandiag.history.model import RawTable, Reduction, RunHistory, build_history

FORMAT = "mlflow"
PREFIX = "mlflow:"
INSTALL_HINT = "pip install 'gandiag[mlflow]'"

#: MLflow's HTTP client settings used unless the environment sets them: an unreachable server fails in seconds.
CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}
#: a SQL store writes +-inf as +-the largest double
_SQL_INF = 1.7976931348623157e308
#: runs fetched per page of an experiment
PAGE_SIZE = 1000


@dataclass(frozen=True)
class MlflowRun:
    """One run of a tracking store to analyze."""

    run_id: str
    tracking_uri: str
    key: str  # the name a report shows: EXPERIMENT/RUN_NAME for an experiment's runs, runs/RUN_ID otherwise

    @property
    def source(self) -> str:
        return f"{PREFIX}runs/{self.run_id}"


def is_mlflow_input(path: object) -> bool:
    return str(path).startswith(PREFIX)


def display_uri(uri: str) -> str:
    """The URI without a user name or password (they must not reach a log or a report)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve_tracking_uri(given: str | None) -> str:
    uri = given or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise UsageError("no MLflow tracking URI",
                         hint="Set MLFLOW_TRACKING_URI or pass --tracking-uri (http://HOST:5000, sqlite:///mlflow.db, ./mlruns)")
    return uri


def _local_store_path(uri: str) -> tuple[str, str] | None:
    """``(kind, path)`` for a store on this machine (a file store or a SQLite file), else None."""
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        return ("sqlite", "/" + path.lstrip("/") if uri.startswith("sqlite:////") else path)
    scheme = urlsplit(uri).scheme
    if scheme == "file":
        return ("file", urlsplit(uri).path)
    if scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        return ("file", uri)
    return None


def _check_local_store(uri: str) -> None:
    """A local store must exist and be readable: MLflow's client would create an empty one, or fail deep inside."""
    local = _local_store_path(uri)
    if local is None:
        return
    kind, path = local
    where = display_uri(uri)
    if path in ("", ":memory:"):
        raise UsageError("an in-memory store holds no runs", where=where, hint="Give the store's file path")
    if not os.path.exists(path):
        raise InputError(f"no MLflow {'database' if kind == 'sqlite' else 'store'} at this path", where=where,
                         hint="Check --tracking-uri / MLFLOW_TRACKING_URI")
    if kind == "sqlite" and not os.path.isfile(path) or kind == "file" and not os.path.isdir(path):
        raise InputError(f"not an MLflow {'database file' if kind == 'sqlite' else 'store folder'}", where=where,
                         hint="A file store is a folder (./mlruns); a SQLite store is a file (sqlite:///mlflow.db)")
    if not os.access(path, os.R_OK | (os.X_OK if kind == "file" else 0)):
        raise InputError("permission denied reading the MLflow store", where=where,
                         hint="Run as a user who can read it, or fix its permissions")


@lru_cache(maxsize=8)
def client(uri: str):
    """An ``MlflowClient`` for ``uri`` with gandiag's client defaults (one per URI and process)."""
    for name, value in CLIENT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    local = _local_store_path(uri)
    if local is not None and local[0] == "file":
        # MLflow 3 refuses file stores unless asked: gandiag only reads what people already have
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        from mlflow import MlflowClient
    except ImportError as exc:
        raise MissingExtraError("reading MLflow runs needs MLflow, which is not installed",
                                hint=INSTALL_HINT) from exc
    _check_local_store(uri)
    try:
        return MlflowClient(tracking_uri=uri)
    except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds for a bad URI
        raise store_error(exc, uri, None) from None


def store_error(exc: BaseException, uri: str, run: str | None) -> InputError:
    """One line for an MLflow failure: the store or run, what went wrong, what to do."""
    where = run or display_uri(uri)
    code = str(getattr(exc, "error_code", "") or "")
    text = " ".join(str(exc).split())
    if code == "RESOURCE_DOES_NOT_EXIST" or "not found" in text.lower() and run is not None:
        return InputError(f"no such run in the tracking store {display_uri(uri)}", where=where,
                          hint="Check the run id and MLFLOW_TRACKING_URI / --tracking-uri")
    if code == "PERMISSION_DENIED" or isinstance(exc, PermissionError) or "permission denied" in text.lower():
        return InputError(f"permission denied by the tracking store {display_uri(uri)}", where=where,
                          hint="Check your MLflow credentials (MLFLOW_TRACKING_TOKEN / USERNAME) or the store's permissions")
    if _unreachable(exc, text):
        return InputError(f"cannot reach the tracking server {display_uri(uri)}", where=where,
                          hint="Check that the server runs and the URI (MLFLOW_TRACKING_URI / --tracking-uri) is right")
    first = re.sub(r"https?://\S+", "", text)[:160] or type(exc).__name__
    return InputError(f"MLflow could not read the tracking store {display_uri(uri)} ({first})", where=where,
                      hint="Check MLFLOW_TRACKING_URI / --tracking-uri")


def _unreachable(exc: BaseException, text: str) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & {"ConnectionError", "MaxRetryError", "NewConnectionError", "ConnectTimeout", "ReadTimeout",
                         "Timeout", "ConnectionRefusedError", "NameResolutionError"}) or any(
        w in text for w in ("Max retries exceeded", "Connection refused", "Failed to establish", "timed out"))


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def parse_input(text: str) -> tuple[str, str]:
    """``mlflow:runs/ID`` -> ``('runs', ID)``; ``mlflow:experiments/NAME`` -> ``('experiments', NAME)``."""
    rest = text[len(PREFIX):]
    kind, sep, name = rest.partition("/")
    if kind not in ("runs", "experiments") or not sep or not name:
        raise UsageError(f"'{text}' is not an MLflow input",
                         hint="Use mlflow:runs/RUN_ID or mlflow:experiments/NAME")
    return kind, name


def expand(text: str, tracking_uri: str | None) -> list[MlflowRun]:
    """The runs an ``mlflow:`` input names: one run, or every active run of an experiment (oldest first)."""
    kind, name = parse_input(text)
    uri = resolve_tracking_uri(tracking_uri)
    c = client(uri)
    if kind == "runs":
        return [MlflowRun(name, uri, f"runs/{name}")]
    try:
        experiment = c.get_experiment_by_name(name)
    except Exception as exc:  # noqa: BLE001
        raise store_error(exc, uri, None) from None
    if experiment is None:
        raise InputError(f"no experiment named '{name}' in the tracking store {display_uri(uri)}", where=text,
                         hint="Check the name (mlflow experiments search) and MLFLOW_TRACKING_URI / --tracking-uri")
    runs, token = [], None
    try:
        while True:
            page = c.search_runs([experiment.experiment_id], max_results=PAGE_SIZE, page_token=token,
                                 order_by=["attributes.start_time ASC"])
            runs.extend(page)
            token = page.token
            if not token:
                break
    except Exception as exc:  # noqa: BLE001
        raise store_error(exc, uri, None) from None
    if not runs:
        raise InputError(f"experiment '{name}' has no runs", where=text, hint="Log a run to it first")
    names = [r.info.run_name or r.info.run_id for r in runs]
    unique = len(set(names)) == len(names)
    return [MlflowRun(r.info.run_id, uri, f"{name}/{n if unique else r.info.run_id}") for r, n in zip(runs, names)]


def _wanted(keys, overrides: Mapping[str, str] | None) -> list[str]:
    """The metric keys that name a role (directly, shortened, or through ``--column``)."""
    from gandiag.history.roles import INDEX_ROLES, resolve_role
    from gandiag.ingest.labels import shorten

    given = set((overrides or {}).values())
    # index keys (epoch, batch, a logged "step") are not fetched: MLflow's own step is the step
    return [k for k in keys if k in given or (role := resolve_role(shorten(k) or k)) is not None
            and role not in INDEX_ROLES]


def read_raw(run: MlflowRun, overrides: Mapping[str, str] | None = None) -> RawTable:
    """Every role-naming metric of a run, with its steps, as a :class:`RawTable`."""
    c = client(run.tracking_uri)
    try:
        info = c.get_run(run.run_id)
    except Exception as exc:  # noqa: BLE001
        raise store_error(exc, run.tracking_uri, run.source) from None
    keys = sorted(info.data.metrics)
    wanted = _wanted(keys, overrides)
    if not wanted:
        found = ", ".join(keys[:12]) or "none"
        raise InputError(f"the run has no GAN metric (found: {found})", where=run.source,
                         hint="Log d_loss / g_loss (or d_loss_real, d_loss_fake), or map a key with --column g_loss=KEY")
    histories = {}
    try:
        for key in wanted:
            histories[key] = c.get_metric_history(run.run_id, key)
    except Exception as exc:  # noqa: BLE001
        raise store_error(exc, run.tracking_uri, run.source) from None
    return _table(histories, run, info.info.experiment_id, set((overrides or {}).values()))


def _table(histories: Mapping[str, list], run: MlflowRun, experiment_id: str, keep: set[str]) -> RawTable:
    """Metric histories -> aligned columns on the union of their steps (last logged value wins per step)."""
    from gandiag.ingest.labels import shorten

    per_key: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    unordered = []
    for key, metrics in histories.items():
        ordered = sorted(metrics, key=lambda m: (m.step, m.timestamp))
        steps = np.array([m.step for m in ordered], dtype=float)
        values = np.array([_value(m.value) for m in ordered], dtype=float)
        if steps.size > 1 and np.all(steps == steps[0]):
            # logged without a step: MLflow puts every value at step 0; number them in logging order
            ordered = sorted(metrics, key=lambda m: m.timestamp)
            values = np.array([_value(m.value) for m in ordered], dtype=float)
            steps = np.arange(values.size, dtype=float)
            unordered.append(key)
        per_key[key] = (steps, values)
    all_steps = np.unique(np.concatenate([s for s, _ in per_key.values()])) if per_key else np.array([])
    notes: dict[str, object] = {"run_id": run.run_id, "experiment_id": experiment_id,
                                "tracking_uri": display_uri(run.tracking_uri)}
    rule = "step = MLflow metric step"
    if all_steps.size and all_steps.min() == 0:
        rule += " + 1 (logged from 0)"
    notes["step_rule"] = rule
    if unordered:
        notes["logged_without_step"] = unordered
    columns: dict[str, np.ndarray] = {"step": all_steps + (1.0 if all_steps.size and all_steps.min() == 0 else 0.0)}
    nonfinite: dict[str, np.ndarray] = {}
    original = {}
    for key, (steps, values) in per_key.items():
        name = key if key in keep else (shorten(key) or key)  # a --column override names the key as logged
        if name in columns or name == "step":
            name = key if key not in columns and key != "step" else f"metric:{key}"
        if name != key:
            original[name] = key
        col = np.full(all_steps.size, np.nan)
        at = np.searchsorted(all_steps, steps)
        col[at] = values  # sorted by (step, time): the last value logged at a step wins
        columns[name] = col
        nonfinite[name] = np.zeros(all_steps.size, dtype=bool)
        nonfinite[name][at] = ~np.isfinite(values)
    if original:
        notes["original_names"] = original
    notes["records"] = int(all_steps.size)
    return RawTable(columns=columns, source=run.source, input_format=FORMAT, nonfinite=nonfinite,
                    default_reduction=Reduction.MEAN, notes=notes)


def _value(v: float) -> float:
    v = float(v)
    if math.isfinite(v) and abs(v) >= _SQL_INF:
        return math.copysign(math.inf, v)
    return v


def read_history(run: MlflowRun, *, columns: Mapping[str, str] | None = None,
                 d_loss_reduction: Reduction | str | None = None) -> RunHistory:
    """An MLflow run as a :class:`~gandiag.history.RunHistory`."""
    raw = read_raw(run, columns)
    return build_history(raw, overrides=columns, d_loss_reduction=d_loss_reduction)
