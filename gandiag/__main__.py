"""``python -m gandiag``: the command line, for when the ``gandiag`` script is not on PATH (the GitHub action)."""

from gandiag.cli import main

main()
