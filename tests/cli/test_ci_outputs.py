"""The CI formats through the CLI, the documented GitHub Actions commands and the pre-commit hook."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from gandiag.cli import app

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "fixtures" / "runs"
BIN = Path(sys.executable).parent
runner = CliRunner()


def copy_runs(dest: Path, mapping: dict[str, str]) -> Path:
    """Copy recorded runs (history and meta only, so they analyze quickly) under new folder names."""
    for name, fixture in mapping.items():
        (dest / name).mkdir(parents=True)
        for f in ("history.csv", "meta.json"):
            shutil.copy(RUNS / fixture / f, dest / name / f)
    return dest


@pytest.mark.parametrize("fmt", ["junit", "github", "markdown"])
def test_formats_on_fixtures_exit_codes(fmt):
    paths = [str(RUNS / "digits-stable-s0"), str(RUNS / "digits-convergence_failure-s0")]
    r = runner.invoke(app, ["analyze", *paths, "--no-samples", "-f", fmt])
    assert r.exit_code == 1, r.output
    assert runner.invoke(app, ["analyze", paths[0], "--no-samples", "-f", fmt]).exit_code == 0
    if fmt == "junit":
        suite = ET.fromstring(r.stdout.encode()).find("testsuite")
        assert suite.get("tests") == "2" and suite.get("failures") == "1"
    elif fmt == "github":
        assert r.stdout.startswith("::error file=") and "title=GD10" in r.stdout
    else:
        assert "| `digits-convergence_failure-s0/history.csv` | non_converged |" in r.stdout


def test_unreadable_input_is_an_error_element_and_exit_2(write):
    bad = write("broken/history.csv", "")
    r = runner.invoke(app, ["analyze", str(RUNS / "digits-stable-s0"), str(bad), "--no-samples", "-f", "junit"])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "empty file" in r.stderr
    cases = ET.fromstring(r.stdout.encode()).find("testsuite").findall("testcase")
    assert [c.find("error") is not None for c in cases] == [False, True]


def test_new_formats_import_no_heavy_modules(tmp_path):
    log = copy_runs(tmp_path / "runs", {"a": "digits-stable-s0"}) / "a" / "history.csv"
    code = (
        "import sys\nfrom gandiag.cli import app\n"
        "for fmt in ('junit', 'github', 'markdown', 'text'):\n"
        "    try:\n"
        f"        app(['analyze', {str(log)!r}, '-f', fmt])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('tensorflow', 'matplotlib', 'joblib', 'dask', 'distributed', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert [line for line in out.stderr.splitlines() if line.startswith("HEAVY=")] == ["HEAVY="], out.stderr[-2000:]


def _documented_commands() -> list[str]:
    text = (ROOT / "docs" / "ci.md").read_text()
    workflow = text[text.index("```yaml"):]
    workflow = workflow[:workflow.index("```", 7)]
    return [m.group(1) for m in re.finditer(r"^\s+run: (gandiag .*)$", workflow, re.MULTILINE)]


def test_documented_github_actions_commands_run_on_fixtures(tmp_path):
    commands = _documented_commands()
    assert len(commands) == 4 and "--baseline baseline.json" in commands[-1]
    # the target branch: a stable run and a failing one; the pull request makes "a" fail and adds "c"
    copy_runs(tmp_path / "base" / "runs", {"a": "digits-stable-s0", "b": "digits-convergence_failure-s0"})
    copy_runs(tmp_path / "runs", {"a": "digits-aggressive_adam-s0", "b": "digits-convergence_failure-s0",
                                  "c": "digits-stable-s0"})
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    codes = [subprocess.run(["bash", "-c", c], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
             for c in commands]
    assert [c.returncode for c in codes] == [0, 0, 0, 1], [c.stderr for c in codes]
    summary = (tmp_path / "summary.md").read_text()
    assert "got worse: stable -> non_converged" in summary and "1 failing the check" in summary
    junit = ET.parse(tmp_path / "gandiag-junit.xml").getroot().find("testsuite")
    assert [c.get("name") for c in junit if c.find("failure") is not None] == ["a/history.csv"]
    annotations = codes[-1].stdout.splitlines()
    assert annotations[0].startswith("::error file=runs/a/history.csv,title=GD")
    assert sum(line.startswith("::error") for line in annotations) == 1


def test_pre_commit_hook_entry_on_committed_histories(tmp_path):
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"^\s+entry: (.+)$", hook, re.MULTILINE).group(1).split()
    files = re.compile(re.search(r"^\s+files: (.+)$", hook, re.MULTILINE).group(1))
    copy_runs(tmp_path / "runs", {"ok": "digits-stable-s0", "bad": "digits-diverge-s0"})
    (tmp_path / "runs" / "notes.csv").write_text("not a history\n")
    staged = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "runs").rglob("*"))
    matched = [p for p in staged if files.search(p)]
    assert matched == ["runs/bad/history.csv", "runs/ok/history.csv"]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(paths):
        return subprocess.run([*entry, *paths], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)

    blocked = run(matched)
    assert blocked.returncode == 1 and "bad/history.csv" in blocked.stdout and "GD901" in blocked.stdout
    # concise, like ruff in a hook: one line per run with the line of the onset, and a count
    bad, ok, summary = blocked.stdout.splitlines()
    assert re.fullmatch(r"runs/bad/history\.csv:\d+: non_converged [01]\.\d\d GD901 nonfinite-losses \(onset step \d+\)", bad)
    line = int(bad.split(":")[1])
    step = int(re.search(r"onset step (\d+)", bad).group(1))
    logged = (tmp_path / "runs" / "bad" / "history.csv").read_text().splitlines()[line - 1]
    assert int(float(logged.split(",")[0])) == step  # the line that logged the onset
    assert ok.startswith("runs/ok/history.csv: stable ") and summary.endswith("1 failing the check")
    assert run(["runs/ok/history.csv"]).returncode == 0
    # the full report is one flag away: the last --output-format wins
    full = run([*matched, "--output-format", "text"])
    assert full.returncode == 1 and len(full.stdout.splitlines()) > 10 and "evidence:" in full.stdout
