"""Real failing trainings stopped early: a plain loop, Keras ``fit`` with the callback, and ``gandiag train --stop-on``.

Each run is tiny (tens of steps) but really fails: ``diverge`` (SGD lr 0.5, no
BatchNorm) reaches NaN at about step 21 on digits, and ``convergence_failure``
(one combined D batch) drives D's loss to about 0 within ~30 steps
(fixtures/runs/README.md). Each test checks that the run stopped before its
planned end and that ``gandiag analyze`` of the log it left agrees with the
monitor. The only TensorFlow test module of tests/monitor.
"""

import json

import numpy as np
import pytest

import gandiag
from gandiag.live.monitor import Monitor

pytestmark = pytest.mark.train
tf = pytest.importorskip("tensorflow")


def test_plain_loop_with_runlogger_and_monitor_stops_a_collapsing_discriminator(tmp_path):
    """The loop a PyTorch or JAX user writes: train a step, log it, ask the monitor, break."""
    from gandiag.data.datasets import load_dataset
    from gandiag.harness import make_config
    from gandiag.harness.models import build_models
    from gandiag.harness.run import _draw_batch
    from gandiag.harness.step import GanStep

    planned = 400
    cfg = make_config("convergence_failure", "digits", steps=planned, seed=0)
    data = load_dataset("digits")
    import keras

    keras.utils.set_random_seed(0)
    g, d = build_models(data.sample_shape, 50, batchnorm=True)
    step_fn = GanStep(g, d, cfg)
    rng = np.random.default_rng(0)
    logger = gandiag.RunLogger(tmp_path)
    monitor = Monitor(planned_steps=planned, min_steps=40, every=16)
    state = None
    for step in range(1, planned + 1):
        losses = {k: float(v) for k, v in step_fn.train(*_draw_batch(rng, data, cfg, 50, 32)).items()}
        logger.log(step, **losses)
        state = monitor.update(step, **losses)
        if state.confirmed:
            break
    logger.close()
    assert state.confirmed and state.verdict is gandiag.Verdict.NON_CONVERGED
    assert 40 <= state.step < planned // 2
    offline = gandiag.analyze(tmp_path, no_samples=True)
    assert offline.n_steps == state.step
    assert (offline.verdict, offline.onset_step) == (state.verdict, state.onset_step)
    final = monitor.finish()
    assert (final.verdict, final.onset_step) == (offline.verdict, offline.onset_step)


def _diverging_gan(keras):
    """The Keras DCGAN example's shape (combined D batch, custom train_step) with SGD lr 0.5 and no BatchNorm."""
    from gandiag.harness.models import build_models

    keras.utils.set_random_seed(0)
    g, d = build_models((8, 8, 1), 50, batchnorm=False)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    class GAN(keras.Model):
        def __init__(self):
            super().__init__()
            self.g, self.d = g, d
            self.d_opt = keras.optimizers.SGD(0.5)
            self.g_opt = keras.optimizers.SGD(0.5)

        def train_step(self, real):
            n = tf.shape(real)[0]
            fake = self.g(tf.random.normal((n, 50)), training=True)
            x = tf.concat([real, fake], 0)
            y = tf.concat([tf.ones((n, 1)), tf.zeros((n, 1))], 0)
            with tf.GradientTape() as tape:
                d_loss = bce(y, self.d(x, training=True))
            self.d_opt.apply_gradients(zip(tape.gradient(d_loss, self.d.trainable_weights), self.d.trainable_weights))
            with tf.GradientTape() as tape:
                g_loss = bce(tf.ones((2 * n, 1)), self.d(self.g(tf.random.normal((2 * n, 50)), training=True),
                                                            training=True))
            self.g_opt.apply_gradients(zip(tape.gradient(g_loss, self.g.trainable_weights), self.g.trainable_weights))
            return {"d_loss": d_loss, "g_loss": g_loss}

    gan = GAN()
    gan.compile()
    return gan


def test_keras_fit_callback_stops_a_diverging_gan(tmp_path):
    import keras

    from gandiag.data.datasets import load_dataset
    from gandiag.live.keras import GanDiagnostics

    x = load_dataset("digits").x.astype("float32")
    epochs, per_epoch = 10, len(x) // 32
    callback = GanDiagnostics(tmp_path, planned_steps=epochs * per_epoch, min_steps=30, min_fraction=0.0,
                              verbose=False)
    with pytest.warns(RuntimeWarning, match="non_converged confirmed"):
        _diverging_gan(keras).fit(x, batch_size=32, epochs=epochs, callbacks=[callback], verbose=0)
    state = callback.triggered[0]
    assert state.verdict is gandiag.Verdict.NON_CONVERGED
    assert callback.step == state.step < epochs * per_epoch  # fit stopped at the confirming batch
    offline = gandiag.analyze(tmp_path, no_samples=True)
    assert offline.n_steps == state.step
    assert (offline.verdict, offline.onset_step) == (state.verdict, state.onset_step)


def test_train_stop_on_ends_a_diverging_run_early(tmp_path):
    from typer.testing import CliRunner

    from gandiag.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--experiment", "diverge", "--dataset", "digits", "--steps", "300",
                                      "--out", str(out), "--no-plots", "--quiet", "--stop-on", "non_converged",
                                      "--stop-min-steps", "30"])
    assert result.exit_code == 1, result.output
    assert "stopped early at step" in result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "early_stopped" and meta["steps_done"] == meta["early_stop"]["step"] < 300
    snaps = np.load(out / "samples.npz")
    assert f"step_{meta['steps_done']}" in snaps.files  # a last snapshot at the stop
    offline = gandiag.analyze(out, no_samples=True)
    assert offline.n_steps == meta["steps_done"]
    assert offline.verdict.value == meta["early_stop"]["verdict"] == "non_converged"
    assert offline.onset_step == meta["early_stop"]["onset_step"]
