"""Sample readers: npz/npy/PNG folders, and the tutorial's grid images cut back into tiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import zoom

from gandiag.errors import InputError
from gandiag.samples.grids import read_grid_png
from gandiag.samples.read import END_OF_RUN, read_reference, read_snapshots

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def digits_8x8(n: int = 100) -> np.ndarray:
    """Real handwritten digits (scikit-learn's 8x8 set), scaled to [-1, 1] like the tutorial's data."""
    from sklearn.datasets import load_digits

    return (load_digits().images[:n] / 16.0 * 2 - 1).astype(np.float32)


def digits_28x28(n: int = 100) -> np.ndarray:
    """The same digits upsampled to MNIST's 28x28 (bilinear)."""
    return np.clip(zoom(digits_8x8(n), (1, 3.5, 3.5), order=1), -1, 1)


def save_plot_like_the_tutorial(samples: np.ndarray, path: Path, **savefig) -> Path:
    """``summarize_performance`` of the tutorial, verbatim apart from the file name."""
    from matplotlib import pyplot

    X = (samples + 1) / 2.0
    for i in range(10 * 10):
        pyplot.subplot(10, 10, 1 + i)
        pyplot.axis("off")
        pyplot.imshow(X[i, :, :], cmap="gray_r")
    pyplot.savefig(path, **savefig)
    pyplot.close()
    return path


def assert_tiles_match(tiles: np.ndarray, originals: np.ndarray, min_corr: float = 0.95) -> None:
    assert tiles.shape == originals.shape
    corr = [np.corrcoef(t.ravel(), o.ravel())[0, 1] for t, o in zip(tiles, originals)]
    assert min(corr) >= min_corr, f"tile {int(np.argmin(corr))} correlates only {min(corr):.3f}"
    assert tiles.min() >= -1 and tiles.max() <= 1


@pytest.fixture(scope="module")
def grids(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("results_baseline")
    save_plot_like_the_tutorial(digits_8x8(), folder / "generated_plot_093.png")
    save_plot_like_the_tutorial(digits_28x28()[::-1], folder / "generated_plot_186.png")
    return folder


# ----------------------------------------------------------------------------- grid PNGs

def test_grid_of_8x8_digits_is_recovered(grids):
    tiles = read_grid_png(grids / "generated_plot_093.png", (10, 10), tile_shape=(8, 8))
    assert_tiles_match(tiles, digits_8x8())


def test_grid_of_28x28_digits_is_recovered(grids):
    tiles = read_grid_png(grids / "generated_plot_186.png", (10, 10), tile_shape=(28, 28))
    assert_tiles_match(tiles, digits_28x28()[::-1])


def test_grid_folder_reads_one_snapshot_per_image_keyed_by_its_number(grids):
    snaps = read_snapshots(grids, grid=(10, 10), tile_shape=(28, 28))
    assert list(snaps) == [93, 186]
    assert snaps[93].shape == (100, 28, 28)


def test_grid_without_tile_shape_keeps_pixel_tiles(grids):
    tiles = read_grid_png(grids / "generated_plot_093.png")
    assert tiles.shape[0] == 100 and tiles.shape[1] == tiles.shape[2]
    assert 28 <= tiles.shape[1] <= 34  # ~31 px per tile in a default 640x480 figure


def test_grid_with_other_margins_size_and_dpi(tmp_path):
    # nothing is tied to the default figure: cropped margins and another dpi work too
    path = save_plot_like_the_tutorial(digits_8x8(), tmp_path / "generated_plot_001.png",
                                       bbox_inches="tight", dpi=80)
    assert_tiles_match(read_grid_png(path, (10, 10), tile_shape=(8, 8)), digits_8x8())


def test_grid_folder_needs_the_grid_option(grids):
    with pytest.raises(InputError, match="grid images") as err:
        read_snapshots(grids)
    assert "--grid 10x10" in err.value.one_line()


def test_single_png_needs_a_grid(grids):
    with pytest.raises(InputError, match="--grid"):
        read_snapshots(grids / "generated_plot_093.png")


def test_bad_grid_value(grids):
    with pytest.raises(InputError, match="grid"):
        read_grid_png(grids / "generated_plot_093.png", (0, 10))


def test_corrupt_png(tmp_path):
    bad = tmp_path / "generated_plot_001.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(InputError, match="cannot read image"):
        read_snapshots(bad, grid=(10, 10))


# ----------------------------------------------------------------------------- arrays

def test_npz_with_step_keys(tmp_path):
    path = tmp_path / "samples.npz"
    np.savez(path, step_200=np.zeros((500, 2), np.float16), step_100=np.ones((500, 2), np.float16))
    snaps = read_snapshots(path)
    assert list(snaps) == [100, 200] and snaps[100].shape == (500, 2)


def test_npz_without_step_keys(tmp_path):
    path = tmp_path / "samples.npz"
    np.savez(path, samples=np.zeros((5, 2)))
    with pytest.raises(InputError, match=r"no step_<N> arrays .*samples") as err:
        read_snapshots(path)
    assert err.value.where == str(path)


def test_npz_with_mixed_shapes(tmp_path):
    path = tmp_path / "samples.npz"
    np.savez(path, step_1=np.zeros((5, 2)), step_2=np.zeros((5, 3)))
    with pytest.raises(InputError, match="different sample shapes"):
        read_snapshots(path)


def test_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "samples.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError, match="cannot read .npz"):
        read_snapshots(bad)
    with pytest.raises(InputError, match="not found"):
        read_snapshots(tmp_path / "nope.npz")
    (tmp_path / "x.txt").write_text("1")
    with pytest.raises(InputError, match="unknown sample file type"):
        read_snapshots(tmp_path / "x.txt")


def test_npy_is_one_snapshot_at_the_end(tmp_path):
    path = tmp_path / "last.npy"
    np.save(path, np.zeros((300, 28, 28, 1), np.float32))
    assert list(read_snapshots(path)) == [END_OF_RUN]
    assert list(read_snapshots(path, last_step=4680)) == [4680]


def test_empty_npy(tmp_path):
    path = tmp_path / "last.npy"
    np.save(path, np.zeros((0, 2)))
    with pytest.raises(InputError, match="no samples"):
        read_snapshots(path)


def test_png_sample_folder(tmp_path):
    from PIL import Image

    imgs = ((digits_8x8(3) + 1) / 2 * 255).round().astype(np.uint8)
    for i, im in enumerate(imgs):
        Image.fromarray(im).save(tmp_path / f"sample_{i}.png")
    snaps = read_snapshots(tmp_path, last_step=7)
    assert list(snaps) == [7]
    np.testing.assert_allclose(snaps[7], digits_8x8(3), atol=1 / 255 + 1e-6)
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(tmp_path / "sample_9.png")
    with pytest.raises(InputError, match="same size"):
        read_snapshots(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no PNG images"):
        read_snapshots(tmp_path)


# ----------------------------------------------------------------------------- reference

def test_reference_formats(tmp_path):
    np.savez(tmp_path / "real.npz", real=np.ones((10, 2)), other=np.zeros((3, 2)))
    assert read_reference(tmp_path / "real.npz").shape == (10, 2)
    np.savez(tmp_path / "only.npz", x=np.ones((4, 2)))
    assert read_reference(tmp_path / "only.npz").shape == (4, 2)
    np.savez(tmp_path / "two.npz", a=np.ones((4, 2)), b=np.ones((4, 2)))
    with pytest.raises(InputError, match="none is called 'real'"):
        read_reference(tmp_path / "two.npz")
    np.save(tmp_path / "real.npy", np.ones((6, 8, 8)))
    assert read_reference(tmp_path / "real.npy").shape == (6, 8, 8)
    with pytest.raises(InputError, match="reference file not found"):
        read_reference(tmp_path / "missing.npz")
