"""What the live view costs a training run: `gandiag train` with and without --live, side by side.

Trains the same harness run (ring8, stable, --steps N, seed 0) alternately without
and with ``--live`` in fresh processes and prints each run's wall time (the
process, and the training loop as meta.json records it), the figures the live
view drew and the time it spent drawing, as its own clock measured it (the
figure that the 1% budget bounds; the wall-time difference between two runs is
within this machine's noise). Then times the per-step path alone
(``LiveView.row`` + ``update`` when no figure is due) over the same number of
rows, in this process, without TensorFlow.

    python benchmarks/live_view_cost.py [--steps 100000] [--pairs 1] [--dataset ring8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def train_once(out: Path, steps: int, dataset: str, live: bool) -> dict[str, float]:
    cmd = [sys.executable, "-m", "gandiag", "train", "--dataset", dataset, "--experiment", "stable", "--seed", "0",
           "--steps", str(steps), "--out", str(out), "--no-plots"] + (["--live"] if live else [])
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"gandiag train failed ({done.returncode}): {done.stderr[-800:]}")
    meta = json.loads((out / "meta.json").read_text())
    result = {"wall": wall, "loop": float(meta["wall_time_s"]), "draws": 0.0, "drawing": 0.0}
    if live:
        page = (out / "live.html").read_text()
        found = re.search(r"(\d+) figure\(s\) drawn, ([\d.]+) s in all; with the rows, the view cost ([\d.]+)%", page)
        if found is None:
            raise SystemExit(f"no drawing summary in {out / 'live.html'}")
        result["draws"], result["drawing"] = float(found.group(1)), float(found.group(2))
        result["view_share"] = float(found.group(3)) / 100
    return result


def per_row_cost(steps: int) -> float:
    """Microseconds per row of ``LiveView.row`` + ``update`` when no figure is due (the path every step takes)."""
    from gandiag.ingest import read_run
    from gandiag.live.monitor import history_rows
    from gandiag.live.view import LiveView

    rows = list(history_rows(read_run(ROOT / "fixtures/runs/ring8-stable-s0")))
    with tempfile.TemporaryDirectory() as tmp:
        view = LiveView(tmp, budget=1e-9, title="cost")  # never due: the per-row path alone
        t0 = time.perf_counter()
        for i in range(steps):
            view.row(i + 1, **rows[i % len(rows)][1])
            view.update()
        return (time.perf_counter() - t0) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--dataset", default="ring8")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    off, on = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pairs):
            for live, results in ((False, off), (True, on)) if i % 2 == 0 else ((True, on), (False, off)):
                r = train_once(Path(tmp) / f"run-{i}-{int(live)}", args.steps, args.dataset, live)
                results.append(r)
                extra = (f"; {int(r['draws'])} figures, {r['drawing']:.2f} s drawing = {r['drawing'] / r['wall']:.2%} "
                         f"of the process, {r['drawing'] / r['loop']:.2%} of the training loop; with the rows, "
                         f"{r['view_share']:.2%} by the view's own account" if live else "")
                print(f"{'with --live' if live else 'without   '}  wall {r['wall']:6.1f} s, loop {r['loop']:6.1f} s{extra}")
    wall_off, wall_on = statistics.median(r["wall"] for r in off), statistics.median(r["wall"] for r in on)
    share = statistics.median(r["drawing"] / r["wall"] for r in on)
    total = statistics.median(r["view_share"] for r in on)
    print(f"median wall: {wall_off:.1f} s without, {wall_on:.1f} s with --live ({wall_on / wall_off - 1:+.1%}, "
          f"machine noise included; load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"drawing, by the view's clock: {share:.2%} of the run's wall time; drawing and rows as the view accounts "
          f"them: {total:.2%} (budget 1%)")
    cost = per_row_cost(args.steps)
    loop = statistics.median(r["loop"] for r in on)
    print(f"per-row path (row + update, no figure due): {cost:.1f} us per step = "
          f"{cost * args.steps / 1e6:.2f} s over {args.steps} steps, {cost * args.steps / 1e6 / loop:.2%} of the loop")


if __name__ == "__main__":
    main()
