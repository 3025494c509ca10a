"""Many runs: discovery keys, parallel analysis with joblib, and the Dask backend on a local cluster."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.engine.loader import load_rules
from gandiag.workflows.batch import analyze_many, find_targets

RUNS = Path(__file__).resolve().parent.parent / "fixtures" / "runs"
runner = CliRunner()
FIXTURES = ("digits-stable-s0", "digits-convergence_failure-s0", "digits-diverge-s0", "digits-wgan-s0")


@pytest.fixture
def sweep(tmp_path):
    """A nested folder of run copies (histories only) and one unreadable history."""
    for i, name in enumerate(FIXTURES):
        folder = tmp_path / "sweep" / f"lr{i % 2}" / name
        folder.mkdir(parents=True)
        shutil.copy(RUNS / name / "history.csv", folder / "history.csv")
    (tmp_path / "sweep" / "broken").mkdir()
    (tmp_path / "sweep" / "broken" / "history.csv").write_text("")
    return tmp_path / "sweep"


def test_keys_are_relative_to_the_named_root(sweep):
    targets, errors = find_targets([str(sweep), str(sweep / "lr0" / "digits-stable-s0"),
                                    str(sweep / "lr1" / "digits-wgan-s0" / "history.csv"), str(sweep / "nope")])
    keys = [t.key for t in targets]
    assert keys[:5] == ["broken/history.csv", "lr0/digits-diverge-s0/history.csv", "lr0/digits-stable-s0/history.csv",
                        "lr1/digits-convergence_failure-s0/history.csv", "lr1/digits-wgan-s0/history.csv"]
    assert keys[5:] == ["digits-stable-s0/history.csv", "digits-wgan-s0/history.csv"]
    assert len(errors) == 1 and "not found" in errors[0][1]


def test_parallel_gives_the_serial_results(sweep):
    targets, _ = find_targets([str(sweep)])
    rules = load_rules()
    serial = analyze_many(targets, rules=rules, options={"no_samples": True}, jobs=1)
    parallel = analyze_many(targets, rules=rules, options={"no_samples": True}, jobs=2)
    assert [r.target for r in parallel] == [r.target for r in serial]
    assert [(r.diagnosis.verdict, r.diagnosis.onset_step, len(r.diagnosis.findings)) if r.diagnosis else r.error
            for r in parallel] == \
        [(r.diagnosis.verdict, r.diagnosis.onset_step, len(r.diagnosis.findings)) if r.diagnosis else r.error
         for r in serial]


def test_one_unreadable_run_does_not_stop_the_others(sweep):
    r = runner.invoke(app, ["analyze", str(sweep), "--jobs", "2", "--no-samples"])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and "broken" in r.stderr and "empty file" in r.stderr
    table = r.stdout.splitlines()
    assert table[0].startswith("run ") and len([ln for ln in table[1:5] if "history.csv" in ln]) == 4
    assert "4 runs: 2 non_converged, 1 inconclusive, 1 stable; 1 unreadable" in r.stdout
    assert table[1].split()[1] == "non_converged" and table[4].split()[1] == "stable"  # sorted by verdict


def test_bad_jobs_and_unreachable_scheduler_are_one_line_errors(sweep, monkeypatch):
    r = runner.invoke(app, ["analyze", str(sweep), "--jobs", "0"])
    assert r.exit_code == 2 and "--jobs" in r.stderr and r.stderr.count("\n") == 1
    pytest.importorskip("distributed")
    monkeypatch.setattr("gandiag.workflows.batch.DASK_CONNECT_TIMEOUT", "1s")
    r = runner.invoke(app, ["analyze", str(sweep / "lr0"), "--scheduler", "tcp://127.0.0.1:9", "--no-samples"])
    assert r.exit_code == 2 and "cannot reach the Dask scheduler" in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.slow
def test_dask_backend_on_a_local_cluster(sweep):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None,
                                  protocol="tcp") as cluster:
        r = runner.invoke(app, ["analyze", str(sweep), "--scheduler", cluster.scheduler_address, "--no-samples",
                                "-f", "json"])
    assert r.exit_code == 2  # the broken run, as without Dask
    local = runner.invoke(app, ["analyze", str(sweep), "--no-samples", "-f", "json"])
    got = [(run["key"], run["verdict"], run["onset_step"]) for run in json.loads(r.stdout)["runs"]]
    assert got == [(run["key"], run["verdict"], run["onset_step"]) for run in json.loads(local.stdout)["runs"]]
    assert len(got) == 4
