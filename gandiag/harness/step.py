"""The compiled training step: one ``tf.function`` per run, traced once.

Semantics of one step (= one generator update), as in the tutorial's loop:

1. for each of ``d_steps`` discriminator updates:
   - ``split``: D trained on a real half-batch (labels 1), then on a fake
     half-batch (labels 0) -- two optimizer steps, BatchNorm statistics of
     each half-batch, like two ``train_on_batch`` calls;
   - ``combined``: D trained once on the concatenated real+fake batch (BCE
     discriminators only: ``bce``, ``minimax``);
   - ``wgan``: one critic step on ``mean(D(fake)) - mean(D(real))``, then
     the critic's weights are clipped to ``[-clip, clip]``; with
     ``gradient_penalty`` > 0 (``wgan_gp``) the penalty on random
     interpolates is added to the critic's loss instead of clipping (the
     logged losses are the two Wasserstein terms, without the penalty).
   The fake samples come from the generator in training mode by default
   (``g_training_for_fakes``; the tutorial's ``generator.predict`` used
   inference mode, see docs/harness.md).
2. G trained through D on a full batch of latents; only G's variables
   receive gradients (D is frozen). D runs with BatchNorm in training mode by
   default, as Keras 2 ran the frozen discriminator inside the tutorial's
   composite model (``d_bn_training_in_g_update``).

The split update's terms per loss (``D`` = the discriminator's raw output,
``t`` = the label of the half-batch: 1 - label_smoothing for real, 0 for fake,
flipped by label_noise):

========  ==============================  ===========================  ========================
loss      d_loss_real / d_loss_fake       g_loss                       accuracy, probabilities
========  ==============================  ===========================  ========================
bce       BCE(t, sigmoid(D))              -mean(log sigmoid(D(G(z))))  D > 0 is real; sigmoid
minimax   BCE(t, sigmoid(D))              mean(log(1 - sigmoid(D)))    as bce (g_loss <= 0)
lsgan     mean((D - t)^2)                 mean((D(G(z)) - 1)^2)        D > 0.5 is real; clip(D, 0, 1)
hinge     mean(relu(1 - D(x))) /          -mean(D(G(z)))               D > 0 is real; sigmoid
          mean(relu(1 + D(G(z))))
========  ==============================  ===========================  ========================

Reported losses and accuracies come from the forward pass of each update
(before the weights change), as ``train_on_batch`` reports them. Accuracy is
measured against the true class (real=1, fake=0) even with smoothed or noisy
labels; ``d_real_prob`` / ``d_fake_prob`` are mean outputs mapped to [0, 1].
"""

from __future__ import annotations

from typing import Any

from gandiag.harness._tf import require_tensorflow
from gandiag.harness.config import BCE_D_LOSSES, DUpdate, LossKind, Optim, TrainConfig


def make_optimizer(keras: Any, kind: Optim, lr: float, beta1: float) -> Any:
    if kind == Optim.ADAM:
        return keras.optimizers.Adam(learning_rate=lr, beta_1=beta1)
    if kind == Optim.RMSPROP:
        return keras.optimizers.RMSprop(learning_rate=lr)
    return keras.optimizers.SGD(learning_rate=lr)


def history_columns(cfg: TrainConfig) -> list[str]:
    """The metric columns of ``history.csv`` for this configuration (after ``step``)."""
    if cfg.d_update == DUpdate.COMBINED and cfg.loss in BCE_D_LOSSES:
        return ["epoch", "d_loss", "g_loss", "d_acc", "d_real_prob", "d_fake_prob"]
    return ["epoch", "d_loss_real", "d_loss_fake", "g_loss", "d_acc_real", "d_acc_fake",
            "d_real_prob", "d_fake_prob"]


class GanStep:
    """Holds the two models, their optimizers and the compiled step.

    Call :meth:`train` with numpy arrays::

        x_real (d_steps, half, *shape), z_fake (d_steps, half, latent),
        y_real (d_steps, half, 1), y_fake (d_steps, half, 1), z_gen (batch, latent),
        eps (d_steps, half, 1, ...) interpolation weights for the gradient penalty

    and get a dict of scalar tensors back.
    """

    def __init__(self, generator: Any, discriminator: Any, cfg: TrainConfig):
        tf, keras = require_tensorflow()
        self.tf = tf
        self.g = generator
        self.d = discriminator
        self.cfg = cfg
        self.d_opt = make_optimizer(keras, cfg.optimizer, cfg.lr_d, cfg.beta1_d)
        self.g_opt = make_optimizer(keras, cfg.optimizer, cfg.lr_g, cfg.beta1_g)
        self.d_opt.build(self.d.trainable_variables)
        self.g_opt.build(self.g.trainable_variables)
        self.train = tf.function(self._train, jit_compile=False, reduce_retracing=True)
        self.generate = tf.function(lambda z: self.g(z, training=False), reduce_retracing=True)

    # -- pieces ----------------------------------------------------------------

    def _bce(self, labels: Any, logits: Any) -> Any:
        return self.tf.reduce_mean(self.tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))

    def _d_term(self, labels: Any, out: Any, real: bool) -> Any:
        """D's loss on one half-batch (``labels``: its smoothed / noisy targets)."""
        tf, loss = self.tf, self.cfg.loss
        if loss == LossKind.LSGAN:
            return tf.reduce_mean(tf.square(out - labels))
        if loss == LossKind.HINGE:
            return tf.reduce_mean(tf.nn.relu(1.0 - out)) if real else tf.reduce_mean(tf.nn.relu(1.0 + out))
        return self._bce(labels, out)

    def _acc(self, logits: Any, real: bool) -> Any:
        tf = self.tf
        threshold = 0.5 if self.cfg.loss == LossKind.LSGAN else 0.0
        hit = logits > threshold if real else logits <= threshold
        return tf.reduce_mean(tf.cast(hit, tf.float32))

    def _prob(self, logits: Any) -> Any:
        tf = self.tf
        if self.cfg.loss == LossKind.LSGAN:
            return tf.reduce_mean(tf.clip_by_value(logits, 0.0, 1.0))
        return tf.reduce_mean(tf.sigmoid(logits))

    def _d_apply(self, loss_fn: Any) -> Any:
        tf = self.tf
        with tf.GradientTape() as tape:
            out = loss_fn()
        grads = tape.gradient(out[0], self.d.trainable_variables)
        self.d_opt.apply_gradients(zip(grads, self.d.trainable_variables))
        return out

    def _penalty(self, x_real: Any, x_fake: Any, eps: Any) -> Any:
        """WGAN-GP: mean((||grad D(x_hat)|| - 1)^2) on random interpolates."""
        tf = self.tf
        x_hat = eps * x_real + (1.0 - eps) * x_fake
        with tf.GradientTape() as tape:
            tape.watch(x_hat)
            s_hat = self.d(x_hat, training=True)
        grads = tape.gradient(s_hat, x_hat)
        axes = list(range(1, len(x_hat.shape)))
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
        return tf.reduce_mean(tf.square(norm - 1.0))

    def _d_update(self, x_real: Any, z_fake: Any, y_real: Any, y_fake: Any, eps: Any) -> dict[str, Any]:
        tf, cfg, d = self.tf, self.cfg, self.d
        x_fake = self.g(z_fake, training=self.cfg.g_training_for_fakes)
        if cfg.loss == LossKind.WGAN:
            def critic() -> tuple[Any, ...]:
                s_real = d(x_real, training=True)
                s_fake = d(x_fake, training=True)
                loss = tf.reduce_mean(s_fake) - tf.reduce_mean(s_real)
                if cfg.gradient_penalty > 0:
                    loss += cfg.gradient_penalty * self._penalty(x_real, x_fake, eps)
                return (loss, s_real, s_fake)

            _, s_real, s_fake = self._d_apply(critic)
            if cfg.gradient_penalty <= 0:
                c = cfg.clip_value
                for v in d.trainable_variables:
                    v.assign(tf.clip_by_value(v, -c, c))
            return {"d_loss_real": -tf.reduce_mean(s_real), "d_loss_fake": tf.reduce_mean(s_fake),
                    "d_acc_real": self._acc(s_real, True), "d_acc_fake": self._acc(s_fake, False),
                    "d_real_prob": self._prob(s_real), "d_fake_prob": self._prob(s_fake)}
        if cfg.d_update == DUpdate.COMBINED:
            x = tf.concat([x_real, x_fake], axis=0)
            y = tf.concat([y_real, y_fake], axis=0)
            half = tf.shape(x_real)[0]

            def both() -> tuple[Any, ...]:
                logits = d(x, training=True)
                return (self._bce(y, logits), logits)

            loss, logits = self._d_apply(both)
            l_real, l_fake = logits[:half], logits[half:]
            acc = 0.5 * (self._acc(l_real, True) + self._acc(l_fake, False))
            return {"d_loss": loss, "d_acc": acc,
                    "d_real_prob": self._prob(l_real), "d_fake_prob": self._prob(l_fake)}

        def on_real() -> tuple[Any, ...]:
            logits = d(x_real, training=True)
            return (self._d_term(y_real, logits, True), logits)

        def on_fake() -> tuple[Any, ...]:
            logits = d(x_fake, training=True)
            return (self._d_term(y_fake, logits, False), logits)

        loss_r, l_real = self._d_apply(on_real)
        loss_f, l_fake = self._d_apply(on_fake)
        return {"d_loss_real": loss_r, "d_loss_fake": loss_f,
                "d_acc_real": self._acc(l_real, True), "d_acc_fake": self._acc(l_fake, False),
                "d_real_prob": self._prob(l_real), "d_fake_prob": self._prob(l_fake)}

    def _g_update(self, z_gen: Any) -> Any:
        tf, cfg = self.tf, self.cfg
        with tf.GradientTape() as tape:
            out = self.d(self.g(z_gen, training=True), training=cfg.d_bn_training_in_g_update)
            if cfg.loss in (LossKind.WGAN, LossKind.HINGE):
                loss = -tf.reduce_mean(out)
            elif cfg.loss == LossKind.LSGAN:
                loss = tf.reduce_mean(tf.square(out - 1.0))
            elif cfg.loss == LossKind.MINIMAX:  # log(1 - sigmoid(x)) = -softplus(x) = -BCE(0, x)
                loss = -self._bce(tf.zeros_like(out), out)
            else:
                loss = self._bce(tf.ones_like(out), out)
        grads = tape.gradient(loss, self.g.trainable_variables)
        self.g_opt.apply_gradients(zip(grads, self.g.trainable_variables))
        return loss

    def _train(self, x_real: Any, z_fake: Any, y_real: Any, y_fake: Any, z_gen: Any,
               eps: Any) -> dict[str, Any]:
        metrics: dict[str, Any] = {}
        for k in range(self.cfg.d_steps):  # static: unrolled at trace time
            metrics = self._d_update(x_real[k], z_fake[k], y_real[k], y_fake[k], eps[k])
        metrics["g_loss"] = self._g_update(z_gen)
        return metrics

    # -- state -----------------------------------------------------------------

    def variables(self) -> list[Any]:
        """Every variable a checkpoint must hold (models incl. BN statistics, optimizers)."""
        return [*self.g.variables, *self.d.variables, *self.d_opt.variables, *self.g_opt.variables]
