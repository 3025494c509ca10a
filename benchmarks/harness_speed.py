"""Steps per second: the tutorial's Keras loop vs gandiag's compiled step, side by side.

The tutorial loop (seed 001) per step: ``d.train_on_batch`` on a real
half-batch, ``g.predict`` + ``d.train_on_batch`` on a fake half-batch, and
``gan.train_on_batch`` (generator through the frozen discriminator). gandiag's
step does the same work in one ``tf.function`` (see gandiag/harness/step.py).
Both use the same architectures and random data of the right shape; both
include drawing the batch with numpy and reading the losses back as floats.

Run::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/harness_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

#: name, sample shape, latent dim, batch size, BatchNorm, timed steps, target ratio
CASES = (
    ("8x8 digits DCGAN", (8, 8, 1), 50, 64, True, 150, 3.0),
    ("2D MLP (ring8)", (2,), 2, 64, False, 300, 3.0),
    ("28x28 tutorial DCGAN", (28, 28, 1), 50, 128, True, 8, None),
)


def tutorial_loop(keras, shape, latent, batch, bn, steps, warmup=3):
    from gandiag.harness.models import build_models

    keras.utils.set_random_seed(0)
    g, d = build_models(shape, latent, batchnorm=bn)
    d.trainable = True
    d.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
              loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
    d.trainable = False
    gan = keras.Sequential([g, d])
    gan.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                loss=keras.losses.BinaryCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (2000, *shape)).astype(np.float32)
    half = batch // 2

    def one():
        # Keras 3 reads `trainable` when it traces each model's train function: the
        # tutorial's "set trainable=False before compiling the composite" leaves D
        # untrainable in d.train_on_batch too, so it is switched around each call.
        d.trainable = True
        x_real = data[rng.integers(0, len(data), half)]
        d_loss1, d_acc1 = d.train_on_batch(x_real, np.ones((half, 1), np.float32))
        x_fake = g.predict(rng.standard_normal((half, latent)).astype(np.float32), verbose=0)
        d_loss2, d_acc2 = d.train_on_batch(x_fake, np.zeros((half, 1), np.float32))
        d.trainable = False
        g_loss = gan.train_on_batch(rng.standard_normal((batch, latent)).astype(np.float32),
                                    np.ones((batch, 1), np.float32))
        return float(d_loss1), float(d_loss2), float(np.asarray(g_loss).reshape(-1)[0]), float(d_acc1), float(d_acc2)

    return steps_per_second(one, steps, warmup)


def steps_per_second(one, steps, warmup):
    """Calls of ``one`` per second after ``warmup`` untimed calls (tracing, first allocations)."""
    for _ in range(warmup):
        one()
    t = time.perf_counter()
    for _ in range(steps):
        one()
    return steps / (time.perf_counter() - t)


def compiled_step(keras, shape, latent, batch, bn, steps, warmup=3):
    from gandiag.data.datasets import Dataset
    from gandiag.harness.config import make_config
    from gandiag.harness.models import build_models
    from gandiag.harness.run import _draw_batch
    from gandiag.harness.step import GanStep

    keras.utils.set_random_seed(0)
    cfg = make_config("stable", "digits", batch_size=batch)
    g, d = build_models(shape, latent, batchnorm=bn)
    step = GanStep(g, d, cfg)
    rng = np.random.default_rng(0)
    data = Dataset("random", rng.uniform(-1, 1, (2000, *shape)).astype(np.float32), "image", "random")

    def one():
        out = step.train(*_draw_batch(rng, data, cfg, latent, batch // 2))
        return {k: float(v) for k, v in out.items()}

    return steps_per_second(one, steps, warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a third of the steps")
    args = parser.parse_args()
    import keras
    import tensorflow as tf

    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, {os.cpu_count()} CPU cores")
    print(f"{'model':24s} {'tutorial loop':>15s} {'gandiag step':>15s} {'ratio':>7s}  target")
    for name, shape, latent, batch, bn, steps, target in CASES:
        n = max(4, steps // 3) if args.quick else steps
        slow = tutorial_loop(keras, shape, latent, batch, bn, n)
        fast = compiled_step(keras, shape, latent, batch, bn, n)
        ratio = fast / slow
        verdict = "-" if target is None else (f">= {target:g}x " + ("ok" if ratio >= target else "MISSED"))
        print(f"{name:24s} {slow:11.1f} st/s {fast:11.1f} st/s {ratio:6.2f}x  {verdict}", flush=True)


if __name__ == "__main__":
    main()
