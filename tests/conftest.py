import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_RUNS = os.path.join(ROOT, "fixtures", "runs")


@pytest.fixture
def write(tmp_path):
    """Write text or bytes to a file under tmp_path and return its path."""

    def _write(name, content, mode="w"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8", newline="")
        return p

    return _write
