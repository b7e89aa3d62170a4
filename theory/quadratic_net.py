"""ist24.q3.1-q3.2: the quadratic-activation network as a linear model in features.

The network: x in R^D, z = W x + b, h = g(z) with g(z) = z(1 - z) elementwise,
yhat = v^T h + v0, Theta = (W in R^{K x D}, b in R^K, v in R^K, v0).

Per unit, h_k = b_k(1 - b_k) + (1 - 2 b_k) w_k^T x - (w_k^T x)^2, so with the
monomial feature map phi(x) = (1, x_1..x_D, x_i x_j for i <= j) (P = (D+1)(D+2)/2
entries) h = A_Theta phi(x) and yhat = c_Theta^T phi(x), c_Theta = A_Theta^T v + v0 e_1.

Shared helpers (used by q3.3 and q3.4 too): the canonical monomials, A_Theta,
c_Theta, splitting c into (c0, l, Q) with yhat = c0 + l^T x + x^T Q x, and the
direct (NumPy) forward pass that serves as an independent oracle.

>>> monomials(2)
[(), (0,), (1,), (0, 0), (0, 1), (1, 1)]
>>> n_features(3)
10
"""
from __future__ import annotations

import random
from fractions import Fraction
from typing import Any, Optional, Sequence

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import bool_claim, claim_keys, int_param
from theory.equivalence import equivalent
from theory.parse import ExprError, parse_expr, parse_number

CLAIM_SCHEMA = """\
Claims for ist24.q3.1 (feature map) and ist24.q3.2 (linear in features). Expressions are text in
the safe expression language (+ - * / **, sqrt, ...). Indices are 1-based; D, K <= 9.

  ["ist24.q3.1"]
  D = 2                                   # optional instance (default: the parameters D, K)
  K = 3
  phi = ["1", "x1", "x2", "x1**2", "x1*x2", "x2**2"]     # P = (D+1)(D+2)/2 expressions in x1..xD
  A_row = ["b - b**2", "(1 - 2*b)*w1", "(1 - 2*b)*w2", "-w1**2", "-2*w1*w2", "-w2**2"]
        # one row of A_Theta for a unit with weights w1..wD and bias b (used for every unit), or
  A = [["b1 - b1**2", "(1 - 2*b1)*W11", ...], ...]      # all K rows, in W<k><i> and b<k>

  phi must be an invertible linear recombination of the monomials {1, x_i, x_i x_j (i <= j)}:
  its monomial-coefficient matrix must be square, P x P, and invertible. A_Theta phi(x) must equal
  h = g(W x + b) identically (without phi, A is read against the canonical monomial order
  1, x1..xD, x1**2, x1*x2, .., x1*xD, x2**2, .., xD**2).

  ["ist24.q3.2"]
  D = 2                                   # optional instance, as above
  K = 2
  phi = [...]                             # optional, as in q3.1 (default: the canonical order)
  c = ["v0 + v1*(b1 - b1**2) + v2*(b2 - b2**2)", "v1*(1 - 2*b1)*W11 + v2*(1 - 2*b2)*W21", ...]
        # P expressions in W<k><i>, b<k>, v<k>, v0; checked: c^T phi(x) = yhat identically
  linear_in_theta = false                 # is c_Theta (equivalently the model) linear in Theta?
"""

MAX_CLAIM_DIM = 9


# ---------------------------------------------------------------- the model

def n_features(D: int) -> int:
    """P = (D+1)(D+2)/2, the number of monomials of degree <= 2 in D variables."""
    return (D + 1) * (D + 2) // 2


def monomials(D: int) -> list[tuple[int, ...]]:
    """Canonical order: 1, x_1..x_D, then x_i x_j for i <= j (0-based index tuples)."""
    out: list[tuple[int, ...]] = [()]
    out += [(i,) for i in range(D)]
    out += [(i, j) for i in range(D) for j in range(i, D)]
    return out


def x_symbols(D: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"x{i + 1}", real=True) for i in range(D)]


def theta_symbols(D: int, K: int):
    """W (K x D), b, v (K x 1) and v0 as SymPy symbols named W<k><i>, b<k>, v<k>, v0."""
    W = sp.Matrix(K, D, lambda k, i: sp.Symbol(f"W{k + 1}{i + 1}", real=True))
    b = sp.Matrix([sp.Symbol(f"b{k + 1}", real=True) for k in range(K)])
    v = sp.Matrix([sp.Symbol(f"v{k + 1}", real=True) for k in range(K)])
    return W, b, v, sp.Symbol("v0", real=True)


def monomial_expr(m: tuple[int, ...], xs) -> sp.Expr:
    return sp.Mul(*[xs[i] for i in m]) if m else sp.Integer(1)


def phi_canonical(xs) -> sp.Matrix:
    return sp.Matrix([monomial_expr(m, xs) for m in monomials(len(xs))])


def g(z):
    """The activation g(z) = z(1 - z)."""
    return z * (1 - z)


def unit_row(w: Sequence, b) -> list:
    """The row of A_Theta for one unit: coefficients of h = g(w^T x + b) on the canonical monomials."""
    D = len(w)
    row = [b * (1 - b)] + [(1 - 2 * b) * w[i] for i in range(D)]
    row += [-w[i] ** 2 if i == j else -2 * w[i] * w[j] for i in range(D) for j in range(i, D)]
    return row


def A_theta(W: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    return sp.Matrix([unit_row(list(W.row(k)), b[k]) for k in range(W.rows)])


def c_theta(W: sp.Matrix, b: sp.Matrix, v: sp.Matrix, v0) -> sp.Matrix:
    """c_Theta = A_Theta^T v + v0 e_1 (exact when the entries are exact)."""
    c = A_theta(W, b).T * v
    c[0] += v0
    return c.applyfunc(sp.expand)


def network(W: sp.Matrix, b: sp.Matrix, v: sp.Matrix, v0, xs) -> sp.Expr:
    z = W * sp.Matrix(xs) + b
    return sum(v[k] * g(z[k]) for k in range(W.rows)) + v0


def coefficients(expr, xs) -> Optional[list]:
    """Coefficients of a polynomial of degree <= 2 in xs on the canonical monomials, or None."""
    try:
        poly = sp.Poly(sp.expand(expr), *xs)
    except sp.PolynomialError:
        return None
    if poly.total_degree() > 2:
        return None
    out = []
    for m in monomials(len(xs)):
        exps = [0] * len(xs)
        for i in m:
            exps[i] += 1
        out.append(poly.coeff_monomial(tuple(exps)))
    return out


def split_c(c: Sequence, D: int):
    """yhat = c0 + l^T x + x^T Q x: returns (c0, l, Q) with Q symmetric (off-diagonal = coefficient / 2)."""
    mons = monomials(D)
    c0 = c[0]
    ell = sp.Matrix([c[1 + i] for i in range(D)])
    Q = sp.zeros(D, D)
    for val, m in zip(c, mons):
        if len(m) == 2:
            i, j = m
            if i == j:
                Q[i, i] = val
            else:
                Q[i, j] = Q[j, i] = sp.sympify(val) / 2
    return c0, ell, Q


def join_c(c0, ell, Q) -> sp.Matrix:
    D = len(ell)
    out = [c0] + list(ell)
    out += [Q[i, i] if i == j else 2 * Q[i, j] for i in range(D) for j in range(i, D)]
    return sp.Matrix(out)


def forward_np(W, b, v, v0, X) -> np.ndarray:
    """Direct forward pass (the oracle): X (N, D) -> yhat (N,)."""
    Z = X @ np.asarray(W, float).T + np.asarray(b, float).ravel()  # (N, K)
    return (Z * (1 - Z)) @ np.asarray(v, float).ravel() + float(v0)


def phi_np(X: np.ndarray) -> np.ndarray:
    """Canonical features: X (N, D) -> Phi (N, P)."""
    N, D = X.shape
    cols = [np.ones(N)] + [X[:, i] for i in range(D)]
    cols += [X[:, i] * X[:, j] for i in range(D) for j in range(i, D)]
    return np.stack(cols, axis=1)


def finish(result: Result) -> Result:
    """Plain Python booleans in checks and verdicts (NumPy's bool_ is not JSON)."""
    for c in result.checks:
        c.passed = bool(c.passed)
    for v in result.verdicts:
        v.passed = None if v.passed is None else bool(v.passed)
    return result


def by_monomial_latex(c, xs, name: str) -> str:
    """A long coefficient vector as a column, one canonical monomial per line (legible where a row runs off)."""
    rows = r" \\ ".join(sp.latex(monomial_expr(m, xs)) + " & " + sp.latex(e)
                         for m, e in zip(monomials(len(xs)), c))
    return (name + r"\ \text{by monomial}:\quad\begin{array}{r@{\ :\ \ }l}"
            + r"\text{monomial} & \text{coefficient} \\ \hline " + rows + r"\end{array}")


def latex_list(items) -> str:
    return r"\left(" + ",\\ ".join(sp.latex(e) for e in items) + r"\right)"


# ---------------------------------------------------------------- claim parsing

def int_value(value, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise InputError(f"{where}: {value} is outside {lo}..{hi}")
    return value


def parse_scalar(text, table: dict, where: str) -> sp.Expr:
    """One expression over the given symbols (numbers from TOML are accepted as exact numbers)."""
    try:
        if isinstance(text, bool):
            raise ExprError("expected an expression, got a boolean")
        if isinstance(text, (int, float)):
            return parse_number(text)
        if not isinstance(text, str):
            raise ExprError(f"expected an expression as text, got {type(text).__name__}")
        e = parse_expr(text, table, allow_new_symbols=False)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
        raise InputError(f"{where}: expected one scalar expression")
    return e


def parse_vector(raw, n: int, table: dict, where: str) -> list:
    if not isinstance(raw, list):
        raise InputError(f"{where}: expected a list of {n} entries")
    if len(raw) != n:
        raise InputError(f"{where}: expected {n} entries, got {len(raw)}")
    return [parse_scalar(t, table, f"{where}[{i + 1}]") for i, t in enumerate(raw)]


def parse_matrix(raw, rows: int, cols: int, table: dict, where: str) -> sp.Matrix:
    if not isinstance(raw, list) or not all(isinstance(r, list) for r in raw):
        raise InputError(f"{where}: expected a list of {rows} rows (lists) of {cols} entries")
    if len(raw) != rows:
        raise InputError(f"{where}: expected {rows} rows, got {len(raw)}")
    out = []
    for k, r in enumerate(raw):
        if len(r) != cols:
            raise InputError(f"{where}[{k + 1}]: expected {cols} entries, got {len(r)}")
        out.append([parse_scalar(t, table, f"{where}[{k + 1}][{i + 1}]") for i, t in enumerate(r)])
    return sp.Matrix(out)


def instance(claims: dict, params: dict, pid: str) -> tuple[int, int]:
    D = params["D"]
    K = params["K"]
    if "D" in claims:
        D = int_value(claims["D"], f'["{pid}"].D', 1, MAX_CLAIM_DIM)
    if "K" in claims:
        K = int_value(claims["K"], f'["{pid}"].K', 1, MAX_CLAIM_DIM)
    return D, K


# ---------------------------------------------------------------- verdict helpers

def phi_verdict(phi: list, xs, claim_text: str) -> tuple[Verdict, Optional[sp.Matrix]]:
    """Is the claimed phi an invertible recombination of the canonical monomials? Returns M (phi = M phi0)."""
    D = len(xs)
    P = n_features(D)
    rows = []
    for n, e in enumerate(phi):
        co = coefficients(e, xs)
        if co is None:
            return Verdict(claim_text, False,
                           f"phi[{n + 1}] = {natural(e)} is not a polynomial of degree <= 2 in x, so phi is not a "
                           f"linear recombination of the monomials {{1, x_i, x_i x_j}}"), None
        rows.append(co)
    M = sp.Matrix(rows)  # (n, P): phi = M phi0
    n = M.rows
    rank = M.rank(simplify=True)
    mlatex = r"M = " + sp.latex(M) if P <= 10 and n <= 12 else ""
    if n != P or rank < P:
        reasons = []
        if n != P:
            reasons.append(f"phi has {n} features but (D+1)(D+2)/2 = {P} are needed (D = {D}); its monomial-coefficient "
                           f"matrix M (phi = M phi0, phi0 = (1, x_i, x_i x_j)) is {n} x {P}, not square")
        if rank < n:
            dep = (M.T).nullspace(simplify=True)[0]
            combo = " + ".join(f"({natural(a)}) phi[{i + 1}]" for i, a in enumerate(dep) if a != 0)
            reasons.append(f"M has rank {rank}: the features are linearly dependent, {combo} = 0")
        if rank < P:
            for j, m in enumerate(monomials(D)):
                e = sp.Matrix([[1 if jj == j else 0 for jj in range(P)]])
                if sp.Matrix.vstack(M, e).rank(simplify=True) > rank:
                    reasons.append(f"the monomial {natural(monomial_expr(m, xs))} is not in their span, but h_k "
                                   f"contains it for generic Theta")
                    break
        return Verdict(claim_text, False, "; ".join(reasons), mlatex), None
    return Verdict(claim_text, True,
                   f"{P} = (D+1)(D+2)/2 features, each a polynomial of degree <= 2 in x only (independent of Theta); "
                   f"their monomial-coefficient matrix M is {P} x {P} with det M = {sp.sstr(sp.simplify(M.det()))} != 0, "
                   f"so phi = M phi0 is an invertible recombination of the monomials"), M


def poly_identity(claimed, derived, xs, theta_syms: list, label: str, seed: int = 0):
    """Compare two polynomials in x with coefficients in Theta. Returns (ok, evidence)."""
    diff = sp.expand(claimed - derived)
    if diff == 0:
        return True, "proved: the difference expands to 0"
    dco = coefficients(diff, xs)
    where = ""
    if dco is not None:
        for m, dc, in zip(monomials(len(xs)), dco):
            if sp.simplify(dc) != 0:
                mon = natural(monomial_expr(m, xs))
                cc, dd = coefficients(claimed, xs), coefficients(derived, xs)
                if cc is not None and dd is not None:
                    k = monomials(len(xs)).index(m)
                    where = (f"the coefficient of {mon} is {natural(sp.factor(cc[k]))} in the claim but "
                             f"{natural(sp.factor(dd[k]))} in the expansion; ")
                break
    eq = equivalent(claimed, derived, list(xs) + list(theta_syms), seed=seed)
    if eq.equal is True:
        return True, eq.evidence
    if eq.equal is None:
        return None, f"{label}: " + where + eq.evidence
    return False, f"{label}: " + where + eq.evidence


# ---------------------------------------------------------------- q3.1

def _derivation_steps_q31() -> list[Step]:
    return [
        Step(text="One hidden unit k (w_k is the k-th row of W):",
             math=r"z_k = w_k^\top x + b_k,\qquad h_k = g(z_k) = z_k(1 - z_k) = z_k - z_k^2"),
        Step(text="Expand the square; every term is a monomial of degree <= 2 in x with a coefficient that depends "
                  "only on Theta:", rule="algebra",
             math=r"h_k = b_k(1-b_k) + (1-2b_k)\sum_{i=1}^D w_{ki}x_i - \sum_{i=1}^D w_{ki}^2 x_i^2"
                  r" - 2\sum_{i<j} w_{ki}w_{kj}\,x_i x_j"),
        Step(text="So h = A phi(x) with the monomial feature map, which does not depend on Theta and has "
                  "1 + D + D(D+1)/2 = (D+1)(D+2)/2 entries:", rule="collect coefficients",
             math=r"\phi(x) = \left(1,\ x_1,\dots,x_D,\ x_1^2,\ x_1x_2,\dots,x_1x_D,\ x_2^2,\dots,x_D^2\right)^\top"
                  r"\in\mathbb{R}^{(D+1)(D+2)/2}"),
        Step(text="and the k-th row of the K x P matrix A (same order as phi):",
             math=r"(A_\Theta)_{k,:} = \Big(b_k(1-b_k),\ (1-2b_k)w_{k1},\dots,(1-2b_k)w_{kD},\ "
                  r"-w_{k1}^2,\ -2w_{k1}w_{k2},\dots,-w_{kD}^2\Big)"),
        Step(text="Any invertible recombination of the monomials works as well, with A adjusted. Fewer than P "
                  "independent features cannot work: as Theta varies, h_k has a non-zero coefficient on every "
                  "monomial.", rule="change of basis",
             math=r"\phi' = M\phi,\ \ M\in\mathbb{R}^{P\times P}\ \text{invertible}\ \Rightarrow\ "
                  r"h = \big(A_\Theta M^{-1}\big)\,\phi'(x)"),
    ]


def _expansion_check(D: int, K: int) -> tuple[bool, str]:
    xs = x_symbols(D)
    W, b, v, v0 = theta_symbols(D, K)
    z = W * sp.Matrix(xs) + b
    h = sp.Matrix([sp.expand(g(z[k])) for k in range(K)])
    Aphi = (A_theta(W, b) * phi_canonical(xs)).applyfunc(sp.expand)
    ok = (h - Aphi).applyfunc(sp.expand) == sp.zeros(K, 1)
    return ok, f"D = {D}, K = {K}"


def _numeric_oracle_q31(D: int, K: int, seed: int) -> Check:
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(K, D)), rng.normal(size=K)
    X = rng.normal(size=(50, D))
    H = (X @ W.T + b) * (1 - (X @ W.T + b))  # (N, K) direct forward pass
    A = np.array(A_theta(sp.Matrix(W), sp.Matrix(b)).evalf(), dtype=float)  # (K, P)
    err = float(np.max(np.abs(H - phi_np(X) @ A.T)))
    return Check(f"A_Theta phi(x) agrees with the network's hidden layer (D = {D}, K = {K})",
                 "NumPy forward pass g(W x + b) at 50 random x, random Theta ~ N(0, 1), float64",
                 err < 1e-9, f"largest absolute difference {err:.2g}")


def _params(params: dict, pid: str) -> dict:
    out = {"D": int_param(params, "D", 2, 1, MAX_CLAIM_DIM), "K": int_param(params, "K", 3, 1, MAX_CLAIM_DIM),
           "max_D": int_param(params, "max_D", 4, 1, 6), "max_K": int_param(params, "max_K", 4, 1, 6),
           "seed": int_param(params, "seed", 0, 0, 2 ** 31 - 1)}
    return out


def _claimed_phi(claims: dict, D: int, xs, pid: str):
    if "phi" not in claims:
        return None
    raw = claims["phi"]
    if not isinstance(raw, list) or not 1 <= len(raw) <= 60:
        raise InputError(f'["{pid}"].phi: expected a list of (D+1)(D+2)/2 = {n_features(D)} expressions in x1..x{D}')
    return parse_vector(raw, len(raw), {s.name: s for s in xs}, f'["{pid}"].phi')


def solve_q3_1(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist24.q3.1"
    p = _params(params, pid)
    result = Result(problem_id=pid, title="Feature map", params=p, random_state=p["seed"])
    claims = claims or {}
    claim_keys(claims, {"D", "K", "phi", "A", "A_row"}, f'["{pid}"]')
    D, K = instance(claims, p, pid)
    xs = x_symbols(D)
    W, b, v, v0 = theta_symbols(D, K)
    P = n_features(D)
    phi = _claimed_phi(claims, D, xs, pid)
    P = len(phi) if phi is not None else P  # A has one column per claimed feature
    A_claim = None
    if "A" in claims:
        table = {s.name: s for s in list(W) + list(b)}
        A_claim = parse_matrix(claims["A"], K, P, table, f'["{pid}"].A')
    if "A_row" in claims:
        wsym = [sp.Symbol(f"w{i + 1}", real=True) for i in range(D)]
        bsym = sp.Symbol("b", real=True)
        row = parse_vector(claims["A_row"], P, {s.name: s for s in wsym + [bsym]}, f'["{pid}"].A_row')
        rows = []
        for k in range(K):
            sub = {bsym: b[k], **{wsym[i]: W[k, i] for i in range(D)}}
            rows.append([e.xreplace(sub) for e in row])
        A_row_claim = sp.Matrix(rows)
    else:
        A_row_claim = None

    result.steps += _derivation_steps_q31()
    Dex, Kex = min(D, 2), min(K, 2)
    We, be, _, _ = theta_symbols(Dex, Kex)
    result.steps.append(Step(text=f"Worked instance D = {Dex}, K = {Kex} (expanded by SymPy):",
                             rule="symbolic expansion",
                             math=r"A_\Theta = " + sp.latex(A_theta(We, be)) + r",\quad \phi(x) = "
                                  + sp.latex(phi_canonical(x_symbols(Dex)).T)))
    # checks: SymPy expansion for every D, K up to the limits, plus a numeric oracle
    pairs = [(d, k) for d in range(1, p["max_D"] + 1) for k in range(1, p["max_K"] + 1)]
    results = [_expansion_check(d, k) for d, k in pairs]
    bad = [t for ok, t in results if not ok]
    result.checks.append(Check(f"h = A_Theta phi(x) for symbolic W, b, x: every D <= {p['max_D']}, K <= {p['max_K']}",
                               "SymPy expand(g(W x + b)) - A_Theta phi(x) == 0, all symbols free",
                               not bad, f"{len(pairs)} (D, K) pairs" + (f"; fails at {bad[0]}" if bad else ", all 0")))
    result.checks.append(Check("dim phi = (D+1)(D+2)/2 and A_Theta is K x (D+1)(D+2)/2",
                               "count of monomials vs formula, D = 1..8",
                               all(len(monomials(d)) == n_features(d) and A_theta(*theta_symbols(d, 2)[:2]).shape
                                   == (2, n_features(d)) for d in range(1, 9)), "P = 3, 6, 10, 15, 21, 28, 36, 45"))
    result.checks.append(_numeric_oracle_q31(D, K, p["seed"]))
    result.summary = ("phi(x) = (1, x_i, x_i x_j for i <= j), (D+1)(D+2)/2 features; row k of A_Theta = "
                      "(b_k(1 - b_k), (1 - 2 b_k) w_k, -w_ki^2, -2 w_ki w_kj)")

    M = None
    if phi is not None:
        verdict, M = phi_verdict(phi, xs, "phi = [" + ", ".join(map(str, claims["phi"])) + "]")
        result.verdicts.append(verdict)
    phi_vec = sp.Matrix(phi) if phi is not None else phi_canonical(xs)
    z = W * sp.Matrix(xs) + b
    for key, Am in (("A", A_claim), ("A_row", A_row_claim)):
        if Am is None:
            continue
        text = f"{key} = " + raw_text(claims[key])
        if len(text) > 300:
            text = text[:297] + "..."
        first_bad, undecided = None, None
        for k in range(K):
            claimed_k = (Am.row(k) * phi_vec)[0, 0]
            ok, ev = poly_identity(claimed_k, g(z[k]), xs, list(W.row(k)) + [b[k]], f"unit k = {k + 1}",
                                   seed=p["seed"])
            if ok is False:
                first_bad = ev
                break
            if ok is None and undecided is None:
                undecided = ev
        basis = "the claimed phi" if phi is not None else "the canonical phi = (1, x_i, x_i x_j (i <= j))"
        if first_bad:
            right = ""
            if phi is None or M is not None:
                row = sp.Matrix([unit_row([sp.Symbol(f"w_{{k{i + 1}}}") for i in range(D)], sp.Symbol("b_k"))])
                right = r"(A_\Theta)_{k,:} = " + sp.latex((row * M.inv()).applyfunc(sp.factor) if M is not None else row)
            result.verdicts.append(Verdict(text, False, f"A phi(x) != h with {basis}: {first_bad}", right))
        elif undecided:
            result.verdicts.append(Verdict(text, None, undecided))
        else:
            result.verdicts.append(Verdict(text, True, f"shape {K} x {P} = K x (D+1)(D+2)/2; A phi(x) - g(W x + b) "
                                                       f"expands to 0 for all {K} units with {basis} (D = {D})"))
    return finish(result)


# ---------------------------------------------------------------- q3.2

def _c_formula_steps() -> list[Step]:
    return [
        Step(text="The output is linear in h, and h = A_Theta phi(x) (q3.1):", rule="substitution",
             math=r"\hat y = v^\top A_\Theta\,\phi(x) + v_0 = \big(A_\Theta^\top v + v_0 e_1\big)^\top \phi(x)"
                  r" = c_\Theta^\top \phi(x)"),
        Step(text="Component by component: the coefficients of 1, of x_i, of x_i^2 and of x_i x_j (i < j):",
             rule="collect coefficients",
             math=r"c_\Theta = \Big(v_0 + \sum_k v_k b_k(1-b_k),\ \ \sum_k v_k(1-2b_k)w_{ki},\ \ "
                  r"-\sum_k v_k w_{ki}^2,\ \ -2\sum_k v_k w_{ki}w_{kj}\Big)"),
        Step(text="Equivalently, with a symmetric matrix Q:",
             math=r"\hat y = c_0 + l^\top x + x^\top Q x,\quad c_0 = v_0 + \sum_k v_k b_k(1-b_k),\quad "
                  r"l = \sum_k v_k(1-2b_k)\,w_k,\quad Q = -\sum_k v_k\, w_k w_k^\top = -W^\top \operatorname{diag}(v)\, W"),
        Step(text="The model is linear in c (and in v for fixed W, b), but c_Theta is not linear in Theta: it has "
                  "terms of degree 2 and 3 (v_k b_k^2, v_k w_ki w_kj). A counter-example with numbers follows.",
             rule="counter-example"),
    ]


def _rand_theta(rng: random.Random, D: int, K: int):
    r = lambda: sp.Integer(rng.randint(-3, 3))  # noqa: E731
    W = sp.Matrix(K, D, lambda k, i: r())
    b = sp.Matrix([r() for _ in range(K)])
    v = sp.Matrix([r() for _ in range(K)])
    return W, b, v, r()


def natural(e) -> str:
    """An expression as readable plain text: 2*W11*x1**2 -> 2 W11 x1^2."""
    return sp.sstr(e).replace("**", "^").replace("*", " ")


def raw_text(x) -> str:
    """A claimed value as written, without Python's quotes: [["1", "x1"], ["2"]] -> [[1, x1], [2]]."""
    if isinstance(x, list):
        return "[" + ", ".join(raw_text(e) for e in x) + "]"
    return str(x)


def fmt_matrix(M) -> str:
    """Plain text for a small matrix, rows separated by semicolons: [3, 0; 3, 0]."""
    return "[" + "; ".join(", ".join(sp.sstr(e) for e in M.row(k)) for k in range(M.rows)) + "]"


def fmt_vector(vec) -> str:
    return "(" + ", ".join(sp.sstr(e) for e in vec) + ")"


def _fmt_theta(th) -> str:
    W, b, v, v0 = th
    return f"W = {fmt_matrix(W)}, b = {fmt_vector(b)}, v = {fmt_vector(v)}, v0 = {sp.sstr(v0)}"


def nonlinearity_counterexample(D: int, K: int, seed: int):
    """Two integer Thetas with c(T1 + T2) != c(T1) + c(T2); returns (T1, T2, index, lhs, rhs, X check)."""
    rng = random.Random(seed)
    for _ in range(100):
        t1, t2 = _rand_theta(rng, D, K), _rand_theta(rng, D, K)
        s = tuple(a + bb for a, bb in zip(t1, t2))
        lhs = c_theta(*s)
        rhs = c_theta(*t1) + c_theta(*t2)
        for n in range(len(lhs)):
            if lhs[n] != rhs[n]:
                return t1, t2, s, n, lhs, rhs
    raise RuntimeError("no counter-example found")  # pragma: no cover - c_Theta is not linear


def solve_q3_2(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist24.q3.2"
    p = _params(params, pid)
    result = Result(problem_id=pid, title="Linear in features", params=p, random_state=p["seed"])
    claims = claims or {}
    claim_keys(claims, {"D", "K", "phi", "c", "linear_in_theta"}, f'["{pid}"]')
    D, K = instance(claims, p, pid)
    xs = x_symbols(D)
    W, b, v, v0 = theta_symbols(D, K)
    P = n_features(D)
    theta_syms = list(W) + list(b) + list(v) + [v0]
    phi = _claimed_phi(claims, D, xs, pid)
    c_claim = None
    if "c" in claims:
        n_c = len(phi) if phi is not None else P
        c_claim = parse_vector(claims["c"], n_c, {s.name: s for s in theta_syms}, f'["{pid}"].c')
    lin_claim = bool_claim(claims, "linear_in_theta", pid) if "linear_in_theta" in claims else None

    result.steps += _c_formula_steps()
    cT = c_theta(W, b, v, v0)
    yhat = sp.expand(network(W, b, v, v0, xs))
    # check 1: SymPy expansion of yhat against c_Theta^T phi, every D, K up to the limits
    bad = []
    for d in range(1, p["max_D"] + 1):
        for k in range(1, p["max_K"] + 1):
            Wd, bd, vd, v0d = theta_symbols(d, k)
            xd = x_symbols(d)
            if sp.expand(network(Wd, bd, vd, v0d, xd) - (c_theta(Wd, bd, vd, v0d).T * phi_canonical(xd))[0, 0]) != 0:
                bad.append((d, k))
    result.checks.append(Check(f"yhat = c_Theta^T phi(x) for symbolic Theta and x, every D <= {p['max_D']}, "
                               f"K <= {p['max_K']}", "SymPy expand(v^T g(W x + b) + v0 - c_Theta^T phi(x)) == 0",
                               not bad, "all differences expand to 0" if not bad else f"fails at (D, K) = {bad[0]}"))
    # check 2: numeric oracle (direct forward pass)
    rng = np.random.default_rng(p["seed"])
    Wn, bn, vn, v0n = rng.normal(size=(K, D)), rng.normal(size=K), rng.normal(size=K), float(rng.normal())
    X = rng.normal(size=(50, D))
    cn = np.array(c_theta(sp.Matrix(Wn), sp.Matrix(bn), sp.Matrix(vn), v0n).evalf(), dtype=float).ravel()
    err = float(np.max(np.abs(forward_np(Wn, bn, vn, v0n, X) - phi_np(X) @ cn)))
    result.checks.append(Check(f"c_Theta^T phi(x) agrees with the network's output (D = {D}, K = {K})",
                               "NumPy forward pass v^T g(W x + b) + v0 at 50 random x, random Theta ~ N(0, 1)",
                               err < 1e-9, f"largest absolute difference {err:.2g}"))
    # the counter-example to linearity, confirmed by the network itself
    t1, t2, s, n, lhs, rhs = nonlinearity_counterexample(D, K, p["seed"])
    mon = natural(monomial_expr(monomials(D)[n], xs))
    x_pt = np.array([[1.0] * D])
    direct = [forward_np(*[np.array(np.array(a).astype(float)) if isinstance(a, sp.Matrix) else float(a)
                           for a in th], x_pt)[0] for th in (s, t1, t2)]
    confirmed = abs(direct[0] - (direct[1] + direct[2])) > 1e-9 or lhs != rhs
    gap_net = float(direct[0] - direct[1] - direct[2])
    gap_c = float(((lhs - rhs).T * phi_canonical([1] * D))[0, 0])
    result.checks.append(Check("c_Theta is not linear in Theta (integer counter-example)",
                               "exact c_Theta of Theta1, Theta2 and Theta1 + Theta2; the output difference recomputed "
                               "by a direct forward pass at x = (1, .., 1)",
                               confirmed and abs(gap_net - gap_c) < 1e-9,
                               f"Theta1: {_fmt_theta(t1)}; Theta2: {_fmt_theta(t2)}; coefficient of {mon}: "
                               f"c(Theta1 + Theta2) = {lhs[n]} but c(Theta1) + c(Theta2) = {rhs[n]}; "
                               f"yhat(x = 1) differs by {gap_net:g} (forward pass) = {gap_c:g} (via c)"))
    alpha = sp.Integer(2)
    scaled = c_theta(*[a * alpha for a in t1])
    idx = next((m for m in range(P) if scaled[m] != alpha * c_theta(*t1)[m]), None)
    if idx is not None:
        mon_idx = monomial_expr(monomials(D)[idx], xs)
        result.steps.append(Step(
            text=f"Scaling as well, with alpha = 2 and Theta1 = ({_fmt_theta(t1)}), the first Theta of the "
                 f"counter-example (its table follows): the coefficient of {natural(mon_idx)} differs.",
            rule="counter-example (homogeneity)",
            math=(r"[c(2\Theta_1)]_{%s} = %s \ne %s = 2\,[c(\Theta_1)]_{%s}"
                  % (sp.latex(mon_idx), sp.latex(scaled[idx]), sp.latex(alpha * c_theta(*t1)[idx]),
                     sp.latex(mon_idx)))))
    result.tables.append(Table(
        caption=f"Counter-example to linearity of Theta -> c_Theta (D = {D}, K = {K}, integer Theta, seed {p['seed']})",
        columns=["", "W (rows separated by ;)", "b", "v", "v0"],
        rows=[[name, fmt_matrix(th[0]), fmt_vector(th[1]), fmt_vector(th[2]), sp.sstr(th[3])]
              for name, th in (("Theta1", t1), ("Theta2", t2), ("Theta1 + Theta2", s))]))
    result.tables.append(Table(
        caption="c(Theta1 + Theta2) versus c(Theta1) + c(Theta2), coefficient by coefficient",
        columns=["feature", "c(Theta1)", "c(Theta2)", "c(Theta1 + Theta2)", "c(Theta1) + c(Theta2)"],
        rows=[[sp.latex(monomial_expr(m, xs)), str(c_theta(*t1)[j]), str(c_theta(*t2)[j]), str(lhs[j]), str(rhs[j])]
              for j, m in enumerate(monomials(D))], math_columns=[0]))
    result.summary = "yhat = c_Theta^T phi(x) with c_Theta = A_Theta^T v + v0 e_1; linear in c, not in Theta"

    if c_claim is not None:
        phi_vec = sp.Matrix(phi) if phi is not None else phi_canonical(xs)
        text = "c = [" + ", ".join(map(str, claims["c"])) + "]"
        text = text if len(text) <= 300 else text[:297] + "..."
        ok, ev = poly_identity((sp.Matrix(c_claim).T * phi_vec)[0, 0], network(W, b, v, v0, xs), xs, theta_syms,
                               "c^T phi(x) vs yhat", seed=p["seed"])
        if ok is True:
            result.verdicts.append(Verdict(text, True, f"c^T phi(x) = v^T g(W x + b) + v0 identically (D = {D}, K = {K}): "
                                                       + ev))
        else:
            result.verdicts.append(Verdict(text, ok, ev, by_monomial_latex(cT, xs, r"c_\Theta")
                                           if P <= 10 and K <= 4 else ""))
    if lin_claim is not None:
        ev = (f"c(Theta1 + Theta2) != c(Theta1) + c(Theta2): coefficient of {mon} is {lhs[n]} versus {rhs[n]} "
              f"for Theta1: {_fmt_theta(t1)}, Theta2: {_fmt_theta(t2)}")
        result.verdicts.append(Verdict(f"linear_in_theta = {str(lin_claim).lower()}", not lin_claim,
                                       ("right: " if not lin_claim else "") + ev))
    return finish(result)
