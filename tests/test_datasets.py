"""Loaders for every published format (tiny files built in tmp_path), substitutes and provenance."""
from __future__ import annotations

import gzip
import json
import pickle

import numpy as np
import pytest

from numerics import datasets
from numerics.engine import formats

rng = np.random.default_rng(0)


def _images(n, *shape):
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _write_idx_set(folder, n_train=24, n_test=8):
    folder.mkdir(parents=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        formats.write_idx(folder / f"{split}-images-idx3-ubyte.gz", _images(n, 28, 28))
        formats.write_idx(folder / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8))


def _load(name, root):
    datasets._load_cached.cache_clear()
    return datasets.load(name, root, allow_substitute=False)


def test_idx_roundtrip(tmp_path):
    A = _images(5, 28, 28)
    formats.write_idx(tmp_path / "a.gz", A)
    formats.write_idx(tmp_path / "a", A)
    assert np.array_equal(formats.read_idx(tmp_path / "a.gz"), A)
    assert np.array_equal(formats.read_idx(tmp_path / "a"), A)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="IDX"):
        formats.read_idx(tmp_path / "bad")


def test_mnist_idx(tmp_path):
    _write_idx_set(tmp_path / "mnist")
    ds = _load("mnist", tmp_path)
    assert ds.name == "mnist" and not ds.substitute
    assert ds.sizes() == {"train": 20, "val": 4, "test": 8}
    raw = formats.read_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz").reshape(24, -1)
    assert np.array_equal(ds.X("train"), raw[:20].astype(np.float32) / 256)


def test_mnist_pickle(tmp_path):
    parts = tuple((rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)) for n in (10, 4, 6))
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as f:
        pickle.dump(parts, f, protocol=2)
    ds = _load("mnist", tmp_path)
    assert ds.sizes() == {"train": 10, "val": 4, "test": 6}
    assert np.array_equal(ds.X("val"), parts[1][0]) and ds.y("test").dtype == np.int64


def test_fashion_mnist_local_split(tmp_path):
    _write_idx_set(tmp_path / "fashion-mnist", n_train=40)
    monkey = datasets.SYSTEM_FASHION_MNIST
    datasets.SYSTEM_FASHION_MNIST = tmp_path / "nowhere"
    try:
        ds = _load("fashion-mnist", tmp_path)
    finally:
        datasets.SYSTEM_FASHION_MNIST = monkey
    assert ds.sizes() == {"train": 34, "val": 6, "test": 8}
    train_idx, val_idx = datasets.split_random_state(40, 6, 42)
    raw = formats.read_idx(tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz").reshape(40, -1)
    assert np.array_equal(ds.X("val"), raw[val_idx] / np.float32(256))


def test_split_matches_sklearn():
    sklearn = pytest.importorskip("sklearn.model_selection")
    train, val = sklearn.train_test_split(np.arange(600), test_size=100, random_state=42)
    ours = datasets.split_random_state(600, 100, 42)
    assert np.array_equal(ours[0], train) and np.array_equal(ours[1], val)


def test_octmnist_npz(tmp_path):
    arrays = {f"{s}_images": _images(n, 28, 28) for s, n in (("train", 9), ("val", 3), ("test", 2))}
    arrays.update({f"{s}_labels": rng.integers(0, 4, (n, 1)) for s, n in (("train", 9), ("val", 3), ("test", 2))})
    np.savez(tmp_path / "octmnist.npz", **arrays)
    ds = _load("octmnist", tmp_path)
    assert ds.n_classes == 4 and ds.shapes()["train"] == [9, 784] and ds.y("train").shape == (9,)
    np.savez(tmp_path / "octmnist.npz", train_images=arrays["train_images"])
    with pytest.raises(ValueError, match="missing npz keys"):
        _load("octmnist", tmp_path)


def test_intel_npz(tmp_path):
    (tmp_path / "intel").mkdir()
    sizes = {"train": 6, "val": 2, "test": 3}
    arrays = {f"{s}_images": _images(n, 48, 48, 3) for s, n in sizes.items()}
    arrays.update({f"{s}_labels": rng.integers(0, 6, n) for s, n in sizes.items()})
    np.savez(tmp_path / "intel" / "intel.npz", **arrays)
    ds = _load("intel", tmp_path)
    assert ds.sizes() == sizes and ds.shapes()["test"] == [3, 6912] and ds.layout == "HWC"
    assert ds.X("train").max() < 1.0


def test_cifar10_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": _images(20, 3072), b"labels": list(rng.integers(0, 10, 20))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    ds = _load("cifar10", tmp_path)
    assert ds.sizes() == {"train": 90, "val": 10, "test": 20} and ds.image_shape == (3, 32, 32)
    channels = ds.X("train").reshape(90, 3, -1)
    assert np.allclose(channels.mean(axis=(0, 2)), 0, atol=1e-5)
    assert np.allclose(channels.std(axis=(0, 2)), 1, atol=1e-3)


def test_ames_csv(tmp_path):
    lines = ["Lot Area,Neighborhood,Year Built,SalePrice"]
    for i in range(10):
        lines.append(f"{1000 + 10 * i},{'AB'[i % 2]},{'' if i == 3 else 1990 + i},{100000 + 1000 * i}")
    (tmp_path / "ames.csv").write_text("\n".join(lines) + "\n")
    ds = _load("ames", tmp_path)
    assert ds.task == "regression" and ds.sizes() == {"train": 5, "val": 0, "test": 5}
    assert ds.shapes()["train"] == [5, 4]                              # 2 numeric + 2 one-hot
    assert np.allclose(ds.X("train")[:, 0].mean(), 0, atol=1e-6)      # standardised with train stats
    assert set(np.unique(ds.X("test")[:, 1:3])) <= {0.0, 1.0}
    assert ds.y("train")[0] == 100000


def test_substitutes_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCHECK_DATA", str(tmp_path))
    datasets._load_cached.cache_clear()
    for name, classes in (("octmnist", 4), ("intel", 6), ("cifar10", 10), ("mnist", 10)):
        ds = datasets.load(name)
        p = ds.provenance()
        assert p["substitute"] and p["requested"] == name and "not found" in p["substitute_reason"]
        assert p["name"].startswith("substitute:") and ds.n_classes == classes
        assert set(np.unique(ds.y("train"))) <= set(range(classes))
        json.dumps(p)
    ames = datasets.load("ames")
    assert ames.substitute and ames.provenance()["sizes"]["train"] == 1465
    with pytest.raises(FileNotFoundError):
        datasets.load("ames", allow_substitute=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load("imagenet")


def test_fingerprint_and_subsample(tmp_path):
    _write_idx_set(tmp_path / "mnist")
    ds = _load("mnist", tmp_path)
    small = ds.subsample({"train": 5, "test": 3}, seed=7)
    again = ds.subsample({"train": 5, "test": 3}, seed=7)
    assert small.sizes() == {"train": 5, "val": 4, "test": 3}
    assert small.fingerprint() == again.fingerprint() != ds.fingerprint()
    assert small.provenance()["notes"]["subsample"]["seed"] == 7
    assert not ds.X("train").flags.writeable


@pytest.mark.skipif(not datasets.SYSTEM_FASHION_MNIST.exists(), reason="fashion-mnist package not installed")
def test_system_fashion_mnist():
    datasets._load_cached.cache_clear()
    ds = datasets.load("fashion-mnist", "/nonexistent")
    assert not ds.substitute and ds.sizes() == {"train": 50_000, "val": 10_000, "test": 10_000}
    assert ds.X("train").dtype == np.float32 and float(ds.X("train").max()) == 255 / 256
