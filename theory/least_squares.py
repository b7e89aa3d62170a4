"""ist21.q2.1: the squared loss is convex (Hessian I), convex in (W, b) for affine z, and the
least-squares solution w* = (X^T X + lambda I)^{-1} X^T y, or X^+ y when X^T X is singular.

The symbolic part is proved with SymPy; w* is computed on synthetic designs (one of full
rank, one with a repeated column, so X^T X is singular) and checked against
``numpy.linalg.lstsq`` with an a-priori bound on the ridge perturbation. Use
:func:`least_squares_solution` for real data (the Ames experiment).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import bool_claim, claim_keys
from theory import convexity as cvx
from theory.equivalence import equivalent_matrix
from theory.parse import ExprError, parse_expr

CLAIM_SCHEMA = """\
Claims for ist21.q2.1 (squared loss), one TOML table; matrix notation: z, y are K-vectors
(K x 1), X is the n x D design, y the targets, lam the ridge lambda; * and @ multiply,
.T transposes, eye(n), inv(A), pinv(A), diag(v).

  ["ist21.q2.1"]
  hessian = "eye(3)"                          # Hessian of 1/2 ||z - y||^2 in z (K = 3)
  convex = true                               # 1/2 ||z - y||^2 is convex in z
  convex_affine = true                        # ... and in (W, b) when z = W phi + b
  w_star = "inv(X.T*X + lam*eye(4))*X.T*y"    # the least-squares solution (D = 4 columns)

w_star is evaluated exactly on both synthetic designs (full rank, and singular with a repeated
column) and must equal the ridge solution with lam = the problem's lambda, or the
pseudo-inverse solution X^+ y, on each.
"""

SEED = 0


# ---------------------------------------------------------------- w*

def least_squares_solution(X: np.ndarray, y: np.ndarray, ridge: float = 1e-4) -> tuple[np.ndarray, str]:
    """w* for min 1/2 ||X w - y||^2, and which formula was used.

    ``ridge > 0``: (X^T X + ridge I)^{-1} X^T y (well-posed even when X^T X is singular);
    ``ridge == 0``: the normal equations when X has full column rank, else the pseudo-inverse.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    D = X.shape[1]
    rank = int(np.linalg.matrix_rank(X))
    if ridge > 0:
        w = np.linalg.solve(X.T @ X + ridge * np.eye(D), X.T @ y)
        return w, (f"ridge (X^T X + {ridge:g} I)^-1 X^T y (rank X = {rank} of {D}"
                   + (", X^T X singular" if rank < D else "") + ")")
    if rank == D:
        return np.linalg.solve(X.T @ X, X.T @ y), f"normal equations (X^T X)^-1 X^T y (rank X = {rank} = D)"
    return np.linalg.pinv(X) @ y, f"pseudo-inverse X^+ y (rank X = {rank} < D = {D}: X^T X is singular)"


def synthetic_designs(n: int = 12, D: int = 4, seed: int = SEED) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Small integer designs with a bias column: one of full rank, one with a repeated column."""
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.integers(-4, 5, size=(n, D - 1)), np.ones((n, 1), dtype=int)])
    y = X @ rng.integers(-3, 4, size=D) + rng.integers(-2, 3, size=n)
    Xs = X.copy()
    Xs[:, 1] = Xs[:, 0]  # a repeated feature: X^T X singular
    ys = Xs @ rng.integers(-3, 4, size=D) + rng.integers(-2, 3, size=n)
    return {"full rank": (X, y), "singular (column 2 = column 1)": (Xs, ys)}


def _ridge_exact(X, y, lam):
    Xm, ym = sp.Matrix(X.tolist()), sp.Matrix(y.tolist())
    return (Xm.T * Xm + lam * sp.eye(Xm.cols)).LUsolve(Xm.T * ym)


def _pinv_exact(X, y):
    Xm, ym = sp.Matrix(X.tolist()), sp.Matrix(y.tolist())
    return Xm.pinv() * ym


def solution_checks(designs, ridge: float) -> tuple[list[Check], Table]:
    checks, rows = [], []
    for name, (X, y) in designs.items():
        w, how = least_squares_solution(X, y, ridge)
        w_ls = np.linalg.lstsq(X.astype(float), y.astype(float), rcond=None)[0]  # minimum-norm least squares
        Xf = X.astype(float)
        s = np.linalg.svd(Xf, compute_uv=False)
        s_min = s[s > 1e-10 * s[0]].min()
        # a-priori bound: w_ridge - w_ls = -lambda (X^T X + lambda I)^{-1} w_ls on the row space
        bound = ridge / (s_min ** 2 + ridge) * np.linalg.norm(w_ls) + 1e-9 * (1 + np.linalg.norm(w_ls))
        diff = float(np.linalg.norm(w - w_ls))
        grad = float(np.linalg.norm(Xf.T @ (Xf @ w - y)))
        checks.append(Check(f"w* on the {name} design agrees with numpy.linalg.lstsq",
                            "numpy.linalg.lstsq (SVD, minimum norm) vs the formula in the table",
                            diff <= bound, f"||w* - w_lstsq|| = {diff:.3g} <= bound lambda/(s_min^2 + lambda) "
                                           f"||w_lstsq|| = {bound:.3g}"))
        checks.append(Check(f"normal equations hold on the {name} design", "||X^T (X w* - y)|| (NumPy)",
                            grad <= max(ridge, 1e-12) * np.linalg.norm(w) * 1.01 + 1e-8,
                            f"||X^T (X w* - y)|| = {grad:.3g} (= lambda ||w*|| for ridge)"))
        rows.append([name, str(int(np.linalg.matrix_rank(Xf))), how,
                     "(" + ", ".join(f"{v:.5f}" for v in w) + ")", f"{diff:.2g}"])
    table = Table(caption=f"Least-squares solutions on synthetic designs (n = {X.shape[0]}, D = {X.shape[1]} "
                          f"including the bias column; random state {SEED})",
                  columns=["design", "rank X", "formula used", "w*", "||w* - lstsq||"], rows=rows)
    return checks, table


# ---------------------------------------------------------------- symbolic part

def squared_loss_steps(K: int) -> tuple[list[Step], list[Check], sp.Matrix, list]:
    z = sp.Matrix(sp.symbols(f"z1:{K + 1}", real=True))
    y = sp.Matrix(sp.symbols(f"y1:{K + 1}", real=True))
    L = sum((a - b) ** 2 for a, b in zip(z, y)) / 2
    grad = sp.Matrix([sp.diff(L, v) for v in z])
    H = sp.hessian(L, list(z))
    g_ok = equivalent_matrix(grad, z - y, list(z) + list(y))
    h_ok = H == sp.eye(K)
    # affine z = W phi + b, small sizes: Hessian in theta = I kron phit phit^T
    aff = {}
    for k, d in cvx.SYMBOLIC_SIZES:
        W, b, phi, theta = cvx.affine_symbols(k, d)
        ys = sp.Matrix(sp.symbols(f"y1:{k + 1}", real=True))
        La = sum((a - c) ** 2 for a, c in zip(W * phi + b, ys)) / 2
        phit = sp.Matrix(list(phi) + [1])
        aff[(k, d)] = equivalent_matrix(sp.hessian(La, theta), sp.kronecker_product(sp.eye(k), phit * phit.T),
                                        theta + list(phi) + list(ys))
    aff_ok = all(e.equal is True and e.method == "exact" for e in aff.values())
    kron = {(k, d): cvx.kron_quadratic_form_identity(k, d + 1) for k, d in cvx.SYMBOLIC_SIZES}
    kron_ok = all(ok for ok, _ in kron.values())
    steps = [
        Step(text=f"Gradient and Hessian of the squared loss (SymPy, K = {K}):",
             math=r"L(z) = \tfrac12\|z - y\|^2,\quad \nabla_z L = z - y,\quad \nabla_z^2 L = " + sp.latex(H)
                  + r" = I_K", rule="differentiation", gap=not (g_ok.equal and h_ok)),
        Step(text="The identity is positive definite (v^T I v = ||v||^2 > 0 for v != 0), so L is (strictly) "
                  "convex in z.", math=r"v^\top\nabla_z^2L\,v = \|v\|^2 \ge 0", rule="second-order condition"),
        Step(text="For z = W phi + b the Jacobian in theta = vec([W b]) is I_K kron phit^T and z is affine, so "
                  "(as in ist21.q1.5) the Hessian is a Kronecker product, PSD because v^T H v = ||V phit||^2:",
             math=r"\nabla_\theta^2 L = I_K\otimes\tilde\phi\tilde\phi^\top,\qquad v^\top\big(I_K\otimes\tilde\phi"
                  r"\tilde\phi^\top\big)v = \sum_k (V_k\tilde\phi)^2 \ge 0",
             rule="chain rule, Kronecker product", gap=not (aff_ok and kron_ok)),
        Step(text="Least squares over a data set (rows of X are [phi(x_n)^T, 1]): the gradient vanishes on the "
                  "normal equations; they have one solution when X has full column rank:",
             math=r"\nabla_w \tfrac12\|Xw - y\|^2 = X^\top(Xw - y) = 0\ \Leftrightarrow\ X^\top X\,w = X^\top y",
             rule="first-order condition (sufficient: convex)"),
        Step(text="When X^T X is singular (repeated or collinear features, e.g. one-hot groups with a bias) the "
                  "minimisers form an affine set; the ridge term makes the system well-posed, and the "
                  "pseudo-inverse picks the minimiser of least norm (its limit as lambda -> 0):",
             math=r"w^\star_\lambda = (X^\top X + \lambda I)^{-1}X^\top y,\qquad w^\star_0 = X^{+}y = "
                  r"\lim_{\lambda\to0^+} w^\star_\lambda", rule="ridge / Moore-Penrose pseudo-inverse"),
    ]
    checks = [
        Check(f"grad L = z - y and Hessian = I_{K} (symbolic)", "SymPy diff/hessian", bool(g_ok.equal and h_ok),
              f"{g_ok.evidence}; Hessian == eye({K}): {h_ok}"),
        Check("Hessian in (W, b) = I kron phit phit^T (symbolic, "
              + ", ".join(f"K = {k}, D = {d}" for k, d in cvx.SYMBOLIC_SIZES) + ")",
              "SymPy hessian + equivalent_matrix", aff_ok, "; ".join(e.evidence for e in aff.values())),
        Check("v^T (A kron f f^T) v = u^T A u (symbolic; A = I gives ||u||^2)", "exact expansion", kron_ok,
              "; ".join(t for _, t in kron.values())),
    ]
    return steps, checks, H, list(z)


def _torch_affine_square_check(K: int = 3, D: int = 2, seed: int = SEED) -> Check:
    import torch

    rng = np.random.default_rng(seed)
    phi, y, theta = rng.normal(size=D), rng.normal(size=K), rng.normal(size=K * (D + 1))

    def loss(t):
        M = t.reshape(K, D + 1)
        return 0.5 * torch.sum((M[:, :D] @ torch.tensor(phi) + M[:, D] - torch.tensor(y)) ** 2)

    Ha = torch.autograd.functional.hessian(loss, torch.tensor(theta)).numpy()
    phit = np.concatenate([phi, [1.0]])
    Hk = np.kron(np.eye(K), np.outer(phit, phit))
    diff = float(np.abs(Ha - Hk).max())
    return Check(f"Hessian in (W, b) = I kron phit phit^T (torch.autograd, K = {K}, D = {D})",
                 "torch.autograd Hessian, float64, a random point", diff < 1e-12,
                 f"largest absolute difference {diff:.2g}; smallest eigenvalue {np.linalg.eigvalsh(Ha).min():.3g}")


# ---------------------------------------------------------------- claims

def _matrix_text(claims, key, pid, symbols, matrices):
    text = claims[key]
    where = f'["{pid}"].{key}'
    if not isinstance(text, str):
        raise InputError(f"{where}: expected a matrix expression as text")
    try:
        return parse_expr(text, symbols, allow_new_symbols=False, matrices=matrices)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None


def _w_star_verdict(claims, pid, designs, lam) -> Verdict:
    text = claims["w_star"]
    for name, (X, y) in designs.items():
        mats = {"X": sp.Matrix(X.tolist()), "y": sp.Matrix(y.tolist())}
        try:
            w = _matrix_text(claims, "w_star", pid, {"lam": lam}, mats)
        except InputError as exc:
            if "singular" in str(exc).lower() or "not invertible" in str(exc).lower():
                return Verdict(f"w_star = {text}", False, f"on the {name} design: {str(exc).split(': ', 1)[-1]}; "
                                                          "X^T X is singular there: use ridge or the pseudo-inverse")
            raise
        if not isinstance(w, sp.MatrixBase) or w.shape != (X.shape[1], 1):
            shape = f"{w.rows}x{w.cols}" if isinstance(w, sp.MatrixBase) else "a scalar"
            raise InputError(f'["{pid}"].w_star: expected a {X.shape[1]}x1 vector, got {shape}')
        ridge = _ridge_exact(X, y, lam)
        pinv = _pinv_exact(X, y)
        if sp.simplify(w - ridge) == sp.zeros(*w.shape):
            continue
        if sp.simplify(w - pinv) == sp.zeros(*w.shape):
            continue
        wn = [float(v) for v in w.evalf(15)]
        rn = [float(v) for v in ridge.evalf(15)]
        return Verdict(f"w_star = {text}", False, f"on the {name} design the claim gives w = ("
                       + ", ".join(f"{v:.6g}" for v in wn) + "), the ridge solution (lambda = "
                       + f"{sp.sstr(lam)}) is (" + ", ".join(f"{v:.6g}" for v in rn) + ")",
                       r"w^\star = (X^\top X + \lambda I)^{-1}X^\top y")
    return Verdict(f"w_star = {text}", True, "equals the ridge or pseudo-inverse solution exactly on both "
                   "synthetic designs (full rank and singular)")


def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q2.1"
    K = cvx._int_param(params, "K", 3, 1, 8)
    ridge = params.get("ridge", 1e-4)
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float)) or not 0 <= ridge <= 1e3:
        raise InputError(f"parameter ridge: expected a number in [0, 1000], got {ridge!r}")
    lam = sp.Rational(repr(float(ridge)))
    allowed = {"hessian", "convex", "convex_affine", "w_star"}
    if claims:
        claim_keys(claims, allowed, f'["{pid}"]')
        for k in ("convex", "convex_affine"):
            if k in claims:
                bool_claim(claims, k, pid)
    r = Result(problem_id=pid, title="Squared loss", params={"K": K, "ridge": float(ridge)}, random_state=SEED,
               data={"dataset": "synthetic integer designs (n = 12, D = 4 with bias; one with a repeated column), "
                                "not the Ames data; apply least_squares_solution to Ames in q2.2a"})
    steps, checks, H, zs = squared_loss_steps(K)
    r.steps += steps
    r.checks += checks
    r.checks.append(_torch_affine_square_check())
    designs = synthetic_designs()
    sc, table = solution_checks(designs, float(ridge))
    r.checks += sc
    r.tables.append(table)
    r.steps.append(Step(text=f"Here lambda = {float(ridge):g}" + (" (ridge formula on both designs)" if ridge > 0 else
                                                                  " (normal equations when X has full rank, the "
                                                                  "pseudo-inverse otherwise)")
                        + "; the table says which formula ran on each synthetic design and compares it with "
                          "numpy.linalg.lstsq.", rule="computation"))
    w_text = (f"w* = (X^T X + {float(ridge):g} I)^-1 X^T y" if ridge > 0 else
              "w* = (X^T X)^-1 X^T y at full rank, else X^+ y (pseudo-inverse)")
    r.summary = f"Hessian I (convex); Hessian in (W, b) = I kron phit phit^T (convex); {w_text}"
    sym_ok = all(c.passed for c in checks)
    if claims:
        if "hessian" in claims:
            zsym = {v.name: v for v in zs}
            ys = sp.symbols(f"y1:{K + 1}", real=True)
            m = _matrix_text(claims, "hessian", pid, zsym | {s.name: s for s in ys},
                             {"z": sp.Matrix(zs), "y": sp.Matrix(ys)})
            if not isinstance(m, sp.MatrixBase):
                m = sp.Matrix([[m]])
            if m.shape != H.shape:
                r.verdicts.append(Verdict(f"hessian = {claims['hessian']}", False,
                                          f"shape {m.rows}x{m.cols}; the Hessian is {K}x{K} (the identity)"))
            else:
                eq = equivalent_matrix(m, H, list(zs) + list(ys))
                r.verdicts.append(Verdict(f"hessian = {claims['hessian']}", eq.equal, eq.evidence,
                                          "" if eq.equal else r"\nabla_z^2 L = I_K"))
        for k, what in (("convex", "in z: Hessian I"), ("convex_affine", "in (W, b): Hessian I kron phit phit^T")):
            if k in claims:
                said = claims[k]
                if said and sym_ok:
                    r.verdicts.append(Verdict(f"{k} = true", True, f"convex {what}, PSD (proved)"))
                elif said:
                    r.verdicts.append(Verdict(f"{k} = true", None, "the solver's own proof failed"))
                else:
                    r.verdicts.append(Verdict(f"{k} = false", False, f"it is convex {what}, positive semidefinite"))
        if "w_star" in claims:
            r.verdicts.append(_w_star_verdict(claims, pid, designs, lam))
    return r
