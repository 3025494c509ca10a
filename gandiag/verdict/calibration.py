"""Calibrated confidence: which test decided a verdict (its decision path), and the probability of each outcome on it.

For every decision path -- which test of the outcome definition decided the
verdict, with samples or from losses alone -- a labelled corpus gives the share
of runs decided that way that ended stable, collapsed or unconverged. That
share is the confidence a report gives. The table and the fitted thresholds
ship in a small text file (``rules/scores.toml``; ``gandiag calibrate`` writes
one, :mod:`gandiag.verdict.fit`)::

    schema = "gandiag.scores/1"

    [thresholds]
    GD302 = 0.55

    [probabilities."samples/test4"]
    stable = 0.04
    mode_collapse = 0.06
    non_converged = 0.90
    runs = 97
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gandiag.engine.findings import FAILURE_VERDICTS, Finding, Severity, Status, Verdict
from gandiag.errors import InputError
from gandiag.verdict.outcome import OUTCOME_ORDER, SAMPLE_TESTS

LABELS = (Verdict.STABLE.value, Verdict.MODE_COLLAPSE.value, Verdict.NON_CONVERGED.value)
FAILURES = (Verdict.MODE_COLLAPSE.value, Verdict.NON_CONVERGED.value)
#: Additive (Laplace) smoothing of the probability table: a path seen on few runs stays uncertain.
PRIOR = 1.0
SCORES_SCHEMA = "gandiag.scores/1"


def decision_path(findings: Sequence[Finding], *, samples_judged: bool, verdict: str, reference: bool = True) -> str:
    """Which part of the outcome definition decided a verdict: ``"samples/test4"``, ``"losses/stable"`` ...

    Mirrors the order of :func:`gandiag.verdict.outcome.classify`: the first test
    whose rule holds; otherwise, with samples, ``stable``; from losses alone
    the loss heuristics' verdict (``heuristic-<verdict>``), ``stable`` or
    ``inconclusive``. Snapshots judged without a real reference have their own
    paths (``"samples-noref/stable"``): they can show repeats but not resemblance.
    """
    mode = ("samples" if reference else "samples-noref") if samples_judged else "losses"
    active = [f for f in findings if f.status is Status.ACTIVE and f.severity is Severity.ERROR
              and f.supports in FAILURE_VERDICTS]
    for test, _ in OUTCOME_ORDER:
        if test in SAMPLE_TESTS and not samples_judged:
            continue
        if any(f.outcome_test == test for f in active):
            return f"{mode}/test{test}"
    if verdict in FAILURES:
        return f"{mode}/heuristic-{verdict}"
    return f"{mode}/{verdict}"


@dataclass(frozen=True)
class PathProbabilities:
    """The corpus's outcome shares for one decision path (smoothed), and how many runs they rest on."""

    probabilities: dict[str, float]
    runs: int
    counts: dict[str, int]


def fit_probabilities(paths: Sequence[str], labels: Sequence[str], *, prior: float = PRIOR) -> dict[str, PathProbabilities]:
    """Per decision path, the smoothed share of runs of each outcome: ``(count + prior) / (runs + 3 prior)``."""
    by_path: dict[str, Counter] = defaultdict(Counter)
    for p, lab in zip(paths, labels):
        by_path[p][lab] += 1
    out = {}
    for p, counts in sorted(by_path.items()):
        n = sum(counts.values())
        probs = {lab: (counts[lab] + prior) / (n + prior * len(LABELS)) for lab in LABELS}
        out[p] = PathProbabilities({k: round(v, 4) for k, v in probs.items()}, n, {k: counts[k] for k in LABELS})
    return out


def calibration_applies(verdict: str, path: str, *, test2_unjudged: bool) -> bool:
    """Whether the probability table speaks for this verdict (used by the offline verdict and the monitor alike).

    The corpus behind the table logs discriminator accuracies, so its loss-only failure paths are "test 2 judged and
    not holding, then a heuristic". A log without accuracies cannot judge test 2: a discriminator that won lands on
    a heuristic path whose corpus probability would understate the failure. A stable verdict is unaffected (a won
    discriminator fires the loss heuristics), and a divergence (test 1) decides whatever the discriminator did.
    """
    return not (test2_unjudged and path.startswith("losses/") and verdict in FAILURES and not path.endswith("/test1"))


UNCALIBRATED_REASON = ("; confidence not calibrated: no discriminator accuracy was logged, so whether the "
                       "discriminator won outright (test 2 of the outcome definition) could not be judged")


def confidence_of(verdict: str, path: str, table: Mapping[str, PathProbabilities]) -> tuple[float, dict[str, float]] | None:
    """The calibrated probability of ``verdict`` and of each outcome on ``path``, or None when unknown."""
    entry = table.get(path)
    if entry is None or verdict not in LABELS:
        return None
    return entry.probabilities[verdict], dict(entry.probabilities)


@dataclass(frozen=True)
class Scores:
    """What a scores file holds: fitted thresholds and the probability of each outcome per decision path."""

    thresholds: dict[str, float]
    probabilities: dict[str, PathProbabilities]
    source: str = ""


def read_scores(path: str | Path) -> Scores:
    """Read a scores file (thresholds are validated by :func:`gandiag.engine.loader.load_scores`)."""
    import tomllib

    from gandiag.engine.loader import load_scores

    p = Path(path)
    thresholds = load_scores(p)
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    table = {}
    for key, entry in (data.get("probabilities") or {}).items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(lab), (int, float)) for lab in LABELS):
            raise InputError(f"probabilities.{key}: needs stable, mode_collapse and non_converged as numbers",
                             where=str(p), hint="Rewrite the file with `gandiag calibrate`")
        runs = int(entry.get("runs", 0))
        table[key] = PathProbabilities({lab: float(entry[lab]) for lab in LABELS}, runs,
                                       {lab: int(entry.get(f"{lab}_runs", 0)) for lab in LABELS})
    return Scores(thresholds, table, str(p))


def render_scores(scores: Scores, *, header: Sequence[str] = ()) -> str:
    lines = [f'schema = "{SCORES_SCHEMA}"', *(f"# {h}" for h in header), "", "[thresholds]"]
    lines += [f"{code} = {value:g}" for code, value in sorted(scores.thresholds.items())]
    for key, entry in sorted(scores.probabilities.items()):
        lines += ["", f'[probabilities."{key}"]']
        lines += [f"{lab} = {entry.probabilities[lab]:.4f}" for lab in LABELS]
        lines += [f"runs = {entry.runs}"] + [f"{lab}_runs = {entry.counts.get(lab, 0)}" for lab in LABELS]
    return "\n".join(lines) + "\n"
