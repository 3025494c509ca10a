"""The Python API: ``gandiag.analyze``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .classify import classify, detect_loss_family
from .engine.evaluate import Axis, SignalCache, evaluate_rule, rule_applies, settle_start
from .engine.loader import load_rules, select_rules
from .engine.model import Family, Rule
from .errors import UsageError
from .findings import Diagnosis, Finding, Severity, SettleWindow, Status
from .history import LossFamily, RunHistory

DEFAULT_SETTLE_FRACTION = 0.25

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def analyze(
    run: str | Path | RunHistory,
    *,
    rules: Mapping[str, Rule] | None = None,
    rule_paths: Sequence[str | Path] = (),
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
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
) -> Diagnosis:
    """Diagnose one GAN training run.

    Parameters
    ----------
    run : path or RunHistory
        A history file (CSV, console log, JSONL, TensorBoard), a run folder, or
        an already-read :class:`~gandiag.history.RunHistory`.
    rules : mapping, optional
        Pre-loaded rules (``load_rules()``); by default the shipped rules plus ``rule_paths``.
    select, ignore : sequence of str
        Rule codes or prefixes (``GD1``) to keep or drop.
    columns : mapping of role -> name, optional
        Overrides of the alias table.
    loss : {'bce', 'lsgan', 'hinge', 'wgan'}, optional
        Declare the loss family instead of detecting it.
    settle_fraction : float
        The final share of the run the verdict judges (default 0.25).
    samples, real : path, optional
        Generated-sample snapshots (``samples.npz`` with ``step_<N>`` keys, a
        ``.npy``, a folder of PNGs, or the tutorial's grid PNGs with ``grid``)
        and a real reference. By default ``samples.npz`` / ``real.npz`` beside
        the history are used; ``no_samples=True`` turns that off.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> import numpy as np, gandiag
    >>> from gandiag.history import RunHistory
    >>> n = 400
    >>> h = RunHistory.from_arrays(d_loss=np.r_[np.full(20, 0.6), np.full(n - 20, 0.001)],
    ...                            g_loss=np.linspace(1, 10, n))
    >>> d = gandiag.analyze(h)
    >>> d.verdict.value, d.onset_step is not None
    ('non_converged', True)
    """
    if not 0 < settle_fraction <= 1:
        raise UsageError(f"--settle-fraction must be in (0, 1], got {settle_fraction}")
    if isinstance(run, RunHistory):
        history = run
    else:
        from .ingest import read_run

        history = read_run(run, input_format=input_format, columns=columns, d_loss_reduction=d_loss_reduction)
    if rules is None:
        rules = load_rules(rule_paths)
    rules = select_rules(dict(rules), select=select, ignore=ignore)

    if loss:
        try:
            family = LossFamily(loss)
        except ValueError:
            raise UsageError(f"unknown loss family '{loss}'", hint="Use bce, lsgan, hinge or wgan") from None
        family_reason = f"declared with --loss {family.value}"
    else:
        family, family_reason = detect_loss_family(history)

    from .sampling import discover, snapshot_table

    source_path = run if not isinstance(run, RunHistory) else None
    if source_path is None and samples is None:
        no_samples = True
    sample_inputs = discover(source_path or ".", samples=samples, real=real, no_samples=no_samples,
                             grid=grid, tile_shape=tile_shape)
    snaps, snapshot_rows, sample_notes = snapshot_table(
        sample_inputs, last_step=int(history.steps[-1]) if len(history) else None)

    n = len(history)
    axis = Axis(steps=history.steps, settle_start=settle_start(n, settle_fraction))
    snap_axis = None if snaps is None else Axis(steps=snaps.steps, settle_start=settle_start(snaps.steps.size, settle_fraction))
    cache = SignalCache(history, snaps)
    findings: list[Finding] = []
    skipped: list[tuple[str, str]] = []
    judged = 0
    for code, rule in rules.items():
        if Family.ANY not in rule.families and Family(family.value) not in rule.families:
            skipped.append((code, f"applies to {', '.join(f.value for f in rule.families)} losses, not {family.value}"))
            continue
        why = rule_applies(rule, history, snaps)
        if why:
            skipped.append((code, why))
            continue
        judged += 1
        findings.extend(evaluate_rule(rule, cache, snap_axis if rule.on_samples else axis))

    verdict, confidence, onset, reason = classify(
        history, findings, family=family, family_reason=family_reason, judged_rules=judged
    )
    findings.sort(key=lambda f: (f.status is not Status.ACTIVE, _SEVERITY_ORDER[f.severity], f.onset_step, f.rule))
    s0 = axis.settle_start
    window = SettleWindow(int(history.steps[s0]), int(history.steps[-1]), settle_fraction) if n else None
    return Diagnosis(
        source=history.source,
        verdict=verdict,
        confidence=confidence,
        onset_step=onset,
        reason=reason,
        findings=tuple(findings),
        skipped_rules=tuple(skipped),
        warnings=tuple(history.warnings) + tuple(sample_notes),
        settle_window=window,
        inputs={"history": history.source, "format": history.input_format,
                "columns": dict(history.columns), "d_loss_reduction": history.d_loss_reduction.value,
                "samples": str(sample_inputs.samples) if sample_inputs.samples else None,
                "real": str(sample_inputs.real) if sample_inputs.real else None},
        snapshots=tuple(snapshot_rows),
        loss_family=family.value,
        n_steps=n,
    )
