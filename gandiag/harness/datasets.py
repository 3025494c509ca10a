"""Training data, scaled to [-1, 1] (images) or about [-1, 1] (2D points).

Embedded, always available: ``digits8``, ``digits`` (scikit-learn's 8x8
digits), ``ring8``, ``grid25``, ``spiral`` (2D). From a file: ``mnist8``,
``mnist``, ``cifar10`` read from the Keras cache (``~/.keras/datasets``) or a
``.npz`` given with ``data=``; gandiag never downloads anything.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, UsageError

#: 2D datasets are a fixed sample of this many points (drawn with a fixed seed).
N_POINTS = 20000
_DATA_SEED = 20240601


@dataclass(frozen=True)
class Dataset:
    """Training examples ``x`` (float32, first axis = examples) and what they are."""

    name: str
    x: np.ndarray
    kind: str  # "image" or "points"
    source: str

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def default_latent_dim(self) -> int:
        return 2 if self.kind == "points" else 50

    @property
    def snapshot_size(self) -> int:
        """Samples per snapshot: 500 for 2D and 8x8 data, 100 for larger images."""
        if self.kind == "points" or self.sample_shape[0] <= 8:
            return 500
        return 100

    def reference(self, n: int = 1000, seed: int = 0) -> np.ndarray:
        """Up to ``n`` training examples (without replacement), for ``real.npz``."""
        rng = np.random.default_rng([seed, 7])
        idx = rng.choice(len(self.x), size=min(n, len(self.x)), replace=False)
        return self.x[np.sort(idx)]


DATASETS: dict[str, str] = {
    "digits8": "scikit-learn digits, class 8 only (174 images, 8x8)",
    "digits": "scikit-learn digits, all ten classes (1797 images, 8x8)",
    "ring8": "2D: 8 Gaussians on a circle of radius 0.8 (std 0.03)",
    "grid25": "2D: 25 Gaussians on a 5x5 grid in [-0.8, 0.8] (std 0.025)",
    "spiral": "2D: a two-turn spiral with lateral spread",
    "mnist8": "MNIST class 8 (28x28), from the Keras cache or --data",
    "mnist": "MNIST, all classes (28x28), from the Keras cache or --data",
    "cifar10": "CIFAR-10 (32x32x3), from the Keras cache or --data",
}


def load_dataset(name: str, data: str | os.PathLike[str] | None = None) -> Dataset:
    """Load a dataset by name; ``data`` is a ``.npz`` file for the file-backed ones."""
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}", hint=f"Choose one of: {', '.join(DATASETS)}")
    if name in ("digits", "digits8"):
        return _digits(name)
    if name in ("ring8", "grid25", "spiral"):
        return _points(name)
    return _from_file(name, data)


def _digits(name: str) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32)  # values 0..16
    if name == "digits8":
        images = images[bunch.target == 8]
    x = (images / 8.0 - 1.0)[..., None]
    return Dataset(name, x.astype(np.float32), "image", "sklearn.datasets.load_digits")


def _points(name: str) -> Dataset:
    rng = np.random.default_rng(_DATA_SEED)
    n = N_POINTS
    if name == "ring8":
        k = rng.integers(0, 8, n)
        angle = 2 * np.pi * k / 8
        centres = 0.8 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        x = centres + 0.03 * rng.standard_normal((n, 2))
    elif name == "grid25":
        ij = rng.integers(0, 5, (n, 2))
        x = -0.8 + 0.4 * ij + 0.025 * rng.standard_normal((n, 2))
    else:  # spiral: position along the curve and lateral offset, as in seed 003
        t = rng.uniform(0.0, 1.0, n)
        lateral = rng.uniform(-1.0, 1.0, n)
        theta = 4 * np.pi * t
        r = 0.15 + 0.75 * t
        direction = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        x = r[:, None] * direction + 0.04 * lateral[:, None] * direction
    return Dataset(name, x.astype(np.float32), "points", f"generated (seed {_DATA_SEED})")


def _keras_cache() -> Path:
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets"


def _from_file(name: str, data: str | os.PathLike[str] | None) -> Dataset:
    how = ("Pass --data FILE.npz with arrays x_train (N,28,28 or N,32,32,3, uint8 0..255) and y_train, "
           f"or put Keras' file in {_keras_cache()}")
    if data is not None:
        path = Path(data)
        if not path.exists():
            raise InputError(f"data file not found: {path}", where=str(path), hint=how)
        x, y = _read_npz(path)
        source = str(path)
    elif name.startswith("mnist"):
        path = _keras_cache() / "mnist.npz"
        if not path.exists():
            raise InputError(f"{name} needs MNIST but {path} does not exist (gandiag never downloads)",
                             hint=how)
        x, y = _read_npz(path)
        source = str(path)
    else:
        folder = _keras_cache() / "cifar-10-batches-py"
        if not folder.is_dir():
            raise InputError(f"cifar10 needs {folder} (gandiag never downloads)", hint=how)
        x, y = _read_cifar_folder(folder)
        source = str(folder)
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    expected = (32, 32, 3) if name == "cifar10" else (28, 28, 1)
    if x.shape[1:] != expected:
        raise InputError(f"{name} expects images of shape {expected}, the file has {x.shape[1:]}",
                         where=source, hint=how)
    if name == "mnist8":
        if y is None:
            raise InputError("mnist8 needs y_train to select class 8", where=source, hint=how)
        x = x[np.asarray(y).reshape(-1) == 8]
        if len(x) == 0:
            raise InputError("no images of class 8 in y_train", where=source)
    x = x.astype(np.float32)
    if x.max() > 1.5:  # uint8-style 0..255
        x = (x - 127.5) / 127.5
    return Dataset(name, x.astype(np.float32), "image", source)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with np.load(path, allow_pickle=False) as f:
            if "x_train" not in f.files:
                raise InputError(f"no array 'x_train' in {path.name} (found: {', '.join(f.files)})",
                                 where=str(path), hint="Save the images under the key x_train")
            return f["x_train"], (f["y_train"] if "y_train" in f.files else None)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", where=str(path)) from exc


def _read_cifar_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i in range(1, 6):
        path = folder / f"data_batch_{i}"
        if not path.exists():
            raise InputError(f"missing {path.name}", where=str(folder))
        with open(path, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")  # the official CIFAR-10 python format
        xs.append(np.asarray(batch[b"data"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(batch[b"labels"]))
    return np.concatenate(xs), np.concatenate(ys)
