"""Cost of ``Monitor.update`` per training step, against the harness's 8x8 training step.

Replays a recorded real run (fixtures/runs/digits-stable-s0, its 600 rows
repeated with increasing steps) through a Monitor with the shipped rules and
times every call: mean, median, p99 and worst case, at two run lengths (the
cost must not grow with the run). Then times the harness's compiled 8x8
digits step (batch 64, latent 50) in the same process and prints the
monitor's mean cost as a share of it. Target: mean <= 50 us per step.

    python benchmarks/monitor_speed.py [--steps 24000] [--every 32] [--no-train]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def update_costs(steps: int, every: int) -> np.ndarray:
    """Microseconds of each ``update`` call over a replay of ``steps`` rows."""
    from gandiag.ingest import read_run
    from gandiag.live.monitor import Monitor, history_rows

    rows = list(history_rows(read_run(ROOT / "fixtures/runs/digits-stable-s0")))
    monitor = Monitor(planned_steps=steps, every=every)
    clock = time.perf_counter_ns
    costs = np.empty(steps)
    for i in range(steps):
        metrics = rows[i % len(rows)][1]
        t = clock()
        monitor.update(i + 1, **metrics)
        costs[i] = clock() - t
    return costs / 1000.0


def harness_step_ms(steps: int = 150) -> float:
    """Milliseconds per compiled 8x8 digits training step (benchmarks/harness_speed.py's measurement)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import keras
    from harness_speed import compiled_step

    return 1000.0 / compiled_step(keras, (8, 8, 1), 50, 64, True, steps)


def describe(costs: np.ndarray) -> str:
    return (f"mean {costs.mean():6.1f} us   median {np.median(costs):5.1f} us   p99 {np.percentile(costs, 99):7.1f} us"
            f"   max {costs.max():7.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24000)
    parser.add_argument("--every", type=int, default=32, help="rows between evaluations (Monitor(every=...))")
    parser.add_argument("--no-train", action="store_true", help="skip the TensorFlow step timing")
    args = parser.parse_args()
    costs = update_costs(args.steps, args.every)
    first, last = costs[: args.steps // 10], costs[-args.steps // 10 :]
    evals = costs[args.every - 1 :: args.every]
    print(f"Monitor.update, {args.steps} steps, every={args.every}, shipped rules")
    print(f"  all calls        {describe(costs)}")
    print(f"  first 10%        {describe(first)}")
    print(f"  last 10%         {describe(last)}")
    print(f"  evaluating calls {describe(evals)}  (1 call in {args.every})")
    print(f"  target: mean <= 50 us -> {'met' if costs.mean() <= 50 else 'NOT met'}")
    if not args.no_train:
        ms = harness_step_ms()
        print(f"harness 8x8 digits step (compiled, batch 64): {ms:.2f} ms/step")
        print(f"  monitor share of a step: mean {100 * costs.mean() / 1000 / ms:.2f}%, "
              f"evaluating call {100 * evals.mean() / 1000 / ms:.1f}%")


if __name__ == "__main__":
    main()
