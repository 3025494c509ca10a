"""The ground-truth oracle: label a run from its generated samples against the known data.

The oracle exists to measure the analyzer, so it must not share the
analyzer's blind spots. It never looks at losses or at the configuration; it
uses what the analyzer never has:

- **ring8 / grid25**: the mode centres and their standard deviation. Quality
  is the share of *high-quality* samples (within ``3 sigma`` of a centre, the
  measure of the Unrolled-GAN / VEEGAN / PacGAN papers); coverage is the
  number of modes holding at least a fifth of their fair share of samples.
- **spiral**: the true curve. Quality is the share of samples within the
  data's lateral spread (plus a margin) of the curve; coverage is the share
  of 20 equal arc-length bins holding a fifth of their fair share.
- **digits**: a scikit-learn classifier trained on the 8x8 digits (its
  cross-validated accuracy is reported). A sample is *good* when the
  classifier is confident **and** it lies as close to a real digit as real
  digits lie to each other; diversity is the number of classes covered, the
  entropy of the class histogram and the spread of the good samples relative
  to real digits.
- **digits8**: good = classified as an 8 with confidence and close to a real
  8; diversity = mean pairwise distance relative to real 8s and the share of
  near-duplicate pairs.

The order of the checks is deliberate: **quality first**. A generator that
emits the same garbage image for every z is both collapsed and
non-converged; it is labelled ``non_converged``, because its samples do not
resemble the data at all and more diversity would not fix that (the
tutorial's combined-batch failure looks like this on 8x8 images). Only
samples that resemble the data are judged for diversity (``mode_collapse``).

A run's label is the most common snapshot label in its final quarter of
steps (ties go to the last snapshot's label); its onset is the first snapshot
of the final stretch carrying that label, ignoring single-snapshot blips.
Thresholds and the figures they were checked against are in
``fixtures/corpus/README.md``.

This module is imported by the corpus script, the accuracy benchmark and the
tests -- never by the analyzer (a test checks that).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

STABLE, COLLAPSE, NONCONV = "stable", "mode_collapse", "non_converged"

# --- thresholds (calibrated by looking at figures; see fixtures/corpus/README.md)
MIXTURE_SIGMAS = 3.0  # a sample within 3 standard deviations of a centre is high quality
MIXTURE_MIN_QUALITY = 0.5  # below: the samples do not sit on the modes -> non_converged
MODE_MIN_SHARE = 0.2  # a mode / bin / class is covered with >= 1/5 of its fair share
MIXTURE_MIN_COVERAGE = 0.8  # share of modes covered below this -> mode_collapse
SPIRAL_HALF_WIDTH = 0.04  # the data's lateral spread (uniform +-0.04 around the curve)
SPIRAL_MARGIN = 0.03  # tolerance added to it for a sample to count as on the curve
SPIRAL_BINS = 20
SPIRAL_MIN_QUALITY = 0.5
SPIRAL_MIN_COVERAGE = 0.7
DIGIT_MIN_CONFIDENCE = 0.5  # the classifier's top probability
DIGIT_NN_QUANTILE = 0.99  # real digits' own leave-one-out nearest-neighbour distance, this quantile ...
DIGIT_NN_FACTOR = 1.2  # ... times this is "close to a real digit" (blurry but readable; see the README)
DIGIT_MIN_QUALITY = 0.3
DIGIT_MIN_CLASSES = 8  # of 10 classes, each with >= 1/5 of its fair share of good samples
DIGIT_MIN_ENTROPY = 0.85  # entropy of the good samples' class histogram / log(10); real digits: 1.0
DIGIT_MIN_SPREAD = 0.7  # mean pairwise distance of good samples / that of real digits
DIGIT8_MIN_SPREAD = 0.7
DIGIT8_MAX_DUPLICATES = 0.05  # share of pairs closer than real 8s' 1st-percentile pair distance


@dataclass(frozen=True)
class SnapshotVerdict:
    """The oracle's label for one snapshot, with the measurements behind it."""

    step: int
    label: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class OracleResult:
    """A run's oracle label, onset step (``None`` for stable runs) and per-snapshot detail."""

    dataset: str
    label: str
    onset_step: int | None
    snapshots: list[SnapshotVerdict] = field(default_factory=list)

    @property
    def final_metrics(self) -> dict[str, float]:
        """The last snapshot's measurements, rounded for the manifest."""
        if not self.snapshots:
            return {}
        return {k: round(float(v), 4) for k, v in self.snapshots[-1].metrics.items()}


# ---------------------------------------------------------------------------- known data


def mixture_centres(dataset: str) -> tuple[np.ndarray, float]:
    """Mode centres and standard deviation of ``ring8`` / ``grid25`` (as the harness draws them)."""
    if dataset == "ring8":
        angle = 2 * np.pi * np.arange(8) / 8
        return 0.8 * np.stack([np.cos(angle), np.sin(angle)], axis=1), 0.03
    if dataset == "grid25":
        ij = np.stack(np.meshgrid(np.arange(5), np.arange(5), indexing="ij"), -1).reshape(-1, 2)
        return -0.8 + 0.4 * ij.astype(float), 0.025
    raise ValueError(f"{dataset} is not a Gaussian mixture")


@lru_cache(maxsize=1)
def spiral_curve(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Dense points on the spiral's centre curve and their arc-length position in [0, 1]."""
    t = np.linspace(0.0, 1.0, n)
    theta = 4 * np.pi * t
    r = 0.15 + 0.75 * t
    pts = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    return pts, arc / arc[-1]


@dataclass(frozen=True)
class DigitOracle:
    """The classifier and the real-digit references the digit checks use."""

    classifier: Any
    cv_accuracy: float
    real: np.ndarray  # (n, 64) in [-1, 1]
    labels: np.ndarray
    nn_threshold: float  # real digits' DIGIT_NN_QUANTILE leave-one-out nearest-neighbour distance
    real_spread: float  # mean pairwise distance among real digits
    real8_nn_threshold: float
    real8_spread: float
    real8_dup_distance: float


@lru_cache(maxsize=1)
def digit_oracle() -> DigitOracle:
    """Train (once per process) the classifier on scikit-learn's digits, scaled as the harness scales them."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    bunch = load_digits()
    x = (bunch.images.reshape(len(bunch.images), -1) / 8.0 - 1.0).astype(np.float64)
    y = bunch.target
    from sklearn.calibration import CalibratedClassifierCV

    svc = SVC(C=10.0, gamma="scale", random_state=0)
    cv = float(cross_val_score(svc, x, y, cv=5).mean())
    clf = CalibratedClassifierCV(svc, ensemble=False, cv=5).fit(x, y)  # probabilities from held-out folds
    eights = x[y == 8]
    return DigitOracle(
        classifier=clf, cv_accuracy=cv, real=x, labels=y,
        nn_threshold=DIGIT_NN_FACTOR * _loo_nn_quantile(x, DIGIT_NN_QUANTILE), real_spread=_mean_pairwise(x),
        real8_nn_threshold=DIGIT_NN_FACTOR * _loo_nn_quantile(eights, DIGIT_NN_QUANTILE), real8_spread=_mean_pairwise(eights),
        real8_dup_distance=float(np.quantile(_pairwise(eights), 0.01)),
    )


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _pairwise(x: np.ndarray) -> np.ndarray:
    iu = np.triu_indices(len(x), 1)
    return np.sqrt(_sq_dists(x, x)[iu])


def _mean_pairwise(x: np.ndarray) -> float:
    return float(_pairwise(x).mean()) if len(x) > 1 else 0.0


def _loo_nn_quantile(x: np.ndarray, q: float) -> float:
    d = _sq_dists(x, x)
    np.fill_diagonal(d, np.inf)
    return float(np.quantile(np.sqrt(d.min(1)), q))


def _nn_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(_sq_dists(a, b).min(1))


# ---------------------------------------------------------------------------- per-snapshot checks


def _decide(metrics: dict[str, float], min_quality: float, collapsed: bool) -> tuple[str, dict[str, float]]:
    """The documented order, in one place: samples that resemble nothing are non-converged, whatever their diversity."""
    if metrics["quality"] < min_quality:
        return NONCONV, metrics
    return (COLLAPSE if collapsed else STABLE), metrics


def _covered(counts: np.ndarray, n: int) -> int:
    fair = n / len(counts)
    return int((counts >= max(1.0, MODE_MIN_SHARE * fair)).sum())


def judge_mixture(samples: np.ndarray, dataset: str) -> tuple[str, dict[str, float]]:
    centres, sigma = mixture_centres(dataset)
    x = samples.reshape(len(samples), -1).astype(np.float64)
    d = np.sqrt(_sq_dists(x, centres))
    nearest = d.argmin(1)
    good = d.min(1) <= MIXTURE_SIGMAS * sigma
    quality = float(good.mean())
    counts = np.bincount(nearest[good], minlength=len(centres))
    covered = _covered(counts, len(x))
    coverage = covered / len(centres)
    metrics = {"quality": quality, "modes_covered": float(covered), "coverage": coverage}
    return _decide(metrics, MIXTURE_MIN_QUALITY, coverage < MIXTURE_MIN_COVERAGE)


def judge_spiral(samples: np.ndarray) -> tuple[str, dict[str, float]]:
    curve, position = spiral_curve()
    x = samples.reshape(len(samples), -1).astype(np.float64)
    d = _sq_dists(x, curve)
    nearest = d.argmin(1)
    dist = np.sqrt(d[np.arange(len(x)), nearest])
    good = dist <= SPIRAL_HALF_WIDTH + SPIRAL_MARGIN
    quality = float(good.mean())
    bins = np.minimum((position[nearest[good]] * SPIRAL_BINS).astype(int), SPIRAL_BINS - 1)
    counts = np.bincount(bins, minlength=SPIRAL_BINS)
    coverage = _covered(counts, len(x)) / SPIRAL_BINS
    metrics = {"quality": quality, "coverage": coverage, "median_distance": float(np.median(dist))}
    return _decide(metrics, SPIRAL_MIN_QUALITY, coverage < SPIRAL_MIN_COVERAGE)


def _classified(samples: np.ndarray) -> tuple[DigitOracle, np.ndarray, np.ndarray]:
    """(the digit oracle, flattened samples, class probabilities)."""
    o = digit_oracle()
    x = samples.reshape(len(samples), -1).astype(np.float64)
    return o, x, o.classifier.predict_proba(x)


def judge_digits(samples: np.ndarray) -> tuple[str, dict[str, float]]:
    o, x, proba = _classified(samples)
    cls = proba.argmax(1)
    good = (proba.max(1) >= DIGIT_MIN_CONFIDENCE) & (_nn_dist(x, o.real) <= o.nn_threshold)
    quality = float(good.mean())
    counts = np.bincount(cls[good], minlength=10)
    n_good = int(good.sum())
    classes = _covered(counts, n_good) if n_good else 0
    p = counts[counts > 0] / max(1, n_good)
    entropy = float(-(p * np.log(p)).sum() / np.log(10)) if n_good else 0.0
    spread = _mean_pairwise(x[good]) / o.real_spread if n_good > 1 else 0.0
    metrics = {"quality": quality, "classes_covered": float(classes), "class_entropy": entropy,
               "spread_ratio": spread}
    return _decide(metrics, DIGIT_MIN_QUALITY,
                   classes < DIGIT_MIN_CLASSES or entropy < DIGIT_MIN_ENTROPY or spread < DIGIT_MIN_SPREAD)


def judge_digits8(samples: np.ndarray) -> tuple[str, dict[str, float]]:
    o, x, proba = _classified(samples)
    eight = list(o.classifier.classes_).index(8)
    good = (proba.argmax(1) == eight) & (proba[:, eight] >= DIGIT_MIN_CONFIDENCE) & \
        (_nn_dist(x, o.real[o.labels == 8]) <= o.real8_nn_threshold)
    quality = float(good.mean())
    g = x[good]
    spread = _mean_pairwise(g) / o.real8_spread if len(g) > 1 else 0.0
    dups = float((_pairwise(g) < o.real8_dup_distance).mean()) if len(g) > 1 else 1.0
    metrics = {"quality": quality, "spread_ratio": spread, "duplicate_pairs": dups}
    return _decide(metrics, DIGIT_MIN_QUALITY, spread < DIGIT8_MIN_SPREAD or dups > DIGIT8_MAX_DUPLICATES)


def judge_snapshot(samples: np.ndarray, dataset: str) -> tuple[str, dict[str, float]]:
    """Label one snapshot of generated samples; non-finite samples are non-converged."""
    samples = np.asarray(samples, dtype=np.float64)
    if not np.isfinite(samples).all():
        return NONCONV, {"quality": 0.0, "nonfinite_share": float((~np.isfinite(samples)).mean())}
    if dataset in ("ring8", "grid25"):
        return judge_mixture(samples, dataset)
    if dataset == "spiral":
        return judge_spiral(samples)
    if dataset == "digits":
        return judge_digits(samples)
    if dataset == "digits8":
        return judge_digits8(samples)
    raise ValueError(f"the oracle knows no ground truth for dataset {dataset!r}")


# ---------------------------------------------------------------------------- a run


def run_label(steps: list[int], labels: list[str], last_step: int) -> tuple[str, int | None]:
    """The run's label (majority of its final quarter) and onset (start of the final stretch)."""
    if not labels:
        raise ValueError("no snapshots to label")
    cutoff = 0.75 * last_step
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
    # the last stretch carrying the final label (trailing snapshots that differ do not move it)
    i = max(j for j, lab in enumerate(smoothed) if lab == final)
    while i > 0 and smoothed[i - 1] == final:
        i -= 1
    return final, int(steps[i])


def label_snapshots(snapshots: dict[int, np.ndarray], dataset: str, last_step: int | None = None) -> OracleResult:
    """Label every snapshot, then the run."""
    steps = sorted(snapshots)
    verdicts = [SnapshotVerdict(s, *judge_snapshot(snapshots[s], dataset)) for s in steps]
    label, onset = run_label(steps, [v.label for v in verdicts], last_step or steps[-1])
    return OracleResult(dataset, label, onset, verdicts)


def read_run_snapshots(folder: str | Path) -> tuple[str, dict[int, np.ndarray], int]:
    """(dataset, {step: samples}, last step) of a harness run folder."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    with np.load(folder / "samples.npz") as z:
        snaps = {int(k.split("_", 1)[1]): z[k].astype(np.float32) for k in z.files if k.startswith("step_")}
    return meta["dataset"], snaps, int(meta.get("steps_done") or meta.get("steps") or max(snaps))


def label_run(folder: str | Path) -> OracleResult:
    """The oracle's label for a harness run folder (``meta.json`` + ``samples.npz``)."""
    dataset, snaps, last = read_run_snapshots(folder)
    return label_snapshots(snaps, dataset, last)
