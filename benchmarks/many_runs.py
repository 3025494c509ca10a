"""Many runs: `gandiag analyze DIR --jobs 1` against `--jobs 2` on 1,000 run folders, and where the time goes.

The run folders are copies of the recorded fixtures (history.csv and meta.json;
``--with-samples`` also copies samples.npz / real.npz, which makes each run
several times slower). Both settings run in this one invocation, as fresh
`gandiag analyze` processes, so the comparison is fair on a noisy machine.
The breakdown profiles a share of the runs in this process.

    python benchmarks/many_runs.py [--runs 1000] [--with-samples] [--profile-runs 100]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "runs"


def make_runs(dest: Path, n: int, with_samples: bool) -> list[Path]:
    """n run folders, cycling through the recorded fixtures, spread over sweep sub-folders."""
    fixtures = sorted(p for p in FIXTURES.iterdir() if (p / "history.csv").is_file())
    files = ("history.csv", "meta.json") + (("samples.npz", "real.npz") if with_samples else ())
    out = []
    for i in range(n):
        src = fixtures[i % len(fixtures)]
        folder = dest / f"sweep{i // 100:02d}" / f"{src.name}-{i:04d}"
        folder.mkdir(parents=True)
        for name in files:
            if (src / name).is_file():
                shutil.copy(src / name, folder / name)
        out.append(folder)
    return out


def time_cli(root: Path, jobs: int, extra: list[str]) -> tuple[float, str]:
    """Wall time of one `gandiag analyze` process, and the summary line it printed."""
    cmd = [sys.executable, "-c", "from gandiag.cli import main; main()", "analyze", str(root), "--jobs", str(jobs), "--exit-zero", *extra]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"gandiag analyze failed ({done.returncode}): {done.stderr[-500:]}")
    summary = next((ln for ln in done.stdout.splitlines() if " runs: " in ln), "?")
    return wall, summary


def _cumulative(stats: pstats.Stats, func: str, file_part: str) -> float:
    return sum(v[3] for (file, _, name), v in stats.stats.items() if name == func and file_part in file)


def breakdown(runs: list[Path], extra: list[str]) -> dict[str, float]:
    """Seconds per stage over ``runs``, profiled in this process with --jobs 1's code path."""
    from gandiag.engine.loader import load_rules
    from gandiag.report import json as json_report
    from gandiag.report import text as text_report
    from gandiag.report.summary import ReportRun
    from gandiag.workflows.batch import analyze_many, find_targets

    options = {"no_samples": "--no-samples" in extra}
    profiler = cProfile.Profile()
    profiler.enable()
    t0 = time.perf_counter()
    targets, _ = find_targets([str(p) for p in runs])
    t1 = time.perf_counter()
    results = analyze_many(targets, rules=load_rules(), options=options, jobs=1)
    t2 = time.perf_counter()
    report_runs = [ReportRun(r.diagnosis, r.target.key) for r in results if r.diagnosis]
    text_report.render(report_runs)
    json_report.render(report_runs, rules_digest="-", options={})
    t3 = time.perf_counter()
    profiler.disable()
    stats = pstats.Stats(profiler)
    reading = _cumulative(stats, "read_run", "gandiag/ingest/__init__.py")
    samples = _cumulative(stats, "snapshot_table", "gandiag/samples/evidence.py")
    signals = _cumulative(stats, "_compute", "gandiag/engine/evaluate.py")
    rules = _cumulative(stats, "evaluate_rule", "gandiag/engine/evaluate.py") - signals
    analysis = t2 - t1
    return {"finding runs": t1 - t0, "reading histories": reading, "sample diversity": samples,
            "loss signals": signals, "rules (excluding signals)": rules,
            "verdict, loss family, rest": analysis - reading - samples - signals - rules,
            "rendering text + json": t3 - t2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--with-samples", action="store_true", help="also copy samples.npz / real.npz")
    parser.add_argument("--profile-runs", type=int, default=100, help="runs profiled for the breakdown")
    args = parser.parse_args()
    extra = [] if args.with_samples else ["--no-samples"]
    with tempfile.TemporaryDirectory(prefix="gandiag-many-") as tmp:
        root = Path(tmp) / "runs"
        t = time.perf_counter()
        runs = make_runs(root, args.runs, args.with_samples)
        print(f"{len(runs)} run folders ({'with' if args.with_samples else 'without'} samples) "
              f"made in {time.perf_counter() - t:.1f} s under {root}")
        wall = {}
        for jobs in (1, 2):
            wall[jobs], summary = time_cli(root, jobs, extra)
            print(f"--jobs {jobs}: {wall[jobs]:7.1f} s wall  ({wall[jobs] / len(runs) * 1000:.1f} ms per run)  {summary}")
        print(f"speed-up --jobs 2 over --jobs 1: {wall[1] / wall[2]:.2f}x")
        share = runs[: args.profile_runs]
        parts = breakdown(share, extra)
        total = sum(parts.values())
        print(f"\nwhere the time goes (--jobs 1 code path, {len(share)} runs profiled in-process, {total:.2f} s):")
        for name, seconds in parts.items():
            print(f"  {name:<28} {seconds:7.2f} s  {seconds / total:6.1%}  ({seconds / len(share) * 1000:.1f} ms per run)")


if __name__ == "__main__":
    main()
