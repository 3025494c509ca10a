import subprocess
import sys

from typer.testing import CliRunner

from gandiag._version import __version__
from gandiag.cli import app


def test_version_prints_the_package_version():
    for flag in ("--version", "-V"):
        r = CliRunner().invoke(app, [flag])
        assert r.exit_code == 0 and r.output == f"gandiag {__version__}\n"


def test_version_through_python_m():
    done = subprocess.run([sys.executable, "-m", "gandiag", "--version"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"gandiag {__version__}"
