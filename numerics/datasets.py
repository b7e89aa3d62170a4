"""Named datasets: a real loader for each published format and a documented substitute.

>>> ds = load("fashion-mnist")                       # doctest: +SKIP
>>> ds.provenance()["name"], ds.sizes()["train"]     # doctest: +SKIP
('fashion-mnist', 50000)

Every split is ``(X float32 (n, d), y)``: images are flattened (``image_shape`` and
``layout`` say how to fold them back), labels are int64 class indices, and the Ames
target is float64. The data directory is the ``data_dir`` argument, else the
``DLCHECK_DATA`` environment variable, else ``./data``. Paths, preprocessing and
substitutes are listed in docs/engine.md.
"""
from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from numerics.engine import formats, substitutes, tabular

SPLITS = ("train", "val", "test")
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset with its provenance; arrays are read-only."""

    requested: str                                  # the name asked for
    name: str                                       # the name that actually ran
    splits: dict                                    # {"train"|"val"|"test": (X, y)}
    task: str                                       # "classification" | "regression"
    n_classes: int | None
    image_shape: tuple | None                       # e.g. (1, 28, 28) with layout "CHW"
    layout: str | None
    source: str                                     # files read, or "synthetic: ..."
    preprocessing: str
    substitute_reason: str | None = None
    notes: dict = field(default_factory=dict)      # e.g. the subsample that was taken
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def substitute(self) -> bool:
        return self.substitute_reason is not None

    def X(self, split: str) -> np.ndarray:
        return self.splits[split][0]

    def y(self, split: str) -> np.ndarray:
        return self.splits[split][1]

    def sizes(self) -> dict[str, int]:
        return {s: int(len(self.splits[s][1])) for s in SPLITS}

    def shapes(self) -> dict[str, list[int]]:
        return {s: list(self.splits[s][0].shape) for s in SPLITS}

    def fingerprint(self) -> str:
        """sha256 over dtype, shape and bytes of every split array (in split order)."""
        return _fingerprint(self)

    def provenance(self) -> dict:
        """A plain JSON-able record of what ran: names, substitution, sizes, shapes, fingerprint."""
        return {"requested": self.requested, "name": self.name, "substitute": self.substitute,
                "substitute_reason": self.substitute_reason, "task": self.task,
                "n_classes": self.n_classes, "sizes": self.sizes(), "shapes": self.shapes(),
                "image_shape": list(self.image_shape) if self.image_shape else None,
                "layout": self.layout, "source": self.source, "preprocessing": self.preprocessing,
                "fingerprint": self.fingerprint(), "notes": dict(self.notes)}

    def subsample(self, n: dict[str, int | None], seed: int) -> "Dataset":
        """A random subset of each split: ``n = {"train": 10000, "test": 5000}`` (None = all).

        Split ``s`` keeps ``default_rng([seed, i_s]).permutation(len_s)[:n_s]``; recorded in ``notes``.
        """
        if all(n.get(s) is None or n[s] >= len(self.splits[s][1]) for s in SPLITS):
            return self
        new = {}
        for i, s in enumerate(SPLITS):
            X, y = self.splits[s]
            k = n.get(s)
            if k is None or k >= len(y):
                new[s] = (X, y)
                continue
            idx = np.random.default_rng([seed, i]).permutation(len(y))[:k]
            new[s] = _readonly(X[idx], y[idx])
        taken = {s: n.get(s) for s in SPLITS}
        return replace(self, splits=new, notes={**self.notes, "subsample": {"n": taken, "seed": seed,
                                                                             "from_sizes": self.sizes()}})


def _fingerprint(ds: Dataset) -> str:
    if "fingerprint" not in ds._memo:
        h = hashlib.sha256()
        for s in SPLITS:
            for a in ds.splits[s]:
                h.update(f"{s}:{a.dtype.str}:{a.shape};".encode())
                h.update(np.ascontiguousarray(a).data)
        ds._memo["fingerprint"] = h.hexdigest()
    return ds._memo["fingerprint"]


def _readonly(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data directory: ``path``, else ``$DLCHECK_DATA``, else ``./data``."""
    return Path(path or os.environ.get("DLCHECK_DATA") or "data")


def _first_existing(candidates: list[Path]) -> Path | None:
    return next((p for p in candidates if p.exists()), None)


def _idx_folder(folder: Path) -> Path | None:
    """``folder`` if it holds the four IDX files (``.gz`` or raw), else None."""
    names = [n for pair in IDX_FILES.values() for n in pair]
    ok = all((folder / f"{n}.gz").exists() or (folder / n).exists() for n in names)
    return folder if ok else None


def _read_idx_pair(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = IDX_FILES[split]
    pick = lambda n: folder / f"{n}.gz" if (folder / f"{n}.gz").exists() else folder / n  # noqa: E731
    X = formats.read_idx(pick(images))                            # (n, 28, 28) uint8
    return _flat(X), formats.read_idx(pick(labels)).astype(np.int64)


def _scaled(X: np.ndarray, scale: float) -> np.ndarray:
    return (X.astype(np.float32) / np.float32(scale))


# ---------------------------------------------------------------- Fashion-MNIST
FASHION_VAL_SIZE, FASHION_RANDOM_STATE = 10_000, 42


def split_random_state(n: int, n_val: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx) exactly as ``sklearn.model_selection.train_test_split(test_size=n_val,
    random_state=random_state)``: ``val = perm[:n_val]``, ``train = perm[n_val:]``."""
    perm = np.random.RandomState(random_state).permutation(n)
    return perm[n_val:], perm[:n_val]


def _fashion_splits(folder: Path) -> dict:
    X, y = _read_idx_pair(folder, "train")                        # (60000, 784)
    X_test, y_test = _read_idx_pair(folder, "test")              # (10000, 784)
    n_val = FASHION_VAL_SIZE if len(y) == 60_000 else max(1, len(y) // 6)   # 1/6 for small test files
    train_idx, val_idx = split_random_state(len(y), n_val, FASHION_RANDOM_STATE)
    return {"train": (_scaled(X[train_idx], 256), y[train_idx]), "val": (_scaled(X[val_idx], 256), y[val_idx]),
            "test": (_scaled(X_test, 256), y_test)}


def _find_fashion(root: Path) -> Path | None:
    return _idx_folder(root / "fashion-mnist") or _idx_folder(SYSTEM_FASHION_MNIST)


def _load_fashion(root: Path, requested: str) -> Dataset:
    folder = _find_fashion(root)
    if folder is None:
        raise FileNotFoundError(f"Fashion-MNIST IDX files in {root / 'fashion-mnist'} or {SYSTEM_FASHION_MNIST}")
    return Dataset(requested, "fashion-mnist", _fashion_splits(folder), "classification", 10, (1, 28, 28), "CHW",
                   str(folder), "pixels/256; train/val = random 50,000/10,000 of the 60,000 training "
                   "images (random state 42, sklearn train_test_split order); test = t10k")


# ---------------------------------------------------------------- MNIST (IDX or Nielsen's pickle)
def _load_mnist(root: Path, requested: str) -> Dataset:
    folder = _idx_folder(root / "mnist")
    pkl = _first_existing([root / "mnist" / "mnist.pkl.gz", root / "mnist.pkl.gz"])
    if folder is not None:
        X, y = _read_idx_pair(folder, "train")                    # (60000, 784)
        X_test, y_test = _read_idx_pair(folder, "test")
        cut = len(y) - 10_000 if len(y) > 10_000 else len(y) * 5 // 6
        splits = {"train": (_scaled(X[:cut], 256), y[:cut]), "val": (_scaled(X[cut:], 256), y[cut:]),
                  "test": (_scaled(X_test, 256), y_test)}
        source, prep = str(folder), ("IDX; pixels/256; train = first 50,000, val = last 10,000 of the "
                                     "training images (the layout of mnist.pkl.gz); test = t10k")
    elif pkl is not None:
        splits = formats.read_mnist_pkl(pkl)
        source, prep = str(pkl), "Nielsen's mnist.pkl.gz as stored (pixels in [0,1]); 50,000/10,000/10,000"
    else:
        raise FileNotFoundError(f"MNIST IDX files in {root / 'mnist'} or mnist.pkl.gz in {root}")
    return Dataset(requested, "mnist", splits, "classification", 10, (1, 28, 28), "CHW", source, prep)


# ---------------------------------------------------------------- OCTMNIST
def _load_octmnist(root: Path, requested: str) -> Dataset:
    path = _first_existing([root / "octmnist.npz", root / "octmnist" / "octmnist.npz"])
    if path is None:
        raise FileNotFoundError(f"octmnist.npz in {root} or {root / 'octmnist'}")
    raw = formats.read_npz_splits(path)
    splits = {s: (_scaled(_flat(X), 256), y.astype(np.int64)) for s, (X, y) in raw.items()}
    return Dataset(requested, "octmnist", splits, "classification", 4, (1, 28, 28), "CHW", str(path),
                   "MedMNIST splits as released (train/val = the source training set split 9:1, "
                   "test = the source validation set); pixels/256; flattened to 784")


# ---------------------------------------------------------------- CIFAR-10
CIFAR_VAL_SIZE, CIFAR_RANDOM_STATE = 5_000, 0


def _normalise_channels(splits: dict, channels: int) -> dict:
    """Per-channel standardisation with the training split's mean and std (CHW rows)."""
    X_train = splits["train"][0].reshape(len(splits["train"][0]), channels, -1)
    mean = X_train.mean(axis=(0, 2), keepdims=True)                # (1, C, 1)
    std = X_train.std(axis=(0, 2), keepdims=True) + 1e-8
    return {s: (((X.reshape(len(X), channels, -1) - mean) / std).reshape(len(X), -1).astype(np.float32), y)
            for s, (X, y) in splits.items()}


def _cifar_layout(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> dict:
    train_idx, val_idx = split_random_state(len(y), min(CIFAR_VAL_SIZE, len(y) // 10 or 1), CIFAR_RANDOM_STATE)
    splits = {"train": (_scaled(X[train_idx], 255), y[train_idx]), "val": (_scaled(X[val_idx], 255), y[val_idx]),
              "test": (_scaled(X_test, 255), y_test)}
    return _normalise_channels(splits, 3)


CIFAR_PREP = ("pixels/255, then per-channel standardisation with training-split statistics; "
              "val = random 5,000 of the 50,000 training images (random state 0, the checker's choice: "
              "the sheet gives no validation split)")


def _load_cifar10(root: Path, requested: str) -> Dataset:
    folder = _first_existing([root / "cifar-10-batches-py", root / "cifar10" / "cifar-10-batches-py"])
    if folder is None:
        raise FileNotFoundError(f"cifar-10-batches-py/ in {root} or {root / 'cifar10'}")
    raw = formats.read_cifar10(folder)
    splits = _cifar_layout(*raw["train"], *raw["test"])
    return Dataset(requested, "cifar10", splits, "classification", 10, (3, 32, 32), "CHW", str(folder), CIFAR_PREP)


# ---------------------------------------------------------------- Intel (48x48 RGB, 6 classes)
INTEL_CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")
INTEL_SIZES = {"train": 12_630, "val": 1_404, "test": 3_000}   # the catalog's split sizes


def _load_intel(root: Path, requested: str) -> Dataset:
    path = _first_existing([root / "intel.npz", root / "intel" / "intel.npz"])
    if path is None:
        raise FileNotFoundError(f"intel.npz in {root} or {root / 'intel'}")
    raw = formats.read_npz_splits(path)  # images uint8 (n, 48, 48, 3)
    splits = {s: (_scaled(_flat(X), 256), y.astype(np.int64)) for s, (X, y) in raw.items()}
    return Dataset(requested, "intel", splits, "classification", 6, (48, 48, 3), "HWC", str(path),
                   "splits as stored in the npz; pixels/256; HWC rows flattened to 6,912")


# ---------------------------------------------------------------- Ames housing
AMES_TARGET, AMES_N_TRAIN = "SalePrice", 1465


def _ames_dataset(requested: str, name: str, X: np.ndarray, y: np.ndarray, source: str, prep: str,
                  reason: str | None = None, notes: dict | None = None) -> Dataset:
    n = min(AMES_N_TRAIN, len(y) // 2) if len(y) < 2 * AMES_N_TRAIN else AMES_N_TRAIN
    empty = (np.zeros((0, X.shape[1]), np.float32), np.zeros(0))
    splits = {"train": (X[:n], y[:n]), "val": empty, "test": (X[n:], y[n:])}
    return Dataset(requested, name, splits, "regression", None, None, None, source, prep, reason, notes or {})


def _load_ames(root: Path, requested: str) -> Dataset:
    path = _first_existing([root / "ames.csv", root / "ames" / "ames.csv"])
    if path is None:
        raise FileNotFoundError(f"ames.csv in {root} or {root / 'ames'}")
    names, rows, y = formats.read_csv_table(path, AMES_TARGET)
    n_train = AMES_N_TRAIN if len(y) >= 2 * AMES_N_TRAIN else len(y) // 2
    X, feature_names = tabular.encode_table(names, rows, n_train)
    return _ames_dataset(requested, "ames", X, y, str(path),
                         f"target {AMES_TARGET}; numeric columns standardised with training statistics, "
                         "others one-hot; train = first 1,465 rows, test = the rest; no validation split",
                         notes={"features": len(feature_names)})


# ---------------------------------------------------------------- substitutes
def _fashion_or_synthetic(root: Path) -> tuple[dict, str]:
    """Fashion-MNIST splits (as loaded for "fashion-mnist"), else a synthetic grey set."""
    folder = _find_fashion(root)
    if folder is not None:
        return _fashion_splits(folder), f"fashion-mnist ({folder})"
    n = {"train": 6000, "val": 1000, "test": 1000}
    return substitutes.synthetic_images(n, 10, 784, seed=0), "synthetic prototypes+noise (seed 0)"


def _substitute_grey(requested: str, n_classes: int) -> Callable[[Path, str], Dataset]:
    def make(root: Path, reason: str) -> Dataset:
        splits, origin = _fashion_or_synthetic(root)
        splits = substitutes.keep_classes(splits, n_classes)
        return Dataset(requested, f"substitute:{origin.split(' ')[0]}" + (f"[0..{n_classes - 1}]" if n_classes < 10 else ""),
                       splits, "classification", n_classes, (1, 28, 28), "CHW", origin,
                       f"{origin}, classes 0..{n_classes - 1} kept with their labels; pixels/256", reason)
    return make


def _substitute_cifar(root: Path, reason: str) -> Dataset:
    splits, origin = _fashion_or_synthetic(root)
    X = np.concatenate([splits["train"][0], splits["val"][0]])[:50_000]   # CIFAR's 50,000 training images
    y = np.concatenate([splits["train"][1], splits["val"][1]])[:50_000]
    as_rgb = lambda A: substitutes.grey_to_rgb_chw_padded(A, 28, 32) * 255  # noqa: E731 - back to /255 scale
    out = _cifar_layout(as_rgb(X), y, as_rgb(splits["test"][0]), splits["test"][1])
    return Dataset("cifar10", f"substitute:{origin.split(' ')[0]}-rgb32", out, "classification", 10, (3, 32, 32),
                   "CHW", origin, f"{origin} zero-padded 28->32, grey repeated to 3 channels; " + CIFAR_PREP, reason)


def _substitute_intel(root: Path, reason: str) -> Dataset:
    splits, origin = _fashion_or_synthetic(root)
    splits = substitutes.keep_classes(splits, 6)
    out = {s: (substitutes.grey_to_rgb_hwc(X[:INTEL_SIZES[s]], 28, 48), y[:INTEL_SIZES[s]])
           for s, (X, y) in splits.items()}
    return Dataset("intel", f"substitute:{origin.split(' ')[0]}-rgb48[0..5]", out, "classification", 6,
                   (48, 48, 3), "HWC", origin, f"{origin}, classes 0..5, nearest-neighbour resize 28->48, "
                   "grey repeated to 3 channels (HWC); pixels/256; at most the catalog's 12,630/1,404/3,000", reason)


def _substitute_ames(root: Path, reason: str) -> Dataset:
    X, y = substitutes.synthetic_regression()
    return _ames_dataset("ames", "substitute:synthetic-regression", X, y,
                         "synthetic: numerics.engine.substitutes.synthetic_regression(seed=0)",
                         "y = 180000 + X w* + N(0, 20000^2); 30 N(0,1) columns + 4 one-hot blocks of 5; "
                         "train = first 1,465 rows, test = the rest", reason)


@dataclass(frozen=True)
class Entry:
    """A registry entry: the real loader and the substitute used when it raises FileNotFoundError."""

    load: Callable[[Path, str], Dataset]
    substitute: Callable[[Path, str], Dataset]
    expected: str                                   # where the files go, for messages and docs


REGISTRY: dict[str, Entry] = {
    "fashion-mnist": Entry(_load_fashion, _substitute_grey("fashion-mnist", 10),
                           "fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (or /usr/share/datasets)"),
    "mnist": Entry(_load_mnist, _substitute_grey("mnist", 10),
                   "mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz or mnist.pkl.gz"),
    "octmnist": Entry(_load_octmnist, _substitute_grey("octmnist", 4), "octmnist.npz"),
    "cifar10": Entry(_load_cifar10, _substitute_cifar, "cifar-10-batches-py/{data_batch_1..5,test_batch}"),
    "intel": Entry(_load_intel, _substitute_intel, "intel.npz ({train,val,test}_{images,labels})"),
    "ames": Entry(_load_ames, _substitute_ames, "ames.csv (numeric + categorical columns, target SalePrice)"),
}


def names() -> list[str]:
    """The registered dataset names."""
    return sorted(REGISTRY)


def load(name: str, data_dir_: str | os.PathLike | None = None, *, allow_substitute: bool = True) -> Dataset:
    """Load dataset ``name`` from the data directory, or its documented substitute when absent.

    Raises ``ValueError`` for an unknown name and ``FileNotFoundError`` when the files are absent
    and ``allow_substitute`` is False.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; known: {names()}")
    return _load_cached(name, str(data_dir(data_dir_).resolve()), allow_substitute)


class DataError(ValueError):
    """A data file that loads but cannot be trained on (non-finite inputs, an empty training split,
    labels outside the classes); the message names the dataset, the split and what is wrong."""


def _flat(X: np.ndarray) -> np.ndarray:
    """(n, ...) -> (n, features), also for n = 0."""
    return X.reshape(len(X), int(np.prod(X.shape[1:], dtype=np.int64)))


def validate(ds: "Dataset") -> None:
    """Refuse data that would silently poison training; one line naming the split and the fault."""
    where = f"dataset {ds.name!r} ({ds.source})"
    if len(ds.splits["train"][1]) == 0:
        raise DataError(f"{where}: the training split is empty")
    for split, (X, y) in ds.splits.items():
        if len(y) != len(X):
            raise DataError(f"{where}: split {split} has {len(X)} inputs but {len(y)} labels")
        bad = int(np.size(X) - np.count_nonzero(np.isfinite(X))) if np.issubdtype(X.dtype, np.floating) else 0
        if bad:
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
            raise DataError(f"{where}: split {split} has {bad} non-finite input value(s) (NaN or inf), "
                            f"the first at index {first}")
        if ds.task == "classification" and len(y) and (int(y.min()) < 0 or int(y.max()) >= (ds.n_classes or 0)):
            raise DataError(f"{where}: split {split} has labels outside 0..{(ds.n_classes or 1) - 1} "
                            f"(found {int(y.min())}..{int(y.max())})")


@functools.lru_cache(maxsize=4)
def _load_cached(name: str, root: str, allow_substitute: bool) -> Dataset:
    entry = REGISTRY[name]
    try:
        ds = entry.load(Path(root), name)
    except FileNotFoundError as missing:
        if not allow_substitute:
            raise
        ds = entry.substitute(Path(root), f"not found: {missing}")
    validate(ds)
    return replace(ds, splits={s: _readonly(*ds.splits[s]) for s in SPLITS})
