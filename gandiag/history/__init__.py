"""The run's history: the contract between the readers and everything after them.

In: a :class:`RawTable` (names as found in a log, values as floats) from a
reader. Out: a frozen :class:`RunHistory` whose series are named by canonical
role (:mod:`.roles`: ``errD``, ``Loss_D`` and ``d_loss`` all mean one thing),
steps ordered and de-duplicated, accuracies in [0, 1], and the loss family the
log shows (:mod:`.family`), which decides which rules apply.
"""

from gandiag.history.model import (
    DERIVED_SERIES,
    SERIES_NAMES,
    LossFamily,
    RawTable,
    Reduction,
    RunHistory,
    build_history,
)

__all__ = ["DERIVED_SERIES", "SERIES_NAMES", "LossFamily", "RawTable", "Reduction", "RunHistory", "build_history"]
