import os

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from gandiag.report import canvas, figures
from tests.report.drawn import assert_no_overlapping_text

RUNS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures", "runs")


def _png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def _legend(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_history_labels_legends_and_rule_lanes(tmp_path, captured):
    df = pd.read_csv(os.path.join(RUNS, "digits-stable-s0", "history.csv"))
    spans = [(100, 300, "GD101 discriminator-loss-vanishes"), (400, 500, "GD101 discriminator-loss-vanishes"),
             (120, 600, "GD303 samples-near-duplicates")]
    _png(figures.plot_history(df, tmp_path / "h.png", title="digits-stable-s0", spans=spans, onset_step=120))
    (rec,) = captured
    ax_loss, ax_acc, ax_rules, ax_names = rec["axes"]
    assert _legend(ax_loss) == ["d-real", "d-fake", "gen", "onset (step 120)"]
    assert _legend(ax_acc) == ["acc-real", "acc-fake"]
    assert (ax_loss.get_ylabel(), ax_acc.get_ylabel(), ax_rules.get_ylabel(), ax_rules.get_xlabel()) == \
        ("loss", "accuracy", "rules", "step")
    assert [t.get_text() for t in ax_rules.get_yticklabels()] == ["GD101", "GD303"]
    assert [t.get_text() for t in ax_names.get_yticklabels()] == ["discriminator-loss-vanishes", "samples-near-duplicates"]
    assert len(ax_rules.patches) == 3  # one bar per episode, one lane per rule
    colours = {p.get_facecolor() for p in ax_rules.patches[:2]}
    assert len(colours) == 1  # a rule's episodes share its colour
    dashed = [ax for ax in rec["axes"][:3] if any(ln.get_linestyle() == "--" for ln in ax.lines)]
    assert len(dashed) == 3  # the onset crosses every panel
    # the same series has the same colour on every run: real blue, fake orange
    assert ax_loss.lines[0].get_color() == ax_acc.lines[0].get_color() == "tab:blue"
    assert_no_overlapping_text(rec)


def test_history_without_spans_is_the_harness_two_panel_figure(tmp_path, captured):
    p = tmp_path / "history.csv"
    p.write_text("step,d_loss,g_loss,d_acc\n1,0.5,1.0,0.5\n2,nan,nan,0.0\n3,inf,nan,0.0\n")
    _png(figures.plot_history(p, tmp_path / "h.png"))
    (rec,) = captured
    assert len(rec["axes"]) == 2
    assert _legend(rec["axes"][0]) == ["d", "gen", "non-finite losses (from step 2)"]
    assert_no_overlapping_text(rec)


def test_diversity_figure(tmp_path, captured):
    import gandiag

    d = gandiag.analyze(os.path.join(RUNS, "ring8-mode_collapse-s0"))
    _png(figures.plot_diversity(d.snapshots, tmp_path / "d.png", title="ring8-mode_collapse-s0",
                                onset_step=d.onset_step))
    (rec,) = captured
    ax_ratio, ax_share = rec["axes"]
    assert _legend(ax_ratio) == ["coverage", "precision", "density", f"onset (step {d.onset_step})",
                                 "real vs real (1.0)"]
    assert _legend(ax_share) == ["near-duplicate share", "recall", "NDB (bins off)"]
    assert (ax_ratio.get_ylabel(), ax_share.get_ylabel(), ax_share.get_xlabel()) == \
        ("ratio to real data", "share", "step")
    assert_no_overlapping_text(rec)


def test_sample_grid_and_scatter_from_recorded_runs(tmp_path, captured):
    digits = np.load(os.path.join(RUNS, "digits-stable-s0", "samples.npz"))["step_600"]
    ring = np.load(os.path.join(RUNS, "ring8-stable-s0", "samples.npz"))["step_1500"]
    real = np.load(os.path.join(RUNS, "ring8-stable-s0", "real.npz"))["real"]
    _png(figures.plot_sample_grid(digits[:100], tmp_path / "g.png", title="step 600 (end)"))
    _png(figures.plot_scatter(ring, real, tmp_path / "s.png", title="ring8-stable-s0: step 1500 (end)"))
    grid, scatter = captured
    legend = scatter["fig"].legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [f"real ({len(real):,})", f"generated ({len(ring):,})"]
    assert (scatter["axes"][0].get_xlabel(), scatter["axes"][0].get_ylabel()) == ("x1", "x2")
    assert_no_overlapping_text(grid)
    assert_no_overlapping_text(scatter)


def test_the_overlap_check_sees_overlapping_text(tmp_path, captured):
    plt = canvas.pyplot()
    fig = plt.figure(figsize=(3, 2))
    fig.text(0.2, 0.5, "GD101 discriminator-loss-vanishes")
    fig.text(0.25, 0.5, "GD102")
    canvas.save(plt, fig, tmp_path / "o.png")
    with pytest.raises(AssertionError, match="overlap"):
        assert_no_overlapping_text(captured[0])
