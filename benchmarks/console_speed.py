"""A 1,000,000-line console log: time and peak memory of `gandiag analyze`, next to the same run as a CSV.

Run: .venv/bin/python benchmarks/console_speed.py [--lines 1000000] [--repeat 2]

The log is the GAN tutorial's console format (``>12, d1=0.593, d2=0.546
g=1.330, a1=76, a2=82``), its values tiled from a recorded stable run with
a little noise; the CSV holds the same numbers. Each command runs in its own
process under ``/usr/bin/time -v``; best of ``--repeat``. Targets: the console
log in <= 10 s and <= 500 MB (before this reader: 65 s and 2.0 GB).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GANDIAG = str(Path(sys.executable).parent / "gandiag")


def series(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    import pandas as pd

    base = pd.read_csv(ROOT / "fixtures/runs/digits-stable-s0/history.csv")
    rng = np.random.default_rng(seed)
    reps = int(np.ceil(n / len(base)))
    out = {}
    for col in ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake"):
        v = np.tile(base[col].to_numpy(float), reps)[:n]
        out[col] = v * (1 + rng.normal(0, 0.01, n))
    return out


def write_logs(folder: Path, n: int) -> tuple[Path, Path]:
    s = series(n)
    log, csv = folder / "train.log", folder / "history.csv"
    a1 = np.clip(np.rint(100 * s["d_acc_real"]), 0, 100).astype(int)
    a2 = np.clip(np.rint(100 * s["d_acc_fake"]), 0, 100).astype(int)
    with open(log, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f">{i + 1}, d1={s['d_loss_real'][i]:.3f}, d2={s['d_loss_fake'][i]:.3f} "
                     f"g={s['g_loss'][i]:.3f}, a1={a1[i]}, a2={a2[i]}\n")
    with open(csv, "w", encoding="utf-8") as fh:
        fh.write("step,d1,d2,g,a1,a2\n")
        for i in range(n):
            fh.write(f"{i + 1},{s['d_loss_real'][i]:.3f},{s['d_loss_fake'][i]:.3f},{s['g_loss'][i]:.3f},"
                     f"{a1[i]},{a2[i]}\n")
    return log, csv


def measure(argv: list[str]) -> tuple[int, float, float]:
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True, timeout=900)
    err = proc.stderr
    peak = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", err).group(1)
    seconds = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
    return proc.returncode, peak, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gandiag-console-") as tmp:
        log, csv = write_logs(Path(tmp), args.lines)
        print(f"{args.lines:,} lines: console log {log.stat().st_size / 1e6:.0f} MB, CSV {csv.stat().st_size / 1e6:.0f} MB")
        rows = []
        for what, path in (("console log", log), ("same run as CSV", csv)):
            best = min((measure([GANDIAG, "analyze", "--no-samples", str(path)]) for _ in range(args.repeat)),
                       key=lambda m: m[2])
            rows.append((what, *best))
        print(f"{'input':<18} {'exit':>4} {'wall s':>7} {'peak MB':>8}")
        for what, code, peak, seconds in rows:
            print(f"{what:<18} {code:>4} {seconds:>7.2f} {peak:>8.0f}")
        (_, _, cpeak, csec), (_, _, vpeak, vsec) = rows
        print(f"\nconsole / CSV: {csec / vsec:.1f}x the time, {cpeak / vpeak:.1f}x the memory "
              f"(targets: <= 10 s and <= 500 MB for the console log)")


if __name__ == "__main__":
    main()
