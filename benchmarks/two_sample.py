"""Two-sample tests on the corpus, side by side: how well each tells a run's last snapshot from its data, and what
it costs (issue #26: "two-sample evidence, chosen by measurement").

Run: .venv/bin/python benchmarks/two_sample.py [--runs N] [--permutations 200]

For every corpus run with samples (fixtures/corpus), the last snapshot against the run's real reference, at equal
sizes m = min(n_fake, n_real // 2, 2000), each beside its real-vs-real value (half B of the reference against
half A, the same sizes):

* **1-NN** (Xu et al. 2018): leave-one-out nearest-neighbour accuracy on A + generated, per side. The generated
  side is the share of generated samples whose nearest neighbour is generated (repeats, off-support mass); the
  real side is the share of real samples whose nearest neighbour is real (dropped modes). 0.5 when the sets are
  alike.
* **MMD**: unbiased squared maximum mean discrepancy, Gaussian kernel at the median distance of half A, and its
  permutation p-value (on at most 500 per side).
* **C2ST** (Lopez-Paz & Oquab 2017): 5-fold cross-validated accuracy of a 5-nearest-neighbour classifier of real vs
  generated (scikit-learn).

It prints, per statistic (its excess over the real-vs-real value), the AUC of telling failing runs (the oracle's
label) from stable ones, of collapses and of unconverged runs from stable ones, the median per label, and the cost
per snapshot; then the cost at 2,000 x 2,048 (random features, the issue's cost target: 1 s per snapshot).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("stable", "mode_collapse", "non_converged")


def _d2(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.maximum((u * u).sum(1)[:, None] + (v * v).sum(1)[None, :] - 2.0 * u @ v.T, 0.0)


def one_nn(a: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Leave-one-out 1-NN accuracy on a + g: (real side, generated side); a tie counts a half."""
    aa, gg, ag = _d2(a, a), _d2(g, g), _d2(a, g)
    np.fill_diagonal(aa, np.inf)
    np.fill_diagonal(gg, np.inf)

    def side(own: np.ndarray, cross: np.ndarray) -> float:
        return float(np.mean(np.where(own < cross, 1.0, np.where(own == cross, 0.5, 0.0))))

    return side(aa.min(1), ag.min(1)), side(gg.min(1), ag.min(0))


def mmd(a: np.ndarray, g: np.ndarray, sigma: float, permutations: int, rng: np.random.Generator,
        cap: int = 500) -> tuple[float, float]:
    """Unbiased MMD^2 with a Gaussian kernel, and its permutation p-value on at most ``cap`` samples per side."""
    def stat(k: np.ndarray, n: int) -> float:
        kaa, kgg, kag = k[:n, :n], k[n:, n:], k[:n, n:]
        return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kgg.sum() - np.trace(kgg)) / (n * (n - 1))
                     - 2.0 * kag.mean())

    n = len(a)
    full = stat(np.exp(-_d2(np.vstack([a, g]), np.vstack([a, g])) / (2 * sigma ** 2)), n)
    m = min(n, cap)
    x = np.vstack([a[:m], g[:m]])
    k = np.exp(-_d2(x, x) / (2 * sigma ** 2))
    # permutations as one matrix product: s^T K s with s = +-1/m per side (the biased statistic, ranked alike)
    signs = np.empty((2 * m, permutations))
    for j in range(permutations):
        signs[:, j] = rng.permutation(np.r_[np.full(m, 1.0 / m), np.full(m, -1.0 / m)])
    base = np.r_[np.full(m, 1.0 / m), np.full(m, -1.0 / m)]
    null = np.einsum("ij,ij->j", signs, k @ signs)
    p = float((1 + np.sum(null >= base @ k @ base)) / (1 + permutations))
    return full, p


def c2st(a: np.ndarray, g: np.ndarray, seed: int) -> float:
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    x = np.vstack([a, g])
    y = np.r_[np.ones(len(a)), np.zeros(len(g))]
    perm = np.random.default_rng(seed).permutation(len(x))
    return float(cross_val_score(KNeighborsClassifier(5), x[perm], y[perm], cv=5).mean())


def measure(real: np.ndarray, fake: np.ndarray, permutations: int, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    x = real.reshape(len(real), -1).astype(np.float64)
    f = fake.reshape(len(fake), -1).astype(np.float64)
    f = f[np.isfinite(f).all(1)]
    m = min(len(f), len(x) // 2, 2000)
    perm = rng.permutation(len(x))
    a, b = x[perm[:m]], x[perm[m:2 * m]]
    g = f[rng.permutation(len(f))[:m]]
    out: dict[str, float] = {"m": m, "d": a.shape[1]}
    t = time.perf_counter()
    (out["nn_real"], out["nn_fake"]), (out["nn_real_ref"], out["nn_fake_ref"]) = one_nn(a, g), one_nn(a, b)
    out["t_nn"] = time.perf_counter() - t
    t = time.perf_counter()
    sigma = float(np.median(np.sqrt(_d2(a, a)[np.triu_indices(m, 1)]))) or 1.0
    (out["mmd"], out["mmd_p"]), (out["mmd_ref"], out["mmd_p_ref"]) = (mmd(a, g, sigma, permutations, rng),
                                                                       mmd(a, b, sigma, permutations, rng))
    out["t_mmd"] = time.perf_counter() - t
    t = time.perf_counter()
    out["c2st"], out["c2st_ref"] = c2st(a, g, seed), c2st(a, b, seed)
    out["t_c2st"] = time.perf_counter() - t
    return out


def auc(scores: list[float], positive: list[bool]) -> float:
    from sklearn.metrics import roc_auc_score

    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    return float(roc_auc_score(positive, s)) if 0 < sum(positive) < len(positive) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=0, help="at most this many runs (0: all)")
    ap.add_argument("--permutations", type=int, default=200)
    ap.add_argument("--json", type=Path, help="write the per-run rows here")
    args = ap.parse_args()
    from gandiag.samples.read import read_reference, read_snapshots

    corpus = ROOT / "fixtures" / "corpus"
    manifest = json.loads((corpus / "manifest.json").read_text())
    rows, seen = [], set()
    for r in manifest["runs"]:
        if r["options"].get("no_samples") or r["path"] in seen:
            continue
        seen.add(r["path"])
        folder = corpus / r["path"]
        snaps = read_snapshots(folder / "samples.npz")
        row = measure(read_reference(folder / "real.npz"), snaps[max(snaps)], args.permutations)
        row.update(id=r["path"], family=r["family"], label=r["oracle_label"])
        rows.append(row)
        if args.runs and len(rows) >= args.runs:
            break
    if args.json:
        args.json.write_text(json.dumps(rows))
    stats = {
        "1-NN generated side": lambda r: r["nn_fake"] - r["nn_fake_ref"],
        "1-NN real side": lambda r: r["nn_real"] - r["nn_real_ref"],
        "1-NN both sides": lambda r: (r["nn_fake"] + r["nn_real"] - r["nn_fake_ref"] - r["nn_real_ref"]) / 2,
        "MMD^2": lambda r: r["mmd"] - r["mmd_ref"],
        "MMD permutation p < 0.05": lambda r: float(r["mmd_p"] < 0.05),
        "C2ST accuracy": lambda r: r["c2st"] - r["c2st_ref"],
    }
    labels = [r["label"] for r in rows]
    print(f"{len(rows)} corpus runs, last snapshot vs reference, equal sizes (m = 87..2000), each statistic minus its "
          "real-vs-real value\n")
    print(f"{'statistic':<26} {'AUC fail':>8} {'collapse':>8} {'unconv':>8}   median stable / collapse / unconverged")
    for name, fn in stats.items():
        v = [fn(r) for r in rows]
        a_fail = auc(v, [lab != "stable" for lab in labels])
        pick = [i for i, lab in enumerate(labels) if lab in ("stable", "mode_collapse")]
        a_col = auc([v[i] for i in pick], [labels[i] == "mode_collapse" for i in pick])
        pick = [i for i, lab in enumerate(labels) if lab in ("stable", "non_converged")]
        a_unc = auc([v[i] for i in pick], [labels[i] == "non_converged" for i in pick])
        med = " / ".join(f"{np.median([x for x, lab in zip(v, labels) if lab == want]):.3f}" for want in LABELS)
        print(f"{name:<26} {a_fail:>8.3f} {a_col:>8.3f} {a_unc:>8.3f}   {med}")
    ref_fake = [r["nn_fake_ref"] for r in rows]
    print(f"\nreal-vs-real 1-NN generated side: median {np.median(ref_fake):.3f} (0.5 expected); "
          f"MMD p < 0.05 on {np.mean([r['mmd_p_ref'] < 0.05 for r in rows]):.0%} of real-vs-real pairs")
    print("cost per snapshot (both comparisons), median / max ms: " + ", ".join(
        f"{k[2:]} {1000 * np.median([r[k] for r in rows]):.0f} / {1000 * max(r[k] for r in rows):.0f}"
        for k in ("t_nn", "t_mmd", "t_c2st")))
    rng = np.random.default_rng(1)
    big_real, big_fake = rng.normal(size=(4000, 2048)).astype(np.float32), rng.normal(size=(2000, 2048))
    t = time.perf_counter()
    one_nn(big_real[:2000].astype(np.float64), big_fake)
    print(f"1-NN at 2,000 vs 2,000 x 2,048 (one comparison, float64): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
