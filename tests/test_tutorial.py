"""The GAN failure-modes tutorial as people run it: its console log and its 10x10 `generated_plot_NNN.png` grids.

`fixtures/tutorial/` holds real runs of `examples/tutorial/tutorial_gan.py` (the tutorial's three scripts ported to
Keras 3 on scikit-learn's eights, with the tutorial's BatchNormalization run as Keras 2 ran it), three seeds each,
exactly as the script writes them: `<experiment>.log` (its `>N, d1=..., d2=... g=..., a1=..., a2=...` lines) and
`results_<experiment>/` (a grid every 50 steps; `python -m corpus.tutorial record`). The oracle labels each from the
printed losses and the grids' tiles against the known eights (`manifest.json`, `python -m corpus.tutorial label`):
the port reproduces the tutorial's three behaviours, and gandiag must give the oracle's label from what a user has
(the log and the grids), with the real eights and without them.

The slow test re-runs the port itself (about a minute per run on 2 cores): `GANDIAG_RUN_SLOW=1 pytest -m slow
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


#: Onsets that differ from the oracle's, and why (checked, so that a fix shows up here): (with the reference, without).
KNOWN_ONSETS = {
    # the discriminator won early, but single steps where it did not (convergence-s1: d = 0.33 and 84% accuracy at
    # step 325) restart GD105's streak; the oracle's test 2 (80% of the settled window) ignores them
    "convergence-s0": ((319, 307), (319, 307)),
    "convergence-s1": ((372, 20), (372, 20)),
    "convergence-s2": ((139, 97), (139, 97)),
    # without the real eights only GD308 sees the repeats, and the nearest neighbours fall under a quarter of the
    # spread later than the oracle's classifier counts one eight (it knows the eights)
    "collapse-s0": ((50, 50), (300, 50)),
    "collapse-s1": ((50, 50), (450, 50)),
    "collapse-s2": ((50, 50), (350, 50)),
}
INTENDED = {"stable": "stable", "collapse": "mode_collapse", "convergence": "non_converged"}


def diagnose(folder: Path, experiment: str, *, reference: bool = True):
    return gandiag.analyze(folder / f"{experiment}.log", samples=folder / f"results_{experiment}",
                           grid=(10, 10), real=TUTORIAL / "real.npy" if reference else None)


def test_three_experiments_three_seeds_are_recorded_and_labelled():
    folders = sorted(p.name for p in TUTORIAL.glob("*-s*") if p.is_dir())
    assert folders == RUNS
    assert all(sum(r.startswith(e + "-") for r in RUNS) >= 3 for e in EXPERIMENTS), RUNS


@pytest.mark.parametrize("run", RUNS)
def test_the_oracle_sees_the_tutorials_behaviour_in_every_run(run):
    assert LABELS[run]["oracle_label"] == INTENDED[run.rsplit("-s", 1)[0]]


@pytest.mark.parametrize("reference", [True, False], ids=["with-real", "without-real"])
@pytest.mark.parametrize("run", RUNS)
def test_the_oracles_verdict_from_the_log_and_grids(run, reference):
    experiment = run.rsplit("-s", 1)[0]
    d = diagnose(TUTORIAL / run, experiment, reference=reference)
    truth = LABELS[run]
    assert d.verdict.value == truth["oracle_label"], (run, d.verdict, d.reason)
    assert len(d.snapshots) == 10  # every grid judged; the loss plot beside them is not a grid
    assert d.decision_path.startswith("samples/" if reference else "samples-noref/")
    if truth["oracle_label"] != "stable":
        assert d.confidence >= (0.8 if reference or experiment == "convergence" else 0.6)
        onsets = KNOWN_ONSETS.get(run, ((truth["oracle_onset_step"],) * 2,) * 2)[0 if reference else 1]
        assert (d.onset_step, truth["oracle_onset_step"]) == onsets
    else:
        assert ("the samples resemble the data and cover it" in d.reason) == reference


def test_a_grid_of_a_few_repeated_eights_is_not_stable_from_the_grids_alone():
    # The headline case: the grids repeat a few eights; no real data is given.
    run = next(r for r in RUNS if r.startswith("collapse-"))
    without = diagnose(TUTORIAL / run, "collapse", reference=False)
    assert without.verdict.value == "mode_collapse" and without.decision_path == "samples-noref/test3"
    assert any(f.rule == "GD308" for f in without.findings)
    stable = diagnose(TUTORIAL / "stable-s0", "stable", reference=False)
    assert stable.verdict.value == "stable" and "was not judged" in stable.reason


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
