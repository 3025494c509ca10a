import os

import pytest
from fixture_runs import FIXTURE_RUNS, RUNS


@pytest.fixture(scope="session")
def histories():
    """Every recorded fixture run, read once: name -> RunHistory."""
    from gandiag.ingest import read_run

    return {name: read_run(os.path.join(FIXTURE_RUNS, name)) for name in RUNS}
