"""Linear separability of labelled points by LP, with exactly verified evidence.

Separable: the LP ``y_n (w.x_n + b) >= 1`` is feasible (scipy ``linprog``,
HiGHS); the returned hyperplane is then re-checked in exact rational
arithmetic (``y_n (w.x_n + b) > 0`` for every n).

Not separable: a Farkas (Gordan) certificate ``lambda >= 0`` with
``sum_n lambda_n y_n x_n = 0``, ``sum_n lambda_n y_n = 0`` and
``sum_n lambda_n > 0`` is found with a second LP, rationalised (exact
null vector on the LP's support, else continued fractions) and verified
INDEPENDENTLY of the solver with :class:`fractions.Fraction`. Such a lambda
proves infeasibility: summing ``lambda_n y_n (w.x_n + b) >= lambda_n`` gives
``0 >= sum lambda_n > 0``.

>>> X = [[-1, -1], [-1, 1], [1, -1], [1, 1]]; y = [-1, 1, 1, -1]   # XOR
>>> r = decide(X, y)
>>> r.separable, r.certificate
(False, [Fraction(1, 1), Fraction(1, 1), Fraction(1, 1), Fraction(1, 1)])
>>> verify_certificate(X, y, r.certificate)[0]
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm
from typing import Optional, Sequence

import numpy as np
from scipy.optimize import linprog


class SolverFailure(RuntimeError):
    """The LP solver returned neither 'optimal' nor 'infeasible'."""


@dataclass
class Decision:
    separable: bool
    w: Optional[list[Fraction]] = None
    b: Optional[Fraction] = None
    certificate: Optional[list[Fraction]] = None
    lp_status: str = ""
    notes: list[str] = field(default_factory=list)


def corners(D: int) -> np.ndarray:
    """All 2^D points of {-1,+1}^D, in the order of itertools.product([-1, 1], repeat=D)."""
    idx = np.arange(2 ** D, dtype=np.int64)[:, None]
    bits = (idx >> np.arange(D - 1, -1, -1, dtype=np.int64)) & 1
    return (2 * bits - 1).astype(np.int64)


def _as_fraction(v: float, max_den: int = 10 ** 6) -> Fraction:
    return Fraction(float(v)).limit_denominator(max_den)


def _feasibility_lp(X: np.ndarray, y: np.ndarray):
    n, d = X.shape
    A_ub = -(y[:, None] * np.hstack([X, np.ones((n, 1))]))
    res = linprog(np.zeros(d + 1), A_ub=A_ub, b_ub=-np.ones(n), bounds=[(None, None)] * (d + 1), method="highs")
    return res


def _certificate_lp(X: np.ndarray, y: np.ndarray):
    n, d = X.shape
    M = (y[:, None] * np.hstack([X, np.ones((n, 1))])).T  # (d+1) x n
    A_eq = np.vstack([M, np.ones((1, n))])
    b_eq = np.concatenate([np.zeros(d + 1), [1.0]])
    return linprog(np.zeros(n), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs-ds")


def _exact_nullspace(rows: list[list[Fraction]], ncols: int) -> list[list[Fraction]]:
    """Basis of the null space of a rational matrix (Gauss-Jordan in Fractions)."""
    A = [list(r) for r in rows]
    pivots = []
    r = 0
    for c in range(ncols):
        p = next((i for i in range(r, len(A)) if A[i][c] != 0), None)
        if p is None:
            continue
        A[r], A[p] = A[p], A[r]
        piv = A[r][c]
        A[r] = [a / piv for a in A[r]]
        for i in range(len(A)):
            if i != r and A[i][c] != 0:
                f = A[i][c]
                A[i] = [a - f * b for a, b in zip(A[i], A[r])]
        pivots.append(c)
        r += 1
        if r == len(A):
            break
    free = [c for c in range(ncols) if c not in pivots]
    basis = []
    for fc in free:
        v = [Fraction(0)] * ncols
        v[fc] = Fraction(1)
        for i, pc in enumerate(pivots):
            v[pc] = -A[i][fc]
        basis.append(v)
    return basis


exact_nullspace = _exact_nullspace  # public name (numerics.max_network uses it)


def _rationalise_certificate(X: np.ndarray, y: np.ndarray, lam: np.ndarray) -> list[Fraction]:
    n, d = X.shape
    support = [i for i in range(n) if lam[i] > 1e-9]
    rows = [[Fraction(int(y[i]) * int(X[i, k])) for i in support] for k in range(d)]
    rows.append([Fraction(int(y[i])) for i in support])
    basis = _exact_nullspace(rows, len(support))
    cert = [Fraction(0)] * n
    if len(basis) == 1:
        v = basis[0]
        if all(a > 0 for a in v) or all(a < 0 for a in v):
            sgn = 1 if v[0] > 0 else -1
            den = lcm(*(a.denominator for a in v))
            for i, a in zip(support, v):
                cert[i] = Fraction(sgn * a * den)
            from math import gcd
            g = 0
            for a in cert:
                g = gcd(g, int(a))
            return [a / g for a in cert] if g > 1 else cert
    # fall back: continued-fraction rounding (verified exactly by the caller anyway)
    return [_as_fraction(max(v, 0.0)) for v in lam]


def verify_certificate(X: Sequence[Sequence[int]], y: Sequence[int], lam: Sequence[Fraction]) -> tuple[bool, str]:
    """Exact check that lam proves X, y not linearly separable. Returns (ok, reason)."""
    X = [[Fraction(int(v)) for v in row] for row in np.asarray(X).tolist()]
    y = [int(v) for v in y]
    lam = [Fraction(v) for v in lam]
    if len(lam) != len(X):
        return False, f"the certificate has {len(lam)} entries; there are {len(X)} points"
    neg = [i for i, a in enumerate(lam) if a < 0]
    if neg:
        return False, f"lambda_{neg[0]} = {lam[neg[0]]} is negative"
    total = sum(lam, Fraction(0))
    if total <= 0:
        return False, "all lambda_n are zero"
    d = len(X[0]) if X else 0
    for k in range(d):
        s = sum((a * yy * row[k] for a, yy, row in zip(lam, y, X)), Fraction(0))
        if s != 0:
            return False, f"sum_n lambda_n y_n x_n[{k}] = {s}, not 0"
    s = sum((a * yy for a, yy in zip(lam, y)), Fraction(0))
    if s != 0:
        return False, f"sum_n lambda_n y_n = {s}, not 0"
    return True, f"exact: lambda >= 0, sum lambda = {total} > 0, sum lambda_n y_n (x_n, 1) = 0"


def verify_separator(X, y, w: Sequence[Fraction], b: Fraction) -> tuple[bool, str]:
    X = np.asarray(X).tolist()
    for n, (row, yy) in enumerate(zip(X, y)):
        m = int(yy) * (sum((Fraction(wi) * int(xi) for wi, xi in zip(w, row)), Fraction(0)) + Fraction(b))
        if m <= 0:
            return False, f"point {n} has margin {m} <= 0"
    return True, "exact: y_n (w.x_n + b) > 0 for every n"


def decide(X, y) -> Decision:
    """Decide linear separability of (X, y), y in {-1,+1}; evidence verified exactly."""
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    res = _feasibility_lp(X.astype(float), y.astype(float))
    if res.status == 0:
        w = [_as_fraction(v) for v in res.x[:-1]]
        b = _as_fraction(res.x[-1])
        ok, why = verify_separator(X, y, w, b)
        if not ok:  # rounding broke it: keep the floats exactly
            w = [Fraction(float(v)) for v in res.x[:-1]]
            b = Fraction(float(res.x[-1]))
            ok, why = verify_separator(X, y, w, b)
            if not ok:
                raise SolverFailure(f"LP reported feasible but its hyperplane fails the exact check: {why}")
        return Decision(True, w=w, b=b, lp_status="feasible (HiGHS status 0)")
    if res.status != 2:
        raise SolverFailure(f"separability LP: status {res.status} ({res.message})")
    res2 = _certificate_lp(X.astype(float), y.astype(float))
    if res2.status != 0:
        raise SolverFailure(f"separability LP infeasible but certificate LP status {res2.status} ({res2.message})")
    cert = _rationalise_certificate(X, y, res2.x)
    ok, why = verify_certificate(X, y, cert)
    if not ok:
        raise SolverFailure(f"certificate failed the exact check: {why}")
    return Decision(False, certificate=cert, lp_status="infeasible (HiGHS status 2)")


def has_certificate(X, y) -> bool:
    """True when the certificate LP (lambda >= 0, sum = 1, sum lambda y (x,1) = 0) is feasible."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    res = _certificate_lp(X, y)
    if res.status not in (0, 2):
        raise SolverFailure(f"certificate LP status {res.status} ({res.message})")
    return res.status == 0
