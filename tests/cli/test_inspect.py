"""``gandiag inspect`` through typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gandiag.cli import app

runner = CliRunner()

TUTORIAL = """\
(5851, 28, 28, 1)
>1, d1=0.859, d2=0.664 g=0.872, a1=37, a2=59
>2, d1=0.190, d2=1.429 g=0.555, a1=100, a2=4
...
>446, d1=0.593, d2=0.546 g=1.330, a1=76, a2=82
Done!
"""

DCGAN = ("[0/5][0/1583]\tLoss_D: 1.5154\tLoss_G: 5.5240\tD(x): 0.5927\tD(G(z)): 0.5000 / 0.0100\n"
         "[0/5][50/1583]\tLoss_D: 0.0154\tLoss_G: 35.5240\tD(x): 0.9927\tD(G(z)): 0.0000 / 0.0000\n")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_text_report(tmp_path):
    result = runner.invoke(app, ["inspect", _write(tmp_path, "train.log", TUTORIAL)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "format:     console (layout tutorial" in out
    assert "rows:       3, steps 1..446" in out
    assert "d_loss_real  <- d1" in out
    assert "d_acc_real   <- a1  (percent, divided by 100" in out
    assert "loss:       bce (losses are non-negative" in out
    assert "skipped:    no metric: 2, elision: 1" in out
    assert "line 1: (5851, 28, 28, 1)" in out
    assert "gap:        elided lines between step 2 and 446" in out


def test_json_report_and_sum_convention(tmp_path):
    result = runner.invoke(app, ["inspect", _write(tmp_path, "dcgan.log", DCGAN), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["format"] == "console" and info["layout"] == "pytorch-dcgan"
    assert info["roles"]["d_loss"]["name"] == "Loss_D"
    assert info["roles"]["d_fake_prob"]["name"] == "D(G(z))"
    assert "D(G(z))#2" in info["unmapped"]
    assert info["loss_convention"]["d_loss_reduction"] == "sum"
    assert "pytorch-dcgan" in info["loss_convention"]["d_loss_reduction_origin"]
    assert (info["step_first"], info["step_last"]) == (1, 51)


def test_overrides(tmp_path):
    path = _write(tmp_path, "dcgan.log", DCGAN)
    result = runner.invoke(app, ["inspect", path, "-f", "json", "--d-loss-reduction", "mean",
                                 "--column", "d_fake_prob=D(G(z))#2"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["loss_convention"]["d_loss_reduction"] == "mean"
    assert info["loss_convention"]["d_loss_reduction_origin"] == "--d-loss-reduction"
    assert info["roles"]["d_fake_prob"]["name"] == "D(G(z))#2"


def test_wgan_losses_are_flagged(tmp_path):
    text = "".join(f"{i} [D loss: {-0.5 - i / 100:f}] [G loss: {0.3 - i / 50:f}]\n" for i in range(20))
    result = runner.invoke(app, ["inspect", _write(tmp_path, "wgan.log", text)])
    assert result.exit_code == 0, result.output
    assert "loss:       wgan (d_loss is negative" in result.output


def test_unrecognised_input_exits_2_with_one_line(tmp_path):
    result = runner.invoke(app, ["inspect", _write(tmp_path, "notes.txt", "hello\nworld\n")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "error:" in result.output and "no layout fits" in result.output and "'hello'" in result.output


def test_missing_file_and_bad_column(tmp_path):
    result = runner.invoke(app, ["inspect", str(tmp_path / "nope.log")])
    assert result.exit_code == 2 and "file not found" in result.output
    path = _write(tmp_path, "train.log", TUTORIAL)
    result = runner.invoke(app, ["inspect", path, "--column", "g_loss"])
    assert result.exit_code == 2 and "ROLE=NAME" in result.output
    result = runner.invoke(app, ["inspect", path, "--column", "g_loss=nothing"])
    assert result.exit_code == 2 and "nothing" in result.output


def _layouts():
    """tests/ingest/layouts.py (the test helper that renders histories in each format)."""
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("gandiag_test_layouts",
                                                  Path(__file__).parents[1] / "ingest" / "layouts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_tensorboard_folder(tmp_path):
    layouts = _layouts()
    event_file_bytes, seed_history = layouts.event_file_bytes, layouts.seed_history
    folder = tmp_path / "tb" / "train"
    folder.mkdir(parents=True)
    (folder / "events.out.tfevents.1.host").write_bytes(
        event_file_bytes(seed_history(), {"d_loss_real": "train/d_loss_real", "g_loss": "losses/g_loss"}))
    result = runner.invoke(app, ["inspect", str(tmp_path / "tb"), "-f", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["format"] == "tensorboard"
    assert info["roles"]["g_loss"] == {"name": "g_loss", "tag": "losses/g_loss", "logged": 8, "nan_or_inf": 0,
                                       "why": "the canonical name"}
