"""The GAN failure-modes tutorial as people run it: its console log and its 10x10 `generated_plot_NNN.png` grids.

`fixtures/tutorial/` holds real runs of `examples/tutorial/tutorial_gan.py` (the tutorial's three scripts ported to
Keras 3 on scikit-learn's eights), three seeds each, exactly as the script writes them: `<experiment>.log` (its
`>N, d1=..., d2=... g=..., a1=..., a2=...` lines) and `results_<experiment>/` (a grid every 50 steps, the loss plot
beside them; `python -m corpus.tutorial record`). Each must get the oracle's label (`manifest.json`, `python -m
corpus.tutorial label`: test 2 on the printed losses, the other tests on the grids' tiles against the known eights)
from what a user has: the log, the grids, and the real eights. The experiments' names are not labels: on 174 8x8
eights the port's `stable` and `convergence` runs collapse onto one eight within 50 steps (the oracle agrees).

The slow test re-runs the port itself (about 2 minutes per run on 2 cores): `GANDIAG_RUN_SLOW=1 pytest -m slow
tests/test_tutorial.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gandiag

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "fixtures" / "tutorial"
PORT = ROOT / "examples" / "tutorial" / "tutorial_gan.py"
EXPERIMENTS = ("stable", "collapse", "convergence")  # names of the port's experiments, not labels
LABELS = ({r["id"]: r for r in json.loads((TUTORIAL / "manifest.json").read_text())["runs"]}
          if (TUTORIAL / "manifest.json").is_file() else {})
RUNS = sorted(LABELS)


#: Onsets that differ from the oracle's, and why (checked, so that a fix shows up here).
KNOWN_ONSETS = {
    # the samples vary more at the grids of steps 300 and 400 (spread 0.39 and 0.37 of the data's, 54% and 67%
    # with a near-duplicate): the oracle ignores single-snapshot blips, the rules' episode restarts after them
    "convergence-s0": (450, 50),
}


def diagnose(folder: Path, experiment: str):
    return gandiag.analyze(folder / f"{experiment}.log", samples=folder / f"results_{experiment}",
                           grid=(10, 10), real=TUTORIAL / "real.npy")


def test_three_experiments_three_seeds_are_recorded_and_labelled():
    folders = sorted(p.name for p in TUTORIAL.glob("*-s*") if p.is_dir())
    assert folders == RUNS
    assert all(sum(r.startswith(e + "-") for r in RUNS) >= 3 for e in EXPERIMENTS), RUNS


@pytest.mark.parametrize("run", RUNS)
def test_the_oracles_verdict_from_the_log_and_grids(run):
    experiment = run.rsplit("-s", 1)[0]
    d = diagnose(TUTORIAL / run, experiment)
    truth = LABELS[run]
    assert d.verdict.value == truth["oracle_label"], (run, d.verdict, d.reason)
    assert len(d.snapshots) == 10  # every grid judged; the loss plot beside them is not a grid
    if truth["oracle_label"] != "stable":
        assert d.confidence >= 0.8
        assert (d.onset_step, truth["oracle_onset_step"]) == KNOWN_ONSETS.get(run, (truth["oracle_onset_step"],) * 2)



def test_a_grid_of_one_repeated_eight_is_not_stable_from_the_log_and_grids_but_may_be_from_the_log_alone():
    # The headline case: the grids show the same eight repeated; the log alone cannot show it.
    run = next(r for r in RUNS if r.startswith("collapse-"))
    with_grids = diagnose(TUTORIAL / run, "collapse")
    alone = gandiag.analyze(TUTORIAL / run / "collapse.log")
    assert with_grids.verdict.value == "mode_collapse" and with_grids.decision_path == "samples/test3"
    assert alone.decision_path.startswith("losses/")


@pytest.mark.slow
@pytest.mark.train
@pytest.mark.skipif(os.environ.get("GANDIAG_RUN_SLOW") != "1", reason="runs the tutorial port: GANDIAG_RUN_SLOW=1")
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_the_port_run_afresh_gets_the_tutorials_verdict(tmp_path, experiment, seed):
    log = tmp_path / f"{experiment}.log"
    with log.open("w") as out:
        subprocess.run([sys.executable, str(PORT), experiment, "--seed", str(seed)], cwd=tmp_path, stdout=out,
                       check=True, timeout=1800)
    d = gandiag.analyze(log, samples=tmp_path / f"results_{experiment}", grid=(10, 10),
                        real=tmp_path / f"results_{experiment}" / "real.npy")
    # the port's own runs are judged against the oracle on the grids it wrote (corpus.tutorial.label_one)
    from corpus.tutorial import label_one

    assert d.verdict.value == label_one(tmp_path, experiment)["oracle_label"], (experiment, seed, d.reason)
