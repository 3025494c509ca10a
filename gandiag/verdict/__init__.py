"""The verdict: findings -> outcome (the outcome definition's tests, in order), calibrated confidence.

In: the findings of the rule engine on a prepared run. Out: a
:class:`~gandiag.verdict.diagnosis.Diagnosis` -- stable, mode_collapse,
non_converged or inconclusive -- with its onset step, the reason, and the
probability of each outcome on its decision path.

- :mod:`.outcome`: the tests of docs/outcomes.md applied in order;
- :mod:`.judge`: one run read and measured once (``prepare``), judged under any rule set (``judge``);
- :mod:`.calibration`: decision paths, the probability table, the scores file;
- :mod:`.fit`, :mod:`.metrics`: fitting thresholds and probabilities on a labelled corpus, and scoring it.
"""
