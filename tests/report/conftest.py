import os

import pytest

from gandiag.engine.findings import FAILURE_VERDICTS
from gandiag.engine.loader import load_rules
from gandiag.report.summary import ReportRun
from gandiag.workflows.batch import analyze_many, find_targets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: recorded runs covering each verdict (losses only, so the set is quick to analyze)
SNAPSHOT_RUNS = ("digits-convergence_failure-s0", "digits-diverge-s0", "digits-stable-s0", "digits-wgan-s0")


@pytest.fixture(scope="session")
def fixture_report_runs():
    """ReportRuns of real recorded runs, with paths relative to the repository so snapshots are portable."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        targets, errors = find_targets([os.path.join("fixtures", "runs", name) for name in SNAPSHOT_RUNS])
        results = analyze_many(targets, rules=load_rules(), options={"no_samples": True})
    finally:
        os.chdir(here)
    assert not errors and all(r.diagnosis for r in results)
    return [ReportRun(r.diagnosis, r.target.key, failure=f"verdict {r.diagnosis.verdict.value} is in --fail-on"
                      if r.diagnosis.verdict in FAILURE_VERDICTS else None) for r in results]
