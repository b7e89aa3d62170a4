"""Tiny dataset files in their published formats, for tests whose claimed numbers must be decided.

A claimed number is only compared with a run on the sheet's own dataset (on a substitute it is
undecided), so such tests write a few hundred images in the real format: OCTMNIST/Intel ``.npz``
(MedMNIST keys, uint8 images, labels per split) and MNIST IDX ``.gz`` files. The class shifts the
brightness, so the models learn something within the smoke budget.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_npz_sets(folder: Path, seed: int = 0, sizes=(("train", 300), ("val", 60), ("test", 60))) -> Path:
    """``octmnist.npz`` (28x28 grey, 4 classes, labels (n, 1)) and ``intel.npz`` (48x48x3, 6 classes)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, shape, K in (("octmnist", (28, 28), 4), ("intel", (48, 48, 3), 6)):
        arrays = {}
        for split, n in sizes:
            y = rng.integers(0, K, n)
            mean = (30 + 200 * y / K).reshape((n,) + (1,) * len(shape))
            arrays[f"{split}_images"] = np.clip(rng.normal(mean, 30, (n, *shape)), 0, 255).astype(np.uint8)
            arrays[f"{split}_labels"] = y.reshape(n, 1) if name == "octmnist" else y
        np.savez(folder / f"{name}.npz", **arrays)
    return folder


def write_mnist_idx(folder: Path, seed: int = 0, sizes=(("train", 600), ("t10k", 100))) -> Path:
    """``mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` (28x28 grey, 10 classes)."""
    from numerics.engine import formats

    rng = np.random.default_rng(seed)
    (folder / "mnist").mkdir(parents=True, exist_ok=True)
    for split, n in sizes:
        y = rng.integers(0, 10, n).astype(np.uint8)
        X = np.clip(rng.normal(20 + 20 * y[:, None, None], 30, (n, 28, 28)), 0, 255).astype(np.uint8)
        formats.write_idx(folder / "mnist" / f"{split}-images-idx3-ubyte.gz", X)
        formats.write_idx(folder / "mnist" / f"{split}-labels-idx1-ubyte.gz", y)
    return folder
