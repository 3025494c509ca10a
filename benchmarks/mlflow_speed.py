"""MLflow against CSV: the same 100 corpus runs analyzed from a tracking server and from their CSV files.

Logs 100 runs of the recorded corpus (every fourth run, so short and long ones:
60 to 10,000 logged rows, 890,000 values) to a SQLite tracking database, starts a
real ``mlflow server`` on it (free port), then times, side by side and each as a
fresh `gandiag analyze` process with the same ``--jobs``:

- ``gandiag analyze RUN/history.csv.gz ... --no-samples`` (the 100 files)
- ``gandiag analyze mlflow:experiments/bench100 --tracking-uri http://...`` (the server)
- ``gandiag analyze mlflow:experiments/bench100 --tracking-uri sqlite:///...`` (the same database, no server)

and prints the times, the ratios to CSV (the target is at most 2x) and how many
runs got the same verdict, confidence, onset and steps as from CSV. Logging is
not timed. Needs the mlflow extra.

    python benchmarks/mlflow_speed.py [--runs 100] [--jobs 2] [--repeat 2] [--store DIR]

``--store DIR`` keeps the logged database in DIR and reuses it on the next call
(logging 100 runs takes about 6 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "fixtures" / "corpus" / "runs"


def pick_runs(n: int) -> list[Path]:
    runs = sorted(p for p in CORPUS.iterdir() if (p / "history.csv.gz").is_file())
    step = max(1, len(runs) // n)
    return runs[::step][:n]


def time_cli(args: list[str]) -> tuple[float, dict]:
    cmd = [sys.executable, "-c", "from gandiag.cli import main; main()", "analyze", *args, "-f", "json", "--exit-zero"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"gandiag exited {done.returncode}: {done.stderr[-1000:]}")
    return wall, json.loads(done.stdout)


def outcomes(doc: dict, by_folder: bool) -> dict[str, tuple]:
    out = {}
    for r in doc["runs"]:
        name = Path(r["source"]).parent.name if by_folder else r["key"].split("/", 1)[1]
        out[name] = (r["verdict"], r["confidence"], r["onset_step"], r["n_steps"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="timings per side; the fastest is reported")
    parser.add_argument("--store", type=Path, help="keep the logged SQLite store here and reuse it")
    args = parser.parse_args()

    from mlflow import MlflowClient

    from tests.mlflow_support import MlflowServer, log_csv_run

    runs = pick_runs(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store or Path(tmp) / "server"
        folder.mkdir(parents=True, exist_ok=True)
        sqlite_uri = f"sqlite:///{folder.resolve() / 'mlflow.db'}"
        points = 0
        for run in runs:
            with gzip.open(run / "history.csv.gz", "rt") as fh:
                points += fh.readline().count(",") * sum(1 for _ in fh)
        if not (folder / "logged").exists():
            print(f"logging {len(runs)} runs to {sqlite_uri} ...", flush=True)
            client = MlflowClient(sqlite_uri)
            exp = client.create_experiment("bench100", artifact_location=(folder / "artifacts").as_uri())
            start = time.perf_counter()
            for run in runs:
                log_csv_run(client, exp, run / "history.csv.gz", run.name)
            (folder / "logged").touch()
            print(f"logged {len(runs)} runs ({points:,} metric values) in {time.perf_counter() - start:.0f} s", flush=True)
        server = MlflowServer(folder)
        try:
            jobs = ["--jobs", str(args.jobs)]
            sides = {
                "CSV files": [str(r / "history.csv.gz") for r in runs] + ["--no-samples", *jobs],
                "MLflow server": ["mlflow:experiments/bench100", "--tracking-uri", server.uri, *jobs],
                "MLflow SQLite": ["mlflow:experiments/bench100", "--tracking-uri", sqlite_uri, *jobs],
            }
            times: dict[str, list[float]] = {k: [] for k in sides}
            docs = {}
            for _ in range(args.repeat):  # interleaved, so every side sees the same machine load
                for name, cli_args in sides.items():
                    t, docs[name] = time_cli(cli_args)
                    times[name].append(t)
        finally:
            server.stop()

    reference = outcomes(docs["CSV files"], True)
    base = min(times["CSV files"])
    print(f"\n{len(runs)} runs ({points:,} values), --jobs {args.jobs}, fastest of {args.repeat} (fresh processes)")
    for name, ts in times.items():
        line = f"  {name:<14} {min(ts):7.1f} s  {min(ts) / base:6.2f}x CSV   (all: {', '.join(f'{t:.1f}' for t in ts)})"
        if name != "CSV files":
            got = outcomes(docs[name], False)
            line += f"; same verdict, confidence, onset, steps: {sum(got.get(k) == v for k, v in reference.items())}/{len(reference)}"
        print(line)
    print("  target: MLflow at most 2x CSV")


if __name__ == "__main__":
    main()
