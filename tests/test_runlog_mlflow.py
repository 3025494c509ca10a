"""RunLogger(mlflow=True): rows mirrored to the active MLflow run read back as the same history as the CSV."""

import json

import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.errors import UsageError
from gandiag.live.runlog import RunLogger

mlflow = pytest.importorskip("mlflow")
runner = CliRunner()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = str(tmp_path / "mlruns")
    mlflow.set_tracking_uri(uri)
    yield uri
    if mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.mark.slow
def test_rows_are_mirrored_with_their_steps(store, tmp_path):
    mlflow.set_experiment("mirror")
    with mlflow.start_run() as run:
        log = RunLogger(tmp_path / "run", mlflow=True)
        for step in range(1, 41):
            d = 0.6 if step < 10 else 0.0005  # the discriminator wins from step 10
            log.log(step, d_loss=d, g_loss=1.0 + step / 10, d_acc=0.7 if step < 10 else 1.0)
        log.log(41, d_loss=float("nan"), g_loss=None, d_acc=1.0)
        log.close()
    client = mlflow.MlflowClient(store)
    history = client.get_metric_history(run.info.run_id, "d_loss")
    assert [m.step for m in history] == list(range(1, 42))
    assert history[0].value == 0.6 and str(history[-1].value) == "nan"
    assert len(client.get_metric_history(run.info.run_id, "g_loss")) == 40  # None is not sent
    via_mlflow = runner.invoke(app, ["analyze", f"mlflow:runs/{run.info.run_id}", "--tracking-uri", store, "-f", "json"])
    via_csv = runner.invoke(app, ["analyze", str(tmp_path / "run"), "-f", "json"])
    a, b = json.loads(via_mlflow.stdout)["runs"][0], json.loads(via_csv.stdout)["runs"][0]
    assert (a["verdict"], a["onset_step"], a["n_steps"]) == (b["verdict"], b["onset_step"], b["n_steps"]) == (
        b["verdict"], b["onset_step"], 41)


def test_mirroring_needs_an_active_run(store, tmp_path):
    with pytest.raises(UsageError, match="active MLflow run"):
        RunLogger(tmp_path / "run", mlflow=True)
    assert not (tmp_path / "run").exists()  # refused before the folder is created


def test_a_failing_store_warns_once_and_the_csv_keeps_every_row(store, tmp_path, monkeypatch):
    mlflow.set_experiment("mirror-fail")
    with mlflow.start_run():
        log = RunLogger(tmp_path / "run", mlflow=True)

        def down(*a, **k):
            raise ConnectionError("tracking server down")

        monkeypatch.setattr(log._mirror._client, "log_batch", down)
        with pytest.warns(RuntimeWarning, match="could not mirror step 1") as caught:
            for step in (1, 2, 3):
                log.log(step, d_loss=0.6, g_loss=0.9)
        log.close()
    assert len([w for w in caught if "could not mirror" in str(w.message)]) == 1
    assert (tmp_path / "run" / "history.csv").read_text().splitlines()[1:] == ["1,0.6,0.9", "2,0.6,0.9", "3,0.6,0.9"]


@pytest.mark.parametrize("with_folder", [True, False])
def test_keras_callback_logic_mirrors_batches_to_the_active_run(store, tmp_path, with_folder):
    from gandiag.live.keras import _Diagnostics

    mlflow.set_experiment("keras-mirror")
    with mlflow.start_run() as run:
        cb = _Diagnostics(tmp_path / "run" if with_folder else None, mlflow=True, action="warn", verbose=False)
        for batch in range(5):
            cb.batch_end(batch, {"d_loss": 0.6 + batch / 100, "g_loss": 0.9}, None)
        cb.close()
    history = mlflow.MlflowClient(store).get_metric_history(run.info.run_id, "d_loss")
    assert [(m.step, round(m.value, 3)) for m in history] == [(s, round(0.6 + (s - 1) / 100, 3)) for s in range(1, 6)]
    assert (tmp_path / "run" / "history.csv").exists() is with_folder
