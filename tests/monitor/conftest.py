import os

import pytest

FIXTURE_RUNS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "fixtures", "runs")
RUNS = sorted(d for d in os.listdir(FIXTURE_RUNS) if os.path.isdir(os.path.join(FIXTURE_RUNS, d)))


@pytest.fixture(scope="session")
def histories():
    """Every recorded fixture run, read once: name -> RunHistory."""
    from gandiag.ingest import read_run

    return {name: read_run(os.path.join(FIXTURE_RUNS, name)) for name in RUNS}
