"""The text report stays bounded when one rule has many recovered episodes (hand-made series, named as such)."""

import numpy as np

import gandiag
from gandiag.findings import Status
from gandiag.history import RunHistory
from gandiag.report.text import MAX_EPISODES_SHOWN, render_one


def synthetic_bursts_of_oscillation(n=20000, period=300):
    rng = np.random.default_rng(0)
    t = np.arange(n)
    g = 1.2 + rng.normal(0, 0.15, n) + np.where((t // period) % 2 == 0, np.sin(t / 3), 0)
    return RunHistory.from_arrays(d_loss_real=0.6 + rng.normal(0, 0.06, n), d_loss_fake=0.6 + rng.normal(0, 0.06, n),
                                  g_loss=g)


def test_recovered_episodes_of_one_rule_beyond_the_first_few_are_one_line():
    d = gandiag.analyze(synthetic_bursts_of_oscillation())
    episodes = [f for f in d.findings if f.rule == "GD202" and f.status is Status.RECOVERED]
    assert len(episodes) > MAX_EPISODES_SHOWN + 10
    text = render_one(d)
    assert text.count("GD202  warning  recovered") == MAX_EPISODES_SHOWN
    more = len(episodes) - MAX_EPISODES_SHOWN
    assert f"{more} more recovered episodes of GD202" in text
    last = episodes[-1]
    assert f"last at steps {last.onset_step}-{last.end_step}" in text
    full = render_one(d, verbose=True)
    assert full.count("GD202  warning  recovered") == len(episodes)
    assert len(text.splitlines()) < 100 < len(full.splitlines())
