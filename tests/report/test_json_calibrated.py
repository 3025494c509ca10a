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


def test_without_accuracies_a_stable_verdict_is_calibrated_and_a_failure_is_not():
    # The corpus logs accuracies. Without them test 2 (the discriminator won) cannot be judged: a won discriminator
    # would land on a heuristic failure path whose corpus probability understates it, so failures stay
    # uncalibrated and say why; a stable verdict is unaffected (a won discriminator fires the loss heuristics).
    from gandiag.history import RunHistory
    from gandiag.ingest import read_run

    h = read_run("fixtures/runs/digits-convergence_failure-s0")
    losses_only = RunHistory.from_arrays(d_loss=h.get("d_loss"), g_loss=h.get("g_loss"))
    failed = gandiag.analyze(losses_only)
    assert failed.verdict.value == "non_converged" and failed.probabilities == {}
    assert "confidence not calibrated" in failed.reason
    h = read_run("fixtures/runs/digits-stable-s0")
    clean = gandiag.analyze(RunHistory.from_arrays(d_loss_real=h.get("d_loss_real"), d_loss_fake=h.get("d_loss_fake"),
                                                   g_loss=h.get("g_loss")))
    assert clean.verdict.value == "stable" and clean.decision_path == "losses/stable"
    assert clean.confidence == round(clean.probabilities["stable"], 3) < 0.7
    assert "confidence not calibrated" not in clean.reason
