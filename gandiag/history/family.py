"""Which adversarial loss a run used, told from its values, its logged names or its layout's codebase.

The BCE heuristics apply to binary cross-entropy only, so the family is part
of preparing a history: in comes a :class:`~gandiag.history.model.RunHistory`,
out comes a :class:`~gandiag.history.model.LossFamily` and the reason.
"""

from __future__ import annotations

import re

import numpy as np

from gandiag.history.model import LossFamily, RunHistory
from gandiag.history.roles import LOSS_ROLES

#: Words in a logged name that tell the loss family (checked in this order).
_FAMILY_WORDS: tuple[tuple[re.Pattern[str], LossFamily, str], ...] = (
    (re.compile(r"hinge", re.I), LossFamily.HINGE, "a hinge loss"),
    (re.compile(r"wgan|wasserstein|critic|disc_cost|gradient_penalty|(?:^|_)gp(?:$|_)", re.I), LossFamily.WGAN,
     "a Wasserstein critic"),
    (re.compile(r"lsgan|least_?squares|(?:^|_)mse(?:$|_)", re.I), LossFamily.LSGAN, "a least-squares loss"),
    (re.compile(r"softplus|logistic|(?:^|_)bce(?:$|_)|non_?sat|cross_?entropy", re.I), LossFamily.BCE,
     "a logistic (softplus, non-saturating) loss, binary cross-entropy on logits"),
    (re.compile(r"^Loss_[DG]_loss_mean$"), LossFamily.BCE,
     "StyleGAN2-ADA's or StyleGAN3's stats.jsonl, whose StyleGAN2Loss is the non-saturating logistic (softplus) loss"),
)
#: Part of the reason given when nothing tells the family (the monitor words its own assumption alike).
ASSUMED_BCE = "assumed binary cross-entropy"
#: What the reader adds when it looked for the family in the values, the names and the layout and found nothing;
#: the caveat of :func:`classify` applies only then (the live monitor looks at the values and the names too).
NOTHING_TELLS = "no name or layout tells the loss family"
ASSUMED_REASON = f"losses are non-negative and {NOTHING_TELLS} ({ASSUMED_BCE}; declare --loss-family otherwise)"


def family_from_names(history: RunHistory) -> tuple[LossFamily, str] | None:
    """The family a logged name (or the console layout's codebase) tells, or None."""
    notes = history.notes or {}
    names = list(history.columns.values()) + list((notes.get("original_names") or {}).values())
    for name in names:
        for pattern, family, what in _FAMILY_WORDS:
            if pattern.search(str(name).replace(" ", "_").replace("/", "_")):
                return family, f"the logged name {name!r} names {what}"
    declared = notes.get("loss_family")
    if declared:
        family, why = declared
        return LossFamily(family), f"{why} (the default of the {notes.get('layout')} layout's codebase)"
    return None


def detect_loss_family(history: RunHistory) -> tuple[LossFamily, str]:
    """The loss family the log shows: by its values, then its names, then its layout's default; else BCE, assumed.

    Negative values mean a WGAN or hinge critic (cross-entropy, LSGAN and
    hinge losses are never negative); a name such as ``loss_hinge_dis`` or
    ``disc_cost`` tells the family; a console layout whose codebase has one
    default loss says which. Otherwise BCE is *assumed* (the reason says so),
    and a verdict that rests on the discriminator's loss being near 0 says so
    and loses confidence (:func:`classify`). ``--loss-family`` declares it.
    """
    for role in LOSS_ROLES:
        if not history.has(role.value):
            continue
        v = history.get(role.value)
        v = v[np.isfinite(v)]
        if not v.size:  # every value non-finite (a diverged run): no sign to read
            continue
        # Cross-entropy is never negative, however small; a clipped WGAN critic's values can be tiny
        # (1e-4) and print as "-0.000" at 3 decimals, so the sign bit is the evidence.
        negative = float(np.mean(np.signbit(v)))
        if negative >= 0.05:
            return LossFamily.WGAN, (
                f"{role.value} is negative in {100 * negative:.0f}% of steps, "
                "which a binary cross-entropy loss cannot be: this looks like a Wasserstein or hinge critic"
            )
    named = family_from_names(history)
    if named is not None:
        return named
    return LossFamily.BCE, ASSUMED_REASON
