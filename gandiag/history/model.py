"""The normalised training history every reader produces and every rule reads.

Readers return a :class:`RawTable` (names as found in the log, values as
floats); :func:`build_history` maps names to canonical roles through the alias
table, orders and de-duplicates steps, normalises accuracies given in percent
and returns a frozen :class:`RunHistory`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from gandiag.errors import InputError
from gandiag.history.roles import ACC_ROLES, LOSS_ROLES, METRIC_ROLES, PROB_ROLES, Role, accepted_names, map_names


class Reduction(StrEnum):
    """How a combined discriminator loss was reported."""

    MEAN = "mean"  # (real + fake) / 2: healthy about 0.5-0.8 per term (Keras, the tutorial)
    SUM = "sum"  # real + fake: healthy about 1.0-1.5 (PyTorch DCGAN example)


class LossFamily(StrEnum):
    """The adversarial loss a run used; the BCE heuristics apply to BCE only."""

    BCE = "bce"
    LSGAN = "lsgan"
    HINGE = "hinge"
    WGAN = "wgan"


#: Series computed from the canonical ones so rules work on any log layout.
DERIVED_SERIES: dict[str, str] = {
    "d_loss_term": "discriminator loss per term: mean of the real and fake terms, "
    "or the combined loss converted to a per-term value",
    "d_acc_mean": "discriminator accuracy: mean of real and fake accuracy, or the combined accuracy",
    "d_loss_worst": "discriminator loss per term, the larger of the real and fake terms (the combined loss "
    "per term when only that is logged): near 0 only when D separates both halves",
    "d_acc_worst": "discriminator accuracy, the lower of real and fake accuracy (or the combined accuracy)",
}

#: Every series name a rule may ask for.
SERIES_NAMES: tuple[str, ...] = tuple(r.value for r in METRIC_ROLES) + tuple(DERIVED_SERIES)


@dataclass(frozen=True)
class RawTable:
    """What a reader found, before names are mapped to roles.

    ``columns`` maps the names exactly as they appear in the log to float
    arrays of equal length (one entry per logged row; NaN where a row did not
    log that name). ``nonfinite`` marks entries whose logged value was itself
    NaN or infinite (evidence of divergence, not a missing value).
    """

    columns: Mapping[str, np.ndarray]
    source: str
    input_format: str
    nonfinite: Mapping[str, np.ndarray] = field(default_factory=dict)
    default_reduction: Reduction = Reduction.MEAN
    percent_names: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    notes: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunHistory:
    """A GAN training history on canonical series.

    Attributes
    ----------
    steps : ndarray of int64
        Completed generator updates, strictly increasing (1-based as the
        tutorial prints them).
    series : mapping of str -> ndarray of float64
        Canonical metric series (:class:`~gandiag.history.roles.Role` values), aligned
        with ``steps``; NaN where a step did not log the series.
    nonfinite : mapping of str -> ndarray of bool
        Where a logged value was NaN or infinite.
    epoch : ndarray or None
        Epoch of each step when the log gives it.
    columns : mapping of str -> str
        The original name behind each canonical series.
    d_loss_reduction : Reduction
        How ``d_loss`` (combined) was reported.
    """

    steps: np.ndarray
    series: Mapping[str, np.ndarray]
    source: str = "<memory>"
    input_format: str = "memory"
    nonfinite: Mapping[str, np.ndarray] = field(default_factory=dict)
    epoch: np.ndarray | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    d_loss_reduction: Reduction = Reduction.MEAN
    warnings: tuple[str, ...] = ()
    notes: Mapping[str, object] = field(default_factory=dict)
    #: whether each series holds a logged value, memoised (the arrays are not changed after construction)
    _presence: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def has(self, name: str) -> bool:
        """Whether ``name`` (canonical or derived) can be computed from this history."""
        if name in ("d_loss_worst", "d_acc_worst"):
            return self.has(name.replace("worst", "term" if "loss" in name else "mean"))
        if name == "d_loss_term":
            return self._present(Role.D_LOSS_REAL) and self._present(Role.D_LOSS_FAKE) or self._present(Role.D_LOSS)
        if name == "d_acc_mean":
            return self._present(Role.D_ACC_REAL) and self._present(Role.D_ACC_FAKE) or self._present(Role.D_ACC)
        return self._present(name)

    def _present(self, name: str) -> bool:
        key = str(name)
        hit = self._presence.get(key)
        if hit is None:
            values = self.series.get(key)
            hit = values is not None and values.size > 0 and not np.all(np.isnan(values) & ~self._nonfinite(name))
            self._presence[key] = hit
        return hit

    def _nonfinite(self, name: str) -> np.ndarray:
        mask = self.nonfinite.get(str(name))
        return mask if mask is not None else np.zeros(len(self), dtype=bool)

    def get(self, name: str) -> np.ndarray:
        """The values of a canonical or derived series (NaN where not logged).

        Raises ``KeyError`` when the series is absent; check :meth:`has` first.
        """
        if name == "d_loss_worst":
            if self._present(Role.D_LOSS_REAL) and self._present(Role.D_LOSS_FAKE):
                return np.fmax(self.series[Role.D_LOSS_REAL], self.series[Role.D_LOSS_FAKE])
            return self.get("d_loss_term")
        if name == "d_acc_worst":
            if self._present(Role.D_ACC_REAL) and self._present(Role.D_ACC_FAKE):
                return np.fmin(self.series[Role.D_ACC_REAL], self.series[Role.D_ACC_FAKE])
            return self.get("d_acc_mean")
        if name == "d_loss_term":
            if self._present(Role.D_LOSS_REAL) and self._present(Role.D_LOSS_FAKE):
                return (self.series[Role.D_LOSS_REAL] + self.series[Role.D_LOSS_FAKE]) / 2.0
            if self._present(Role.D_LOSS):
                d = self.series[Role.D_LOSS]
                return d / 2.0 if self.d_loss_reduction is Reduction.SUM else d
            raise KeyError(name)
        if name == "d_acc_mean":
            if self._present(Role.D_ACC_REAL) and self._present(Role.D_ACC_FAKE):
                return (self.series[Role.D_ACC_REAL] + self.series[Role.D_ACC_FAKE]) / 2.0
            if self._present(Role.D_ACC):
                return self.series[Role.D_ACC]
            raise KeyError(name)
        if not self._present(name):
            raise KeyError(name)
        return self.series[str(name)]

    def nonfinite_mask(self, name: str) -> np.ndarray:
        """Boolean mask of logged NaN/inf values of a canonical or derived series."""
        if name in ("d_loss_term", "d_loss_worst"):
            return self._nonfinite(Role.D_LOSS_REAL) | self._nonfinite(Role.D_LOSS_FAKE) | self._nonfinite(Role.D_LOSS)
        if name in ("d_acc_mean", "d_acc_worst"):
            return self._nonfinite(Role.D_ACC_REAL) | self._nonfinite(Role.D_ACC_FAKE) | self._nonfinite(Role.D_ACC)
        return self._nonfinite(name)

    @property
    def present(self) -> tuple[str, ...]:
        """Names of the canonical and derived series this history carries."""
        return tuple(n for n in SERIES_NAMES if self.has(n))

    @classmethod
    def from_arrays(
        cls,
        steps=None,
        *,
        source: str = "<memory>",
        d_loss_reduction: Reduction | str = Reduction.MEAN,
        **series,
    ) -> RunHistory:
        """Build a history from canonical arrays (for the API and tests).

        >>> h = RunHistory.from_arrays(g_loss=[1.0, 0.9, 1.1], d_loss=[0.6, 0.7, 0.6])
        >>> h.steps.tolist()
        [1, 2, 3]
        """
        columns = {k: np.asarray(v, dtype=float) for k, v in series.items()}
        if steps is not None:
            columns["step"] = np.asarray(steps, dtype=float)
        raw = RawTable(columns=columns, source=source, input_format="memory",
                       nonfinite={k: ~np.isfinite(v) for k, v in columns.items() if k != "step"},
                       default_reduction=Reduction(d_loss_reduction))
        return build_history(raw)


def _outside_unit_range(values: np.ndarray) -> int:
    """How many finite values lie outside [0, 1] (an accuracy or probability cannot)."""
    finite = values[np.isfinite(values)]
    return int(np.count_nonzero((finite < 0.0) | (finite > 1.0)))


def _looks_like_percent(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and float(finite.max()) > 1.5 and float(finite.min()) >= 0.0 and float(finite.max()) <= 100.0


def build_history(
    raw: RawTable,
    *,
    overrides: Mapping[str, str] | None = None,
    d_loss_reduction: Reduction | str | None = None,
) -> RunHistory:
    """Normalise a reader's :class:`RawTable` into a :class:`RunHistory`.

    - names go through the alias table (``overrides`` first);
    - without a step column, rows are numbered 1..n;
    - accuracies given in percent (any value above 1.5) are divided by 100;
      accuracies or probabilities still outside [0, 1] are kept with a warning;
    - unsorted steps are sorted and rows that share a step are merged (the
      last logged value wins), with a warning;
    - a run needs at least one loss series with a finite value.
    """
    names = list(raw.columns)
    mapping = map_names(names, overrides)
    metric_roles = [r for r in METRIC_ROLES if r in mapping]
    if not any(r in mapping for r in LOSS_ROLES):
        accepted = "; ".join(f"{r.value}: {', '.join(accepted_names(r)[:6])}" for r in LOSS_ROLES)
        raise InputError(
            "no recognisable loss column (found: " + (", ".join(names[:20]) or "none") + ")",
            where=raw.source,
            hint=f"Accepted names include {accepted}; or map one with --column g_loss=NAME",
        )
    warnings = list(raw.warnings)
    n = len(next(iter(raw.columns.values()))) if raw.columns else 0
    if n == 0:
        raise InputError("the log holds no data rows", where=raw.source, hint="Check that the run wrote its history")

    if Role.STEP in mapping:
        steps_f = np.asarray(raw.columns[mapping[Role.STEP]], dtype=float)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(steps_f) | (np.abs(steps_f) > 2.0**62)  # not a step counter an int64 can hold
        if bad.all():
            raise InputError(f"step column '{mapping[Role.STEP]}' has no numeric value", where=raw.source,
                             hint="Map another column with --column step=NAME")
        if bad.any():
            warnings.append(f"{int(bad.sum())} row(s) without a step were dropped")
    else:
        steps_f = np.arange(1, n + 1, dtype=float)
        bad = np.zeros(n, dtype=bool)

    values: dict[str, np.ndarray] = {}
    nonfinite: dict[str, np.ndarray] = {}
    for role in metric_roles:
        name = mapping[role]
        col = np.asarray(raw.columns[name], dtype=float)
        nf = raw.nonfinite.get(name)
        nf = np.zeros(n, dtype=bool) if nf is None else np.asarray(nf, dtype=bool)
        if role in ACC_ROLES or role in PROB_ROLES:
            if name in raw.percent_names or (role in ACC_ROLES and _looks_like_percent(col)):
                col = col / 100.0
            out_of_range = _outside_unit_range(col)
            if out_of_range:
                warnings.append(f"column '{name}' ({role.value}) has {out_of_range} value(s) outside 0-100% "
                                f"(from {np.nanmin(col[np.isfinite(col)]):.3g} to {np.nanmax(col[np.isfinite(col)]):.3g}): "
                                "not an accuracy or probability; check the log or map another column with --column")
        values[role.value] = col
        nonfinite[role.value] = nf
    epoch = None
    if Role.EPOCH in mapping:
        epoch = np.asarray(raw.columns[mapping[Role.EPOCH]], dtype=float)

    if bad.any():
        keep = ~bad
        steps_f = steps_f[keep]
        values = {k: v[keep] for k, v in values.items()}
        nonfinite = {k: v[keep] for k, v in nonfinite.items()}
        epoch = epoch[keep] if epoch is not None else None

    steps = steps_f.astype(np.int64)
    if steps.size > 1 and not bool(np.all(steps[1:] > steps[:-1])):
        steps, values, nonfinite, epoch, msg = _merge_steps(steps, values, nonfinite, epoch)
        warnings.append(msg)

    for role in metric_roles:
        if role in LOSS_ROLES and not np.isfinite(values[role.value]).any() and not nonfinite[role.value].any():
            raise InputError(f"loss column '{mapping[role]}' has no numeric value", where=raw.source,
                             hint="Check the column holds numbers, or map another one with --column")
    if not any(np.isfinite(values[r.value]).any() or nonfinite[r.value].any() for r in metric_roles if r in LOSS_ROLES):
        raise InputError("no loss column holds a value", where=raw.source, hint="Check the log")

    reduction = Reduction(d_loss_reduction) if d_loss_reduction else raw.default_reduction
    return RunHistory(
        steps=steps,
        series=values,
        source=raw.source,
        input_format=raw.input_format,
        nonfinite=nonfinite,
        epoch=epoch,
        columns={r.value: mapping[r] for r in mapping},
        d_loss_reduction=reduction,
        warnings=tuple(warnings),
        notes=dict(raw.notes),
    )


def _merge_steps(steps, values, nonfinite, epoch):
    """Sort by step and merge rows sharing a step (last logged value wins)."""
    order = np.argsort(steps, kind="stable")
    steps = steps[order]
    uniq, first = np.unique(steps, return_index=True)
    n_dup = steps.size - uniq.size
    out_v, out_nf = {}, {}
    # index of the last non-NaN entry per group, per series
    group = np.repeat(np.arange(uniq.size), np.diff(np.append(first, steps.size)))
    for key, col in values.items():
        col = col[order]
        nf = nonfinite[key][order]
        logged = ~np.isnan(col) | nf
        idx = np.where(logged, np.arange(col.size), -1)
        last = np.full(uniq.size, -1)
        np.maximum.at(last, group, idx)
        merged = np.full(uniq.size, np.nan)
        ok = last >= 0
        merged[ok] = col[last[ok]]
        out_v[key] = merged
        out_nf[key] = np.zeros(uniq.size, dtype=bool)
        out_nf[key][ok] = nf[last[ok]]
    if epoch is not None:
        epoch = epoch[order][first]
    unsorted = "sorted by step"
    msg = f"steps were not strictly increasing: {unsorted}"
    if n_dup:
        msg += f"; {n_dup} row(s) shared a step with another and were merged (the last logged value wins)"
    return uniq, out_v, out_nf, epoch, msg
