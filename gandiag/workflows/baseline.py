"""Baseline mode: compare each run's verdict with the one recorded in an earlier JSON report.

A pre-merge check should fail on what a change made worse, not on every run
that was already failing on the main branch. Runs are matched by their path
relative to the analyzed root (the ``key`` the JSON report records) or, when
both sides have one, by the run id in ``meta.json``; a report written before
keys existed is matched by its ``source`` path.

Verdicts are ranked stable < inconclusive < mode_collapse = non_converged:
moving between the two failures is not "worse", and a run that got better is
reported but never fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gandiag.engine.findings import Verdict
from gandiag.errors import InputError, LimitError
from gandiag.verdict.diagnosis import Diagnosis
from gandiag.workflows.batch import RunTarget

#: how bad a verdict is; equal ranks are not a regression
VERDICT_RANK: Mapping[Verdict, int] = {
    Verdict.STABLE: 0,
    Verdict.INCONCLUSIVE: 1,
    Verdict.MODE_COLLAPSE: 2,
    Verdict.NON_CONVERGED: 2,
}


class Change(StrEnum):
    WORSE = "worse"  # fails the check
    NEW_FAILING = "new_failing"  # not in the baseline and fails --fail-on: fails the check
    NEW = "new"
    BETTER = "better"
    SAME = "same"
    GONE = "gone"  # in the baseline, not analyzed now


@dataclass(frozen=True)
class BaselineRun:
    key: str
    run_id: str | None
    source: str
    verdict: Verdict


@dataclass(frozen=True)
class Comparison:
    key: str
    change: Change
    before: Verdict | None
    after: Verdict | None
    source: str | None = None  # the history analyzed now (None when gone)

    @property
    def fails(self) -> bool:
        return self.change in (Change.WORSE, Change.NEW_FAILING)

    def describe(self) -> str:
        """One phrase for reports: what changed and why it does or does not fail."""
        if self.change is Change.WORSE:
            return f"got worse: {self.before} -> {self.after} (baseline)"
        if self.change is Change.NEW_FAILING:
            return f"new run fails: {self.after} (not in the baseline)"
        if self.change is Change.BETTER:
            return f"improved: {self.before} -> {self.after}"
        if self.change is Change.NEW:
            return f"new run: {self.after}"
        if self.change is Change.GONE:
            return f"not analyzed now (baseline: {self.before})"
        return f"unchanged: {self.after}"


def load_baseline(path: str | Path) -> list[BaselineRun]:
    """The runs of a ``gandiag.report/1`` JSON report, as the baseline to compare with."""
    from gandiag.infra.files import check_input_path
    from gandiag.infra.limits import current_limits

    p = Path(path)
    where = str(p)
    if not p.exists():
        raise InputError("baseline report not found", where=where,
                         hint="Write one on the main branch with `gandiag analyze RUNS -f json > report.json`")
    st = check_input_path(p, what="baseline report")
    limits = current_limits()
    if st.st_size > limits.max_doc_bytes:
        raise LimitError(f"baseline report of more than {limits.max_doc_bytes:,} bytes", where=where,
                         hint=limits.raise_hint("max_doc_bytes"))
    if not p.is_file():
        raise InputError("baseline report is a folder", where=where, hint="Give the JSON file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"baseline report is not JSON ({type(exc).__name__})", where=where,
                         hint="Give the output of `gandiag analyze ... -f json`") from None
    if not isinstance(doc, dict) or doc.get("schema") != "gandiag.report/1" or not isinstance(doc.get("runs"), list):
        raise InputError("baseline is not a gandiag.report/1 JSON report", where=where,
                         hint="Give the output of `gandiag analyze ... -f json`")
    runs = []
    for i, run in enumerate(doc["runs"]):
        try:
            verdict = Verdict(run["verdict"])
            source = str(run["source"])
            if not isinstance(run["source"], str):
                raise TypeError("source")
        except (KeyError, TypeError, ValueError):
            raise InputError("run has no valid source and verdict", where=f"{where}:runs[{i}]",
                             hint="Regenerate the baseline with `gandiag analyze ... -f json`") from None
        run_id = run.get("run_id")
        key = run.get("key")
        key = key if isinstance(key, str) and key else source
        run_id = str(run_id) if isinstance(run_id, (str, int)) and not isinstance(run_id, bool) and run_id else None
        runs.append(BaselineRun(key, run_id, source, verdict))
    return runs


def compare(current: Iterable[tuple[RunTarget, Diagnosis]], baseline: Sequence[BaselineRun],
            fail_verdicts: Iterable[Verdict]) -> list[Comparison]:
    """One comparison per current run, then one per baseline run that was not matched."""
    fail_set = set(fail_verdicts)
    by_id = {b.run_id: b for b in baseline if b.run_id}
    by_key = {b.key: b for b in baseline}
    by_source = {b.source: b for b in baseline}
    matched: set[int] = set()
    out = []
    for target, d in current:
        base = (by_id.get(target.run_id) if target.run_id else None) or by_key.get(target.key) \
            or by_source.get(d.source)
        if base is None:
            change = Change.NEW_FAILING if d.verdict in fail_set else Change.NEW
            out.append(Comparison(target.key, change, None, d.verdict, d.source))
            continue
        matched.add(id(base))
        step = VERDICT_RANK[d.verdict] - VERDICT_RANK[base.verdict]
        change = Change.WORSE if step > 0 else Change.BETTER if step < 0 else Change.SAME
        out.append(Comparison(target.key, change, base.verdict, d.verdict, d.source))
    for b in baseline:
        if id(b) not in matched:
            out.append(Comparison(b.key, Change.GONE, b.verdict, None))
    return out


def summary_line(comparisons: Iterable[Comparison], baseline_path: str) -> str:
    """'baseline report.json: 1 worse, 2 unchanged ...' for the end of every report."""
    counts: dict[Change, int] = {}
    for c in comparisons:
        counts[c.change] = counts.get(c.change, 0) + 1
    parts = [f"{counts[c]} {c.value.replace('_', ' ')}" for c in Change if counts.get(c)]
    return f"baseline {baseline_path}: " + (", ".join(parts) if parts else "no runs")
