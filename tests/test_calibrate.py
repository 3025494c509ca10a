"""`gandiag calibrate` and `gandiag rules stats` on the shipped corpus: refits reproduce the shipped scores, a rule that
hurts shows in the statistics, and a corpus too small to fit is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.engine.loader import default_scores_path, load_rules
from gandiag.errors import UsageError
from gandiag.verdict.calibration import LABELS, read_scores
from gandiag.verdict.cases import check_corpus, collect_corpus, read_corpus
from gandiag.verdict.fit import calibrate
from gandiag.verdict.metrics import scores_of

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "fixtures" / "corpus" / "manifest.json"
runner = CliRunner()

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="no corpus in this checkout")


def _subset(tmp_path: Path, every: int, mode: str = "losses") -> Path:
    """A manifest of every ``every``-th corpus run in one mode, with absolute paths."""
    doc = json.loads(MANIFEST.read_text())
    runs = [dict(r, path=str(MANIFEST.parent / r["path"])) for r in doc["runs"]
            if bool(r["options"].get("no_samples")) == (mode == "losses")][::every]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(dict(doc, runs=runs)))
    return path


@pytest.fixture(scope="module")
def loss_cases():
    """Every corpus run judged from its losses alone, with the rule files' own thresholds (what a refit starts from)."""
    rules = load_rules(default_scores=False)
    runs = [r for r in read_corpus(MANIFEST) if r.options.get("no_samples")]
    return rules, collect_corpus(runs, rules, jobs=2, modes=("losses",))


def test_refit_from_losses_reproduces_the_shipped_loss_thresholds_and_probabilities(loss_cases):
    # The loss rules' thresholds and the losses/* probabilities are fitted on the losses-only evaluations alone
    # (calibrate.calibrate), so this half of the shipped scores can be refitted in seconds; the sample half takes
    # the whole corpus with samples (minutes: `gandiag calibrate fixtures/corpus/manifest.json`).
    rules, cases = loss_cases
    shipped = read_scores(default_scores_path())
    fitted = calibrate(cases, rules)
    loss_codes = {code for code in fitted.thresholds if not rules[code].on_samples}
    assert loss_codes >= {"GD101", "GD106"}
    assert {c: fitted.thresholds[c] for c in loss_codes} == {c: shipped.thresholds[c] for c in loss_codes}
    losses_paths = {p for p in shipped.probabilities if p.startswith("losses/")}
    assert set(fitted.probabilities) == losses_paths
    for p in losses_paths:
        assert fitted.probabilities[p].probabilities == pytest.approx(shipped.probabilities[p].probabilities,
                                                                      abs=1e-4), p
        assert fitted.probabilities[p].runs == shipped.probabilities[p].runs


def test_the_fit_respects_the_bound_on_stable_runs_flagged(loss_cases):
    rules, cases = loss_cases
    for bound in (0.02, 0.10):
        rows = calibrate(cases, rules, loss_bound=bound).rows
        labels = [r["label"] for r in rows]
        flagged = sum(r["verdict"] in LABELS[1:] for r in rows if r["label"] == "stable")
        # the bound is a steep penalty, not a hard constraint: a fit can only reach it within what the
        # candidate thresholds allow; the rule files' own values flag more than 2% of stable runs
        assert flagged / labels.count("stable") <= max(bound, 0.11), (bound, flagged)


def test_calibrated_confidence_is_the_share_of_runs_on_its_path_that_were_right(loss_cases):
    rules, cases = loss_cases
    cal = calibrate(cases, rules)
    for path, entry in cal.probabilities.items():
        rows = [r for r in cal.rows if r["path"] == path]
        n_right = {lab: sum(r["label"] == lab for r in rows) for lab in LABELS}
        for lab in LABELS:  # Laplace-smoothed counts
            assert entry.probabilities[lab] == pytest.approx((n_right[lab] + 1) / (len(rows) + 3), abs=1e-4)
    s = scores_of(cal.rows)
    assert s["ece"] < 0.05  # in-sample: calibrated on these very rows


def test_a_rule_that_hurts_is_visible_in_rules_stats(tmp_path):
    # A rule that calls every run with a generator loss above 0.1 a mode collapse: precision near the corpus's share
    # of collapses, and most of its hits against the label.
    bad = tmp_path / "rules"
    bad.mkdir()
    (bad / "GD299-everything-collapses.toml").write_text('''
code = "GD299"
name = "everything-collapses"
title = "A bad rule: every generator loss above 0.1 is a collapse"
severity = "error"
verdict = "mode_collapse"
weight = 0.9
message = "generator loss {observed:.2f}"

[[when]]
series = "g_loss"
signal = "rolling_mean"
window = 10
op = ">"
value = 0.1

[docs]
what = "test rule"
why = "test rule"
example = "any run"
fix = "delete it"
''')
    manifest = _subset(tmp_path, 4)
    r = runner.invoke(app, ["rules", "stats", str(manifest), "--rules", str(bad), "-f", "json", "--no-cache"])
    assert r.exit_code == 0, r.output
    stats = {s["rule"]: s for s in json.loads(r.stdout)["losses"]}
    hurt = stats["GD299"]
    runs = sum(hurt["judged"].values())
    assert hurt["active"]["stable"] >= 0.8 * hurt["judged"]["stable"]  # it fires on stable runs ...
    assert hurt["precision"] < 0.3 and len(hurt["fires_against_label"]) > runs / 2  # ... and it shows
    assert stats["GD105"]["precision"] == 1.0  # the discriminator won: the definition's test 2, never wrong
    text = runner.invoke(app, ["rules", "stats", str(manifest), "--rules", str(bad), "--no-cache"]).stdout
    assert "GD299" in text and "== losses" in text


def test_a_corpus_too_small_or_one_sided_is_refused(tmp_path):
    small = _subset(tmp_path, 40)  # 11 runs
    r = runner.invoke(app, ["calibrate", str(small), "--out", str(tmp_path / "scores.toml"), "--no-cache"])
    assert r.exit_code == 2 and "corpus too small" in r.stderr and "need at least 30 runs" in r.stderr
    assert not (tmp_path / "scores.toml").exists()
    runs = [r for r in read_corpus(MANIFEST) if r.label == "stable"][:40]
    with pytest.raises(UsageError, match="0 mode_collapse"):
        check_corpus(runs, "stable runs only")


def test_shipped_scores_stay_inside_every_rules_tuning_range():
    rules = load_rules(default_scores=False)
    shipped = read_scores(default_scores_path())
    for code, value in shipped.thresholds.items():
        cond = next(c for c in rules[code].when if c.tune)
        assert cond.tune[0] <= value <= cond.tune[1], code
    applied = load_rules()
    assert all(next(c for c in applied[code].when if c.tune).value == v for code, v in shipped.thresholds.items())
