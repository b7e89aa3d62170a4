"""The Boolean interval function and exhaustive checks of 2-layer threshold networks.

f(x) = +1 if A <= sum_i x_i <= B else -1 on {-1,+1}^D. A network is
``h(x) = sign(v . g(W x + b) + v0)`` with g = sign (``sign(0) = +1``) or ReLU.
All arithmetic is exact: rational weights are scaled to integers (positive
row scaling leaves every sign unchanged), then evaluated with integer numpy
arrays, vectorised over the 2^D corners.

Reference constructions (integer, robust, for every valid (D, A, B)):

* sign: z1 = 2 sum x - 2A + 1, z2 = 2B + 1 - 2 sum x (odd, so never 0 at a
  corner: thresholds sit half-way between integers), output h1 + h2 - 1
  (values 1, -1, -3).
* ReLU: a1 = relu(A - sum x), a2 = relu(sum x - B), output 1 - 2 a1 - 2 a2
  (1 inside, <= -1 outside; odd, so never 0).

>>> net = reference_sign(3, 0, 1)
>>> check_network(net, 3, 0, 1).ok
True
>>> check_network(reference_relu(2, 1, 1), 2, 1, 1).ok     # no attainable sum in [1, 1]: f = -1
True
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Optional

import numpy as np

from numerics.separability import corners

_CORNERS: dict[int, np.ndarray] = {}


def cached_corners(D: int) -> np.ndarray:
    if D not in _CORNERS:
        _CORNERS[D] = corners(D)
    return _CORNERS[D]


def valid_instances(max_D: int, min_D: int = 1):
    for D in range(min_D, max_D + 1):
        for A in range(-D, D + 1):
            for B in range(A, D + 1):
                yield D, A, B


def f_values(X: np.ndarray, A: int, B: int) -> np.ndarray:
    s = X.sum(axis=1)
    return np.where((s >= A) & (s <= B), 1, -1)


def attainable_in(D: int, A: int, B: int) -> list[int]:
    return [s for s in range(-D, D + 1, 2) if A <= s <= B]


@dataclass
class Net:
    """A network with rational weights. W: k rows of D entries; b: k; v: k; v0."""
    kind: str  # "sign" or "relu"
    W: list[list[Fraction]]
    b: list[Fraction]
    v: list[Fraction]
    v0: Fraction


def reference_sign(D: int, A: int, B: int) -> Net:
    F = Fraction
    return Net("sign", [[F(2)] * D, [F(-2)] * D], [F(1 - 2 * A), F(2 * B + 1)], [F(1), F(1)], F(-1))


def reference_relu(D: int, A: int, B: int) -> Net:
    F = Fraction
    return Net("relu", [[F(-1)] * D, [F(1)] * D], [F(A), F(-B)], [F(-2), F(-2)], F(1))


def _den_lcm(vals) -> int:
    return lcm(1, *(Fraction(v).denominator for v in vals))


def _int_array(vals, scale: int) -> np.ndarray:
    out = [int(Fraction(v) * scale) for v in vals]
    big = max((abs(a) for a in out), default=0) > 2 ** 40
    return np.array(out, dtype=object if big else np.int64)


def integerised(net: Net):
    """Integer (Wi, bi, vi, v0i) with the same hidden/output signs (and ReLU output sign)."""
    if net.kind == "sign":
        rows, bs = [], []
        for row, bj in zip(net.W, net.b):
            k = _den_lcm(list(row) + [bj])
            rows.append(_int_array(row, k))
            bs.append(int(Fraction(bj) * k))
        Wi = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.int64)
        bi = np.array(bs, dtype=Wi.dtype)
        k2 = _den_lcm(list(net.v) + [net.v0])
        return Wi, bi, _int_array(net.v, k2), int(Fraction(net.v0) * k2)
    K = _den_lcm([a for row in net.W for a in row] + list(net.b))
    Wi = np.vstack([_int_array(row, K) for row in net.W])
    bi = _int_array(net.b, K)
    v0K = Fraction(net.v0) * K
    k2 = _den_lcm(list(net.v) + [v0K])
    return Wi, bi.astype(Wi.dtype), _int_array(net.v, k2), int(v0K * k2)


def forward(net: Net, X: np.ndarray):
    """(hidden pre-activations Z, output pre-activation u, h) exactly, up to positive scalings."""
    Wi, bi, vi, v0i = integerised(net)
    Z = X.astype(Wi.dtype) @ Wi.T + bi
    H = np.where(Z >= 0, 1, -1) if net.kind == "sign" else np.maximum(Z, 0)
    u = H @ vi + v0i
    return Z, u, np.where(u >= 0, 1, -1)


def _limit_output(net: Net, x: np.ndarray, d: np.ndarray) -> int:
    """lim_{t->0+} h(x + t d), exactly (rational weights)."""
    z = [sum((Fraction(w) * int(xi) for w, xi in zip(row, x)), Fraction(0)) + Fraction(bj)
         for row, bj in zip(net.W, net.b)]
    dz = [sum((Fraction(w) * Fraction(float(di)) for w, di in zip(row, d)), Fraction(0)) for row in net.W]
    if net.kind == "sign":
        hid = [1 if (zj > 0 or (zj == 0 and dzj >= 0)) else -1 for zj, dzj in zip(z, dz)]
        u = sum((Fraction(vj) * hj for vj, hj in zip(net.v, hid)), Fraction(0)) + Fraction(net.v0)
        # hidden values are locally constant along d for small t, so u is the limit value
        return 1 if u > 0 else (-1 if u < 0 else 0)
    val = sum((Fraction(vj) * max(zj, 0) for vj, zj in zip(net.v, z)), Fraction(0)) + Fraction(net.v0)
    if val != 0:
        return 1 if val > 0 else -1
    slope = Fraction(0)
    for vj, zj, dzj in zip(net.v, z, dz):
        if zj > 0 or (zj == 0 and dzj > 0):
            slope += Fraction(vj) * dzj
    return 1 if slope > 0 else (-1 if slope < 0 else 0)


def flipping_direction(net: Net, x: np.ndarray, hx: int) -> Optional[np.ndarray]:
    """A direction d with lim_{t->0+} h(x + t d) != h(x), searched among simple candidates."""
    D = len(x)
    cands = []
    rows = [np.array([float(a) for a in row]) for row in net.W]
    for r in rows:
        cands += [r, -r]
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            cands += [rows[i] + rows[j], rows[i] - rows[j], -rows[i] + rows[j], -rows[i] - rows[j]]
    eye = np.eye(D)
    for i in range(D):
        cands += [eye[i], -eye[i]]
    rng = np.random.default_rng(0)
    cands += list(rng.integers(-3, 4, size=(20, D)).astype(float))
    for d in cands:
        if not np.any(d):
            continue
        lim = _limit_output(net, x, d)
        if lim != 0 and lim != hx:
            return d
    return None


@dataclass
class NetCheck:
    ok: bool
    correct: bool = True
    robust: bool = True
    failure: str = ""          # "", "mismatch", "zero-hidden", "zero-output"
    x: Optional[list[int]] = None
    h: Optional[int] = None
    f: Optional[int] = None
    unit: Optional[int] = None
    direction: Optional[list[float]] = None
    detail: str = ""


def check_network(net: Net, D: int, A: int, B: int, X: Optional[np.ndarray] = None) -> NetCheck:
    """Correctness on every corner (or the rows of X), then robustness; first failure in corner order."""
    X = cached_corners(D) if X is None else X
    Z, u, h = forward(net, X)
    fx = f_values(X, A, B)
    bad = np.nonzero(h != fx)[0]
    if bad.size:
        i = int(bad[0])
        return NetCheck(False, correct=False, failure="mismatch", x=X[i].tolist(), h=int(h[i]), f=int(fx[i]),
                        detail=f"h(x) = {int(h[i])} but f(x) = {int(fx[i])} (sum x = {int(X[i].sum())})")
    if net.kind == "sign":
        zero = np.nonzero((Z == 0).any(axis=1))[0]
        if zero.size:
            i = int(zero[0])
            j = int(np.nonzero(Z[i] == 0)[0][0])
            d = flipping_direction(net, X[i], int(h[i]))
            return NetCheck(False, robust=False, failure="zero-hidden", x=X[i].tolist(), h=int(h[i]), f=int(fx[i]),
                            unit=j + 1, direction=None if d is None else d.tolist(),
                            detail=f"hidden pre-activation z_{j + 1}(x) = 0")
    zero = np.nonzero(u == 0)[0]
    if zero.size:
        i = int(zero[0])
        d = flipping_direction(net, X[i], int(h[i]))
        return NetCheck(False, robust=False, failure="zero-output", x=X[i].tolist(), h=int(h[i]), f=int(fx[i]),
                        direction=None if d is None else d.tolist(), detail="output pre-activation is 0")
    return NetCheck(True)


def sample_corners(D: int, A: int, B: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random corners plus, for each attainable sum near A and B, a corner with that sum."""
    X = rng.choice(np.array([-1, 1]), size=(n, D)).astype(np.int64)
    extra = []
    for s in range(-D, D + 1, 2):
        if min(abs(s - A), abs(s - B)) <= 2:
            k = (s + D) // 2  # number of +1 entries
            row = -np.ones(D, dtype=np.int64)
            row[rng.permutation(D)[:k]] = 1
            extra.append(row)
    return np.vstack([X] + extra) if extra else X


def perturbation_test(net: Net, D: int, A: int, B: int, rng: np.random.Generator, t: float = 1e-7, reps: int = 3) -> bool:
    """Random small perturbations x + t v (floating point) leave h(x) = f(x) unchanged."""
    X = cached_corners(D).astype(float)
    W = np.array([[float(a) for a in row] for row in net.W])
    b = np.array([float(a) for a in net.b])
    v = np.array([float(a) for a in net.v])
    fx = f_values(cached_corners(D), A, B)
    for _ in range(reps):
        P = X + t * rng.standard_normal(X.shape)
        Z = P @ W.T + b
        H = np.where(Z >= 0, 1.0, -1.0) if net.kind == "sign" else np.maximum(Z, 0)
        h = np.where(H @ v + float(net.v0) >= 0, 1, -1)
        if np.any(h != fx):
            return False
    return True
