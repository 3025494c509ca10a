"""Snapshot tests of the CI renderers on real recorded runs.

Set GANDIAG_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after an intended change
(a renderer's layout, or a rule that changes the fixtures' findings).
"""

import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from gandiag.report import concise, github, junit, markdown, text
from gandiag.report.summary import ReportRun

SNAPSHOTS = Path(__file__).parent / "snapshots"
ERRORS = [("runs/broken/history.csv", "runs/broken/history.csv: empty file. Check the file.")]


def check_snapshot(name: str, output: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("GANDIAG_UPDATE_SNAPSHOTS") == "1":
        path.write_text(output, encoding="utf-8")
    assert path.exists(), f"snapshot {name} is missing; GANDIAG_UPDATE_SNAPSHOTS=1 writes it"
    assert output == path.read_text(encoding="utf-8"), f"{name} changed; GANDIAG_UPDATE_SNAPSHOTS=1 to accept"


@pytest.mark.parametrize("name,render", [
    ("junit.xml", lambda runs: junit.render(runs, errors=ERRORS)),
    ("github.txt", lambda runs: github.render(runs, errors=ERRORS)),
    ("markdown.md", lambda runs: markdown.render(runs, errors=ERRORS, footer=["baseline b.json: 4 same"])),
    # the table only: the per-run blocks list every skipped rule, so each new rule would churn the snapshot
    ("text-summary.txt", lambda runs: "\n".join(text.summary_table(runs)) + "\n"),
    ("concise.txt", lambda runs: concise.render(runs, errors=ERRORS) + "\n"),
])
def test_snapshot(fixture_report_runs, name, render):
    check_snapshot(name, render(fixture_report_runs))


def test_junit_is_valid_xml_one_testcase_per_run(fixture_report_runs):
    root = ET.fromstring(junit.render(fixture_report_runs, errors=ERRORS).encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(fixture_report_runs) + 1 == int(suite.get("tests"))
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == sum(r.fails for r in fixture_report_runs) == int(suite.get("failures")) == 2
    for case in failing:
        failure = case.find("failure")
        assert failure.get("type") in ("non_converged", "mode_collapse")
        assert "onset step" in failure.get("message") and "GD" in failure.get("message")
        assert "fix:" in failure.text
    assert [c.get("name") for c in cases if c.find("error") is not None] == ["runs/broken/history.csv"]
    assert all(c.get("file") for c in cases)


def test_github_commands_are_one_line_each_and_escaped(fixture_report_runs):
    out = github.render(fixture_report_runs, errors=ERRORS).splitlines()
    errors = [line for line in out if line.startswith("::error ")]
    assert len(errors) == 3  # two failing runs and the unreadable input
    assert any(line.startswith("::error file=fixtures/runs/digits-convergence_failure-s0/history.csv,title=GD")
               for line in errors)
    assert out[-1].startswith("::notice title=gandiag::4 runs: ")
    assert github.command("error", "50% a\nb", file="a,b:c", title="t") == "::error file=a%2Cb%3Ac,title=t::50%25 a%0Ab"


def test_markdown_table_has_a_row_per_run_and_escapes_pipes(fixture_report_runs):
    out = markdown.render(fixture_report_runs)
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(rows) == 4 and rows[0].count(" | ") == 5
    assert rows[-1].split(" | ")[1] == "stable"  # worst verdict first
    d = fixture_report_runs[0].diagnosis
    odd = ReportRun(d, "a|b/history.csv", failure="x")
    assert "`a\\|b/history.csv`" in markdown.render([odd])


def test_single_run_text_keeps_the_full_block(fixture_report_runs):
    out = text.render(fixture_report_runs[:1])
    assert out.startswith("fixtures/runs/digits-convergence_failure-s0/history.csv") and "fix:" in out


def test_concise_is_one_line_per_run_at_the_line_of_the_onset(fixture_report_runs):
    lines = concise.render(fixture_report_runs, errors=ERRORS).splitlines()
    assert len(lines) == len(fixture_report_runs) + 1
    assert lines[-1].endswith("2 failing the check; 1 unreadable")
    by_run = {line.split(":")[0]: line for line in lines[:-1]}
    failing = by_run["fixtures/runs/digits-convergence_failure-s0/history.csv"]
    d = next(r.diagnosis for r in fixture_report_runs if "convergence_failure" in r.key)
    line = int(failing.split(":")[1])
    logged = (Path(__file__).parents[2] / d.source).read_text().splitlines()[line - 1]
    assert int(logged.split(",")[0]) == d.onset_step  # the history's line that logged the onset
    assert failing.endswith(f"non_converged {d.confidence:.2f} GD105 discriminator-won (onset step {d.onset_step})")
    assert "decided by" in by_run["fixtures/runs/digits-stable-s0/history.csv"]
