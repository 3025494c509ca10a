"""The ground-truth corpus tools: the oracle that labels runs and the script that makes the corpus.

Not part of the installed analyzer (the wheel ships ``gandiag/`` only): these
modules use what the analyzer never has -- the known geometry of each data
family, a classifier trained on the digits, the run's configuration for
naming -- to say what a run's outcome really was, so that the analyzer can be
measured against it. See ``fixtures/corpus/README.md``.
"""
