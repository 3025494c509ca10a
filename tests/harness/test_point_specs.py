"""The embedded datasets: the original ones unchanged, the new ones' shapes, ranges, labels and geometry."""

import hashlib
import json

import numpy as np
import pytest

from gandiag.data.datasets import POINT_SPECS, CurveSpec, MixtureSpec, dataset_labels, load_dataset, point_spec

#: sha256 of x.tobytes() recorded from the harness before the datasets were generated from POINT_SPECS
ORIGINAL = {
    "ring8": ("fbba41e373fa0b4d0ad9f2c067f5b4f59d06f7a74e46e8cf27f9c75bfc9f03b6", [0.5568169951438904, 0.5787067413330078]),
    "grid25": ("e2286afadb6389dacd92e51c240b2c154decb3ffb9314f0bb7c4d57f36273d4f", [-0.7946925163269043, 0.3921390771865845]),
    "spiral": ("473edef0423a5925afdeb926d3ca084e323d688b99b7ac3eb2807cc9ebb87c17", [-0.6533844470977783, -0.37892651557922363]),
    "digits": ("8aa4a98f227fcb6c0e09f481387d6fb1d13ed860d89d558098140c841f9d9acf", None),
    "digits8": ("00bde710fe23f9b3608b6cc9db5c23afdf6e7fcd03006954a794229c2d46c0a4", None),
}


@pytest.mark.parametrize("name", list(ORIGINAL))
def test_original_datasets_are_byte_identical(name):
    x = load_dataset(name).x
    digest, first = ORIGINAL[name]
    if first is not None:  # the first value says more than a hash when this fails
        assert x[0].tolist() == first
    assert hashlib.sha256(x.tobytes()).hexdigest() == digest


# name -> (shape, n, number of classes or None, latent, bound on |x|)
NEW = {
    "grid9": ((2,), 20000, 9, 2, 1.0),
    "blobs3": ((2,), 20000, 3, 2, 1.3),
    "ring16": ((2,), 20000, 16, 2, 1.0),
    "circle": ((2,), 20000, None, 2, 1.0),
    "moons": ((2,), 20000, 2, 2, 1.0),
    "sine": ((2,), 20000, None, 2, 1.0),
    "mix8d": ((8,), 20000, 6, 8, 1.5),
    "cancer": ((30,), 569, 2, 16, 5.0),
    "digits16": ((16, 16, 1), 1797, 10, 50, 1.0),
    "digits04": ((8, 8, 1), 901, 5, 50, 1.0),
}


@pytest.mark.parametrize("name", list(NEW))
def test_new_datasets(name):
    shape, n, classes, latent, bound = NEW[name]
    ds = load_dataset(name)
    assert ds.x.shape == (n, *shape) and ds.x.dtype == np.float32
    assert np.abs(ds.x).max() <= bound
    assert ds.n_classes == classes and ds.default_latent_dim == latent and ds.snapshot_size == 500
    if classes is not None:
        assert ds.labels.shape == (n,) and set(np.unique(ds.labels)) == set(range(classes))
        assert np.array_equal(dataset_labels(name), ds.labels)
    assert np.array_equal(load_dataset(name).x, ds.x)  # fixed


def test_image_ranges_and_labels():
    d16, d8 = load_dataset("digits16"), load_dataset("digits")
    assert d16.x.min() == -1.0 and d16.x.max() == 1.0
    np.testing.assert_array_equal(d16.x[:, ::2, ::2][:, :1, :1], d8.x[:, :1, :1])  # corners kept by order-1 zoom
    assert np.array_equal(d16.labels, d8.labels)
    assert set(load_dataset("digits04").labels.tolist()) == {0, 1, 2, 3, 4}
    assert set(load_dataset("digits8").labels.tolist()) == {8}


def test_cancer_is_standardised():
    x = load_dataset("cancer").x.astype(np.float64)
    np.testing.assert_allclose(x.mean(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(x.std(0), 1 / 3, rtol=1e-5)
    assert (np.abs(x) <= 1).mean() > 0.95
    assert np.bincount(dataset_labels("cancer")).tolist() == [212, 357]


def _nearest_centre(x, centres):
    d = np.linalg.norm(x[:, None] - centres[None], axis=-1)
    return d.argmin(1), d.min(1)


@pytest.mark.parametrize("name", [n for n, s in POINT_SPECS.items() if isinstance(s, MixtureSpec)])
def test_mixtures_follow_their_spec(name):
    spec, ds = POINT_SPECS[name], load_dataset(name)
    assert ds.x.shape[1] == spec.dim and len(spec.weights) == spec.n_modes
    np.testing.assert_allclose(np.bincount(ds.labels) / len(ds.x), spec.weights, atol=0.015)
    resid = ds.x.astype(np.float64) - spec.centres[ds.labels]
    np.testing.assert_allclose(resid.std(0), spec.sigma, rtol=0.05)
    if spec.sigma < 0.05:  # narrow modes: the nearest centre is the component
        assert (_nearest_centre(ds.x.astype(np.float64), spec.centres)[0] == ds.labels).mean() > 0.999


def test_mixture_geometry():
    ring8, grid25 = POINT_SPECS["ring8"], POINT_SPECS["grid25"]
    np.testing.assert_allclose(np.linalg.norm(ring8.centres, axis=1), 0.8)
    assert sorted(set(np.round(grid25.centres.ravel(), 6))) == [-0.8, -0.4, 0.0, 0.4, 0.8]
    assert sorted(set(np.round(POINT_SPECS["grid9"].centres.ravel(), 6))) == [-0.6, 0.0, 0.6]
    blobs = POINT_SPECS["blobs3"]
    np.testing.assert_allclose(np.degrees(np.arctan2(blobs.centres[:, 1], blobs.centres[:, 0])) % 360,
                               [90, 210, 330])
    assert blobs.weights.tolist() == [0.55, 0.30, 0.15] and blobs.sigma == 0.12
    mix = POINT_SPECS["mix8d"]
    np.testing.assert_allclose(np.linalg.norm(mix.centres, axis=1), 0.9)
    d = np.linalg.norm(mix.centres[:, None] - mix.centres[None], axis=-1)
    assert d[np.triu_indices(6, 1)].min() >= 0.9
    with pytest.raises(ValueError):
        ring8.centres[0, 0] = 1.0  # read-only: an oracle cannot change the truth


@pytest.mark.parametrize("name", [n for n, s in POINT_SPECS.items() if isinstance(s, CurveSpec)])
def test_curves_follow_their_spec(name):
    spec, ds = POINT_SPECS[name], load_dataset(name)
    pts, pos, piece = spec.dense(1000)
    assert pos[0] == 0.0 and pos[-1] == pytest.approx(1.0) and (np.diff(pos) >= 0).all()
    x = ds.x[::5].astype(np.float64)  # 4000 points, distance to the dense centre line
    dist = np.concatenate([np.sqrt(((c[:, None] - pts[None]) ** 2).sum(-1)).min(1)
                           for c in np.array_split(x, 8)])
    if spec.noise == "gaussian":  # the distance to a line of a 2D Gaussian offset: mostly < 3 sigma
        assert np.quantile(dist, 0.99) < 3.1 * spec.width
        assert np.median(dist) > 0.3 * spec.width
    else:
        assert dist.max() <= spec.width + 1e-3
    if len(spec.pieces) > 1:
        assert np.bincount(ds.labels).tolist() == [10000, 10000]


def test_spiral_dense_curve_is_the_oracles_former_curve():
    t = np.linspace(0.0, 1.0, 4000)
    theta, r = 4 * np.pi * t, 0.15 + 0.75 * t
    want = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    pts, pos, _ = point_spec("spiral").dense(4000)
    assert np.array_equal(pts, want)


def test_curve_shapes():
    moons, sine, circle = POINT_SPECS["moons"], POINT_SPECS["sine"], POINT_SPECS["circle"]
    np.testing.assert_allclose(moons.curve(np.array([0.0, 0.25, 0.5, 0.75, 1.0])),
                               [[0.25, -0.1], [-0.25, 0.4], [-0.25, 0.1], [0.25, -0.4], [0.75, 0.1]], atol=1e-12)
    np.testing.assert_allclose(moons.piece_of(np.array([0.49, 0.5, 1.0])), [0, 1, 1])
    np.testing.assert_allclose(sine.curve(np.array([0.0, 0.5, 1.0])), [[-0.9, 0.0], [0.0, 0.0], [0.9, 0.0]],
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(circle.curve(np.linspace(0, 1, 9)), axis=1), 0.7)
    normal = circle.normal(np.array([0.0, 0.25]))
    np.testing.assert_allclose(np.abs(normal), [[1.0, 0.0], [0.0, 1.0]], atol=1e-4)


def test_lateral_uniform_noise_stays_within_the_band():
    spec = CurveSpec((lambda s: np.stack([s, s ** 2], axis=1),), "lateral_uniform", 0.05)
    x, _ = spec.sample(np.random.default_rng(0), 2000)
    pts, _, _ = spec.dense(4000)
    dist = np.sqrt(((x[:, None] - pts[None]) ** 2).sum(-1)).min(1)
    assert dist.max() <= 0.05 + 1e-3 and dist.mean() > 0.02


def test_unknown_spec_name():
    with pytest.raises(KeyError, match="ring8"):
        point_spec("digits")


@pytest.mark.train
def test_digits16_trains(tmp_path):
    pytest.importorskip("tensorflow")
    from gandiag.harness import make_config, train
    from gandiag.live.runlog import load_npz

    train(make_config("stable", "digits16", steps=3, seed=0), out=tmp_path, plots=False, checkpoints=False)
    assert load_npz(tmp_path / "samples.npz")["step_3"].shape == (500, 16, 16, 1)
    assert load_npz(tmp_path / "real.npz")["real"].shape == (1000, 16, 16, 1)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["batchnorm"] is True and meta["latent_dim"] == 50 and meta["sample_shape"] == [16, 16, 1]
