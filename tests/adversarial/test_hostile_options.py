"""Hostile options and output paths: one clear error before any work, never a traceback or a hang."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from contract import assert_contract, assert_no_traceback, cli
from hostile import good_run


@pytest.fixture
def run(tmp_path) -> Path:
    return good_run(tmp_path / "run").parent


def test_rules_from_dev_zero(run):
    line = assert_contract(cli("analyze", run, "--rules", "/dev/zero"), "/dev/zero")[0]
    assert "not a regular file" in line


def test_rules_from_a_fifo(run, tmp_path):
    fifo = tmp_path / "rules.toml"
    os.mkfifo(fifo)
    for args in (["analyze", run, "--rules", fifo], ["rules", "list", "--rules", fifo],
                 ["watch", run, "--rules", fifo, "--idle", "0"], ["report", run, "--out", tmp_path / "r", "--rules", fifo]):
        assert_contract(cli(*args), str(fifo))


def test_fifo_inside_a_rules_folder(run, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    os.mkfifo(folder / "GD999-x.toml")
    assert_contract(cli("analyze", run, "--rules", folder), "GD999-x.toml")


def test_rule_file_too_big(run, tmp_path):
    big = tmp_path / "GD999-big.toml"
    big.write_text("# " + "x" * 2_000_000 + "\n")
    line = assert_contract(cli("analyze", run, "--rules", big), str(big))[0]
    assert "GANDIAG_MAX_RULE_BYTES" in line


def test_config_nested_too_deeply(run, tmp_path, monkeypatch):
    (tmp_path / "gandiag.toml").write_text("select = " + "[" * 50_000 + "]" * 50_000 + "\n")
    monkeypatch.chdir(tmp_path)
    assert_contract(cli("analyze", run), "gandiag.toml")


def _file(tmp_path: Path) -> Path:
    f = tmp_path / "a-file"
    f.write_text("x")
    return f


@pytest.mark.parametrize("where", ["file", "file/sub", "proc"])
def test_report_out_that_cannot_be_a_folder(run, tmp_path, where):
    out = {"file": _file(tmp_path), "file/sub": _file(tmp_path) / "sub", "proc": Path("/proc/gandiag-out")}[where]
    r = cli("report", run, "--out", out)
    line = assert_contract(r, str(out))[0]
    assert "--out" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_report_out_under_a_read_only_parent(run, tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    assert_contract(cli("report", run, "--out", parent / "out"), "ro")


@pytest.mark.parametrize("where", ["file", "file/sub", "proc"])
def test_analyze_plot_that_cannot_be_a_folder(run, tmp_path, where):
    out = {"file": _file(tmp_path), "file/sub": _file(tmp_path) / "sub", "proc": Path("/proc/gandiag-plot")}[where]
    r = cli("analyze", run, "--plot", out)
    assert_contract(r, str(out))
    assert r.stdout == ""  # refused before any analysis


@pytest.mark.parametrize("where", ["file", "file/sub"])
def test_train_out_that_cannot_be_a_folder(tmp_path, where):
    out = {"file": _file(tmp_path), "file/sub": _file(tmp_path) / "sub"}[where]
    r = cli("train", "--out", out, "--steps", "5", "--quiet")
    assert_contract(r, str(out))


def test_jobs_1000_starts_no_more_workers_than_runs_or_cores(tmp_path):
    from gandiag.workflows.batch import local_workers

    cores = len(os.sched_getaffinity(0))
    assert local_workers(1000, 2) == min(2, cores)
    assert local_workers(-1, 50) == min(50, cores)
    assert local_workers(1000, 1) == 1
    good_run(tmp_path / "runs" / "a")
    start = time.monotonic()
    r = cli("analyze", tmp_path / "runs", "--jobs", "1000")
    assert_no_traceback(r)
    assert r.exit_code in (0, 1) and time.monotonic() - start < 20


def test_baseline_nested_too_deeply(run, tmp_path):
    base = tmp_path / "main.json"
    base.write_text("[" * 200_000)
    line = assert_contract(cli("analyze", run, "--baseline", base), str(base))[0]
    assert "baseline" in line


def test_baseline_that_is_a_device(run):
    assert_contract(cli("analyze", run, "--baseline", "/dev/zero"), "/dev/zero")


def test_baseline_with_wrong_types(run, tmp_path):
    base = tmp_path / "main.json"
    base.write_text('{"schema": "gandiag.report/1", "runs": [{"source": ["x"], "verdict": "stable"}]}')
    assert_contract(cli("analyze", run, "--baseline", base), str(base))


def test_manifest_nested_too_deeply(tmp_path):
    m = tmp_path / "manifest.json"
    m.write_text('{"schema": ' * 100_000)
    assert_contract(cli("verify", m), str(m))


def test_limit_variables_that_are_not_numbers(run):
    line = assert_contract(cli("analyze", run, env={"GANDIAG_MAX_LINE": "lots"}), "GANDIAG_MAX_LINE")[0]
    assert "whole number" in line


def test_rule_file_nested_too_deeply(run, tmp_path):
    deep = tmp_path / "GD999-deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    for args in (["analyze", run, "--rules", deep], ["rules", "list", "--rules", deep]):
        line = assert_contract(cli(*args), str(deep))[0]
        assert "nested too deeply" in line
