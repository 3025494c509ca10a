"""Following a growing log: does a poll near the end of a long run cost more than one near the start?

    python benchmarks/watch_speed.py [--lines 100000] [--chunk 1000]

Feeds a tutorial-style console log and the same run as CSV to the followers
`gandiag watch` uses (gandiag/live/follow.py), ``--chunk`` new lines per poll,
and prints the mean time per poll over the first and the last ten polls, side
by side, and their ratio (target, issue 15: <= about 1x, linear in the log's
length). The rows are a real recorded run (fixtures/runs/digits-stable-s0)
repeated with increasing steps.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def lines_of(n: int) -> tuple[list[str], list[str]]:
    import pandas as pd

    h = pd.read_csv(ROOT / "fixtures" / "runs" / "digits-stable-s0" / "history.csv")
    rows = h.to_dict("records")
    console, csv = [], ["step,d_loss_real,d_loss_fake,g_loss,d_acc_real,d_acc_fake"]
    for i in range(n):
        r = rows[i % len(rows)]
        console.append(f">{i + 1}, d1={r['d_loss_real']:.3f}, d2={r['d_loss_fake']:.3f} g={r['g_loss']:.3f}, "
                       f"a1={int(100 * r['d_acc_real'])}, a2={int(100 * r['d_acc_fake'])}")
        csv.append(f"{i + 1},{r['d_loss_real']:.4f},{r['d_loss_fake']:.4f},{r['g_loss']:.4f},"
                   f"{r['d_acc_real']:.3f},{r['d_acc_fake']:.3f}")
    return console, csv


def follow(kind: str, lines: list[str], chunk: int) -> list[float]:
    from gandiag.live.follow import ConsoleRows, CsvRows

    rows = ConsoleRows("bench.log") if kind == "console" else CsvRows("bench.csv")
    times = []
    for i in range(0, len(lines), chunk):
        t0 = time.perf_counter()
        for _ in rows.feed(lines[i:i + chunk]):
            pass
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()
    console, csv = lines_of(args.lines)
    print(f"{args.lines:,} lines, {args.chunk:,} new lines per poll")
    for kind, lines in (("csv", csv), ("console", console)):
        t = follow(kind, lines, args.chunk)
        first, last = sum(t[:10]) / 10, sum(t[-10:]) / 10
        print(f"  {kind:<8} poll at the start {1000 * first:7.1f} ms, at the end {1000 * last:7.1f} ms: "
              f"{last / first:5.1f}x; whole follow {sum(t):.1f} s")


if __name__ == "__main__":
    main()
