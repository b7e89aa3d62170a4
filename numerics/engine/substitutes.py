"""Stand-ins used when a dataset's files are absent (each one documented in docs/engine.md).

Every function here is deterministic: the same call gives the same arrays, so a
substitute run has a stable fingerprint and can be cached like a real one.
"""
from __future__ import annotations

import numpy as np

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def keep_classes(splits: Splits, n_classes: int) -> Splits:
    """Keep the examples whose label is below ``n_classes`` (labels unchanged: 0..n_classes-1)."""
    return {s: (X[y < n_classes], y[y < n_classes]) for s, (X, y) in splits.items()}


def upsample_nearest(X: np.ndarray, side_in: int, side_out: int) -> np.ndarray:
    """Nearest-neighbour resize of grey images: (n, side_in**2) -> (n, side_out, side_out)."""
    idx = (np.arange(side_out) * side_in) // side_out             # (side_out,)
    images = X.reshape(-1, side_in, side_in)
    return images[:, idx][:, :, idx]                              # (n, side_out, side_out)


def grey_to_rgb_hwc(X: np.ndarray, side_in: int, side_out: int) -> np.ndarray:
    """Grey (n, side_in**2) -> RGB HWC flattened (n, side_out*side_out*3), channels repeated."""
    images = upsample_nearest(X, side_in, side_out)               # (n, S, S)
    return np.repeat(images[..., None], 3, axis=-1).reshape(len(X), -1)


def grey_to_rgb_chw_padded(X: np.ndarray, side_in: int, side_out: int) -> np.ndarray:
    """Grey (n, side_in**2) -> zero-padded, centred RGB CHW flattened (n, 3*side_out**2)."""
    pad = (side_out - side_in) // 2
    images = X.reshape(-1, side_in, side_in)
    images = np.pad(images, ((0, 0), (pad, side_out - side_in - pad), (pad, side_out - side_in - pad)))
    return np.repeat(images[:, None], 3, axis=1).reshape(len(X), -1)  # (n, 3*S*S)


def synthetic_images(n_per_split: dict[str, int], n_classes: int, n_features: int, seed: int = 0) -> Splits:
    """Class prototypes plus noise, pixel values in [0, 1): a learnable, non-trivial image set.

    Each class k has a prototype ``P_k ~ U[0,1)^d``; an example is ``clip(0.6 P_y + 0.4 U, 0, 1)``
    with a fresh uniform noise ``U``. Labels cycle 0..K-1 and are shuffled.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((n_classes, n_features), dtype=np.float32)   # (K, d)
    splits = {}
    for split, n in n_per_split.items():
        y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
        noise = rng.random((n, n_features), dtype=np.float32)
        splits[split] = (np.clip(0.6 * prototypes[y] + 0.4 * noise, 0.0, 1.0), y)
    return splits


def synthetic_regression(n: int = 2930, n_numeric: int = 30, n_categorical: int = 4,
                         n_levels: int = 5, noise: float = 20_000.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An Ames-shaped regression set: ``y = 180000 + X w* + eps``.

    ``X`` holds ``n_numeric`` standard-normal columns followed by ``n_categorical`` one-hot
    blocks of ``n_levels`` levels each; ``w* ~ N(0, 15000^2)`` per column; ``eps ~ N(0, noise^2)``.
    Returns ``(X float32 (n, n_numeric + n_categorical*n_levels), y float64 (n,))``.
    """
    rng = np.random.default_rng(seed)
    numeric = rng.standard_normal((n, n_numeric))
    levels = rng.integers(0, n_levels, size=(n, n_categorical))
    onehot = np.zeros((n, n_categorical * n_levels))
    for j in range(n_categorical):
        onehot[np.arange(n), j * n_levels + levels[:, j]] = 1.0
    X = np.concatenate([numeric, onehot], axis=1)
    w_star = rng.normal(0.0, 15_000.0, X.shape[1])
    y = 180_000.0 + X @ w_star + rng.normal(0.0, noise, n)
    return X.astype(np.float32), y
