"""Series signals: pure functions over a history's numpy arrays, no I/O, no state.

In: one series (a loss, an accuracy). Out: a series or a number the rules
compare with their thresholds (:mod:`.registry` names them for rule files).

Window-based signals are *causal* (the value at row ``t`` uses rows
``t - window + 1 .. t``) so that a live monitor computes the same numbers as
an offline analysis of the finished log.
"""
