"""The monitor's options checked up front: a bad value fails at construction with what to pass instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from gandiag.errors import UsageError
from gandiag.history.model import (
    LossFamily,
)
from gandiag.history.roles import Role


def declared_family(loss: str | None) -> tuple[LossFamily | None, str]:
    if not loss:
        return None, ""
    try:
        return LossFamily(loss), f"declared with --loss {loss}"
    except ValueError:
        raise UsageError(f"unknown loss family '{loss}'", hint="Use bce, lsgan, hinge or wgan") from None


def check_roles(overrides: Mapping[str, str]) -> None:
    for role in overrides.values():
        try:
            Role(role)
        except ValueError:
            raise UsageError(f"unknown role '{role}' in columns",
                             hint="Use one of: " + ", ".join(r.value for r in Role)) from None


def check_options(settle: float, planned: int | None, min_steps: int, min_fraction: float, patience: int,
                   every: int) -> None:
    problems = []
    if not 0 < settle <= 1:
        problems.append(f"settle must be in (0, 1], got {settle}")
    if planned is not None and planned < 1:
        problems.append(f"planned_steps must be >= 1, got {planned}")
    if min_steps < 0:
        problems.append(f"min_steps must be >= 0, got {min_steps}")
    if not 0 <= min_fraction <= 1:
        problems.append(f"min_fraction must be in [0, 1], got {min_fraction}")
    if patience < 0:
        problems.append(f"patience must be >= 0, got {patience}")
    if every < 1:
        problems.append(f"every must be >= 1, got {every}")
    if problems:
        raise UsageError("invalid monitor options: " + "; ".join(problems))
