"""``gandiag watch``: follows a growing log, prints findings, exits 1 on a confirmed failure."""

import os
import subprocess
import sys
import threading
import time

from fixture_runs import FIXTURE_RUNS
from typer.testing import CliRunner

import gandiag
from gandiag.cli import app
from gandiag.live.monitor import history_rows


def run_watch(*args):
    return CliRunner().invoke(app, ["watch", *args])


def test_failing_run_exits_1_at_the_confirmed_failure():
    r = run_watch(os.path.join(FIXTURE_RUNS, "digits-convergence_failure-s0"), "--idle", "0.2")
    assert r.exit_code == 1, r.output
    assert "fired    GD101" in r.output
    failure = [line for line in r.output.splitlines() if "FAILURE" in line]
    assert len(failure) == 1 and "non_converged confirmed" in failure[0]
    offline = gandiag.analyze(os.path.join(FIXTURE_RUNS, "digits-convergence_failure-s0"), no_samples=True)
    assert f"onset step {offline.onset_step}" in failure[0]


def test_stable_run_exits_0_with_the_offline_verdict():
    path = os.path.join(FIXTURE_RUNS, "digits-stable-s0", "history.csv")
    r = run_watch(path, "--idle", "0.2")
    offline = gandiag.analyze(path)  # with the samples.npz beside it, which watch follows too
    assert offline.snapshots and r.exit_code == 0, r.output
    assert r.output.splitlines()[-1].startswith(f"final    {offline.verdict.value} (confidence {offline.confidence:.2f}")


def _write_growing(path, lines, pause):
    """A training script's log: written in pieces, with a line cut in the middle of a write."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, line in enumerate(lines):
            if i % 50 == 25:
                half = len(line) // 2
                fh.write(line[:half])
                fh.flush()
                time.sleep(pause)
                fh.write(line[half:] + "\n")
            else:
                fh.write(line + "\n")
            fh.flush()
            if i % 50 == 0:
                time.sleep(pause)


def test_follows_a_growing_console_log_with_cut_lines(tmp_path, histories):
    h = histories["digits-convergence_failure-s0"]
    lines = [f">{step}, d={m['d_loss']:.3f}, g={m['g_loss']:.3f}, a={int(100 * m['d_acc'])}"
             for step, m in history_rows(h)]
    log = tmp_path / "train.log"
    log.write_text("")
    writer = threading.Thread(target=_write_growing, args=(log, lines, 0.02))
    writer.start()
    r = run_watch(str(log), "--idle", "2", "--poll", "0.01")
    writer.join()
    assert r.exit_code == 1, r.output
    assert "error:" not in r.output and "FAILURE  non_converged" in r.output
    offline = gandiag.analyze(log)  # the whole console log, read offline
    assert offline.verdict.value == "non_converged"


def test_growing_csv_ends_with_the_offline_answer(tmp_path, histories):
    src = os.path.join(FIXTURE_RUNS, "digits-stable-s0", "history.csv")
    with open(src, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    log = tmp_path / "history.csv"
    writer = threading.Thread(target=_write_growing, args=(log, lines, 0.01))
    writer.start()
    r = run_watch(str(log), "--idle", "1", "--poll", "0.01")
    writer.join()
    offline = gandiag.analyze(log, no_samples=True)
    assert r.exit_code == 0, r.output
    assert f"final    {offline.verdict.value}" in r.output and f"over {offline.n_steps} steps" in r.output


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "h.csv"
    bad.write_text("step,foo,bar\n1,2,3\n")
    r = run_watch(str(bad), "--idle", "0.2")
    assert r.exit_code == 2 and r.output.count("\n") == 1 and r.output.startswith("error:")
    assert "no recognisable loss column" in r.output
    r = run_watch(str(tmp_path / "missing.csv"), "--idle", "0.1")
    assert r.exit_code == 2 and "file not found" in r.output
    r = run_watch(str(bad), "--stop-on", "exploded")
    assert r.exit_code == 2 and "unknown verdict" in r.output


def test_watch_does_not_import_tensorflow_or_pandas():
    # judging losses; with snapshots scikit-learn computes the sample statistics, and it imports pandas itself
    code = ("import sys; from gandiag.cli import app; from typer.testing import CliRunner; "
            f"r = CliRunner().invoke(app, ['watch', {os.path.join(FIXTURE_RUNS, 'digits-stable-s0')!r}, '--idle', '0', "
            "'--no-samples']); "
            "assert r.exit_code == 0, r.output; "
            "assert 'tensorflow' not in sys.modules and 'pandas' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_collapse_only_the_samples_show_is_stopped_from_a_growing_run_folder(tmp_path):
    """circle-g_lr_10x-s0 (corpus): losses look healthy, the samples collapse to one output; written live by
    RunLogger (history.csv rows and samples.npz snapshots), watched from another thread."""
    import shutil

    from gandiag.ingest import read_run
    from gandiag.live.runlog import RunLogger
    from gandiag.samples.read import read_snapshots

    src = os.path.join(os.path.dirname(FIXTURE_RUNS), "corpus", "runs", "circle-g_lr_10x-s0")
    history = read_run(src)
    snaps = read_snapshots(os.path.join(src, "samples.npz"))
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(os.path.join(src, "real.npz"), run / "real.npz")

    def write():
        with RunLogger(run) as log:
            for i, (step, metrics) in enumerate(history_rows(history)):
                log.log(step, **{k: v for k, v in metrics.items() if v is not None})
                if step in snaps:
                    log.snapshot(step, snaps[step])
                if i % 100 == 0:
                    time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    r = run_watch(str(run), "--idle", "2", "--poll", "0.01", "--planned-steps", "2000")
    writer.join()
    assert r.exit_code == 1, r.output
    failure = [line for line in r.output.splitlines() if "FAILURE" in line]
    assert len(failure) == 1 and "mode_collapse confirmed" in failure[0] and "test 3" in failure[0]
    assert int(failure[0].split()[1]) <= 1000  # stopped by the middle of the 2,000-step run
    losses_only = run_watch(str(run), "--idle", "0.2", "--no-samples", "--planned-steps", "2000")
    assert losses_only.exit_code == 0 and "final    stable" in losses_only.output
