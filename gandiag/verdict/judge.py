"""Findings -> diagnosis for one run: read and measure it once (:func:`prepare`), judge it under any rule set.

In comes a run (a path or a :class:`~gandiag.history.RunHistory`) and a rule
set; out comes a :class:`~gandiag.verdict.diagnosis.Diagnosis` with its
calibrated confidence. ``gandiag.analyze`` is ``judge(prepare(run), rules)``;
``gandiag calibrate``, the accuracy benchmark and the live monitor call the
two halves themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gandiag.engine.evaluate import Axis, SignalCache, evaluate_rule, rule_applies, settle_start_at, step_interval
from gandiag.engine.findings import Finding, Severity, Status, Verdict
from gandiag.engine.model import Family, Rule
from gandiag.errors import UsageError
from gandiag.history.family import detect_loss_family
from gandiag.history.model import LossFamily, RunHistory
from gandiag.samples.table import SnapshotTable
from gandiag.verdict.diagnosis import Diagnosis, SettleWindow
from gandiag.verdict.outcome import classify

#: The final share of the run the verdict judges.
DEFAULT_SETTLE_FRACTION = 0.25

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def probability_table(scores: str | Path | None = None) -> Mapping:
    """The probability of each outcome per decision path, from ``scores`` or the shipped scores file."""
    from gandiag.engine.loader import default_scores_path

    path = Path(scores) if scores is not None else default_scores_path()
    if not path.is_file():
        return {}
    return _read_table(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _read_table(path: str, _mtime: int) -> Mapping:
    from gandiag.verdict.calibration import read_scores

    return read_scores(path).probabilities


@dataclass(frozen=True)
class Prepared:
    """Everything a verdict is computed from, before any rule runs: read once, judged by any rule set.

    ``gandiag calibrate`` and the accuracy benchmark judge one run with many
    rule sets; :func:`analyze` is ``judge(prepare(run), rules)``.
    """

    history: RunHistory
    family: LossFamily
    family_reason: str
    sample_inputs: object
    snaps: SnapshotTable | None
    snapshot_rows: tuple
    sample_notes: tuple[str, ...]
    settle_fraction: float

    @property
    def axis(self) -> Axis:
        steps = self.history.steps
        return Axis(steps=steps, settle_start=settle_start_at(steps, self.settle_fraction),
                    interval=step_interval(steps))

    @property
    def reference_judged(self) -> bool:
        """Whether a snapshot was compared with a real reference (else only the reference-free measures were)."""
        return any(r.get("n_real", 0) > 0 and r.get("insufficient_reference") != 1.0 and r.get("insufficient") != 1.0
                   for r in self.snapshot_rows)

    @property
    def snap_axis(self) -> Axis | None:
        if self.snaps is None:
            return None
        return Axis(steps=self.snaps.steps, settle_start=settle_start_at(self.snaps.steps, self.settle_fraction))


def prepare(
    run: str | Path | RunHistory,
    *,
    columns: Mapping[str, str] | None = None,
    input_format: str | None = None,
    d_loss_reduction: str | None = None,
    loss: str | None = None,
    settle_fraction: float = DEFAULT_SETTLE_FRACTION,
    samples: str | Path | None = None,
    real: str | Path | None = None,
    no_samples: bool = False,
    grid: tuple[int, int] | None = None,
    tile_shape: tuple[int, int] | None = None,
    full_set: str = "auto",
    no_real: bool = False,
) -> Prepared:
    """Read a run and measure its samples: the rule-independent half of :func:`analyze`.

    ``no_real`` ignores a ``real.npz`` beside the run (the calibration's view of a run judged without a reference).
    """
    if isinstance(run, RunHistory):
        history = run
    else:
        from gandiag.ingest import read_run

        history = read_run(run, input_format=input_format, columns=columns, d_loss_reduction=d_loss_reduction)
    if loss:
        try:
            family = LossFamily(loss)
        except ValueError:
            raise UsageError(f"unknown loss family '{loss}'", hint="Use bce, lsgan, hinge or wgan") from None
        family_reason = f"declared with --loss {family.value}"
    else:
        family, family_reason = detect_loss_family(history)

    from gandiag.samples.evidence import discover, snapshot_table

    source_path = run if not isinstance(run, RunHistory) else None
    if source_path is None and samples is None:
        no_samples = True
    sample_inputs = discover(source_path or ".", samples=samples, real=real, no_samples=no_samples,
                             grid=grid, tile_shape=tile_shape, full_set=full_set, no_real=no_real)
    snaps, snapshot_rows, sample_notes = snapshot_table(
        sample_inputs, last_step=int(history.steps[-1]) if len(history) else None)
    return Prepared(history, family, family_reason, sample_inputs, snaps, tuple(snapshot_rows),
                    tuple(sample_notes), settle_fraction)


def evaluate(prepared: Prepared, rules: Mapping[str, Rule],
             omitted: dict[str, int] | None = None) -> tuple[list[Finding], list[tuple[str, str]], int, bool]:
    """Run ``rules`` on a prepared run: ``(findings, skipped (code, why), rules judged, samples judged)``.

    Recovered episodes counted but not described are added to ``omitted`` (per rule) when it is given.
    """
    history, family, snaps = prepared.history, prepared.family, prepared.snaps
    axis, snap_axis = prepared.axis, prepared.snap_axis
    cache = SignalCache(history, snaps, interval=axis.interval)
    findings: list[Finding] = []
    skipped: list[tuple[str, str]] = []
    judged = 0
    samples_judged = False
    for code, rule in rules.items():
        if Family.ANY not in rule.families and Family(family.value) not in rule.families:
            skipped.append((code, f"applies to {', '.join(f.value for f in rule.families)} losses, not {family.value}"))
            continue
        why = rule_applies(rule, history, snaps)
        if why:
            skipped.append((code, why))
            continue
        judged += 1
        samples_judged |= rule.on_samples
        findings.extend(evaluate_rule(rule, cache, snap_axis if rule.on_samples else axis, omitted))
    return findings, skipped, judged, samples_judged


def judge(prepared: Prepared, rules: Mapping[str, Rule], table: Mapping | None = None) -> Diagnosis:
    """The diagnosis of a prepared run under ``rules`` (already selected).

    With a probability ``table`` (:func:`probability_table`), the confidence
    is the calibrated probability of the verdict on its decision path and the
    diagnosis carries the probability of each outcome.
    """
    history, family, family_reason = prepared.history, prepared.family, prepared.family_reason
    omitted: dict[str, int] = {}
    findings, skipped, judged, samples_judged = evaluate(prepared, rules, omitted)
    verdict, confidence, onset, reason = classify(
        history, findings, family=family, family_reason=family_reason, judged_rules=judged,
        samples_judged=samples_judged, reference_judged=prepared.reference_judged,
    )
    from gandiag.verdict.calibration import UNCALIBRATED_REASON, calibration_applies, confidence_of, decision_path

    probabilities: dict[str, float] = {}
    path = decision_path(findings, samples_judged=samples_judged, verdict=verdict.value,
                         reference=prepared.reference_judged)
    unjudged = any(rules[code].outcome_test == 2 and not why.startswith("applies to")
                   for code, why in skipped if code in rules)
    applies = calibration_applies(verdict.value, path, test2_unjudged=unjudged)
    if not applies:
        reason += UNCALIBRATED_REASON
    if table and verdict is not Verdict.INCONCLUSIVE and applies:
        calibrated = confidence_of(verdict.value, path, table)
        if calibrated is not None:
            confidence, probabilities = round(calibrated[0], 3), calibrated[1]
            entry = table[path]
            if verdict is Verdict.STABLE and not samples_judged:
                failed = entry.counts.get("mode_collapse", 0) + entry.counts.get("non_converged", 0)
                reason += (f"; losses alone cannot rule out a quiet collapse or non-convergence: {failed} of "
                           f"{entry.runs} corpus runs judged this way from their losses failed")
            elif verdict is Verdict.STABLE and not prepared.reference_judged:
                failed = entry.counts.get("mode_collapse", 0) + entry.counts.get("non_converged", 0)
                reason += (f"; {failed} of {entry.runs} corpus runs judged this way without their reference failed "
                           f"(give one with --real)")
    # the rules of the test that decided come first (the report's top finding is the reason for the verdict)
    decided = int(path.rsplit("/test", 1)[1]) if "/test" in path else None
    findings.sort(key=lambda f: (f.status is not Status.ACTIVE, _SEVERITY_ORDER[f.severity],
                                 decided is None or f.outcome_test != decided, f.onset_step, f.rule))
    n = len(history)
    s0 = prepared.axis.settle_start
    sample_inputs, settle_fraction = prepared.sample_inputs, prepared.settle_fraction
    window = SettleWindow(int(history.steps[s0]), int(history.steps[-1]), settle_fraction) if n else None
    return Diagnosis(
        source=history.source,
        verdict=verdict,
        confidence=confidence,
        onset_step=onset,
        reason=reason,
        findings=tuple(findings),
        skipped_rules=tuple(skipped),
        warnings=tuple(history.warnings) + tuple(prepared.sample_notes),
        settle_window=window,
        inputs={"history": history.source, "format": history.input_format,
                "columns": dict(history.columns), "d_loss_reduction": history.d_loss_reduction.value,
                "samples": str(sample_inputs.samples) if sample_inputs.samples else None,
                "real": str(sample_inputs.real) if sample_inputs.real else None,
                "grid": list(sample_inputs.grid) if sample_inputs.grid else None},
        snapshots=tuple(prepared.snapshot_rows),
        loss_family=family.value,
        n_steps=n,
        probabilities=probabilities,
        decision_path=path,
        episodes_omitted=omitted,
    )
