"""Precomputed features and image folders as samples (#20): named arrays, per-step files, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.errors import InputError
from gandiag.ingest.samples import read_reference, read_snapshots
from gandiag.sampling import SampleInputs, snapshot_table


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
