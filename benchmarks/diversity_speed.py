"""Speed and accuracy of the diversity statistics' fast path.

10,000 generated vs 10,000 real samples of 784 values (28x28 "images").
The real data is a mixture of 20 smooth image prototypes, each varied
along 8 smooth directions plus pixel noise, squashed into [-1, 1] like a
tanh generator. The generated set is a partial collapse: it draws only 12
of the 20 prototypes, with weaker variation, so coverage and density sit
well inside (0, 1), where sampling error is largest.

Acceptance: the fast path (float32, 3,000 seeded real query points) takes
at most 2 s and its coverage and density are within 0.02 of the exact
(float64, every pair) values.

Run: ``python benchmarks/diversity_speed.py``
"""

from __future__ import annotations

import time

import numpy as np
from scipy.ndimage import gaussian_filter

from gandiag.samples.diversity import coverage, density, prdc

N, SIDE, N_PROTOTYPES, N_DIRECTIONS = 10_000, 28, 20, 8


def _smooth_fields(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    f = gaussian_filter(rng.standard_normal((n, SIDE, SIDE)), sigma=(0, sigma, sigma))
    return f / f.std(axis=(1, 2), keepdims=True)


def mixture(rng: np.random.Generator, n: int, prototypes: np.ndarray, directions: np.ndarray,
            modes: np.ndarray, spread: float) -> np.ndarray:
    mode = rng.choice(modes, size=n)
    coef = spread * rng.standard_normal((n, N_DIRECTIONS))
    x = prototypes[mode] + np.einsum("nk,nkij->nij", coef, directions[mode])
    x += 0.1 * rng.standard_normal(x.shape)
    return np.tanh(x).reshape(n, -1).astype(np.float32)


def timed(fn, repeat: int = 1):
    """Value and the best wall time of ``repeat`` calls (the machine is shared: the
    best run measures the code, the others also measure the neighbours' load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return value, min(times), times


def main() -> None:
    rng = np.random.default_rng(42)
    prototypes = 1.5 * _smooth_fields(rng, N_PROTOTYPES, 3.0)
    directions = 0.5 * _smooth_fields(rng, N_PROTOTYPES * N_DIRECTIONS, 2.0).reshape(
        N_PROTOTYPES, N_DIRECTIONS, SIDE, SIDE)
    real = mixture(rng, N, prototypes, directions, np.arange(N_PROTOTYPES), 1.0)
    fake = mixture(rng, N, prototypes, directions, np.arange(12), 0.8)
    print(f"real {real.shape}, fake {fake.shape}, {real.shape[1]} values per sample")

    coverage(real[:500], fake[:500])  # warm up imports and BLAS threads
    fast_cov, t_fast_cov, all_cov = timed(lambda: coverage(real, fake), repeat=3)
    fast_den, t_fast_den, all_den = timed(lambda: density(real, fake), repeat=3)
    exact_cov, t_exact_cov, _ = timed(lambda: coverage(real, fake, exact=True))
    exact_den, t_exact_den, _ = timed(lambda: density(real, fake, exact=True))
    fast_both, t_fast_both, _ = timed(lambda: prdc(real, fake))

    print(f"{'':10s}{'fast':>10s}{'exact':>10s}{'diff':>10s}")
    print(f"{'coverage':10s}{fast_cov:10.4f}{exact_cov:10.4f}{fast_cov - exact_cov:+10.4f}")
    print(f"{'density':10s}{fast_den:10.4f}{exact_den:10.4f}{fast_den - exact_den:+10.4f}")
    print(f"time coverage: fast {t_fast_cov:.2f} s (runs: {', '.join(f'{t:.2f}' for t in all_cov)}), "
          f"exact {t_exact_cov:.2f} s, exact/fast {t_exact_cov / t_fast_cov:.1f}x")
    print(f"time density:  fast {t_fast_den:.2f} s (runs: {', '.join(f'{t:.2f}' for t in all_den)}), "
          f"exact {t_exact_den:.2f} s, exact/fast {t_exact_den / t_fast_den:.1f}x")
    print(f"prdc fast (all four, precision/recall on every sample): {t_fast_both:.2f} s "
          f"-> precision {fast_both['precision']:.4f}, recall {fast_both['recall']:.4f}")
    ok = (max(t_fast_cov, t_fast_den) <= 2.0 and abs(fast_cov - exact_cov) <= 0.02
          and abs(fast_den - exact_den) <= 0.02)
    print("PASS" if ok else "FAIL", "(fast <= 2 s and within 0.02 of exact coverage and density)")


if __name__ == "__main__":
    main()
