"""The ground-truth corpus: pinned verdicts, a usable split, labels the oracle reproduces."""

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

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="no corpus in this checkout")


def _doc() -> dict:
    return json.loads(MANIFEST.read_text())


def _runs() -> list[dict]:
    return [r for r in _doc()["runs"] if r["options"].get("no_samples")]


def test_corpus_verdicts_are_pinned():
    r = CliRunner().invoke(app, ["verify", str(MANIFEST)])
    assert r.exit_code == 0, r.output
    assert " 0 failed" in r.stdout


def test_split_has_enough_of_each_label():
    runs = _runs()
    assert len(runs) >= 100
    test = Counter(r["oracle_label"] for r in runs if r["split"] == "test")
    assert all(test[label] >= 15 for label in LABELS), test
    assert {r["split"] for r in runs} == {"dev", "test"}


def test_every_run_is_checked_with_and_without_samples_and_its_files_exist():
    doc = _doc()
    ids = Counter(r["id"].split("/")[0] for r in doc["runs"])
    assert set(ids.values()) == {2}
    for r in doc["runs"]:
        folder = CORPUS / r["path"]
        for name in ("history.csv.gz", "samples.npz", "real.npz", "meta.json"):
            assert (folder / name).is_file(), folder / name
        assert r["oracle_label"] in LABELS
        assert (r["oracle_onset_step"] is None) == (r["oracle_label"] == "stable")


def test_oracle_labels_are_reproduced_from_the_stored_samples():
    from gandiag.oracle import label_run

    warnings.simplefilter("ignore")
    runs = _runs()[::9]  # a spread of datasets and variants; the whole corpus takes minutes
    for r in runs:
        result = label_run(CORPUS / r["path"])
        assert (result.label, result.onset_step) == (r["oracle_label"], r["oracle_onset_step"]), r["id"]


def test_fixtures_stay_small():
    size = sum(p.stat().st_size for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    assert size < 26e6, f"fixtures/ is {size / 1e6:.1f} MB"
