"""SARIF 2.1.0 for code scanning (GitHub's ``upload-sarif``, and any SARIF viewer).

One ``run`` of the tool ``gandiag`` whose ``rules`` are every rule loaded (id,
name, title, what it does, the fix, the default level), and one ``result`` per
located issue (:mod:`gandiag.report.codescan`): the rule, the level, a message
with the verdict, onset and fix, the history file and the line of the
finding's onset step, and a fingerprint of the run and rule that survives
re-runs. Unreadable inputs are tool execution notifications and make the
invocation unsuccessful. The document validates against the OASIS schema
(``tests/report/test_sarif.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from gandiag._version import __version__
from gandiag.engine.findings import Severity
from gandiag.report.codescan import VERDICT_RULE, issues, repo_path
from gandiag.report.summary import ReportRun
from gandiag.verdict.diagnosis import Diagnosis

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def artifact_uri(source: str) -> str:
    """A URI reference for a history: a relative path as is (percent-encoded), an MLflow run as ``mlflow:runs/ID``."""
    path = repo_path(source)
    if path.startswith("mlflow:"):
        return quote(path, safe=":/")
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(path)


def _rule_descriptor(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.docs.what or rule.title},
        "help": {"text": f"{rule.docs.fix}" if rule.docs.fix else rule.title},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"supports": rule.supports.value if rule.supports else None, "severity": rule.severity.value},
    }


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = (),
           rules: Mapping[str, object] | None = None) -> str:
    """The SARIF log of these runs as a JSON string."""
    found = issues(diagnoses)
    descriptors = [_rule_descriptor(r) for _, r in sorted((rules or {}).items())]
    known = {d["id"] for d in descriptors}
    for issue in found:  # a finding of a rule not passed in (the API's default rules) still gets a descriptor
        if issue.finding is not None and issue.finding.rule not in known:
            f = issue.finding
            descriptors.append({"id": f.rule, "name": f.name, "shortDescription": {"text": f.title},
                                "defaultConfiguration": {"level": _LEVEL[f.severity]}})
            known.add(f.rule)
    descriptors.append({"id": VERDICT_RULE, "name": "failing-verdict",
                        "shortDescription": {"text": "The run's verdict fails the check"},
                        "defaultConfiguration": {"level": "error"}})
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    results = []
    for issue in found:
        d = issue.run.diagnosis
        location: dict = {"artifactLocation": {"uri": artifact_uri(d.source)}}
        if issue.line is not None:
            location["region"] = {"startLine": issue.line}
        results.append({
            "ruleId": issue.rule_id,
            "ruleIndex": index[issue.rule_id],
            "level": issue.level,
            "message": {"text": issue.message},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"gandiagRunRule/v1": issue.fingerprint},
            "properties": {"run": issue.run.key, "verdict": d.verdict.value, "confidence": d.confidence,
                           "onset_step": issue.step, "fails": issue.run.fails},
        })
    invocation = {
        "executionSuccessful": not errors,
        "toolExecutionNotifications": [
            {"level": "error", "message": {"text": message},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(source)}}}]}
            for source, message in errors
        ],
    }
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gandiag", "version": __version__, "semanticVersion": __version__,
                                "rules": descriptors}},
            "invocations": [invocation],
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, allow_nan=False)
