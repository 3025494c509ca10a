"""Console logs people pasted into public issues (fixtures/console/real): read, and judged as the threads say.

``benchmarks/console_logs.py`` prints the same figures; this test holds them.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "fixtures" / "console" / "real"
#: Logs whose thread supports a verdict gandiag does not give (no rule covers the case); see the report.
KNOWN_DISAGREEMENTS = {"dle-2.log"}  # every loss frozen and the discriminator fooled: no rule for a dead run yet


def _benchmark():
    spec = importlib.util.spec_from_file_location("console_logs", ROOT / "benchmarks" / "console_logs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_real_log_cites_its_thread_and_the_reason_for_its_label():
    logs = json.loads((REAL / "manifest.json").read_text())["logs"]
    assert len(logs) >= 30
    assert len({e["codebase"].split(" (")[0] for e in logs}) >= 15
    for e in logs:
        assert (REAL / e["file"]).is_file(), e["file"]
        assert e["source"].startswith("https://github.com/") and len(e["label_reason"]) > 20, e["file"]
    assert {p.name for p in REAL.glob("*.log")} == {e["file"] for e in logs}


def test_real_logs_are_read_and_the_verdicts_agree_with_the_threads():
    results = _benchmark().evaluate(REAL / "manifest.json")
    parsed = [r for r in results if r["parsed"]]
    assert len(parsed) / len(results) >= 0.95, [r.get("error") for r in results if not r["parsed"]]
    disagreements = {r["file"] for r in results for _, ok in r["checks"] if ok is False}
    assert disagreements <= KNOWN_DISAGREEMENTS, disagreements
    checked = [ok for r in results for _, ok in r["checks"] if ok is not None]
    assert len(checked) >= 8
    # the maintainers of BMSG-GAN and TUNIT call a discriminator loss of 0 normal: never a confident D win
    by_file = {r["file"]: r for r in results}
    for name in ("bmsg-gan-2.log", "tunit-4.log"):
        assert not (by_file[name]["verdict"] == "non_converged" and by_file[name]["confidence"] > 0.5)
