"""SARIF 2.1.0 and GitLab Code Quality output: schema, located lines, levels, fingerprints, and the CLI."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.engine.loader import load_rules
from gandiag.report import gitlab, sarif
from gandiag.report.locate import step_lines

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
ERRORS = [("runs/broken/history.csv", "runs/broken/history.csv: empty file. Check the file.")]
runner = CliRunner()


def _validate(doc):
    jsonschema = pytest.importorskip("jsonschema")  # in the dev extra; importorskip only for a bare install
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(doc)


def test_sarif_validates_against_the_oasis_schema(fixture_report_runs):
    doc = json.loads(sarif.render(fixture_report_runs, errors=ERRORS, rules=load_rules()))
    _validate(doc)
    (run,) = doc["runs"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] == ERRORS[0][1]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]


def test_the_schema_check_catches_a_broken_log(fixture_report_runs):
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(sarif.render(fixture_report_runs, rules=load_rules()))
    doc["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)


def test_each_failure_is_located_at_the_line_of_its_onset_step(fixture_report_runs):
    doc = json.loads(sarif.render(fixture_report_runs, rules=load_rules()))
    results = doc["runs"][0]["results"]
    failing = [r for r in results if r["properties"]["fails"]]
    assert {r["properties"]["run"] for r in failing} == {
        "digits-convergence_failure-s0/history.csv", "digits-diverge-s0/history.csv"}
    for r in failing:
        loc = r["locations"][0]["physicalLocation"]
        path = ROOT / loc["artifactLocation"]["uri"]
        line = loc["region"]["startLine"]
        logged_step = int(path.read_text().splitlines()[line - 1].split(",")[0])
        assert logged_step == r["properties"]["onset_step"], r["ruleId"]
        assert r["level"] == "error"


def test_passing_runs_give_notes_only(fixture_report_runs):
    results = json.loads(sarif.render(fixture_report_runs, rules=load_rules()))["runs"][0]["results"]
    assert {r["level"] for r in results if not r["properties"]["fails"]} <= {"note"}


def test_zero_based_csv_steps_and_a_missing_step_column(tmp_path):
    from gandiag.engine.findings import Verdict
    from gandiag.verdict.diagnosis import Diagnosis

    def diag(path, step_col):
        return Diagnosis(source=str(path), verdict=Verdict.NON_CONVERGED, confidence=0.9, onset_step=3, reason="",
                         findings=(), skipped_rules=(), warnings=(), settle_window=None,
                         inputs={"format": "csv", "columns": {"step": step_col} if step_col else {}})

    zero = tmp_path / "zero.csv"
    zero.write_text("it,g_loss\n0,1\n1,1\n\n2,1\n3,1\n")  # the reader shifts 0-based steps: step 3 is it=2
    assert step_lines(diag(zero, "it"), [3]) == {3: 5}
    plain = tmp_path / "plain.csv"
    plain.write_text("g_loss,d_loss\n1,1\n1,1\n\n1,1\n")  # no step column: the third data row, after a blank line
    assert step_lines(diag(plain, None), [3]) == {3: 5}
    sparse = tmp_path / "sparse.csv"
    sparse.write_text("step,g_loss\n1,1\n5,1\n")  # step 3 was not logged: the first row past it
    assert step_lines(diag(sparse, "step"), [3]) == {3: 3}


def test_gitlab_code_quality_fields(fixture_report_runs):
    issues = json.loads(gitlab.render(fixture_report_runs, errors=ERRORS))
    assert issues and all(set(i) == {"description", "check_name", "fingerprint", "severity", "location"} for i in issues)
    assert all(i["severity"] in {"info", "minor", "major", "critical", "blocker"} for i in issues)
    assert all(isinstance(i["location"]["lines"]["begin"], int) and i["location"]["path"] for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert issues[-1]["severity"] == "blocker" and issues[-1]["location"]["path"] == "runs/broken/history.csv"
    critical = [i for i in issues if i["severity"] == "critical"]
    assert {i["check_name"].split()[0] for i in critical} >= {"GD105"}
    again = json.loads(gitlab.render(fixture_report_runs, errors=ERRORS))
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]


@pytest.mark.parametrize("fmt", ["sarif", "gitlab"])
def test_cli_formats_and_exit_codes(fmt):
    failing = str(ROOT / "fixtures" / "runs" / "digits-convergence_failure-s0")
    r = runner.invoke(app, ["analyze", failing, "--no-samples", "-f", fmt])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    if fmt == "sarif":
        _validate(doc)
        assert doc["runs"][0]["results"][0]["ruleId"] == "GD105"
    else:
        assert doc[0]["check_name"].startswith("GD105")
    stable = runner.invoke(app, ["analyze", str(ROOT / "fixtures" / "runs" / "digits-stable-s0"), "--no-samples",
                                 "-f", fmt])
    assert stable.exit_code == 0
