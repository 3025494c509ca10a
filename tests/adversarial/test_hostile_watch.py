"""``gandiag watch`` on logs that are rotated, truncated, rewritten, unsorted or hostile: never mixed, never silent."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from contract import STABLE, assert_contract, assert_no_traceback, cli, error_lines

import gandiag
from gandiag.errors import InputError, LimitError
from gandiag.live.follow import CsvRows, LineFollower

LINES = STABLE.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _append(path: Path, lines: list[str]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


# -- the follower, step by step -----------------------------------------------------------------

def test_rotation_is_detected_not_mixed(tmp_path):
    log = tmp_path / "h.csv"
    _write(log, LINES[:50])
    f = LineFollower(log)
    assert len(f.poll()) == 50
    os.rename(log, tmp_path / "h.csv.1")
    _write(log, LINES[:200])  # a restarted run: a new file, longer than the old one
    with pytest.raises(InputError, match="rotated") as err:
        f.poll()
    assert len(err.value.one_line()) <= 293


def test_moved_away_is_detected(tmp_path):
    log = tmp_path / "h.csv"
    _write(log, LINES[:50])
    f = LineFollower(log)
    f.poll()
    os.rename(log, tmp_path / "h.csv.1")
    with pytest.raises(InputError, match="moved or deleted"):
        f.poll()


def test_truncation_is_detected(tmp_path):
    log = tmp_path / "h.csv"
    _write(log, LINES[:100])
    f = LineFollower(log)
    f.poll()
    with open(log, "r+b") as fh:
        fh.truncate(50)
    with pytest.raises(InputError, match="truncated"):
        f.poll()


def test_rewrite_in_place_to_a_longer_file_is_detected(tmp_path):
    """copytruncate-style: the same inode, rewritten between two polls, already longer than before."""
    log = tmp_path / "h.csv"
    _write(log, LINES[:50])
    f = LineFollower(log)
    f.poll()
    other = [LINES[0]] + [line.replace(",", ",9", 1) for line in LINES[1:300]]
    with open(log, "r+", encoding="utf-8") as fh:
        fh.seek(0)
        fh.write("\n".join(other) + "\n")
    with pytest.raises(InputError, match="rewritten"):
        f.poll()


def test_a_line_longer_than_the_limit_stops_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GANDIAG_MAX_LINE", "100000")
    log = tmp_path / "h.csv"
    log.write_text(LINES[0] + "\n1,0.5," + "9" * 200_000)  # still being written: no line end yet
    with pytest.raises(LimitError, match="longer than 100,000 bytes"):
        LineFollower(log).poll()


def test_csv_rows_refuse_what_analyze_refuses():
    rows = CsvRows("h.csv")
    list(rows.feed(["step,d_loss,g_loss"]))
    assert list(rows.feed(["1,0.5,1.0"])) == [(1, {"d_loss": 0.5, "g_loss": 1.0})]
    assert list(rows.feed(["2,0.5"])) == [(2, {"d_loss": 0.5, "g_loss": None})]  # short: empty fields, as pandas
    for bad, says in (("x,0.5,1.0", "non-numeric value 'x'"), ("4,0.5,abc", "non-numeric value 'abc'"),
                      ("5,0.5,1.0,7", "4 fields, the header 3"), ("6,0.5,1_0", "non-numeric")):
        with pytest.raises(InputError, match=says):
            list(rows.feed([bad]))


def test_csv_field_larger_than_the_csv_module_allows():
    rows = CsvRows("h.csv")
    list(rows.feed(["step,d_loss,g_loss,note"]))
    got = list(rows.feed(["1,0.5,1.0," + "n" * 500_000]))  # the csv module stops at 131,072 by default
    assert got == [(1, {"d_loss": 0.5, "g_loss": 1.0})]


# -- the command ---------------------------------------------------------------------------------

def _watch_while(log: Path, action, *args: str, monkeypatch=None):
    """Run ``gandiag watch log`` while ``action`` changes the file from another thread, once the watch has read it."""
    started = threading.Event()
    real_poll = LineFollower.poll

    def poll(self):
        lines = real_poll(self)
        if lines:
            started.set()
        return lines

    monkeypatch.setattr(LineFollower, "poll", poll)

    def act():
        if started.wait(20):
            action()

    thread = threading.Thread(target=act)
    thread.start()
    try:
        return cli("watch", log, "--poll", "0.02", *args)
    finally:
        started.set()
        thread.join()


def test_watch_stops_on_rotation(tmp_path, monkeypatch):
    log = tmp_path / "history.csv"
    _write(log, LINES[:60])

    def rotate():
        os.rename(log, tmp_path / "history.csv.1")
        _write(log, LINES[:300])

    r = _watch_while(log, rotate, "--idle", "3", monkeypatch=monkeypatch)
    line = assert_contract(r, str(log))[0]
    assert "rotated" in line or "moved or deleted" in line


def test_watch_sorts_unordered_rows_like_analyze(tmp_path):
    log = tmp_path / "history.csv"
    body = LINES[1:]
    _write(log, [LINES[0], *reversed(body)])  # every row out of order: analyze sorts them
    r = cli("watch", log, "--idle", "0.3", "--poll", "0.05")
    assert_no_traceback(r)
    offline = gandiag.analyze(log, no_samples=True)
    assert "warning:" in r.stderr and "goes backwards" not in r.stderr and "comes after" in r.stderr
    assert f"final    {offline.verdict.value}" in r.stdout and f"over {offline.n_steps} steps" in r.stdout
    assert r.exit_code == (1 if offline.failed else 0)


def test_watch_on_unordered_console_log_ends_with_the_offline_answer(tmp_path):
    log = tmp_path / "train.log"
    steps = list(range(1, 301))
    order = steps[150:] + steps[:150]  # the second half printed first
    log.write_text("".join(f">{s}, d1=0.6, d2=0.6 g=1.{s % 7}, a1=70, a2=70\n" for s in order))
    r = cli("watch", log, "--idle", "0.3", "--poll", "0.05")
    assert_no_traceback(r)
    offline = gandiag.analyze(log, no_samples=True)
    assert "warning:" in r.stderr
    assert f"over {offline.n_steps} steps" in r.stdout


def test_watch_non_numeric_step_is_the_analyze_error(tmp_path):
    log = tmp_path / "history.csv"
    _write(log, LINES[:30] + ["abc" + LINES[30][LINES[30].index(","):]] + LINES[31:60])
    watched = assert_contract(cli("watch", log, "--idle", "0.3", "--poll", "0.05"), str(log))[0]
    analyzed = assert_contract(cli("analyze", log), str(log))[0]
    assert "non-numeric value 'abc'" in watched and "non-numeric value 'abc'" in analyzed


def test_watch_10MB_field(tmp_path):
    log = tmp_path / "history.csv"
    _write(log, LINES[:30] + ["31,0.5," + "7" * (10 << 20)])
    line = assert_contract(cli("watch", log, "--idle", "0.3", "--poll", "0.05"), str(log))[0]
    assert "longer than 1,048,576 bytes" in line


def test_watch_growing_log_that_is_replaced_midway(tmp_path, monkeypatch):
    """The old run's lines are judged, the new file's are not mixed in: the watch stops and says so."""
    log = tmp_path / "history.csv"
    _write(log, LINES[:2])

    def grow_then_replace():
        for i in range(2, 120, 20):
            _append(log, LINES[i:i + 20])
            time.sleep(0.05)
        tmp = tmp_path / "new.csv"
        _write(tmp, LINES[:400])
        os.replace(tmp, log)

    r = _watch_while(log, grow_then_replace, "--idle", "3", monkeypatch=monkeypatch)
    assert_contract(r, str(log))
    assert "rotated" in error_lines(r)[0]
