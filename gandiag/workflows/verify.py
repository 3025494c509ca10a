"""Recorded-fixture regression tests: re-analyze pinned runs and compare with the manifest.

A manifest (JSON, schema ``gandiag.manifest/1``, documented in docs/manifest.md)
lists runs with the verdict the analyzer gave when they were pinned
(``expected_verdict``) and optionally the onset step, with a tolerance.
Disagreements with an independent oracle (``oracle_label``) are the accuracy
benchmark's business, not verify's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gandiag.errors import InputError, LimitError

SCHEMA = "gandiag.manifest/1"
ALLOWED_OPTIONS = {"no_samples", "loss", "settle_fraction", "select", "ignore", "columns", "input_format",
                   "d_loss_reduction"}


@dataclass(frozen=True)
class Entry:
    id: str
    path: Path
    expected_verdict: str
    expected_onset_step: int | None
    onset_tolerance: int
    options: dict


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    verdict: str | None
    onset_step: int | None
    confidence: float | None
    problem: str | None  # None when it matches

    @property
    def ok(self) -> bool:
        return self.problem is None


def load_manifest(path: str | Path) -> tuple[dict, list[Entry]]:
    from gandiag.infra.limits import current_limits

    p = Path(path)
    if p.is_dir():
        p = p / "manifest.json"
    if not p.is_file():
        raise InputError("manifest not found", where=str(p), hint="Give a manifest.json (see docs/manifest.md)")
    limits = current_limits()
    if p.stat().st_size > limits.max_doc_bytes:
        raise LimitError(f"manifest of more than {limits.max_doc_bytes:,} bytes", where=str(p),
                         hint=limits.raise_hint("max_doc_bytes"))
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"manifest is not valid JSON ({str(exc)[:80] or type(exc).__name__})", where=str(p),
                         hint="Fix the file") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("runs"), list):
        raise InputError(f"not a {SCHEMA} manifest", where=str(p),
                         hint='Expected {"schema": "gandiag.manifest/1", "runs": [...]}')
    entries, problems = [], []
    ids = set()
    for i, run in enumerate(doc["runs"]):
        where = f"runs[{i}]"
        if not isinstance(run, dict):
            problems.append(f"{where}: must be an object")
            continue
        for key in ("id", "path", "expected_verdict"):
            if not isinstance(run.get(key), str):
                problems.append(f"{where}.{key}: missing or not a string")
        onset = run.get("expected_onset_step")
        if onset is not None and (not isinstance(onset, int) or isinstance(onset, bool)):
            problems.append(f"{where}.expected_onset_step: must be an integer or null")
        tol = run.get("onset_tolerance", 0)
        if not isinstance(tol, int) or isinstance(tol, bool) or tol < 0:
            problems.append(f"{where}.onset_tolerance: must be a non-negative integer")
        options = run.get("options", {})
        if not isinstance(options, dict) or set(options) - ALLOWED_OPTIONS:
            problems.append(f"{where}.options: unknown option(s) {sorted(set(options) - ALLOWED_OPTIONS) if isinstance(options, dict) else options}")
        if run.get("id") in ids:
            problems.append(f"{where}.id: duplicate id {run.get('id')!r}")
        ids.add(run.get("id"))
        if not problems:
            entries.append(Entry(run["id"], (p.parent / run["path"]).resolve(), run["expected_verdict"], onset, tol, dict(options)))
    if problems:
        raise InputError("invalid manifest: " + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""),
                         where=str(p), hint="See docs/manifest.md")
    return doc, entries


def verify(entries: list[Entry], *, rules=None) -> list[Outcome]:
    from gandiag.api import analyze
    from gandiag.errors import GandiagError
    from gandiag.infra.guard import one_run

    out = []
    for e in entries:
        try:
            with one_run(str(e.path)):  # one run that cannot be read or analysed does not stop the others
                d = analyze(e.path, rules=rules, **e.options)
        except GandiagError as exc:
            out.append(Outcome(e, None, None, None, f"could not analyze: {exc.one_line()}"))
            continue
        problem = None
        if d.verdict.value != e.expected_verdict:
            problem = f"verdict {d.verdict.value}, expected {e.expected_verdict}"
        elif e.expected_onset_step is not None and (
                d.onset_step is None or abs(d.onset_step - e.expected_onset_step) > e.onset_tolerance):
            problem = f"onset step {d.onset_step}, expected {e.expected_onset_step} +- {e.onset_tolerance}"
        out.append(Outcome(e, d.verdict.value, d.onset_step, d.confidence, problem))
    return out


def update_manifest(path: str | Path, doc: dict, outcomes: list[Outcome]) -> None:
    """Re-pin: write the verdicts and onsets just observed into the manifest (atomically)."""
    from gandiag.infra.outputs import atomic_write_bytes

    p = Path(path)
    p = p / "manifest.json" if p.is_dir() else p
    by_id = {o.entry.id: o for o in outcomes}
    for run in doc["runs"]:
        o = by_id.get(run["id"])
        if o is None or o.verdict is None:
            continue
        run["expected_verdict"] = o.verdict
        if "expected_onset_step" in run or o.onset_step is not None:
            run["expected_onset_step"] = o.onset_step
    atomic_write_bytes(p, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))  # keeps the manifest's mode


def render_text(outcomes: list[Outcome]) -> str:
    bad = [o for o in outcomes if not o.ok]
    lines = []
    if bad:
        lines.append(f"{'id':<40} {'got':<15} {'onset':>6}  problem")
        for o in bad:
            lines.append(f"{o.entry.id:<40} {str(o.verdict):<15} {str(o.onset_step):>6}  {o.problem}")
        lines.append("")
    lines.append(f"{len(outcomes) - len(bad)} passed, {len(bad)} failed")
    return "\n".join(lines)


def render_json(outcomes: list[Outcome]) -> str:
    return json.dumps({"schema": "gandiag.verify/1", "passed": sum(o.ok for o in outcomes),
                       "failed": sum(not o.ok for o in outcomes),
                       "runs": [{"id": o.entry.id, "path": str(o.entry.path), "expected_verdict": o.entry.expected_verdict,
                                 "verdict": o.verdict, "expected_onset_step": o.entry.expected_onset_step,
                                 "onset_step": o.onset_step, "ok": o.ok, "problem": o.problem} for o in outcomes]},
                      indent=2)


def render_junit(outcomes: list[Outcome]) -> str:
    from xml.etree import ElementTree as ET

    from gandiag.report.escape import xml_text

    suite = ET.Element("testsuite", name="gandiag.workflows.verify", tests=str(len(outcomes)),
                       failures=str(sum(not o.ok for o in outcomes)))
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname="gandiag.workflows.verify", name=xml_text(o.entry.id))
        if not o.ok:
            fail = ET.SubElement(case, "failure", message=xml_text(o.problem or ""))
            fail.text = xml_text(f"{o.entry.path}: {o.problem}")
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True)
