"""JSON report, schema ``gandiag.report/1`` (documented in docs/report-schema.md).

Fields may be added within version 1, never renamed or removed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

from gandiag._version import __version__
from gandiag.engine.findings import Finding, Status
from gandiag.report.summary import ReportRun, as_report_runs
from gandiag.verdict.diagnosis import Diagnosis

SCHEMA = "gandiag.report/1"
#: recovered episodes kept per rule in the JSON; the rest are counted in ``episodes_omitted``
MAX_RECOVERED_PER_RULE = 50


def _num(x):
    if isinstance(x, float):
        return None if math.isnan(x) else (str(x) if math.isinf(x) else round(x, 6))
    if isinstance(x, (list, tuple)):
        return [_num(v) for v in x]
    return x


def finding_dict(f: Finding) -> dict:
    return {
        "rule": f.rule,
        "name": f.name,
        "title": f.title,
        "severity": f.severity.value,
        "status": f.status.value,
        "supports": f.supports.value if f.supports else None,
        "onset_step": f.onset_step,
        "end_step": f.end_step,
        "evidence": [{k: _num(v) for k, v in e.as_dict().items()} for e in f.evidence],
        "message": f.message,
        "fix": f.fix,
        "outcome_test": f.outcome_test,
    }


def _capped(findings: Sequence[Finding], engine_omitted: Mapping[str, int]) -> tuple[list[Finding], dict[str, int]]:
    """Every active finding; recovered ones up to MAX_RECOVERED_PER_RULE per rule (the first ones), the rest counted
    (with those the engine counted without describing them)."""
    kept, seen, omitted = [], {}, dict(engine_omitted)
    for f in findings:
        if f.status is Status.RECOVERED:
            seen[f.rule] = seen.get(f.rule, 0) + 1
            if seen[f.rule] > MAX_RECOVERED_PER_RULE:
                omitted[f.rule] = omitted.get(f.rule, 0) + 1
                continue
        kept.append(f)
    return kept, omitted


def run_dict(d: Diagnosis, *, key: str | None = None, run_id: str | None = None,
             failure: str | None = None) -> dict:
    findings, omitted = _capped(d.findings, d.episodes_omitted)
    return {
        "source": d.source,
        "key": key if key is not None else d.source,
        "run_id": run_id,
        "fails": failure is not None,
        "failure": failure,
        "inputs": dict(d.inputs),
        "verdict": d.verdict.value,
        "confidence": d.confidence,
        "probabilities": {k: _num(v) for k, v in d.probabilities.items()},
        "decision_path": d.decision_path,
        "onset_step": d.onset_step,
        "reason": d.reason,
        "loss_family": d.loss_family,
        "n_steps": d.n_steps,
        "settle_window": None if d.settle_window is None else {
            "start_step": d.settle_window.start_step,
            "end_step": d.settle_window.end_step,
            "fraction": d.settle_window.fraction,
        },
        "findings": [finding_dict(f) for f in findings],
        "episodes_omitted": omitted,
        "skipped_rules": [{"rule": c, "reason": why} for c, why in d.skipped_rules],
        "warnings": list(d.warnings),
        "snapshots": [{k: _num(v) for k, v in s.items()} for s in d.snapshots],
    }


def render(
    diagnoses: Sequence[Diagnosis | ReportRun],
    *,
    rules_digest: str,
    options: Mapping[str, object],
    errors: Sequence[tuple[str, str]] = (),
    baseline: Mapping[str, object] | None = None,
) -> str:
    """The whole report as one JSON document; ``baseline`` is added only in baseline mode."""
    runs = as_report_runs(diagnoses)
    doc = {
        "schema": SCHEMA,
        "gandiag_version": __version__,
        "rules_digest": rules_digest,
        "options": dict(options),
        "runs": [run_dict(r.diagnosis, key=r.key, run_id=r.run_id, failure=r.failure) for r in runs],
        "errors": [{"source": s, "message": m} for s, m in errors],
    }
    if baseline is not None:
        doc["baseline"] = dict(baseline)
    return json.dumps(doc, indent=2, allow_nan=False)
