"""The text report stays bounded when one rule has many recovered episodes (hand-made series, named as such)."""

import numpy as np

import gandiag
from gandiag.engine.findings import Status
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


def test_beyond_the_described_episodes_the_engine_only_counts_them(monkeypatch):
    """Cost bounded in the number of episodes: past MAX_EPISODES_DESCRIBED, only the longest and the last become
    findings; the others are counted in the diagnosis, the JSON report and the text summary."""
    import json

    from gandiag.engine.evaluate import MAX_EPISODES_DESCRIBED
    from gandiag.report.json import run_dict

    h = synthetic_bursts_of_oscillation(n=60000, period=300)  # 100 bursts: more than the described episodes
    d = gandiag.analyze(h)
    described = [f for f in d.findings if f.rule == "GD202" and f.status is Status.RECOVERED]
    counted = d.episodes_omitted.get("GD202", 0)
    assert len(described) == MAX_EPISODES_DESCRIBED + 2 and counted > 0
    total = len(described) + counted
    assert total > 90  # every burst is an episode, described or counted
    monkeypatch.setattr("gandiag.engine.evaluate.MAX_EPISODES_DESCRIBED", 10**9)
    every = [f for f in gandiag.analyze(h).findings if f.rule == "GD202" and f.status is Status.RECOVERED]
    assert len(every) == total
    assert described[-1] == every[-1]  # the last episode is always described (where the run last swung)
    longest = max(every[MAX_EPISODES_DESCRIBED:], key=lambda f: f.end_step - f.onset_step)
    assert longest in described
    assert f"{total - MAX_EPISODES_SHOWN} more recovered episodes of GD202" in render_one(d)
    doc = json.loads(json.dumps(run_dict(d)))
    kept = [f for f in doc["findings"] if f["rule"] == "GD202" and f["status"] == "recovered"]
    assert len(kept) + doc["episodes_omitted"]["GD202"] == total
