"""JUnit XML: one testcase per run, so CI test dashboards (GitHub, GitLab, Jenkins) list runs like tests.

A run that fails the check carries a ``<failure>`` whose message is the
verdict, the onset and the top findings, and whose body holds each finding's
evidence and fix. An unreadable input is an ``<error>``. No timestamps or
host names are written, so the same runs give the same bytes. Text from the
runs (folder names, values, messages) is escaped to XML 1.0's characters, so
no run can make the document invalid.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from gandiag.report.escape import xml_text
from gandiag.report.summary import ReportRun, as_report_runs, onset_text, sort_runs, top_findings
from gandiag.verdict.diagnosis import Diagnosis

SUITE = "gandiag.analyze"


def failure_message(r: ReportRun) -> str:
    """One line: why the run fails, its verdict and onset, and the codes behind it."""
    d = r.diagnosis
    codes = ", ".join(f"{f.rule} {f.name}" for f in top_findings(d)) or d.reason
    return f"{r.failure}; verdict {d.verdict.value} (confidence {d.confidence:.2f}), onset step {onset_text(d)}: {codes}"


def details(d: Diagnosis) -> str:
    """The failure body: the verdict's reason, then each top finding's message, evidence and fix."""
    lines = [f"{d.source}: {d.verdict.value}, confidence {d.confidence:.2f}, onset step {onset_text(d)}",
             f"why: {d.reason}"]
    for f in top_findings(d):
        lines.append(f"{f.rule} {f.name} ({f.severity.value}, steps {f.onset_step}-{f.end_step}): {f.message}")
        lines.extend(f"  evidence: {e.signal}: observed {e.observed:.3g}, held in {e.fraction:.0%}" for e in f.evidence)
        lines.append(f"  fix: {f.fix}")
    return "\n".join(lines)


def render(diagnoses: Sequence[Diagnosis | ReportRun], *, errors: Sequence[tuple[str, str]] = ()) -> str:
    """The JUnit document for these runs and unreadable inputs."""
    runs = sort_runs(as_report_runs(diagnoses))
    failures = sum(r.fails for r in runs)
    root = ET.Element("testsuites", name="gandiag", tests=str(len(runs) + len(errors)),
                      failures=str(failures), errors=str(len(errors)))
    suite = ET.SubElement(root, "testsuite", name=SUITE, tests=str(len(runs) + len(errors)),
                          failures=str(failures), errors=str(len(errors)), skipped="0")
    for r in runs:
        case = ET.SubElement(suite, "testcase", classname=SUITE, name=xml_text(r.key),
                             file=xml_text(r.diagnosis.source))
        if r.fails:
            failure = ET.SubElement(case, "failure", message=xml_text(failure_message(r)),
                                    type=r.diagnosis.verdict.value)
            failure.text = xml_text(details(r.diagnosis))
        else:
            out = ET.SubElement(case, "system-out")
            out.text = xml_text(f"{r.diagnosis.verdict.value}, confidence {r.diagnosis.confidence:.2f}" +
                                (f"; {r.note}" if r.note else ""))
    for source, message in errors:
        case = ET.SubElement(suite, "testcase", classname=SUITE, name=xml_text(source), file=xml_text(source))
        ET.SubElement(case, "error", message=xml_text(message), type="unreadable")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
