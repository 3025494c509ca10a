"""How well verdicts match labels: macro-F1, stable runs flagged, calibration error, Brier score, onset error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gandiag.engine.findings import Verdict
from gandiag.verdict.calibration import FAILURES, LABELS


def macro_f1(labels: Sequence[str], verdicts: Sequence[str]) -> float:
    f1s = []
    for lab in LABELS:
        tp = sum(a == lab and b == lab for a, b in zip(labels, verdicts))
        pred = sum(b == lab for b in verdicts)
        true = sum(a == lab for a in labels)
        if not true:
            continue
        p = tp / pred if pred else 0.0
        r = tp / true
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def stable_flagged(labels: Sequence[str], verdicts: Sequence[str]) -> float:
    flagged = [b in FAILURES for a, b in zip(labels, verdicts) if a == Verdict.STABLE.value]
    return float(np.mean(flagged)) if flagged else 0.0


def scores_of(rows: Sequence[dict]) -> dict[str, float]:
    """macro-F1, per-label precision/recall, failing runs caught, stable flagged, onset error, ECE, Brier."""
    out: dict[str, float] = {}
    f1s = []
    for lab in LABELS:
        tp = sum(r["label"] == lab and r["verdict"] == lab for r in rows)
        pred = sum(r["verdict"] == lab for r in rows)
        true = sum(r["label"] == lab for r in rows)
        p = tp / pred if pred else 0.0
        rec = tp / true if true else float("nan")
        out[f"precision_{lab}"], out[f"recall_{lab}"] = p, rec
        if true:
            f1s.append(2 * p * rec / (p + rec) if p + rec > 0 else 0.0)
    out["macro_f1"] = float(np.mean(f1s)) if f1s else float("nan")
    stable = [r for r in rows if r["label"] == Verdict.STABLE.value]
    failing = [r for r in rows if r["label"] in FAILURES]
    out["stable_flagged"] = float(np.mean([r["verdict"] in FAILURES for r in stable])) if stable else float("nan")
    out["failures_caught"] = float(np.mean([r["verdict"] in FAILURES for r in failing])) if failing else float("nan")
    lat = onset_errors(rows)
    out["onset_error_median"] = float(np.median(lat)) if lat else float("nan")
    out["onset_abs_error_median"] = float(np.median(np.abs(lat))) if lat else float("nan")
    if rows and "confidence" in rows[0]:
        out["ece"] = expected_calibration_error(rows)
        out["brier"] = brier(rows)
        out["mean_confidence"] = float(np.mean([r["confidence"] for r in rows]))
        out["accuracy"] = float(np.mean([r["verdict"] == r["label"] for r in rows]))
    return out


def onset_errors(rows: Sequence[dict]) -> list[float]:
    return [(r["onset"] - r["oracle_onset"]) / r["last_step"] for r in rows
            if r["label"] in FAILURES and r["verdict"] in FAILURES and r["onset"] is not None
            and r["oracle_onset"] is not None and r["last_step"]]


def expected_calibration_error(rows: Sequence[dict], bins: int = 10) -> float:
    """ECE of the confidence in the verdict: sum over confidence bins of |accuracy - confidence| x share."""
    conf = np.array([r["confidence"] for r in rows], dtype=float)
    right = np.array([r["verdict"] == r["label"] for r in rows], dtype=float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(right[idx == b].mean() - conf[idx == b].mean()) * (idx == b).mean()
                     for b in range(bins) if (idx == b).any()))


def brier(rows: Sequence[dict]) -> float:
    """Multi-class Brier score of the per-outcome probabilities (0 perfect, 2 worst)."""
    return float(np.mean([sum((r["probabilities"].get(lab, 0.0) - (r["label"] == lab)) ** 2 for lab in LABELS)
                          for r in rows]))


def reliability(rows: Sequence[dict], bins: int = 10) -> list[tuple[float, float, int]]:
    """``(mean confidence, accuracy, runs)`` per confidence bin: the reliability diagram's points."""
    conf = np.array([r["confidence"] for r in rows], dtype=float)
    right = np.array([r["verdict"] == r["label"] for r in rows], dtype=float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return [(float(conf[idx == b].mean()), float(right[idx == b].mean()), int((idx == b).sum()))
            for b in range(bins) if (idx == b).any()]
