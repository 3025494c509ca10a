"""Outputs escape what came from the runs: folder names and logged values are data, never markup or escapes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from contract import assert_contract, assert_no_traceback, cli
from hostile import good_run

NASTY_NAMES = {
    "control": "run\x1b[31m\x01\x07",
    "script": "run<script>alert(1)</script>",
    "img": "run<img src=x onerror=alert(1)>",
    "backtick": "run`) | [x](http://evil) `b",
    "mention": "run @octo/team *bold* ~~x~~",
    "bidi": "run\u202etxt.exe",
}


@pytest.fixture(params=sorted(NASTY_NAMES))
def nasty_runs(request, tmp_path) -> tuple[Path, str]:
    runs = tmp_path / "runs"
    good_run(runs / "plain")
    name = NASTY_NAMES[request.param]
    good_run(runs / name)
    bad = runs / (name + "-broken")
    bad.mkdir()
    (bad / "history.csv").write_text("step,d_loss,g_loss\n1,0.5,<img src=x onerror=alert(2)>\n")
    return runs, name


def test_junit_is_valid_xml(nasty_runs):
    runs, name = nasty_runs
    r = cli("analyze", runs, "-f", "junit")
    assert_contract(r, "broken")
    root = ET.fromstring(r.stdout.encode("utf-8"))  # raises on a control character
    names = [c.get("name") for c in root.iter("testcase")]
    assert len(names) == 3 and "plain/history.csv" in names


def test_markdown_holds_no_markup_from_the_runs(nasty_runs):
    runs, _ = nasty_runs
    r = cli("analyze", runs, "-f", "markdown")
    assert_contract(r, "broken")
    assert not {"\x1b", "\x01", "\u202e"} & set(r.stdout)
    md = _outside_code_spans(r.stdout)  # a code span shows its text literally: markup there is harmless
    for raw in ("<script", "<img", "@octo", "](http", "*bold*", "~~x~~"):
        assert raw not in md, raw
    for line in md.splitlines():
        if line.startswith("| ") and "history.csv" in line:
            assert line.count(" | ") - line.count("\\|") >= 5, line  # the key's pipe did not open a cell


def _outside_code_spans(markdown: str) -> str:
    """The text of a Markdown document with every code span removed (CommonMark: a run of N backticks to the next)."""
    return re.sub(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", markdown)


def test_markdown_code_span_survives_backticks():
    from gandiag.report.escape import md_code

    span = md_code("a`b``c")
    assert span.startswith("```") and span.endswith("```") and "a`b``c" in span


def test_github_annotations_and_text_have_no_control_characters(nasty_runs):
    runs, _ = nasty_runs
    for fmt in ("github", "text"):
        r = cli("analyze", runs, "-f", fmt)
        assert_contract(r, "broken")
        assert "\x1b" not in r.stdout and "\x01" not in r.stdout and "\u202e" not in r.stdout
        if fmt == "github":
            assert all(line.startswith("::") for line in r.stdout.splitlines()), r.stdout


def test_json_stays_json(nasty_runs):
    runs, _ = nasty_runs
    r = cli("analyze", runs, "-f", "json")
    assert_contract(r, "broken")
    doc = json.loads(r.stdout)
    assert len(doc["runs"]) == 2


def test_a_10MB_value_gives_a_short_error_everywhere(tmp_path):
    runs = tmp_path / "runs"
    good_run(runs / "good")
    (runs / "bad").mkdir()
    (runs / "bad" / "history.csv").write_text("step,d_loss,g_loss\n1,0.5,1\n2,0.5," + "9x" * 400_000 + "\n")
    for fmt in ("text", "junit", "github", "markdown", "json"):
        r = cli("analyze", runs, "-f", fmt, env={"GANDIAG_MAX_LINE": str(4 << 20)})
        assert_contract(r, "bad")
        assert len(r.stdout) < 20_000, (fmt, len(r.stdout))


def test_non_utf8_folder_name(tmp_path):
    runs = tmp_path / "runs"
    good_run(runs / "good")
    raw = os.fsencode(str(runs)) + b"/bad-\xff\xfe"
    os.makedirs(raw)
    good_run(Path(os.fsdecode(raw)))
    for fmt in ("text", "junit", "markdown", "json", "github"):
        r = cli("analyze", runs, "-f", fmt)
        assert_no_traceback(r)
        assert r.exit_code in (0, 1), (fmt, r.stderr)
        if fmt == "junit":
            ET.fromstring(r.stdout.encode("utf-8"))


def test_report_html_escapes_folder_names(tmp_path):
    runs = tmp_path / "runs"
    good_run(runs / NASTY_NAMES["script"])
    out = tmp_path / "report"
    r = cli("report", runs, "--out", out)
    assert_no_traceback(r)
    assert r.exit_code in (0, 1), r.stderr
    assert "<script>alert(1)" not in (out / "index.html").read_text()
