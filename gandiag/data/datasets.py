"""Training data, scaled to [-1, 1] (images) or about [-1, 1] (points and vectors).

Embedded, always available:

- images: ``digits8``, ``digits``, ``digits04`` (scikit-learn's 8x8 digits)
  and ``digits16`` (the same upsampled to 16x16);
- 2D points with known geometry: ``ring8``, ``grid25``, ``grid9``, ``blobs3``,
  ``ring16`` (Gaussian mixtures), ``spiral``, ``circle``, ``moons``, ``sine``
  (noisy curves); ``mix8d`` (a Gaussian mixture in 8 dimensions);
- ``cancer``: scikit-learn's breast-cancer features (30-D vectors).

From a file: ``mnist8``, ``mnist``, ``cifar10`` read from the Keras cache
(``~/.keras/datasets``) or a ``.npz`` given with ``data=``; gandiag never
downloads anything.

The known geometry of every synthetic point dataset lives here, in
:data:`POINT_SPECS` (a :class:`MixtureSpec` or a :class:`CurveSpec` per
name), and the training sample is drawn from it: an external oracle imports
the same objects instead of restating centres or curves. Class labels of the
real data sets (digits, cancer, MNIST/CIFAR files with ``y_train``) are on
:attr:`Dataset.labels` and :func:`dataset_labels`.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gandiag.errors import InputError, UsageError

#: Synthetic point datasets are a fixed sample of this many points (drawn with a fixed seed).
N_POINTS = 20000
_DATA_SEED = 20240601


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------------- known geometry


@dataclass(frozen=True, eq=False)
class MixtureSpec:
    """A Gaussian mixture with known modes.

    Component ``k`` is drawn with probability ``weights[k]`` and is
    ``N(centres[k], sigma**2 * I)``. ``grid_side`` (only ``grid25``) records
    how the original harness drew the component of a point: one index per
    axis of a ``grid_side``-per-axis grid (``centres`` in row-major order),
    which keeps that dataset's random stream; it is a sampling detail, not
    geometry.
    """

    centres: np.ndarray  # (k, d)
    sigma: float  # isotropic standard deviation of every mode
    weights: np.ndarray  # (k,), sums to 1
    grid_side: int | None = None

    def __post_init__(self) -> None:
        centres, weights = _frozen(self.centres), _frozen(self.weights)
        if centres.ndim != 2 or weights.shape != (len(centres),):
            raise ValueError("centres must be (k, d) and weights (k,)")
        if not np.isclose(weights.sum(), 1.0) or (weights < 0).any():
            raise ValueError("weights must be >= 0 and sum to 1")
        if self.grid_side is not None and len(centres) != self.grid_side ** centres.shape[1]:
            raise ValueError("grid_side needs grid_side ** d centres")
        object.__setattr__(self, "centres", centres)
        object.__setattr__(self, "weights", weights)

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    @property
    def n_modes(self) -> int:
        return int(len(self.centres))

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``(points (n, d) float64, component (n,))`` drawn from ``rng``."""
        k = self.n_modes
        if self.grid_side is not None:
            ij = rng.integers(0, self.grid_side, (n, self.dim))
            comp = np.ravel_multi_index(tuple(ij.T), (self.grid_side,) * self.dim)
        elif np.all(self.weights == self.weights[0]):
            comp = rng.integers(0, k, n)
        else:
            comp = rng.choice(k, size=n, p=self.weights)
        return self.centres[comp] + self.sigma * rng.standard_normal((n, self.dim)), comp


CurveFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class CurveSpec:
    """Points on a 2D curve (one or more pieces) plus noise.

    ``pieces`` map ``s`` in [0, 1] to ``(n, 2)`` points on the centre line.
    The global parameter ``t`` in [0, 1] runs over the pieces in order, each
    taking an equal share (``t`` in ``[i/k, (i+1)/k)`` is piece ``i``): the
    curve may jump between pieces (``moons``), so measure distance to
    :meth:`dense` (the dense polyline) rather than assuming one connected line.

    ``noise``:

    - ``"gaussian"``: isotropic, standard deviation ``width``;
    - ``"lateral_uniform"``: an offset along the curve's unit normal, uniform
      in ``[-width, width]``;
    - ``"radial_uniform"``: an offset along ``direction(t)`` (default: the
      unit vector from the origin to the curve point), uniform in
      ``[-width, width]`` (the spiral of seed 003).

    ``t_sampler``: ``"uniform"`` (``t`` uniform in [0, 1]) or ``"per_piece"``
    (exactly equal numbers of points on each piece, ``s`` uniform within it).
    """

    pieces: tuple[CurveFn, ...]
    noise: str
    width: float
    t_sampler: str = "uniform"
    direction: CurveFn | None = None

    def __post_init__(self) -> None:
        if self.noise not in ("gaussian", "lateral_uniform", "radial_uniform"):
            raise ValueError(f"unknown curve noise {self.noise!r}")
        if self.t_sampler not in ("uniform", "per_piece"):
            raise ValueError(f"unknown t_sampler {self.t_sampler!r}")
        if not self.pieces:
            raise ValueError("a curve needs at least one piece")

    @property
    def dim(self) -> int:
        return 2

    def _split(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.pieces)
        t = np.asarray(t, dtype=np.float64)
        if k == 1:
            return np.zeros(t.shape, dtype=np.int64), t
        piece = np.minimum(np.floor(t * k).astype(np.int64), k - 1)
        return piece, t * k - piece

    def curve(self, t: np.ndarray) -> np.ndarray:
        """Centre-line points ``(n, 2)`` at global parameters ``t`` in [0, 1]."""
        piece, s = self._split(t)
        if len(self.pieces) == 1:
            return np.asarray(self.pieces[0](s), dtype=np.float64)
        out = np.empty((len(s), 2))
        for i, fn in enumerate(self.pieces):
            mask = piece == i
            if mask.any():
                out[mask] = fn(s[mask])
        return out

    def piece_of(self, t: np.ndarray) -> np.ndarray:
        """Which piece each global parameter falls on."""
        return self._split(t)[0]

    def normal(self, t: np.ndarray, h: float = 1e-5) -> np.ndarray:
        """Unit normals ``(n, 2)`` of the centre line at ``t`` (central differences within a piece)."""
        piece, s = self._split(t)
        out = np.empty((len(s), 2))
        for i, fn in enumerate(self.pieces):
            mask = piece == i
            if mask.any():
                tangent = fn(np.minimum(s[mask] + h, 1.0)) - fn(np.maximum(s[mask] - h, 0.0))
                out[mask] = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def draw_t(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.t_sampler == "uniform":
            return rng.uniform(0.0, 1.0, n)
        k = len(self.pieces)
        counts = [n // k + (i < n % k) for i in range(k)]
        return np.concatenate([(i + rng.uniform(0.0, 1.0, c)) / k for i, c in enumerate(counts)])

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``(points (n, 2) float64, piece (n,))`` drawn from ``rng``."""
        t = self.draw_t(rng, n)
        centre = self.curve(t)
        if self.noise == "gaussian":
            x = centre + self.width * rng.standard_normal((n, 2))
        else:
            u = rng.uniform(-1.0, 1.0, n)
            if self.noise == "lateral_uniform":
                direction = self.normal(t)
            elif self.direction is not None:
                direction = self.direction(t)
            else:
                direction = centre / np.linalg.norm(centre, axis=1, keepdims=True)
            x = centre + (self.width * u)[:, None] * direction
        return x, self.piece_of(t)

    def dense(self, n_per_piece: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(points (m, 2), position (m,), piece (m,))``: a dense polyline of every piece.

        ``position`` is the arc length along the pieces in order, normalised
        to [0, 1] (jumps between pieces add nothing). With one piece and
        ``n_per_piece=4000`` the points are the oracle's former spiral curve.
        """
        pts, pos, piece, total = [], [], [], 0.0
        for i, fn in enumerate(self.pieces):
            p = np.asarray(fn(np.linspace(0.0, 1.0, n_per_piece)), dtype=np.float64)
            arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
            pts.append(p)
            pos.append(total + arc)
            piece.append(np.full(len(p), i))
            total += arc[-1]
        return np.concatenate(pts), np.concatenate(pos) / total, np.concatenate(piece)


PointSpec = MixtureSpec | CurveSpec


def _ring(k: int, radius: float) -> np.ndarray:
    angle = 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _spiral_direction(t: np.ndarray) -> np.ndarray:
    theta = 4 * np.pi * t
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _spiral(t: np.ndarray) -> np.ndarray:  # two turns, radius 0.15 -> 0.9 (seed 003)
    r = 0.15 + 0.75 * t
    return r[:, None] * _spiral_direction(t)


def _circle(t: np.ndarray) -> np.ndarray:
    return 0.7 * np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1)


def _moon_upper(s: np.ndarray) -> np.ndarray:
    a = np.pi * s
    return np.stack([-0.25 + 0.5 * np.cos(a), -0.1 + 0.5 * np.sin(a)], axis=1)


def _moon_lower(s: np.ndarray) -> np.ndarray:
    a = np.pi + np.pi * s
    return np.stack([0.25 + 0.5 * np.cos(a), 0.1 + 0.5 * np.sin(a)], axis=1)


def _sine(t: np.ndarray) -> np.ndarray:
    x = -0.9 + 1.8 * t
    return np.stack([x, 0.45 * np.sin(2 * np.pi * x / 0.9)], axis=1)


def _mix8d_centres(k: int = 6, dim: int = 8, norm: float = 0.9, min_dist: float = 0.9) -> np.ndarray:
    """``k`` random directions scaled to ``norm``, redrawn (same seeded stream) until pairwise >= ``min_dist``."""
    rng = np.random.default_rng([_DATA_SEED, dim, k])
    while True:
        v = rng.standard_normal((k, dim))
        c = norm * v / np.linalg.norm(v, axis=1, keepdims=True)
        d = np.linalg.norm(c[:, None] - c[None], axis=-1)
        if d[np.triu_indices(k, 1)].min() >= min_dist:
            return c


def _grid(side: int, lo: float, step: float) -> np.ndarray:
    ij = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)
    return lo + step * ij


def _equal(k: int) -> np.ndarray:
    return np.full(k, 1.0 / k)


#: The known geometry of every synthetic point dataset; the training sample is drawn from it.
POINT_SPECS: dict[str, PointSpec] = {
    "ring8": MixtureSpec(_ring(8, 0.8), 0.03, _equal(8)),
    "grid25": MixtureSpec(_grid(5, -0.8, 0.4), 0.025, _equal(25), grid_side=5),
    "grid9": MixtureSpec(_grid(3, -0.6, 0.6), 0.04, _equal(9)),
    "blobs3": MixtureSpec(0.6 * np.stack([np.cos(np.radians([90.0, 210.0, 330.0])),
                                          np.sin(np.radians([90.0, 210.0, 330.0]))], axis=1),
                          0.12, np.array([0.55, 0.30, 0.15])),
    "ring16": MixtureSpec(_ring(16, 0.8), 0.01, _equal(16)),
    "mix8d": MixtureSpec(_mix8d_centres(), 0.08, _equal(6)),
    "spiral": CurveSpec((_spiral,), "radial_uniform", 0.04, direction=_spiral_direction),
    "circle": CurveSpec((_circle,), "gaussian", 0.03),
    "moons": CurveSpec((_moon_upper, _moon_lower), "gaussian", 0.04, t_sampler="per_piece"),
    "sine": CurveSpec((_sine,), "gaussian", 0.03),
}


# ---------------------------------------------------------------------------- datasets


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training examples ``x`` (float32, first axis = examples) and what they are.

    ``labels`` (int, one per example, or ``None``) is the class of each
    example where the data has classes: the digit, the cancer diagnosis, the
    mixture component, the moon; the training never sees it.
    """

    name: str
    x: np.ndarray
    kind: str  # "image" or "points" (any 1-D feature vector)
    source: str
    labels: np.ndarray | None = field(default=None, repr=False)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def n_classes(self) -> int | None:
        return None if self.labels is None else int(len(np.unique(self.labels)))

    @property
    def default_latent_dim(self) -> int:
        """2 for 2D points, 8 for vectors of up to 10 dimensions, 16 for longer ones, 50 for images."""
        if self.kind != "points":
            return 50
        dim = self.sample_shape[0]
        return 2 if dim <= 2 else 8 if dim <= 10 else 16

    @property
    def snapshot_size(self) -> int:
        """Samples per snapshot: 500 for points and images up to 16x16, 100 for larger images."""
        if self.kind == "points" or self.sample_shape[0] <= 16:
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
    "digits04": "scikit-learn digits, classes 0-4 (901 images, 8x8)",
    "digits16": "scikit-learn digits, all ten classes, upsampled to 16x16 (1797 images)",
    "ring8": "2D: 8 Gaussians on a circle of radius 0.8 (std 0.03)",
    "grid25": "2D: 25 Gaussians on a 5x5 grid in [-0.8, 0.8] (std 0.025)",
    "grid9": "2D: 9 Gaussians on a 3x3 grid in [-0.6, 0.6] (std 0.04)",
    "blobs3": "2D: 3 wide Gaussians (std 0.12) of weights 0.55/0.30/0.15 on a circle of radius 0.6",
    "ring16": "2D: 16 narrow Gaussians (std 0.01) on a circle of radius 0.8",
    "spiral": "2D: a two-turn spiral with lateral spread",
    "circle": "2D: a continuous ring of radius 0.7 (Gaussian noise, std 0.03), no modes",
    "moons": "2D: two interleaving half circles of radius 0.5 (Gaussian noise, std 0.04)",
    "sine": "2D: a sine wave y = 0.45 sin(2 pi x / 0.9) on [-0.9, 0.9] (Gaussian noise, std 0.03)",
    "mix8d": "8-D: 6 Gaussians (std 0.08) at norm 0.9, at least 0.9 apart",
    "cancer": "scikit-learn breast cancer: 569 x 30 features, z-scored / 3 (two classes)",
    "mnist8": "MNIST class 8 (28x28), from the Keras cache or --data",
    "mnist": "MNIST, all classes (28x28), from the Keras cache or --data",
    "cifar10": "CIFAR-10 (32x32x3), from the Keras cache or --data",
}

_DIGITS = ("digits", "digits8", "digits04", "digits16")


def load_dataset(name: str, data: str | os.PathLike[str] | None = None) -> Dataset:
    """Load a dataset by name; ``data`` is a ``.npz`` file for the file-backed ones."""
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}", hint=f"Choose one of: {', '.join(DATASETS)}")
    if name in _DIGITS:
        return _digits(name)
    if name in POINT_SPECS:
        return _points(name)
    if name == "cancer":
        return _cancer()
    return _from_file(name, data)


def names_for_values(n_values: int) -> list[str]:
    """The data sets ``--real NAME`` can load whose examples hold ``n_values`` values each, most general first.

    MNIST and CIFAR-10 are named only when they are in the Keras cache already (a tutorial run puts them there);
    gandiag never downloads them.
    """
    by_values = {64: ["digits", "digits8", "digits04"], 256: ["digits16"], 784: ["mnist", "mnist8"], 3072: ["cifar10"],
                 2: [n for n in POINT_SPECS if POINT_SPECS[n].dim == 2], 8: ["mix8d"], 30: ["cancer"]}
    names = by_values.get(int(n_values), [])
    if names and names[0] == "mnist" and not (_keras_cache() / "mnist.npz").is_file():
        return []
    if names == ["cifar10"] and not (_keras_cache() / "cifar-10-batches-py").is_dir():
        return []
    return names


def dataset_labels(name: str, data: str | os.PathLike[str] | None = None) -> np.ndarray | None:
    """The class of each training example of ``name`` (aligned with ``load_dataset(name).x``), or ``None``."""
    return load_dataset(name, data).labels


def point_spec(name: str) -> PointSpec:
    """The known geometry of a synthetic point dataset (``KeyError`` message lists the names)."""
    try:
        return POINT_SPECS[name]
    except KeyError:
        raise KeyError(f"{name!r} has no known geometry; point datasets: {', '.join(POINT_SPECS)}") from None


def _digits(name: str) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.images.astype(np.float32)  # values 0..16
    labels = np.asarray(bunch.target, dtype=np.int64)
    keep = {"digits8": labels == 8, "digits04": labels <= 4}.get(name)
    if keep is not None:
        images, labels = images[keep], labels[keep]
    if name == "digits16":
        from scipy.ndimage import zoom

        images = np.stack([zoom(img, 2, order=1) for img in images]).astype(np.float32)
    x = (images / 8.0 - 1.0)[..., None]
    return Dataset(name, x.astype(np.float32), "image", "sklearn.datasets.load_digits", labels)


def _points(name: str) -> Dataset:
    rng = np.random.default_rng(_DATA_SEED)
    x, component = POINT_SPECS[name].sample(rng, N_POINTS)
    has_classes = isinstance(POINT_SPECS[name], MixtureSpec) or len(POINT_SPECS[name].pieces) > 1
    return Dataset(name, x.astype(np.float32), "points", f"generated (seed {_DATA_SEED})",
                   np.asarray(component, dtype=np.int64) if has_classes else None)


def _cancer() -> Dataset:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    x = np.asarray(bunch.data, dtype=np.float64)
    x = (x - x.mean(axis=0)) / x.std(axis=0) / 3.0
    return Dataset("cancer", x.astype(np.float32), "points", "sklearn.datasets.load_breast_cancer",
                   np.asarray(bunch.target, dtype=np.int64))


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
    labels = None
    if y is not None and np.asarray(y).size == len(x):
        labels = np.asarray(y).reshape(-1).astype(np.int64)
    if name == "mnist8":
        if labels is None:
            raise InputError("mnist8 needs y_train (one label per image) to select class 8", where=source,
                             hint=how)
        x, labels = x[labels == 8], labels[labels == 8]
        if len(x) == 0:
            raise InputError("no images of class 8 in y_train", where=source)
    x = x.astype(np.float32)
    if x.max() > 1.5:  # uint8-style 0..255
        x = (x - 127.5) / 127.5
    return Dataset(name, x.astype(np.float32), "image", source, labels)


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
