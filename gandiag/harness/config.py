"""Training configuration: a frozen dataclass and the named experiments.

An experiment is a set of overrides on the tutorial's stable baseline; every
field can still be overridden by the caller (``make_config(..., lr_d=1e-4)``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gandiag.errors import UsageError


class DUpdate(StrEnum):
    """How the discriminator sees real and fake samples in one update."""

    SPLIT = "split"  # real half-batch, then fake half-batch (the tutorial's baseline)
    COMBINED = "combined"  # one batch with both (the tutorial's convergence failure)


class LossKind(StrEnum):
    """Adversarial loss."""

    BCE = "bce"  # sigmoid cross-entropy, non-saturating G loss -log D(G(z)) (the tutorials)
    MINIMAX = "minimax"  # D as bce; the original saturating G loss log(1 - D(G(z))) (<= 0)
    LSGAN = "lsgan"  # least squares on raw scores: D to 1 / 0, G to 1
    HINGE = "hinge"  # hinge D loss relu(1 - D(x)) + relu(1 + D(G(z))); G loss -D(G(z))
    WGAN = "wgan"  # Wasserstein critic with weight clipping (or gradient penalty)


#: what meta.json's ``loss_family`` says for each loss (the analyzer's --loss vocabulary)
LOSS_FAMILY: dict[str, str] = {"bce": "bce", "minimax": "bce", "lsgan": "lsgan", "hinge": "hinge",
                               "wgan": "wgan"}
#: losses whose discriminator loss is BCE on labels (the only ones the combined-batch update supports)
BCE_D_LOSSES = frozenset({"bce", "minimax"})


class Optim(StrEnum):
    ADAM = "adam"
    RMSPROP = "rmsprop"
    SGD = "sgd"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and is written to ``meta.json``).

    ``steps`` counts generator updates; ``batch_size`` is the full batch (the
    split discriminator update uses two half-batches). ``latent_dim=None``
    means the dataset's default (50 for images, 2 for 2D points, 8 for
    vectors of up to 10 dimensions, 16 for longer ones).
    """

    experiment: str = "stable"
    dataset: str = "digits"
    steps: int = 600
    batch_size: int = 64
    latent_dim: int | None = None
    seed: int = 0
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    beta1_d: float = 0.5
    beta1_g: float = 0.5
    optimizer: Optim = Optim.ADAM
    d_update: DUpdate = DUpdate.SPLIT
    loss: LossKind = LossKind.BCE
    batchnorm: bool | None = None  # None: the architecture's default (images yes, 2D no)
    d_bn_training_in_g_update: bool = True  # as Keras 2 did in the tutorial (see docs/harness.md)
    g_training_for_fakes: bool = True  # fakes for D from G in training mode (see docs/harness.md)
    d_steps: int = 1  # discriminator (critic) updates per generator update
    clip_value: float = 0.01  # WGAN weight clipping (only without gradient penalty)
    gradient_penalty: float = 0.0  # WGAN-GP lambda; > 0 replaces clipping
    label_smoothing: float = 0.0  # real label = 1 - label_smoothing (one-sided)
    label_noise: float = 0.0  # probability of flipping each discriminator label
    hidden: int = 128  # width of the 2D MLPs
    g_width: int | None = None  # generator width (2D: hidden units, 8x8: filters); None: as D / the default
    snapshot_every: int | None = None  # None: about 15 snapshots per run
    checkpoint_every: int | None = None  # None: at every snapshot
    data: str | None = None  # a .npz with x_train (and y_train) for mnist/mnist8/cifar10
    tags: tuple[str, ...] = field(default_factory=tuple)
    log_every: int = 1  # a history row every log_every steps, plus the final step
    deterministic: bool = True  # tf.config.experimental.enable_op_determinism() before building models

    def resolved_snapshot_every(self) -> int:
        if self.snapshot_every:
            return int(self.snapshot_every)
        return max(1, -(-self.steps // 15))

    def resolved_checkpoint_every(self) -> int:
        return int(self.checkpoint_every or self.resolved_snapshot_every())

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for k, v in out.items():
            if isinstance(v, StrEnum):
                out[k] = v.value
        out["tags"] = list(self.tags)
        return out


#: name -> (overrides of the baseline, the behaviour the experiment is meant to show, description)
EXPERIMENTS: dict[str, tuple[dict[str, Any], str, str]] = {
    "stable": ({}, "stable",
               "the tutorial's baseline DCGAN: Adam(2e-4, 0.5), D on a real then a fake half-batch"),
    "mode_collapse": ({"latent_dim": 1}, "mode_collapse", "the baseline with latent_dim=1"),
    "convergence_failure": ({"d_update": DUpdate.COMBINED}, "non_converged",
                            "the discriminator updated on one combined real+fake batch"),
    "aggressive_adam": ({"lr_d": 1e-3, "lr_g": 1e-3, "beta1_d": 0.9, "beta1_g": 0.9}, "non_converged",
                        "Adam's defaults (lr 1e-3, beta_1 0.9) for both models"),
    "diverge": ({"optimizer": Optim.SGD, "lr_d": 0.5, "lr_g": 0.5, "batchnorm": False}, "non_converged",
                "plain SGD with lr 0.5 and no BatchNorm: the weights blow up until losses are non-finite"),
    "wgan": ({"loss": LossKind.WGAN, "optimizer": Optim.RMSPROP, "lr_d": 5e-5, "lr_g": 5e-5,
              "d_steps": 5, "clip_value": 0.01}, "wgan",
             "a Wasserstein critic with weight clipping (RMSprop 5e-5, 5 critic steps)"),
    "wgan_gp": ({"loss": LossKind.WGAN, "optimizer": Optim.ADAM, "lr_d": 1e-4, "lr_g": 1e-4,
                 "beta1_d": 0.5, "beta1_g": 0.5, "d_steps": 5, "gradient_penalty": 10.0,
                 "batchnorm": False}, "wgan",
                "a Wasserstein critic with gradient penalty 10 (Adam 1e-4, 5 critic steps, no BatchNorm)"),
}

EXPECTED_BEHAVIOUR: dict[str, str] = {name: spec[1] for name, spec in EXPERIMENTS.items()}


def make_config(experiment: str = "stable", dataset: str = "digits", **overrides: Any) -> TrainConfig:
    """The named experiment's configuration, with ``overrides`` (``None`` values are ignored)."""
    if experiment not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {experiment!r}",
                         hint=f"Choose one of: {', '.join(EXPERIMENTS)}")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise UsageError(f"unknown training option(s): {', '.join(unknown)}")
    values: dict[str, Any] = dict(EXPERIMENTS[experiment][0])
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["experiment"] = experiment
    values["dataset"] = dataset
    cfg = TrainConfig(**values)
    validate(cfg)
    return cfg


def validate(cfg: TrainConfig) -> None:
    """Fail fast on options that cannot train."""
    problems = []
    for name, kind in (("optimizer", Optim), ("d_update", DUpdate), ("loss", LossKind)):
        value = getattr(cfg, name)
        if value not in {k.value for k in kind}:
            problems.append(f"{name} must be one of {', '.join(k.value for k in kind)} (got {value!r})")
    if cfg.steps < 1:
        problems.append(f"steps must be >= 1 (got {cfg.steps})")
    if cfg.batch_size < 2 or cfg.batch_size % 2:
        problems.append(f"batch_size must be an even number >= 2 (got {cfg.batch_size})")
    if cfg.latent_dim is not None and cfg.latent_dim < 1:
        problems.append(f"latent_dim must be >= 1 (got {cfg.latent_dim})")
    if not 0.0 <= cfg.label_smoothing < 0.5:
        problems.append(f"label_smoothing must be in [0, 0.5) (got {cfg.label_smoothing})")
    if not 0.0 <= cfg.label_noise < 0.5:
        problems.append(f"label_noise must be in [0, 0.5) (got {cfg.label_noise})")
    if cfg.gradient_penalty < 0:
        problems.append(f"gradient_penalty must be >= 0 (got {cfg.gradient_penalty})")
    if cfg.gradient_penalty > 0 and cfg.loss != LossKind.WGAN:
        problems.append("gradient_penalty needs the Wasserstein loss (experiment wgan or wgan_gp)")
    if cfg.d_update == DUpdate.COMBINED and cfg.loss not in BCE_D_LOSSES:
        problems.append(f"d_update=combined (experiment convergence_failure) supports only the losses with a "
                        f"BCE discriminator (bce, minimax), not {cfg.loss}: pick another experiment (d_update=split)")
    if cfg.loss == LossKind.HINGE and (cfg.label_smoothing or cfg.label_noise):
        problems.append("label_smoothing and label_noise have no meaning for the hinge loss (it has no labels)")
    if cfg.log_every < 1:
        problems.append(f"log_every must be >= 1 (got {cfg.log_every})")
    if cfg.g_width is not None and cfg.g_width < 1:
        problems.append(f"g_width must be >= 1 (got {cfg.g_width})")
    if cfg.d_steps < 1:
        problems.append(f"d_steps must be >= 1 (got {cfg.d_steps})")
    for name in ("lr_d", "lr_g"):
        if getattr(cfg, name) <= 0:
            problems.append(f"{name} must be > 0")
    if problems:
        raise UsageError("invalid training options: " + "; ".join(problems))
