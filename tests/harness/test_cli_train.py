import csv
import sys

import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.errors import MissingExtraError

runner = CliRunner()


def test_train_bad_data_is_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    result = runner.invoke(app, ["train", "--dataset", "mnist", "--out", str(tmp_path / "r"), "--quiet"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "never downloads" in result.output
    assert "Traceback" not in result.output


def test_train_bad_option_exit_2(tmp_path):
    result = runner.invoke(app, ["train", "--batch-size", "3", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "batch_size" in result.output


def test_missing_tensorflow_says_how_to_install(monkeypatch):
    from gandiag.harness._tf import require_tensorflow

    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(MissingExtraError, match="TensorFlow") as err:
        require_tensorflow()
    assert "gandiag[train]" in err.value.one_line()


@pytest.mark.train
def test_train_command_writes_a_run(tmp_path):
    pytest.importorskip("tensorflow")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "--experiment", "mode_collapse", "--dataset", "ring8",
                                 "--steps", "8", "--seed", "2", "--out", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "completed: 8 steps" in result.output
    with open(out / "history.csv", newline="") as fh:
        assert len(list(csv.reader(fh))) == 9
    result = runner.invoke(app, ["train", "--experiment", "mode_collapse", "--dataset", "ring8",
                                 "--steps", "12", "--seed", "2", "--out", str(out), "--resume",
                                 "--quiet", "--no-plots"])
    assert result.exit_code == 0, result.output
    with open(out / "history.csv", newline="") as fh:
        assert [r[0] for r in csv.reader(fh)][1:] == [str(i) for i in range(1, 13)]


@pytest.mark.train
def test_train_live_feeds_the_view_every_row_and_snapshot(tmp_path):
    pytest.importorskip("tensorflow")
    from gandiag.harness import make_config, train
    from gandiag.live.view import LiveView

    view = LiveView(tmp_path / "run", budget=1.0, min_interval=0.0, title="ring8")
    result = train(make_config("stable", "ring8", steps=10, seed=0, snapshot_every=5), out=tmp_path / "run",
                   plots=False, view=view)
    assert result.status == "completed"
    assert view.columns()["step"].tolist() == list(range(1, 11)) and view.latest[0] == 10
    assert view.real is not None and view.real.shape == (1000, 2)  # the reference real.npz holds
    page = (tmp_path / "run" / "live.html").read_text()
    assert "The run has ended" in page and "http-equiv" not in page
    out = runner.invoke(app, ["train", "--dataset", "ring8", "--steps", "6", "--out", str(tmp_path / "cli"),
                              "--no-plots", "--live"])
    assert out.exit_code == 0 and "live view: " in out.output and (tmp_path / "cli" / "live.html").is_file()


def test_format_metrics():
    from gandiag.cli.train import format_metrics

    assert format_metrics({"d_loss_real": 0.5931, "d_loss_fake": 0.546, "g_loss": 1.33,
                           "d_acc_real": 0.76, "d_acc_fake": 0.82}) == "d1=0.593 d2=0.546 g=1.330 a1=76 a2=82"


def test_combined_with_lsgan_is_refused(tmp_path):
    result = runner.invoke(app, ["train", "--experiment", "convergence_failure", "--loss", "lsgan",
                                 "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "combined" in result.output and "lsgan" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["train", "--log-every", "0", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "log_every" in result.output


@pytest.mark.train
def test_train_command_loss_and_log_every(tmp_path):
    pytest.importorskip("tensorflow")
    import json

    result = runner.invoke(app, ["train", "--dataset", "ring8", "--loss", "hinge", "--log-every", "3",
                                 "--steps", "7", "--out", str(tmp_path), "--quiet", "--no-plots",
                                 "--no-deterministic"])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "history.csv", newline="") as fh:
        assert [r[0] for r in csv.reader(fh)][1:] == ["3", "6", "7"]
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert (meta["loss"], meta["loss_family"], meta["log_every"]) == ("hinge", "hinge", 3)
    assert meta["config"]["deterministic"] is False and meta["deterministic"] is False
