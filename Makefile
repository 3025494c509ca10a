# The README's two commands: `make demo` (train + diagnose on embedded data) and `make test`.
# Each creates its own virtual environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.gandiag-installed

.PHONY: demo test test-fast lint bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[train,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gandiag demo --out demo-out

# pytest-xdist: the suite in as many processes as the machine has cores (on 2 cores 3.2 min instead of 5.3)
test: $(STAMP)
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# the fast loop: no training, no corpus-wide or real-size tests (tests/conftest.py, SLOW), ~64 s on 2 cores
test-fast: $(STAMP)
	$(PY) -m pytest -q -n auto -m "not train and not slow"

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[train,dev,bench]'
	$(PY) benchmarks/analyze_speed.py
	$(PY) benchmarks/diversity_speed.py
	$(PY) benchmarks/diversity_scale.py
	$(PY) benchmarks/harness_speed.py
	$(PY) benchmarks/many_runs.py
	$(PY) benchmarks/monitor_speed.py
	$(PY) benchmarks/monitor_replay.py
	$(PY) benchmarks/watch_speed.py
	$(PY) benchmarks/hostile_inputs.py
	$(PY) benchmarks/console_speed.py
	$(PY) benchmarks/snapshot_cost.py
	$(PY) benchmarks/report_speed.py
	$(PY) benchmarks/live_view_cost.py
	$(PY) benchmarks/accuracy.py
# benchmarks/report_pages.py needs a Chromium (apt-get install chromium): run it on its own

clean:
	rm -rf $(VENV) demo-out .pytest_cache
