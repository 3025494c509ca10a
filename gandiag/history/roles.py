"""Canonical series names ("roles") and the alias table that maps log names to them.

Every reader (CSV columns, console-log labels, TensorBoard tags, JSON keys)
sends the names it finds through :func:`resolve_role`, so one table decides
what ``errD`` or ``loss/discriminator`` means everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum


class Role(StrEnum):
    """A canonical series of the normalised history."""

    STEP = "step"
    EPOCH = "epoch"
    BATCH = "batch"
    D_LOSS_REAL = "d_loss_real"
    D_LOSS_FAKE = "d_loss_fake"
    D_LOSS = "d_loss"
    G_LOSS = "g_loss"
    D_ACC_REAL = "d_acc_real"
    D_ACC_FAKE = "d_acc_fake"
    D_ACC = "d_acc"
    D_REAL_PROB = "d_real_prob"
    D_FAKE_PROB = "d_fake_prob"


#: Roles that carry metric values (everything but the step/epoch/batch index).
METRIC_ROLES: tuple[Role, ...] = (
    Role.D_LOSS_REAL,
    Role.D_LOSS_FAKE,
    Role.D_LOSS,
    Role.G_LOSS,
    Role.D_ACC_REAL,
    Role.D_ACC_FAKE,
    Role.D_ACC,
    Role.D_REAL_PROB,
    Role.D_FAKE_PROB,
)
INDEX_ROLES: tuple[Role, ...] = (Role.STEP, Role.EPOCH, Role.BATCH)
LOSS_ROLES: tuple[Role, ...] = (Role.D_LOSS_REAL, Role.D_LOSS_FAKE, Role.D_LOSS, Role.G_LOSS)
ACC_ROLES: tuple[Role, ...] = (Role.D_ACC_REAL, Role.D_ACC_FAKE, Role.D_ACC)
PROB_ROLES: tuple[Role, ...] = (Role.D_REAL_PROB, Role.D_FAKE_PROB)


def normalize_name(name: str) -> str:
    """Fold a log name to the key used by the alias table.

    Lower-case, drop a trailing colon/percent sign, and turn every run of
    separators (space, ``_``, ``-``, ``.``, ``/``) into one ``_``.
    Parentheses are kept because ``D(x)`` and ``D(G(z))`` are names.

    >>> normalize_name("Loss_D")
    'loss_d'
    >>> normalize_name(" D loss ")
    'd_loss'
    >>> normalize_name("loss/discriminator")
    'loss_discriminator'
    """
    key = name.strip().lower().strip(":%").strip()
    key = re.sub(r"[\s_\-./]+", "_", key)
    return key.strip("_")


_ALIASES: dict[Role, tuple[str, ...]] = {
    Role.STEP: (
        "step", "steps", "iteration", "iter", "iters", "itr", "it", "global_step", "_step", "batch_step",
        "n_iter", "niter", "update", "updates",
        "progress/tick/mean",  # StyleGAN2-ADA / StyleGAN3 stats.jsonl: one line a tick
    ),
    Role.EPOCH: ("epoch", "epochs", "ep", "epoch_id"),
    Role.BATCH: ("batch", "batch_idx", "batch_index", "i_batch", "batch_id"),
    Role.D_LOSS_REAL: (
        "d1", "d_real", "d_loss_real", "d_loss1", "d_loss_1", "loss_d_real", "d_real_loss",
        "real_loss", "disc_loss_real", "disc_real_loss", "discriminator_loss_real",
        "loss_discriminator_real", "errd_real", "lossd_real", "d_loss_on_real",
    ),
    Role.D_LOSS_FAKE: (
        "d2", "d_fake", "d_loss_fake", "d_loss2", "d_loss_2", "loss_d_fake", "d_fake_loss",
        "fake_loss", "disc_loss_fake", "disc_fake_loss", "discriminator_loss_fake",
        "loss_discriminator_fake", "errd_fake", "lossd_fake", "d_loss_on_fake",
    ),
    Role.D_LOSS: (
        "d", "dis", "d_loss", "loss_d", "lossd", "disc_loss", "discriminator_loss",
        "loss_discriminator", "loss_disc", "errd", "discriminator", "d_total_loss",
        "d_loss_total", "critic_loss", "loss_critic", "c_loss", "train_d_loss",
        "train_loss_d", "train_disc_loss", "train_discriminator_loss",
        "loss/d/loss/mean",  # StyleGAN2-ADA / StyleGAN3 stats.jsonl (StyleGAN2Loss)
    ),
    Role.G_LOSS: (
        "g", "gen", "g_loss", "loss_g", "lossg", "gen_loss", "generator_loss",
        "loss_generator", "loss_gen", "errg", "generator", "g_total_loss",
        "train_g_loss", "train_loss_g", "train_gen_loss", "train_generator_loss",
        "loss/g/loss/mean",  # StyleGAN2-ADA / StyleGAN3 stats.jsonl
    ),
    Role.D_ACC_REAL: (
        "a1", "acc_real", "real_acc", "d_acc_real", "acc1", "d_acc1", "d_real_acc",
        "accuracy_real", "real_accuracy", "disc_acc_real", "d_accuracy_real",
    ),
    Role.D_ACC_FAKE: (
        "a2", "acc_fake", "fake_acc", "d_acc_fake", "acc2", "d_acc2", "d_fake_acc",
        "accuracy_fake", "fake_accuracy", "disc_acc_fake", "d_accuracy_fake",
    ),
    Role.D_ACC: (
        "a", "acc", "d_acc", "accuracy", "d_accuracy", "disc_acc", "discriminator_accuracy",
        "acc_d", "acc.",
    ),
    Role.D_REAL_PROB: ("d(x)", "d_x", "dx", "d_real_prob", "real_prob", "p_real", "d_real_score", "real_score"),
    Role.D_FAKE_PROB: (
        "d(g(z))", "d_g_z", "dgz", "d_fake_prob", "fake_prob", "p_fake", "d_fake_score",
        "fake_score", "d_g_z1", "d(g(z1))",
    ),
}

# The tutorial's plot labels use '-' ("d-real", "acc-real"), which normalise to
# the same keys as the underscore forms above; "gen"/"dis" are listed already.

ALIAS_TABLE: Mapping[str, Role] = {
    normalize_name(alias): role for role, aliases in _ALIASES.items() for alias in aliases
}


def resolve_role(name: str) -> Role | None:
    """Return the role a log name stands for, or ``None`` when it is unknown.

    >>> resolve_role("errD")
    <Role.D_LOSS: 'd_loss'>
    >>> resolve_role("d-real")
    <Role.D_LOSS_REAL: 'd_loss_real'>
    >>> resolve_role("lr") is None
    True
    """
    return ALIAS_TABLE.get(normalize_name(name))


def accepted_names(role: Role) -> tuple[str, ...]:
    """The alias spellings accepted for ``role`` (for error messages and docs)."""
    return _ALIASES[role]


def map_names(
    names: Iterable[str], overrides: Mapping[str, str] | None = None
) -> dict[Role, str]:
    """Map the names found in a log to roles.

    Parameters
    ----------
    names : iterable of str
        Column names, labels or tags as they appear in the log.
    overrides : mapping of role -> name, optional
        ``--column ROLE=NAME`` choices; they win over the alias table.

    Returns
    -------
    dict
        ``{role: original name}``. The first name in ``names`` that resolves
        to a role wins; later duplicates are ignored.
    """
    from gandiag.errors import UsageError

    names = list(names)
    found: dict[Role, str] = {}
    taken: set[str] = set()
    if overrides:
        by_norm = {normalize_name(n): n for n in names}
        for role_name, column in overrides.items():
            try:
                role = Role(role_name)
            except ValueError:
                valid = ", ".join(r.value for r in Role)
                raise UsageError(
                    f"unknown role '{role_name}' in --column {role_name}={column}",
                    hint=f"Use one of: {valid}",
                ) from None
            actual = column if column in names else by_norm.get(normalize_name(column))
            if actual is None:
                raise UsageError(
                    f"--column {role_name}={column}: no column or label '{column}' in the input",
                    hint="Found: " + ", ".join(names[:30]),
                )
            found[role] = actual
            taken.add(actual)
    for name in names:
        if name in taken:
            continue
        role = resolve_role(name)
        if role is not None and role not in found:
            found[role] = name
    return found


def parse_column_overrides(items: Iterable[str]) -> dict[str, str]:
    """Parse ``ROLE=NAME`` strings from the command line or configuration."""
    from gandiag.errors import UsageError

    out: dict[str, str] = {}
    for item in items:
        role, sep, name = item.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise UsageError(f"--column expects ROLE=NAME, got '{item}'", hint="For example --column g_loss=lossG")
        out[role.strip()] = name.strip()
    return out
