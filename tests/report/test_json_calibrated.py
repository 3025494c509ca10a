"""The JSON report carries the calibrated probabilities, the decision path, and a bounded list of episodes."""

import json

from test_episode_summary import synthetic_bursts_of_oscillation

import gandiag
from gandiag.report.json import MAX_RECOVERED_PER_RULE, render


def _run(d):
    return json.loads(render([d], rules_digest="x", options={}))["runs"][0]


def test_probabilities_and_decision_path_are_in_the_json():
    r = _run(gandiag.analyze("fixtures/runs/digits-convergence_failure-s0", no_samples=True))
    assert r["decision_path"] == "losses/test2"
    assert set(r["probabilities"]) == {"stable", "mode_collapse", "non_converged"}
    assert abs(sum(r["probabilities"].values()) - 1) < 1e-3
    assert r["confidence"] == round(r["probabilities"]["non_converged"], 3)
    assert r["findings"][0]["rule"] == "GD105" and r["findings"][0]["outcome_test"] == 2


def test_recovered_episodes_are_capped_with_a_count(monkeypatch):
    import gandiag.report.json as report_json

    monkeypatch.setattr(report_json, "MAX_RECOVERED_PER_RULE", 5)
    d = gandiag.analyze(synthetic_bursts_of_oscillation())
    total = sum(f.rule == "GD202" and f.status.value == "recovered" for f in d.findings)
    r = _run(d)
    kept = sum(f["rule"] == "GD202" and f["status"] == "recovered" for f in r["findings"])
    assert kept == 5 and r["episodes_omitted"] == {"GD202": total - 5}
    assert MAX_RECOVERED_PER_RULE == 50
