"""What the sample rules read, at the scale they judged it, beside the limits they applied.

One panel per statistic a sample rule reads (``near``, ``reach``, the spread,
near-duplicates, NDB): the generated samples' value per snapshot, the
real-vs-real value at the same sample size with its band (two standard errors
of a share at that size), and each rule's limit as the rule applied it (a
ratio rule such as GD302 ``near_ratio < 0.65`` is drawn at 0.65 times the
real-vs-real value). ``near`` and ``reach`` are measured at the data's
structure scale (:func:`gandiag.samples.compare.structure_scale`), the scale
the verdict used, and the panel says which distance that was. Snapshots where
a failure limit held are drawn in red; the settled snapshots (the ones the
rules judge) are shaded. What cannot be drawn is said in words: without a
reference only the near-duplicate share is judged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gandiag.engine.model import Op, Rule, Signal
from gandiag.report import canvas

NO_REFERENCE = "no reference: pass --real to compare with the data"
#: inches: the figure's width, a panel's height, the room between panels and around them (legends on the right)
WIDTH, PANEL_HEIGHT, GAP, LEFT, RIGHT, TOP, BOTTOM = 10.5, 1.9, 0.5, 0.75, 3.0, 0.9, 0.55
LIMIT_COLOURS = {"error": "tab:red", "warning": "tab:orange", "info": "tab:green"}
HELD_COLOUR = "tab:red"
VALUE_COLOUR = "tab:blue"


@dataclass(frozen=True)
class Limit:
    """One condition of a sample rule, as the loaded rule set holds it (fitted thresholds included)."""

    code: str
    name: str
    series: str
    op: str
    value: float
    severity: str

    def holds(self, observed: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return {"<": observed < self.value, "<=": observed <= self.value, ">": observed > self.value,
                    ">=": observed >= self.value}[self.op]


def sample_limits(rules: Mapping[str, Rule]) -> list[Limit]:
    """The thresholds the sample rules of ``rules`` compare their statistics with."""
    out = []
    for code, rule in rules.items():
        for c in rule.when:
            if c.signal is Signal.SNAPSHOT and c.op in (Op.LT, Op.LE, Op.GT, Op.GE):
                out.extend(Limit(code, rule.name, series, c.op.value, float(c.value), rule.severity.value)  # type: ignore[arg-type]
                           for series in c.series)
    return out


@dataclass(frozen=True)
class Panel:
    """A statistic as drawn: ``key`` per snapshot, its real-vs-real ``ref``, and how the rules' ``series`` is made
    of them (``ratio``: key / ref, ``excess``: key - ref, ``same``: key itself)."""

    key: str
    ref: str | None
    series: str
    how: str
    title: str
    needs_reference: bool
    share: bool = True


PANELS = (
    Panel("near", "near_ref", "near_ratio", "ratio",
          "near the data: share of generated samples within {near_scale} of a real sample (the data's structure "
          "scale)", True),
    Panel("reach", "reach_ref", "reach_ratio", "ratio",
          "reach: share of real samples with a generated sample within {near_scale}", True),
    Panel("mpd_ratio", "mpd_ratio_ref", "mpd_ratio", "same",
          "spread: mean pairwise distance of the samples over the real data's", True, share=False),
    Panel("dup_share", "dup_share_ref", "dup_share", "same",
          "near-duplicates: share of generated samples with another closer than {dup_threshold}", False),
    Panel("ndb", "ndb_ref", "ndb_excess", "excess",
          "bins off (NDB): share of k-means bins of the real data holding a different share of samples", True),
    Panel("nonfinite_share", None, "nonfinite_share", "same", "non-finite: share of samples holding NaN or inf",
          False),
    # measured only without a reference, and only for images (GD308)
    Panel("nn_spread", None, "nn_spread", "same",
          "few distinct images: median nearest-neighbour distance among them over their mean pairwise distance",
          False, share=False),
)


def _column(rows: Sequence[Mapping[str, Any]], key: str | None) -> np.ndarray:
    if key is None:
        return np.full(len(rows), np.nan)
    return np.array([float(r.get(key, np.nan)) for r in rows], dtype=np.float64)


def _last_finite(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


def _drawn(panel: Panel, limits: Sequence[Limit], rows: Sequence[Mapping[str, Any]]) -> bool:
    if not any(lim.series == panel.series for lim in limits):
        return False
    if panel.key == "nonfinite_share":
        return bool(np.nanmax(np.r_[_column(rows, panel.key), 0.0]) > 0)
    if panel.key == "nn_spread":
        return bool(np.isfinite(_column(rows, panel.key)).any())
    return True


def plot_sample_rules(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], *, limits: Sequence[Limit],
                      heading: str | None = None, onset_step: int | None = None,
                      settle_from: int | None = None) -> Path:
    """The statistics the sample rules read per snapshot, against the rules' limits and the real-vs-real band.

    ``settle_from``: the first snapshot step of the settled window the rules judge (shaded).
    """
    plt = canvas.pyplot()
    rows = list(rows)
    steps = _column(rows, "step")
    with_reference = bool(np.isfinite(_column(rows, "near")).any())
    panels = [p for p in PANELS if _drawn(p, limits, rows) and (with_reference or not p.needs_reference)]
    missing = [p for p in PANELS if _drawn(p, limits, rows) and p.needs_reference and not with_reference]
    noted = bool(missing or not panels)
    heights = ([0.7] if noted else []) + [PANEL_HEIGHT] * len(panels)
    total = TOP + sum(heights) + GAP * (len(heights) - 1) + BOTTOM
    fig, axes = plt.subplots(len(heights), 1, figsize=(WIDTH, total), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    # a fixed layout: a constrained one costs a third of the figure's time
    fig.subplots_adjust(left=LEFT / WIDTH, right=1 - RIGHT / WIDTH, top=1 - TOP / total, bottom=BOTTOM / total,
                        hspace=GAP / (sum(heights) / len(heights)))
    axes = list(axes[:, 0])
    if noted:  # what is missing goes first, in words, on a panel of its own (not sharing the step axis)
        names = ", ".join(p.key.split("_")[0].replace("mpd", "spread").replace("ndb", "NDB") for p in missing)
        why = (f"{NO_REFERENCE}\n({names} compare the samples with real data)" if missing
               else "no sample rule read these snapshots (too few samples, or --select left them out)")
        canvas.note(axes.pop(0), why)
    for i, (ax, panel) in enumerate(zip(axes, panels)):
        if i:
            ax.sharex(axes[0])
        if i < len(axes) - 1:
            ax.tick_params(labelbottom=False)
        _draw_panel(ax, panel, rows, steps, limits, onset_step, settle_from, common=i == 0)
    if axes:
        axes[-1].set_xlabel("step")
    if heading:
        fig.suptitle(heading)
    return canvas.save(plt, fig, path)


def _limit_values(panel: Panel, limit: Limit, ref: np.ndarray) -> np.ndarray:
    if panel.how == "ratio":
        return limit.value * ref
    if panel.how == "excess":
        return ref + limit.value
    return np.full(ref.shape, limit.value)


def _limit_label(panel: Panel, limit: Limit) -> str:
    scale = {"ratio": " x real-vs-real", "excess": " + real-vs-real"}.get(panel.how, "")
    return f"{limit.code} {limit.series} {limit.op} {limit.value:g}{scale}"


def _draw_panel(ax: Any, panel: Panel, rows: Sequence[Mapping[str, Any]], steps: np.ndarray,
                limits: Sequence[Limit], onset_step: int | None, settle_from: int | None, *, common: bool) -> None:
    """One statistic; the legend of the first panel also names what every panel shares (``common``)."""

    def shared(label: str) -> str:
        return label if common else "_nolegend_"

    values, ref = _column(rows, panel.key), _column(rows, panel.ref)
    scale = {k: f"{v:.3g}" for k in ("near_scale", "dup_threshold") if (v := _last_finite(_column(rows, k))) is not None}
    scale = {"near_scale": "the structure scale", "dup_threshold": "the duplicate distance", **scale}
    ax.set_title(panel.title.format(**scale), loc="left", fontsize="small")
    if settle_from is not None:
        ax.axvspan(settle_from, steps[-1], color="0.93", zorder=0, label=shared("settled snapshots (judged)"))
    if np.isfinite(ref).any():
        ax.plot(steps, ref, color="0.35", linewidth=1.0, label=shared("real vs real"))
        if panel.share:
            m = _column(rows, "n_used")
            band = 2 * np.sqrt(np.clip(ref * (1 - ref), 0, None) / np.where(m > 0, m, np.nan))
            ax.fill_between(steps, ref - band, ref + band, color="0.6", alpha=0.25, linewidth=0,
                            label=shared("real vs real +- 2 s.e."))
    series = {"ratio": values / np.where(ref > 0, ref, np.nan), "excess": values - ref}.get(panel.how, values)
    held = np.zeros(len(rows), dtype=bool)
    for limit in (lim for lim in limits if lim.series == panel.series):
        style = ":" if limit.severity == "info" else "--"
        ax.plot(steps, _limit_values(panel, limit, ref), style, color=LIMIT_COLOURS.get(limit.severity, "tab:red"),
                linewidth=1.3, label=_limit_label(panel, limit))
        if limit.severity != "info":
            held |= limit.holds(series)
    ax.plot(steps, values, "-o", color=VALUE_COLOUR, markersize=3.5, linewidth=1.0, label=shared("generated samples"))
    ax.plot(steps[held], values[held], "o", color=HELD_COLOUR, markersize=5,
            label=shared("where a failure limit held"))
    if onset_step is not None:
        ax.axvline(onset_step, color="black", linestyle="--", linewidth=1.0, label=shared(f"onset (step {onset_step})"))
    top = np.nanmax(np.r_[values, ref, 1.0]) if np.isfinite(np.r_[values, ref]).any() else 1.0
    ax.set_ylim(-0.03, 1.03 if panel.share else max(1.2, float(top) * 1.1))
    ax.set_ylabel("share" if panel.share else "ratio")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small", borderaxespad=0.0)
