"""ist24.q3.4: the closed-form global minimum of the reparametrised network.

L(c) = 1/2 sum_n (c^T phi(x_n) - y_n)^2 = 1/2 ||Phi c - y||^2. SymPy derives the
gradient Phi^T (Phi c - y) and the Hessian Phi^T Phi (positive semidefinite), so
the normal equations Phi^T Phi c = Phi^T y characterise every global minimiser,
unique iff Phi has full column rank P = (D+1)(D+2)/2.

On synthetic data (a random network Theta plus Gaussian noise, D in ``dims``) the
closed form is compared with an SVD least-squares oracle, with gradient descent on
c (convex: reaches the same loss) and with plain gradient descent on Theta (Armijo
steps; non-convex: reaches a loss no lower, and whether it reaches L(c*) within the
budget is reported as a finding, not a check); the minimiser is mapped back to a network through q3.3 and
evaluated by a direct forward pass. Rank-deficient designs (too few points,
duplicated points, points on a line) are flagged with their exact rank.
"""
from __future__ import annotations

import random
from functools import lru_cache
from typing import Any, Optional

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Table, Verdict
from problems.validate import claim_keys, int_param
from theory import quadratic_net as qn
from theory import quadratic_net_reparam as qr
from theory.parse import ExprError, parse_expr, parse_number

CLAIM_SCHEMA = """\
Claims for ist24.q3.4 (closed-form global minimum). Matrix expressions use the matrices Phi (the
N x P design matrix, rows phi(x_n)^T), y (N x 1) and c (P x 1), products * or @, sums, the transpose
M.T, inv(M) and pinv(M); a scalar 0 may stand for a zero vector.

  ["ist24.q3.4"]
  closed_form = "inv(Phi.T*Phi)*Phi.T*y"            # the minimiser c*; checked exactly on random
                                                     # full-column-rank integer instances
  normal_equations = "Phi.T*Phi*c = Phi.T*y"        # one '='; it must hold at c* and determine c
                                                     # uniquely (its linear part in c invertible)
  assumption = "full column rank"                   # one of: "full column rank", "rank(Phi) = P",
                                                     # "Phi^T Phi invertible", "N > P", "N >= P", "none"
  min_loss = 0.1234                                  # L(c*) on the seeded synthetic instance of
  D = 2                                              # this D (default: the first of dims), N, noise, seed
  tolerance = 1e-6                                   # optional, relative (default 1e-6)
"""

ASSUME_RIGHT = {"fullcolumnrank": "full column rank", "rank(phi)=p": "rank(Phi) = P",
                "phi^tphiinvertible": "Phi^T Phi invertible", "fullrank": "full column rank"}
ASSUME_WRONG = {"n>p": "N > P", "n>=p": "N >= P", "none": "none"}


# ---------------------------------------------------------------- symbolic derivation

@lru_cache(maxsize=None)
def symbolic_gradient(N: int = 4, P: int = 3):
    """Differentiate L entry by entry for a fully symbolic Phi (N x P), y, c; compare with the matrix forms."""
    Phi = sp.Matrix(N, P, lambda n, j: sp.Symbol(f"phi_{n + 1}{j + 1}", real=True))
    y = sp.Matrix([sp.Symbol(f"y_{n + 1}", real=True) for n in range(N)])
    c = sp.Matrix([sp.Symbol(f"c_{j + 1}", real=True) for j in range(P)])
    L = sum((((Phi * c - y)[n]) ** 2 for n in range(N)), sp.Integer(0)) / 2
    grad = sp.Matrix([sp.diff(L, cj) for cj in c])
    hess = sp.hessian(L, list(c))
    ok_g = (grad - Phi.T * (Phi * c - y)).applyfunc(sp.expand) == sp.zeros(P, 1)
    ok_h = (hess - Phi.T * Phi).applyfunc(sp.expand) == sp.zeros(P, P)
    return ok_g, ok_h


@lru_cache(maxsize=None)
def matrix_calculus_latex() -> str:
    Phi = sp.MatrixSymbol("Phi", 5, 3)
    y = sp.MatrixSymbol("y", 5, 1)
    c = sp.MatrixSymbol("c", 3, 1)
    L = sp.Rational(1, 2) * (Phi * c - y).T * (Phi * c - y)
    return sp.latex(sp.diff(L, c))


# ---------------------------------------------------------------- data and fits

def make_data(D: int, K: int, N: int, noise: float, seed: int):
    """x_n ~ N(0, I_D); y_n = network(Theta_true, x_n) + noise * N(0, 1); Theta_true random."""
    rng = np.random.default_rng([seed, D])
    W = rng.normal(size=(K, D)) / np.sqrt(D)
    b, v, v0 = rng.normal(scale=0.5, size=K), rng.normal(size=K), float(rng.normal())
    X = rng.normal(size=(N, D))
    y = qn.forward_np(W, b, v, v0, X) + noise * rng.normal(size=N)
    return X, y


def loss(Phi: np.ndarray, c: np.ndarray, y: np.ndarray) -> float:
    r = Phi @ c - y
    return 0.5 * float(r @ r)


def gd_on_c(Phi, y, tol: float = 1e-10, max_iter: int = 200_000):
    """Gradient descent c <- c - eta Phi^T (Phi c - y), eta = 1 / lambda_max(Phi^T Phi)."""
    G, r = Phi.T @ Phi, Phi.T @ y
    eta = 1.0 / np.linalg.eigvalsh(G).max()
    c = np.zeros(G.shape[0])
    for it in range(1, max_iter + 1):
        g = G @ c - r
        if np.linalg.norm(g) <= tol * (1 + np.linalg.norm(r)):
            break
        c -= eta * g
    return c, it


def theta_loss_grad(X, y, W, b, v, v0):
    """L(Theta) = 1/2 sum_n (v^T g(W x_n + b) + v0 - y_n)^2 and its gradient (backpropagation by hand)."""
    Z = X @ W.T + b  # (N, K)
    H = Z * (1 - Z)
    r = H @ v + v0 - y  # (N,)
    dZ = np.outer(r, v) * (1 - 2 * Z)  # (N, K)
    return 0.5 * float(r @ r), (dZ.T @ X, dZ.sum(axis=0), H.T @ r, float(r.sum()))


def fd_check(X, y, K: int, seed: int, h: float = 1e-6) -> float:
    """Largest relative difference between the hand gradient and central finite differences at a random Theta."""
    rng = np.random.default_rng(seed)
    th = [rng.normal(size=(K, X.shape[1])), rng.normal(size=K), rng.normal(size=K), np.array(float(rng.normal()))]
    _, grads = theta_loss_grad(X, y, *th)
    worst = 0.0
    for a, g in zip(th, grads):
        g = np.asarray(g, dtype=float)
        scale = max(1.0, float(np.max(np.abs(g))))
        for idx in np.ndindex(a.shape):
            old = a[idx].copy()
            a[idx] = old + h
            lp, _ = theta_loss_grad(X, y, *th)
            a[idx] = old - h
            lm, _ = theta_loss_grad(X, y, *th)
            a[idx] = old
            worst = max(worst, abs((lp - lm) / (2 * h) - g[idx]) / scale)
    return worst


def gd_on_theta(X, y, K: int, seed: int, steps: int = 5000, L_star: Optional[float] = None,
                c1: float = 1e-4):
    """Plain gradient descent on Theta = (W, b, v, v0) of the network itself (non-convex, full batch).

    Theta <- Theta - eta_t grad L(Theta), eta_t by Armijo backtracking: start from 2 eta_{t-1} and halve until
    L(Theta - eta g) <= L(Theta) - c1 eta ||g||^2. Stops after ``steps`` iterations, when L <= L_star (1 + 1e-9),
    or at a stationary point (||g|| <= 1e-12 (1 + L)). Returns (final loss, loss per iteration, iterations).
    """
    rng = np.random.default_rng(seed)
    N, D = X.shape
    th = [0.5 * rng.normal(size=(K, D)), 0.5 * rng.normal(size=K), 0.5 * rng.normal(size=K), np.zeros(())]
    L, grads = theta_loss_grad(X, y, *th)
    curve, eta, it = [L], 1e-3, 0
    for it in range(1, steps + 1):
        gg = sum(float(np.sum(np.square(g))) for g in grads)
        if np.sqrt(gg) <= 1e-12 * (1 + L) or (L_star is not None and L <= L_star * (1 + 1e-9)):
            it -= 1
            break
        eta *= 2
        while True:
            trial = [a - eta * g for a, g in zip(th, grads)]
            L_new, g_new = theta_loss_grad(X, y, *trial)
            if L_new <= L - c1 * eta * gg or eta < 1e-16:
                break
            eta *= 0.5
        th, L, grads = trial, L_new, g_new
        curve.append(L)
    return L, curve, it


def poly_text(q) -> str:
    """A polynomial as readable plain text: -5*x1**2 + 4*x1*x2 -> -5 x1^2 + 4 x1 x2."""
    return sp.sstr(q).replace("**", "^").replace("*", " ")


def exact_rank(A: np.ndarray) -> int:
    return sp.Matrix(A.astype(int).tolist()).rank()


# ---------------------------------------------------------------- solver

REACH_RTOL = 1e-4  # GD on Theta "reached" L(c*): L(Theta_GD) <= (1 + REACH_RTOL) L(c*)
GDC_RTOL = 1e-8    # GD on c must reach L(c*) within GDC_RTOL * max(1, L(c*)) (a check)


def _yes(flag) -> str:
    return "yes" if flag else "no"


def _theta_finding(runs: dict, p: dict) -> str:
    """One sentence on gradient descent on Theta: information about the non-convex parametrisation, not a check."""
    hit = [d for d, r in runs.items() if r["reached"]]
    miss = [d for d, r in runs.items() if not r["reached"]]
    txt = (f"Gradient descent on Theta (Armijo steps, at most {p['theta_steps']} iterations) reached L(c*) within a "
           f"relative {REACH_RTOL:g} for ")
    txt += ("D = " + ", ".join(map(str, hit))) if hit else "no D"
    if miss:
        worst = ", ".join(f"D = {d}: ratio {runs[d]['ratio']:.4g}" if runs[d]["rel"] else f"D = {d}: L = "
                          f"{runs[d]['L']:.3g}" for d in miss)
        txt += (f" but not for {', '.join(f'D = {d}' for d in miss)} ({worst} after {runs[miss[0]]['iters']} "
                f"iterations): on the non-convex parametrisation in Theta it is slow or stalls from this start, "
                f"whereas L(c) is convex and GD on c reaches L(c*)")
    return txt + "."


def _theta_figure(runs: dict, p: dict) -> Figure:
    """The excess loss of gradient descent on Theta over the closed-form minimum, per D (log-log)."""
    rel = all(r["rel"] for r in runs.values())
    fig = Figure(name="q3_4_theta_descent",
                 caption=("Plain gradient descent on Theta (non-convex, Armijo steps): excess loss "
                          + ("(L(Theta) - L(c*)) / L(c*)" if rel else "L(Theta) - L(c*)")
                          + f" per iteration, per D (at most {p['theta_steps']} iterations; a run stops once it is "
                            f"within 1e-9 of L(c*)). No curve can go below 0; the dotted line is the tolerance "
                            f"{REACH_RTOL:g} of 'reached' in the table."),
                 xlabel="gradient-descent iteration on Theta",
                 ylabel="relative excess loss over L(c*)" if rel else "excess loss over L(c*)",
                 xscale="log", yscale="log", legend="outside")
    for D, r in runs.items():
        curve = np.asarray(r["curve"])
        excess = (curve - r["L_star"]) / (r["L_star"] if rel else 1.0)
        idx = sorted(set(int(i) for i in np.geomspace(1, len(curve), 120).astype(int) - 1))
        fig.series.append(Series(label=f"D = {D}, K = {r['K']}", x=[i + 1 for i in idx],
                                 y=[float(max(excess[i], 1e-12)) for i in idx]))
    fig.hlines.append({"y": REACH_RTOL, "label": f"reached ({REACH_RTOL:g})"})
    return fig

def _params(params: dict) -> dict:
    dims = params.get("dims", [2, 3, 4, 5])
    if not isinstance(dims, list) or not dims:
        raise InputError("parameter dims: expected a non-empty list of integers")
    try:
        dims = [int(d) for d in dims]
    except (TypeError, ValueError):
        raise InputError(f"parameter dims: expected integers, got {dims!r}") from None
    if any(not 1 <= d <= 6 for d in dims):
        raise InputError("parameter dims: every D must be in 1..6")
    noise = params.get("noise", 0.1)
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise InputError(f"parameter noise: expected a number, got {noise!r}") from None
    if not 0 <= noise <= 100:
        raise InputError("parameter noise: must be in [0, 100]")
    return {"dims": dims, "N": int_param(params, "N", 60, 2, 5000),
            "extra_units": int_param(params, "extra_units", 1, 0, 4), "noise": noise,
            "seed": int_param(params, "seed", 0, 0, 2 ** 31 - 1),
            "theta_steps": int_param(params, "theta_steps", 5000, 10, 100_000)}


def _steps() -> list[Step]:
    return [
        Step(text="Stack the features: Phi is N x P with rows phi(x_n)^T, so the loss is a least-squares problem "
                  "in c:", math=r"L(c) = \tfrac12\sum_{n=1}^N\big(c^\top\phi(x_n) - y_n\big)^2 = "
                                 r"\tfrac12\,\lVert \Phi c - y\rVert^2,\qquad \Phi\in\mathbb{R}^{N\times P}"),
        Step(text="SymPy's matrix calculus differentiates it with respect to c:", rule="matrix calculus",
             math=r"\nabla_c L = " + matrix_calculus_latex() + r" = \Phi^\top(\Phi c - y)"),
        Step(text="Differentiating again, the Hessian is constant and positive semidefinite, so L is convex and "
                  "every stationary point is a global minimiser:", rule="second-order condition",
             math=r"\nabla_c^2 L = \Phi^\top\Phi,\qquad u^\top\Phi^\top\Phi\,u = \lVert\Phi u\rVert^2\ge 0"),
        Step(text="Setting the gradient to zero gives the normal equations:", rule="first-order condition",
             math=r"\Phi^\top\Phi\, c = \Phi^\top y"),
        Step(text="Assumption: Phi has full column rank P (then Phi^T Phi is positive definite and invertible). This "
                  "needs N >= P, but N > P is not enough: the points must not all lie on one quadric (no nonzero "
                  "polynomial of degree <= 2 vanishes at every x_n; duplicated points or points on a line violate "
                  "it). Then the minimiser is unique:", rule="closed form",
             math=r"c^\star = (\Phi^\top\Phi)^{-1}\Phi^\top y,\qquad L(c^\star) = "
                  r"\tfrac12\, y^\top\big(I - \Phi(\Phi^\top\Phi)^{-1}\Phi^\top\big)y"),
        Step(text="Without full column rank the minimisers form the affine set c_+ + null(Phi), with the "
                  "minimum-norm one given by the pseudo-inverse:", rule="rank-deficient case",
             math=r"c_+ = \Phi^{+}y,\qquad \{c : \nabla L = 0\} = c_+ + \ker\Phi"),
        Step(text="Why this is notable: L as a function of Theta is non-convex (c_Theta is a polynomial of degree 3 "
                  "in Theta, q3.2), yet with K >= D + 1 every c is some c_Theta (q3.3), so the global minimum over "
                  "all networks is the least-squares solution above, computed in closed form, and any Theta with "
                  "c_Theta = c* (constructed by q3.3) is a globally optimal network. Gradient descent on Theta can "
                  "only reach a loss >= L(c*), and on this non-convex parametrisation nothing guarantees that it "
                  "gets there within a budget (see the table and figure below).", rule="global optimality"),
    ]


def solve_q3_4(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist24.q3.4"
    p = _params(params)
    claims = claims or {}
    claim_keys(claims, {"closed_form", "normal_equations", "assumption", "min_loss", "D", "tolerance"}, f'["{pid}"]')
    parsed = _parse_claims(claims, p, pid)
    result = Result(problem_id=pid, title="Closed-form global minimum", params=p, random_state=p["seed"],
                    data={"dataset": "synthetic: x ~ N(0, I_D), y = network(Theta_true, x) + noise * N(0, 1)",
                          "N": p["N"], "noise": p["noise"]})
    result.steps += _steps()
    ok_g, ok_h = symbolic_gradient()
    result.checks.append(Check("gradient = Phi^T (Phi c - y) and Hessian = Phi^T Phi",
                               "SymPy diff of L entry by entry for a fully symbolic 4 x 3 Phi, y, c; expanded difference",
                               ok_g and ok_h, f"gradient difference expands to 0: {_yes(ok_g)}; Hessian difference "
                                              f"expands to 0: {_yes(ok_h)}"))
    rows = []
    agree_ok = grad_ok = gdc_ok = theta_ok = map_ok = True
    fd_worst = 0.0
    details: dict[str, list[str]] = {k: [] for k in ("agree", "grad", "gdc", "theta", "map")}
    instances, runs = {}, {}
    for D in p["dims"]:
        K = D + p["extra_units"]
        P = qn.n_features(D)
        X, y = make_data(D, K, p["N"], p["noise"], p["seed"])
        Phi = qn.phi_np(X)  # (N, P)
        rank = int(np.linalg.matrix_rank(Phi))
        full = rank == P
        if full:
            c_star = np.linalg.solve(Phi.T @ Phi, Phi.T @ y)
        else:
            c_star = np.linalg.pinv(Phi) @ y
        L_star = loss(Phi, c_star, y)
        instances[D] = L_star
        c_ls = np.linalg.lstsq(Phi, y, rcond=None)[0]  # SVD oracle
        L_ls = loss(Phi, c_ls, y)
        ok = abs(L_star - L_ls) <= 1e-9 * max(1.0, L_star) and (not full or np.allclose(c_star, c_ls, rtol=1e-7,
                                                                                        atol=1e-9))
        agree_ok &= ok
        details["agree"].append(f"D = {D}: |dL| = {abs(L_star - L_ls):.1e}")
        g = Phi.T @ (Phi @ c_star - y)
        gn = float(np.linalg.norm(g) / (1 + np.linalg.norm(Phi.T @ y)))
        grad_ok &= gn < 1e-10
        details["grad"].append(f"D = {D}: {gn:.1e}")
        c_gd, iters = gd_on_c(Phi, y)
        L_gd = loss(Phi, c_gd, y)
        gdc_ok &= abs(L_gd - L_star) <= GDC_RTOL * max(1.0, L_star)
        details["gdc"].append(f"D = {D}: {iters} iterations, |L(c_GD) - L(c*)| = {abs(L_gd - L_star):.1e}")
        fd_worst = max(fd_worst, fd_check(X, y, K, p["seed"] + D))
        L_th, curve, it_th = gd_on_theta(X, y, K, p["seed"] + D, steps=p["theta_steps"], L_star=L_star)
        theta_ok &= L_th >= L_star * (1 - 1e-9) - 1e-12
        rel = L_star > 1e-12
        ratio = L_th / L_star if rel else float("nan")
        reached = (L_th - L_star) <= REACH_RTOL * (L_star if rel else 1.0)
        runs[D] = {"K": K, "ratio": ratio, "L": L_th, "iters": it_th, "reached": reached, "curve": curve,
                   "L_star": L_star, "rel": rel}
        details["theta"].append(f"D = {D}: L(Theta_GD) = {L_th:.7g} >= L(c*) = {L_star:.7g}")
        # map c* back to a network (q3.3), exactly in rationals, and evaluate it directly
        c_exact = sp.Matrix([sp.Rational(float(t)) for t in c_star])
        try:
            th = qr.construct_theta(c_exact, D, K)
            exact, _ = qr._verify_exact(c_exact, th)
            Wn, bn, vn, v0n = (np.array(np.array(a).astype(float)) if isinstance(a, sp.Matrix) else float(a)
                               for a in th)
            L_net = 0.5 * float(np.sum((qn.forward_np(Wn, bn, vn, v0n, X) - y) ** 2))
            mok = exact and abs(L_net - L_star) <= 1e-7 * max(1.0, L_star)
            map_txt = f"{L_net:.6g}"
            details["map"].append(f"D = {D}: c_Theta = c* exactly: {_yes(exact)}, network loss {L_net:.6g}")
        except qr.Unreachable as exc:
            mok, map_txt = K < D or not full, "unreachable"
            details["map"].append(f"D = {D}: {exc}")
        map_ok &= mok
        cond = float(np.linalg.cond(Phi.T @ Phi)) if full else float("inf")  # of Phi^T Phi
        ratio_txt = f"{ratio:.6f}" if rel else f"L = {L_th:.3g} (L(c*) = 0)"
        rows.append([str(D), str(P), f"{rank}" + ("" if full else " (DEFICIENT)"), f"{cond:.3g}", f"{L_star:.6g}",
                     f"{L_gd:.6g}", f"{L_th:.6g}", ratio_txt, f"{it_th}, " + ("yes" if reached else "no"), map_txt])
    result.figures.append(_theta_figure(runs, p))
    result.tables.append(Table(
        caption=f"Closed form versus oracles on synthetic data (N = {p['N']}, noise = {p['noise']}, seed = "
                f"{p['seed']}, K = D + {p['extra_units']} hidden units). L(c*): normal equations (the SVD "
                f"least-squares oracle agrees, see the checks); GD on c: step 1/lambda_max from c = 0; GD on Theta: "
                f"plain gradient descent on (W, b, v, v0) with Armijo backtracking (sufficient decrease 1e-4), at most "
                f"{p['theta_steps']} iterations from a random Theta; reached: L(Theta_GD) <= (1 + {REACH_RTOL:g}) "
                f"L(c*) within the budget; network: loss of the Theta built from c* by q3.3, by a direct forward pass.",
        columns=["D", "P", "rank Phi", "cond", "L(c*)", "GD on c", "GD on Theta", "ratio to L(c*)",
                 "iterations, reached", "network"], rows=rows))
    result.checks += [
        Check("closed form = SVD least squares", "numpy.linalg.lstsq (SVD) versus solving the normal equations",
              agree_ok, "; ".join(details["agree"])),
        Check("gradient vanishes at c*", "relative norm of Phi^T (Phi c* - y)", grad_ok, "; ".join(details["grad"])),
        Check("gradient descent on c reaches L(c*) (convex)",
              f"GD with step 1/lambda_max(Phi^T Phi) from c = 0; tolerance {GDC_RTOL:g} * max(1, L(c*))",
              gdc_ok, "; ".join(details["gdc"])),
        Check("hand-written gradient of L(Theta) agrees with finite differences",
              "central differences (h = 1e-6) in every coordinate at a random Theta per D, float64, relative to "
              "the largest gradient entry", fd_worst < 1e-6, f"largest relative difference {fd_worst:.2g}"),
        Check("gradient descent on Theta reaches a loss no lower than L(c*)",
              "plain GD with Armijo steps (NumPy, the gradient above), float64, full batch",
              theta_ok, "; ".join(details["theta"])),
        Check("c* mapped back to a network (q3.3) attains L(c*)",
              "exact rational construction, c_Theta = c* checked exactly; loss by direct forward pass", map_ok,
              "; ".join(details["map"])),
    ]
    table, deficient = _deficient_table(result, p)
    result.tables.append(table)
    best = ", ".join(f"D = {d}: {v:.6g}" for d, v in instances.items())
    result.summary = (f"c* = (Phi^T Phi)^-1 Phi^T y when Phi has full column rank; L(c*) on the seeded data: {best}. "
                      + _theta_finding(runs, p))
    flagged = [r[0] for r in rows if "DEFICIENT" in r[2]]
    if flagged:
        result.summary += (f"; rank-deficient Phi (N = {p['N']}) for D = {', '.join(flagged)}: minimiser not unique, "
                           f"the pseudo-inverse solution is reported")
    _verdicts(result, claims, parsed, p, instances, deficient)
    return qn.finish(result)


def _deficient_table(result: Result, p: dict) -> tuple[Table, list[dict]]:
    """Rank-deficient designs, flagged with their exact rank; two distinct minimisers with the same loss."""
    D = p["dims"][0]
    P = qn.n_features(D)
    rng = np.random.default_rng([p["seed"], 99])
    cases = [(f"N = P - 1 = {P - 1}", rng.integers(-3, 4, size=(P - 1, D)))]
    distinct = rng.integers(-3, 4, size=(P - 1, D))
    cases.append((f"N = {3 * (P - 1)}, {P - 1} points x 3", np.repeat(distinct, 3, axis=0)))
    if D >= 2:
        t = rng.integers(-5, 6, size=3 * P)
        Xl = rng.integers(-3, 4, size=(3 * P, D))
        Xl[:, 1] = Xl[:, 0] = t
        cases.append((f"N = {3 * P} on the line x2 = x1", Xl))
    else:
        cases.append((f"N = {3 * P}, 2 distinct values", np.repeat(np.array([[-1], [2]]), 3 * P // 2 + 1,
                                                                                   axis=0)[:3 * P]))
    rows, ok_all, info = [], True, []
    xs = qn.x_symbols(D)
    for name, X in cases:
        X = np.asarray(X, dtype=float)
        Phi = qn.phi_np(X)
        r_exact = exact_rank(Phi)
        r_np = int(np.linalg.matrix_rank(Phi))
        y = rng.normal(size=len(X))
        null = sp.Matrix(Phi.astype(int).tolist()).nullspace()
        if null:
            n = null[0]
            n = n * sp.ilcm(*[sp.fraction(e)[1] for e in n])
            q = sp.expand((n.T * qn.phi_canonical(xs))[0, 0])
            c_plus = np.linalg.pinv(Phi) @ y
            c_other = c_plus + np.array(n, dtype=float).ravel()
            l1, l2 = loss(Phi, c_plus, y), loss(Phi, c_other, y)
            same = abs(l1 - l2) <= 1e-8 * max(1.0, l1)
        else:
            q, l1, l2, same = "-", float("nan"), float("nan"), False
        flagged = r_exact < P
        ok_all &= flagged and r_np == r_exact and same
        info.append({"design": name, "N": len(X), "rank": r_exact, "P": P, "q": poly_text(q) if q != "-" else "-",
                     "L1": l1, "L2": l2})
        rows.append([name, f"{r_exact} < {P}" if flagged else f"{r_exact} (not flagged)",
                     poly_text(q) if q != "-" else "-", f"{l1:.3g} / {l2:.3g}"])
    result.checks.append(Check("rank-deficient designs are flagged, and their minimiser is not unique",
                               "exact rank (SymPy, integer points) = numpy rank < P; loss of the pseudo-inverse "
                               "solution c_+ and of c_+ + n (n in ker Phi) agree",
                               ok_all, f"{len(cases)} designs, D = {D}, P = {P}"))
    return (Table(caption=f"Rank-deficient designs (D = {D}, P = {P}, integer points); rank Phi < P is flagged: "
                         f"Phi^T Phi is singular and the minimiser is not unique. The quadric q(x) = n^T phi(x), n a "
                         f"null vector of Phi, vanishes at every data point; c_+ = pinv(Phi) y and c_+ + n attain "
                         f"the same loss.",
                 columns=["design", "rank Phi", "quadric q", "L(c_+) / L(c_+ + n)"],
                 rows=rows), info)


# ---------------------------------------------------------------- claims

def _square_instance(names: tuple) -> dict:
    """A 3 x 3 invertible Phi with y, c: used only to validate the syntax and names of a claim."""
    Phi = sp.Matrix([[2, 1, 0], [1, 3, 1], [0, 1, 4]])
    vals = {"Phi": Phi, "y": sp.Matrix([1, -2, 3]), "c": sp.Matrix([1, 0, -1])}
    return {n: vals[n] for n in names}


def _syntax_check(text, names: tuple, where: str):
    if not isinstance(text, str):
        raise InputError(f"{where}: expected a matrix expression as text")
    try:
        e = parse_expr(text, {}, allow_new_symbols=False, matrices=_square_instance(names))
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if isinstance(e, (tuple, list)):
        raise InputError(f"{where}: expected one matrix expression")


def _evaluate(text: str, values: dict):
    """The claim evaluated on concrete exact matrices; raises ValueError on a dimension error."""
    try:
        return parse_expr(text, {}, allow_new_symbols=False, matrices=values)
    except ExprError as exc:
        raise ValueError(str(exc)) from None


def _parse_claims(claims: dict, p: dict, pid: str) -> dict:
    out: dict = {}
    if "closed_form" in claims:
        _syntax_check(claims["closed_form"], ("Phi", "y"), f'["{pid}"].closed_form')
        out["closed_form"] = claims["closed_form"]
    if "normal_equations" in claims:
        text = claims["normal_equations"]
        where = f'["{pid}"].normal_equations'
        if not isinstance(text, str) or text.count("=") != 1:
            raise InputError(f"{where}: expected one equation 'lhs = rhs' as text")
        lhs, rhs = text.split("=")
        _syntax_check(lhs, ("Phi", "y", "c"), where + " (left side)")
        _syntax_check(rhs, ("Phi", "y", "c"), where + " (right side)")
        out["normal_equations"] = (lhs, rhs)
    if "assumption" in claims:
        a = claims["assumption"]
        key = "".join(str(a).lower().split()).replace("_", "") if isinstance(a, str) else None
        if key not in ASSUME_RIGHT and key not in ASSUME_WRONG:
            raise InputError(f'["{pid}"].assumption: {a!r} is not one of "full column rank", "rank(Phi) = P", '
                             f'"Phi^T Phi invertible", "N > P", "N >= P", "none"')
        out["assumption"] = key
    if "min_loss" in claims:
        try:
            out["min_loss"] = float(parse_number(claims["min_loss"]))
        except ExprError as exc:
            raise InputError(f'["{pid}"].min_loss: {exc}') from None
        D = p["dims"][0]
        if "D" in claims:
            D = qn.int_value(claims["D"], f'["{pid}"].D', 1, 6)
            if D not in p["dims"]:
                raise InputError(f'["{pid}"].D: {D} is not one of the instances dims = {p["dims"]}')
        out["D"] = D
        tol = claims.get("tolerance", 1e-6)
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
            raise InputError(f'["{pid}"].tolerance: expected a number in (0, 1)')
        out["tolerance"] = float(tol)
    elif "D" in claims or "tolerance" in claims:
        raise InputError(f'["{pid}"]: D and tolerance qualify min_loss, which is missing')
    return out


def _instances(seed: int, count: int = 3):
    """Random exact full-column-rank instances (Phi N x P rational, y), N > P, of a few shapes."""
    rng = random.Random(seed)
    out = []
    for N, P in ((5, 3), (7, 3), (6, 2))[:count]:
        while True:
            Phi = sp.ImmutableMatrix(N, P, lambda n, j: sp.Integer(rng.randint(-4, 4)))
            if Phi.rank() == P:
                break
        y = sp.ImmutableMatrix(N, 1, lambda n, j: sp.Integer(rng.randint(-5, 5)))
        c_star = (Phi.T * Phi).inv() * Phi.T * y
        out.append((Phi, y, sp.ImmutableMatrix(c_star)))
    return out


def _as_matrix(e, shape) -> sp.Matrix:
    if isinstance(e, sp.MatrixBase):
        return sp.Matrix(e)
    if e == 0:
        return sp.zeros(*shape)
    raise ValueError(f"a scalar {sp.sstr(e)} where a {shape[0]} x {shape[1]} vector is expected")


def _verdicts(result: Result, claims: dict, parsed: dict, p: dict, instances: dict, deficient: list[dict]):
    if "closed_form" in parsed:
        text = f"closed_form = {parsed['closed_form']}"
        verdict = Verdict(text, True, "")
        for Phi, y, c_star in _instances(p["seed"]):
            N, P = Phi.shape
            try:
                got = _as_matrix(_evaluate(parsed["closed_form"], {"Phi": Phi, "y": y}), (P, 1))
                if got.shape != (P, 1):
                    raise ValueError(f"it evaluates to a {got.shape[0]} x {got.shape[1]} matrix, not P x 1 = {P} x 1")
            except (ValueError, ZeroDivisionError) as exc:
                verdict = Verdict(text, False, f"on a {N} x {P} full-column-rank Phi: {exc}")
                break
            if got != c_star:
                verdict = Verdict(text, False, f"Phi = {qn.fmt_matrix(Phi)}, y = {qn.fmt_vector(y)}: the claim "
                                               f"gives {qn.fmt_vector(got)} but the minimiser is "
                                               f"{qn.fmt_vector(c_star)}",
                                  r"c^\star = " + sp.latex(c_star.T) + r"^\top")
                break
        else:
            verdict.evidence = ("equals the minimiser (Phi^T Phi)^-1 Phi^T y exactly on 3 random integer "
                                "full-column-rank instances (5 x 3, 7 x 3, 6 x 2)")
        result.verdicts.append(verdict)
    if "normal_equations" in parsed:
        lhs, rhs = parsed["normal_equations"]
        text = f"normal_equations: {lhs.strip()} = {rhs.strip()}"
        verdict = None
        for Phi, y, c_star in _instances(p["seed"] + 1):
            N, P = Phi.shape

            def E(cv):
                vals = {"Phi": Phi, "y": y, "c": sp.ImmutableMatrix(cv)}
                left = _evaluate(lhs, vals)
                right = _evaluate(rhs, vals)
                shape = (left if isinstance(left, sp.MatrixBase) else right).shape \
                    if isinstance(left, sp.MatrixBase) or isinstance(right, sp.MatrixBase) else (P, 1)
                lm, rm = _as_matrix(left, shape), _as_matrix(right, shape)
                if lm.shape != rm.shape:
                    raise ValueError(f"the left side is {lm.rows} x {lm.cols} but the right side is "
                                     f"{rm.rows} x {rm.cols}")
                return lm - rm
            try:
                e0 = E(sp.zeros(P, 1))
                cols = [E(sp.eye(P)[:, j]) - e0 for j in range(P)]
                M = sp.Matrix.hstack(*cols)
                at_star = E(c_star)
            except (ValueError, ZeroDivisionError) as exc:
                verdict = Verdict(text, False, f"on a {N} x {P} full-column-rank Phi: {exc}")
                break
            if any(e != 0 for e in at_star):
                verdict = Verdict(text, False, f"Phi = {qn.fmt_matrix(Phi)}, y = {qn.fmt_vector(y)}: at the "
                                               f"minimiser c* = {qn.fmt_vector(c_star)} lhs - rhs = "
                                               f"{qn.fmt_vector(at_star)} != 0")
                break
            if M.rank() < P:
                verdict = Verdict(text, False, f"holds at c* but does not determine c: its linear part in c has rank "
                                               f"{M.rank()} < P = {P} (Phi = {qn.fmt_matrix(Phi)})")
                break
        if verdict is None:
            verdict = Verdict(text, True, "holds exactly at the minimiser and its linear part in c is invertible, on 3 "
                                          "random integer full-column-rank instances: same solution set as "
                                          "grad L = Phi^T (Phi c - y) = 0")
        result.verdicts.append(verdict)
    if "assumption" in parsed:
        key = parsed["assumption"]
        label = ASSUME_RIGHT.get(key) or ASSUME_WRONG[key]
        text = f"assumption = {claims['assumption']}"
        if key in ASSUME_RIGHT:
            result.verdicts.append(Verdict(text, True, f"{label}: then Phi^T Phi is positive definite, L strictly convex "
                                                       f"and c* = (Phi^T Phi)^-1 Phi^T y is the unique minimiser"))
        else:
            d = deficient[1]  # N > P points, but duplicated
            result.verdicts.append(Verdict(text, False, f"{label} is not sufficient: with N = {d['N']} > P = {d['P']} "
                                                        f"points ({d['design']}) Phi has rank {d['rank']} < {d['P']}, "
                                                        f"Phi^T Phi is singular, q(x) = {d['q']} vanishes at every "
                                                        f"point, and c_+ and c_+ + n both attain the minimum "
                                                        f"({d['L1']:.6g} = {d['L2']:.6g}); the assumption is full "
                                                        f"column rank of Phi"))
    if "min_loss" in parsed:
        D, tol, claimed = parsed["D"], parsed["tolerance"], parsed["min_loss"]
        L = instances[D]
        ok = abs(claimed - L) <= tol * max(1.0, abs(L))
        text = f"min_loss = {claims['min_loss']} (D = {D}, N = {p['N']}, noise = {p['noise']}, seed = {p['seed']})"
        result.verdicts.append(Verdict(text, ok, f"L(c*) = {L:.10g}; |claimed - L(c*)| = {abs(claimed - L):.3g} "
                                                 f"{'<=' if ok else '>'} {tol:g} * max(1, L(c*))"))
