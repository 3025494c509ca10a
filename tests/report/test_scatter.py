"""Sample plots whose axes fit the data: the 99% target on the corpus's 2-D families, scaled by 0.1, 1 and 10."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from gandiag.report import evolution, figures
from gandiag.report.scatter import (
    FAKE_COLOUR,
    INSIDE,
    REAL_COLOUR,
    fit_window,
    plane_for,
    point_frames,
    windows_for,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fixtures" / "corpus" / "runs"
FAMILIES_2D = ("ring8", "ring16", "grid9", "grid25", "blobs3", "spiral", "circle", "moons", "sine")
SCALES = (0.1, 1.0, 10.0)


def _run(folder: Path):
    with np.load(folder / "samples.npz") as z:
        snaps = {int(k.split("_")[1]): z[k].astype(np.float64) for k in z.files}
    with np.load(folder / "real.npz") as z:
        real = z["real"].astype(np.float64)
    return dict(sorted(snaps.items())), real


def _inside(xlim, ylim, points):
    p = points[np.isfinite(points).all(axis=1)]
    inside = (p[:, 0] >= xlim[0]) & (p[:, 0] <= xlim[1]) & (p[:, 1] >= ylim[0]) & (p[:, 1] <= ylim[1])
    return float(inside.mean()) if len(p) else 1.0


@pytest.mark.parametrize("family", FAMILIES_2D)
def test_every_snapshot_window_holds_99_percent_of_real_and_generated_points(family):
    """Every run of the family, every snapshot, at three scales: the windows the figures draw in."""
    runs = sorted(CORPUS.glob(f"{family}-*"))
    assert len(runs) >= 20
    worst = 1.0
    for folder in runs:
        snaps, real = _run(folder)
        assert real.shape[1] == 2
        for scale in SCALES:
            scaled = {s: x * scale for s, x in snaps.items()}
            _, real2d, frames = point_frames(scaled, list(scaled), real * scale)
            for frame in frames:
                for points in (real2d, frame.points):
                    share = _inside(frame.window.x, frame.window.y, points)
                    worst = min(worst, share)
                    assert share >= INSIDE, f"{folder.name} x{scale} step {frame.step}: {share:.3f} inside"
                single = fit_window(real2d, frame.points)  # the start/onset/end plots
                assert min(_inside(single.x, single.y, real2d), _inside(single.x, single.y, frame.points)) >= INSIDE
    assert worst >= INSIDE


@pytest.mark.parametrize("family,scale", [(f, 1.0) for f in FAMILIES_2D] + [
    ("ring8", 0.1), ("ring8", 10.0), ("sine", 0.1), ("sine", 10.0)])
def test_drawn_panels_show_99_percent_of_the_points(family, scale, captured, tmp_path):
    """The axes as drawn (read back from matplotlib) on one run per family: evolution panels and the end's plot."""
    folder = sorted(CORPUS.glob(f"{family}-*"))[0]
    snaps, real = _run(folder)
    snaps = {s: x * scale for s, x in snaps.items()}
    real = real * scale
    evolution.plot_evolution(snaps, real, tmp_path / "e.png", heading=folder.name, onset_step=None)
    last = max(snaps)
    figures.plot_scatter(snaps[last], real, tmp_path / "s.png", title=folder.name)
    evo, single = captured
    panels = [ax for ax in evo["axes"] if ax.get_title().startswith("step ")]
    assert [int(ax.get_title().split()[1].rstrip(":")) for ax in panels] == sorted(snaps)
    for ax, step in zip(panels, sorted(snaps)):
        assert _inside(ax.get_xlim(), ax.get_ylim(), real) >= INSIDE
        assert _inside(ax.get_xlim(), ax.get_ylim(), snaps[step]) >= INSIDE
        assert ax.get_aspect() == 1.0
        assert np.isclose(np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim()))  # one scale on both axes
    (ax,) = single["axes"]
    assert _inside(ax.get_xlim(), ax.get_ylim(), real) >= INSIDE
    assert _inside(ax.get_xlim(), ax.get_ylim(), snaps[last]) >= INSIDE


def test_a_ring_of_radius_2_fills_its_plot_instead_of_an_empty_square(captured, tmp_path):
    """The issue's case: fixed axes of +-1.3 drew every point of a radius-2 ring outside them."""
    angles = np.random.default_rng(0).uniform(0, 2 * np.pi, 1000)
    modes = np.floor(angles / (np.pi / 4)) * np.pi / 4
    real = 2.0 * np.column_stack([np.cos(modes), np.sin(modes)]) + np.random.default_rng(1).normal(0, 0.05, (1000, 2))
    fake = real[:500] * 1.1
    figures.plot_scatter(fake, real, tmp_path / "ring.png", title="radius 2")
    (ax,) = captured[0]["axes"]
    assert _inside(ax.get_xlim(), ax.get_ylim(), real) == 1.0 and _inside(ax.get_xlim(), ax.get_ylim(), fake) == 1.0
    assert ax.get_xlim()[1] < 3.0  # and not zoomed out: the ring (to radius 2.4) fills it
    real_layer, fake_layer = ax.collections[:2]
    assert real_layer.get_zorder() < fake_layer.get_zorder()  # the reference beneath
    assert np.allclose(real_layer.get_facecolor()[0][:3], [float(REAL_COLOUR)] * 3)  # in grey
    import matplotlib.colors as mcolors

    assert np.allclose(fake_layer.get_facecolor()[0][:3], mcolors.to_rgb(FAKE_COLOUR))


def test_a_few_far_outliers_are_marked_at_the_edge_not_stretching_the_axes(captured, tmp_path):
    rng = np.random.default_rng(2)
    real = rng.normal(0, 1, (1000, 2))
    fake = rng.normal(0, 1, (500, 2))
    fake[:3] = [[300.0, 0.0], [0.0, -250.0], [200.0, 200.0]]
    fake[3] = np.nan
    figures.plot_scatter(fake, real, tmp_path / "far.png")
    (ax,) = captured[0]["axes"]
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    assert xlim[1] < 10 and ylim[0] > -10  # three points of 500 do not set the axes
    assert _inside(xlim, ylim, fake) >= INSIDE
    crosses = [c for c in ax.collections if len(c.get_offsets()) == 3]
    assert len(crosses) == 1
    edge = np.asarray(crosses[0].get_offsets())
    span = xlim[1] - xlim[0]
    on_border = (np.isclose(edge[:, 0], xlim[1], atol=0.02 * span) | np.isclose(edge[:, 1], ylim[0], atol=0.02 * span))
    assert on_border.all()  # marked where they left the axes
    assert "3 generated beyond the axes" in ax.get_title() and "1 generated not finite" in ax.get_title()


def test_more_than_two_values_are_projected_on_the_references_principal_axes(captured, tmp_path):
    rng = np.random.default_rng(3)
    real = rng.normal(0, 0.01, (800, 8))
    real[:, 3] = rng.normal(0, 3.0, 800)  # the largest variance
    real[:, 5] = rng.normal(0, 1.0, 800)  # the second
    plane = plane_for(real, [])
    assert abs(plane.basis[3, 0]) > 0.99 and abs(plane.basis[5, 1]) > 0.99
    assert plane.names[0].startswith("PC1 of the real data (") and "% of its variance)" in plane.names[0]
    figures.plot_scatter(real[:300] + 0.5, real, tmp_path / "pca.png")
    (ax,) = captured[0]["axes"]
    assert ax.get_xlabel() == plane.names[0] and ax.get_ylabel() == plane.names[1]


def test_a_snapshot_far_wider_than_the_others_gets_its_own_axes():
    rng = np.random.default_rng(4)
    real = rng.normal(0, 1, (500, 2))
    snaps = [rng.normal(0, 1, (300, 2)) for _ in range(5)] + [rng.normal(0, 60, (300, 2))]
    windows = windows_for(real, snaps)
    assert [own for _, own in windows] == [False] * 5 + [True]
    shared = windows[0][0]
    assert all(w == shared for w, own in windows if not own) and shared.span < 20
    for (w, _), s in zip(windows, snaps):
        assert w.share_inside(s) >= INSIDE and w.share_inside(real) >= INSIDE


def test_no_reference_is_said_in_the_plot(captured, tmp_path):
    figures.plot_scatter(np.random.default_rng(5).normal(0, 1, (200, 2)), None, tmp_path / "noref.png", title="t")
    (ax,) = captured[0]["axes"]
    assert "no reference: pass --real to compare with the data" in ax.get_title()
