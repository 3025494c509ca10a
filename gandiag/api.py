"""The Python API: ``gandiag.analyze``, one run through every stage.

It wires the pipeline (rules loaded and selected, the run read and its samples
measured, the verdict judged and calibrated) and is imported by what is built
on it (live monitoring, CI workflows, the harness's demo, the CLI); no stage of
the pipeline imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gandiag.engine.loader import load_rules, select_rules
from gandiag.engine.model import Rule
from gandiag.errors import UsageError
from gandiag.history.model import RunHistory
from gandiag.verdict.diagnosis import Diagnosis
from gandiag.verdict.judge import DEFAULT_SETTLE_FRACTION, judge, prepare, probability_table


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
    scores: str | Path | bool | None = None,
    full_set: str = "auto",
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
    scores : path or False, optional
        A scores file from ``gandiag calibrate`` (fitted thresholds and the
        probability of each outcome per decision path); default the shipped
        ``rules/scores.toml``. ``False``: the rule files' own thresholds and
        the uncalibrated confidence.
    samples, real : path, optional
        Generated-sample snapshots (``samples.npz`` with ``step_<N>`` keys, a
        ``.npy``, a folder of PNGs, or the tutorial's grid PNGs with ``grid``)
        and a real reference. By default ``samples.npz`` / ``real.npz`` beside
        the history are used; ``no_samples=True`` turns that off.
    full_set : {'auto', 'exact', 'off'}
        When the last snapshot holds more than 2,000 samples (the verdict's subsample), also compute precision,
        recall, density and coverage on all of them against the whole reference (``auto``: approximate where
        that is faster; ``exact``: every pair). They are reported, not judged.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> import numpy as np, gandiag
    >>> XX n = 400
    >>> h = RunHistory.from_arrays(d_loss=np.r_[np.full(20, 0.6), np.full(n - 20, 0.001)],
    ...                            g_loss=np.linspace(1, 10, n))
    >>> d = gandiag.analyze(h)
    >>> d.verdict.value, d.onset_step is not None
    ('non_converged', True)
    """
    if not 0 < settle_fraction <= 1:
        raise UsageError(f"--settle-fraction must be in (0, 1], got {settle_fraction}")
    if rules is None:
        rules = load_rules(rule_paths, default_scores=False) if scores is False else load_rules(rule_paths, scores=scores)
    rules = select_rules(dict(rules), select=select, ignore=ignore)
    table = {} if scores is False else probability_table(scores)
    prepared = prepare(run, columns=columns, input_format=input_format, d_loss_reduction=d_loss_reduction,
                       loss=loss, settle_fraction=settle_fraction, samples=samples, real=real,
                       no_samples=no_samples, grid=grid, tile_shape=tile_shape, full_set=full_set)
    return judge(prepared, rules, table)
