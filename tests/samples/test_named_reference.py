"""``--real NAME``: a reference by the name of a data set gandiag knows, read through the real loading code."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gandiag.cli import app
from gandiag.data.datasets import names_for_values
from gandiag.errors import InputError
from gandiag.samples.read import read_reference


def test_digits_by_name_is_scikit_learns_digits_in_the_harness_scale():
    from sklearn.datasets import load_digits

    ref = read_reference("digits")
    assert ref.shape == (1797, 8, 8, 1)
    np.testing.assert_allclose(ref[..., 0], load_digits().images / 8.0 - 1.0, atol=1e-6)


def test_a_folder_of_that_name_wins_over_the_data_set(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits").mkdir()
    for i in range(3):
        Image.fromarray(np.full((5, 5), 40 * i, dtype=np.uint8)).save(tmp_path / "digits" / f"{i}.png")
    ref = read_reference("digits")  # the user's folder of images, not scikit-learn's 1,797 digits
    assert ref.shape[0] == 3 and ref.shape[1:3] == (5, 5)


def test_mnist_is_read_from_the_keras_cache_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(InputError, match="never downloads") as err:
        read_reference("mnist")
    assert "--real FILE.npz" in err.value.hint
    assert names_for_values(784) == []  # not offered as a hint while it is not there
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=x, y_train=np.arange(30) % 10)
    ref = read_reference("mnist")
    assert ref.shape == (30, 28, 28, 1) and ref.min() >= -1 and ref.max() <= 1
    np.testing.assert_allclose(ref[..., 0], (x - 127.5) / 127.5, atol=1e-6)
    assert names_for_values(784) == ["mnist", "mnist8"]


def test_names_offered_for_a_sample_shape():
    assert names_for_values(64)[0] == "digits"
    assert "ring8" in names_for_values(2)
    assert names_for_values(7) == []


def test_an_unknown_name_is_a_missing_file_with_the_names_in_the_hint(tmp_path):
    with pytest.raises(InputError, match="not found") as err:
        read_reference(str(tmp_path / "digitz"))
    assert "digits" in err.value.hint


def test_cli_missing_cache_is_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.csv").write_text("step,d_loss,g_loss\n" + "".join(f"{i},0.6,1.0\n" for i in range(1, 40)))
    np.savez(run / "samples.npz", step_39=np.zeros((60, 28, 28, 1), np.float32))
    result = CliRunner().invoke(app, ["analyze", str(run), "--real", "mnist"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "never downloads" in result.output
