"""NumPy building blocks shared by the from-scratch trainers (float32 throughout)."""
from __future__ import annotations

import numpy as np
from scipy.linalg import blas

F32 = np.float32


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``Z`` (B, K) (or a single vector (K,)), max-shifted for stability."""
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def softmax_(z: np.ndarray) -> np.ndarray:
    """In-place softmax of one logit vector ``z`` (K,); returns ``z``."""
    z -= z.max()
    np.exp(z, out=z)
    z /= z.sum()
    return z


def one_hot(y: np.ndarray, K: int) -> np.ndarray:
    """Labels (n,) -> one-hot rows (n, K) float32."""
    Y = np.zeros((len(y), K), F32)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def cross_entropy(P: np.ndarray, y: np.ndarray) -> float:
    """Mean ``-log P[i, y_i]`` over rows of probabilities ``P`` (n, K)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.log(P[np.arange(len(y)), y].astype(np.float64)).mean())


# activations g(z) and g'(z) written from (z, a = g(z)) to reuse the forward pass
def _sigmoid(z, out=None):
    out = np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


ACTIVATIONS = {
    "relu": (lambda z, out=None: np.maximum(z, 0.0, out=out), lambda z, a: (z > 0).astype(z.dtype)),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (lambda z, out=None: np.tanh(z, out=out), lambda z, a: 1.0 - a * a),
    "identity": (lambda z, out=None: np.copyto(out, z) or out if out is not None else z.copy(),
                 lambda z, a: np.ones_like(z)),
}


def parse_init(spec: str) -> tuple[str, float, float]:
    """``"normal:0.1,0.1"`` -> ("normal", mean, std); ``"uniform:-0.5,0.5"`` -> ("uniform", low, high);
    ``"standard_normal"`` -> ("normal", 0, 1); ``"zeros"`` -> ("zeros", 0, 0)."""
    if spec == "standard_normal":
        return "normal", 0.0, 1.0
    if spec == "zeros":
        return "zeros", 0.0, 0.0
    kind, _, args = spec.partition(":")
    try:
        p, q = (float(v) for v in args.split(","))
    except ValueError:
        raise ValueError(f"init {spec!r}: expected 'normal:MEAN,STD', 'uniform:LOW,HIGH', "
                         "'standard_normal' or 'zeros'") from None
    if kind not in ("normal", "uniform"):
        raise ValueError(f"init {spec!r}: unknown kind {kind!r}")
    return kind, p, q


def draw(spec: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Draw an array of ``shape`` from the initialisation ``spec`` (see :func:`parse_init`), float32."""
    kind, p, q = parse_init(spec)
    if kind == "zeros":
        return np.zeros(shape, F32)
    if kind == "normal":
        return (p + q * rng.standard_normal(shape)).astype(F32)
    return rng.uniform(p, q, shape).astype(F32)


def rank1_update_(A: np.ndarray, alpha: float, u: np.ndarray, v: np.ndarray) -> None:
    """In place ``A += alpha * outer(u, v)``: BLAS ``sger`` when ``A`` is Fortran-ordered float32."""
    if A.dtype == F32 and A.flags.f_contiguous:
        out = blas.sger(alpha, u, v, a=A, overwrite_a=True)
        if np.shares_memory(out, A):
            return
        A[...] = out  # pragma: no cover - BLAS made a copy
        return
    A += alpha * np.outer(u, v)
