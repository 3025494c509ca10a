"""Precision, recall, density and coverage at the scale real GANs are judged, side by side with the exact values.

    python benchmarks/diversity_scale.py            # everything (about 25 minutes on 2 idle cores the first time,
                                                    # 5 once the exact references are cached)
    python benchmarks/diversity_scale.py --quick    # 10,000 x 2,048 only
    python benchmarks/diversity_scale.py --scaling-only --max-n 10000   # the scaling table up to 10,000

    pip install -e '.[bench]'   # the prdc package and usearch, for their rows (not gandiag dependencies)

Data: ``benchmarks/_features.py`` (64 clusters in d dimensions with a power-law spectrum, like Inception pool
features; the generated set draws 40 of them; at 50,000 also a full collapse and a flatter spectrum). The exact
values (every pair, :func:`gandiag.samples.knn.prdc_exact`) are the reference of every figure; they are computed
once and kept under ``.bench/diversity/`` (gitignored), so the exact time printed for a cached set is the time it
took when it was computed.

Printed, in one run:

1. 10,000 vs 10,000 x 2,048: gandiag exact (timed in the run), plain chunked brute force (numpy matrix products,
   ~40 lines below), the ``prdc`` package, gandiag's approximate path with each neighbour backend (faiss IVF,
   faiss HNSW, usearch HNSW, brute force in the projection) and with a random projection instead of PCA, query
   subsampling (the earlier fast path: 3,000 real query points, coverage and density only), and
   ``prdc(method="auto")`` -- time, ratio to prdc, and the difference from exact;
2. 50,000 vs 50,000 x 2,048, three sets: the default method against the cached exact values;
3. the scaling table n = 1k, 5k, 10k, 50k x d = 64, 512, 2,048 of the default method (``method="auto"``):
   time, the exact path's time, peak memory of numpy's allocations over the two input arrays, and the largest
   difference from exact over the four statistics.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _features import cached_exact, feature_sets  # noqa: E402

from gandiag.samples import knn  # noqa: E402
from gandiag.samples.diversity import coverage, density  # noqa: E402

KEYS = ("coverage", "density", "precision", "recall")
K = 5


def brute_force_prdc(real: np.ndarray, fake: np.ndarray, k: int = K, rows: int = 1024) -> dict[str, float]:
    """The plain way: chunked float32 matrix products, k-th neighbour by partition, every pair compared."""
    def sq_norms(x):
        return np.einsum("ij,ij->i", x, x)

    def radii(x):
        n2 = sq_norms(x)
        out = np.empty(len(x), dtype=np.float32)
        for s in range(0, len(x), rows):
            d2 = n2[s:s + rows, None] + n2[None, :] - 2 * (x[s:s + rows] @ x.T)
            out[s:s + rows] = np.partition(d2, k, axis=1)[:, k]  # index 0 is the point itself
        return out

    r_real, r_fake = radii(real), radii(fake)
    nr, nf = sq_norms(real), sq_norms(fake)
    covered = np.zeros(len(real), dtype=bool)
    in_fake_ball = np.zeros(len(real), dtype=bool)
    in_real_ball = np.zeros(len(fake), dtype=bool)
    counts = 0
    for s in range(0, len(real), rows):
        d2 = nr[s:s + rows, None] + nf[None, :] - 2 * (real[s:s + rows] @ fake.T)
        inside = d2 <= r_real[s:s + rows, None]
        covered[s:s + rows] = inside.any(axis=1)
        counts += int(inside.sum())
        in_real_ball |= inside.any(axis=0)
        in_fake_ball[s:s + rows] = (d2 <= r_fake[None, :]).any(axis=1)
    return {"coverage": float(covered.mean()), "density": counts / (k * len(fake)),
            "precision": float(in_real_ball.mean()), "recall": float(in_fake_ball.mean())}


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def measured(fn, input_bytes: int):
    """Value, seconds, and the peak of numpy's allocations during the call over the inputs' size."""
    tracemalloc.start()
    try:
        value, seconds = timed(fn)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, seconds, peak / input_bytes


def diffs(values: dict, exact: dict) -> str:
    return "  ".join(f"{values[key] - exact[key]:+.4f}" if key in values else "     -  " for key in KEYS)


def worst(values: dict, exact: dict) -> float:
    return max(abs(values[key] - exact[key]) for key in KEYS if key in values)


def has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def side_by_side(n: int = 10_000, d: int = 2048) -> None:
    real, fake = feature_sets(n, d)
    exact, _ = cached_exact(n, d, sets=(real, fake))
    print(f"\n## {n:,} vs {n:,} x {d:,}: time, ratio to the prdc package, difference from exact "
          f"(coverage density precision recall)")
    rows: list[tuple[str, float, dict | None]] = []
    value, t = timed(lambda: knn.prdc_exact(real, fake, K).as_dict())
    rows.append(("gandiag exact (every pair, timed in this run)", t, value))
    value, t = timed(lambda: brute_force_prdc(real, fake))
    rows.append(("plain chunked brute force (numpy, float32)", t, value))
    t_prdc = None
    if has("prdc"):
        from prdc import compute_prdc

        value, t_prdc = timed(lambda: compute_prdc(real, fake, nearest_k=K))
        rows.append(("prdc package 0.2", t_prdc, value))
    backends = [b for b, mod in (("faiss-ivf", "faiss"), ("faiss", "faiss"), ("usearch", "usearch"))
                if has(mod)] + ["brute"]
    for backend in backends:
        value, t = timed(lambda b=backend: knn.prdc_approximate(real, fake, K, backend=b).as_dict())
        rows.append((f"gandiag approximate, {backend}, PCA {knn.PROJECTION_DIMS}", t, value))
    value, t = timed(lambda: knn.prdc_approximate(real, fake, K, projection="random").as_dict())
    rows.append((f"gandiag approximate, default index, random projection {knn.PROJECTION_DIMS}", t, value))
    value, t = timed(lambda: {"coverage": coverage(real, fake), "density": density(real, fake)})
    rows.append(("query subsampling, 3,000 real points (coverage, density only)", t, value))
    result, t = timed(lambda: knn.prdc_auto(real, fake, K))
    rows.append((f'gandiag prdc(method="auto") -> {result.method.split(" ")[0].rstrip(":")}', t, result.as_dict()))
    print(f"{'method':<72}{'time':>8}{'vs prdc':>9}   {'coverage':>8}  {'density':>8}  {'precision':>8}  {'recall':>8}")
    for name, seconds, value in rows:
        ratio = f"{t_prdc / seconds:7.1f}x" if t_prdc else "      - "
        print(f"{name:<72}{seconds:7.1f}s{ratio:>9}   {diffs(value, exact)}")
    print("exact values: " + ", ".join(f"{key} {exact[key]:.4f} (se {exact[key + '_se']:.4f})" for key in KEYS))
    if t_prdc:
        auto_value, auto_t = rows[-1][2], rows[-1][1]
        prdc_value = next(v for name, _, v in rows if name.startswith("prdc package"))
        gap = worst(auto_value, prdc_value)
        print(f"target: >= 5x faster than the prdc package, within 0.01 of it: {t_prdc / auto_t:.1f}x, "
              f"largest difference {gap:.4f} -> {'met' if t_prdc / auto_t >= 5 and gap <= 0.01 else 'NOT met'}")


def at_50k(n: int = 50_000, d: int = 2048) -> None:
    print(f"\n## {n:,} vs {n:,} x {d:,}: the default method against the exact values (cached)")
    print(f"{'set':<60}{'exact':>8}{'default':>9}{'faster':>8}   {'coverage':>8}  {'density':>8}  {'precision':>8}"
          f"  {'recall':>8}  target")
    for kind, what in (("partial", "partial collapse (40 of 64 clusters), Inception-like spectrum"),
                       ("collapse", "full collapse (10 points repeated with a 1e-3 jitter)"),
                       ("flat", "partial collapse, flatter spectrum (decay 0.4)")):
        real, fake = feature_sets(n, d, kind=kind)
        exact, t_exact = cached_exact(n, d, kind=kind, sets=(real, fake))
        result, t = timed(lambda r=real, f=fake: knn.prdc_auto(r, f, K))
        value = result.as_dict()
        verdict = "met" if t <= 30 and worst(value, exact) <= 0.01 else "NOT met"
        print(f"{what:<60}{t_exact:7.0f}s{t:8.1f}s{t_exact / t:7.0f}x   {diffs(value, exact)}  {verdict}", flush=True)
        print(f"    method: {result.method}")
        del real, fake
    print("target: <= 30 s, every statistic within 0.01 of exact")


def scaling(max_n: int = 50_000) -> None:
    print("\n## scaling of the default method (prdc(method='auto'): exact below n_real * n_fake * d = "
          f"{knn.AUTO_APPROXIMATE_WORK:.0e}, approximate above)")
    print(f"{'n':>7} {'d':>6} {'method':<12} {'time':>8} {'exact time':>11} {'peak mem / inputs':>18} "
          f"{'largest error':>14}")
    for d in (64, 512, 2048):
        for n in (n for n in (1_000, 5_000, 10_000, 50_000) if n <= max_n):
            real, fake = feature_sets(n, d)
            exact, t_exact = cached_exact(n, d, sets=(real, fake))
            result, t, mem = measured(lambda r=real, f=fake: knn.prdc_auto(r, f, K), real.nbytes + fake.nbytes)
            value, how = result.as_dict(), result.method.split(" ")[0].rstrip(":")
            print(f"{n:>7,} {d:>6,} {how:<12} {t:7.2f}s {t_exact:10.1f}s {mem:17.2f}x {worst(value, exact):14.4f}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 10,000 x 2,048 comparison")
    parser.add_argument("--scaling-only", action="store_true", help="only the scaling table")
    parser.add_argument("--max-n", type=int, default=50_000, help="largest n of the scaling table (and no 50k run "
                        "below 50,000: each 50,000 x 2,048 exact reference takes about 5 minutes on 2 idle cores)")
    args = parser.parse_args()
    import os

    print(f"numpy {np.__version__}; {os.cpu_count()} cores; load average at the start "
          f"{os.getloadavg()[0]:.1f} (the machine is shared: a load above the core count slows every figure)")
    if not args.scaling_only:
        side_by_side()
    if not args.quick:
        scaling(args.max_n)
        if args.max_n >= 50_000 and not args.scaling_only:
            at_50k()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
