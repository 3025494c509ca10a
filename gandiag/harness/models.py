"""Generators and discriminators sized to the data.

- 2D points: the spiral article's MLPs (seed 003), three LeakyReLU(0.2) layers each;
- vectors of any other dimension (``mix8d``, ``cancer``): the same MLPs;
- 8x8 images: a small DCGAN in the tutorial's style (2x2 -> 4x4 -> 8x8);
- 16x16 images: the same style one level deeper (4x4 -> 8x8 -> 16x16);
- 28x28x1: the tutorial's architecture (seed 001), with the discriminator's
  first Conv2D present (see docs/harness.md);
- 32x32x3: the CIFAR-10 DCGAN of seed 004.

Discriminators end in ``Dense(1)`` without activation: they return logits and
the losses apply the sigmoid (numerically the same as the tutorial's sigmoid +
binary cross-entropy, without Keras' 1e-7 probability clipping). A WGAN critic
is the same network read as a score.
"""

from __future__ import annotations

from typing import Any

from gandiag.harness._tf import require_tensorflow


def default_batchnorm(sample_shape: tuple[int, ...]) -> bool:
    """BatchNorm by default for the tutorial-style DCGANs (8x8, 16x16, 28x28); not for MLPs or seed 004."""
    return len(sample_shape) == 3 and sample_shape[0] in (8, 16, 28)


def build_models(sample_shape: tuple[int, ...], latent_dim: int, *, batchnorm: bool,
                 hidden: int = 128, g_width: int | None = None) -> tuple[Any, Any]:
    """Return ``(generator, discriminator)`` as Keras models (weights created).

    ``g_width`` narrows (or widens) only the generator: the hidden units of the
    MLP or the filters of the 8x8 and 16x16 DCGANs (ignored for larger images).
    """
    _, keras = require_tensorflow()
    if len(sample_shape) == 1:
        return _mlp_generator(keras, latent_dim, sample_shape[0], g_width or hidden, batchnorm), \
            _mlp_discriminator(keras, sample_shape[0], hidden, batchnorm)
    side, channels = sample_shape[0], sample_shape[2]
    if side == 8:
        return _dcgan_generator(keras, latent_dim, 2, 2, channels, (4, 4), 3, batchnorm,
                                filters=g_width or 64), \
            _dcgan_discriminator(keras, sample_shape, 2, (3, 3), batchnorm)
    if side == 16:
        return _dcgan_generator(keras, latent_dim, 4, 2, channels, (4, 4), 3, batchnorm,
                                filters=g_width or 64), \
            _dcgan_discriminator(keras, sample_shape, 2, (3, 3), batchnorm)
    if side == 28:
        return _dcgan_generator(keras, latent_dim, 7, 2, channels, (4, 4), 7, batchnorm), \
            _dcgan_discriminator(keras, sample_shape, 2, (4, 4), batchnorm)
    if side == 32:
        return _cifar_generator(keras, latent_dim, channels, batchnorm), \
            _cifar_discriminator(keras, sample_shape, batchnorm)
    raise ValueError(f"no architecture for samples of shape {sample_shape}")


def _mlp_generator(keras: Any, latent_dim: int, dim: int, hidden: int, bn: bool) -> Any:
    layers = keras.layers
    stack: list[Any] = [keras.Input((latent_dim,))]
    for _ in range(3):
        stack.append(layers.Dense(hidden))
        if bn:
            stack.append(layers.BatchNormalization())
        stack.append(layers.LeakyReLU(negative_slope=0.2))
    stack.append(layers.Dense(dim))
    return keras.Sequential(stack, name="generator")


def _mlp_discriminator(keras: Any, dim: int, hidden: int, bn: bool) -> Any:
    layers = keras.layers
    stack: list[Any] = [keras.Input((dim,))]
    for i in range(3):
        stack.append(layers.Dense(hidden))
        if bn and i > 0:
            stack.append(layers.BatchNormalization())
        stack.append(layers.LeakyReLU(negative_slope=0.2))
    stack.append(layers.Dense(1))
    return keras.Sequential(stack, name="discriminator")


def _dcgan_generator(keras: Any, latent_dim: int, base: int, n_up: int, channels: int,
                     kernel: tuple[int, int], out_kernel: int, bn: bool, filters: int = 128) -> Any:
    layers = keras.layers
    init = keras.initializers.RandomNormal(stddev=0.02)
    stack: list[Any] = [keras.Input((latent_dim,)),
                        layers.Dense(filters * base * base, kernel_initializer=init),
                        layers.LeakyReLU(negative_slope=0.2),
                        layers.Reshape((base, base, filters))]
    for _ in range(n_up):
        stack.append(layers.Conv2DTranspose(filters, kernel, strides=(2, 2), padding="same",
                                            kernel_initializer=init))
        if bn:
            stack.append(layers.BatchNormalization())
        stack.append(layers.LeakyReLU(negative_slope=0.2))
    stack.append(layers.Conv2D(channels, (out_kernel, out_kernel), activation="tanh", padding="same",
                               kernel_initializer=init))
    return keras.Sequential(stack, name="generator")


def _dcgan_discriminator(keras: Any, shape: tuple[int, ...], n_down: int, kernel: tuple[int, int],
                         bn: bool) -> Any:
    layers = keras.layers
    init = keras.initializers.RandomNormal(stddev=0.02)
    stack: list[Any] = [keras.Input(shape)]
    for _ in range(n_down):
        stack.append(layers.Conv2D(64, kernel, strides=(2, 2), padding="same", kernel_initializer=init))
        if bn:
            stack.append(layers.BatchNormalization())
        stack.append(layers.LeakyReLU(negative_slope=0.2))
    stack += [layers.Flatten(), layers.Dense(1)]
    return keras.Sequential(stack, name="discriminator")


def _cifar_generator(keras: Any, latent_dim: int, channels: int, bn: bool) -> Any:
    layers = keras.layers
    stack: list[Any] = [keras.Input((latent_dim,)), layers.Dense(256 * 4 * 4),
                        layers.LeakyReLU(negative_slope=0.2), layers.Reshape((4, 4, 256))]
    for _ in range(3):
        stack.append(layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"))
        if bn:
            stack.append(layers.BatchNormalization())
        stack.append(layers.LeakyReLU(negative_slope=0.2))
    stack.append(layers.Conv2D(channels, (3, 3), activation="tanh", padding="same"))
    return keras.Sequential(stack, name="generator")


def _cifar_discriminator(keras: Any, shape: tuple[int, ...], bn: bool) -> Any:
    layers = keras.layers
    stack: list[Any] = [keras.Input(shape), layers.Conv2D(64, (3, 3), padding="same"),
                        layers.LeakyReLU(negative_slope=0.2)]
    for filters in (128, 128, 256):
        stack.append(layers.Conv2D(filters, (3, 3), strides=(2, 2), padding="same"))
        if bn:
            stack.append(layers.BatchNormalization())
        stack.append(layers.LeakyReLU(negative_slope=0.2))
    stack += [layers.Flatten(), layers.Dropout(0.4), layers.Dense(1)]
    return keras.Sequential(stack, name="discriminator")
