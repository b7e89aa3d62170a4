"""tau.t1: the multiclass hinge SVM (no bias) on separable data, as an LP.

    l_i = max_j ( w_j.x_i - w_{y_i}.x_i + 1(j != y_i) ),   f(W) = (1/n) sum_i l_i,
    prediction argmax_j w_j.x.

The LP (epigraph form, the sheet's notation): variables W (K x d) and xi (n),

    minimise (1/n) sum_i xi_i   s.t.   xi_i >= w_j.x_i - w_{y_i}.x_i + 1(j != y_i)   for all i, j.

Solved with cvxpy (CLARABEL); the optimum is checked against an independent
solve of the same LP built by hand for scipy's ``linprog`` (HiGHS), against a
direct evaluation of f at the minimiser, and with the LP dual certificate
(lambda >= 0, sum_j lambda_ij = 1/n, sum_i lambda_ik x_i = (1/n) sum_{y_i = k} x_i,
dual value 1 - sum_i lambda_{i y_i}). On separable data the minimum 0 is
proved exactly: f >= 0, and the LP's W scaled by 1/(min margin) has f = 0 in
rational arithmetic. The proof steps are verified with SymPy.

>>> X, y, w_star = separable_data(12, 2, 3, seed=0)
>>> a = analyse(X, y, 3)
>>> a.separable, a.f_exact_witness, a.train_errors
(True, Fraction(0, 1), 0)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import cvxpy as cp
import numpy as np
import sympy as sp
from scipy.optimize import linprog

from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Table, Verdict
from problems.validate import claim_keys
from theory.parse import ExprError, parse_number

PID = "tau.t1"
WHERE = f'["{PID}"]'
TOL = 1e-6              # agreement of the two LP solves and KKT residuals (absolute, on f ~ O(1))
SOLVER = "CLARABEL"
MAX_N, MAX_D, MAX_K = 400, 10, 10

CLAIM_SCHEMA = """\
Claims for tau.t1 (multiclass hinge SVM without bias), one TOML table:

  ["tau.t1"]
  min_value = 0                  # the minimum of f on separable data (number or text, e.g. "0")
  zero_training_error = true     # every minimiser of f has zero training error (on separable data)
  loss_nonnegative = true        # proof step: l_i >= 0 (the j = y_i term is 0)
  scaling_drives_f_to_zero = true          # proof step: f(t w*) = 0 for t >= 1/(min margin of w*)
  zero_f_implies_margins_at_least_one = true   # proof step: f = 0 => w_{y_i}.x_i - w_j.x_i >= 1 (j != y_i)
  W = [[1, 0], [0, 1], [-1, -1]] # optional claimed minimiser W* (K rows of d numbers or text such as "1/2");
                                 # checked exactly: classifies every training point, and f(W*)
  f_value = 0                    # optional: the claimed f(W*) (needs W), compared exactly
  X = [[1, 0], [0, 1], [-1, -1]] # optional data set (n rows of d numbers); default: the problem's
  y = [1, 2, 3]                  #   generated separable instance (see the table). Labels in 1..K.

With X, y given, min_value is compared with the LP optimum on that data: exactly 0 when the
data are separable (exact witness), else within 1e-6 of the LP value (both LP solvers agree).
"""


# ---------------------------------------------------------------- data

def _rational_grid(A: np.ndarray) -> np.ndarray:
    """Round to 2 decimals, so that every entry is an exact rational k/100."""
    return np.round(A, 2)


def separable_data(n: int, d: int, K: int, seed: int = 0, gap: float = 0.15):
    """n points in [-1, 1]^d labelled by argmax_k w*_k.x for a random w*, kept only when the top score
    beats the second by at least ``gap`` (so the data are separable with margin).
    Returns X (n, d), labels y in 0..K-1 (n,) and w* (K, d)."""
    rng = np.random.default_rng(seed)
    for _ in range(100):                                  # redraw w* until every class has n/(2K) points
        W_star = _rational_grid(rng.standard_normal((K, d)))
        X = np.zeros((0, d))
        for _ in range(50):
            cand = _rational_grid(rng.uniform(-1, 1, size=(4 * n, d)))
            S = np.sort(cand @ W_star.T, axis=1)           # (m, K)
            X = np.vstack([X, cand[S[:, -1] - S[:, -2] >= gap]])
            if len(X) >= n:
                break
        if len(X) < n:
            continue
        X = X[:n]
        y = np.argmax(X @ W_star.T, axis=1)
        if np.bincount(y, minlength=K).min() >= max(1, n // (2 * K)):
            break
    if len(X) < n:
        raise RuntimeError(f"could not generate {n} separable points with gap {gap}")
    return X, y, W_star


def flip_labels(y: np.ndarray, K: int, fraction: float, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """Give round(fraction * n) (at least 1) points a different, random label."""
    rng = np.random.default_rng(seed + 1)
    y = y.copy()
    m = max(1, int(round(fraction * len(y))))
    idx = sorted(int(i) for i in rng.choice(len(y), size=m, replace=False))
    for i in idx:
        y[i] = (y[i] + rng.integers(1, K)) % K
    return y, idx


# ---------------------------------------------------------------- exact arithmetic

def _fr(v) -> Fraction:
    """An exact rational from a float (the float's exact value) or a sympy Rational."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    return Fraction(float(v))


def _data_fr(X: np.ndarray) -> list[list[Fraction]]:
    # X holds decimals k/100 (generated) or user numbers: take the shortest decimal of each float
    return [[Fraction(repr(float(v))) if isinstance(v, (float, np.floating)) else _fr(v) for v in row] for row in X]


def exact_scores(Wf: list[list[Fraction]], Xf: list[list[Fraction]]) -> list[list[Fraction]]:
    return [[sum((w * x for w, x in zip(wk, xi)), Fraction(0)) for wk in Wf] for xi in Xf]


def exact_f(Wf, Xf, y) -> tuple[Fraction, list[Fraction]]:
    """f(W) and the losses l_i, in exact rational arithmetic."""
    losses = []
    for s, yi in zip(exact_scores(Wf, Xf), y):
        losses.append(max(s[j] - s[yi] + (0 if j == yi else 1) for j in range(len(s))))
    return sum(losses, Fraction(0)) / len(losses), losses


def exact_margins(Wf, Xf, y) -> list[Fraction]:
    """min_{j != y_i} (w_{y_i} - w_j).x_i for each i (exact)."""
    out = []
    for s, yi in zip(exact_scores(Wf, Xf), y):
        out.append(min(s[yi] - s[j] for j in range(len(s)) if j != yi))
    return out


# ---------------------------------------------------------------- the LP, two ways

def lp_cvxpy(X: np.ndarray, y: np.ndarray, K: int):
    """The LP in the sheet's notation. Returns (problem, W, xi, margin constraint)."""
    n, d = X.shape
    Y = np.eye(K)[y]                                       # (n, K) one-hot
    W = cp.Variable((K, d), name="W")
    xi = cp.Variable(n, name="xi")
    scores = X @ W.T                                       # (n, K): w_j.x_i
    correct = cp.sum(cp.multiply(Y, scores), axis=1)       # (n,):  w_{y_i}.x_i
    hinge = scores - cp.reshape(correct, (n, 1), order="F") @ np.ones((1, K)) + (1 - Y)
    epigraph = cp.reshape(xi, (n, 1), order="F") @ np.ones((1, K)) >= hinge
    problem = cp.Problem(cp.Minimize(cp.sum(xi) / n), [epigraph])
    return problem, W, xi, epigraph


def lp_linprog(X: np.ndarray, y: np.ndarray, K: int):
    """The same LP built by hand for scipy.optimize.linprog (HiGHS): z = (vec W row-major, xi)."""
    n, d = X.shape
    rows, rhs = [], []
    for i in range(n):
        for j in range(K):
            a = np.zeros(K * d + n)
            if j != y[i]:
                a[j * d:(j + 1) * d] += X[i]
                a[y[i] * d:(y[i] + 1) * d] -= X[i]
            a[K * d + i] = -1.0
            rows.append(a)
            rhs.append(-1.0 if j != y[i] else 0.0)
    c = np.concatenate([np.zeros(K * d), np.full(n, 1.0 / n)])
    return linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=[(None, None)] * (K * d + n), method="highs")


def kkt_residuals(X, y, K, W, xi, lam) -> dict[str, float]:
    """Primal feasibility, dual feasibility, stationarity, complementarity and the duality gap of
    (W, xi; lambda) for the LP above (lambda: (n, K), the multipliers of the epigraph constraints)."""
    n, d = X.shape
    Y = np.eye(K)[y]
    S = X @ W.T
    hinge = S - (Y * S).sum(1, keepdims=True) + (1 - Y)
    slack = xi[:, None] - hinge                                              # >= 0
    stat_W = lam.T @ X - Y.T @ (lam.sum(1, keepdims=True) * X)               # (K, d): d L / d W = 0
    primal = xi.mean()
    dual = float((lam * (1 - Y)).sum())
    return {
        "primal infeasibility": float(max(0.0, -slack.min())),
        "negative multiplier": float(max(0.0, -lam.min())),
        "sum_j lambda_ij - 1/n": float(np.abs(lam.sum(1) - 1.0 / n).max()),
        "stationarity in W": float(np.abs(stat_W).max()),
        "complementarity": float(np.abs(lam * slack).max()),
        "duality gap": float(abs(primal - dual)),
        "dual value": dual,
    }


@dataclass
class Analysis:
    n: int
    d: int
    K: int
    status: str
    f_cvxpy: float
    f_linprog: float
    f_direct: float
    W: np.ndarray                       # the cvxpy minimiser
    kkt: dict[str, float]
    train_errors: int                   # of the cvxpy minimiser, exact arithmetic
    misclassified: list[int]
    separable: Optional[bool]           # True: exact witness with f = 0; None: LP optimum > 0
    f_exact_witness: Optional[Fraction]  # f(W / min margin) exactly, when min margin > 0
    min_margin: Optional[Fraction]
    notes: list[str] = field(default_factory=list)


def analyse(X: np.ndarray, y: np.ndarray, K: int, Xf: Optional[list[list[Fraction]]] = None) -> Analysis:
    """Solve the LP both ways, certify it, and decide separability with exact evidence.
    ``Xf``: the data as exact rationals (default: the shortest decimal of each float in X)."""
    n, d = X.shape
    problem, W, xi, epigraph = lp_cvxpy(X, y, K)
    problem.solve(solver=SOLVER)
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"cvxpy ({SOLVER}) returned status {problem.status!r} for the multiclass SVM LP")
    res = lp_linprog(X, y, K)
    if res.status != 0:
        raise RuntimeError(f"linprog (HiGHS) returned status {res.status} ({res.message})")
    Wv = np.asarray(W.value)                                  # (K, d)
    xiv = np.asarray(xi.value)
    lam = np.asarray(epigraph.dual_value)                     # (n, K)
    S = X @ Wv.T
    f_direct = float(np.mean(np.max(S - S[np.arange(n), y][:, None] + (1 - np.eye(K)[y]), axis=1)))
    Xf = _data_fr(X) if Xf is None else Xf
    Wf = [[_fr(v) for v in row] for row in Wv]
    margins = exact_margins(Wf, Xf, y)
    mis = [i for i, m in enumerate(margins) if m <= 0]
    m = min(margins)
    f_wit = None
    if m > 0:                                               # scale the minimiser: all margins >= 1
        f_wit, _ = exact_f([[w / m for w in row] for row in Wf], Xf, y)
    separable = True if f_wit == 0 else None
    return Analysis(n, d, K, problem.status, float(problem.value), float(res.fun), f_direct, Wv,
                    kkt_residuals(X, y, K, Wv, xiv, lam), len(mis), mis, separable, f_wit,
                    m if m > 0 else None)


def optimal_face_errors(X, y, K, count: int = 5, box: float = 10.0, seed: int = 0) -> list[int]:
    """Training errors of ``count`` further minimisers: random linear objectives c.W over the optimal
    face {f(W) <= 0} (separable data) intersected with the box |W_kj| <= box."""
    n, d = X.shape
    problem, W, xi, _ = lp_cvxpy(X, y, K)
    c = cp.Parameter((K, d), name="c")
    face = cp.Problem(cp.Minimize(cp.sum(cp.multiply(c, W))),
                      problem.constraints + [cp.sum(xi) / n <= 0, cp.abs(W) <= box])
    rng = np.random.default_rng(seed)
    errs = []
    for _ in range(count):
        c.value = rng.standard_normal((K, d))
        face.solve(solver=SOLVER)
        if face.status != cp.OPTIMAL:
            raise RuntimeError(f"optimal-face LP: status {face.status!r}")
        errs.append(int(np.sum(np.argmax(X @ W.value.T, axis=1) != y)))
    return errs


# ---------------------------------------------------------------- symbolic proof steps

def _s(K):
    return sp.symbols(f"s1:{K + 1}", real=True)            # s_j = w_j . x_i


def _terms(K, yi):
    s = _s(K)
    return s, [s[j] - s[yi] + (0 if j == yi else 1) for j in range(K)]


def proof_loss_nonnegative(Ks=range(2, 7)) -> tuple[bool, str]:
    """For every K and y_i: the j = y_i term simplifies to 0, so l_i = Max(0, ...) >= 0 (SymPy)."""
    for K in Ks:
        for yi in range(K):
            s, terms = _terms(K, yi)
            if sp.simplify(terms[yi]) != 0:
                return False, f"K = {K}, y = {yi + 1}: the j = y term is {terms[yi]}, not 0"
            if sp.Max(*terms).is_nonnegative is not True:
                return False, f"K = {K}, y = {yi + 1}: SymPy cannot show Max(...) >= 0"
    return True, f"K = {min(Ks)}..{max(Ks)}, every label y_i: the j = y_i term is 0, and SymPy proves max(0, ...) >= 0"


def proof_scaling() -> tuple[bool, str]:
    """A j != y_i term at t w*: 1 - t (m + delta) with m = min margin > 0, delta >= 0; at t = 1/m + tau
    (tau >= 0) it is <= 0, and Max(0, term) = 0."""
    m, tau = sp.symbols("m tau", positive=True)
    delta = sp.Symbol("delta", nonnegative=True)
    term = sp.expand(1 - (1 / m + tau) * (m + delta))
    ok = term.is_nonpositive is True and sp.Max(0, term) == 0
    ok0 = sp.Max(0, sp.expand(1 - (1 / m) * (m + delta))) == 0      # tau = 0 too
    return ok and ok0, (f"1 - t(m + delta) at t = 1/m + tau expands to {sp.sstr(term).replace('*', ' ')} <= 0 "
                        f"(m > 0; delta, tau >= 0), so max(0, term) = 0")


def proof_margin(ns=range(2, 9), Ks=range(2, 7)) -> tuple[bool, str]:
    """f = 0 with every l_k >= 0 forces each l_k = 0 (n = 2..8); then l_i >= term_j gives margin >= 1."""
    for n in ns:
        l = sp.symbols(f"l1:{n + 1}", nonnegative=True)
        for k in range(n):
            if (sum(l) - l[k]).is_nonnegative is not True:          # l_k <= n f = 0
                return False, f"n = {n}: cannot show l_{k + 1} <= sum_i l_i"
    for K in Ks:
        s, terms = _terms(K, 0)
        for j in range(1, K):
            shifted = sp.Max(*[t - terms[j] for t in terms])         # Max(a) - c = Max(a - c)
            if shifted.is_nonnegative is not True:
                return False, f"K = {K}: cannot show l_i >= term {j + 1}"
    M = sp.Symbol("M", real=True)                                    # M = w_{y_i}.x_i - w_j.x_i
    sol = sp.solve(sp.Le(1 - M, 0), M)
    if sol != sp.And(sp.Le(1, M), sp.Lt(M, sp.oo)):
        return False, f"0 >= 1 - M solved to {sol}"
    return True, f"l_k <= sum_i l_i (n = 2..8), l_i >= each term (K = 2..6), and 0 >= 1 - M gives {sp.sstr(sol)}"


# ---------------------------------------------------------------- claims

def _num(raw, where: str) -> sp.Expr:
    try:
        v = parse_number(raw)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if not v.is_real:
        raise InputError(f"{where}: expected a real number")
    return v


def _rational(raw, where: str) -> Fraction:
    v = _num(raw, where)
    if not v.is_Rational:
        raise InputError(f"{where}: expected a rational number (exact arithmetic), got {v}")
    return Fraction(int(v.p), int(v.q))


def _matrix(raw, where: str, rows: Optional[int] = None, cols: Optional[int] = None) -> list[list[Fraction]]:
    if not isinstance(raw, list) or not raw or not all(isinstance(r, list) for r in raw):
        raise InputError(f"{where}: expected a list of rows (lists of numbers)")
    if rows is not None and len(raw) != rows:
        raise InputError(f"{where}: expected {rows} rows, got {len(raw)}")
    width = len(raw[0]) if cols is None else cols
    for i, r in enumerate(raw):
        if len(r) != width or width == 0:
            raise InputError(f"{where}[{i}]: expected {width} entries, got {len(r)}")
    return [[_rational(v, f"{where}[{i}][{k}]") for k, v in enumerate(r)] for i, r in enumerate(raw)]


def parse_claims(claims: dict, K_default: int, d_default: int) -> dict:
    claim_keys(claims, {"min_value", "zero_training_error", "loss_nonnegative", "scaling_drives_f_to_zero",
                        "zero_f_implies_margins_at_least_one", "W", "f_value", "X", "y"}, WHERE)
    out: dict[str, Any] = {}
    for key in ("zero_training_error", "loss_nonnegative", "scaling_drives_f_to_zero",
                "zero_f_implies_margins_at_least_one"):
        if key in claims:
            if not isinstance(claims[key], bool):
                raise InputError(f"{WHERE}.{key}: expected true or false")
            out[key] = claims[key]
    if "min_value" in claims:
        out["min_value"] = _num(claims["min_value"], f"{WHERE}.min_value")
    if ("X" in claims) != ("y" in claims):
        raise InputError(f"{WHERE}: give both X and y, or neither")
    K, d = K_default, d_default
    if "X" in claims:
        Xq = _matrix(claims["X"], f"{WHERE}.X")
        if len(Xq) > MAX_N or len(Xq[0]) > MAX_D:
            raise InputError(f"{WHERE}.X: at most {MAX_N} rows of at most {MAX_D} entries")
        ys = claims["y"]
        if not isinstance(ys, list) or len(ys) != len(Xq):
            raise InputError(f"{WHERE}.y: expected a list of {len(Xq)} labels (one per row of X)")
        for i, v in enumerate(ys):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"{WHERE}.y[{i}]: expected a label 1..K (an integer >= 1)")
        K = len(claims["W"]) if isinstance(claims.get("W"), list) else max(ys)
        if max(ys) > K or not 2 <= K <= MAX_K:
            raise InputError(f"{WHERE}.y: labels must lie in 1..K with 2 <= K <= {MAX_K} (K = rows of W)")
        d = len(Xq[0])
        out["X"] = Xq
        out["y"] = [v - 1 for v in ys]
        out["K"] = K
    if "W" in claims:
        out["W"] = _matrix(claims["W"], f"{WHERE}.W", rows=K, cols=d)
    if "f_value" in claims:
        if "W" not in out:
            raise InputError(f"{WHERE}.f_value: needs a claimed W")
        out["f_value"] = _num(claims["f_value"], f"{WHERE}.f_value")
    return out


def _fmt(q: Fraction) -> str:
    if q.denominator == 1:
        return str(q.numerator)
    if q.denominator > 10 ** 6:
        return f"{float(q):.6g} (exact rational with a {len(str(q.denominator))}-digit denominator)"
    return f"{q.numerator}/{q.denominator} (= {float(q):.6g})"


def _vec(v) -> str:
    return "(" + ", ".join(f"{float(a):.4g}" for a in v) + ")"


def _claim_verdicts(p: dict, sep_a: Analysis, X: np.ndarray, y: np.ndarray, K: int,
                    proofs: dict[str, tuple[bool, str]]) -> list[Verdict]:
    out = []
    own_data = "X" in p
    data_a = sep_a
    if own_data:
        X = np.array([[float(v) for v in row] for row in p["X"]])
        y = np.array(p["y"])
        K = p["K"]
        data_a = analyse(X, y, K, Xf=p["X"])
    where = "your data" if own_data else "the generated separable data"
    if "min_value" in p:
        v = p["min_value"]
        if data_a.separable:
            ok = bool(sp.simplify(v) == 0)
            ev = (f"on {where} the minimum is exactly 0: f >= 0 always, and W/m (W the LP minimiser, m = "
                  f"{_fmt(data_a.min_margin)} its least margin) gives f = 0 in exact arithmetic")
            ev += "" if ok else f"; your value {v} is not 0"
        else:
            fstar = data_a.f_linprog
            ok = abs(float(v) - fstar) <= TOL * (1 + abs(fstar))
            ev = (f"on {where} (not certified separable) the LP minimum is {data_a.f_cvxpy:.8g} (cvxpy) / "
                  f"{fstar:.8g} (linprog), dual value {data_a.kkt['dual value']:.8g}; your value "
                  f"{float(v):.8g} is {'within' if ok else 'outside'} the tolerance {TOL:g}")
        out.append(Verdict(f"min_value = {v}", ok, ev))
    if "zero_training_error" in p:
        truth = data_a.separable is True and data_a.train_errors == 0
        ok = p["zero_training_error"] == truth
        ev = (f"the LP minimiser misclassifies {data_a.train_errors} of {data_a.n} points (exact arithmetic)"
              + ("; every minimiser has f = 0, so every margin is >= 1 (proof steps verified)" if truth else
                 f"; first misclassified point i = {data_a.misclassified[0] + 1}" if data_a.misclassified else
                 "; the data are not certified separable"))
        out.append(Verdict(f"zero_training_error = {str(p['zero_training_error']).lower()}", ok, ev))
    for key in ("loss_nonnegative", "scaling_drives_f_to_zero", "zero_f_implies_margins_at_least_one"):
        if key in p:
            proved, why = proofs[key]
            out.append(Verdict(f"{key} = {str(p[key]).lower()}", p[key] is True and proved,
                               ("true: " if proved else "not verified: ") + why))
    if "W" in p:
        Wf = p["W"]
        Xf = _data_fr(X) if not own_data else p["X"]
        margins = exact_margins(Wf, Xf, list(y))
        bad = [i for i, m in enumerate(margins) if m <= 0]
        fW, losses = exact_f(Wf, Xf, list(y))
        if bad:
            i = bad[0]
            s = exact_scores(Wf, [Xf[i]])[0]
            ev = (f"{len(bad)} of {len(margins)} points misclassified (ties count as errors); first: i = {i + 1}, "
                  f"x = {_vec(Xf[i])}, y = {y[i] + 1}, scores w_j.x = {_vec(s)}; f(W*) = {_fmt(fW)}")
        else:
            ev = (f"every point classified correctly, least margin {_fmt(min(margins))}; f(W*) = {_fmt(fW)}"
                  + (" (a minimiser)" if fW == 0 else ""))
        out.append(Verdict(f"W* classifies every training point of {where}", not bad, ev))
        if "f_value" in p:
            v = p["f_value"]
            ok = bool(sp.simplify(v - sp.Rational(fW.numerator, fW.denominator)) == 0)
            worst = max(range(len(losses)), key=lambda i: losses[i])
            out.append(Verdict(f"f(W*) = {v}", ok, f"exact f(W*) = {_fmt(fW)}; largest loss l_{worst + 1} = "
                                                   f"{_fmt(losses[worst])}"))
    return out


# ---------------------------------------------------------------- the solver

def _params(params: dict) -> dict:
    out = {"n": int(params.get("n") or 24), "d": int(params.get("d") or 2), "K": int(params.get("K") or 3),
           "seed": int(params.get("seed") or 0), "flip": float(params.get("flip", 0.15) or 0.15)}
    if not 2 <= out["n"] <= MAX_N:
        raise InputError(f"parameter n: expected 2 <= n <= {MAX_N}, got {out['n']}")
    if not 1 <= out["d"] <= MAX_D:
        raise InputError(f"parameter d: expected 1 <= d <= {MAX_D}, got {out['d']}")
    if not 2 <= out["K"] <= MAX_K:
        raise InputError(f"parameter K: expected 2 <= K <= {MAX_K}, got {out['K']}")
    if not 0 < out["flip"] < 1:
        raise InputError(f"parameter flip: expected 0 < flip < 1, got {out['flip']}")
    return out


def _steps(r: Result, proofs: dict) -> None:
    r.steps.append(Step(
        text="The loss and the objective:",
        math=r"\ell_i=\max_{j\in[K]}\big(w_j\cdot x_i-w_{y_i}\cdot x_i+\mathbf 1(j\ne y_i)\big),\qquad "
             r"f(W)=\frac1n\sum_{i=1}^n\ell_i",
        rule="definition"))
    ok, why = proofs["loss_nonnegative"]
    r.steps.append(Step(
        text="Step 1: the j = y_i term is 0, so the max is at least 0 and f >= 0 (checked with SymPy for "
             "K = 2..6 and every label).",
        math=r"j=y_i:\ w_{y_i}\cdot x_i-w_{y_i}\cdot x_i+0=0\ \Rightarrow\ \ell_i\ge0,\ f\ge0",
        rule="SymPy simplification", gap=not ok))
    ok, why = proofs["scaling_drives_f_to_zero"]
    r.steps.append(Step(
        text="Step 2: let w* classify every point, with least margin m > 0. At t w* each j != y_i term is "
             "1 - t (w*_{y_i} - w*_j).x_i <= 1 - t m <= 0 once t >= 1/m, so every l_i = 0 and f(t w*) = 0; "
             "hence min f = 0 (SymPy: the term is non-positive for t = 1/m + tau, tau >= 0).",
        math=r"m=\min_i\min_{j\ne y_i}(w^*_{y_i}-w^*_j)\cdot x_i>0,\quad t\ge\tfrac1m\ \Rightarrow\ "
             r"1-t\,(w^*_{y_i}-w^*_j)\cdot x_i\le0\ \Rightarrow\ f(tw^*)=0=\min f",
        rule="SymPy, positivity assumptions", gap=not ok))
    ok, why = proofs["zero_f_implies_margins_at_least_one"]
    r.steps.append(Step(
        text="Step 3: a minimiser has f = 0; since every l_i >= 0, each l_i = 0, and l_i is at least each "
             "j != y_i term. So every margin is at least 1 and argmax_j w_j.x_i = y_i uniquely: zero training "
             "error (SymPy: l_k <= sum_i l_i for n = 2..8; l_i >= each term for K = 2..6; 0 >= 1 - M iff M >= 1).",
        math=r"0=\ell_i\ge w_j\cdot x_i-w_{y_i}\cdot x_i+1\ \Rightarrow\ w_{y_i}\cdot x_i-w_j\cdot x_i\ge1>0"
             r"\quad(j\ne y_i)",
        rule="SymPy inequality solving", gap=not ok))
    r.steps.append(Step(
        text=f"Numerically: the LP in epigraph form, solved with cvxpy ({SOLVER}); the same LP built by hand is "
             "solved with scipy linprog (HiGHS); the multipliers of the epigraph constraints form the dual "
             "certificate.",
        math=r"\min_{W\in\mathbb R^{K\times d},\,\xi\in\mathbb R^n}\ \frac1n\sum_i\xi_i\quad\text{s.t.}\quad "
             r"\xi_i\ge w_j\cdot x_i-w_{y_i}\cdot x_i+\mathbf 1(j\ne y_i)\ \ \forall i,j",
        rule="epigraph form"))
    r.steps.append(Step(
        text="Its dual (lambda_ij: the multiplier of constraint (i, j)); any feasible lambda bounds min f from below:",
        math=r"\max_{\lambda\ge0}\ \sum_i\sum_{j\ne y_i}\lambda_{ij}\quad\text{s.t.}\quad\sum_j\lambda_{ij}="
             r"\tfrac1n,\quad \sum_i\lambda_{ik}x_i=\tfrac1n\sum_{i:\,y_i=k}x_i\ \ (k\in[K])",
        rule="LP duality"))


def _lp_checks(r: Result, a: Analysis, label: str) -> None:
    r.checks.append(Check(f"{label}: two LP solvers agree", f"cvxpy {SOLVER} vs scipy linprog HiGHS (hand-built "
                          f"LP), tolerance {TOL:g}", abs(a.f_cvxpy - a.f_linprog) <= TOL,
                          f"cvxpy {a.f_cvxpy:.3e}, linprog {a.f_linprog:.3e}"))
    r.checks.append(Check(f"{label}: f evaluated directly at the minimiser", "numpy max over classes vs the LP "
                          f"value, tolerance {TOL:g}", abs(a.f_direct - a.f_cvxpy) <= TOL,
                          f"f(W) = {a.f_direct:.3e}"))
    kkt = {k: v for k, v in a.kkt.items() if k != "dual value"}
    worst = max(kkt, key=kkt.get)
    r.checks.append(Check(f"{label}: LP dual certificate (KKT)", "lambda from cvxpy: feasibility, stationarity, "
                          f"complementarity, duality gap, each <= {TOL:g}", kkt[worst] <= TOL,
                          f"dual value {a.kkt['dual value']:.3e}; largest residual {worst} = {kkt[worst]:.1e}"))


def _class_series(X, labels, K: int) -> list[Series]:
    styles = ["o", "s", "^", "v", "D", "P", "X", "*", "h", "<"]
    return [Series(f"class {k + 1}", X[labels == k, 0].tolist(), X[labels == k, 1].tolist(), styles[k % 10])
            for k in range(K)]


def data_figures(X, y, y_bad, K: int, flipped, misclassified) -> list[Figure]:
    """Two scatter plots (d = 2), each coloured by the labels it is about: the separable labels alone, and the
    non-separable copy's labels with crosses on the points its LP minimiser misclassifies. Legends sit outside
    the axes so that no point is hidden."""
    y, y_bad = np.asarray(y), np.asarray(y_bad)
    sep = Figure(name="tau_t1_data", caption="The generated points coloured by their separable labels",
                 xlabel="x_1", ylabel="x_2", series=_class_series(X, y, K), legend="outside")
    series = _class_series(X, y_bad, K)
    if misclassified:
        series.append(Series("misclassified by the minimiser", X[misclassified, 0].tolist(),
                             X[misclassified, 1].tolist(), "kx"))
    changed = ", ".join(str(int(i) + 1) for i in sorted(flipped))
    non = Figure(name="tau_t1_data_nonseparable",
                 caption=f"The same points coloured by the labels of the non-separable copy ({len(flipped)} labels "
                         f"changed: points i = {changed}); crosses: the {len(misclassified)} points that the LP "
                         f"minimiser on this copy misclassifies",
                 xlabel="x_1", ylabel="x_2", series=series, legend="outside")
    return [sep, non]


def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    t0 = time.perf_counter()
    P = _params(params)
    n, d, K, seed = P["n"], P["d"], P["K"], P["seed"]
    parsed = parse_claims(claims, K, d) if claims else None
    r = Result(problem_id=PID, title="Multiclass SVM, separable data", params=P, random_state=seed,
               data={"dataset": f"synthetic: n = {n} points uniform in [-1,1]^{d} on a 0.01 grid, labels argmax_k "
                                f"w*_k.x for a random w* (numpy default_rng({seed})), top-two score gap >= 0.15; "
                                f"non-separable copy: {P['flip']:.0%} of the labels changed"})
    r.versions = {"cvxpy": cp.__version__, "sympy": sp.__version__, "numpy": np.__version__}
    proofs = {"loss_nonnegative": proof_loss_nonnegative(), "scaling_drives_f_to_zero": proof_scaling(),
              "zero_f_implies_margins_at_least_one": proof_margin()}
    _steps(r, proofs)
    for key, (ok, why) in proofs.items():
        r.checks.append(Check(f"proof step {key.replace('_', ' ')}", "SymPy", ok, why))

    # -- separable instance
    X, y, W_star = separable_data(n, d, K, seed)
    a = analyse(X, y, K)
    _lp_checks(r, a, "separable data")
    Xf = _data_fr(X)
    Wsf = [[_fr(Fraction(repr(float(v)))) for v in row] for row in W_star]
    m_star = min(exact_margins(Wsf, Xf, list(y)))
    f_scaled, _ = exact_f([[w / m_star for w in row] for row in Wsf], Xf, list(y))
    r.checks.append(Check("scaling w* by t = 1/m drives f to 0", "exact rational arithmetic on the data",
                          m_star > 0 and f_scaled == 0,
                          f"least margin of the generator's w*: m = {_fmt(m_star)}; f(w*/m) = {_fmt(f_scaled)}"))
    r.checks.append(Check("minimum is 0 (exact witness)", "LP minimiser W scaled by 1/(its least margin), f "
                          "evaluated in exact rationals; f >= 0 by step 1", a.separable is True,
                          f"least margin of W: {_fmt(a.min_margin) if a.min_margin else 'not positive'}; "
                          f"f(W/m) = {_fmt(a.f_exact_witness) if a.f_exact_witness is not None else 'n/a'}"))
    r.checks.append(Check("the LP minimiser has zero training error", "argmax of exact scores", a.train_errors == 0,
                          f"{a.train_errors} of {n} misclassified"))
    face = optimal_face_errors(X, y, K, seed=seed)
    r.checks.append(Check("other minimisers have zero training error too", "5 random linear objectives over the "
                          "optimal face {f = 0} within |W_kj| <= 10 (cvxpy)", all(e == 0 for e in face),
                          "training errors: " + ", ".join(str(e) for e in face)))
    ts = np.linspace(0, 2 / float(m_star), 41)
    fs = [float(exact_f([[w * Fraction(t) for w in row] for row in Wsf], Xf, list(y))[0]) for t in ts]
    r.figures.append(Figure(name="tau_t1_scaling", caption="f(t w*) against t for the generator's w*: it reaches 0 "
                            "at t = 1/m (exact arithmetic)", xlabel="t", ylabel="f(t w*)",
                            series=[Series("f(t w*)", list(map(float, ts)), fs)],
                            vlines=[{"x": 1 / float(m_star), "label": "t = 1/m"}]))

    # -- non-separable instance
    y_bad, flipped = flip_labels(y, K, P["flip"], seed)
    b = analyse(X, y_bad, K)
    _lp_checks(r, b, "non-separable data")
    r.checks.append(Check("non-separable data: minimum > 0", f"LP dual value (a lower bound on f) > {TOL:g}",
                          b.kkt["dual value"] > TOL and b.separable is None,
                          f"min f = {b.f_cvxpy:.6f}, dual value {b.kkt['dual value']:.6f}; the minimiser "
                          f"misclassifies {b.train_errors} of {n} ({b.train_errors / n:.0%})"))
    r.tables.append(Table(
        caption="The two instances (the same points; labels changed on the second)",
        columns=["data", "LP min f (cvxpy)", "linprog", "dual value", "training error of the minimiser",
                 "least margin of the minimiser"],
        rows=[["separable", f"{a.f_cvxpy:.2e}", f"{a.f_linprog:.2e}", f"{a.kkt['dual value']:.2e}",
               f"{a.train_errors}/{n}", f"{float(a.min_margin):.6f}" if a.min_margin else "<= 0"],
              [f"{len(flipped)} labels changed", f"{b.f_cvxpy:.6f}",
               f"{b.f_linprog:.6f}", f"{b.kkt['dual value']:.6f}", f"{b.train_errors}/{n}",
               f"{float(min(exact_margins([[_fr(v) for v in row] for row in b.W], Xf, list(y_bad)))):.4f}"]]))
    r.tables.append(Table(caption=f"Separable instance: LP minimiser W ({K} x {d}) and the generator's w*",
                          columns=["class k", "w_k (LP)", "w*_k"],
                          rows=[[str(k + 1), _vec(a.W[k]), _vec(W_star[k])] for k in range(K)]))
    if n <= 40:
        r.tables.append(Table(caption="The generated data (claims about W* without X, y are checked on it)",
                              columns=["i", "x_i", "y_i (separable)", "y_i (non-separable)"],
                              rows=[[str(i + 1), _vec(X[i]), str(y[i] + 1), str(y_bad[i] + 1)] for i in range(n)]))
    if d == 2:
        r.figures += data_figures(X, y, y_bad, K, flipped, b.misclassified)
    r.summary = (f"separable data (n = {n}, d = {d}, K = {K}): min f = 0 exactly, zero training error; "
                 f"non-separable copy: min f = {b.f_cvxpy:.4f} > 0, training error {b.train_errors}/{n}")
    if parsed:
        r.verdicts.extend(_claim_verdicts(parsed, a, X, y, K, proofs))
    r.timings["total_s"] = time.perf_counter() - t0
    return r
