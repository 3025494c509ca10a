"""`RunLogger.snapshot` cost against the number of snapshots already written: appended vs rewritten.

Run: .venv/bin/python benchmarks/snapshot_cost.py [--snapshots 200] [--samples 1000]

Each snapshot is ``--samples`` generated 28x28 samples (784 values, stored as
float16, as the harness writes them). The logger appends each one to
``samples.npz`` in place; the previous logger rewrote the whole archive every
time (read every array, compress them all again, rename). Both are timed in
the same run: the append at every snapshot, the rewrite at a few counts (it
costs minutes at 200). Target: the 200th append within 1.5x the 1st.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gandiag.infra.outputs import atomic_write_bytes
from gandiag.live.runlog import RunLogger, load_npz


def rewrite_snapshot(path: Path, step: int, samples: np.ndarray) -> None:
    """What snapshot() did before: load every array, add one, compress and write them all."""
    arrays = load_npz(path)
    arrays[f"step_{step}"] = samples.astype(np.float16)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshots", type=int, default=200)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    batch = [np.tanh(rng.normal(size=(args.samples, 28, 28, 1))).astype(np.float32) for _ in range(4)]
    with tempfile.TemporaryDirectory(prefix="gandiag-snapshots-") as tmp:
        folder = Path(tmp) / "run"
        append = []
        with RunLogger(folder) as log:
            for k in range(1, args.snapshots + 1):
                t = time.perf_counter()
                log.snapshot(10 * k, batch[k % 4])
                append.append(time.perf_counter() - t)
        size_mb = (folder / "samples.npz").stat().st_size / 1e6
        checkpoints = sorted({1, args.snapshots // 4, args.snapshots // 2, args.snapshots})
        rewrite = {}
        for k in checkpoints:  # an archive of k - 1 snapshots (copied from the appended one), then one rewrite
            arrays = dict(list(load_npz(folder / "samples.npz").items())[: k - 1])
            path = Path(tmp) / f"old-{k}.npz"
            buf = io.BytesIO()
            np.savez_compressed(buf, **arrays)
            path.write_bytes(buf.getvalue())
            t = time.perf_counter()
            rewrite_snapshot(path, 10 * k, batch[k % 4])
            rewrite[k] = time.perf_counter() - t
            path.unlink()

    def around(k: int) -> float:  # the median of the 5 appends around the k-th, so one noisy call does not decide
        lo, hi = max(0, k - 3), min(len(append), k + 2)
        return statistics.median(append[lo:hi])

    print(f"{args.snapshots} snapshots of {args.samples} x 28 x 28 float16 ({size_mb:.0f} MB archive)")
    print(f"{'snapshot':>8} {'append s':>9} {'rewrite s':>10}")
    for k in checkpoints:
        print(f"{k:>8} {around(k):>9.3f} {rewrite[k]:>10.3f}")
    first, last = around(1), around(args.snapshots)
    print(f"\nappend: snapshot {args.snapshots} costs {last / first:.2f}x snapshot 1 (target <= 1.5x); "
          f"rewrite: {rewrite[args.snapshots] / rewrite[1]:.0f}x; total appends {sum(append):.1f} s")


if __name__ == "__main__":
    main()
