"""Synthetic embedding sets for the diversity benchmarks: clusters in many dimensions, like Inception pool features.

Learned embeddings (the 2,048 Inception pool features of FID, precision/recall and density/coverage) have a
power-law spectrum: a few hundred directions hold most of the variance, and the rest is a long tail. The sets
here copy that: ``n_clusters`` cluster centres (classes), and around each a variation whose standard deviation
along the ``j``-th of a random (nearly orthonormal) set of directions is ``(j + 1) ** -SPECTRUM_DECAY`` (the same
directions for every cluster; scaled so the spread is comparable with the distance between centres). The real
set draws from every cluster; the generated set from the first ``fake_clusters`` only (a partial collapse), with
a 15% narrower spread, so coverage, density, precision and recall all sit inside (0, 1) where their errors show.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPECTRUM_DECAY = 0.8


#: The other kinds of set the benchmark measures the approximate path on (``kind=``):
#: ``flat``: a flatter spectrum (decay 0.4: a 128-dimensional projection keeps much less of each point, so the
#: bounds decide fewer ball tests and more pairs are measured);
#: ``collapse``: the generated set is 10 points repeated with a tiny jitter (a full collapse: balls holding
#: thousands of generated samples, generated radii near 0);
#: ``mid``: decay 0.6, between the two spectra (where the approximate path's 5% limit was checked).
KINDS = ("partial", "flat", "collapse", "mid")
DECAY = {"flat": 0.4, "mid": 0.6}


def feature_sets(n: int, d: int, *, n_clusters: int = 64, fake_clusters: int = 40, seed: int = 0,
                 kind: str = "partial") -> tuple[np.ndarray, np.ndarray]:
    """``(real, fake)``, each ``(n, d)`` float32."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, d)).astype(np.float32)
    q = rng.standard_normal((d, d), dtype=np.float32) / np.float32(np.sqrt(d))  # nearly orthonormal directions
    sigma = (np.arange(1, d + 1) ** -DECAY.get(kind, SPECTRUM_DECAY))
    # total within-cluster spread comparable with the distance between two centres (sqrt(2 d))
    sigma *= 0.5 * np.sqrt(2 * d) / np.sqrt(np.sum(sigma**2))
    mixing = (sigma[:, None] * q.T).astype(np.float32)
    real = _draw(rng, n, centres, mixing, n_clusters, 1.0)
    fake = _draw(rng, n, centres, mixing, fake_clusters, 0.85)
    if kind == "collapse":
        jitter = 1e-3 * rng.standard_normal((n, d), dtype=np.float32)
        fake = fake[rng.integers(0, 10, size=n)] + jitter
    elif kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return real, fake


def _draw(rng, n, centres, mixing, clusters, spread):
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    step = 4096
    for start in range(0, n, step):
        rows = min(step, n - start)
        z = rng.standard_normal((rows, mixing.shape[0]), dtype=np.float32) * np.float32(spread)
        out[start:start + rows] = centres[rng.integers(0, clusters, size=rows)] + z @ mixing
    return out


CACHE = Path(__file__).resolve().parents[1] / ".bench" / "diversity"  # gitignored
#: Bump when feature_sets or prdc_exact changes what they compute: the cached exact values are then stale.
CACHE_VERSION = 2


def cached_exact(n: int, d: int, *, k: int = 5, seed: int = 0, kind: str = "partial", sets=None
                 ) -> tuple[dict, float]:
    """The exact statistics of ``feature_sets(n, d, kind=kind)`` and the seconds they took, computed once and kept
    on disk."""
    import json
    import time

    from gandiag.samples.knn import prdc_exact

    tag = "" if kind == "partial" else f"-{kind}"
    path = CACHE / f"exact-v{CACHE_VERSION}-n{n}-d{d}-k{k}-s{seed}{tag}.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        return saved["values"], saved["seconds"]
    real, fake = sets if sets is not None else feature_sets(n, d, seed=seed, kind=kind)
    start = time.perf_counter()
    values = prdc_exact(real, fake, k).as_dict()
    seconds = time.perf_counter() - start
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"values": values, "seconds": seconds}))
    return values, seconds
