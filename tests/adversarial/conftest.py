"""Every adversarial case runs under a timeout and a memory bound (see contract.py for the contract)."""

from __future__ import annotations

import resource
import signal

import pytest
from contract import CASE_MEMORY_MB, CASE_TIMEOUT


class CaseTimeout(BaseException):
    """Raised by the alarm: a BaseException, so that no guard in gandiag can swallow it."""


@pytest.fixture(autouse=True)
def bounded(request):
    """Every adversarial case: a timeout, and a bound on how much it grows the peak memory."""
    limit = request.node.get_closest_marker("timeout")
    seconds = limit.args[0] if limit else CASE_TIMEOUT

    def expire(signum, frame):
        raise CaseTimeout(f"the case took more than {seconds} s (a hang?)")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb <= CASE_MEMORY_MB, f"the case raised the peak memory by {grown_mb:.0f} MB"


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): the adversarial case's wall-clock limit")


