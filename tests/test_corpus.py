"""The ground-truth corpus: its size and balance, pinned verdicts, labels the oracle reproduces, shipped scores."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fixtures" / "corpus"
MANIFEST = CORPUS / "manifest.json"
LABELS = ("stable", "mode_collapse", "non_converged")
#: CI re-analyzes every PIN_EVERY-th run (both modes) of the corpus: a spread of every family and variant.
#: `gandiag verify fixtures/corpus/manifest.json` checks all of them (minutes).
PIN_EVERY = 6

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="no corpus in this checkout")


def _doc() -> dict:
    return json.loads(MANIFEST.read_text())


def _runs() -> list[dict]:
    return [r for r in _doc()["runs"] if r["options"].get("no_samples")]


def test_corpus_is_large_varied_and_balanced():
    runs = _runs()
    assert len(runs) >= 400
    assert len({r["family"] for r in runs}) >= 12
    labels = Counter(r["oracle_label"] for r in runs)
    assert all(labels[lab] >= 40 for lab in LABELS), labels
    assert {r["loss"] for r in runs} >= {"bce", "minimax", "lsgan", "hinge", "wgan"}
    assert {r["log_every"] for r in runs} >= {1, 10, 50}
    steps = [r["steps"] for r in runs]
    assert min(steps) <= 500 and max(steps) >= 10000


def test_a_spread_of_the_corpus_keeps_its_pinned_verdicts(tmp_path):
    doc = _doc()
    ids = sorted({r["id"].split("/")[0] for r in doc["runs"]})[::PIN_EVERY]
    subset = dict(doc, runs=[dict(r, path=str(CORPUS / r["path"])) for r in doc["runs"]
                             if r["id"].split("/")[0] in ids])
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(subset))
    r = CliRunner().invoke(app, ["verify", str(path)])
    assert r.exit_code == 0, r.output
    assert f"{len(subset['runs'])} passed, 0 failed" in r.stdout


def test_every_run_is_checked_with_and_without_samples_and_its_files_exist():
    doc = _doc()
    ids = Counter(r["id"].split("/")[0] for r in doc["runs"])
    assert set(ids.values()) == {2}
    for r in doc["runs"]:
        folder = CORPUS / r["path"]
        for name in ("history.csv.gz", "samples.npz", "real.npz", "meta.json"):
            assert (folder / name).is_file(), folder / name
        assert r["oracle_label"] in LABELS and r["oracle_test"] in (1, 2, 3, 4, 5, 6)
        assert (r["oracle_onset_step"] is None) == (r["oracle_label"] == "stable")


def test_oracle_labels_are_reproduced_from_the_stored_samples():
    from corpus.oracle import label_run

    warnings.simplefilter("ignore")
    for r in _runs()[::23]:  # a spread of families and variants; the whole corpus takes minutes
        result = label_run(CORPUS / r["path"])
        assert (result.label, result.test, result.onset_step) == \
            (r["oracle_label"], r["oracle_test"], r["oracle_onset_step"]), r["id"]


def test_fixtures_stay_small():
    size = sum(p.stat().st_size for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    assert size < 60e6, f"fixtures/ is {size / 1e6:.1f} MB"
