"""Precomputed features and image folders as samples (#20): named arrays, per-step files, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.errors import InputError
from gandiag.samples.evidence import SampleInputs, snapshot_table
from gandiag.samples.read import read_reference, read_snapshots


@pytest.fixture
def feats(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "ref.npz", pool3=rng.normal(size=(300, 40)).astype(np.float32), logits=np.zeros((300, 10)))
    folder = tmp_path / "snaps"
    folder.mkdir()
    for step in (100, 2000):
        np.save(folder / f"step_{step}.npy", rng.normal(size=(250, 40)).astype(np.float32))
    return tmp_path


def test_named_array_and_step_files(feats):
    real = read_reference(feats / "ref.npz:pool3")
    assert real.shape == (300, 40)
    snaps = read_snapshots(feats / "snaps")
    assert sorted(snaps) == [100, 2000] and snaps[2000].shape == (250, 40)
    one = read_snapshots(feats / "ref.npz:logits", last_step=7)
    assert list(one) == [7] and one[7].shape == (300, 10)


def test_missing_named_array_names_the_file_and_the_arrays(feats):
    with pytest.raises(InputError) as err:
        read_reference(feats / "ref.npz:pool4")
    line = err.value.one_line()
    assert "ref.npz" in line and "pool4" in line and "logits, pool3" in line


def test_nan_in_reference_features_is_an_error_but_in_samples_evidence(feats):
    bad = np.random.default_rng(1).normal(size=(300, 40))
    bad[5, 3] = np.nan
    np.save(feats / "bad_ref.npy", bad)
    with pytest.raises(InputError, match="NaN or inf in 1 of 300 rows"):
        read_reference(feats / "bad_ref.npy")
    np.save(feats / "snaps" / "step_3000.npy", bad)
    _, rows, _ = snapshot_table(SampleInputs(feats / "snaps", feats / "ref.npz:pool3"), last_step=None)
    assert rows[-1]["nonfinite_share"] == pytest.approx(1 / 300)


def test_report_says_features_and_standard_errors(feats):
    _, rows, notes = snapshot_table(SampleInputs(feats / "snaps", feats / "ref.npz:pool3"), last_step=None)
    line = next(n for n in notes if n.startswith("samples:"))
    assert "features (250 x 40)" in line and "reference of features (300 x 40)" in line
    assert "feature space" in line and f"coverage {rows[-1]['coverage']:.3f} +/- {rows[-1]['coverage_se']:.3f}" in line
    assert 0 < rows[-1]["coverage_se"] < 0.05


def _history(folder):
    lines = ["step,d_loss_real,d_loss_fake,g_loss"] + [f"{s},0.6,0.7,0.8" for s in range(0, 2001, 20)]
    (folder / "history.csv").write_text("\n".join(lines) + "\n")
    return folder / "history.csv"


@pytest.mark.parametrize("samples, real, needle", [
    ("snaps", "ref.npz:logits", "40 features each but the reference's are 10 features"),
    ("snaps", "ref.npz:pool4", "no array named 'pool4'"),
])
def test_cli_bad_features_exit_2_with_one_line(feats, samples, real, needle):
    result = CliRunner().invoke(app, ["analyze", str(_history(feats)), "--samples", str(feats / samples),
                                      "--real", str(feats / real)])
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output
    assert len([ln for ln in result.output.splitlines() if ln.startswith("error:")]) == 1


def test_image_folder_colour_and_jpeg(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / f"s{i}.png")
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / "s9.jpg", quality=95)
    (snap,) = read_snapshots(tmp_path).values()
    assert snap.shape == (5, 32, 32, 3) and snap.dtype == np.float32
    assert snap.min() >= -1 and snap.max() <= 1


def test_folder_mixing_image_sizes_names_the_file(tmp_path):
    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    Image.new("RGB", (64, 64)).save(tmp_path / "b.png")
    with pytest.raises(InputError) as err:
        read_snapshots(tmp_path)
    assert "b.png" in err.value.one_line() and "64x64" in err.value.one_line()


# ----------------------------------------------------------------------------- full-set statistics

@pytest.fixture
def big_feats(tmp_path):
    """More generated samples than the verdict's 2,000-sample subsample: the full-set statistics are computed."""
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 3, (12, 24))
    real = (centres[rng.integers(0, 12, 2600)] + rng.normal(size=(2600, 24))).astype(np.float32)
    fake = (centres[rng.integers(0, 7, 2400)] + 0.9 * rng.normal(size=(2400, 24))).astype(np.float32)
    np.savez(tmp_path / "feats.npz", gen=fake, ref=real)
    return tmp_path, real, fake


def test_full_set_statistics_are_those_of_every_sample(big_feats):
    from gandiag.samples import knn

    folder, real, fake = big_feats
    inputs = SampleInputs(folder / "feats.npz:gen", folder / "feats.npz:ref")
    _, rows, notes = snapshot_table(inputs, last_step=500)
    want = knn.prdc_exact(real, fake).as_dict()
    last = rows[-1]
    assert last["n_used"] == 1300  # the verdict's statistics: half the reference
    assert last["full_n_fake"] == 2400 and last["full_n_real"] == 2600 and last["full_exact"] == 1.0
    for key, value in want.items():
        assert last[f"full_{key}"] == pytest.approx(value, abs=1e-12), key
    line = next(n for n in notes if n.startswith("samples: all 2,400 generated samples of step 500"))
    assert f"coverage {want['coverage']:.3f} +/- {want['coverage_se']:.3f}" in line and "every pair" in line


def test_full_set_statistics_approximate_above_the_work_threshold(big_feats, monkeypatch):
    """Where the exact path's work passes the threshold (lowered here) and faiss is installed, the approximate
    path runs, says so, and stays within 0.01 of every pair."""
    from gandiag.samples import knn

    if knn.default_backend() != "faiss-ivf":
        pytest.skip("faiss is not installed")
    monkeypatch.setattr(knn, "AUTO_APPROXIMATE_WORK", 1.0)
    folder, real, fake = big_feats
    _, rows, notes = snapshot_table(SampleInputs(folder / "feats.npz:gen", folder / "feats.npz:ref"), last_step=500)
    want = knn.prdc_exact(real, fake).as_dict()
    assert rows[-1]["full_exact"] == 0.0
    for key in ("coverage", "density", "precision", "recall"):
        assert rows[-1][f"full_{key}"] == pytest.approx(want[key], abs=0.01), key
    assert any("approximate (faiss-ivf" in n and "--exact" in n for n in notes)
    _, rows, _ = snapshot_table(SampleInputs(folder / "feats.npz:gen", folder / "feats.npz:ref", full_set="exact"),
                                last_step=500)
    assert rows[-1]["full_exact"] == 1.0 and rows[-1]["full_density"] == pytest.approx(want["density"], abs=1e-12)


def test_no_full_set_statistics_when_the_verdict_used_every_generated_sample(feats):
    _, rows, notes = snapshot_table(SampleInputs(feats / "snaps", feats / "ref.npz:pool3"), last_step=None)
    assert "full_coverage" not in rows[-1] and not any(n.startswith("samples: all") for n in notes)


def test_cli_full_set_flags(big_feats):
    folder, _, _ = big_feats
    args = ["analyze", str(_history(folder)), "--samples", str(folder / "feats.npz:gen"),
            "--real", str(folder / "feats.npz:ref")]
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code in (0, 1), shown.output
    assert "samples: all 2,400 generated samples" in shown.output and "warning: samples" not in shown.output
    off = CliRunner().invoke(app, [*args, "--no-full-set", "-f", "json"])
    assert off.exit_code in (0, 1) and "full_coverage" not in off.output
    on = CliRunner().invoke(app, [*args, "-f", "json"])
    assert '"full_coverage"' in on.output
    both = CliRunner().invoke(app, [*args, "--exact", "--no-full-set"])
    assert both.exit_code == 2 and "contradict" in both.output
