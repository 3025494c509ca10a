"""`gandiag report` speed: one run with 20 snapshots (target <= 5 s), and 100 corpus runs with --jobs 2.

The 20-snapshot run is trained once by the harness (ring8, stable, 2,000 steps, a
snapshot every 100 steps; cached in .bench/report_speed/) so its snapshots are
a real generator's. Each `gandiag report` is a fresh process, timed from start
to exit (the cold start, reading, analysis and every figure and page); the
in-process breakdown then times the analysis and each figure of that run.
The 100 runs are every fourth-or-so run of the corpus (all 15 families, with
their samples), copied to a temporary folder and reported with ``--jobs 2``
(and ``--jobs 1`` beside it with ``--both``).

    python benchmarks/report_speed.py [--repeat 3] [--runs 100] [--both] [--skip-many]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
CACHE = ROOT / ".bench" / "report_speed"
CORPUS = ROOT / "fixtures" / "corpus" / "runs"


def twenty_snapshot_run() -> Path:
    """A harness run of ring8 with 20 snapshots (trained once, then cached)."""
    run = CACHE / "ring8-stable-20snapshots"
    if (run / "samples.npz").is_file() and (run / "meta.json").is_file():
        return run
    from gandiag.harness import make_config, train

    cfg = make_config("stable", "ring8", steps=2000, seed=0, snapshot_every=100)
    train(cfg, out=run, plots=False, checkpoints=False)
    return run


def timed_report(paths: list[Path], out: Path, jobs: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "gandiag", "report", *map(str, paths), "--out", str(out), "--jobs", str(jobs)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"gandiag report failed ({done.returncode}): {done.stderr[-800:]}")
    return wall


def breakdown(run: Path, out: Path) -> list[tuple[str, float]]:
    """Seconds of the analysis and of each figure of ``run``, in this process (imports already paid)."""
    import gandiag
    from gandiag.engine.loader import load_rules
    from gandiag.report import animation, evolution, figures, plots

    rules = load_rules()
    gandiag.analyze(run)  # warm: imports, rule loading
    t0 = time.perf_counter()
    d = gandiag.analyze(run)
    parts = [("analysis (read, 20 snapshots measured, rules)", time.perf_counter() - t0)]
    snaps, real = plots.read_samples(d)
    steps = [
        ("history figure", lambda: figures.plot_history(plots._read_history(d, plots._history_source(d)),
                                                        out / "h.png", spans=plots.rule_spans(d),
                                                        onset_step=d.onset_step)),
        ("what the sample rules read", lambda: plots._sample_rules_figure(d, out, "run", rules)),
        ("evolution, 20 panels", lambda: evolution.plot_evolution(snaps, real, out / "e.png", heading="run",
                                                                   onset_step=d.onset_step)),
        ("animated GIF, 20 frames", lambda: animation.write_gif(snaps, real, out / "e.gif", heading="run",
                                                                onset_step=d.onset_step)),
        ("2 or 3 snapshot plots", lambda: [figures.plot_scatter(snaps[s], real, out / f"s{s}.png")
                                           for s, _ in plots._sample_picks(sorted(snaps), d.onset_step)]),
    ]
    for name, draw in steps:
        t0 = time.perf_counter()
        draw()
        parts.append((name, time.perf_counter() - t0))
    return parts


def many_runs(dest: Path, n: int) -> list[Path]:
    every = sorted(p for p in CORPUS.iterdir() if (p / "samples.npz").is_file())
    step = max(1, len(every) // n)
    picked = every[::step][:n]
    for src in picked:
        shutil.copytree(src, dest / src.name)
    return [dest / p.name for p in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--both", action="store_true", help="also time the 100 runs with --jobs 1")
    parser.add_argument("--skip-many", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    run = twenty_snapshot_run()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        walls = [timed_report([run], work / "one", 1) for _ in range(args.repeat)]
        print(f"one run, 20 snapshots (gandiag report, fresh process): median {statistics.median(walls):.2f} s, "
              f"runs {', '.join(f'{w:.2f}' for w in walls)} s (target <= 5 s)")
        for name, seconds in breakdown(run, work / "parts"):
            print(f"  {name:<48} {seconds:6.2f} s")
        if not args.skip_many:
            runs = many_runs(work / "many", args.runs)
            wall = timed_report([work / "many"], work / "many-out", 2)
            print(f"{len(runs)} corpus runs with samples, --jobs 2: {wall:.1f} s ({wall / len(runs):.2f} s per run); "
                  f"load average {os.getloadavg()[0]:.1f}")
            if args.both:
                wall1 = timed_report([work / "many"], work / "many-out1", 1)
                print(f"{len(runs)} corpus runs, --jobs 1: {wall1:.1f} s ({wall1 / wall:.2f}x the --jobs 2 time)")


if __name__ == "__main__":
    main()
