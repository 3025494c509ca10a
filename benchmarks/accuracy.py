"""How often is the analyzer right? Verdicts against the oracle's labels on the corpus.

    python benchmarks/accuracy.py                   # test split, losses only and with samples
    python benchmarks/accuracy.py --split dev       # the split the rules may be tuned on
    python benchmarks/accuracy.py --json out.json   # the figures, machine-readable

For each mode (``losses``: ``--no-samples``, the headline figure; ``samples``:
with the sample snapshots) it prints the confusion matrix (oracle label x
analyzer verdict), per-label precision and recall, macro-F1, the share of
stable runs flagged as failures, and detection latency (analyzer onset minus
oracle onset, as a share of the run's length, over failing runs the analyzer
flagged). Every figure comes with a 95% bootstrap interval (runs resampled
with replacement, 2,000 times).

An ``inconclusive`` verdict counts as "not a failure" for the false-alarm rate
and as wrong for precision/recall (it is never the oracle's label).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELS = ("stable", "mode_collapse", "non_converged")
VERDICTS = LABELS + ("inconclusive",)
FAILURES = ("mode_collapse", "non_converged")
BOOTSTRAP = 2000


@dataclass(frozen=True)
class Case:
    id: str
    oracle: str
    oracle_onset: int | None
    verdict: str
    onset: int | None
    n_steps: int


def _analyze(args: tuple[str, bool]) -> tuple[str, int | None, int]:
    path, no_samples = args
    warnings.simplefilter("ignore")
    from gandiag.api import analyze

    d = analyze(path, no_samples=no_samples)
    return d.verdict.value, d.onset_step, d.n_steps


def run_cases(manifest: Path, split: str, mode: str, jobs: int) -> list[Case]:
    doc = json.loads(manifest.read_text())
    runs = [r for r in doc["runs"] if r.get("split") == split and "oracle_label" in r
            and bool(r.get("options", {}).get("no_samples")) == (mode == "losses")]
    todo = [(str(manifest.parent / r["path"]), mode == "losses") for r in runs]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_analyze, todo))
    else:
        results = [_analyze(t) for t in todo]
    return [Case(r["id"], r["oracle_label"], r.get("oracle_onset_step"), v, o, n)
            for r, (v, o, n) in zip(runs, results)]


# ---------------------------------------------------------------------------- figures


def confusion(cases: list[Case]) -> np.ndarray:
    m = np.zeros((len(LABELS), len(VERDICTS)), int)
    for c in cases:
        m[LABELS.index(c.oracle), VERDICTS.index(c.verdict)] += 1
    return m


def scores(cases: list[Case]) -> dict[str, float]:
    """Precision/recall per label, macro-F1, false-alarm rate, median latency."""
    out: dict[str, float] = {}
    f1s = []
    for lab in LABELS:
        tp = sum(c.oracle == lab and c.verdict == lab for c in cases)
        pred = sum(c.verdict == lab for c in cases)
        true = sum(c.oracle == lab for c in cases)
        p = tp / pred if pred else 0.0
        r = tp / true if true else float("nan")
        out[f"precision_{lab}"], out[f"recall_{lab}"] = p, r
        f1s.append(2 * p * r / (p + r) if p + r > 0 else 0.0)
    out["macro_f1"] = float(np.mean(f1s))
    stable = [c for c in cases if c.oracle == "stable"]
    out["false_alarm_rate"] = (sum(c.verdict in FAILURES for c in stable) / len(stable)) if stable else float("nan")
    failing = [c for c in cases if c.oracle in FAILURES]
    out["failures_flagged"] = (sum(c.verdict in FAILURES for c in failing) / len(failing)) if failing else float("nan")
    lat = latencies(cases)
    out["latency_median"] = float(np.median(lat)) if lat else float("nan")
    return out


def latencies(cases: list[Case]) -> list[float]:
    return [(c.onset - c.oracle_onset) / c.n_steps for c in cases
            if c.oracle in FAILURES and c.verdict in FAILURES and c.onset is not None
            and c.oracle_onset is not None and c.n_steps]


def bootstrap(cases: list[Case], seed: int = 0) -> dict[str, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    n = len(cases)
    for _ in range(BOOTSTRAP):
        sample = [cases[i] for i in rng.integers(0, n, n)]
        for k, v in scores(sample).items():
            draws.setdefault(k, []).append(v)
    return {k: (float(np.nanquantile(v, 0.025)), float(np.nanquantile(v, 0.975))) for k, v in draws.items()
            if not np.all(np.isnan(v))}


def report(cases: list[Case], title: str) -> dict:
    m = confusion(cases)
    s = scores(cases)
    ci = bootstrap(cases)
    print(f"\n== {title}: {len(cases)} runs ==")
    print("oracle / analyzer".ljust(18) + "".join(f"{v:>15}" for v in VERDICTS))
    for i, lab in enumerate(LABELS):
        print(f"{lab:<18}" + "".join(f"{x:>15}" for x in m[i]))
    print()
    for k, v in s.items():
        lo, hi = ci.get(k, (float("nan"), float("nan")))
        print(f"  {k:<26} {v:6.3f}   95% CI [{lo:.3f}, {hi:.3f}]")
    wrong = [c for c in cases if c.verdict != c.oracle]
    if wrong:
        print("  disagreements: " + ", ".join(f"{c.id.split('/')[0]} ({c.oracle}->{c.verdict})" for c in wrong))
    return {"n": len(cases), "confusion": {"rows": list(LABELS), "columns": list(VERDICTS), "matrix": m.tolist()},
            "scores": s, "ci95": ci, "disagreements": [c.__dict__ for c in wrong]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=ROOT / "fixtures" / "corpus" / "manifest.json")
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--mode", choices=["losses", "samples", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    out = {"split": args.split, "manifest": str(args.manifest)}
    for mode in ("losses", "samples") if args.mode == "both" else (args.mode,):
        t0 = time.perf_counter()
        cases = run_cases(args.manifest, args.split, mode, args.jobs)
        what = "losses only (--no-samples)" if mode == "losses" else "with sample snapshots"
        out[mode] = report(cases, f"{args.split} split, {what}")
        print(f"  ({time.perf_counter() - t0:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
