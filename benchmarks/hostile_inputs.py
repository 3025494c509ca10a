"""Peak memory and time of `gandiag analyze` on hostile inputs, next to a normal run in the same session.

Run: .venv/bin/python benchmarks/hostile_inputs.py

Each command runs in its own process under `/usr/bin/time -v` (maximum
resident set size, wall time). The hostile inputs are the issue's: a gzip of
2 GiB of zeros (2 MB on disk), a gzip holding 1 GiB of valid CSV rows, a
console line of 1.5 million `d1=0.5` labels, and `analyze -` reading
`/dev/zero`. Each must end with one error line (exit 2) within 500 MB; the
first row is a 450-row history analysed normally, for scale.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GANDIAG = str(Path(sys.executable).parent / "gandiag")
TARGET_MB = 500
sys.path.insert(0, str(ROOT / "tests" / "adversarial"))
from bombs import gzip_gibibyte_of_rows, repeated_gzip  # noqa: E402  (the files the memory tests use)


def build(folder: Path) -> list[tuple[str, str]]:
    """``(what, shell command)`` for each case."""
    stable = (ROOT / "fixtures/runs/digits-stable-s0/history.csv").read_bytes()
    normal = folder / "normal.csv"
    normal.write_bytes(b"\n".join(stable.split(b"\n")[:451]) + b"\n")

    zeros = folder / "zeros.csv.gz"
    repeated_gzip(zeros, b"\0" * (64 << 20), 32)

    rows = folder / "rows.csv.gz"
    gzip_gibibyte_of_rows(rows, stable)  # 100 rows repeated: 1 GiB in a few MB, as in the issue

    labels = folder / "labels.log"
    labels.write_bytes(b">1, d1=0.5, d2=0.5 g=1.0\n>2, " + b"d1=0.5 " * 1_500_000 + b"\n")

    size = lambda p: f"{p.stat().st_size / 1e6:.1f} MB"  # noqa: E731
    return [
        (f"normal 450-row CSV ({size(normal)})", f"{GANDIAG} analyze --no-samples {normal}"),
        (f"gzip of 2 GiB of zeros ({size(zeros)})", f"{GANDIAG} analyze {zeros}"),
        (f"gzip of 1 GiB of valid rows ({size(rows)})", f"{GANDIAG} analyze {rows}"),
        (f"console line of 1.5M labels ({size(labels)})", f"{GANDIAG} analyze {labels}"),
        ("  same, with GANDIAG_MAX_LINE=64M (label limit)", f"GANDIAG_MAX_LINE=64M {GANDIAG} analyze {labels}"),
        ("analyze - < /dev/zero", f"{GANDIAG} analyze - < /dev/zero"),
    ]


def measure(command: str) -> tuple[int, float, float, str]:
    """``(exit code, peak MB, wall s, last stderr line)`` under /usr/bin/time -v."""
    proc = subprocess.run(["/usr/bin/time", "-v", "/bin/sh", "-c", command], capture_output=True, text=True,
                          timeout=600)
    err = proc.stderr
    peak = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", err).group(1)
    seconds = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
    code = int(re.search(r"Exit status: (\d+)", err).group(1))
    said = next((line for line in err.splitlines() if line.startswith("error:")), "")
    return code, peak, seconds, said


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gandiag-hostile-") as tmp:
        cases = build(Path(tmp))
        print(f"{'input':<50} {'exit':>4} {'peak MB':>8} {'wall s':>7}  error line (chars)")
        worst = 0.0
        for what, command in cases:
            code, peak, seconds, said = measure(command)
            if not what.startswith("normal"):
                worst = max(worst, peak)
            shown = f"{said[:70]}... ({len(said)})" if said else "-"
            print(f"{what:<50} {code:>4} {peak:>8.0f} {seconds:>7.2f}  {shown}")
        print(f"\nworst peak on a hostile input: {worst:.0f} MB (target <= {TARGET_MB} MB)")


if __name__ == "__main__":
    main()
