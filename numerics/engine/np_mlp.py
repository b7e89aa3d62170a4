"""A multilayer perceptron with hand-written backpropagation (NumPy, float32).

Notation (row convention for batches): ``A_0 = X`` (B, n_0); ``Z_l = A_{l-1} W_l^T + b_l`` and
``A_l = g(Z_l)`` for hidden layers, ``A_L = o(Z_L)`` with ``o`` softmax or identity;
``W_l`` is (n_l, n_{l-1}), ``b_l`` is (n_l,). Python lists are 0-based: ``W[0]`` is ``W_1``.

Losses (mean over the batch): ``ce`` = ``-log softmax(Z_L)_y``; ``mse`` = ``1/2 ||o(Z_L) - y||^2``
(``y`` one-hot for classification, the target for regression). Output-layer error ``delta_L = dL/dZ_L``:
``ce``+softmax: ``p - y``; ``mse``+softmax: ``J^T (p - y) = p * (e - p.e)`` with ``e = p - y``;
``mse``+identity: ``z - y``.
"""
from __future__ import annotations

import numpy as np

from numerics.engine.np_ops import ACTIVATIONS, F32, draw, one_hot, rank1_update_, softmax, softmax_

LOSSES = {("ce", "softmax"), ("mse", "softmax"), ("mse", "identity")}


class MLP:
    """Any depth/width; hidden ``activation`` in relu/sigmoid/tanh; ``init`` specs as in ``np_ops.draw``."""

    def __init__(self, sizes: list[int], activation: str = "relu", output: str = "softmax", loss: str = "ce",
                 init: str = "normal:0.1,0.1", bias_init: str = "zeros", rng: np.random.Generator | None = None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}: expected one of {sorted(ACTIVATIONS)}")
        if (loss, output) not in LOSSES:
            raise ValueError(f"loss {loss!r} with output {output!r} is not supported: {sorted(LOSSES)}")
        if len(sizes) < 2:
            raise ValueError(f"sizes {sizes!r}: need at least an input and an output size")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.sizes, self.activation, self.output, self.loss_name = list(sizes), activation, output, loss
        self.g, self.dg = ACTIVATIONS[activation]
        self.W = [np.asfortranarray(draw(init, (n_out, n_in), rng)) for n_in, n_out in zip(sizes, sizes[1:])]
        self.b = [draw(bias_init, (n_out,), rng) for n_out in sizes[1:]]

    # ------------------------------------------------------------------ batch passes
    def forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(Z, A)``: pre-activations Z_1..Z_L and activations A_0..A_L, each (B, n_l)."""
        A, Z = [X], []
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            Z.append(A[-1] @ W.T + b)                                   # (B, n_l)
            last = l == len(self.W) - 1
            A.append(self._out(Z[-1]) if last else self.g(Z[-1]))
        return Z, A

    def _out(self, Z: np.ndarray) -> np.ndarray:
        return softmax(Z) if self.output == "softmax" else Z

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Labels (n,) -> one-hot (n, K) for softmax output; regression targets -> (n, 1)."""
        if self.output == "softmax":
            return y if y.ndim == 2 else one_hot(y, self.sizes[-1])
        return np.asarray(y, F32).reshape(len(y), -1)

    def output_delta(self, Z_L: np.ndarray, A_L: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``dL/dZ_L`` per example (B, K) for the configured loss and output."""
        if self.loss_name == "ce":
            return A_L - Y
        e = A_L - Y
        if self.output == "identity":
            return e
        return A_L * (e - (A_L * e).sum(axis=1, keepdims=True))        # softmax Jacobian^T e

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradients of the batch-mean loss: ``(dW, db)`` with ``dW[i] = dL/dW_{i+1}`` (n_{i+1}, n_i)."""
        Z, A = self.forward(X)
        delta = self.output_delta(Z[-1], A[-1], Y) / len(X)            # (B, n_L)
        dW, db = [None] * len(self.W), [None] * len(self.W)
        for l in range(len(self.W) - 1, -1, -1):
            dW[l] = delta.T @ A[l]                                      # (n_{l+1}, n_l)
            db[l] = delta.sum(axis=0)
            if l > 0:
                delta = (delta @ self.W[l]) * self.dg(Z[l - 1], A[l])   # (B, n_l)
        return dW, db

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean loss over the rows of ``X`` (cross-entropy via a log-sum-exp of the logits)."""
        Y = self.targets(y)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            Z, A = self.forward(X)
            if self.loss_name == "ce":
                Z_L = Z[-1].astype(np.float64)                          # (B, K)
                m = Z_L.max(axis=1, keepdims=True)
                log_p = Z_L - m - np.log(np.exp(Z_L - m).sum(axis=1, keepdims=True))
                return float(-(log_p * Y).sum(axis=1).mean())
            return float(0.5 * ((A[-1].astype(np.float64) - Y) ** 2).sum(axis=1).mean())

    def evaluate(self, X: np.ndarray, y: np.ndarray, batch: int = 4096) -> dict:
        """``{"loss", "accuracy"}`` (regression: ``{"loss", "accuracy": None, "rmse"}``), in chunks."""
        losses, hits = [], 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for s in range(0, len(X), batch):
                Xb, yb = X[s:s + batch], y[s:s + batch]
                losses.append(self.loss(Xb, yb) * len(Xb))
                if self.output == "softmax":
                    hits += int((self.forward(Xb)[1][-1].argmax(1) == (yb if yb.ndim == 1 else yb.argmax(1))).sum())
        loss = float(np.sum(losses) / max(len(X), 1))
        if self.output == "softmax":
            return {"loss": loss, "accuracy": hits / max(len(X), 1)}
        return {"loss": loss, "accuracy": None, "rmse": float(np.sqrt(2 * loss))}

    # ------------------------------------------------------------------ training
    def train_epoch(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                    eta: float = 0.001, batch_size: int = 1) -> int:
        """One pass of SGD over a fresh permutation; returns the number of updates."""
        order = rng.permutation(len(X))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if batch_size == 1:
                return self._per_example_epoch(X, y, order, F32(eta))
            updates = 0
            for s in range(0, len(X), batch_size):
                idx = order[s:s + batch_size]
                dW, db = self.gradients(X[idx], self.targets(y[idx]))
                for W, b, gW, gb in zip(self.W, self.b, dW, db):
                    W -= F32(eta) * gW
                    b -= F32(eta) * gb
                updates += 1
            return updates

    def _per_example_epoch(self, X: np.ndarray, y: np.ndarray, order: np.ndarray, eta: F32) -> int:
        """Per-example SGD with preallocated buffers and in-place rank-1 (BLAS ger) updates."""
        Z = [np.empty(n, F32) for n in self.sizes[1:]]                   # z_l (n_l,)
        A = [None] + [np.empty(n, F32) for n in self.sizes[1:]]          # a_l (n_l,), a_0 = x
        D = [np.empty(n, F32) for n in self.sizes[1:]]                   # delta_l (n_l,)
        Y = self.targets(y)                                              # (n, K)
        L = len(self.W)
        for i in order:
            A[0] = X[i]
            for l in range(L):
                np.dot(self.W[l], A[l], out=Z[l])
                Z[l] += self.b[l]
                if l < L - 1:
                    self.g(Z[l], out=A[l + 1])
                elif self.output == "softmax":
                    np.copyto(A[L], Z[l])
                    softmax_(A[L])
                else:
                    np.copyto(A[L], Z[l])
            D[-1][:] = self.output_delta(Z[-1][None], A[L][None], Y[i][None])[0]
            for l in range(L - 1, -1, -1):
                if l > 0:                                                # delta_{l} before W_{l+1} changes
                    np.dot(D[l], self.W[l], out=D[l - 1])
                    D[l - 1] *= self.dg(Z[l - 1], A[l])
                rank1_update_(self.W[l], -eta, D[l], A[l])
                self.b[l] -= eta * D[l]
        return len(order)

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        return {"W": [W.copy() for W in self.W], "b": [b.copy() for b in self.b]}

    def load_state(self, state: dict) -> None:
        for W, b, W_, b_ in zip(self.W, self.b, state["W"], state["b"]):
            W[...], b[...] = W_, b_

    def extras(self) -> dict:
        return {"weight_norm": float(np.sqrt(sum(float((W.astype(np.float64) ** 2).sum()) for W in self.W)))}
