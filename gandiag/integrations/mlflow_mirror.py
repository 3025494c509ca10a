"""Mirror rows logged by :class:`gandiag.live.runlog.RunLogger` to the active MLflow run (opt-in: ``mlflow=True``).

The history CSV stays the record gandiag reads; the mirror sends each row's
metrics to the MLflow run that was active when the logger was created, with
the row's step, so ``gandiag analyze mlflow:runs/RUN_ID`` reads the same
history as ``gandiag analyze history.csv``. A failure to reach the tracking
store does not stop training: it is warned about once (and again after the
store comes back and fails anew), and the CSV keeps every row.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from typing import Any

from gandiag.errors import MissingExtraError, UsageError


class MlflowMirror:
    """Sends ``(step, metrics)`` rows to the MLflow run active at creation."""

    def __init__(self) -> None:
        try:
            import mlflow
            from mlflow.entities import Metric
        except ImportError as exc:
            raise MissingExtraError("mlflow=True mirrors rows to MLflow, which is not installed",
                                    hint="pip install 'gandiag[mlflow]'") from exc
        run = mlflow.active_run()
        if run is None:
            raise UsageError("mlflow=True mirrors rows to the active MLflow run, and there is none",
                             hint="Call mlflow.start_run() before creating the logger, or leave mlflow=False")
        self.run_id = run.info.run_id
        self._client = mlflow.MlflowClient()
        self._metric = Metric
        self._failing = False

    def log(self, step: int, metrics: Mapping[str, Any]) -> None:
        now = int(time.time() * 1000)
        batch = []
        for name, value in metrics.items():
            if value is None or isinstance(value, (str, bytes)):
                continue
            try:
                v = float(value)
            except (TypeError, ValueError):
                continue
            except OverflowError:
                v = math.inf
            batch.append(self._metric(str(name), v, now, int(step)))
        if not batch:
            return
        try:
            self._client.log_batch(self.run_id, metrics=batch)
        except Exception as exc:  # noqa: BLE001 - a tracking store that fails must not stop training
            if not self._failing:
                warnings.warn(f"gandiag: could not mirror step {step} to MLflow run {self.run_id} "
                              f"({type(exc).__name__}); history.csv keeps every row", RuntimeWarning, stacklevel=3)
            self._failing = True
            return
        self._failing = False
