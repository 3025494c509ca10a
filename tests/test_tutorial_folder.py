"""The tutorial's results folder just works: grid PNGs beside its loss plot, globs, --grid alone, report.

The folders here are written the way the tutorial writes them (its ``summarize_performance`` and
``plot_history``), from real handwritten digits (scikit-learn's) standing in for generated samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from tests.samples.test_read import save_plot_like_the_tutorial

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
runner = CliRunner()


def _eights(n: int, seed: int = 0) -> np.ndarray:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images[d.target == 8] / 8.0 - 1.0).astype(np.float32)
    return x[np.random.default_rng(seed).choice(len(x), n, replace=len(x) < n)]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """results_collapse/: two grids of one repeated eight, the loss plot, and the real eights as real.npy."""
    from matplotlib import pyplot

    folder = tmp_path_factory.mktemp("tut") / "results_collapse"
    folder.mkdir()
    one = np.repeat(_eights(1), 100, axis=0)
    for step in (250, 500):
        save_plot_like_the_tutorial(one, folder / f"generated_plot_{step:03d}.png")
    pyplot.plot([0.7, 0.6, 0.65])
    pyplot.savefig(folder / "plot_line_plot_loss.png")
    pyplot.close()
    np.save(folder / "real.npy", _eights(174)[..., None])
    log = folder.parent / "collapse.log"
    log.write_text("".join(f">{i}, d1=0.600, d2=0.600 g=0.900, a1=70, a2=70\n" for i in range(1, 501)))
    return folder


def test_the_results_folder_is_read_with_its_loss_plot_ignored_and_said_so(results):
    log = results.parent / "collapse.log"
    r = runner.invoke(app, ["analyze", str(log), "--samples", str(results), "--grid", "10x10",
                            "--real", str(results / "real.npy"), "-f", "json"])
    assert r.exit_code == 1, r.output  # the collapse is found: exit 1
    import json

    run = json.loads(r.stdout)["runs"][0]
    assert run["verdict"] == "mode_collapse"
    assert any("plot_line_plot_loss.png" in w and "ignored 1 PNG" in w for w in run["warnings"])


def test_a_glob_of_grid_images_works(results):
    log = results.parent / "collapse.log"
    r = runner.invoke(app, ["analyze", str(log), "--samples", str(results / "generated_plot_*.png"),
                            "--grid", "10x10"])
    assert r.exit_code == 1 and "mode_collapse" in r.stdout, r.output


def test_grid_without_samples_looks_beside_the_log_or_says_where_to_look(results, tmp_path):
    beside = results / "collapse.log"
    beside.write_text((results.parent / "collapse.log").read_text())
    r = runner.invoke(app, ["analyze", str(beside), "--grid", "10x10"])
    assert r.exit_code == 1 and "mode_collapse" in r.stdout, r.output
    lonely = tmp_path / "train.log"
    lonely.write_text((results.parent / "collapse.log").read_text())
    r = runner.invoke(app, ["analyze", str(lonely), "--grid", "10x10"])
    assert r.exit_code == 2 and "--grid needs the grid images" in r.output and "Traceback" not in r.output


def test_report_takes_the_same_sample_options(results, tmp_path):
    log = results.parent / "collapse.log"
    r = runner.invoke(app, ["report", str(log), "--samples", str(results), "--grid", "10x10",
                            "--real", str(results / "real.npy"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    pages = list((tmp_path / "rep").rglob("samples_step_*.png"))
    assert {p.name for p in pages} >= {"samples_step_500.png"}
