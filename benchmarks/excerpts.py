"""Does the verdict survive the way people share and write logs? Excerpts, sparse logging and small snapshots.

    python benchmarks/excerpts.py --jobs 2

For every run of ``fixtures/corpus``, the verdict from its full history (losses
only) is compared with the verdict from:

- the tutorial's **excerpt** shape: the first ten rows, then the last five
  (how the tutorial and most blog posts and READMEs print a log);
- the history **logged every 10 and every 100 steps** (one row kept per k
  steps and the last one, each row that step's own values);

and the verdict with samples is compared with the verdict from **100-sample
snapshots** (each snapshot subsampled to 100, the tutorial's 10x10 grid),
which also gives the share of the corpus's stable runs such small snapshots
flag as failures. Runs whose full history was already logged more sparsely
than the shape asked for are skipped for that shape. Agreement is the share of
runs whose verdict is the same; the disagreements are listed by family.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAILURES = ("mode_collapse", "non_converged")


def _shapes(history):
    from gandiag.history import RunHistory

    steps = history.steps

    def keep(mask, name):
        return name, RunHistory.from_arrays(steps[mask], **{k: v[mask] for k, v in history.series.items()})

    out = []
    if len(steps) > 15:
        mask = np.zeros(len(steps), bool)
        mask[:10] = True
        mask[-5:] = True
        out.append(keep(mask, "excerpt 10 + 5"))
    interval = float(np.median(np.diff(steps))) if len(steps) > 1 else 1.0
    for every in (10, 100):
        if interval < every and len(steps) // max(1, int(every / interval)) >= 10:
            out.append(keep((steps % every == 0) | (steps == steps[-1]), f"every {every} steps"))
    return out


def _one(args):
    folder, family, label, loss = args
    warnings.simplefilter("ignore")
    from gandiag.api import analyze
    from gandiag.ingest import read_run
    from gandiag.live.runlog import load_npz

    history = read_run(folder)
    full = analyze(history, loss=loss).verdict.value
    rows = [(name, full, analyze(h, loss=loss).verdict.value) for name, h in _shapes(history)]
    with_samples = analyze(folder, loss=loss).verdict.value
    snaps = load_npz(Path(folder) / "samples.npz")
    rng = np.random.default_rng(0)
    small = {k: v[np.sort(rng.choice(len(v), min(100, len(v)), replace=False))] for k, v in snaps.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.npz"
        np.savez(path, **small)
        small_verdict = analyze(folder, samples=path, loss=loss).verdict.value
    rows.append(("100-sample snapshots", with_samples, small_verdict))
    return family, label, Path(folder).name, rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=ROOT / "fixtures" / "corpus" / "manifest.json")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    from gandiag.verdict.cases import read_corpus

    runs = [r for r in read_corpus(args.manifest) if r.options.get("no_samples")]
    todo = [(str(r.path), r.family, r.label, r.options.get("loss")) for r in runs]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_one, todo, chunksize=4))
    else:
        results = [_one(t) for t in todo]
    agree: dict[str, list[bool]] = defaultdict(list)
    misses: dict[str, Counter] = defaultdict(Counter)
    small_flags = []
    for family, label, _run, rows in results:
        for name, full, shaped in rows:
            agree[name].append(full == shaped)
            if full != shaped:
                misses[name][f"{family} {full}->{shaped}"] += 1
            if name == "100-sample snapshots" and label == "stable":
                small_flags.append(shaped in FAILURES)
    print(f"{len(results)} runs in {time.perf_counter() - t0:.0f} s")
    for name, hits in agree.items():
        print(f"  {name:<22} same verdict as the full log in {np.mean(hits):.1%} ({sum(hits)}/{len(hits)})")
        if misses[name]:
            print("      where not: " + ", ".join(f"{k} x{v}" for k, v in misses[name].most_common(8)))
    if small_flags:
        print(f"  oracle-stable runs flagged from 100-sample snapshots: {np.mean(small_flags):.1%} "
              f"({sum(small_flags)}/{len(small_flags)})")


if __name__ == "__main__":
    main()
