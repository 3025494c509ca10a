"""`gandiag report` (figures + HTML) and `gandiag analyze --plot` (figures only) on recorded runs."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app

pytest.importorskip("matplotlib")

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
runner = CliRunner()


def test_report_writes_figures_run_pages_and_an_index(tmp_path):
    out = tmp_path / "report"
    r = runner.invoke(app, ["report", str(RUNS / "digits-convergence_failure-s0"), str(RUNS / "ring8-mode_collapse-s0"),
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    digits = out / "digits-convergence_failure-s0"
    names = sorted(p.name for p in digits.iterdir())
    assert names == ["evolution.gif", "evolution.png", "history.png", "report.html", "sample_rules.png",
                     "samples_step_40.png", "samples_step_600.png"]
    ring = sorted(p.name for p in (out / "ring8-mode_collapse-s0").glob("samples_*.png"))
    assert ring == ["samples_step_100.png", "samples_step_1500.png"]  # start (which is the onset) and end
    page = (digits / "report.html").read_text()
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 5  # self-contained
    assert len(re.findall(r'<img src="data:image/gif;base64,', page)) == 1  # the animation, inline too
    assert page.index("<h2>Evolution</h2>") < page.index("<h2>Samples</h2>")
    assert "non_converged" in page and "GD101" in page and "<th>fix</th>" in page
    index = (out / "index.html").read_text()
    assert 'href="digits-convergence_failure-s0/report.html"' in index
    assert 'href="ring8-mode_collapse-s0/report.html"' in index
    assert index.index("digits-convergence_failure-s0") < index.index("ring8-mode_collapse-s0")


def test_report_keeps_going_past_an_unreadable_run(tmp_path, write):
    bad = write("broken/history.csv", "step,d_loss\n")
    r = runner.invoke(app, ["report", str(RUNS / "digits-diverge-s0"), str(bad), "--out", str(tmp_path / "o"),
                            "--no-samples"])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert (tmp_path / "o" / "digits-diverge-s0" / "history.png").is_file()
    assert "Unreadable inputs" in (tmp_path / "o" / "index.html").read_text()


def test_analyze_plot_writes_just_the_figures(tmp_path):
    r = runner.invoke(app, ["analyze", str(RUNS / "digits-diverge-s0"), "--no-samples", "--plot", str(tmp_path / "f")])
    assert r.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "f").rglob("*")) == ["digits-diverge-s0", "history.png"]


def test_a_run_without_samples_says_how_to_add_them(tmp_path):
    r = runner.invoke(app, ["report", str(RUNS / "digits-diverge-s0"), "--no-samples", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "o" / "digits-diverge-s0" / "report.html").read_text()
    assert "No sample snapshots" in page and "--samples" in page
    assert sorted(p.name for p in (tmp_path / "o" / "digits-diverge-s0").iterdir()) == ["history.png", "report.html"]


def test_report_with_jobs_writes_the_same_pages(tmp_path):
    runs = [str(RUNS / "digits-diverge-s0"), str(RUNS / "ring8-stable-s0")]
    one = runner.invoke(app, ["report", *runs, "--out", str(tmp_path / "one")])
    two = runner.invoke(app, ["report", *runs, "--out", str(tmp_path / "two"), "--jobs", "2"])
    assert one.exit_code == two.exit_code == 0, two.output
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*"))
    assert (tmp_path / "two" / "index.html").read_text() == (tmp_path / "one" / "index.html").read_text()
