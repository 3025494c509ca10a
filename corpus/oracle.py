"""The ground-truth oracle: a run's outcome as ``OUTCOMES.md`` defines it, from what the analyzer never has.

The definition (docs/outcomes.md) is applied in its order; the first test
that holds decides:

1. non-finite losses or samples -> ``non_converged``;
2. the discriminator has won outright (through the settled window its loss
   per term stays below 0.05 and its accuracy at or above 99% on real and on
   generated samples, in at least 80% of the logged rows) -> ``non_converged``.
   This is the only test that reads the losses, as the definition says;
3. one output for every input (the samples' mean pairwise distance is at most
   a fifth of the real data's, or nearly all samples -- 90% -- have a
   near-duplicate, closer than a fifth of real samples' median
   nearest-neighbour distance) -> ``mode_collapse``, whatever they look like;
4. samples that do not resemble the data (fewer than half are *good*) ->
   ``non_converged``;
5. good samples of only part of the data (at most 60% of the modes, classes
   or curve segments hold a fifth of their expected share, or the good
   samples spread markedly less than the data, under 0.6 of its mean pairwise
   distance) -> ``mode_collapse``;
6. otherwise ``stable``.

*Good* is judged against the known truth of each data family, at the scale of
its structure and not only of its noise: within the larger of the noise's
99% extent and a fifth of the gap between modes (or turns of a curve) of a
known centre or centre line; for digits, classified with confidence as one of
the family's classes by a classifier trained on the real digits and as close
to a real digit as real digits are to each other; for tabular data, as close
to a real record as real records are to each other.

A run's sample label is the most common snapshot label in its final quarter
of steps (ties go to the last snapshot); its onset is the first snapshot of
the final stretch carrying that label, ignoring single-snapshot blips. The
oracle reads ``meta.json`` only for the dataset's name and whether the loss is
a Wasserstein one (test 2 has no "loss near 0" there), never the
configuration that produced the run.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

STABLE, COLLAPSE, NONCONV = "stable", "mode_collapse", "non_converged"

# --- the definition's numbers (docs/outcomes.md)
SETTLED_FRACTION = 0.25  # the settled end of the run: its final quarter
D_WON_LOSS = 0.05  # discriminator loss per term below this ...
D_WON_ACC = 0.99  # ... and accuracy at least this on both halves ...
D_WON_SHARE = 0.8  # ... in at least this share of the settled window's logged rows
D_WON_GAP = 9  # the winning streak's onset: dips of up to this many logged rows do not break it
ONE_OUTPUT_SPREAD = 0.2  # mean pairwise distance of all samples / real data's, at or below
ONE_OUTPUT_DUPLICATES = 0.9  # share of samples with a near-duplicate, at least: (nearly) all of them repeat
DUPLICATE_FRACTION = 0.2  # near-duplicate: closer than this fraction of real samples' median NN distance
MIN_QUALITY = 0.5  # share of good samples below this: the samples do not resemble the data
MODE_MIN_SHARE = 0.2  # a mode / class / segment is covered with >= 1/5 of its expected share
MAX_COVERED_FOR_COLLAPSE = 0.6  # covered share of modes at or below this: good samples of part of the data
MIN_SPREAD = 0.6  # good samples' mean pairwise distance / real data's below this: markedly smaller spread
GAP_FRACTION = 0.2  # closeness on the scale of the structure: a fifth of the gap between modes or turns
NOISE_QUANTILE = 0.99  # closeness on the scale of the noise: the radius holding 99% of a mode's samples
CURVE_BINS = 20  # equal arc-length segments of a curve
DIGIT_MIN_CONFIDENCE = 0.5  # the classifier's top probability
DIGIT_NN_QUANTILE = 0.99  # real digits' leave-one-out nearest-neighbour distance, this quantile ...
NN_FACTOR = 1.2  # ... times this is "as close to a real digit (record) as real ones are to each other"
TABULAR_MODES = 6  # k-means clusters of a tabular data set, its "modes"
MAX_SAMPLES = 2000  # samples used per snapshot (seeded subsample)

#: Curves: the distance between neighbouring parts of the curve (turns of the spiral, the two moons,
#: crest and trough of the sine, the ring's hole), whose fifth is the closeness tolerance when it
#: exceeds the noise's extent.
CURVE_GAPS = {"spiral": 0.375, "circle": 0.5, "moons": 0.25, "sine": 0.45}


@dataclass(frozen=True)
class SnapshotVerdict:
    """The oracle's label for one snapshot, the test of the definition that decided it, and its measurements."""

    step: int
    label: str
    test: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class OracleResult:
    """A run's label, the test that decided it, its onset (``None`` when stable) and per-snapshot detail."""

    dataset: str
    label: str
    test: int
    onset_step: int | None
    snapshots: list[SnapshotVerdict] = field(default_factory=list)
    reason: str = ""

    @property
    def final_metrics(self) -> dict[str, float]:
        """The last snapshot's measurements, rounded for the manifest."""
        if not self.snapshots:
            return {}
        return {k: round(float(v), 4) for k, v in self.snapshots[-1].metrics.items()}


# ---------------------------------------------------------------------------- distances


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _nn_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each row of ``a`` to its nearest row of ``b`` (blocked)."""
    out = np.empty(len(a))
    for i in range(0, len(a), 1024):
        out[i:i + 1024] = np.sqrt(_sq_dists(a[i:i + 1024], b).min(1))
    return out


def _loo_nn(x: np.ndarray) -> np.ndarray:
    d = _sq_dists(x, x)
    np.fill_diagonal(d, np.inf)
    return np.sqrt(d.min(1))


def _mean_pairwise(x: np.ndarray) -> float:
    if len(x) < 2:
        return 0.0
    d = np.sqrt(_sq_dists(x, x))
    return float(d.sum() / (len(x) * (len(x) - 1)))


def _subsample(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    if len(x) <= n:
        return x
    return x[np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))]


# ---------------------------------------------------------------------------- the truth of each family


@dataclass(frozen=True)
class Truth:
    """What the oracle knows of a data family: how to tell a good sample, its modes, and the real data.

    ``assign(x)`` returns, for samples ``x`` (n, d), a boolean *good* mask,
    the index of the mode (class, curve segment, cluster) of each sample,
    and extra measurements. ``expected`` is each mode's share of the real
    data. ``real`` is a real sample of the family in the samples' space.
    """

    name: str
    kind: str
    expected: np.ndarray
    real: np.ndarray
    assign: Any
    tolerance: float | None = None

    @property
    def n_modes(self) -> int:
        return int(self.expected.size)

    @property
    def real_spread(self) -> float:
        return _real_spread(self.name)


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


@cache
def _dataset(name: str):
    from gandiag.data.datasets import load_dataset

    return load_dataset(name)


@cache
def _real_spread(name: str) -> float:
    return _mean_pairwise(_subsample(_flat(truth(name).real), MAX_SAMPLES, seed=1))


def _chi_quantile(d: int, q: float) -> float:
    from scipy.stats import chi2

    return float(np.sqrt(chi2.ppf(q, d)))


def _mixture_truth(name: str, spec: Any) -> Truth:
    centres = np.asarray(spec.centres, dtype=np.float64)
    weights = np.asarray(spec.weights, dtype=np.float64)
    d = centres.shape[1]
    gaps = np.sqrt(_sq_dists(centres, centres))
    np.fill_diagonal(gaps, np.inf)
    tol = max(_chi_quantile(d, NOISE_QUANTILE) * float(spec.sigma), GAP_FRACTION * float(gaps.min()))

    def assign(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        dist = np.sqrt(_sq_dists(x, centres))
        return dist.min(1) <= tol, dist.argmin(1), {}

    return Truth(name, "mixture", weights / weights.sum(), _flat(_dataset(name).x), assign, tol)


def _curve_truth(name: str, spec: Any) -> Truth:
    pts, position, _ = spec.dense()
    noise = float(spec.width)
    # distance to a centre line is one-dimensional: the noise's 99% extent across the line is the two-sided
    # normal quantile (2.58 sigma), not the 2-D radius a mode's samples need (3.03 sigma)
    extent = noise + 0.03 if "uniform" in str(spec.noise) else _chi_quantile(1, NOISE_QUANTILE) * noise
    tol = max(extent, GAP_FRACTION * CURVE_GAPS[name])
    real = _flat(_dataset(name).x)

    def assign(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        near = np.empty(len(x), dtype=np.int64)
        dist = np.empty(len(x))
        for i in range(0, len(x), 512):
            dd = _sq_dists(x[i:i + 512], pts)
            near[i:i + 512] = dd.argmin(1)
            dist[i:i + 512] = np.sqrt(dd.min(1))
        bins = np.minimum((position[near] * CURVE_BINS).astype(int), CURVE_BINS - 1)
        return dist <= tol, bins, {"median_distance": float(np.median(dist))}

    # expected share of each segment: where the real data lie along the curve
    sample = _subsample(real, 5000, seed=2)
    _, real_bins, _ = assign(sample)
    expected = np.bincount(real_bins, minlength=CURVE_BINS) / len(sample)
    return Truth(name, "curve", expected, real, assign, tol)


@dataclass(frozen=True)
class DigitModel:
    """The classifier and real-digit references the digit checks use."""

    classifier: Any
    cv_accuracy: float
    real: np.ndarray  # (n, 64) in [-1, 1]
    labels: np.ndarray


@lru_cache(maxsize=1)
def digit_model() -> DigitModel:
    """An RBF SVM on scikit-learn's 8x8 digits (scaled as the harness scales them), probabilities calibrated."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    bunch = load_digits()
    x = (bunch.images.reshape(len(bunch.images), -1) / 8.0 - 1.0).astype(np.float64)
    y = bunch.target
    svc = SVC(C=10.0, gamma="scale", random_state=0)
    cv = float(cross_val_score(svc, x, y, cv=5).mean())
    clf = CalibratedClassifierCV(svc, ensemble=False, cv=5).fit(x, y)  # probabilities from held-out folds
    return DigitModel(clf, cv, x, y)


def _to_8x8(x: np.ndarray, side: int) -> np.ndarray:
    """Images of side 8k back to 8x8 by k x k mean pooling (digits16 was upsampled from 8x8)."""
    k = side // 8
    img = x.reshape(len(x), side, side)
    return img.reshape(len(x), 8, k, 8, k).mean(axis=(2, 4)).reshape(len(x), 64)


def _digit_truth(name: str, classes: tuple[int, ...], side: int) -> Truth:
    m = digit_model()
    keep = np.isin(m.labels, classes)
    real8 = m.real[keep]
    nn_limit = NN_FACTOR * float(np.quantile(_loo_nn(real8), DIGIT_NN_QUANTILE))
    cls_index = [list(m.classifier.classes_).index(c) for c in classes]
    expected = np.array([(m.labels[keep] == c).mean() for c in classes])

    def assign(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        x8 = _to_8x8(x, side) if side != 8 else x
        proba = m.classifier.predict_proba(x8)
        top = proba.argmax(1)
        ok_class = np.isin(top, cls_index)
        good = ok_class & (proba.max(1) >= DIGIT_MIN_CONFIDENCE) & (_nn_dist(x8, real8) <= nn_limit)
        mode = np.array([cls_index.index(t) if t in cls_index else 0 for t in top])
        return good, mode, {}

    return Truth(name, "digits", expected, _flat(_dataset(name).x), assign, nn_limit)


def _tabular_truth(name: str) -> Truth:
    from sklearn.cluster import KMeans

    real = _flat(_dataset(name).x)
    nn_limit = NN_FACTOR * float(np.quantile(_loo_nn(real), DIGIT_NN_QUANTILE))
    km = KMeans(TABULAR_MODES, n_init=10, random_state=0).fit(real)
    expected = np.bincount(km.labels_, minlength=TABULAR_MODES) / len(real)

    def assign(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        return _nn_dist(x, real) <= nn_limit, km.predict(x), {}

    return Truth(name, "tabular", expected, real, assign, nn_limit)


@cache
def truth(name: str) -> Truth:
    """The oracle's knowledge of data family ``name`` (built once per process)."""
    from gandiag.data import datasets

    digit_families = {"digits": (tuple(range(10)), 8), "digits8": ((8,), 8),
                      "digits04": ((0, 1, 2, 3, 4), 8), "digits16": (tuple(range(10)), 16)}
    if name in digit_families:
        classes, side = digit_families[name]
        return _digit_truth(name, classes, side)
    spec = getattr(datasets, "POINT_SPECS", {}).get(name)
    if spec is not None and hasattr(spec, "centres"):
        return _mixture_truth(name, spec)
    if spec is not None:
        return _curve_truth(name, spec)
    if name in ("cancer",):
        return _tabular_truth(name)
    raise ValueError(f"the oracle knows no ground truth for dataset {name!r}")


# ---------------------------------------------------------------------------- one snapshot


@lru_cache(maxsize=64)
def _duplicate_distance(name: str, n: int) -> float:
    """Near-duplicate distance at sample size ``n``: a fifth of the median NN distance among n real samples.

    Five times closer than real samples usually are: an image repeated (with the small variations a
    generator adds) qualifies for nearly all samples, while a thin 2-D curve traced by a 1-D latent
    leaves about a third of its points without such a twin (measured on the corpus's latent1 runs).
    """
    r = _subsample(_flat(truth(name).real), max(n, 2), seed=3)
    return float(DUPLICATE_FRACTION * np.median(_loo_nn(r)))


def judge_snapshot(samples: np.ndarray, dataset: str) -> tuple[str, int, dict[str, float]]:
    """Label one snapshot: ``(label, test of the definition that decided it, measurements)``."""
    x = _flat(samples)
    if not np.isfinite(x).all():
        return NONCONV, 1, {"nonfinite_share": float((~np.isfinite(x)).any(1).mean())}
    t = truth(dataset)
    if x.shape[1] != t.real.shape[1]:
        raise ValueError(f"{dataset} samples have {t.real.shape[1]} values each, these have {x.shape[1]}")
    x = _subsample(x, MAX_SAMPLES)
    n = len(x)
    spread = _mean_pairwise(x) / t.real_spread
    dups = float((_loo_nn(x) <= _duplicate_distance(dataset, n)).mean()) if n > 1 else 1.0
    metrics = {"spread": spread, "duplicates": dups}
    good, mode, extra = t.assign(x)
    metrics.update(extra)
    metrics["quality"] = quality = float(good.mean())
    n_good = int(good.sum())
    counts = np.bincount(mode[good], minlength=t.n_modes)
    covered = counts >= np.maximum(1.0, MODE_MIN_SHARE * t.expected * n_good) if n_good else np.zeros(t.n_modes, bool)
    metrics["covered"] = covered_share = float(covered.mean())
    metrics["good_spread"] = good_spread = (_mean_pairwise(x[good]) / t.real_spread) if n_good > 1 else 0.0
    if spread <= ONE_OUTPUT_SPREAD or dups >= ONE_OUTPUT_DUPLICATES:
        return COLLAPSE, 3, metrics
    if quality < MIN_QUALITY:
        return NONCONV, 4, metrics
    if covered_share <= MAX_COVERED_FOR_COLLAPSE or good_spread < MIN_SPREAD:
        return COLLAPSE, 5, metrics
    return STABLE, 6, metrics


# ---------------------------------------------------------------------------- the losses' two tests


def read_history(folder: Path):
    """The run's history as a DataFrame (``history.csv`` or ``history.csv.gz``)."""
    import pandas as pd

    for name in ("history.csv.gz", "history.csv"):
        p = folder / name
        if p.is_file():
            data = p.read_bytes()
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            return pd.read_csv(io.BytesIO(data))
    raise FileNotFoundError(f"no history in {folder}")


def _episode_start(mask: np.ndarray, gap: int) -> int:
    """Start of the last episode of ``mask``, bridging gaps of at most ``gap`` rows."""
    idx = np.flatnonzero(mask)
    i = len(idx) - 1
    while i > 0 and idx[i] - idx[i - 1] - 1 <= gap:
        i -= 1
    return int(idx[i])


def loss_tests(history, loss_family: str) -> tuple[int, int, str] | None:
    """Tests 1 and 2 on the losses: ``(test, onset step, reason)`` when one holds, else ``None``."""
    steps = history["step"].to_numpy()
    n = len(steps)
    if n == 0:
        return None
    s0 = n - max(1, int(round(n * SETTLED_FRACTION)))
    loss_cols = [c for c in history.columns if "loss" in c]
    values = history[loss_cols].to_numpy(dtype=float)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():  # a diverged run: any non-finite loss (GD901 reads it the same way)
        return 1, int(steps[np.argmax(bad)]), "non-finite losses"
    if loss_family == "wgan":
        return None  # a critic's loss has no "near 0"; test 2 does not apply
    if {"d_loss_real", "d_loss_fake", "d_acc_real", "d_acc_fake"} <= set(history.columns):
        won = ((history["d_loss_real"] < D_WON_LOSS) & (history["d_loss_fake"] < D_WON_LOSS)
               & (history["d_acc_real"] >= D_WON_ACC) & (history["d_acc_fake"] >= D_WON_ACC)).to_numpy()
    elif {"d_loss", "d_acc"} <= set(history.columns):
        won = ((history["d_loss"] < D_WON_LOSS) & (history["d_acc"] >= D_WON_ACC)).to_numpy()
    else:
        return None
    share = float(won[s0:].mean())
    if share >= D_WON_SHARE:
        onset = _episode_start(won, gap=D_WON_GAP)
        return 2, int(steps[onset]), f"discriminator won outright in {share:.0%} of the settled window"
    return None


# ---------------------------------------------------------------------------- a run


def run_label(steps: list[int], labels: list[str], last_step: int) -> tuple[str, int | None]:
    """The run's label (majority of its final quarter) and onset (start of the final stretch)."""
    if not labels:
        raise ValueError("no snapshots to label")
    cutoff = (1 - SETTLED_FRACTION) * last_step
    tail = [lab for s, lab in zip(steps, labels) if s > cutoff] or labels[-1:]
    counts = {lab: tail.count(lab) for lab in tail}
    best = max(counts.values())
    winners = [lab for lab, c in counts.items() if c == best]
    final = labels[-1] if labels[-1] in winners else winners[0]
    if final == STABLE:
        return final, None
    smoothed = list(labels)
    for i in range(1, len(labels) - 1):  # a single-snapshot blip inside the final stretch does not break it
        if labels[i] != final and labels[i - 1] == final and labels[i + 1] == final:
            smoothed[i] = final
    i = max(j for j, lab in enumerate(smoothed) if lab == final)
    while i > 0 and smoothed[i - 1] == final:
        i -= 1
    return final, int(steps[i])


def label_snapshots(snapshots: dict[int, np.ndarray], dataset: str, last_step: int | None = None) -> OracleResult:
    """Label every snapshot, then the run from the snapshots alone (tests 1 and 3-6)."""
    steps = sorted(snapshots)
    verdicts = [SnapshotVerdict(s, *judge_snapshot(snapshots[s], dataset)) for s in steps]
    label, onset = run_label(steps, [v.label for v in verdicts], last_step or steps[-1])
    tail = [v for v in verdicts if v.label == label and (onset is None or v.step >= onset)] or verdicts[-1:]
    test = max(set(v.test for v in tail), key=[v.test for v in tail].count)
    return OracleResult(dataset, label, test, onset, verdicts, reason=f"samples (test {test})")


def read_run_snapshots(folder: str | Path) -> tuple[dict[str, Any], dict[int, np.ndarray], int]:
    """(meta.json, {step: samples}, last step) of a harness run folder."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    with np.load(folder / "samples.npz") as z:
        snaps = {int(k.split("_", 1)[1]): z[k].astype(np.float32) for k in z.files if k.startswith("step_")}
    return meta, snaps, int(meta.get("steps_done") or meta.get("steps") or max(snaps))


def label_run(folder: str | Path) -> OracleResult:
    """The oracle's label for a harness run folder (``meta.json``, history, ``samples.npz``)."""
    folder = Path(folder)
    meta, snaps, last = read_run_snapshots(folder)
    dataset = meta["dataset"]
    sampled = label_snapshots(snaps, dataset, last)
    early = loss_tests(read_history(folder), meta.get("loss_family", "bce"))
    if early is not None:
        test, onset, reason = early
        also = f"; the samples alone say {sampled.label}" if sampled.label != NONCONV else ""
        return OracleResult(dataset, NONCONV, test, onset, sampled.snapshots, reason=reason + also)
    return sampled
