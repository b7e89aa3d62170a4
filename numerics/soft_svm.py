"""tau.t3a: the squared-slack (L2) soft-margin SVM in cvxpy, primal and dual.

Primal, written as on the sheet, with ``C`` a ``cp.Parameter`` swept over values::

    min_{w,b,xi} 1/2 ||w||^2 + C/2 sum_i xi_i^2   s.t.  y_i (w.x_i + b) >= 1 - xi_i   [, xi_i >= 0]

Dual (sum-of-squares form; ``inv_C = 1/C`` is the parameter, which keeps it DPP)::

    max_alpha sum_i alpha_i - 1/2 ||sum_i alpha_i y_i x_i||^2 - 1/(2C) sum_i alpha_i^2
    s.t. alpha >= 0, sum_i alpha_i y_i = 0

Every solve checks the solver status before reading values, and every optimum
is certified by :func:`numerics.kkt.kkt_residuals`. The independent oracle is
``scipy.optimize.minimize`` (L-BFGS-B) on the unconstrained form
``1/2 ||w||^2 + C/2 sum_i max(0, 1 - y_i (w.x_i + b))^2``.

>>> X, y = make_data(12, 2, separable=False, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((12, 2), [-1.0, 1.0])
>>> svm = SoftSVM(X, y)
>>> p, q = svm.primal(1.0), svm.primal(1.0, nonneg=True)
>>> bool(abs(p.value - q.value) < 1e-7 and p.xi.min() > -1e-7)
True
>>> abs(svm.dual(1.0).value - p.value) < 1e-7
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import cvxpy as cp
import numpy as np
from scipy.optimize import minimize

from numerics import separability as sep
from numerics.kkt import KKT_TOL, kkt_failures, kkt_residuals
from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import bool_claim, claim_keys, int_param
from theory.parse import ExprError, parse_number

SOLVER = "OSQP"
SOLVER_OPTS = {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 200_000, "polishing": True}
SOLVER_TEXT = "cvxpy + OSQP (eps_abs = eps_rel = 1e-9, polishing on)"
VALUE_TOL = 1e-6           # relative agreement of optimal values
SCIPY_TEXT = ("scipy L-BFGS-B (gtol 1e-11) on the unconstrained form 1/2 ||w||^2 + C/2 sum max(0, 1 - y_i(w.x_i + b))^2, "
              "no cvxpy")

CLAIM_SCHEMA = """\
Claims for tau.t3a (the constraints xi >= 0 are redundant), one TOML table:

  ["tau.t3a"]
  redundant = true     # adding xi_i >= 0 leaves the optimal value unchanged (true / false)

The checker proves it (a negative slack can be raised to 0: still feasible, strictly
cheaper), then solves both versions and the dual in cvxpy for every C in the parameter
C (default 0.1, 1, 10) on seeded separable and non-separable data (parameters n, d,
seed), certifies each optimum with the KKT residuals, and compares with scipy on the
unconstrained form.
"""


# ---------------------------------------------------------------- data

def make_data(n: int, d: int, separable: bool, seed: int = 0, margin: float = 0.3):
    """Seeded labelled points: labels of a random hyperplane, points within ``margin`` of it dropped;
    for non-separable data about 15% of the labels are flipped (more until the LP finds no separator).
    Coordinates are rounded to 2 decimals (exact rationals for the LP certificate)."""
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=d)
    w_true /= np.linalg.norm(w_true)
    rows: list[np.ndarray] = []
    while len(rows) < n:
        x = np.round(rng.normal(size=d) * 1.5, 2)
        if abs(x @ w_true) >= margin:
            rows.append(x)
    X = np.array(rows)                                   # (n, d)
    y = np.where(X @ w_true > 0, 1.0, -1.0)              # (n,)
    if not separable:
        order = rng.permutation(n)
        k = max(2, int(round(0.15 * n)))
        y[order[:k]] *= -1
        while not sep.has_certificate(X, y) and k < n:
            y[order[k]] *= -1
            k += 1
    return X, y


def data_certificate(X: np.ndarray, y: np.ndarray) -> tuple[bool, str]:
    """(separable, evidence) from :func:`numerics.separability.decide`, verified in exact arithmetic.

    ``decide`` works on integers: the 2-decimal coordinates are scaled by 100 (separability is scale-free)."""
    Xi = np.rint(np.asarray(X) * 100).astype(np.int64)
    if not np.allclose(Xi, np.asarray(X) * 100, rtol=0, atol=1e-6):
        return False, "the coordinates are not multiples of 0.01: no exact certificate attempted"
    X = Xi
    dec = sep.decide(X, y)
    if dec.separable:
        ok, why = sep.verify_separator(X, y, dec.w, dec.b)
        return True, ("separable: " + why) if ok else f"LP says separable, but {why}"
    ok, why = sep.verify_certificate(X, y, dec.certificate)
    return False, ("not separable, Farkas certificate " + why) if ok else f"LP says not separable, but {why}"


# ---------------------------------------------------------------- cvxpy models

@dataclass
class PrimalSolution:
    C: float
    nonneg: bool
    status: str
    value: float
    w: np.ndarray        # (d,)
    b: float
    xi: np.ndarray       # (n,)
    alpha: np.ndarray    # (n,) dual of the margin constraints
    mu: Optional[np.ndarray]  # (n,) dual of xi >= 0 (nonneg version only)


@dataclass
class DualSolution:
    C: float
    status: str
    value: float
    alpha: np.ndarray    # (n,)
    w: np.ndarray        # (d,) recovered: sum_i alpha_i y_i x_i
    b: float             # recovered from the support vectors
    b_spread: float      # max - min of the per-support-vector estimates of b
    n_support: int


class SolverError(RuntimeError):
    """cvxpy returned a status other than 'optimal'."""


class SoftSVM:
    """The primal (with and without xi >= 0) and the dual, built once, with C as a parameter."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y = np.asarray(X, float), np.asarray(y, float)
        n, d = self.X.shape
        self.C = cp.Parameter(nonneg=True, value=1.0)
        self._primal = {nonneg: self._build_primal(nonneg) for nonneg in (False, True)}
        # dual
        self.inv_C = cp.Parameter(nonneg=True, value=1.0)
        alpha = cp.Variable(n, name="alpha")
        gain = cp.sum(alpha)
        quad = 0.5 * cp.sum_squares(self.X.T @ cp.multiply(alpha, self.y))   # 1/2 ||sum_i alpha_i y_i x_i||^2
        ridge = 0.5 * self.inv_C * cp.sum_squares(alpha)                     # 1/(2C) sum_i alpha_i^2
        self._dual = (cp.Problem(cp.Maximize(gain - quad - ridge), [alpha >= 0, self.y @ alpha == 0]), alpha)

    def _build_primal(self, nonneg: bool):
        n, d = self.X.shape
        w, b, xi = cp.Variable(d, name="w"), cp.Variable(name="b"), cp.Variable(n, name="xi")
        reg = 0.5 * cp.sum_squares(w)
        loss = 0.5 * self.C * cp.sum_squares(xi)
        margin = cp.multiply(self.y, self.X @ w + b) >= 1 - xi
        constraints = [margin] + ([xi >= 0] if nonneg else [])
        return cp.Problem(cp.Minimize(reg + loss), constraints), (w, b, xi)

    def primal(self, C: float, nonneg: bool = False) -> PrimalSolution:
        problem, (w, b, xi) = self._primal[nonneg]
        self.C.value = float(C)
        problem.solve(solver=SOLVER, **SOLVER_OPTS)
        if problem.status != cp.OPTIMAL:
            raise SolverError(f"primal ({'with' if nonneg else 'without'} xi >= 0, C = {C:g}): status {problem.status}")
        cons = problem.constraints
        return PrimalSolution(C=float(C), nonneg=nonneg, status=problem.status, value=float(problem.value),
                              w=np.array(w.value, float), b=float(b.value), xi=np.array(xi.value, float),
                              alpha=np.array(cons[0].dual_value, float),
                              mu=np.array(cons[1].dual_value, float) if nonneg else None)

    def dual(self, C: float) -> DualSolution:
        problem, alpha = self._dual
        self.inv_C.value = 1.0 / float(C)
        problem.solve(solver=SOLVER, **SOLVER_OPTS)
        if problem.status != cp.OPTIMAL:
            raise SolverError(f"dual (C = {C:g}): status {problem.status}")
        a = np.maximum(np.array(alpha.value, float), 0.0)
        w, b, spread, ns = recover_w_b(self.X, self.y, float(C), a)
        return DualSolution(C=float(C), status=problem.status, value=float(problem.value), alpha=a, w=w, b=b,
                            b_spread=spread, n_support=ns)


def recover_w_b(X, y, C: float, alpha):
    """w = sum_i alpha_i y_i x_i; for a support vector (alpha_i > 0) the margin constraint is tight with
    xi_i = alpha_i / C, so b = y_i (1 - alpha_i / C) - w.x_i. Returns (w, mean b, spread of b, #SV)."""
    w = X.T @ (alpha * y)                                          # (d,)
    sv = alpha > 1e-6 * max(1.0, float(alpha.max()))
    if not sv.any():
        return w, float("nan"), float("nan"), 0
    bs = y[sv] * (1 - alpha[sv] / C) - X[sv] @ w
    return w, float(bs.mean()), float(bs.max() - bs.min()), int(sv.sum())


def scipy_primal(X, y, C: float):
    """The independent oracle: L-BFGS-B on the unconstrained form (xi_i = max(0, 1 - margin_i))."""
    n, d = X.shape

    def f(theta):
        w, b = theta[:d], theta[d]
        h = np.maximum(0.0, 1 - y * (X @ w + b))                   # (n,) optimal slacks
        val = 0.5 * w @ w + 0.5 * C * h @ h
        gw = w - C * X.T @ (y * h)
        gb = -C * np.sum(y * h)
        return val, np.append(gw, gb)

    res = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-11, "ftol": 1e-15, "maxiter": 20_000})
    return res


# ---------------------------------------------------------------- sweep

def datasets(n: int, d: int, seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    return [("separable", *make_data(n, d, True, seed)), ("non-separable", *make_data(n, d, False, seed + 1))]


def _close(a: float, b: float) -> float:
    """Relative difference |a - b| / max(1, |a|, |b|)."""
    return abs(a - b) / max(1.0, abs(a), abs(b))


def sweep(X, y, Cs: list[float]) -> list[dict[str, Any]]:
    """For every C: both primals, the dual, the scipy oracle and all the residuals."""
    svm = SoftSVM(X, y)
    rows = []
    for C in Cs:
        p, q, dl = svm.primal(C), svm.primal(C, nonneg=True), svm.dual(C)
        sp_res = scipy_primal(X, y, C)
        rows.append({
            "C": C, "free": p, "nonneg": q, "dual": dl, "scipy": sp_res,
            "kkt_free": kkt_residuals(X, y, C, p.w, p.b, p.xi, p.alpha),
            "kkt_nonneg": kkt_residuals(X, y, C, q.w, q.b, q.xi, q.alpha, q.mu),
            "kkt_dual": kkt_residuals(X, y, C, dl.w, dl.b, dl.alpha / C, dl.alpha),
        })
    return rows


def parse_Cs(params: dict) -> list[float]:
    raw = params.get("C", [0.1, 1, 10])
    if not isinstance(raw, list) or not raw:
        raise InputError(f"parameter C: expected a non-empty list of positive numbers, got {raw!r}")
    out = []
    for v in raw:
        try:
            c = float(parse_number(v))
        except ExprError as exc:
            raise InputError(f"parameter C: {exc}") from None
        if not (c > 0 and np.isfinite(c)):
            raise InputError(f"parameter C: {v!r} is not a positive number")
        out.append(c)
    return out


def instance_params(params: dict) -> tuple[int, int, int, list[float]]:
    n = int_param(params, "n", 40, 4, 2000)
    d = int_param(params, "d", 2, 1, 50)
    seed = int_param(params, "seed", 0, 0, 2 ** 31 - 1)
    return n, d, seed, parse_Cs(params)


def _fmt(v: float) -> str:
    return f"{v:.6g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.1e}"


# ---------------------------------------------------------------- checks shared with t3d

def data_checks(data) -> list[Check]:
    out = []
    for name, X, y in data:
        separable, why = data_certificate(X, y)
        out.append(Check(f"the '{name}' data set is {name}", "LP (HiGHS), the separator or Farkas certificate "
                         "re-checked in exact rational arithmetic", separable == (name == "separable"), why))
    return out


def kkt_check(label: str, per_instance: list[tuple[str, dict]]) -> Check:
    worst, where = 0.0, ""
    bad = []
    for inst, r in per_instance:
        m = max(r.values())
        if m >= worst:
            worst, where = m, inst
        fails = kkt_failures(r)
        if fails:
            bad.append(f"{inst}: " + ", ".join(fails))
    detail = f"largest residual {worst:.2g} ({where}); tolerance {KKT_TOL:g}" + ("; FAILED " + "; ".join(bad) if bad else "")
    return Check(label, "KKT residuals (numerics/kkt.py): primal and dual feasibility, complementarity, "
                 "stationarity in w, b and xi", not bad, detail)


def worst_check(name: str, method: str, items: list[tuple[str, float]], tol: float, what: str) -> Check:
    inst, val = max(items, key=lambda t: t[1])
    return Check(name, method, val <= tol, f"largest {what} {val:.2g} ({inst}); tolerance {tol:g}; "
                 f"{len(items)} instances")


# ---------------------------------------------------------------- tau.t3a

def _t3a_steps() -> list[Step]:
    return [
        Step(text="The problem P, and P+ with the extra constraints xi_i >= 0:",
             math=r"\begin{aligned}P&:\ \min_{w,b,\xi}\ \tfrac12\|w\|^2+\tfrac C2\sum_i\xi_i^2\ \ \text{s.t.}"
                  r"\ \ y_i(w^\top x_i+b)\ge 1-\xi_i\\ P^+&:\ P\ \text{and}\ \xi_i\ge0\end{aligned}",
             rule="definition"),
        Step(text="P+ has fewer feasible points than P, so its optimal value is at least P's.",
             math=r"\operatorname{val}(P^+)\ \ge\ \operatorname{val}(P)", rule="feasible set inclusion"),
        Step(text="Take a minimiser (w, b, xi) of P (one exists: P is a convex quadratic program whose objective "
                  "is bounded below by 0 on a non-empty feasible set, so its minimum is attained by the Frank-Wolfe "
                  "theorem) and suppose xi_k < 0 for some k. Replace xi_k by 0: "
                  "the k-th constraint still holds because its right-hand side decreases, and the objective "
                  "strictly decreases, contradicting optimality.", rule="proof by contradiction",
             math=r"y_k(w^\top x_k+b)\ \ge\ 1-\xi_k\ >\ 1 = 1-0,\qquad \tfrac C2\,0^2 < \tfrac C2\,\xi_k^2"),
        Step(text="So every minimiser of P has xi >= 0: it is feasible for P+, hence the optimal values are equal "
                  "and the constraints xi_i >= 0 are inactive (their multipliers mu_i are 0).",
             math=r"\xi^\star\ge0\ \Rightarrow\ \operatorname{val}(P^+)\le\operatorname{val}(P)"
                  r"\ \Rightarrow\ \operatorname{val}(P^+)=\operatorname{val}(P)", rule="conclusion"),
    ]


def _label(name: str) -> str:
    return {"separable": "sep.", "non-separable": "non-sep."}.get(name, name)


def sweep_tables(all_rows: list[tuple[str, list[dict]]], Cs: list[float]) -> list[Table]:
    tables = []
    for k, C in enumerate(Cs):
        rows = []
        for name, sw in all_rows:
            r = sw[k]
            p, q, dl = r["free"], r["nonneg"], r["dual"]
            kkt = max(max(r["kkt_free"].values()), max(r["kkt_nonneg"].values()))
            rows.append([_label(name), _fmt(p.value), _fmt(q.value), _fmt(dl.value), f"{p.value - dl.value:.1e}",
                         f"{p.xi.min():.4g}", str(int((p.xi > 1e-7).sum())), f"{kkt:.1e}",
                         _fmt(float(r["scipy"].fun))])
        caption = f"C = {C:g}"
        if k == 0:
            caption += (": optimal values of P (without xi >= 0), P+ (with xi >= 0) and the dual D; the gap P - D; "
                        "the smallest optimal slack and the number of positive slacks of P; the largest KKT residual "
                        "of P and P+; the scipy oracle. sep./non-sep.: the separable / non-separable data")
        tables.append(Table(caption=caption,
                            columns=["data", "P", "P+", "D", "P - D", "min xi*", "#xi*>0", "KKT", "scipy"],
                            rows=rows))
    return tables


def kkt_table(all_rows, Cs) -> Table:
    rows = []
    for name, sw in all_rows:
        for k, C in enumerate(Cs):
            r = sw[k]["kkt_free"]
            rows.append([_label(name), f"{C:g}"] + [f"{r[key]:.1e}" for key in
                        ("primal", "dual", "complementarity", "stationarity_w", "stationarity_b", "stationarity_xi")])
    return Table(caption="KKT residuals of P at the cvxpy optimum (alpha = the duals of the margin constraints): "
                         "primal and dual feasibility, complementarity, stationarity in w, b and xi (xi = alpha/C)",
                 columns=["data", "C", "primal", "dual", "compl.", "w", "b", "xi"], rows=rows)


def solve_t3a(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "tau.t3a"
    n, d, seed, Cs = instance_params(params)
    claim = None
    if claims:
        claim_keys(claims, ("redundant",), f'["{pid}"]')
        if "redundant" in claims:
            claim = bool_claim(claims, "redundant", pid)
    result = Result(problem_id=pid, title="L2 soft SVM: the constraints xi >= 0 are redundant",
                    params={"n": n, "d": d, "seed": seed, "C": Cs, "solver": SOLVER_TEXT, "oracle": SCIPY_TEXT},
                    random_state=seed)
    result.data = {"dataset": f"synthetic: n = {n}, d = {d}, seeds {seed} (separable) and {seed + 1} (non-separable)"}
    result.steps = _t3a_steps()
    data = datasets(n, d, seed)
    result.checks += data_checks(data)
    try:
        all_rows = [(name, sweep(X, y, Cs)) for name, X, y in data]
    except SolverError as exc:
        result.status, result.error = "error", f"the solver did not reach an optimum: {exc}"
        return result
    inst = [(f"{name}, C = {r['C']:g}", r) for name, sw in all_rows for r in sw]
    eq = [(i, _close(r["free"].value, r["nonneg"].value)) for i, r in inst]
    result.checks += [
        worst_check("optimal values with and without xi >= 0 are equal", SOLVER_TEXT, eq, VALUE_TOL,
                    "relative difference"),
        worst_check("xi* >= 0 at the optimum of P (without the constraint)", SOLVER_TEXT,
                    [(i, max(0.0, -float(r["free"].xi.min()))) for i, r in inst], 1e-7, "negative part of xi*"),
        worst_check("the multipliers mu of xi >= 0 in P+ vanish (the constraints are inactive)", SOLVER_TEXT,
                    [(i, float(np.abs(r["nonneg"].mu).max())) for i, r in inst], KKT_TOL, "|mu_i|"),
        kkt_check("KKT conditions of P hold at the optimum", [(i, r["kkt_free"]) for i, r in inst]),
        kkt_check("KKT conditions of P+ (with mu for xi >= 0) hold at the optimum", [(i, r["kkt_nonneg"]) for i, r in inst]),
        worst_check("zero duality gap: P = D", SOLVER_TEXT + "; dual in sum-of-squares form",
                    [(i, _close(r["free"].value, r["dual"].value)) for i, r in inst], VALUE_TOL, "relative gap"),
        worst_check("P agrees with the scipy oracle (unconstrained form, no cvxpy)", SCIPY_TEXT,
                    [(i, _close(r["free"].value, float(r["scipy"].fun)) if r["scipy"].success else np.inf)
                     for i, r in inst], VALUE_TOL, "relative difference"),
        worst_check("w of P agrees with the scipy oracle's w", SCIPY_TEXT,
                    [(i, float(np.abs(r["free"].w - r["scipy"].x[:-1]).max())) for i, r in inst], 1e-4,
                    "|w_cvxpy - w_scipy|"),
    ]
    result.tables = sweep_tables(all_rows, Cs) + [kkt_table(all_rows, Cs)]
    npos = sum(int((r["free"].xi > 1e-7).sum()) for _, r in inst)
    result.summary = (f"val(P) = val(P+) on {len(inst)} instances (largest relative difference "
                      f"{max(v for _, v in eq):.1e}); xi* >= 0 always; {npos} slacks are positive")
    if claim is not None:
        holds = result.checks_passed
        if claim and holds:
            result.verdicts.append(Verdict("redundant = true", True,
                                           "proved (a negative slack can be raised to 0, staying feasible and "
                                           f"lowering the objective); numerically val(P) = val(P+) on {len(inst)} "
                                           f"instances, largest relative difference {max(v for _, v in eq):.1e}"))
        elif claim:
            result.verdicts.append(Verdict("redundant = true", None, "the numerical checks did not all pass"))
        else:
            i, v = max(eq, key=lambda t: t[1])
            result.verdicts.append(Verdict("redundant = false", False,
                                           "the constraints are redundant: every minimiser of P has xi >= 0 "
                                           "(see the proof), and the optimal values agree on every instance "
                                           f"(largest relative difference {v:.1e}, {i})"))
    return result
