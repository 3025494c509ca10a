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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """A real ``mlflow server`` (SQLite backend, proxied artifacts) on a free port, in its own process group.

    MLflow 3 also starts a job runner with several worker processes; the
    server runs without it (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``) and
    :meth:`stop` ends the whole process group.
    """

    def __init__(self, folder: Path, startup_timeout: float = 240.0):
        import os
        import subprocess
        import sys

        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "server.log"
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        mlflow_bin = Path(sys.executable).parent / "mlflow"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(mlflow_bin), "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
                 "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", "1"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            self._wait(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait(self, timeout: float) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited ({self.proc.returncode}): "
                                   + self.log_path.read_text(errors="replace")[-2000:])
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"mlflow server did not answer within {timeout:.0f} s: "
                           + self.log_path.read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        import os
        import signal
        import subprocess

        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=15)
