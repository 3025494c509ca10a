"""Ground floor: what every stage uses and nothing stage-specific.

Resource limits (:mod:`.limits`), the guard that turns one run's failure into
a one-line error (:mod:`.guard`), bounded and gzip-aware file reading
(:mod:`.files`), atomic output files (:mod:`.outputs`), appending to ``.npz``
archives in place (:mod:`.npzappend`) and a terminal progress bar
(:mod:`.progress`). Imports nothing of gandiag but :mod:`gandiag.errors`.
"""
