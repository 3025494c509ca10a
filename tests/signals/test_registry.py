"""The signal registry covers every signal a rule file may name, and its look-back is enough for the monitor."""

import numpy as np
import pytest

from gandiag.engine.model import SIGNAL_PARAMS
from gandiag.signals.registry import DIRECT, SIGNALS, lookback


def test_every_signal_a_rule_may_name_is_computed_by_the_registry_or_read_directly():
    assert {s.value for s in SIGNAL_PARAMS} == set(SIGNALS) | set(DIRECT)


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_a_trailing_window_of_lookback_rows_gives_the_offline_value(name):
    """The monitor computes a signal on the last lookback(p) + k rows only; the last k values must be those of the
    whole series (hand-made random series, named as such)."""
    from gandiag.engine.model import Signal

    params = {k: (default if default is not None else 25) for k, (_, default) in SIGNAL_PARAMS[Signal(name)].items()}
    rng = np.random.default_rng(1)
    v = 1.0 + np.abs(rng.normal(0, 0.3, 2000)) * (1 + np.sin(np.arange(2000) / 7))
    full = SIGNALS[name].compute(v, params)
    k = 50
    window = v[-(lookback(name, params) + k):]
    tail = SIGNALS[name].compute(window, params)[-k:]
    # cumulative sums (the trend's slope) round differently over 2,000 and 120 rows: equal to 1e-6
    np.testing.assert_allclose(tail, full[-k:], rtol=1e-6, atol=1e-9)
