"""The evolution at a glance (small multiples, the GIF) and the figure of what the sample rules read."""

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import gandiag
from gandiag.engine.loader import load_rules
from gandiag.engine.model import Rule
from gandiag.report import animation, evolution, plots
from gandiag.report.sample_stats import NO_REFERENCE, plot_sample_rules, sample_limits

RUNS = Path(__file__).resolve().parents[2] / "fixtures" / "runs"


def _snaps(run):
    with np.load(RUNS / run / "samples.npz") as z:
        snaps = {int(k.split("_")[1]): z[k] for k in z.files}
    with np.load(RUNS / run / "real.npz") as z:
        return dict(sorted(snaps.items())), z["real"]


def test_pick_steps_keeps_every_snapshot_up_to_the_limit_then_spaces_them_with_the_onset():
    steps = list(range(10, 2010, 10))
    assert evolution.pick_steps(steps[:20], None) == steps[:20]
    picked = evolution.pick_steps(steps, onset_step=1234)
    assert len(picked) <= evolution.MAX_PANELS and picked == sorted(picked)
    assert picked[0] == 10 and picked[-1] == 2000 and 1240 in picked  # the first snapshot at or after the onset
    assert evolution.onset_snapshot([100, 200, 300], 450) == 300


def test_points_one_panel_per_snapshot_onset_framed_in_red(captured, tmp_path):
    snaps, real = _snaps("ring8-mode_collapse-s0")
    evolution.plot_evolution(snaps, real, tmp_path / "e.png", heading="ring8: mode_collapse", onset_step=100)
    (rec,) = captured
    panels = [ax for ax in rec["axes"] if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["step 100: onset"] + [f"step {s}" for s in list(snaps)[1:]]
    onset = panels[0]
    assert onset.get_title().endswith("onset") and onset.title.get_color() == "tab:red"
    assert all(spine.get_edgecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
               for spine in onset.spines.values())
    assert rec["fig"].get_suptitle() == "ring8: mode_collapse"


def test_images_are_grids_beside_a_real_grid(captured, tmp_path):
    snaps, real = _snaps("digits-stable-s0")
    evolution.plot_evolution(snaps, real, tmp_path / "e.png", heading="digits", onset_step=None)
    shown = [ax for ax in captured[0]["axes"] if ax.images]
    assert len(shown) == len(snaps) + 1 and shown[0].get_title() == "real data"
    side = evolution.MOSAIC_SIDE * 8 + evolution.MOSAIC_SIDE - 1  # 8x8 tiles with a pixel between them
    assert shown[1].images[0].get_array().shape == (side, side)


def test_gif_has_one_frame_per_snapshot_and_holds_the_last(tmp_path):
    from PIL import Image

    snaps, real = _snaps("ring8-mode_collapse-s0")
    path = animation.write_gif(snaps, real, tmp_path / "e.gif", heading="ring8", onset_step=100)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(snaps) == 15
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
    assert durations[:-1] == [animation.FRAME_MS] * 14 and durations[-1] == animation.LAST_FRAME_MS


def test_gif_of_images_and_of_more_snapshots_than_frames(tmp_path):
    from PIL import Image

    snaps, real = _snaps("digits-stable-s0")
    with Image.open(animation.write_gif(snaps, real, tmp_path / "d.gif")) as gif:
        assert gif.n_frames == len(snaps)
    rng = np.random.default_rng(0)
    many = {step: rng.normal(0, 1, (60, 2)) for step in range(1, 131)}
    with Image.open(animation.write_gif(many, None, tmp_path / "m.gif", onset_step=77)) as gif:
        assert gif.n_frames == animation.MAX_FRAMES


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_sample_rules_figure_draws_the_limits_the_verdict_applied(captured, tmp_path):
    d = gandiag.analyze(RUNS / "ring8-mode_collapse-s0")
    rules = load_rules()  # with the fitted thresholds of rules/scores.toml
    gd302 = next(c.value for c in rules["GD302"].when)
    assert gd302 != 0.5  # the rule file's own value: the figure must show the fitted one
    plot_sample_rules(d.snapshots, tmp_path / "r.png", limits=sample_limits(rules), heading="h",
                      onset_step=d.onset_step, settle_from=1200)
    axes = captured[0]["axes"]
    near = next(ax for ax in axes if ax.get_title(loc="left").startswith("near the data"))
    scale = d.snapshots[-1]["near_scale"]
    assert f"within {scale:.3g} of a real sample" in near.get_title(loc="left")  # the structure scale it used
    lines = _lines(near)
    limit = lines[f"GD302 near_ratio < {gd302:g} x real-vs-real"]
    near_ref = np.array([r["near_ref"] for r in d.snapshots])
    assert np.allclose(limit.get_ydata(), gd302 * near_ref)
    assert np.allclose(lines["real vs real"].get_ydata(), near_ref)
    values = np.array([r["near"] for r in d.snapshots])
    assert np.allclose(lines["generated samples"].get_ydata(), values)
    held = lines["where a failure limit held"]  # red where the rule's condition held
    assert np.allclose(held.get_ydata(), values[values / near_ref < gd302])
    titles = [ax.get_title(loc="left") for ax in axes]
    assert [t.split(":")[0] for t in titles] == ["near the data", "reach", "spread", "near-duplicates", "bins off (NDB)"]


def test_without_a_reference_the_figure_says_so(captured, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("history.csv", "samples.npz"):
        shutil.copy(RUNS / "ring8-stable-s0" / name, run / name)
    d = gandiag.analyze(run)
    assert d.inputs["real"] is None
    plot_sample_rules(d.snapshots, tmp_path / "r.png", limits=sample_limits(load_rules()), heading="h")
    axes = captured[0]["axes"]
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert any(t.startswith(NO_REFERENCE) for t in texts)
    assert [ax.get_title(loc="left").split(":")[0] for ax in axes if ax.get_title(loc="left")] == ["near-duplicates"]


def test_run_figures_heading_names_the_deciding_rule(tmp_path):
    d = gandiag.analyze(RUNS / "ring8-mode_collapse-s0")
    assert plots.deciding_rule(d) == "decided by GD302 samples-resemble-nothing, test 4"
    written = plots.write_run_figures(d, tmp_path, title="ring8", rules=load_rules())
    assert [f.path.name for f in written] == ["history.png", "sample_rules.png", "evolution.png", "evolution.gif",
                                              "samples_step_100.png", "samples_step_1500.png"]
    assert [f.section for f in written] == ["figures", "figures", "evolution", "evolution", "samples", "samples"]


def test_sample_limits_read_every_snapshot_condition():
    rules: dict[str, Rule] = load_rules()
    limits = sample_limits(rules)
    assert {(lim.code, lim.series) for lim in limits} >= {
        ("GD301", "reach_ratio"), ("GD302", "near_ratio"), ("GD303", "dup_share"), ("GD304", "ndb_excess"),
        ("GD306", "mpd_ratio"), ("GD307", "mpd_ratio"), ("GD310", "near_ratio"), ("GD310", "reach_ratio")}
    assert not any(lim.code.startswith("GD1") for lim in limits)  # loss rules are not sample limits


def test_the_sample_rules_figure_draws_the_no_reference_spread_of_images_and_its_limit(tmp_path):
    # the tutorial port's collapse grids without the real eights: GD308 decides, so its panel must be there
    from gandiag.engine.loader import load_rules
    from gandiag.report import sample_stats

    root = Path(__file__).resolve().parents[2] / "fixtures" / "tutorial" / "collapse-s0"
    d = gandiag.analyze(root / "collapse.log", samples=root / "results_collapse", grid=(10, 10))
    limits = sample_stats.sample_limits(load_rules())
    drawn = [p.key for p in sample_stats.PANELS if sample_stats._drawn(p, limits, d.snapshots)]
    assert "nn_spread" in drawn and "near" in drawn  # near: drawn as missing, in words
    assert any(lim.code == "GD308" and lim.series == "nn_spread" for lim in limits)
    out = sample_stats.plot_sample_rules(d.snapshots, tmp_path / "rules.png", limits=limits)
    assert out.stat().st_size > 10_000
