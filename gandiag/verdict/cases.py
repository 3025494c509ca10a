"""A labelled corpus of runs, each evaluated once under every candidate threshold (SpamAssassin's mass-check).

The work per run is done once (:func:`collect`: read the run, measure its
samples, evaluate every rule at every candidate threshold; cached on disk by
the run's files and the rule set), so that fits over hundreds of runs
(:mod:`gandiag.verdict.fit`) take seconds. A corpus is a
``gandiag.manifest/1`` file whose runs carry a ``family`` and an
``oracle_label``, as ``fixtures/corpus`` does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gandiag.engine.evaluate import SignalCache, evaluate_rule, rule_applies
from gandiag.engine.findings import Finding
from gandiag.engine.model import Family, Rule
from gandiag.errors import InputError, UsageError
from gandiag.verdict.calibration import LABELS, decision_path
from gandiag.verdict.outcome import classify

#: Candidate thresholds per tuned condition: evenly spaced over its range.
GRID_POINTS = 15
#: A corpus smaller than this, or with fewer runs of any outcome, is refused.
MIN_RUNS = 30
MIN_PER_LABEL = 5


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


@dataclass
class Case:
    """One labelled run in one mode, with every rule's findings at every candidate threshold."""

    id: str
    family: str
    label: str
    oracle_onset: int | None
    mode: str  # "samples", "losses" or "noref" (the snapshots without their reference)
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
    memo: dict = field(default_factory=dict, repr=False, compare=False)
    reference_judged: bool = True  # the snapshots were compared with a real reference  # decide() per effective thresholds


def collect(prepared, rules: Mapping[str, Rule], *, id: str, family: str, label: str,
            oracle_onset: int | None, mode: str, meta: dict | None = None) -> Case:
    """Evaluate every rule on a prepared run (:func:`gandiag.verdict.judge.prepare`), tunable ones at every candidate."""
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
                fixed=fixed, tunable=tunable, defaults=defaults, meta=dict(meta or {}), ran=tuple(ran),
                reference_judged=prepared.reference_judged)


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
                                             samples_judged=case.samples_judged,
                                             reference_judged=case.reference_judged)
    case.memo[key] = (verdict.value, confidence, onset)
    return case.memo[key]


def case_path(case: Case, thresholds: Mapping[str, float]) -> tuple[str, str, int | None]:
    """``(verdict, decision path, onset)`` of a case under ``thresholds``."""
    findings = findings_at(case, thresholds)
    verdict, _, onset, _ = classify(case.history, findings, family=case.loss_family,
                                    family_reason=case.family_reason, judged_rules=case.judged,
                                    samples_judged=case.samples_judged, reference_judged=case.reference_judged)
    path = decision_path(findings, samples_judged=case.samples_judged, verdict=verdict.value,
                         reference=case.reference_judged)
    return verdict.value, path, onset


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
    from gandiag import _version
    from gandiag.verdict.judge import prepare

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
        prepared = prepare(run.path, no_samples=mode == "losses", no_real=mode == "noref", **opts)
    case = collect(prepared, rules, id=run.id, family=run.family, label=run.label, oracle_onset=run.oracle_onset,
                   mode=mode, meta=run.meta)
    if key is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = Path(cache_dir) / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pickle.dumps(case))
        os.replace(tmp, Path(cache_dir) / f"{key}.pkl")
    return case


def collect_corpus(runs: Sequence[CorpusRun], rules: Mapping[str, Rule], *, jobs: int = 1,
                   cache_dir: str | Path | None = None,
                   modes: Sequence[str] = ("samples", "losses", "noref")) -> list[Case]:
    """Every run of a corpus in every mode, evaluated (in ``jobs`` processes, cached in ``cache_dir``).

    ``noref`` is each run with samples judged again without its real reference: what a verdict from snapshots
    alone is worth (its own decision paths; no threshold is fitted on it).
    """
    todo, seen = [], set()
    for r in runs:
        for mode in modes:
            want = "losses" if r.options.get("no_samples") else "samples"
            if want != (mode if mode != "noref" else "samples") or (r.path, mode) in seen:
                continue
            seen.add((r.path, mode))
            todo.append((r, mode, rules, str(cache_dir) if cache_dir else None))
    if jobs > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            return list(pool.map(_collect_run, todo, chunksize=4))
    return [_collect_run(t) for t in todo]
