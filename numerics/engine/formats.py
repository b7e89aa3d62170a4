"""Readers for the published file formats of the datasets (one function per format).

Each reader returns raw arrays exactly as stored (no scaling, no splitting);
the dataset registry in :mod:`numerics.datasets` applies the catalog's preprocessing.

Formats:
- IDX (LeCun's MNIST / Zalando's Fashion-MNIST), optionally gzip-compressed;
- MedMNIST-style ``.npz`` with ``{split}_images`` / ``{split}_labels`` keys;
- Nielsen's ``mnist.pkl.gz`` (a gzip pickle of three ``(X, y)`` tuples);
- the CIFAR-10 "python version" batches (``data_batch_1..5``, ``test_batch``);
- a CSV table with a named target column (Ames housing).

The pickle-based formats execute pickle loading: only read files you trust.
"""
from __future__ import annotations

import csv
import gzip
import pickle
from pathlib import Path

import numpy as np

# IDX type codes -> numpy dtypes (big-endian), from the IDX file-format description.
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

NPZ_SPLITS = ("train", "val", "test")


def _open(path: Path):
    """Open ``path`` for binary reading, transparently un-gzipping ``.gz`` files."""
    path = Path(path)
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (``.gz`` or raw) into an array of its stored shape and dtype.

    The header is two zero bytes, a type code, the number of dimensions ``n``,
    then ``n`` big-endian uint32 sizes; the data follows in C order.
    """
    with _open(path) as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    data = np.frombuffer(raw, dtype, count=int(np.prod(shape)), offset=4 + 4 * ndim)
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as an IDX file; gzip when ``path`` ends in ``.gz``. Used by tests."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def read_npz_splits(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read a MedMNIST-style npz: ``{split: (images, labels)}`` for train/val/test.

    Labels of shape ``(n, 1)`` (MedMNIST's layout) are flattened to ``(n,)``.
    """
    with np.load(path, allow_pickle=False) as z:
        missing = [f"{s}_{k}" for s in NPZ_SPLITS for k in ("images", "labels") if f"{s}_{k}" not in z]
        if missing:
            raise ValueError(f"{path}: missing npz keys {missing}; found {sorted(z.files)}")
        return {s: (z[f"{s}_images"], z[f"{s}_labels"].reshape(-1)) for s in NPZ_SPLITS}


def read_mnist_pkl(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read Nielsen's ``mnist.pkl.gz``: ``{train, val, test: (X float32 (n, 784) in [0,1], y int)}``.

    The file is a Python-2 pickle, hence ``encoding="latin1"``.
    """
    with _open(path) as f:
        train, val, test = pickle.load(f, encoding="latin1")
    return {name: (np.asarray(X, np.float32), np.asarray(y).astype(np.int64))
            for name, (X, y) in zip(NPZ_SPLITS, (train, val, test))}


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path}: not a CIFAR-10 batch (no data/labels keys)")
    return np.asarray(data, np.uint8).reshape(-1, 3072), np.asarray(labels, np.int64)


def read_cifar10(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read ``cifar-10-batches-py``: ``{train, test: (X uint8 (n, 3072) CHW rows, y)}``."""
    folder = Path(folder)
    parts = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    X_train = np.concatenate([p[0] for p in parts])  # (50000, 3072)
    y_train = np.concatenate([p[1] for p in parts])
    return {"train": (X_train, y_train), "test": _read_cifar_batch(folder / "test_batch")}


def read_csv_table(path: Path, target: str) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Read a CSV with a header row: ``(feature names, feature rows as strings, target float64)``."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    if target not in header:
        raise ValueError(f"{path}: target column {target!r} not in header {header[:10]}...")
    t = header.index(target)
    y = np.array([float(r[t]) for r in body])
    names = [h for i, h in enumerate(header) if i != t]
    features = [[v for i, v in enumerate(r) if i != t] for r in body]
    return names, features, y
