"""The GAN failure-modes tutorial's three experiments, ported to Keras 3 as a user would port them.

    python examples/tutorial/tutorial_gan.py stable      > stable.log        # writes results_stable/
    python examples/tutorial/tutorial_gan.py collapse    > collapse.log      # latent_dim=1: mode collapse
    python examples/tutorial/tutorial_gan.py convergence > convergence.log   # combined D batch: convergence failure

Then, as with the tutorial's own output:

    gandiag analyze collapse.log --samples results_collapse/ --grid 10x10 --real results_collapse/real.npy

The code follows the tutorial's scripts line for line where it can (the same
``define_discriminator`` / ``define_generator`` / ``define_gan`` /
``train`` structure, Adam(2e-4, 0.5), half-batches of real and fake images,
the ``>%d, d1=..., d2=... g=..., a1=..., a2=...`` lines, a 10x10
``generated_plot_NNN.png`` grid and a ``plot_line_plot_loss.png``), with
three changes:

- the data: scikit-learn's 8x8 eights (174 images, shipped with scikit-learn,
  so it runs offline) instead of MNIST's 28x28 eights, and the models sized
  for 8x8 (2x2 -> 4x4 -> 8x8 instead of 7x7 -> 14x14 -> 28x28);
- Keras 3: ``Adam(learning_rate=...)`` (``lr=`` is gone); the frozen
  discriminator (see ``set_trainable`` and README.md: in Keras 3 the
  ``trainable`` flag the tutorial sets in ``define_gan`` would stop the
  discriminator's own ``train_on_batch`` from learning); and the tutorial's
  ``BatchNormalization`` layers as Keras 2 ran them: a frozen layer inside
  the composite model still normalises with the batch's statistics
  (:class:`Keras2BatchNormalization`; Keras 3 switches a layer whose
  ``trainable`` is False to its moving statistics), and the discriminator's
  fakes drawn from the generator in training mode, as in the training step
  of the composite model;
- three lines at the end write ``real.npy``, the real eights, so gandiag can
  compare the grids with real data (the tutorial keeps no such file).

``--seed`` seeds numpy, Python and Keras (the tutorial does not seed). The
grids are written every ``--plot-every`` steps (the tutorial: once per epoch).
"""

from __future__ import annotations

import argparse
import os
import sys
from os import makedirs

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from numpy import ones, vstack, zeros  # noqa: E402

EXPERIMENTS = {
    # name: (results folder, latent_dim, combined discriminator batch)
    "stable": ("results_stable", 50, False),
    "collapse": ("results_collapse", 1, False),
    "convergence": ("results_convergence", 50, True),
}


def batch_normalization():
    """The tutorial's ``BatchNormalization()``, normalising with the batch's statistics whenever it trains.

    Keras 2, which the tutorial was written for, did so also in a layer whose
    ``trainable`` flag was False (the frozen discriminator inside the composite
    model): the generator was trained against the discriminator as it runs on a
    batch. Keras 3 (and tf.keras since TensorFlow 2.0) runs such a layer in
    inference mode, with its moving statistics, so the composite model sees a
    different discriminator from the one being trained.
    """
    from keras import ops
    from keras.layers import BatchNormalization

    class Keras2BatchNormalization(BatchNormalization):
        def call(self, inputs, training=None, mask=None):
            if not (training and not self.trainable):
                return super().call(inputs, training=training, mask=mask)
            x = ops.cast(inputs, "float32")
            axis = self.axis % len(x.shape)
            mean, variance = ops.moments(x, axes=[i for i in range(len(x.shape)) if i != axis])
            out = ops.batch_normalization(x, mean=mean, variance=variance, axis=axis, offset=self.beta,
                                          scale=self.gamma, epsilon=self.epsilon)
            return ops.cast(out, self.compute_dtype)  # moving statistics left alone, as a frozen layer's

    return Keras2BatchNormalization()


def define_discriminator(in_shape=(8, 8, 1)):
    from keras.initializers import RandomNormal
    from keras.layers import Conv2D, Dense, Flatten, Input, LeakyReLU
    from keras.models import Sequential
    from keras.optimizers import Adam

    init = RandomNormal(stddev=0.02)
    model = Sequential()
    model.add(Input(in_shape))
    # downsample to 4x4
    model.add(Conv2D(64, (4, 4), strides=(2, 2), padding="same", kernel_initializer=init))
    model.add(batch_normalization())
    model.add(LeakyReLU(negative_slope=0.2))
    # downsample to 2x2
    model.add(Conv2D(64, (4, 4), strides=(2, 2), padding="same", kernel_initializer=init))
    model.add(batch_normalization())
    model.add(LeakyReLU(negative_slope=0.2))
    # classifier
    model.add(Flatten())
    model.add(Dense(1, activation="sigmoid"))
    opt = Adam(learning_rate=0.0002, beta_1=0.5)
    model.compile(loss="binary_crossentropy", optimizer=opt, metrics=["accuracy"])
    return model


def define_generator(latent_dim):
    from keras.initializers import RandomNormal
    from keras.layers import Conv2D, Conv2DTranspose, Dense, Input, LeakyReLU, Reshape
    from keras.models import Sequential

    init = RandomNormal(stddev=0.02)
    model = Sequential()
    model.add(Input((latent_dim,)))
    # foundation for a 2x2 image
    n_nodes = 128 * 2 * 2
    model.add(Dense(n_nodes, kernel_initializer=init))
    model.add(LeakyReLU(negative_slope=0.2))
    model.add(Reshape((2, 2, 128)))
    # upsample to 4x4
    model.add(Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same", kernel_initializer=init))
    model.add(batch_normalization())
    model.add(LeakyReLU(negative_slope=0.2))
    # upsample to 8x8
    model.add(Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same", kernel_initializer=init))
    model.add(batch_normalization())
    model.add(LeakyReLU(negative_slope=0.2))
    # output 8x8x1
    model.add(Conv2D(1, (3, 3), activation="tanh", padding="same", kernel_initializer=init))
    return model


def set_trainable(model, flag):
    """Keras 3 reads ``trainable`` when a model's train step is first traced, not at compile time.

    The tutorial sets ``discriminator.trainable = False`` once, in
    ``define_gan``; under Keras 2 the discriminator, compiled before that,
    kept learning in its own ``train_on_batch``. Under Keras 3 it would stop.
    Setting the flag before each update gives the tutorial's behaviour.
    """
    model.trainable = flag


def define_gan(generator, discriminator):
    from keras.models import Sequential
    from keras.optimizers import Adam

    set_trainable(discriminator, False)
    model = Sequential()
    model.add(generator)
    model.add(discriminator)
    opt = Adam(learning_rate=0.0002, beta_1=0.5)
    model.compile(loss="binary_crossentropy", optimizer=opt)
    return model


def load_real_samples():
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images[digits.target == 8]  # the eights, as the tutorial selects MNIST's
    X = np.expand_dims(X, axis=-1).astype("float32")
    # scale from [0,16] to [-1,1]
    X = (X - 8.0) / 8.0
    return X


def generate_real_samples(dataset, n_samples, rng):
    ix = rng.integers(0, dataset.shape[0], n_samples)
    return dataset[ix], ones((n_samples, 1))


def generate_latent_points(latent_dim, n_samples, rng):
    return rng.standard_normal(latent_dim * n_samples).reshape(n_samples, latent_dim)


def generate_fake_samples(generator, latent_dim, n_samples, rng, training=False):
    x_input = generate_latent_points(latent_dim, n_samples, rng)
    if training:  # the fakes the discriminator learns from: the generator as it trains (batch statistics)
        X = np.asarray(generator(x_input, training=True))
    else:
        X = generator.predict(x_input, verbose=0)
    return X, zeros((n_samples, 1))


def summarize_performance(step, g_model, latent_dim, folder, rng, n_samples=100):
    from matplotlib import pyplot

    X, _ = generate_fake_samples(g_model, latent_dim, n_samples, rng)
    # scale from [-1,1] to [0,1]
    X = (X + 1) / 2.0
    for i in range(10 * 10):
        pyplot.subplot(10, 10, 1 + i)
        pyplot.axis("off")
        pyplot.imshow(X[i, :, :, 0], cmap="gray_r")
    pyplot.savefig(f"{folder}/generated_plot_{step + 1:03d}.png")
    pyplot.close()


def plot_history(d1_hist, d2_hist, g_hist, a1_hist, a2_hist, folder):
    from matplotlib import pyplot

    pyplot.subplot(2, 1, 1)
    pyplot.plot(d1_hist, label="d-real")
    pyplot.plot(d2_hist, label="d-fake")
    pyplot.plot(g_hist, label="gen")
    pyplot.legend()
    pyplot.subplot(2, 1, 2)
    pyplot.plot(a1_hist, label="acc-real")
    pyplot.plot(a2_hist, label="acc-fake")
    pyplot.legend()
    pyplot.savefig(f"{folder}/plot_line_plot_loss.png")
    pyplot.close()


def train(g_model, d_model, gan_model, dataset, latent_dim, folder, rng, *, combined=False, n_steps=500,
          n_batch=64, plot_every=50):
    half_batch = int(n_batch / 2)
    d1_hist, d2_hist, g_hist, a1_hist, a2_hist = list(), list(), list(), list(), list()
    for i in range(n_steps):
        X_real, y_real = generate_real_samples(dataset, half_batch, rng)
        X_fake, y_fake = generate_fake_samples(g_model, latent_dim, half_batch, rng, training=True)
        set_trainable(d_model, True)
        if combined:
            # the tutorial's convergence failure: one update on a combined real + fake batch
            X, y = vstack((X_real, X_fake)), vstack((y_real, y_fake))
            d_loss, d_acc = d_model.train_on_batch(X, y)
        else:
            d_loss1, d_acc1 = d_model.train_on_batch(X_real, y_real)
            d_loss2, d_acc2 = d_model.train_on_batch(X_fake, y_fake)
        set_trainable(d_model, False)
        X_gan = generate_latent_points(latent_dim, n_batch, rng)
        y_gan = ones((n_batch, 1))
        g_loss = gan_model.train_on_batch(X_gan, y_gan)
        if combined:
            print(">%d, d=%.3f, g=%.3f, a=%d" % (i + 1, d_loss, g_loss, int(100 * d_acc)), flush=True)
            d1_hist.append(d_loss)
            d2_hist.append(d_loss)
            a1_hist.append(d_acc)
            a2_hist.append(d_acc)
        else:
            print(">%d, d1=%.3f, d2=%.3f g=%.3f, a1=%d, a2=%d"
                  % (i + 1, d_loss1, d_loss2, g_loss, int(100 * d_acc1), int(100 * d_acc2)), flush=True)
            d1_hist.append(d_loss1)
            d2_hist.append(d_loss2)
            a1_hist.append(d_acc1)
            a2_hist.append(d_acc2)
        g_hist.append(g_loss)
        if (i + 1) % plot_every == 0:
            summarize_performance(i, g_model, latent_dim, folder, rng)
    plot_history(d1_hist, d2_hist, g_hist, a1_hist, a2_hist, folder)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--plot-every", type=int, default=50)
    parser.add_argument("--out", help="results folder (default: the tutorial's name, e.g. results_collapse)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import keras

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    folder, latent_dim, combined = EXPERIMENTS[args.experiment]
    folder = args.out or folder
    makedirs(folder, exist_ok=True)
    discriminator = define_discriminator()
    generator = define_generator(latent_dim)
    gan_model = define_gan(generator, discriminator)
    dataset = load_real_samples()
    print(dataset.shape, file=sys.stderr)
    train(generator, discriminator, gan_model, dataset, latent_dim, folder, rng, combined=combined,
          n_steps=args.steps, plot_every=args.plot_every)
    # not in the tutorial: keep the real images, so the grids can be compared with real data
    np.save(f"{folder}/real.npy", dataset)


if __name__ == "__main__":
    main()
