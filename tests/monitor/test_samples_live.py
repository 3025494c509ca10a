"""Samples watched live: ``Monitor.snapshot`` judges generated samples as ``gandiag analyze`` judges samples.npz.

Replays real corpus runs (rows and their recorded snapshots, in the order a
training loop writes them) and compares the live answer with the offline one.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import gandiag
from gandiag.errors import UsageError
from gandiag.ingest import read_run
from gandiag.live.monitor import Monitor, replay
from gandiag.samples.read import read_reference, read_snapshots

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


def _corpus_runs() -> list[dict]:
    runs = json.loads((CORPUS / "manifest.json").read_text())["runs"]
    return [r for r in runs if not r["options"].get("no_samples")]


RUNS = _corpus_runs()
# a spread over families, outcomes and logging intervals: every 29th run with samples (15 runs)
SPREAD = RUNS[::29]


def _load(run: dict):
    folder = CORPUS / run["path"]
    history = read_run(folder)
    snaps = read_snapshots(folder / "samples.npz", last_step=int(history.steps[-1]))
    return folder, history, snaps, read_reference(folder / "real.npz")


def test_the_spread_covers_every_outcome():
    assert {r["oracle_label"] for r in SPREAD} == {"stable", "mode_collapse", "non_converged"}


@pytest.mark.parametrize("run", SPREAD, ids=lambda r: r["id"].split("/")[0])
def test_live_with_snapshots_ends_with_the_offline_verdict_and_onset(run):
    folder, history, snaps, real = _load(run)
    monitor = Monitor(real=real)
    for _ in replay(monitor, history, snaps):
        pass
    live = monitor.evaluate() if monitor.state.rows < len(history) else monitor.state
    offline = gandiag.analyze(folder)
    assert offline.snapshots, "the offline analysis judged the samples"
    assert (live.verdict, live.onset_step) == (offline.verdict, offline.onset_step)
    assert live.confidence == pytest.approx(offline.confidence)
    final = monitor.finish()
    assert (final.verdict, final.onset_step, final.confidence) == (offline.verdict, offline.onset_step,
                                                                   offline.confidence)
    assert [f.rule for f in final.findings] == [f.rule for f in offline.findings]


@pytest.mark.parametrize("run", SPREAD[::3], ids=lambda r: r["id"].split("/")[0])
def test_provisional_state_with_snapshots_is_the_offline_answer_for_the_run_so_far(run, tmp_path):
    folder, history, snaps, real = _load(run)
    cut_step = sorted(snaps)[len(snaps) // 2]  # half the snapshots taken
    monitor = Monitor(real=real)
    state = None
    for state in replay(monitor, history, snaps):
        if monitor.last_step is not None and monitor.last_step >= cut_step and state.step >= cut_step \
                and cut_step in monitor.snapshot_steps:
            break
    live = monitor.evaluate() if monitor.state.rows > 0 else state
    n = int(np.searchsorted(history.steps, monitor.last_step, side="right"))
    cut = dataclasses.replace(history, steps=history.steps[:n], series={k: v[:n] for k, v in history.series.items()},
                              nonfinite={k: v[:n] for k, v in history.nonfinite.items()})
    so_far = {f"step_{s}": a for s, a in snaps.items() if s <= monitor.last_step}  # the samples.npz written so far
    np.savez(tmp_path / "samples.npz", **so_far)
    offline = gandiag.analyze(cut, samples=tmp_path / "samples.npz", real=folder / "real.npz")
    assert len(offline.snapshots) == len(so_far) >= 2
    assert (live.verdict, live.onset_step) == (offline.verdict, offline.onset_step)


#: A collapse the losses do not show: the oracle says mode_collapse (one output), gandiag's losses-only verdict is
#: stable; the generator's learning rate was 10x the discriminator's.
QUIET = "circle-g_lr_10x-s0"


def test_a_quiet_collapse_is_stopped_only_with_samples():
    run = next(r for r in RUNS if r["path"] == f"runs/{QUIET}")
    folder, history, snaps, real = _load(run)
    assert run["oracle_label"] == "mode_collapse"
    assert gandiag.analyze(folder, no_samples=True).verdict is gandiag.Verdict.STABLE
    last = int(history.steps[-1])
    blind, seeing = Monitor(planned_steps=last), Monitor(planned_steps=last, real=real)
    assert not any(s.confirmed for s in replay(blind, history))
    stops = [s for s in replay(seeing, history, snaps) if s.confirmed]
    assert stops and stops[0].verdict is gandiag.Verdict.MODE_COLLAPSE
    assert stops[0].decision_path == "samples/test3" and stops[0].snapshots >= 2
    assert stops[0].step <= last // 2  # half the run saved


#: Short digits runs whose samples collapse to one output early and recover by the end (oracle: stable); a
#: policy that stopped on two collapsed snapshots after step 100 stopped all of them (benchmarks/monitor_replay.py).
RECOVERING = ("digits-baseline-s1", "digits8-tiny_batch-s1", "digits16-minimax-s1")


@pytest.mark.parametrize("name", RECOVERING)
def test_the_default_policy_does_not_stop_an_early_collapse_that_recovers(name):
    run = next(r for r in RUNS if r["path"] == f"runs/{name}")
    folder, history, snaps, real = _load(run)
    assert run["oracle_label"] == "stable"
    early = Monitor(planned_steps=int(history.steps[-1]), real=real, min_steps=100, min_fraction=0.1)
    assert any(s.confirmed and s.verdict is gandiag.Verdict.MODE_COLLAPSE for s in replay(early, history, snaps))
    default = Monitor(planned_steps=int(history.steps[-1]), real=real)
    assert not any(s.confirmed for s in replay(default, history, snaps))
    assert default.finish().verdict is gandiag.analyze(folder).verdict  # (digits16-minimax-s1: offline says collapse)


def test_snapshot_steps_must_increase():
    monitor = Monitor()
    rng = np.random.default_rng(0)
    monitor.snapshot(10, rng.normal(size=(64, 2)))
    with pytest.raises(UsageError, match="snapshot steps must increase"):
        monitor.snapshot(10, rng.normal(size=(64, 2)))


def test_a_snapshot_before_any_row_waits_for_the_rows():
    monitor = Monitor()
    state = monitor.snapshot(5, np.random.default_rng(0).normal(size=(64, 2)))
    assert state.rows == 0 and state.verdict is gandiag.Verdict.INCONCLUSIVE
    assert monitor.snapshot_steps == (5,)
