"""Scores from a labelled corpus of runs, as SpamAssassin's mass-check and rescoring do for its rules.

The rules stay declarative and documented; what they leave open is fitted on
runs whose outcome is known (a *corpus*: a ``gandiag.manifest/1`` file whose
runs carry a ``family`` and an ``oracle_label``, as ``fixtures/corpus`` does):

1. **thresholds**: a rule condition that declares a range (``tune = [low,
   high]``) gets the threshold, within that range, under which the corpus is
   classified best (macro-F1 of the three outcomes) while at most ``bound`` of
   its stable runs are flagged as failures (:func:`fit`);
2. **probabilities**: for every *decision path* -- which test of the outcome
   definition decided the verdict, with samples or from losses alone -- the
   share of corpus runs decided that way that ended stable, collapsed or
   unconverged (:func:`fit_probabilities`). That is the calibrated confidence
   a report gives, and what a clean loss history is worth.

The work per run is done once (:func:`collect`: read the run, measure its
samples, evaluate every rule at every candidate threshold; cached on disk by
the run's files and the rule set), so that leave-one-family-out fits over
hundreds of runs take seconds. The result is a small text file
(``rules/scores.toml`` ships one; ``gandiag calibrate`` writes one)::

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

import dataclasses
import hashlib
import json
import os
import pickle
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .classify import OUTCOME_ORDER, SAMPLE_TESTS, classify
from .engine.evaluate import SignalCache, evaluate_rule, rule_applies
from .engine.model import Family, Rule
from .errors import InputError, UsageError
from .findings import FAILURE_VERDICTS, Finding, Severity, Status, Verdict

LABELS = (Verdict.STABLE.value, Verdict.MODE_COLLAPSE.value, Verdict.NON_CONVERGED.value)
FAILURES = (Verdict.MODE_COLLAPSE.value, Verdict.NON_CONVERGED.value)
#: Candidate thresholds per tuned condition: evenly spaced over its range.
GRID_POINTS = 15
#: Default bounds on the share of stable runs flagged as failures: with samples, from losses alone.
DEFAULT_BOUND = 0.05
DEFAULT_LOSS_BOUND = 0.10
#: A corpus smaller than this, or with fewer runs of any outcome, is refused.
MIN_RUNS = 30
MIN_PER_LABEL = 5
#: Additive (Laplace) smoothing of the probability table: a path seen on few runs stays uncertain.
PRIOR = 1.0
SCORES_SCHEMA = "gandiag.scores/1"


# ---------------------------------------------------------------------------- thresholds of one rule


def tuned_condition(rule: Rule) -> int | None:
    """Index of the rule's tunable condition (at most one per rule), or ``None``."""
    idx = [i for i, c in enumerate(rule.when) if c.tune is not None]
    return idx[0] if idx else None


def with_threshold(rule: Rule, value: float) -> Rule:
    """The rule with its tunable condition's threshold set to ``value``."""
    i = tuned_condition(rule)
    if i is None:
        return rule
    when = list(rule.when)
    when[i] = dataclasses.replace(when[i], value=float(value))
    return dataclasses.replace(rule, when=tuple(when))


def candidates(rule: Rule) -> tuple[float, ...]:
    """The thresholds a fit tries for ``rule``: its range in GRID_POINTS steps, and its current value."""
    i = tuned_condition(rule)
    if i is None:
        return ()
    lo, hi = rule.when[i].tune
    values = set(np.round(np.linspace(lo, hi, GRID_POINTS), 4).tolist()) | {float(rule.when[i].value)}
    return tuple(sorted(values))


# ---------------------------------------------------------------------------- one run, every threshold


@dataclass
class Case:
    """One labelled run in one mode, with every rule's findings at every candidate threshold."""

    id: str
    family: str
    label: str
    oracle_onset: int | None
    mode: str  # "samples" or "losses"
    n_rows: int
    last_step: int
    history: object
    loss_family: object
    family_reason: str
    judged: int
    samples_judged: bool
    fixed: list[Finding]
    tunable: dict[str, dict[float, list[Finding]]]
    defaults: dict[str, float] = field(default_factory=dict)  # each tunable rule's threshold as loaded
    meta: dict = field(default_factory=dict)
    ran: tuple[str, ...] = ()  # the rules that could judge this run
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # decide() per effective thresholds


def collect(prepared, rules: Mapping[str, Rule], *, id: str, family: str, label: str,
            oracle_onset: int | None, mode: str, meta: dict | None = None) -> Case:
    """Evaluate every rule on a prepared run (:func:`gandiag.api.prepare`), tunable ones at every candidate."""
    history, snaps, fam = prepared.history, prepared.snaps, prepared.family
    cache = SignalCache(history, snaps, interval=prepared.axis.interval)
    fixed: list[Finding] = []
    tunable: dict[str, dict[float, list[Finding]]] = {}
    defaults: dict[str, float] = {}
    judged, samples_judged = 0, False
    ran = []
    for code, rule in rules.items():
        if Family.ANY not in rule.families and Family(fam.value) not in rule.families:
            continue
        if rule_applies(rule, history, snaps):
            continue
        judged += 1
        ran.append(code)
        samples_judged |= rule.on_samples
        axis = prepared.snap_axis if rule.on_samples else prepared.axis
        values = candidates(rule)
        if not values:
            fixed.extend(evaluate_rule(rule, cache, axis))
            continue
        tunable[code] = {v: evaluate_rule(with_threshold(rule, v), cache, axis) for v in values}
        defaults[code] = float(rule.when[tuned_condition(rule)].value)
    return Case(id=id, family=family, label=label, oracle_onset=oracle_onset, mode=mode, n_rows=len(history),
                last_step=int(history.steps[-1]) if len(history) else 0, history=history, loss_family=fam,
                family_reason=prepared.family_reason, judged=judged, samples_judged=samples_judged,
                fixed=fixed, tunable=tunable, defaults=defaults, meta=dict(meta or {}), ran=tuple(ran))


def _nearest(values: Iterable[float], v: float) -> float:
    return min(values, key=lambda x: abs(x - v))


def findings_at(case: Case, thresholds: Mapping[str, float]) -> list[Finding]:
    """The case's findings with each tunable rule at ``thresholds`` (its loaded value where absent)."""
    findings = list(case.fixed)
    for code, by_value in case.tunable.items():
        findings.extend(by_value[_nearest(by_value, thresholds.get(code, case.defaults[code]))])
    return findings


def decide(case: Case, thresholds: Mapping[str, float]) -> tuple[str, float, int | None]:
    """The verdict, (uncalibrated) confidence and onset the analyzer gives ``case`` with these thresholds.

    Memoised per case on the thresholds that matter to it (its own tunable rules, each at the nearest
    candidate): a fit tries each combination many times, across folds too.
    """
    key = tuple(_nearest(by_value, thresholds.get(code, case.defaults[code]))
                for code, by_value in sorted(case.tunable.items()))
    hit = case.memo.get(key)
    if hit is not None:
        return hit
    verdict, confidence, onset, _ = classify(case.history, findings_at(case, thresholds), family=case.loss_family,
                                             family_reason=case.family_reason, judged_rules=case.judged,
                                             samples_judged=case.samples_judged)
    case.memo[key] = (verdict.value, confidence, onset)
    return case.memo[key]


# ---------------------------------------------------------------------------- fitting thresholds


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


def objective(cases: Sequence[Case], thresholds: Mapping[str, float], bound: float) -> float:
    """Macro-F1, less a steep penalty for every point of stable runs flagged above ``bound``."""
    verdicts = [decide(c, thresholds)[0] for c in cases]
    labels = [c.label for c in cases]
    excess = max(0.0, stable_flagged(labels, verdicts) - bound)
    return macro_f1(labels, verdicts) - 5.0 * excess


def fit(cases: Sequence[Case], rules: Mapping[str, Rule], *, bound: float = DEFAULT_BOUND,
        passes: int = 3) -> dict[str, float]:
    """Thresholds for the tunable rules that maximise :func:`objective` on ``cases`` (coordinate ascent).

    Starts from the rule files' values; each pass tries every candidate of
    every rule in code order and keeps the best (ties keep the current value,
    then the value nearest the rule file's). Deterministic.
    """
    present = sorted({code for c in cases for code in c.tunable})
    start = {code: float(rules[code].when[tuned_condition(rules[code])].value) for code in present}
    current = dict(start)
    best = objective(cases, current, bound)
    for _ in range(passes):
        changed = False
        for code in present:
            for v in candidates(rules[code]):
                if v == current[code]:
                    continue
                trial = {**current, code: v}
                score = objective(cases, trial, bound)
                closer = abs(v - start[code]) < abs(current[code] - start[code])
                if score > best + 1e-12 or (abs(score - best) <= 1e-12 and closer):
                    best, current, changed = score, trial, True
        if not changed:
            break
    return current


# ---------------------------------------------------------------------------- probabilities


def decision_path(findings: Sequence[Finding], *, samples_judged: bool, verdict: str) -> str:
    """Which part of the outcome definition decided a verdict: ``"samples/test4"``, ``"losses/stable"`` ...

    Mirrors the order of :func:`gandiag.classify.classify`: the first test
    whose rule holds; otherwise, with samples, ``stable``; from losses alone
    the loss heuristics' verdict (``heuristic-<verdict>``), ``stable`` or
    ``inconclusive``.
    """
    mode = "samples" if samples_judged else "losses"
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


def case_path(case: Case, thresholds: Mapping[str, float]) -> tuple[str, str, int | None]:
    """``(verdict, decision path, onset)`` of a case under ``thresholds``."""
    findings = findings_at(case, thresholds)
    verdict, _, onset, _ = classify(case.history, findings, family=case.loss_family,
                                    family_reason=case.family_reason, judged_rules=case.judged,
                                    samples_judged=case.samples_judged)
    return verdict.value, decision_path(findings, samples_judged=case.samples_judged, verdict=verdict.value), onset


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


# ---------------------------------------------------------------------------- scores files


@dataclass(frozen=True)
class Scores:
    """What a scores file holds: fitted thresholds and the probability of each outcome per decision path."""

    thresholds: dict[str, float]
    probabilities: dict[str, PathProbabilities]
    source: str = ""


def read_scores(path: str | Path) -> Scores:
    """Read a scores file (thresholds are validated by :func:`gandiag.engine.loader.load_scores`)."""
    import tomllib

    from .engine.loader import load_scores

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


# ---------------------------------------------------------------------------- a corpus


@dataclass(frozen=True)
class CorpusRun:
    """One labelled run of a corpus manifest, in one mode."""

    id: str
    path: Path
    family: str
    label: str
    oracle_onset: int | None
    options: dict
    meta: dict


def read_corpus(manifest: str | Path) -> list[CorpusRun]:
    """The labelled runs of a ``gandiag.manifest/1`` file (entries without ``oracle_label`` are skipped)."""
    p = Path(manifest)
    p = p / "manifest.json" if p.is_dir() else p
    if not p.is_file():
        raise InputError("corpus manifest not found", where=str(p), hint="Give a manifest.json (docs/manifest.md)")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"corpus manifest is not valid JSON ({exc})", where=str(p), hint="Fix the file") from None
    runs = doc.get("runs") if isinstance(doc, dict) else None
    if not isinstance(runs, list):
        raise InputError("not a gandiag.manifest/1 corpus", where=str(p),
                         hint='Expected {"schema": "gandiag.manifest/1", "runs": [...]}')
    out, problems = [], []
    for i, r in enumerate(runs):
        if not isinstance(r, dict) or "oracle_label" not in r:
            continue
        if r["oracle_label"] not in LABELS or not isinstance(r.get("path"), str):
            problems.append(f"runs[{i}]: oracle_label must be one of {', '.join(LABELS)} and path a string")
            continue
        meta = {k: r.get(k) for k in ("variant", "seed", "steps", "log_every", "loss", "oracle_test")}
        out.append(CorpusRun(str(r.get("id", r["path"])), (p.parent / r["path"]).resolve(),
                             str(r.get("family", "all")), r["oracle_label"], r.get("oracle_onset_step"),
                             dict(r.get("options", {})), meta))
    if problems:
        raise InputError("invalid corpus: " + "; ".join(problems[:3]), where=str(p), hint="See docs/manifest.md")
    return out


def check_corpus(runs: Sequence[CorpusRun], where: str) -> None:
    """Refuse a corpus too small or too one-sided to fit (exit 2 from the CLI)."""
    distinct = {r.path for r in runs}
    per_run = Counter({lab: len({r.path for r in runs if r.label == lab}) for lab in LABELS})
    if len(distinct) < MIN_RUNS or min(per_run.values()) < MIN_PER_LABEL:
        raise UsageError(
            f"corpus too small or too one-sided to fit: {len(distinct)} labelled runs "
            f"({', '.join(f'{per_run[lab]} {lab}' for lab in LABELS)}); need at least {MIN_RUNS} runs "
            f"and {MIN_PER_LABEL} of each outcome", where=where,
            hint="Label more runs, or keep the shipped scores")


def rules_digest(rules: Mapping[str, Rule]) -> str:
    h = hashlib.sha256()
    for code, rule in sorted(rules.items()):
        h.update(repr((code, dataclasses.replace(rule, path=""))).encode())
    return h.hexdigest()[:16]


def _files_digest(folder: Path) -> str:
    h = hashlib.sha256()
    paths = [folder] if folder.is_file() else sorted(q for q in folder.rglob("*") if q.is_file())
    for q in paths:
        st = q.stat()
        h.update(f"{q.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gandiag" / "calibrate"


def _collect_run(args: tuple[CorpusRun, str, Mapping[str, Rule], str | None]) -> Case:
    import warnings

    run, mode, rules, cache_dir = args
    from . import _version
    from .api import prepare

    key = None
    if cache_dir:
        key = hashlib.sha256(f"{run.path}|{mode}|{json.dumps(run.options, sort_keys=True)}|{_files_digest(run.path)}|"
                             f"{rules_digest(rules)}|{_version.__version__}".encode()).hexdigest()[:24]
        hit = Path(cache_dir) / f"{key}.pkl"
        if hit.is_file():
            try:
                case = pickle.loads(hit.read_bytes())
                case.id, case.family, case.label, case.oracle_onset, case.meta, case.memo = \
                    run.id, run.family, run.label, run.oracle_onset, dict(run.meta), {}
                return case
            except Exception:  # a stale or truncated cache entry is recomputed
                pass
    opts = {k: v for k, v in run.options.items() if k in ("loss", "settle_fraction", "columns", "input_format",
                                                           "d_loss_reduction")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare(run.path, no_samples=mode == "losses", **opts)
    case = collect(prepared, rules, id=run.id, family=run.family, label=run.label, oracle_onset=run.oracle_onset,
                   mode=mode, meta=run.meta)
    if key is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = Path(cache_dir) / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pickle.dumps(case))
        os.replace(tmp, Path(cache_dir) / f"{key}.pkl")
    return case


def collect_corpus(runs: Sequence[CorpusRun], rules: Mapping[str, Rule], *, jobs: int = 1,
                   cache_dir: str | Path | None = None, modes: Sequence[str] = ("samples", "losses")) -> list[Case]:
    """Every run of a corpus in every mode, evaluated (in ``jobs`` processes, cached in ``cache_dir``)."""
    todo, seen = [], set()
    for r in runs:
        for mode in modes:
            want = "losses" if r.options.get("no_samples") else "samples"
            if want != mode or (r.path, mode) in seen:
                continue
            seen.add((r.path, mode))
            todo.append((r, mode, rules, str(cache_dir) if cache_dir else None))
    if jobs > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            return list(pool.map(_collect_run, todo, chunksize=4))
    return [_collect_run(t) for t in todo]


# ---------------------------------------------------------------------------- the whole fit


@dataclass
class Calibration:
    """A fit on a corpus: thresholds per mode, probability tables, and the per-run predictions it rests on."""

    thresholds: dict[str, float]
    probabilities: dict[str, PathProbabilities]
    rows: list[dict]


def predictions(cases: Sequence[Case], thresholds: Mapping[str, float]) -> list[dict]:
    out = []
    for c in cases:
        verdict, path, onset = case_path(c, thresholds)
        out.append({"id": c.id, "family": c.family, "mode": c.mode, "label": c.label, "verdict": verdict,
                    "path": path, "onset": onset, "oracle_onset": c.oracle_onset, "last_step": c.last_step,
                    **c.meta})
    return out


def calibrate(cases: Sequence[Case], rules: Mapping[str, Rule], *, bound: float = DEFAULT_BOUND,
              loss_bound: float = DEFAULT_LOSS_BOUND) -> Calibration:
    """Fit thresholds (sample rules with samples, loss rules from losses alone) and the probability tables."""
    with_samples = [c for c in cases if c.mode == "samples"]
    losses = [c for c in cases if c.mode == "losses"]
    thresholds: dict[str, float] = {}
    if losses:
        thresholds.update(fit(losses, rules, bound=loss_bound))
    if with_samples:
        sample_codes = {code for code, r in rules.items() if r.on_samples}
        fitted = fit(with_samples, rules, bound=bound)
        thresholds.update({k: v for k, v in fitted.items() if k in sample_codes or k not in thresholds})
    rows = predictions(cases, thresholds)
    table = fit_probabilities([r["path"] for r in rows], [r["label"] for r in rows])
    for r in rows:
        r["confidence"] = table[r["path"]].probabilities.get(r["verdict"], 0.0) if r["verdict"] in LABELS else 0.0
        r["probabilities"] = dict(table[r["path"]].probabilities)
    return Calibration(thresholds, table, rows)


_FOLD_INPUT: tuple = ()  # (cases, rules, bound, loss_bound), inherited by forked fold workers


def _fit_fold(fam: str) -> tuple[str, dict[str, float], list[dict]]:
    cases, rules, bound, loss_bound = _FOLD_INPUT
    cal = calibrate([c for c in cases if c.family != fam], rules, bound=bound, loss_bound=loss_bound)
    held = predictions([c for c in cases if c.family == fam], cal.thresholds)
    for r in held:
        entry = cal.probabilities.get(r["path"])
        if entry is None:  # a path the other families never took: no calibrated probability
            uniform = 1.0 / len(LABELS)
            r["probabilities"] = {lab: uniform for lab in LABELS}
        else:
            r["probabilities"] = dict(entry.probabilities)
        r["confidence"] = r["probabilities"].get(r["verdict"], 0.0)
    return fam, cal.thresholds, held


def leave_one_family_out(cases: Sequence[Case], rules: Mapping[str, Rule], *, bound: float = DEFAULT_BOUND,
                         loss_bound: float = DEFAULT_LOSS_BOUND, jobs: int = 1,
                         ) -> tuple[list[dict], dict[str, dict[str, float]]]:
    """Predictions for every case from a calibration fitted without its family; and each fold's thresholds.

    Folds run in ``jobs`` forked processes where the platform forks (the cases are inherited, not pickled).
    """
    global _FOLD_INPUT
    families = sorted({c.family for c in cases})
    _FOLD_INPUT = (list(cases), rules, bound, loss_bound)
    try:
        import multiprocessing as mp

        if jobs > 1 and len(families) > 1 and "fork" in mp.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(min(jobs, len(families)), mp_context=mp.get_context("fork")) as pool:
                results = list(pool.map(_fit_fold, families))
        else:
            results = [_fit_fold(fam) for fam in families]
    finally:
        _FOLD_INPUT = ()
    rows, fitted = [], {}
    for fam, thresholds, held in results:
        fitted[fam] = thresholds
        rows += held
    return rows, fitted


# ---------------------------------------------------------------------------- figures


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


# ---------------------------------------------------------------------------- rule statistics


def rule_stats(cases: Sequence[Case], rules: Mapping[str, Rule], thresholds: Mapping[str, float]) -> list[dict]:
    """Per rule (SpamAssassin's hit-frequencies): active and recovered counts per outcome, precision, misfires."""
    out = []
    for code, rule in sorted(rules.items()):
        active: Counter = Counter()
        recovered: Counter = Counter()
        judged: Counter = Counter()
        against = []
        for c in cases:
            if code not in c.ran:
                continue
            judged[c.label] += 1
            fs = [f for f in findings_at(c, thresholds) if f.rule == code]
            if any(f.status is Status.ACTIVE for f in fs):
                active[c.label] += 1
                if rule.supports is not None and c.label != rule.supports.value:
                    against.append(f"{c.id} ({c.label})")
            elif fs:
                recovered[c.label] += 1
        supports = rule.supports.value if rule.supports else None
        hits = sum(active.values())
        out.append({
            "rule": code, "name": rule.name, "supports": supports, "outcome_test": rule.outcome_test,
            "judged": {lab: judged[lab] for lab in LABELS}, "active": {lab: active[lab] for lab in LABELS},
            "recovered": {lab: recovered[lab] for lab in LABELS},
            "precision": (active[supports] / hits) if hits and supports else None,
            "recall": (active[supports] / judged[supports]) if supports and judged[supports] else None,
            "fires_against_label": against,
        })
    return out

