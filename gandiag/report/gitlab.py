"""GitLab Code Quality report (``artifacts: reports: codequality``): a JSON array of issues.

Each located issue (:mod:`gandiag.report.codescan`) becomes ``{description,
check_name, fingerprint, severity, location: {path, lines: {begin}}}``;
an unreadable input is a ``blocker`` at line 1 of its path. Severities: a
failing run's error finding ``critical``, its warning ``major``; a passing
run's warning ``minor``. The fingerprint (the run and the rule) stays the same
while the run keeps failing the same way, so a merge request shows only what
changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from gandiag.report.codescan import issues, repo_path
from gandiag.report.escape import one_line
from gandiag.report.summary import ReportRun
from gandiag.verdict.diagnosis import Diagnosis

_SEVERITY = {"error": "critical", "warning": "major", "note": "minor"}
#: GitLab shows the description in one line of a merge-request widget
MAX_DESCRIPTION = 1000


def _clip(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = ()) -> str:
    """The Code Quality report of these runs as a JSON string."""
    out = []
    for issue in issues(diagnoses):
        check = issue.rule_id if issue.finding is None else f"{issue.finding.rule} {issue.finding.name}"
        out.append({
            "description": _clip(f"{issue.run.key}: {issue.message}"),
            "check_name": check,
            "fingerprint": issue.fingerprint,
            "severity": _SEVERITY[issue.level],
            "location": {"path": repo_path(issue.run.diagnosis.source), "lines": {"begin": issue.line or 1}},
        })
    for source, message in errors:
        out.append({
            "description": _clip(message),
            "check_name": "gandiag-unreadable-input",
            "fingerprint": hashlib.sha256(f"{source}\0unreadable".encode()).hexdigest()[:32],
            "severity": "blocker",
            "location": {"path": repo_path(source), "lines": {"begin": 1}},
        })
    return json.dumps(out, indent=2, allow_nan=False)
