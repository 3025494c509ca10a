"""The recorded fixture runs the monitor tests replay (a module of its own: `from conftest import` would pick up
whichever conftest.py was imported first when several test folders are collected together)."""

import os

FIXTURE_RUNS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "fixtures", "runs")
RUNS = sorted(d for d in os.listdir(FIXTURE_RUNS) if os.path.isdir(os.path.join(FIXTURE_RUNS, d)))
