"""Logging recorded CSV runs into an MLflow tracking store, for the MLflow tests and benchmark."""

from __future__ import annotations

import csv
import gzip
import math
import time
from pathlib import Path

#: metrics per log_batch call (MLflow's limit is 1000)
BATCH = 1000


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def log_csv_run(client, experiment_id: str, history: Path, run_name: str) -> str:
    """Log every metric column of a history CSV as MLflow metric histories (the 'step' column as the step)."""
    from mlflow.entities import Metric

    header, rows = read_csv_rows(history)
    step_col = header.index("step")
    run = client.create_run(experiment_id, run_name=run_name)
    now = int(time.time() * 1000)
    metrics = []
    for i, row in enumerate(rows):
        step = int(float(row[step_col]))
        for name, cell in zip(header, row):
            if name == "step" or cell.strip() == "":
                continue
            value = float(cell)
            metrics.append(Metric(name, value if not math.isnan(value) else float("nan"), now + i, step))
    for start in range(0, len(metrics), BATCH):
        client.log_batch(run.info.run_id, metrics=metrics[start:start + BATCH])
    client.set_terminated(run.info.run_id)
    return run.info.run_id
