"""The loss family: told by values, names or the layout's codebase; where nothing tells it and the verdict rests
on the discriminator's loss being near 0, the verdict says so and its confidence drops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import gandiag
from gandiag.cli import app
from gandiag.cli.config import load_config
from gandiag.errors import UsageError
from gandiag.history import LossFamily, RunHistory
from gandiag.history.family import ASSUMED_BCE, detect_loss_family
from gandiag.ingest import read_run
from gandiag.verdict.outcome import FAMILY_UNKNOWN_CONFIDENCE

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _d_at_zero(tmp_path, d_name="d_loss", g_name="g_loss") -> Path:
    """A console log whose discriminator loss falls to 0 and stays there, with no accuracy logged."""
    p = tmp_path / "train.log"
    p.write_text("".join(f"[{k}/100] {d_name}: {0.7 * np.exp(-k / 5) + 1e-5:.6f} {g_name}: {16 + k % 5}.5\n"
                         for k in range(1, 80)))
    return p


def test_d_loss_at_zero_with_an_assumed_family_says_so_and_is_not_confident(tmp_path):
    d = gandiag.analyze(str(_d_at_zero(tmp_path)), no_samples=True)
    assert d.loss_family == "bce"
    assert d.verdict.value == "non_converged"
    assert d.confidence <= FAMILY_UNKNOWN_CONFIDENCE
    assert "does not tell its loss family" in d.reason and "--loss-family" in d.reason


def test_a_declared_family_removes_the_caveat(tmp_path):
    declared = gandiag.analyze(str(_d_at_zero(tmp_path)), no_samples=True, loss="bce")
    assert declared.verdict.value == "non_converged" and declared.confidence > FAMILY_UNKNOWN_CONFIDENCE
    assert "does not tell its loss family" not in declared.reason
    hinge = gandiag.analyze(str(_d_at_zero(tmp_path)), no_samples=True, loss="hinge")
    assert hinge.verdict.value != "non_converged"  # a hinge loss of 0 is no evidence of a discriminator win


def test_accuracy_pinned_at_100_is_a_win_in_any_family(tmp_path):
    # With accuracies, the win does not rest on the loss level alone: no caveat.
    p = tmp_path / "keras.log"
    p.write_text("".join(f"{k} [D loss: {0.7 * np.exp(-k / 5) + 1e-5:.6f}, acc.: {min(100, 60 + 4 * k):.2f}%] "
                         f"[G loss: {8 + k % 3}.1]\n" for k in range(120)))
    d = gandiag.analyze(str(p), no_samples=True)
    assert d.verdict.value == "non_converged" and "does not tell its loss family" not in d.reason


@pytest.mark.parametrize(("name", "family"), [("loss_D_hinge", LossFamily.HINGE), ("disc_cost", LossFamily.WGAN),
                                              ("d_loss_lsgan", LossFamily.LSGAN), ("d_softplus", LossFamily.BCE)])
def test_names_tell_the_family(name, family):
    h = RunHistory.from_arrays(d_loss=[0.5] * 12, g_loss=[1.0] * 12)
    h = RunHistory(steps=h.steps, series=h.series, columns={"d_loss": name, "g_loss": "g_loss"})
    found, reason = detect_loss_family(h)
    assert found is family and name in reason and ASSUMED_BCE not in reason


def test_the_layout_tells_the_family_of_its_codebase():
    h = read_run(ROOT / "fixtures" / "console" / "real" / "bmsg-gan-2.log")
    family, reason = detect_loss_family(h)
    assert family is LossFamily.HINGE and "relativistic hinge" in reason
    d = gandiag.analyze(h)
    assert d.verdict.value == "inconclusive"  # not a discriminator win: the maintainers call d_loss 0 normal


def test_negative_values_still_win_over_names():
    h = RunHistory.from_arrays(d_loss=[-0.5] * 12, g_loss=[1.0] * 12)
    assert detect_loss_family(h)[0] is LossFamily.WGAN


def test_loss_family_option_and_configuration_key(tmp_path, monkeypatch):
    log = _d_at_zero(tmp_path)
    result = runner.invoke(app, ["analyze", str(log), "--no-samples", "--loss-family", "hinge", "-f", "json"])
    assert result.exit_code == 0 and '"loss_family": "hinge"' in result.output
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.gandiag]\nloss-family = "wgan"\n')
    assert load_config(project).loss == "wgan"
    (project / "pyproject.toml").write_text('[tool.gandiag]\nloss-family = "wgan"\nloss = "bce"\n')
    with pytest.raises(UsageError):
        load_config(project)
    (project / "pyproject.toml").write_text('[tool.gandiag]\nloss-family = "hinge"\n')
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["analyze", str(log), "--no-samples", "-f", "json"])
    assert result.exit_code == 0 and '"loss_family": "hinge"' in result.output
