"""Derivations of SGD updates, for the experiment problems (not registered on their own).

* :func:`logistic_sgd_gradient` (ist23.q1.1b): the gradient of the multinomial
  logistic loss in W is (softmax(Wx) - e_y) x^T, proved with SymPy for small K, D
  and every class y, and checked by central finite differences.
* :func:`l2_update` (ist24.q1.2b): with the penalty (lambda/2) ||W||_F^2 one SGD step is
  W <- (1 - eta lambda) W - eta grad L, proved with symbolic eta, lambda, and checked
  by finite differences of the penalised loss.

Both return ``(steps, checks)`` as :class:`problems.model.Step` / :class:`Check` lists.

>>> steps, checks = logistic_sgd_gradient(2, 2)
>>> all(c.passed for c in checks), len(steps) > 2
(True, True)
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from problems.model import Check, Step
from theory.equivalence import equivalent_matrix

FD_H = 1e-6


def _symbols(K: int, D: int):
    W = sp.Matrix(K, D, lambda i, j: sp.Symbol(f"W{i + 1}{j + 1}", real=True))
    x = sp.Matrix(D, 1, lambda i, _: sp.Symbol(f"x{i + 1}", real=True))
    z = W * x
    den = sum(sp.exp(v) for v in z)
    p = sp.Matrix([sp.exp(v) / den for v in z])
    return W, x, p


def _grad_W(expr, W) -> sp.Matrix:
    return sp.Matrix(W.rows, W.cols, lambda i, j: sp.diff(expr, W[i, j]))


def _np_loss(W, x, y):
    z = W @ x
    z = z - z.max()
    return float(np.log(np.exp(z).sum()) - z[y])


def _np_grad(W, x, y):
    z = W @ x
    p = np.exp(z - z.max())
    p /= p.sum()
    e = np.zeros(len(p))
    e[y] = 1.0
    return np.outer(p - e, x)  # (K, D)


def _fd_grad(f, W):
    G = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        E = np.zeros_like(W)
        E[idx] = FD_H
        G[idx] = (f(W + E) - f(W - E)) / (2 * FD_H)
    return G


def _check_size(K: int, D: int):
    if not (isinstance(K, int) and isinstance(D, int) and 2 <= K <= 6 and 1 <= D <= 6):
        raise ValueError(f"expected integers 2 <= K <= 6 and 1 <= D <= 6, got K = {K!r}, D = {D!r}")


def logistic_sgd_gradient(K: int = 3, D: int = 2, seed: int = 0) -> tuple[list[Step], list[Check]]:
    """Derive grad_W of -log softmax(Wx)_y = (softmax(Wx) - e_y) x^T; prove it (SymPy) and check it (FD)."""
    _check_size(K, D)
    W, x, p = _symbols(K, D)
    proofs = []
    for y in range(K):
        L = -sp.log(p[y])
        e = sp.Matrix([1 if k == y else 0 for k in range(K)])
        proofs.append(equivalent_matrix(_grad_W(L, W), (p - e) * x.T, list(W) + list(x)))
    proved = all(e.equal is True and e.method == "exact" for e in proofs)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(5):
        Wn, xn, yn = rng.normal(size=(K, D)), rng.normal(size=D), int(rng.integers(K))
        fd = _fd_grad(lambda M: _np_loss(M, xn, yn), Wn)
        worst = max(worst, float(np.abs(fd - _np_grad(Wn, xn, yn)).max()))
    steps = [
        Step(text="The loss of one example (x, y) with logits z = W x:",
             math=r"L(W) = -\log\operatorname{softmax}(Wx)_y = -z_y + \log\sum_{k} e^{z_k},\qquad z = Wx",
             rule="definition"),
        Step(text="The gradient in z is p - e_y (ist21.q1.4); z_k depends on row k of W only, with dz_k/dW_kd = x_d:",
             math=r"\frac{\partial L}{\partial W_{kd}} = \frac{\partial L}{\partial z_k}\,x_d = (p_k - [k = y])\,x_d",
             rule="chain rule"),
        Step(text="In matrix form, and the SGD step with learning rate eta:",
             math=r"\nabla_W L = \big(\operatorname{softmax}(Wx) - e_y\big)\,x^\top,\qquad W \leftarrow W - \eta\,"
                  r"\big(\operatorname{softmax}(Wx) - e_y\big)\,x^\top", rule="outer product"),
        Step(text=f"SymPy differentiates L in every W_kd for K = {K}, D = {D} and every class y, and confirms the "
                  f"closed form ({proofs[0].evidence}).", rule="symbolic verification", gap=not proved),
    ]
    checks = [
        Check(f"grad_W L = the outer product (softmax(Wx) - e_y) x for every y (symbolic, K = {K}, D = {D})",
              "SymPy diff + equivalent_matrix", proved, "; ".join(f"y = {y + 1}: {e.evidence}" for y, e in enumerate(proofs))),
        Check("the outer product (softmax(Wx) - e_y) x agrees with finite differences of the loss",
              f"central differences, h = {FD_H:g}, float64, 5 random (W, x, y)", worst < 1e-7,
              f"largest absolute difference {worst:.2g}"),
    ]
    return steps, checks


def l2_update(K: int = 3, D: int = 2, seed: int = 0) -> tuple[list[Step], list[Check]]:
    """Derive the SGD step for L(W) + (lambda/2) ||W||_F^2: W <- (1 - eta lambda) W - eta grad L."""
    _check_size(K, D)
    W, x, p = _symbols(K, D)
    eta, lam = sp.Symbol("eta", positive=True), sp.Symbol("lambda", positive=True)
    y = 0
    L = -sp.log(p[y])
    penalised = L + lam / 2 * sum(w ** 2 for w in W)
    g_pen = _grad_W(penalised, W)
    g_L = _grad_W(L, W)
    step_derived = W - eta * g_pen
    step_closed = (1 - eta * lam) * W - eta * g_L
    syms = list(W) + list(x) + [eta, lam]
    proof_grad = equivalent_matrix(g_pen, g_L + lam * W, syms)
    proof_step = equivalent_matrix(step_derived, step_closed, syms)
    proved = all(e.equal is True and e.method == "exact" for e in (proof_grad, proof_step))
    rng = np.random.default_rng(seed)
    worst = 0.0
    lam_n, eta_n = 0.01, 0.1
    for _ in range(5):
        Wn, xn, yn = rng.normal(size=(K, D)), rng.normal(size=D), int(rng.integers(K))
        fd = _fd_grad(lambda M: _np_loss(M, xn, yn) + lam_n / 2 * float((M ** 2).sum()), Wn)
        upd_fd = Wn - eta_n * fd
        upd_closed = (1 - eta_n * lam_n) * Wn - eta_n * _np_grad(Wn, xn, yn)
        worst = max(worst, float(np.abs(upd_fd - upd_closed).max()))
    steps = [
        Step(text="The penalised loss of one example (L2 regularisation, weight decay):",
             math=r"L_\lambda(W) = L(W) + \frac{\lambda}{2}\|W\|_F^2 = L(W) + \frac{\lambda}{2}\sum_{k,d} W_{kd}^2",
             rule="definition"),
        Step(text="The penalty's gradient is lambda W:",
             math=r"\nabla_W L_\lambda = \nabla_W L + \lambda W", rule="linearity of the gradient"),
        Step(text="One SGD step with learning rate eta shrinks the weights before the usual step (with the penalty "
                  "lambda ||W||^2, without the 1/2, the factor is 1 - 2 eta lambda):",
             math=r"W \leftarrow W - \eta\big(\nabla_W L + \lambda W\big) = (1 - \eta\lambda)\,W - \eta\,\nabla_W L",
             rule="gradient step"),
        Step(text=f"SymPy confirms both lines with symbolic eta and lambda for the logistic loss, K = {K}, D = {D} "
                  f"({proof_step.evidence}).", rule="symbolic verification", gap=not proved),
    ]
    checks = [
        Check(f"W - eta grad L_lambda = (1 - eta lambda) W - eta grad L (symbolic, K = {K}, D = {D})",
              "SymPy diff + equivalent_matrix", proved, f"gradient: {proof_grad.evidence}; step: {proof_step.evidence}"),
        Check("the update agrees with a step along finite differences of the penalised loss",
              f"central differences, h = {FD_H:g}, float64, eta = {eta_n}, lambda = {lam_n}, 5 random (W, x, y)",
              worst < 1e-8, f"largest absolute difference {worst:.2g}"),
    ]
    return steps, checks
