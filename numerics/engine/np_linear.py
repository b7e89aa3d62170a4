"""Linear models trained by per-example SGD in NumPy: perceptron, logistic and linear regression.

Conventions of the catalog: a constant-1 feature is appended (here stored as the last column
``W[:, D]`` rather than materialised), weights start at 0, and the data are reshuffled each epoch.
Each model has ``train_epoch(X, y, rng) -> updates``, ``evaluate(X, y) -> dict``,
``state() -> dict`` and ``load_state(dict)``.
"""
from __future__ import annotations

import numpy as np

from numerics.engine.np_ops import F32, cross_entropy, rank1_update_, softmax, softmax_


class _Linear:
    """``W = [W_x | b]`` of shape (K, D+1), Fortran order so rows update in place with BLAS."""

    def __init__(self, n_features: int, n_outputs: int):
        self.W = np.zeros((n_outputs, n_features + 1), F32, order="F")   # (K, D+1)

    @property
    def Wx(self) -> np.ndarray:
        return self.W[:, :-1]                                            # (K, D) view

    @property
    def b(self) -> np.ndarray:
        return self.W[:, -1]                                             # (K,) view

    def scores(self, X: np.ndarray) -> np.ndarray:
        return X @ self.Wx.T + self.b                                    # (n, K)

    def state(self) -> dict:
        return {"W": self.W.copy()}

    def load_state(self, state: dict) -> None:
        self.W[...] = state["W"]

    def extras(self) -> dict:
        """Per-epoch extra metrics: the Frobenius norm of W (bias column included)."""
        return {"weight_norm": float(np.linalg.norm(self.W))}


class Perceptron(_Linear):
    """Multi-class perceptron: on a mistake ``W_y += x``, ``W_yhat -= x`` (with the constant 1)."""

    def train_epoch(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> int:
        s = np.empty(self.W.shape[0], F32)
        Wx, b = self.Wx, self.b
        for i in rng.permutation(len(y)):
            x = X[i]
            np.dot(Wx, x, out=s)
            s += b
            y_hat = int(s.argmax())
            if y_hat != y[i]:
                Wx[y[i]] += x
                b[y[i]] += 1.0
                Wx[y_hat] -= x
                b[y_hat] -= 1.0
        return len(y)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict:
        return {"loss": None, "accuracy": float((self.scores(X).argmax(1) == y).mean())}


PENALTIES = ("none", "l2", "l1_subgradient", "l1_proximal")


class LogisticRegression(_Linear):
    """Multinomial logistic regression, per-example SGD: ``W <- W - eta (softmax(Wx) - e_y) x^T``.

    ``penalty`` (strength ``lam``): ``l2`` is ``(lam/2)||W||_F^2`` giving ``W <- (1 - eta lam) W - eta grad``;
    ``l1_subgradient`` uses ``lam sign(W)``; ``l1_proximal`` takes the gradient step and then the
    soft-threshold ``sign(W) max(|W| - eta lam, 0)``. The penalty covers the bias column as well.
    """

    def __init__(self, n_features: int, n_classes: int, eta: float, penalty: str = "none", lam: float = 0.0):
        super().__init__(n_features, n_classes)
        if penalty not in PENALTIES:
            raise ValueError(f"penalty {penalty!r}: expected one of {PENALTIES}")
        self.eta, self.penalty, self.lam = F32(eta), penalty, F32(lam)

    def _penalise_before(self) -> None:
        eta_lam = self.eta * self.lam
        if self.penalty == "l2":
            self.W *= F32(1.0) - eta_lam
        elif self.penalty == "l1_subgradient":
            self.W -= eta_lam * np.sign(self.W)

    def _penalise_after(self) -> None:
        if self.penalty == "l1_proximal":
            t = self.eta * self.lam
            shrunk = np.maximum(np.abs(self.W) - t, 0.0)
            np.copysign(shrunk, self.W, out=shrunk)
            self.W[...] = shrunk

    def train_epoch(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> int:
        g = np.empty(self.W.shape[0], F32)                                 # (K,) softmax(Wx) - e_y
        Wx, b = self.Wx, self.b
        with np.errstate(over="ignore", invalid="ignore"):
            for i in rng.permutation(len(y)):
                x = X[i]
                np.dot(Wx, x, out=g)
                g += b
                softmax_(g)
                g[y[i]] -= 1.0
                self._penalise_before()
                rank1_update_(Wx, -self.eta, g, x)
                b -= self.eta * g
                self._penalise_after()
        return len(y)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict:
        with np.errstate(over="ignore", invalid="ignore"):
            P = softmax(self.scores(X).astype(np.float64))
        return {"loss": cross_entropy(P, y), "accuracy": float((P.argmax(1) == y).mean())}

    def extras(self) -> dict:
        small = float((np.abs(self.W) < 1e-3).mean())
        return {**super().extras(), "fraction_abs_below_1e-3": small}


def least_squares(X: np.ndarray, y: np.ndarray, lam: float | None = 1e-4) -> tuple[np.ndarray, str]:
    """Closed-form ``w*`` for ``[X | 1]``: ``(A^T A + lam I)^{-1} A^T y``, or ``pinv(A) y`` if ``lam`` is None.

    Returns ``(w* (D+1,), method)`` with the bias last, in float64.
    """
    A = np.hstack([X, np.ones((len(X), 1), X.dtype)]).astype(np.float64)   # (n, D+1)
    if lam is None:
        return np.linalg.pinv(A) @ y, "pseudo-inverse"
    return np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ y), f"ridge (lambda={lam:g})"


class LinearRegression(_Linear):
    """Linear regression on ``(1/2)(w^T x + b - y)^2`` with per-example SGD, weights from 0.

    ``w_star`` (optional, (D+1,)) enables the per-epoch extra ``distance_to_w_star``.
    """

    def __init__(self, n_features: int, eta: float, w_star: np.ndarray | None = None):
        super().__init__(n_features, 1)
        self.eta, self.w_star = F32(eta), w_star

    def train_epoch(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> int:
        w, b = self.Wx[0], self.W[0:1, -1]
        with np.errstate(over="ignore", invalid="ignore"):
            for i in rng.permutation(len(y)):
                x = X[i]
                r = F32(np.dot(w, x) + b[0] - y[i])                      # residual
                w -= (self.eta * r) * x
                b -= self.eta * r
        return len(y)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict:
        with np.errstate(over="ignore", invalid="ignore"):
            r = self.scores(X)[:, 0].astype(np.float64) - y
            mse = float(np.mean(r * r))
        return {"loss": 0.5 * mse, "accuracy": None, "rmse": float(np.sqrt(mse))}

    def extras(self) -> dict:
        out = super().extras()
        if self.w_star is not None:
            out["distance_to_w_star"] = float(np.linalg.norm(self.W[0].astype(np.float64) - self.w_star))
        return out
