"""Every command on every hostile history: one clear error for the bad run, the good runs still analysed.

Each case of ``hostile.HISTORIES`` goes through each entry point that reads a
run: ``analyze`` on the file, a folder of runs (the batch, and JUnit output),
``inspect``, ``report``, ``--baseline``, ``verify`` and ``watch``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from contract import assert_contract, assert_no_traceback, cli, error_lines
from hostile import HISTORIES, Hostile, baseline_of, good_run

NAMES = sorted(HISTORIES)
#: report draws figures for the good run (a second or two each): a few hostile kinds are enough there
REPORTED = ["jsonl-line-of-100k-brackets", "gzip-of-20MB-zeros", "csv-11MB-field", "history-is-a-fifo"]


def _runs(tmp_path: Path, name: str) -> tuple[Path, Hostile]:
    """``runs/good`` (a short real history) and ``runs/bad`` (the hostile one)."""
    runs = tmp_path / "runs"
    good_run(runs / "good")
    bad = runs / "bad"
    bad.mkdir(parents=True)
    return runs, HISTORIES[name](bad)


def _where(h: Hostile) -> str:
    return str(h.path)


@pytest.mark.parametrize("name", NAMES)
def test_analyze_the_file(tmp_path, name):
    _, h = _runs(tmp_path, name)
    assert_contract(cli("analyze", h.path, env=h.env), _where(h))


@pytest.mark.parametrize("name", NAMES)
def test_batch_reports_the_others(tmp_path, name):
    runs, h = _runs(tmp_path, name)
    r = cli("analyze", runs, "-f", "junit", env=h.env)
    line = assert_contract(r, "bad")[0]
    assert h.says in line, line
    root = ET.fromstring(r.stdout.encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert "good/history.csv" in cases and cases["good/history.csv"].find("error") is None
    assert sum(c.find("error") is not None for c in cases.values()) == 1


@pytest.mark.parametrize("name", NAMES)
def test_inspect(tmp_path, name):
    _, h = _runs(tmp_path, name)
    line = assert_contract(cli("inspect", h.path, env=h.env), _where(h))[0]
    assert h.says in line or "no scalar summaries" in line or "no training metrics" in line, line


@pytest.mark.parametrize("name", NAMES)
def test_baseline(tmp_path, name):
    runs, h = _runs(tmp_path, name)
    base = baseline_of(runs, tmp_path / "main.json")
    r = cli("analyze", runs, "--baseline", base, "-f", "json", env=h.env)
    assert_contract(r, "bad")
    doc = json.loads(r.stdout)
    assert [run["key"] for run in doc["runs"]] == ["good/history.csv"]
    assert len(doc["errors"]) == 1 if "errors" in doc else True


@pytest.mark.parametrize("name", NAMES)
def test_verify(tmp_path, name):
    import gandiag

    runs, h = _runs(tmp_path, name)
    good = gandiag.analyze(runs / "good", no_samples=True)
    manifest = {"schema": "gandiag.manifest/1", "runs": [
        {"id": "good", "path": "runs/good", "expected_verdict": good.verdict.value, "options": {"no_samples": True}},
        {"id": "bad", "path": os.path.relpath(h.path, tmp_path), "expected_verdict": "stable"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    r = cli("verify", tmp_path / "manifest.json", env=h.env)
    assert_no_traceback(r)
    assert r.exit_code == 2, r.stdout
    assert "1 passed, 1 failed" in r.stdout
    bad = [line for line in r.stdout.splitlines() if line.startswith("bad ")]
    assert len(bad) == 1 and "could not analyze" in bad[0] and len(bad[0]) < 400, bad


@pytest.mark.parametrize("name", REPORTED)
def test_report(tmp_path, name):
    runs, h = _runs(tmp_path, name)
    out = tmp_path / "report"
    r = cli("report", runs, "--out", out, env=h.env)
    assert_contract(r, "bad")
    index = (out / "index.html").read_text()
    assert "good" in index and (out / "good" / "report.html").exists()


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("history-is-a-fifo",)])
def test_watch(tmp_path, name):
    _, h = _runs(tmp_path, name)
    r = cli("watch", h.path, "--idle", "0.3", "--poll", "0.05", env=h.env)
    assert_contract(r, _where(h))


def test_watch_refuses_a_fifo(tmp_path):
    _, h = _runs(tmp_path, "history-is-a-fifo")
    r = cli("watch", h.path, "--idle", "0.3", "--poll", "0.05")
    assert_contract(r, _where(h))
    assert "not a regular file" in error_lines(r)[0]


def test_several_bad_runs_each_get_one_line(tmp_path):
    runs = tmp_path / "runs"
    good_run(runs / "good")
    for name in ("jsonl-line-of-100k-brackets", "csv-rows-wider-than-header", "empty-history"):
        (runs / name).mkdir()
        HISTORIES[name](runs / name)
    r = cli("analyze", runs, "-f", "markdown")
    assert_contract(r, "jsonl", "wider", "empty", errors=3)
    assert "`good/history.csv`" in r.stdout and "3 unreadable" in r.stdout


def test_jobs_2_junit_is_complete(tmp_path):
    """The issue's sweep: with --jobs 2 -f junit one hostile run no longer empties the report."""
    runs = tmp_path / "runs"
    for i in range(3):
        good_run(runs / f"good{i}")
    (runs / "bad").mkdir()
    HISTORIES["jsonl-line-of-100k-brackets"](runs / "bad")
    r = cli("analyze", runs, "--jobs", "2", "-f", "junit")
    assert_contract(r, "bad")
    root = ET.fromstring(r.stdout.encode())
    assert root.get("tests") == "4" and root.get("errors") == "1"


def test_brackets_among_good_lines_are_skipped_not_fatal(tmp_path):
    p = tmp_path / "history.jsonl"
    rows = [json.dumps({"step": i, "d_loss": 0.6, "g_loss": 1.0}) for i in range(1, 80)]
    p.write_text("\n".join(rows[:40] + ["[" * 100_000] + rows[40:]) + "\n")
    r = cli("analyze", p, "-f", "json")
    assert_no_traceback(r)
    assert r.exit_code in (0, 1), r.stderr
    warnings = json.loads(r.stdout)["runs"][0]["warnings"]
    assert any("not JSON objects" in w for w in warnings), warnings


def test_unreadable_history_in_a_folder_of_runs(tmp_path, monkeypatch):
    """A history the process may not read (simulated: the suite may run as root, which chmod cannot stop)."""
    import gandiag.infra.files as raw

    runs = tmp_path / "runs"
    good_run(runs / "good")
    secret = good_run(runs / "secret")
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if Path(path) == secret:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(raw, "open", guarded_open, raising=False)
    r = cli("analyze", runs)
    line = assert_contract(r, "secret")[0]
    assert "Permission denied" in line
    assert "good/history.csv" in r.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_history_for_real(tmp_path):
    runs = tmp_path / "runs"
    good_run(runs / "good")
    secret = good_run(runs / "secret")
    secret.chmod(0)
    r = cli("analyze", runs)
    assert_contract(r, "secret")
    assert "good/history.csv" in r.stdout


def test_standard_input_of_zeros(tmp_path):
    r = cli("analyze", "-", input=b"\0" * (4 << 20))
    assert_contract(r, "<stdin>")


def test_standard_input_without_line_ends(tmp_path):
    r = cli("analyze", "-", input=b"step,g_loss," + b"1," * (1 << 20), env={"GANDIAG_MAX_LINE": "100000"})
    line = assert_contract(r, "<stdin>")[0]
    assert "longer than 100,000 bytes" in line and "GANDIAG_MAX_LINE" in line


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused(device):
    for args in (["analyze", device], ["inspect", device]):
        line = assert_contract(cli(*args), device)[0]
        assert "not a regular file" in line


def test_fifo_given_directly_does_not_hang(tmp_path):
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    for args in (["analyze", fifo], ["inspect", fifo], ["analyze", tmp_path, "--no-samples"]):
        assert_contract(cli(*args), str(fifo))


def test_meta_json_nested_deeply_is_ignored(tmp_path):
    runs = tmp_path / "runs"
    good_run(runs / "a")
    (runs / "a" / "meta.json").write_text("[" * 100_000)
    good_run(runs / "b")
    (runs / "b" / "meta.json").write_text('{"run_id": ' + '{"a":' * 50_000 + "1" + "}" * 50_001)
    r = cli("analyze", runs)
    assert_no_traceback(r)
    assert r.exit_code in (0, 1) and not error_lines(r), r.stderr


def test_csv_accuracies_out_of_range_are_warned_about(tmp_path):
    p = tmp_path / "history.csv"
    p.write_text("step,d_loss,g_loss,d_acc\n" + "".join(f"{i},0.6,1.0,{-300 if i % 2 else 1e9}\n"
                                                         for i in range(1, 80)))
    r = cli("analyze", p, "-f", "json")
    assert_no_traceback(r)
    warnings = json.loads(r.stdout)["runs"][0]["warnings"]
    assert any("outside 0-100%" in w and "d_acc" in w for w in warnings), warnings


def test_unknown_extra_fields_are_not_silently_one_step(tmp_path):
    """Rows one field wider than the header used to be read as 1 step (the first column taken as an index)."""
    p = tmp_path / "history.csv"
    p.write_text("d_loss,g_loss\n" + "".join(f"{i},0.6,1.0\n" for i in range(1, 80)))
    assert_contract(cli("analyze", p), str(p))


def test_gzip_on_standard_input_is_still_read(tmp_path):
    import gzip

    from contract import STABLE

    r = cli("analyze", "-", input=gzip.compress(STABLE.read_bytes()))
    assert_no_traceback(r)
    assert r.exit_code in (0, 1) and "600 steps" in r.stdout, r.stderr
