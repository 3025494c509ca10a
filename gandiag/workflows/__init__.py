"""What CI calls: many runs at once, comparison with a baseline, recorded-fixture regression checks.

Built on :func:`gandiag.api.analyze`: :mod:`.batch` (folders of runs, ``--jobs``,
Dask), :mod:`.baseline` (only new failures fail a merge), :mod:`.verify`
(``gandiag verify`` against a manifest of expected verdicts).
"""
