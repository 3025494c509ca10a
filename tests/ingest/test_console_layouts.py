"""The layout registry: every layout read from a log written in it, with the right roles and verdict.

The fixtures (``fixtures/console/layouts``, written by its ``generate.py``) print one
made-up run per layout as that codebase's logging code prints it; the manifest
says which printed name must become which role and what ``analyze`` must say.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gandiag
from gandiag.cli import app
from gandiag.cli.inspect import describe
from gandiag.ingest.layouts import LAYOUTS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "console" / "layouts"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())["layouts"]
runner = CliRunner()


def test_every_layout_has_a_fixture_and_cites_its_source():
    assert {e["layout"] for e in MANIFEST} == {layout.name for layout in LAYOUTS}
    for layout in LAYOUTS:
        assert layout.source and layout.codebase and layout.example, layout.name


def test_the_registry_covers_many_codebases():
    named = {layout.codebase for layout in LAYOUTS if layout.codebase != "generic"}
    assert len(LAYOUTS) >= 25 and len(named) >= 15


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["layout"] for e in MANIFEST])
def test_layout_fixture_roles_through_inspect_and_verdict_through_analyze(entry):
    path = FIXTURES / entry["file"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no library warning may reach the user's terminal
        info = describe(path)
        diagnosis = gandiag.analyze(str(path), no_samples=True)
    assert info["format"] == "console" and info["layout"] == entry["layout"]
    printed = {role: e.get("tag") or e["name"] for role, e in info["roles"].items()}
    for role, name in entry["roles"].items():
        assert printed.get(role) == name, (role, printed)
        assert info["roles"][role]["why"], role  # inspect says why the name became the role
    assert info["rows"] >= 100  # every record of the 120 (a diverged run's non-finite ones included)
    assert diagnosis.verdict.value == entry["verdict"], diagnosis.reason


def test_inspect_text_names_the_layout_its_codebase_and_why_each_role(tmp_path):
    result = runner.invoke(app, ["inspect", str(FIXTURES / "basicsr.log")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "layout:     basicsr (BasicSR, GFPGAN, Real-ESRGAN): 120 record(s)" in out
    assert "follows:    https://github.com/XPixelGroup/BasicSR" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("d_loss_real  <-"))
    assert "(printed as l_d_real;" in line and "why: the basicsr layout (BasicSR, GFPGAN, Real-ESRGAN)" in line
    # BasicSR's out_d_real is the discriminator's output, not a loss; the learning rate is a schedule
    assert "out_d_real (not a loss in the basicsr layout)" in out
    assert "lr (timing, throughput or schedule, not a metric)" in out
    assert "not mapped: l_g_pix  " in out


def test_grouped_terms_are_combined_as_the_outcome_definition_says():
    info = describe(FIXTURES / "pytorch-gan-grouped.log")
    assert info["roles"]["d_loss_fake"]["why"].startswith("max of D_fake1, D_fake2")
    assert info["roles"]["g_loss"]["why"].startswith("mean of G_gan1, G_gan2")
