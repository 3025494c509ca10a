"""Dataset paths: embedded data, a .npz given with data=, the Keras cache, and no download."""

import numpy as np
import pytest

from gandiag.errors import InputError, UsageError
from gandiag.harness import load_dataset, make_config


@pytest.mark.parametrize("name,shape,n", [("digits8", (8, 8, 1), 174), ("digits", (8, 8, 1), 1797),
                                          ("ring8", (2,), 20000), ("grid25", (2,), 20000),
                                          ("spiral", (2,), 20000)])
def test_embedded(name, shape, n):
    ds = load_dataset(name)
    assert ds.x.shape == (n, *shape) and ds.x.dtype == np.float32
    assert ds.x.min() >= -1.0 and ds.x.max() <= 1.0
    assert ds.snapshot_size == 500


def test_points_are_fixed():
    assert np.array_equal(load_dataset("ring8").x, load_dataset("ring8").x)


def _mnist_like(path, n=40):
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
             y_train=np.arange(n) % 10)
    return path


def test_mnist_from_npz_and_class_selection(tmp_path):
    path = _mnist_like(tmp_path / "m.npz")
    full = load_dataset("mnist", data=path)
    eights = load_dataset("mnist8", data=path)
    assert full.x.shape == (40, 28, 28, 1) and eights.x.shape == (4, 28, 28, 1)
    assert full.x.min() >= -1 and full.x.max() <= 1 and full.snapshot_size == 100


def test_keras_cache_is_used(tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    _mnist_like(tmp_path / "datasets" / "mnist.npz")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert load_dataset("mnist8").x.shape == (4, 28, 28, 1)


def test_missing_file_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(InputError, match="never downloads") as err:
        load_dataset("mnist")
    assert "--data" in err.value.one_line()
    with pytest.raises(InputError, match="cifar10"):
        load_dataset("cifar10")
    with pytest.raises(InputError, match="not found"):
        load_dataset("mnist", data=tmp_path / "nope.npz")


def test_wrong_shapes_and_keys(tmp_path):
    np.savez(tmp_path / "bad.npz", images=np.zeros((3, 28, 28)))
    with pytest.raises(InputError, match="x_train"):
        load_dataset("mnist", data=tmp_path / "bad.npz")
    np.savez(tmp_path / "small.npz", x_train=np.zeros((3, 8, 8)))
    with pytest.raises(InputError, match="expects images"):
        load_dataset("cifar10", data=tmp_path / "small.npz")


def test_cifar_from_npz(tmp_path):
    np.savez(tmp_path / "c.npz", x_train=np.full((5, 32, 32, 3), 255, np.uint8), y_train=np.zeros(5))
    ds = load_dataset("cifar10", data=tmp_path / "c.npz")
    assert ds.x.shape == (5, 32, 32, 3) and float(ds.x.max()) == 1.0


def test_unknown_names_and_bad_options():
    with pytest.raises(UsageError, match="unknown dataset"):
        load_dataset("celeba")
    with pytest.raises(UsageError, match="unknown experiment"):
        make_config("nope")
    with pytest.raises(UsageError, match="batch_size"):
        make_config("stable", batch_size=7)
    with pytest.raises(UsageError, match="optimizer must be one of"):
        make_config("stable", optimizer="adagrad")
    with pytest.raises(UsageError, match="unknown training option"):
        make_config("stable", learning_rate=1e-3)


@pytest.mark.train
def test_train_on_small_mnist_and_cifar_files(tmp_path):
    pytest.importorskip("tensorflow")
    from gandiag.harness import train
    from gandiag.live.runlog import load_npz

    path = _mnist_like(tmp_path / "m.npz")
    train(make_config("stable", "mnist", steps=2, batch_size=8, data=str(path)), out=tmp_path / "m",
          plots=False, checkpoints=False)
    assert load_npz(tmp_path / "m" / "samples.npz")["step_2"].shape == (100, 28, 28, 1)
    np.savez(tmp_path / "c.npz", x_train=np.zeros((6, 32, 32, 3), np.uint8))
    train(make_config("stable", "cifar10", steps=2, batch_size=4, data=str(tmp_path / "c.npz")),
          out=tmp_path / "c", plots=False, checkpoints=False)
    assert load_npz(tmp_path / "c" / "samples.npz")["step_2"].shape == (100, 32, 32, 3)
