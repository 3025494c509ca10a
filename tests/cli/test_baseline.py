"""Baseline mode: only runs whose verdict got worse, or new failing runs, fail the check."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.engine.findings import Verdict
from gandiag.workflows.baseline import Change, compare, load_baseline
from gandiag.workflows.batch import RunTarget

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
runner = CliRunner()


def copy_runs(dest: Path, mapping: dict[str, str], run_ids: dict[str, str] | None = None) -> Path:
    for name, fixture in mapping.items():
        (dest / name).mkdir(parents=True)
        shutil.copy(RUNS / fixture / "history.csv", dest / name / "history.csv")
        meta = json.loads((RUNS / fixture / "meta.json").read_text())
        if run_ids and name in run_ids:
            meta["run_id"] = run_ids[name]
        (dest / name / "meta.json").write_text(json.dumps(meta))
    return dest


def report(path: Path, *extra: str):
    return runner.invoke(app, ["analyze", str(path), "--no-samples", *extra])


@pytest.fixture
def main_report(tmp_path):
    """The JSON report of the main branch: a stable run, two failing runs and an inconclusive one."""
    main = copy_runs(tmp_path / "main", {"a": "digits-stable-s0", "b": "digits-convergence_failure-s0",
                                         "c": "digits-diverge-s0", "d": "digits-wgan-s0"})
    r = report(main, "-f", "json", "--exit-zero")
    assert r.exit_code == 0
    path = tmp_path / "main.json"
    path.write_text(r.stdout)
    return path


def test_fails_exactly_the_runs_that_got_worse_or_are_new_and_failing(tmp_path, main_report):
    branch = copy_runs(tmp_path / "branch", {
        "a": "digits-aggressive_adam-s0",     # stable -> non_converged: worse, fails
        "b": "digits-convergence_failure-s0",  # failing on main too: passes
        "c": "digits-stable-s0",              # non_converged -> stable: better, passes
        "d": "digits-diverge-s0",             # inconclusive -> non_converged: worse, fails
        "e": "digits-convergence_failure-s0",  # new and failing: fails
        "f": "digits-stable-s0",              # new and stable: passes
    })
    r = report(branch, "--baseline", str(main_report), "-f", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert sorted(run["key"] for run in doc["runs"] if run["fails"]) == ["a/history.csv", "d/history.csv",
                                                                          "e/history.csv"]
    changes = {c["key"]: c["change"] for c in doc["baseline"]["runs"]}
    assert changes == {"a/history.csv": "worse", "b/history.csv": "same", "c/history.csv": "better",
                       "d/history.csv": "worse", "e/history.csv": "new_failing", "f/history.csv": "new"}
    text = report(branch, "--baseline", str(main_report))
    assert "FAIL: got worse: stable -> non_converged (baseline)" in text.stdout
    assert "new run fails: non_converged (not in the baseline)" in text.stdout
    assert "2 worse, 1 new failing, 1 new, 1 better, 1 same" in text.stdout


def test_nothing_worse_passes_even_with_failing_runs(tmp_path, main_report):
    branch = copy_runs(tmp_path / "branch", {"b": "digits-convergence_failure-s0", "c": "digits-diverge-s0"})
    r = report(branch, "--baseline", str(main_report))
    assert r.exit_code == 0, r.output
    assert "2 same, 2 gone" in r.stdout  # a and d are reported, not failed
    assert report(branch).exit_code == 1  # without --baseline, --fail-on decides


def test_mode_collapse_and_non_converged_rank_equal(main_report):
    edited = json.loads(main_report.read_text())
    for run in edited["runs"]:
        if run["key"] == "b/history.csv":
            run["verdict"] = "mode_collapse"
    main_report.write_text(json.dumps(edited))
    base = load_baseline(main_report)
    now = [(RunTarget(Path("x/b/history.csv"), "b/history.csv"), _diag(Verdict.NON_CONVERGED))]
    (c,) = [c for c in compare(now, base, {Verdict.NON_CONVERGED}) if c.key == "b/history.csv"]
    assert c.change is Change.SAME and not c.fails


def _diag(verdict):
    from gandiag.verdict.diagnosis import Diagnosis

    return Diagnosis(source="x/b/history.csv", verdict=verdict, confidence=1.0, onset_step=1, reason="",
                     findings=(), skipped_rules=(), warnings=(), settle_window=None)


def test_runs_match_by_meta_run_id_when_moved(tmp_path):
    main = copy_runs(tmp_path / "main", {"old-name": "digits-stable-s0"}, run_ids={"old-name": "sweep-17"})
    (tmp_path / "main.json").write_text(report(main, "-f", "json").stdout)
    assert json.loads((tmp_path / "main.json").read_text())["runs"][0]["run_id"] == "sweep-17"
    branch = copy_runs(tmp_path / "branch", {"new-name": "digits-convergence_failure-s0"},
                       run_ids={"new-name": "sweep-17"})
    r = report(branch, "--baseline", str(tmp_path / "main.json"))
    assert r.exit_code == 1 and "got worse: stable -> non_converged" in r.stdout


@pytest.mark.parametrize("content,expected", [
    (None, "baseline report not found"),
    ("{not json", "baseline report is not JSON"),
    ('{"schema": "gandiag.verify/1", "runs": []}', "not a gandiag.report/1 JSON report"),
    ('{"schema": "gandiag.report/1", "runs": [{"source": "a"}]}', "runs[0]: run has no valid source and verdict"),
])
def test_bad_baseline_is_one_line_exit_2(tmp_path, content, expected):
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    r = report(RUNS / "digits-stable-s0", "--baseline", str(path))
    assert r.exit_code == 2 and expected in r.stderr and r.stderr.count("\n") == 1
