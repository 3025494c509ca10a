"""Tiny training runs (tens of steps): schema, snapshots, seeding, semantics of the step."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from gandiag.harness import make_config, train
from gandiag.live.runlog import load_npz

pytestmark = pytest.mark.train
tf = pytest.importorskip("tensorflow")

SPLIT_COLUMNS = ["step", "epoch", "d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake",
                 "d_real_prob", "d_fake_prob"]


def read_history(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array([[float(v) for v in r] for r in rows[1:]])


def test_import_does_not_load_tensorflow():
    code = "import sys, gandiag.harness, gandiag.cli.train; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stable_run_writes_the_contract(tmp_path):
    cfg = make_config("stable", "digits", steps=24, seed=3, snapshot_every=8)
    seen = []
    result = train(cfg, lambda s, n, m: seen.append(s), out=tmp_path)
    assert result.status == "completed" and seen == list(range(1, 25))
    header, values = read_history(tmp_path / "history.csv")
    assert header == SPLIT_COLUMNS
    assert values[:, 0].tolist() == list(range(1, 25))
    assert np.isfinite(values).all()
    acc = values[:, 5:7]
    assert ((acc >= 0) & (acc <= 1)).all()
    samples = load_npz(tmp_path / "samples.npz")
    assert list(samples) == ["step_8", "step_16", "step_24"]
    assert samples["step_8"].shape == (500, 8, 8, 1) and samples["step_8"].dtype == np.float16
    assert np.abs(samples["step_24"].astype(float)).max() <= 1.0
    assert not np.array_equal(samples["step_8"], samples["step_16"])
    real = load_npz(tmp_path / "real.npz")["real"]
    assert real.shape == (1000, 8, 8, 1) and real.dtype == np.float16
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["steps_done"] == 24
    assert meta["config"]["lr_d"] == 2e-4 and meta["latent_dim"] == 50 and meta["seed"] == 3
    assert meta["loss_family"] == "bce" and meta["d_update"] == "split"
    assert "tensorflow" in meta["versions"]
    assert (tmp_path / "plots" / "history.png").exists()
    assert len(list((tmp_path / "plots").glob("step_*.png"))) == 3


def test_combined_and_wgan_columns(tmp_path):
    train(make_config("convergence_failure", "ring8", steps=6, seed=0), out=tmp_path / "c", plots=False)
    header, values = read_history(tmp_path / "c" / "history.csv")
    assert header == ["step", "epoch", "d_loss", "g_loss", "d_acc", "d_real_prob", "d_fake_prob"]
    assert len(values) == 6
    train(make_config("wgan", "ring8", steps=4, seed=0), out=tmp_path / "w", plots=False)
    header, values = read_history(tmp_path / "w" / "history.csv")
    assert header == SPLIT_COLUMNS
    meta = json.loads((tmp_path / "w" / "meta.json").read_text())
    assert meta["loss_family"] == "wgan" and meta["config"]["d_steps"] == 5
    train(make_config("wgan_gp", "ring8", steps=3, seed=0), out=tmp_path / "gp", plots=False)
    _, values = read_history(tmp_path / "gp" / "history.csv")
    assert len(values) == 3 and np.isfinite(values).all()
    assert json.loads((tmp_path / "gp" / "meta.json").read_text())["config"]["gradient_penalty"] == 10.0


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        train(make_config("stable", "ring8", steps=12, seed=seed), out=tmp_path / name, plots=False,
              checkpoints=False)
        runs[name] = (tmp_path / name / "history.csv").read_text()
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_d_update_changes_d_and_g_update_freezes_it():
    from gandiag.harness.models import build_models
    from gandiag.harness.step import GanStep

    cfg = make_config("stable", "digits")
    g, d = build_models((8, 8, 1), 50, batchnorm=True)
    step = GanStep(g, d, cfg)
    rng = np.random.default_rng(0)
    x_real = rng.uniform(-1, 1, (32, 8, 8, 1)).astype(np.float32)
    z = rng.standard_normal((32, 50)).astype(np.float32)
    ones, zeros = np.ones((32, 1), np.float32), np.zeros((32, 1), np.float32)

    d_before = [v.numpy().copy() for v in d.trainable_variables]
    g_before = [v.numpy().copy() for v in g.trainable_variables]
    step._d_update(x_real, z, ones, zeros, np.zeros((32, 1, 1, 1), np.float32))
    d_after = [v.numpy().copy() for v in d.trainable_variables]
    kernels = [i for i, v in enumerate(d.trainable_variables) if "kernel" in v.path]
    assert len(kernels) == 3  # two convolutions and the classifier
    assert all(not np.array_equal(d_before[i], d_after[i]) for i in kernels)
    assert all(np.array_equal(a, b) for a, b in zip(g_before, [v.numpy() for v in g.trainable_variables]))

    step._g_update(rng.standard_normal((64, 50)).astype(np.float32))
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(d_after, d.trainable_variables))
    assert any(not np.array_equal(a, v.numpy()) for a, v in zip(g_before, g.trainable_variables))


def test_compiled_step_traces_once(tmp_path):
    from gandiag.data.datasets import load_dataset
    from gandiag.harness.models import build_models
    from gandiag.harness.run import _draw_batch
    from gandiag.harness.step import GanStep

    cfg = make_config("stable", "ring8")
    data = load_dataset("ring8")
    g, d = build_models((2,), 2, batchnorm=False, hidden=16)
    step = GanStep(g, d, cfg)
    rng = np.random.default_rng(0)
    for _ in range(5):
        step.train(*_draw_batch(rng, data, cfg, 2, cfg.batch_size // 2))
    assert step.train.experimental_get_tracing_count() == 1


def test_label_options_are_recorded(tmp_path):
    cfg = make_config("stable", "ring8", steps=5, label_smoothing=0.1, label_noise=0.05, lr_g=1e-4)
    train(cfg, out=tmp_path, plots=False)
    meta = json.loads((tmp_path / "meta.json").read_text())["config"]
    assert (meta["label_smoothing"], meta["label_noise"], meta["lr_g"], meta["lr_d"]) == (0.1, 0.05, 1e-4, 2e-4)


def test_diverge_keeps_logging_nonfinite_rows(tmp_path):
    result = train(make_config("diverge", "digits", steps=40, seed=0), out=tmp_path, plots=False,
                   checkpoints=False)
    assert result.status == "completed"
    _, values = read_history(tmp_path / "history.csv")
    assert values[:, 0].tolist() == list(range(1, 41))
    assert np.isfinite(values[0]).all()
    assert not np.isfinite(values[-1, 2:5]).any()  # losses NaN/inf at the end, rows still written
    assert "step_40" in load_npz(tmp_path / "samples.npz")
