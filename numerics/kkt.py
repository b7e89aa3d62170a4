"""KKT residuals of the squared-slack (L2) soft-margin SVM, in one place.

The primal (``mu`` present: with the extra constraints ``xi >= 0``)::

    min_{w,b,xi} 1/2 ||w||^2 + C/2 sum_i xi_i^2
    s.t. y_i (w.x_i + b) >= 1 - xi_i      (multiplier alpha_i >= 0)
         [xi_i >= 0]                       (multiplier mu_i >= 0)

Its KKT conditions, each measured as a non-negative residual (0 when exact):

* ``primal``: max_i max(0, 1 - xi_i - y_i (w.x_i + b)), and max(0, -xi_i) with ``mu``;
* ``dual``: max(0, -min alpha), and -min mu with ``mu``;
* ``complementarity``: max_i |alpha_i (y_i (w.x_i + b) - 1 + xi_i)|, and |mu_i xi_i|;
* ``stationarity_w``: ||w - sum_i alpha_i y_i x_i||_inf;
* ``stationarity_b``: |sum_i alpha_i y_i|;
* ``stationarity_xi``: ||C xi - alpha (- mu)||_inf.

Every solve and every test of ``tau.t3a``-``t3d`` goes through
:func:`kkt_residuals` (and :func:`assert_kkt` in tests).

>>> import numpy as np
>>> X = np.array([[1.0], [-1.0]]); y = np.array([1.0, -1.0])
>>> C = 2.0    # by symmetry b = 0, xi_1 = xi_2 = 1 - w, so w = 2C/(1 + 2C)
>>> w = np.array([2 * C / (1 + 2 * C)]); xi = np.array([1 / (1 + 2 * C)] * 2); alpha = C * xi
>>> r = kkt_residuals(X, y, C, w, 0.0, xi, alpha)
>>> max(r.values()) < 1e-12
True
>>> assert_kkt(X, y, C, w, 0.0, xi, -alpha)
Traceback (most recent call last):
...
AssertionError: KKT residuals above 1e-06: dual = 0.4, stationarity_w = 1.6, stationarity_xi = 0.8
"""
from __future__ import annotations

from typing import Optional

import numpy as np

KKT_TOL = 1e-6
NAMES = ("primal", "dual", "complementarity", "stationarity_w", "stationarity_b", "stationarity_xi")


def kkt_residuals(X: np.ndarray, y: np.ndarray, C: float, w: np.ndarray, b: float, xi: np.ndarray,
                  alpha: np.ndarray, mu: Optional[np.ndarray] = None) -> dict[str, float]:
    """The six KKT residuals (see the module docstring); ``mu`` for the version with ``xi >= 0``."""
    X = np.asarray(X, float)                       # (n, d)
    y = np.asarray(y, float)                       # (n,)
    w = np.asarray(w, float).reshape(-1)           # (d,)
    xi = np.asarray(xi, float).reshape(-1)         # (n,)
    alpha = np.asarray(alpha, float).reshape(-1)   # (n,)
    slack = y * (X @ w + b) - 1 + xi               # (n,) >= 0 when feasible
    primal = max(0.0, float(-slack.min()))
    dual = max(0.0, float(-alpha.min()))
    comp = float(np.abs(alpha * slack).max())
    grad_xi = C * xi - alpha
    if mu is not None:
        mu = np.asarray(mu, float).reshape(-1)
        primal = max(primal, float(-xi.min()))
        dual = max(dual, float(-mu.min()))
        comp = max(comp, float(np.abs(mu * xi).max()))
        grad_xi = grad_xi - mu
    return {
        "primal": primal,
        "dual": dual,
        "complementarity": comp,
        "stationarity_w": float(np.abs(w - X.T @ (alpha * y)).max()),
        "stationarity_b": float(abs(alpha @ y)),
        "stationarity_xi": float(np.abs(grad_xi).max()),
    }


def kkt_failures(residuals: dict[str, float], tol: float = KKT_TOL) -> list[str]:
    """The residuals above ``tol``, as ``name = value`` texts (empty when the KKT conditions hold)."""
    return [f"{k} = {residuals[k]:.3g}" for k in NAMES if not residuals[k] <= tol]


def assert_kkt(X, y, C, w, b, xi, alpha, mu=None, tol: float = KKT_TOL) -> dict[str, float]:
    """Raise AssertionError naming every residual above ``tol``; return the residuals."""
    r = kkt_residuals(X, y, C, w, b, xi, alpha, mu)
    bad = kkt_failures(r, tol)
    if bad:
        raise AssertionError(f"KKT residuals above {tol:g}: " + ", ".join(bad))
    return r
