"""Pure functions over numpy arrays: no I/O, no state.

Window-based signals are *causal* (the value at row ``t`` uses rows
``t - window + 1 .. t``) so that a live monitor computes the same numbers as
an offline analysis of the finished log.
"""
