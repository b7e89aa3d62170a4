"""The backprop course's ``Network`` API (tau.p1) on top of :class:`np_mlp.MLP`.

Column convention of the skeleton code: an input is ``x`` (784,) or a batch (784, n) of columns;
``y`` is a label, labels (n,), or one-hot columns (10, n). ReLU hidden layers, softmax output,
mean cross-entropy ``(1/n) sum_i -y_i . log z_L(x_i)``; weights and biases standard normal by default.
"""
from __future__ import annotations

import numpy as np

from numerics.engine.np_mlp import MLP
from numerics.engine.np_ops import F32, one_hot


class Network(MLP):
    """``Network([784, 40, 10])``; ``backprop(x, y) -> (db, dw)``; ``SGD(...)`` -> per-epoch metrics."""

    def __init__(self, sizes: list[int], init: str = "standard_normal", bias_init: str = "standard_normal",
                 seed: int = 0):
        super().__init__(sizes, "relu", "softmax", "ce", init, bias_init, np.random.default_rng(seed))
        self.rng = np.random.default_rng([seed, 1])

    @property
    def weights(self) -> list[np.ndarray]:
        return self.W                                                   # W_{i+1}: (n_{i+1}, n_i)

    @property
    def biases(self) -> list[np.ndarray]:
        return [b[:, None] for b in self.b]                             # (n_{i+1}, 1) views

    def _rows(self, x: np.ndarray, y) -> tuple[np.ndarray, np.ndarray]:
        """Column-convention inputs -> row batches ``X`` (n, d), one-hot ``Y`` (n, K)."""
        dtype = self.W[0].dtype
        x = np.asarray(x, dtype)
        X = x[None, :] if x.ndim == 1 else x.T                          # (n, d)
        y = np.asarray(y)
        # a 1-D y is one label per column of a batch (n > 1), or for a single x either its label (size 1)
        # or its one-hot vector (size K); a batch of exactly K columns is therefore not ambiguous
        labels = y.ndim == 0 or (y.ndim == 1 and (len(X) > 1 or y.size == 1))
        if labels:
            if y.size != len(X) or y.dtype.kind not in "iu":
                raise ValueError(f"y: expected {len(X)} integer label(s) for {len(X)} input column(s), got {y!r}")
            Y = one_hot(y.reshape(-1), self.sizes[-1]).astype(dtype)
        elif y.ndim == 1:
            Y = y.astype(dtype)[None, :]                                # one one-hot vector (K,)
        else:
            Y = y.T.astype(dtype)                                       # one-hot columns (K, n)
        return X, Y

    def backprop(self, x: np.ndarray, y) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(db, dw)``: ``db[i] = dl/db_{i+1}`` (n_{i+1}, 1), ``dw[i] = dl/dW_{i+1}`` (n_{i+1}, n_i),
        of the mean cross-entropy over the columns of ``x``."""
        X, Y = self._rows(x, y)
        dW, db = self.gradients(X, Y)
        return [g[:, None] for g in db], dW

    def SGD(self, training_data, epochs: int, mini_batch_size: int, learning_rate: float, test_data=None,
            compute_train_metrics: bool = True) -> tuple[list[float], list[float], list[float]]:
        """Mini-batch SGD. ``training_data``/``test_data``: ``(X (n, d), y (n,))`` or a list of ``(x, y)``.

        Returns per-epoch ``(train_accuracy, train_loss, test_accuracy)`` lists (empty when not computed).
        """
        X, y = _as_rows(training_data)
        test = _as_rows(test_data) if test_data is not None else None
        train_acc, train_loss, test_acc = [], [], []
        for _ in range(epochs):
            self.train_epoch(X, y, self.rng, eta=learning_rate, batch_size=mini_batch_size)
            if compute_train_metrics:
                m = self.evaluate(X, y)
                train_acc.append(m["accuracy"])
                train_loss.append(m["loss"])
            if test is not None:
                test_acc.append(self.evaluate(*test)["accuracy"])
        return train_acc, train_loss, test_acc


def _as_rows(data) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` arrays as given, or a list of ``(x column, label or one-hot column)`` pairs."""
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray) and data[0].ndim == 2:
        return np.asarray(data[0], F32), np.asarray(data[1]).astype(np.int64)
    xs, ys = zip(*data)
    X = np.stack([np.asarray(x, F32).reshape(-1) for x in xs])
    y = np.array([int(np.argmax(t)) if np.size(t) > 1 else int(t) for t in ys])
    return X, y
