import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gandiag.cli import app

runner = CliRunner()


def stable_csv(n=300, seed=0):
    rng = np.random.default_rng(seed)  # synthetic healthy series for CLI plumbing tests
    rows = ["step,d1,d2,g,a1,a2"]
    for i in range(1, n + 1):
        rows.append(f"{i},{0.6 + rng.normal(0, .05):.3f},{0.6 + rng.normal(0, .05):.3f},{1.2 + rng.normal(0, .1):.3f},"
                    f"{int(75 + rng.normal(0, 5))},{int(75 + rng.normal(0, 5))}")
    return "\n".join(rows) + "\n"


def failed_csv(n=300):
    rows = ["step,d,g,a"]
    for i in range(1, n + 1):
        d = 0.5 if i < 20 else 0.0
        rows.append(f"{i},{d:.3f},{0.001 if i > 20 else 0.9:.3f},{100 if i > 5 else 80}")
    return "\n".join(rows) + "\n"


def test_stable_exit_0_failed_exit_1(write):
    ok = runner.invoke(app, ["analyze", str(write("ok.csv", stable_csv()))])
    assert ok.exit_code == 0, ok.output
    assert "verdict    stable" in ok.output
    bad = runner.invoke(app, ["analyze", str(write("bad.csv", failed_csv()))])
    assert bad.exit_code == 1
    assert "non_converged" in bad.output and "GD101" in bad.output and "fix:" in bad.output


def test_exit_zero_and_fail_on(write):
    bad = str(write("bad.csv", failed_csv()))
    assert runner.invoke(app, ["analyze", bad, "--exit-zero"]).exit_code == 0
    assert runner.invoke(app, ["analyze", bad, "--fail-on", "mode_collapse"]).exit_code == 0
    assert runner.invoke(app, ["analyze", str(write("ok.csv", stable_csv())), "--fail-on", "stable"]).exit_code == 1


def test_json_schema(write):
    r = runner.invoke(app, ["analyze", str(write("bad.csv", failed_csv())), "-f", "json"])
    doc = json.loads(r.stdout)
    assert doc["schema"] == "gandiag.report/1"
    assert set(doc) >= {"schema", "gandiag_version", "rules_digest", "options", "runs"}
    run = doc["runs"][0]
    assert set(run) >= {"source", "inputs", "verdict", "confidence", "onset_step", "settle_window",
                        "findings", "skipped_rules", "warnings"}
    f = run["findings"][0]
    assert set(f) >= {"rule", "title", "severity", "onset_step", "evidence", "message", "fix"}
    assert run["verdict"] == "non_converged" and f["rule"] in ("GD101", "GD102", "GD105")
    assert set(f["evidence"][0]) >= {"observed", "threshold", "streak_steps", "fraction"}


def test_several_paths_one_unreadable_is_exit_2_but_others_analyzed(write, tmp_path):
    r = runner.invoke(app, ["analyze", str(write("ok.csv", stable_csv())), str(tmp_path / "missing.csv")])
    assert r.exit_code == 2
    assert "verdict    stable" in r.stdout
    assert "missing.csv" in r.stderr and "not found" in r.stderr


def test_run_folder_and_recursive_discovery(write, tmp_path):
    write("runs/a/history.csv", stable_csv())
    write("runs/b/history.csv", failed_csv())
    r = runner.invoke(app, ["analyze", str(tmp_path / "runs"), "-f", "json"])
    assert r.exit_code == 1
    verdicts = sorted(run["verdict"] for run in json.loads(r.stdout)["runs"])
    assert verdicts == ["non_converged", "stable"]


def test_project_config_sets_fail_on_and_columns(write, tmp_path, monkeypatch):
    write("pyproject.toml", '[tool.gandiag]\nfail-on = ["stable"]\ncolumns = { g_loss = "lossG" }\n')
    text = stable_csv().replace(",g,", ",lossG,")
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["analyze", str(write("x.csv", text))])
    assert r.exit_code == 1  # stable is a failure by configuration, and lossG was mapped
    assert runner.invoke(app, ["analyze", str(write("x.csv", text)), "--fail-on", "non_converged"]).exit_code == 0


BAD_INPUTS = {
    "missing file": (None, "not found"),
    "empty file": ("", "empty file"),
    "header only": ("step,d1,d2,g\n", "no data rows"),
    "no loss column": ("step,lr\n1,0.1\n2,0.1\n", "no recognisable loss column"),
    "non-numeric loss": ("step,d_loss,g_loss\n1,0.5,1\n2,abc,1\n", "non-numeric value"),
    "binary garbage": (bytes(range(256)) * 4, "gandiag can read"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exit_2_one_line_no_traceback(write, tmp_path, case):
    content, expected = BAD_INPUTS[case]
    path = tmp_path / "nope.csv" if content is None else write("in.dat" if case == "binary garbage" else "in.csv", content)
    r = runner.invoke(app, ["analyze", str(path)])
    assert r.exit_code == 2, r.output
    assert expected in r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)


def test_directory_without_histories(tmp_path):
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["analyze", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "holds no training history" in r.stderr


@pytest.mark.parametrize("content,expected", [
    ("code = \n", "TOML syntax error"),
    ('code = "GD150"\nshade = 1\n', "shade: unknown key"),
])
def test_bad_rule_file_exit_2(write, content, expected):
    rule = write("GD150-x.toml", content)
    r = runner.invoke(app, ["analyze", str(write("ok.csv", stable_csv())), "--rules", str(rule)])
    assert r.exit_code == 2 and expected in r.stderr and r.stderr.count("\n") == 1


def test_unknown_select_code_and_bad_column_override(write):
    p = str(write("ok.csv", stable_csv()))
    r = runner.invoke(app, ["analyze", p, "--select", "GD7"])
    assert r.exit_code == 2 and "GD7" in r.stderr
    r = runner.invoke(app, ["analyze", p, "--column", "g_loss"])
    assert r.exit_code == 2 and "ROLE=NAME" in r.stderr
    r = runner.invoke(app, ["analyze", p, "--column", "g_loss=nothere"])
    assert r.exit_code == 2 and "nothere" in r.stderr


def test_rules_list_and_explain():
    r = runner.invoke(app, ["rules", "list"])
    assert r.exit_code == 0 and "GD101" in r.stdout and "GD901" in r.stdout
    r = runner.invoke(app, ["rules", "explain", "GD101"])
    assert r.exit_code == 0
    for section in ("## What it does", "## Why is this bad", "## Example", "## Fix"):
        assert section in r.stdout
    assert runner.invoke(app, ["rules", "explain", "GD999"]).exit_code == 2
