"""Analyzer speed: cold start of the CLI, and scale against pandas.read_csv.

Run: .venv/bin/python benchmarks/analyze_speed.py [--rows 1000000] [--repeat 3]

1. Cold start: wall time of `gandiag analyze run.csv` (a fresh process) on a
   450-row history, best of N, next to a bare `python -c pass` and
   `python -c "import pandas"` in the same run, so the ratio says where time goes.
2. Scale: a 1,000,000-row history. Wall time of `gandiag.analyze(path)` divided
   by the time `pandas.read_csv` (C engine) needs just to read the same file,
   best of N each, measured side by side.
3. The same with noisy losses (a generator loss whose swings cross GD202's
   limit again and again: about a thousand recovered episodes per million
   rows): the ratio, the number of findings kept, and the lines of the text
   report (target <= 100 lines, <= 1.5x read_csv).

The series are generated from a recorded real run when one exists under
fixtures/runs (tiled to length, with small noise so rolling windows see
realistic values), else from a seeded synthetic stable-looking series.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GANDIAG = str(Path(PY).parent / "gandiag")


def source_series(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    import pandas as pd

    runs = sorted(ROOT.glob("fixtures/runs/*stable*/history.csv"))
    rng = np.random.default_rng(seed)
    if runs:
        base = pd.read_csv(runs[0])
        cols = [c for c in ("d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake",
                            "d_real_prob", "d_fake_prob") if c in base]
        reps = int(np.ceil(n / len(base)))
        out = {c: np.tile(base[c].to_numpy(float), reps)[:n] for c in cols}
        for c in out:
            out[c] = out[c] * (1 + rng.normal(0, 0.01, n))
        return out
    return {
        "d_loss_real": 0.6 + rng.normal(0, 0.05, n), "d_loss_fake": 0.6 + rng.normal(0, 0.05, n),
        "g_loss": 1.2 + rng.normal(0, 0.1, n), "d_acc_real": np.clip(0.75 + rng.normal(0, 0.07, n), 0, 1),
        "d_acc_fake": np.clip(0.75 + rng.normal(0, 0.07, n), 0, 1),
    }


def noisy_series(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Losses as noisy as a tiny batch makes them: GD202's oscillation limit crossed over and over."""
    rng = np.random.default_rng(seed)
    return {"d_loss": np.clip(0.6 + rng.normal(0, 0.1, n), 0.05, None),
            "g_loss": np.clip(1.2 + rng.normal(0, 0.36, n), 0.01, None)}


def write_csv(path: Path, n: int, noisy: bool = False) -> None:
    import pandas as pd

    series = noisy_series(n) if noisy else source_series(n)
    df = pd.DataFrame({"step": np.arange(1, n + 1), "epoch": np.arange(n) // 45, **series})
    df.to_csv(path, index=False, float_format="%.5f")


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_cmd(args):
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.csv"
        write_csv(small, 450)
        bare = best_of(lambda: run_cmd([PY, "-c", "pass"]), 5)
        pandas_imp = best_of(lambda: run_cmd([PY, "-c", "import pandas"]), 5)
        cold = best_of(lambda: run_cmd([GANDIAG, "analyze", str(small)]), 5)
        print("cold start, 450-row CSV (best of 5, fresh process each)")
        print(f"  python -c pass           {bare:7.3f} s")
        print(f"  python -c 'import pandas' {pandas_imp:6.3f} s")
        print(f"  gandiag analyze          {cold:7.3f} s   (target <= 1.0 s)   ratio to pandas import {cold / pandas_imp:.2f}x")

        big = Path(tmp) / "big.csv"
        write_csv(big, args.rows)
        import pandas as pd

        import gandiag
        from gandiag.engine.loader import load_rules

        rules = load_rules()
        t_read = best_of(lambda: pd.read_csv(big, engine="c"), args.repeat)
        diag = None

        def analyze():
            nonlocal diag
            diag = gandiag.analyze(big, rules=rules)

        t_an = best_of(analyze, args.repeat)
        print(f"\nscale, {args.rows:,}-row history (best of {args.repeat}, same process, side by side)")
        print(f"  pandas.read_csv (C engine)  {t_read:7.3f} s")
        print(f"  gandiag.analyze             {t_an:7.3f} s")
        print(f"  ratio                       {t_an / t_read:7.2f}x   (target <= 3x)")
        print(f"  verdict {diag.verdict.value}, {diag.n_steps:,} steps analysed, onset {diag.onset_step} (full resolution)")

        noisy = Path(tmp) / "noisy.csv"
        write_csv(noisy, args.rows, noisy=True)
        t_read = best_of(lambda: pd.read_csv(noisy, engine="c"), args.repeat)

        def analyze_noisy():
            nonlocal diag
            diag = gandiag.analyze(noisy, rules=rules)

        t_an = best_of(analyze_noisy, args.repeat)
        from gandiag.report.text import render_one

        lines = len(render_one(diag).splitlines())
        recovered = sum(f.status.value == "recovered" for f in diag.findings)
        print(f"\nnoisy losses, {args.rows:,}-row history (best of {args.repeat}, same process, side by side)")
        print(f"  pandas.read_csv (C engine)  {t_read:7.3f} s")
        print(f"  gandiag.analyze             {t_an:7.3f} s")
        print(f"  ratio                       {t_an / t_read:7.2f}x   (target <= 1.5x)")
        print(f"  {recovered:,} recovered episodes; text report {lines} lines (target <= 100); verdict {diag.verdict.value}")


if __name__ == "__main__":
    main()
