"""The GitHub composite action, the example workflow that uses it, and the pre-commit hooks: linted and run."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "fixtures" / "runs"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "gandiag-example.yml").read_text())
HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def _steps():
    return ACTION["runs"]["steps"]


def test_action_is_a_composite_whose_expressions_name_declared_inputs():
    assert ACTION["runs"]["using"] == "composite" and ACTION["name"] and ACTION["description"]
    inputs = ACTION["inputs"]
    assert [k for k, v in inputs.items() if v.get("required")] == ["paths"]
    assert all("default" in v for k, v in inputs.items() if not v.get("required"))
    ids = {s.get("id") for s in _steps()}
    for step in _steps():
        assert step.get("shell") == "bash", step["name"]  # composite run steps must name their shell
        assert "${{" not in step["run"], step["name"]  # inputs reach scripts through env, never pasted into code
        for text in [*step.get("env", {}).values(), str(step.get("if", ""))]:
            for expr in EXPR.findall(text) + ([text] if "inputs." in text and "${{" not in text else []):
                for name in re.findall(r"inputs\.([A-Za-z0-9_-]+)", expr):
                    assert name in inputs, (step["name"], name)
    for out in ACTION["outputs"].values():
        step_id = re.search(r"steps\.([\w-]+)\.outputs", out["value"]).group(1)
        assert step_id in ids


def test_example_workflow_uses_the_action_with_its_inputs():
    assert set(WORKFLOW) >= {"name", "jobs"} and (True in WORKFLOW or "on" in WORKFLOW)  # YAML 1.1 reads `on` as True
    (job,) = WORKFLOW["jobs"].values()
    assert job["runs-on"]
    uses = [s for s in job["steps"] if s.get("uses") == "./"]
    assert len(uses) == 1
    given = uses[0]["with"]
    assert set(given) <= set(ACTION["inputs"]) and "paths" in given
    for path in given["paths"].split():
        assert (ROOT / path).exists(), path
    sarif_steps = [s for s in job["steps"] if "upload-sarif" in s.get("uses", "")]
    assert sarif_steps and sarif_steps[0]["with"]["sarif_file"] == given["sarif-file"]
    for step in job["steps"]:
        for ref in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", str(step)):
            assert ref[0] == uses[0]["id"] and ref[1] in ACTION["outputs"]


def _run_action(tmp_path, inputs):
    """Run the action's steps (after the install: gandiag is installed here) as GitHub would, in a checkout copy."""
    for name in ("digits-stable-s0", "digits-convergence_failure-s0"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        for f in ("history.csv", "meta.json"):
            shutil.copy(RUNS / name / f, tmp_path / "runs" / name / f)
    values = {k: v.get("default", "") for k, v in ACTION["inputs"].items()}
    values.update(python=sys.executable, **inputs)
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    codes = {}
    for step in _steps()[1:]:
        if "if" in step and not values[re.search(r"inputs\.([\w-]+)", step["if"]).group(1)]:
            continue
        env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
        for key, text in step.get("env", {}).items():
            env[key] = EXPR.sub(lambda m: str(values[m.group(1).split(".", 1)[1]]), text)
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        codes[step["name"]] = (done.returncode, done.stdout, done.stderr)
    return codes, summary.read_text(), output.read_text()


@pytest.mark.slow  # runs the action's steps: three gandiag processes
def test_action_steps_write_the_summary_sarif_and_annotations(tmp_path):
    codes, summary, output = _run_action(tmp_path, {
        "paths": "runs/digits-stable-s0\nruns/digits-convergence_failure-s0", "args": "--no-samples",
        "sarif-file": "out.sarif"})
    assert codes["Job summary"][0] == 0 and codes["SARIF report"][0] == 0
    assert "| `digits-convergence_failure-s0/history.csv` | non_converged |" in summary
    gate, stdout, _ = codes["Annotate and gate"]
    assert gate == 1 and output.strip() == "exit-code=1"
    assert stdout.startswith("::error file=runs/digits-convergence_failure-s0/history.csv,title=GD105")
    assert '"version": "2.1.0"' in (tmp_path / "out.sarif").read_text()


@pytest.mark.slow  # runs the action's steps: three gandiag processes
def test_action_fail_on_decides_the_gate(tmp_path):
    codes, _, output = _run_action(tmp_path, {"paths": "runs", "args": "--no-samples", "fail-on": "mode_collapse"})
    assert codes["Annotate and gate"][0] == 0 and output.strip() == "exit-code=0"
    assert "SARIF report" not in codes  # no sarif-file: the step is skipped


@pytest.mark.parametrize("path,matches", [
    ("runs/a/train.log", True), ("logs/training-2024-05-01.log", True), ("exp/log.txt", True),
    ("train.log.gz", False), ("README.md", False), ("runs/a/history.csv", False), ("notes.txt", False),
    ("backlog.txt", False),
])
def test_console_hook_default_pattern(path, matches):
    assert bool(re.search(HOOKS["gandiag-console"]["files"], path)) is matches


def test_console_hook_entry_reads_a_console_log_and_blocks_a_failing_run(tmp_path):
    assert HOOKS["gandiag"]["entry"] == "gandiag analyze --output-format concise"
    entry = HOOKS["gandiag-console"]["entry"].split()
    lines = [f">{i}, d1={0.6 if i < 20 else 0.0004:.4f}, d2={0.6 if i < 20 else 0.0003:.4f} g={1 + i / 50:.3f}, "
             f"a1={70 if i < 20 else 100}, a2={65 if i < 20 else 100}" for i in range(1, 301)]
    log = tmp_path / "train.log"
    log.write_text("Loaded 60000 images\n" + "\n".join(lines) + "\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([*entry, str(log)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 1 and "non_converged" in done.stdout, done.stdout + done.stderr
    # concise: one line for the run (a console log is named without a line), then the count
    assert done.stdout.splitlines() == [f"{log}: non_converged {done.stdout.split()[2]} GD105 discriminator-won "
                                        f"(onset step {done.stdout.split('onset step ')[1].split(')')[0]})",
                                        "1 runs: 1 non_converged; 1 failing the check"]
