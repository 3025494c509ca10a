"""The minimax, least-squares and hinge losses: formulas of one update, and a few steps of training."""

import csv
import json

import numpy as np
import pytest

from gandiag.errors import UsageError
from gandiag.harness import make_config, train

pytestmark = pytest.mark.train
tf = pytest.importorskip("tensorflow")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


# expected (real term given D's outputs and targets, G loss given D(G(z)), accuracy threshold, prob map)
FORMULAS = {
    "bce": (lambda o, t: np.mean(_softplus(o) - t * o), lambda o: np.mean(_softplus(-o)), 0.0, _sigmoid),
    "minimax": (lambda o, t: np.mean(_softplus(o) - t * o), lambda o: np.mean(-_softplus(o)), 0.0, _sigmoid),
    "lsgan": (lambda o, t: np.mean((o - t) ** 2), lambda o: np.mean((o - 1.0) ** 2), 0.5,
              lambda o: np.clip(o, 0.0, 1.0)),
    "hinge": (lambda o, t: np.mean(np.maximum(0.0, 1.0 - o)), lambda o: -np.mean(o), 0.0, _sigmoid),
}


@pytest.mark.parametrize("loss", list(FORMULAS))
def test_update_formulas(loss):
    from gandiag.harness.models import build_models
    from gandiag.harness.step import GanStep

    smoothing = 0.0 if loss == "hinge" else 0.1
    cfg = make_config("stable", "ring8", loss=loss, label_smoothing=smoothing)
    tf.keras.utils.set_random_seed(0)
    g, d = build_models((2,), 2, batchnorm=False, hidden=16)
    step = GanStep(g, d, cfg)
    rng = np.random.default_rng(0)
    x_real = rng.uniform(-1, 1, (32, 2)).astype(np.float32)
    # widen and centre D's outputs so they fall on both sides of every threshold (0, 0.5, 1)
    last = d.layers[-1]
    last.kernel.assign(last.kernel * 40.0)
    last.bias.assign(last.bias - np.median(d(x_real, training=True).numpy()) + 0.5)
    z = rng.standard_normal((32, 2)).astype(np.float32)
    y_real = np.full((32, 1), 1.0 - smoothing, np.float32)
    out_real = d(x_real, training=True).numpy()
    assert (out_real > 1.0).any() and (out_real < 0.0).any()
    real_term, g_term, threshold, prob = FORMULAS[loss]
    m = step._d_update(x_real, z, y_real, np.zeros((32, 1), np.float32), np.zeros((32, 1), np.float32))
    np.testing.assert_allclose(float(m["d_loss_real"]), real_term(out_real.astype(np.float64), 1.0 - smoothing),
                               rtol=1e-5, atol=1e-6)
    assert float(m["d_acc_real"]) == pytest.approx(np.mean(out_real > threshold))
    assert float(m["d_real_prob"]) == pytest.approx(np.mean(prob(out_real)), rel=1e-5)

    z_gen = rng.standard_normal((64, 2)).astype(np.float32)
    out_gen = d(g(z_gen, training=True), training=True).numpy().astype(np.float64)
    np.testing.assert_allclose(float(step._g_update(z_gen)), g_term(out_gen), rtol=1e-5, atol=1e-6)


def _rows(path):
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]


@pytest.mark.parametrize("loss,family", [("minimax", "bce"), ("lsgan", "lsgan"), ("hinge", "hinge")])
@pytest.mark.parametrize("dataset", ["ring8", "digits"])
def test_new_losses_train(tmp_path, loss, family, dataset):
    train(make_config("stable", dataset, steps=5, seed=0, loss=loss), out=tmp_path, plots=False,
          checkpoints=False)
    rows = _rows(tmp_path / "history.csv")
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(np.isfinite(list(r.values())).all() for r in rows)
    for r in rows:
        assert 0 <= r["d_acc_real"] <= 1 and 0 <= r["d_real_prob"] <= 1 and 0 <= r["d_fake_prob"] <= 1
        if loss == "minimax":
            assert r["g_loss"] <= 0
        else:
            assert r["d_loss_real"] >= 0 and r["d_loss_fake"] >= 0
        if loss == "lsgan":
            assert r["g_loss"] >= 0
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["loss"] == loss and meta["loss_family"] == family


def test_combined_update_accepts_minimax_only(tmp_path):
    from gandiag.harness.step import history_columns

    assert "d_loss" in history_columns(make_config("convergence_failure", "ring8", loss="minimax"))
    for loss in ("lsgan", "hinge", "wgan"):
        with pytest.raises(UsageError, match="combined"):
            make_config("convergence_failure", "ring8", loss=loss)
    with pytest.raises(UsageError, match="hinge"):
        make_config("stable", "ring8", loss="hinge", label_smoothing=0.1)
    with pytest.raises(UsageError, match="log_every"):
        make_config("stable", "ring8", log_every=0)
