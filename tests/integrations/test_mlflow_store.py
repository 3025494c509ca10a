"""MLflow inputs without a server: a file store, the step/value rules, bad stores, and the lazy import."""

import json
import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.errors import InputError
from gandiag.integrations import mlflow_store
from gandiag.integrations.mlflow_store import MlflowRun, _table, display_uri

ROOT = Path(__file__).resolve().parents[2]
GANDIAG = Path(sys.executable).parent / "gandiag"
RUNS = ROOT / "fixtures" / "runs"
runner = CliRunner()
Metric = namedtuple("Metric", "key value timestamp step")


def _columns(histories, keep=()):
    raw = _table(histories, MlflowRun("r1", "file:///x", "runs/r1"), "0", set(keep))
    return raw


def test_steps_from_zero_are_shifted_and_the_last_value_at_a_step_wins():
    raw = _columns({"g_loss": [Metric("g_loss", 1.0, 10, 0), Metric("g_loss", 2.0, 11, 1), Metric("g_loss", 3.0, 12, 1)],
                    "d_loss": [Metric("d_loss", 0.5, 10, 1)]})
    assert raw.columns["step"].tolist() == [1.0, 2.0]
    assert raw.columns["g_loss"].tolist() == [1.0, 3.0]
    assert np.isnan(raw.columns["d_loss"][0]) and raw.columns["d_loss"][1] == 0.5


def test_a_metric_logged_without_steps_is_numbered_in_logging_order():
    raw = _columns({"g_loss": [Metric("g_loss", v, t, 0) for v, t in ((3.0, 30), (1.0, 10), (2.0, 20))]})
    assert raw.columns["step"].tolist() == [1.0, 2.0, 3.0]
    assert raw.columns["g_loss"].tolist() == [1.0, 2.0, 3.0]
    assert raw.notes["logged_without_step"] == ["g_loss"]


def test_sql_store_infinities_and_nan_are_nonfinite_evidence():
    big = 1.7976931348623157e308
    raw = _columns({"d_loss": [Metric("d_loss", big, 1, 1), Metric("d_loss", -big, 2, 2), Metric("d_loss", float("nan"), 3, 3),
                               Metric("d_loss", 0.7, 4, 4)]})
    assert raw.columns["d_loss"][:2].tolist() == [np.inf, -np.inf]
    assert raw.nonfinite["d_loss"].tolist() == [True, True, True, False]


def test_prefixed_keys_are_shortened_unless_a_column_override_names_them():
    hist = {"metrics/g_loss_step": [Metric("metrics/g_loss_step", 1.0, 1, 1)],
            "train/epoch_d_loss": [Metric("train/epoch_d_loss", 2.0, 1, 1)]}
    raw = _columns(hist, keep={"train/epoch_d_loss"})
    assert "g_loss" in raw.columns and raw.notes["original_names"] == {"g_loss": "metrics/g_loss_step"}
    assert "train/epoch_d_loss" in raw.columns and "d_loss" not in raw.columns


def test_credentials_never_reach_a_message():
    assert display_uri("https://alice:s3cret@mlflow.example.com:5000/x") == "https://mlflow.example.com:5000/x"
    assert display_uri("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"


def test_an_unreadable_local_store_is_one_input_error(tmp_path, monkeypatch):
    store = tmp_path / "mlruns"
    store.mkdir()
    monkeypatch.setattr(mlflow_store.os, "access", lambda *a, **k: False)  # root reads everything: simulate it
    with pytest.raises(InputError, match="permission denied reading the MLflow store"):
        mlflow_store._check_local_store(str(store))


@pytest.fixture(scope="module")
def file_store(tmp_path_factory):
    """A file store holding the recorded combined-batch run, logged the way a training script would."""
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    from tests.mlflow_support import log_csv_run

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    store = tmp_path_factory.mktemp("store") / "mlruns"
    client = MlflowClient(str(store))
    exp = client.create_experiment("fixtures", artifact_location=(store.parent / "artifacts").as_uri())
    run_id = log_csv_run(client, exp, RUNS / "digits-convergence_failure-s0" / "history.csv", "combined-batch")
    no_gan = client.create_run(exp, run_name="classifier")
    client.log_metric(no_gan.info.run_id, "val_accuracy", 0.9, step=1)
    return store, run_id, no_gan.info.run_id


def _verdict(output: str):
    run = json.loads(output)["runs"][0]
    return run["verdict"], run["confidence"], run["onset_step"], run["n_steps"]


@pytest.mark.slow
def test_a_file_store_run_gets_the_verdict_of_its_csv(file_store):
    store, run_id, _ = file_store
    from_mlflow = runner.invoke(app, ["analyze", f"mlflow:runs/{run_id}", "--tracking-uri", str(store), "-f", "json"])
    from_csv = runner.invoke(app, ["analyze", str(RUNS / "digits-convergence_failure-s0" / "history.csv"),
                                   "--no-samples", "-f", "json"])
    assert from_mlflow.exit_code == from_csv.exit_code == 1, from_mlflow.output
    assert _verdict(from_mlflow.stdout) == _verdict(from_csv.stdout)
    assert _verdict(from_mlflow.stdout)[0] == "non_converged"
    experiment = runner.invoke(app, ["analyze", "mlflow:experiments/fixtures", "--tracking-uri", store.as_uri(),
                                     "-f", "json"])
    assert experiment.exit_code == 2  # the classifier run has no GAN metric ...
    doc = json.loads(experiment.stdout)
    assert [(r["key"], r["verdict"]) for r in doc["runs"]] == [("fixtures/combined-batch", "non_converged")]  # ... the other is analyzed
    assert [e["source"] for e in doc["errors"]] == [f"mlflow:runs/{file_store[2]}"]


@pytest.mark.slow
def test_a_run_with_no_gan_metric_is_one_line_naming_it(file_store):
    store, _, no_gan = file_store
    r = runner.invoke(app, ["analyze", f"mlflow:runs/{no_gan}", "--tracking-uri", str(store)])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert f"mlflow:runs/{no_gan}: the run has no GAN metric (found: val_accuracy)" in r.stderr
    assert "--column" in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("spec,message", [
    ("mlflow:runs/0123456789abcdef", "no such run"),
    ("mlflow:experiments/nothing-here", "no experiment named 'nothing-here'"),
])
def test_unknown_run_or_experiment(file_store, spec, message):
    r = runner.invoke(app, ["analyze", spec, "--tracking-uri", str(file_store[0])])
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.output


def test_a_missing_store_is_not_created(tmp_path):
    missing = tmp_path / "no-store"
    for uri in (str(missing), f"sqlite:///{missing}.db"):
        r = runner.invoke(app, ["analyze", "mlflow:experiments/x", "--tracking-uri", uri])
        assert r.exit_code == 2 and "no MLflow" in r.stderr and r.stderr.count("\n") == 1
    assert not missing.exists() and not Path(f"{missing}.db").exists()


def test_no_tracking_uri_and_bad_input_are_usage_errors(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    r = runner.invoke(app, ["analyze", "mlflow:runs/abc"])
    assert r.exit_code == 2 and "Set MLFLOW_TRACKING_URI or pass --tracking-uri" in r.stderr
    r = runner.invoke(app, ["analyze", "mlflow:models/abc", "--tracking-uri", "http://127.0.0.1:9"])
    assert r.exit_code == 2 and "mlflow:runs/RUN_ID or mlflow:experiments/NAME" in r.stderr
    r = runner.invoke(app, ["analyze", str(RUNS / "digits-stable-s0"), "--mlflow-tag"])
    assert r.exit_code == 2 and "--mlflow-tag" in r.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_an_unreachable_server_fails_fast_with_one_line():
    pytest.importorskip("mlflow")
    uri = f"http://127.0.0.1:{_free_port()}"
    proc = subprocess.run([str(GANDIAG), "analyze", "mlflow:experiments/x", "--tracking-uri", uri],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"cannot reach the tracking server {uri}" in proc.stderr


def test_without_mlflow_one_line_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['mlflow'] = None\n"
            "from gandiag.cli import main; sys.argv = ['gandiag', 'analyze', 'mlflow:runs/abc', '--tracking-uri', "
            "'http://127.0.0.1:9']; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "pip install 'gandiag[mlflow]'" in proc.stderr


def test_csv_analysis_never_imports_mlflow():
    code = ("import sys\nimport gandiag\nfrom gandiag.cli import app\n"
            f"try:\n    app(['analyze', {str(RUNS / 'digits-stable-s0' / 'history.csv')!r}, '--no-samples', '-f', 'sarif'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'tensorflow', 'keras')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout[-500:] + proc.stderr[-500:]


def test_only_keys_that_name_a_metric_role_are_fetched():
    keys = ["epoch", "g_loss", "lr", "train/epoch_d_loss", "global_step", "custom_gen"]
    assert mlflow_store._wanted(keys, None) == ["g_loss", "train/epoch_d_loss"]
    assert mlflow_store._wanted(keys, {"g_loss": "custom_gen"}) == ["g_loss", "train/epoch_d_loss", "custom_gen"]
