"""Typed, frozen description of a rule. Validation lives in :mod:`.loader`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gandiag.engine.findings import Severity, Verdict


class Op(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    BETWEEN = "between"  # value = [low, high], inclusive
    OUTSIDE = "outside"  # value = [low, high], exclusive


class Signal(StrEnum):
    """The closed set of signals a rule can ask for."""

    VALUE = "value"
    ROLLING_MEAN = "rolling_mean"
    ROLLING_MEDIAN = "rolling_median"
    ROLLING_STD = "rolling_std"
    ROLLING_CV = "rolling_cv"
    SATURATION = "saturation"
    NEAR_ZERO = "near_zero"
    TREND = "trend"
    OSCILLATION = "oscillation"
    SIGN_CHANGE_RATE = "sign_change_rate"
    NONFINITE = "nonfinite"
    SNAPSHOT = "snapshot"  # a per-snapshot statistic of generated samples


#: Parameters each signal accepts: name -> (type, default or None when required).
SIGNAL_PARAMS: dict[Signal, dict[str, tuple[type, object]]] = {
    Signal.VALUE: {},
    Signal.ROLLING_MEAN: {"window": (int, None)},
    Signal.ROLLING_MEDIAN: {"window": (int, None)},
    Signal.ROLLING_STD: {"window": (int, None)},
    Signal.ROLLING_CV: {"window": (int, None)},
    Signal.SATURATION: {"window": (int, None), "level": (float, 0.99)},
    Signal.NEAR_ZERO: {"window": (int, None), "level": (float, 0.05)},
    Signal.TREND: {"window": (int, None), "smooth": (int, 5)},
    Signal.OSCILLATION: {"window": (int, None), "long_window": (int, 0)},
    Signal.SIGN_CHANGE_RATE: {"window": (int, None)},
    Signal.NONFINITE: {},
    Signal.SNAPSHOT: {},
}


class Family(StrEnum):
    """Loss families a rule applies to; ``any`` for family-independent rules."""

    BCE = "bce"
    LSGAN = "lsgan"
    HINGE = "hinge"
    WGAN = "wgan"
    ANY = "any"


@dataclass(frozen=True)
class Condition:
    """``signal(series; params) op value``. A tuple of series means *any of those present*."""

    series: tuple[str, ...]
    signal: Signal
    params: tuple[tuple[str, object], ...]
    op: Op
    value: float | tuple[float, float]
    tune: tuple[float, float] | None = None  # the range a fitted threshold may take (``gandiag calibrate``)

    def param(self, name: str):
        return dict(self.params)[name]

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params)
        series = self.series[0] if len(self.series) == 1 else "|".join(self.series)
        call = f"{self.signal.value}({series}{', ' + args if args else ''})"
        if self.op in (Op.BETWEEN, Op.OUTSIDE):
            lo, hi = self.value  # type: ignore[misc]
            return f"{call} {self.op.value} [{lo:g}, {hi:g}]"
        return f"{call} {self.op.value} {self.value:g}"


@dataclass(frozen=True)
class Persistence:
    """How long and where a condition must hold.

    ``for_steps``: rows the condition must hold in a row before it fires
    (logged rows; steps when every step is logged). ``warmup_steps`` /
    ``warmup_fraction``: the erratic start that is never judged.
    ``settle_share``: share of the settled window (the run's final part) in
    which the condition must hold for the finding to be *active*; 0 means
    any episode anywhere makes it active (used for non-finite losses).
    ``for_snapshots`` plays the part of ``for_steps`` for sample rules.
    ``max_gap``: episodes separated by fewer rows than this are one episode
    (default ``for_steps``), so brief dips do not move the onset.
    """

    for_steps: int = 1
    warmup_steps: int = 0
    warmup_fraction: float = 0.0
    settle_share: float = 0.5
    for_snapshots: int = 1
    max_gap: int | None = None  # rows: episodes closer than this merge into one (default: for_steps)


@dataclass(frozen=True)
class RuleDocs:
    what: str
    why: str
    example: str
    fix: str


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    title: str
    severity: Severity
    supports: Verdict | None
    weight: float
    families: tuple[Family, ...]
    when: tuple[Condition, ...]
    persistence: Persistence
    message: str
    docs: RuleDocs
    path: str
    outcome_test: int | None = None  # the test of the outcome definition (docs/outcomes.md) this rule decides


    @property
    def series(self) -> tuple[str, ...]:
        out: list[str] = []
        for c in self.when:
            out.extend(s for s in c.series if s not in out)
        return tuple(out)

    @property
    def on_samples(self) -> bool:
        return any(c.signal is Signal.SNAPSHOT for c in self.when)
