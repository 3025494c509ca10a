"""Import discipline and the installed layout."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CSV = "step,d1,d2,g,a1,a2\n" + "".join(f"{i},0.6,0.6,1.2,75,75\n" for i in range(1, 200))


def test_analyze_imports_no_tensorflow_matplotlib_scipy_or_sklearn(tmp_path):
    # Run in a subprocess of the full test environment, where TensorFlow and matplotlib are installed.
    log = tmp_path / "run.csv"
    log.write_text(CSV)
    code = (
        "import sys\n"
        "from gandiag.cli import app\n"
        "try:\n"
        f"    app(['analyze', {str(log)!r}, '-f', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib', 'scipy', 'sklearn', 'torch') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    line = [x for x in out.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line == ["HEAVY="], out.stderr[-2000:]


def test_wheel_carries_the_rules_and_an_installed_gandiag_finds_them(tmp_path):
    wheel_dir = tmp_path / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    if build.returncode != 0:
        pytest.fail("building the wheel failed: " + build.stderr[-1500:])
    wheel = next(wheel_dir.glob("gandiag-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gandiag/_rules/GD101-discriminator-loss-vanishes.toml" in names
    assert "gandiag/_rules/scores.toml" in names  # the fitted thresholds and probabilities travel with the rules
    # Install it (non-editable) by unpacking into an empty site dir, and run from elsewhere.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import gandiag, gandiag.engine.loader as L; "
            "print(gandiag.__file__); print(L.default_rules_dir()); print(len(L.load_rules()));"
            "print(L.load_rules()['GD301'].when[0].value)")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-1500:]
    module_file, rules_dir, count, gd304 = out.stdout.split()
    assert module_file.startswith(str(site)) and rules_dir == str(site / "gandiag" / "_rules")
    assert int(count) == len([p for p in (ROOT / "rules").glob("*.toml") if p.name != "scores.toml"])
    from gandiag.engine.loader import load_rules

    assert float(gd304) == load_rules()["GD301"].when[0].value != load_rules(default_scores=False)["GD301"].when[0].value
