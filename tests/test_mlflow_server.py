"""gandiag against a real ``mlflow server`` (SQLite backend) started on a free port: verdicts, tags, artifacts.

The server takes 10-40 s to start, so the module is marked slow (``make test`` runs it; ``make test-fast`` not).
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gandiag.cli import app

pytest.importorskip("mlflow")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fixtures" / "corpus" / "runs"
runner = CliRunner()

#: 24 short corpus runs, six of each verdict gandiag gives them from their losses
RUNS = (
    "ring16-latent1-s0", "spiral-hinge-s0", "digits8-latent1-s0", "grid25-smooth-s0", "mix8d-latent1-s1", "ring8-smooth-s0",
    "ring16-combined-s0", "digits-baseline-s0", "spiral-g_lr_10x-s0", "digits-big_batch-s0", "ring16-lsgan-s0",
    "digits-smooth-s0", "spiral-minimax-s0", "digits-wgan_gp-s0", "grid9-minimax-s1", "mix8d-minimax-s1",
    "blobs3-hinge-s0", "blobs3-wgan_gp-s0", "digits-default_adam-s0", "digits04-combined-s0", "digits16-d_steps5-s0",
    "digits04-default_adam-s1", "cancer-small_g-s0", "cancer-small_g-s1",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from mlflow import MlflowClient

    from tests.mlflow_support import MlflowServer, log_csv_run

    srv = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    try:
        client = MlflowClient(srv.uri)
        exp = client.create_experiment("corpus24")
        ids = {name: log_csv_run(client, exp, CORPUS / name / "history.csv.gz", name) for name in RUNS}
        other = client.create_experiment("no-gan")
        plain = client.create_run(other, run_name="classifier")
        client.log_metric(plain.info.run_id, "val_accuracy", 0.91, step=3)
        yield srv, client, ids, plain.info.run_id
    finally:
        srv.stop()


def _runs(output: str) -> dict:
    return {r["key"].split("/")[-2] if r["key"].endswith(".csv.gz") else r["key"].split("/")[-1]:
            (r["verdict"], r["confidence"], r["onset_step"], r["n_steps"]) for r in json.loads(output)["runs"]}


def test_corpus_runs_get_the_verdicts_of_their_csv_files(server):
    srv = server[0]
    via_mlflow = runner.invoke(app, ["analyze", "mlflow:experiments/corpus24", "--tracking-uri", srv.uri,
                                     "--jobs", "2", "-f", "json", "--exit-zero"])
    via_csv = runner.invoke(app, ["analyze", *(str(CORPUS / n / "history.csv.gz") for n in RUNS), "--no-samples",
                                  "-f", "json", "--exit-zero"])
    assert via_mlflow.exit_code == 0 == via_csv.exit_code, via_mlflow.output[-2000:]
    mlflow_runs, csv_runs = _runs(via_mlflow.stdout), _runs(via_csv.stdout)
    assert set(mlflow_runs) == set(RUNS) == set(csv_runs)
    assert mlflow_runs == csv_runs  # verdict, confidence, onset and the number of steps, run by run
    assert {v[0] for v in csv_runs.values()} == {"stable", "mode_collapse", "non_converged", "inconclusive"}


def test_mlflow_tag_writes_tags_and_the_report_artifact(server, tmp_path):
    srv, client, ids, _ = server
    run_id = ids["digits-default_adam-s0"]
    r = runner.invoke(app, ["analyze", f"mlflow:runs/{run_id}", "--tracking-uri", srv.uri, "--mlflow-tag", "-f", "json"])
    assert r.exit_code == 1, r.output  # non_converged is in --fail-on
    report = json.loads(r.stdout)["runs"][0]
    tags = client.get_run(run_id).data.tags
    assert tags["gandiag.verdict"] == report["verdict"] == "non_converged"
    assert tags["gandiag.confidence"] == f"{report['confidence']:.3f}"
    assert tags["gandiag.onset_step"] == str(report["onset_step"])
    local = client.download_artifacts(run_id, "gandiag/report.json", str(tmp_path))
    artifact = json.loads(Path(local).read_text())
    assert artifact["schema"] == "gandiag.report/1" and len(artifact["runs"]) == 1
    assert artifact["runs"][0]["source"] == f"mlflow:runs/{run_id}" and artifact["runs"][0]["verdict"] == "non_converged"
    untouched = client.get_run(ids["digits-baseline-s0"]).data.tags
    assert not any(k.startswith("gandiag.") for k in untouched)


def test_bad_inputs_on_a_server_are_one_line_each(server):
    srv, _, _, plain = server
    cases = {
        "mlflow:runs/00000000000000000000000000000000": "no such run",
        "mlflow:experiments/missing": "no experiment named 'missing'",
        f"mlflow:runs/{plain}": "the run has no GAN metric (found: val_accuracy)",
    }
    for spec, message in cases.items():
        r = runner.invoke(app, ["analyze", spec, "--tracking-uri", srv.uri])
        assert r.exit_code == 2 and r.stderr.count("\n") == 1 and message in r.stderr, (spec, r.stderr)
