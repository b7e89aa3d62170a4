"""ist24.q3.3: reparametrising the quadratic-activation network by c.

Write c as yhat = c0 + l^T x + x^T Q x (Q symmetric). c_Theta has
Q = -sum_k v_k w_k w_k^T, l = sum_k v_k (1 - 2 b_k) w_k, c0 = v0 + sum_k v_k b_k (1 - b_k).

Construction (exact, rational in, rational out): a rational congruence
diagonalisation Q = sum_{k<=r} delta_k a_k a_k^T (symmetric Gaussian elimination,
with the 2 x 2 pivot for a zero diagonal), r = rank Q. Unit k: w_k = a_k,
v_k = -delta_k, and b_k from the coordinates of l in span(a_k) = range Q. If l is
not in range Q, two more units with the same weight l and v = (1, -1),
b = (0, 1/2) add l with no quadratic term. So r units suffice when l is in
range Q and r + 2 otherwise, and these counts are also necessary: the active
units' form diag(v) restricted to range W has a radical of dimension
s - r (s = rank W >= r + 1 when l is not in range Q) and a subspace of a
non-degenerate space satisfies dim + dim radical <= m. Hence every c is reached
when K >= D + 1; with K = D every c except those with rank Q = D - 1 and l not
in range Q; with K < D no c whose Q has rank > K (Q = I, rank D).

>>> c = [0, 1, 0]                      # D = 1: yhat = x
>>> reach(sp.Matrix(c), 1).units_needed  # rank Q = 0, l not in range Q
2
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import claim_keys, int_param
from theory import quadratic_net as qn
from theory.equivalence import equivalent
from theory.parse import time_limit, Timeout

CLAIM_SCHEMA = """\
Claims for ist24.q3.3 (reparametrisation by c). c is given on the canonical features
phi = (1, x1..xD, x1**2, x1*x2, .., x1*xD, x2**2, .., xD**2), P = (D+1)(D+2)/2 entries; numbers are
TOML numbers or exact text ("1/3", "sqrt(2)"). D, K default to the parameters.

  ["ist24.q3.3"]
  D = 2
  K = 3
  # a Theta for a given c: checked exactly, c_Theta = c
  c = [1, 2, 0, 1, 0, 0]                   # yhat = 1 + 2 x1 + x1**2
  W = [[1, 0], [0, 0], [0, 0]]             # K rows of D entries
  b = [0, 0, 0]
  v = [-1, 0, 0]
  v0 = 1
  # a c that no Theta with K units reaches (K < D: its quadratic part must have rank > K); a list
  # (uses D, K) or a table with its own K (and D)
  unreachable_c = { K = 1, c = [0, 0, 0, 1, 0, 1] }       # x1**2 + x2**2 needs 2 units

  # a claimed map c -> Theta as expressions in c1..cP (1-based, canonical order); checked symbolically
  # (c_Theta(map(c)) = c) and on rank-deficient c (Q = 0, rank 1, zero diagonal, ...), where it must be
  # defined and exact; D and K here override the instance for this claim only
  ["ist24.q3.3".map]
  D = 1
  K = 2
  W = [["1"], ["1"]]
  b = ["(1 - c2)/2", "1/2"]
  v = ["1", "-(1 + c3)"]
  v0 = "c1 - (1 - c2)*(1 + c2)/4 + (1 + c3)/4"
"""

RANK_TOL = 1e-9


# ---------------------------------------------------------------- exact algebra

def congruence_terms(Q: sp.Matrix) -> list[tuple[sp.Expr, sp.Matrix]]:
    """Q = sum_k delta_k a_k a_k^T with rational delta_k != 0 and independent a_k (k <= rank Q).

    >>> [(d, list(a)) for d, a in congruence_terms(sp.Matrix([[0, 1], [1, 0]]))]  # 2 x1 x2, no diagonal
    [(1/2, [1, 1]), (-1/2, [-1, 1])]
    """
    R = sp.Matrix(Q)
    D = R.rows
    terms = []
    while any(e != 0 for e in R):
        diag = [i for i in range(D) if R[i, i] != 0]
        if diag:
            i = diag[0]
            q = R[:, i]
            terms.append((1 / R[i, i], q))
            R = _tidy(R - q * q.T / R[i, i])
        else:
            i, j = next((i, j) for i in range(D) for j in range(D) if R[i, j] != 0)
            beta, qi, qj = R[i, j], R[:, i], R[:, j]
            terms += [(1 / (2 * beta), qi + qj), (-1 / (2 * beta), qi - qj)]
            R = _tidy(R - (qi * qj.T + qj * qi.T) / beta)
    return terms


def _tidy(M: sp.Matrix) -> sp.Matrix:
    """Rational entries are already canonical; simplify only algebraic ones (sqrt(2), ...)."""
    return M if all(e.is_Rational for e in M) else M.applyfunc(sp.simplify)


def _is_zero(e) -> bool:
    e = sp.sympify(e)
    return e == 0 if e.is_Rational else sp.simplify(e) == 0


@dataclass
class Reach:
    c0: sp.Expr
    ell: sp.Matrix
    Q: sp.Matrix
    rank: int
    ell_in_range: bool
    units_needed: int
    terms: list
    alpha: Optional[sp.Matrix]  # coordinates of l on the a_k, when l is in range Q


def reach(c: sp.Matrix, D: int) -> Reach:
    c0, ell, Q = qn.split_c(list(c), D)
    terms = congruence_terms(Q)
    r = len(terms)
    alpha = None
    if r:
        A = sp.Matrix.hstack(*[a for _, a in terms])  # (D, r), full column rank
        sol = (A.T * A).LUsolve(A.T * ell)
        if all(_is_zero(e) for e in A * sol - ell):
            alpha = sol
    in_range = bool(all(e == 0 for e in ell)) or alpha is not None
    if not r and in_range:
        alpha = sp.zeros(0, 1)
    return Reach(c0, ell, Q, r, in_range, r if in_range else r + 2, terms, alpha)


class Unreachable(Exception):
    pass


def why_unreachable(info: Reach, K: int) -> str:
    if info.rank > K:
        return (f"rank Q = {info.rank} > K = {K}, but Q_Theta = -W^T diag(v) W has rank <= K (rank argument)")
    return (f"rank Q = {info.rank} and l is not in range Q, so at least rank Q + 2 = {info.rank + 2} active units are "
            f"needed (> K = {K}): the active units' form diag(v) restricted to range W has a radical of dimension "
            f"rank W - rank Q >= 1, and dim range W + dim radical <= number of active units")


def construct_theta(c: sp.Matrix, D: int, K: int):
    """An exact Theta = (W, b, v, v0) with c_Theta = c, or Unreachable with the reason."""
    info = reach(c, D)
    if info.units_needed > K:
        raise Unreachable(why_unreachable(info, K))
    W = sp.zeros(K, D)
    b, v = sp.zeros(K, 1), sp.zeros(K, 1)
    for k, (delta, a) in enumerate(info.terms):
        W[k, :] = a.T
        v[k] = -delta
        alpha_k = info.alpha[k] if info.alpha is not None else 0
        b[k] = (1 - alpha_k / v[k]) / 2  # v_k (1 - 2 b_k) = alpha_k
    if not info.ell_in_range:  # a pair of units adds l with no quadratic part
        r = info.rank
        W[r, :] = info.ell.T
        W[r + 1, :] = info.ell.T
        v[r], v[r + 1] = 1, -1
        b[r], b[r + 1] = 0, sp.Rational(1, 2)
    v0 = info.c0 - sum(v[k] * b[k] * (1 - b[k]) for k in range(K))
    return W, b, v, v0 if sp.sympify(v0).is_Rational else sp.simplify(v0)


def eigen_construction(c: np.ndarray, D: int, K: int):
    """The same map in floating point, through an eigendecomposition of Q (an independent route)."""
    c0, ell = c[0], c[1:D + 1]
    Q = np.zeros((D, D))
    for val, m in zip(c, qn.monomials(D)):
        if len(m) == 2:
            i, j = m
            Q[i, j] += val if i == j else val / 2
            if i != j:
                Q[j, i] += val / 2
    lam, U = np.linalg.eigh(Q)
    keep = np.abs(lam) > RANK_TOL * max(1.0, np.abs(lam).max(initial=0))
    Ur, lr = U[:, keep], lam[keep]
    alpha = Ur.T @ ell
    perp = ell - Ur @ alpha
    W, b, v = np.zeros((K, D)), np.zeros(K), np.zeros(K)
    r = len(lr)
    need = r + (2 if np.linalg.norm(perp) > RANK_TOL else 0)
    if need > K:
        return None
    W[:r], v[:r] = Ur.T, -lr
    b[:r] = (1 - alpha / v[:r]) / 2
    if need > r:
        W[r] = W[r + 1] = perp
        v[r], v[r + 1], b[r + 1] = 1.0, -1.0, 0.5
    v0 = c0 - np.sum(v * b * (1 - b))
    return W, b, v, v0


# ---------------------------------------------------------------- test cases

def special_cs(D: int, rng: random.Random) -> list[tuple[str, sp.Matrix]]:
    """Random exact c of every kind: full rank, definite, rank-deficient, zero or zero-diagonal Q."""
    P = qn.n_features(D)
    ri = lambda: sp.Integer(rng.choice([-3, -2, -1, 1, 2, 3]))  # noqa: E731
    rq = lambda: sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))  # noqa: E731
    def from_parts(c0, ell, Q):
        return qn.join_c(c0, ell, Q)
    ell = sp.Matrix([rq() for _ in range(D)])
    out = [("random rational c", sp.Matrix([rq() for _ in range(P)]))]
    B = sp.Matrix(D, D, lambda i, j: ri())
    out.append(("Q = BB^T + I (definite)", from_parts(rq(), ell, B * B.T + sp.eye(D))))
    u = sp.Matrix([ri() for _ in range(D)])
    out.append(("Q = -uu^T, l = 2u", from_parts(rq(), 2 * u, -u * u.T)))
    if D >= 2:
        e2 = sp.Matrix([0, 1] + [0] * (D - 2))
        e1 = sp.Matrix([1] + [0] * (D - 1))
        out.append(("Q = e1 e1^T, l = e2", from_parts(rq(), e2, e1 * e1.T)))
        H = sp.zeros(D, D)
        H[0, 1] = H[1, 0] = ri()
        out.append(("Q only x1 x2 (zero diagonal)", from_parts(rq(), ell, H)))
    Qd = sp.diag(*([ri() for _ in range(D - 1)] + [0]))
    out.append((f"rank Q = D - 1, l = e_D",
                from_parts(rq(), sp.Matrix([0] * (D - 1) + [1]), Qd)))
    out.append(("Q = 0, l != 0 (affine)", from_parts(rq(), ell, sp.zeros(D, D))))
    out.append(("c = 0", sp.zeros(P, 1)))
    return out


def groebner_unreachable(c: sp.Matrix, D: int, K: int, seconds: float = 10.0) -> Optional[bool]:
    """Independent oracle: the polynomial system c_Theta = c has no (complex) solution iff its basis is [1]."""
    return _groebner(tuple(c), D, K, seconds)


@lru_cache(maxsize=64)
def _groebner(c: tuple, D: int, K: int, seconds: float) -> Optional[bool]:
    c = sp.Matrix(c)
    W, b, v, v0 = qn.theta_symbols(D, K)
    eqs = list(qn.c_theta(W, b, v, v0) - c)
    try:
        with time_limit(seconds, "Groebner basis"):
            G = sp.groebner(eqs, *(list(W) + list(b) + list(v) + [v0]), order="grevlex")
    except Timeout:
        return None
    return list(G.exprs) == [1]


# ---------------------------------------------------------------- solver

def _params(params: dict) -> dict:
    return {"D": int_param(params, "D", 2, 1, 6), "K": int_param(params, "K", 3, 1, 8),
            "seed": int_param(params, "seed", 0, 0, 2 ** 31 - 1)}


def _steps(D: int, K: int) -> list[Step]:
    return [
        Step(text="Write c as a constant, a linear and a quadratic part (q3.2):",
             math=r"c^\top\phi(x) = c_0 + l^\top x + x^\top Q x,\qquad "
                  r"c_\Theta:\ Q = -\sum_k v_k w_k w_k^\top,\ \ l = \sum_k v_k(1-2b_k)w_k,\ \ "
                  r"c_0 = v_0 + \sum_k v_k b_k(1-b_k)"),
        Step(text="Diagonalise Q by a congruence with rational arithmetic (symmetric Gaussian elimination; when every "
                  "diagonal entry is 0 use the pivot identity for Q_ij != 0). This gives r = rank Q terms with "
                  "independent a_k spanning range Q; it works for any symmetric Q: indefinite, singular or zero.",
             rule="congruence diagonalisation",
             math=r"Q = \sum_{k=1}^{r}\delta_k\, a_k a_k^\top,\qquad q_iq_j^\top + q_jq_i^\top = "
                  r"\tfrac12\big[(q_i+q_j)(q_i+q_j)^\top - (q_i-q_j)(q_i-q_j)^\top\big]"),
        Step(text="Units 1..r: w_k = a_k and v_k = -delta_k != 0 give the quadratic part. If l is in range Q, write "
                  "l = sum_k alpha_k a_k and choose b_k so that v_k(1 - 2 b_k) = alpha_k.", rule="construction",
             math=r"w_k = a_k,\quad v_k = -\delta_k,\quad b_k = \tfrac12\Big(1 - \frac{\alpha_k}{v_k}\Big)"),
        Step(text="If l is not in range Q (e.g. Q = 0 and l != 0), a single unit cannot add a linear term without a "
                  "quadratic one; two units with the same weight and opposite v can:", rule="construction (pair)",
             math=r"w_{r+1} = w_{r+2} = l,\ v_{r+1} = 1,\ v_{r+2} = -1,\ b_{r+1} = 0,\ b_{r+2} = \tfrac12"
                  r"\ \Rightarrow\ -w w^\top + w w^\top = 0,\ \ 1\cdot l + (-1)\cdot 0\cdot l = l"),
        Step(text="Unused units get w = 0, v = 0, b = 0, and v0 fixes the constant:",
             math=r"v_0 = c_0 - \sum_k v_k b_k(1-b_k)"),
        Step(text="So r units suffice when l is in range Q, and r + 2 otherwise. These counts are also necessary: "
                  "with m active units (v_k != 0), -Q = W^T diag(v) W and l in range W^T; the form diag(v) restricted "
                  "to the s-dimensional range of W has rank r, hence a radical of dimension s - r, and a subspace "
                  "of a non-degenerate space satisfies s + (s - r) <= m. If l is not in range Q, s >= r + 1, so "
                  "m >= r + 2. This necessity argument is not machine-checked in general; the Groebner bases below "
                  "confirm it only for the listed small cases.", rule="rank / isotropy argument", gap=True,
             math=r"\text{units needed} = \begin{cases} r & l\in\operatorname{range}Q\\ r+2 & "
                  r"l\notin\operatorname{range}Q\end{cases},\qquad r = \operatorname{rank}Q\le D"),
        Step(text="Consequences: with K >= D + 1 every c is reached, so the model can be parametrised by c. With "
                  "K = D every c is reached except the measure-zero set with rank Q = D - 1 and l not in range Q "
                  "(e.g. D = 1: yhat = x; D = 2: yhat = x1^2 + x2), which the sheet's claim for K >= D overlooks. "
                  "Reachability for K >= D + 1 is constructive (checked exactly below); that the exceptions are "
                  "unreachable rests on the necessity argument of the previous step, confirmed independently by a "
                  "Groebner basis for the cases in the table.",
             rule="reachability"),
        Step(text="When K < D: Q_Theta = -W^T diag(v) W has rank <= rank W <= K < D, so no c whose quadratic part "
                  "has rank > K is reachable, e.g. Q = I (yhat = x_1^2 + ... + x_D^2, rank D).",
             rule="rank argument",
             math=r"\operatorname{rank} Q_\Theta \le K < D = \operatorname{rank} I"),
    ]


def _fmt_vec(c) -> str:
    return "(" + ", ".join(sp.sstr(e) for e in c) + ")"


def _verify_exact(c: sp.Matrix, th) -> tuple[bool, Optional[int]]:
    got = qn.c_theta(*th)
    for n in range(len(c)):
        if not _is_zero(got[n] - c[n]):
            return False, n
    return True, None


def _network_check(c: sp.Matrix, th, D: int, rng: np.random.Generator) -> float:
    X = rng.normal(size=(20, D))
    W, b, v, v0 = (np.array(np.array(a).astype(float)) if isinstance(a, sp.Matrix) else float(a) for a in th)
    cn = np.array(np.array(c).astype(float)).ravel()
    return float(np.max(np.abs(qn.forward_np(W, b, v, v0, X) - qn.phi_np(X) @ cn)))


def solve_q3_3(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist24.q3.3"
    p = _params(params)
    claims = claims or {}
    claim_keys(claims, {"D", "K", "c", "W", "b", "v", "v0", "map", "unreachable_c"}, f'["{pid}"]')
    D, K = qn.instance(claims, p, pid)
    P = qn.n_features(D)
    result = Result(problem_id=pid, title="Reparametrisation", params=p, random_state=p["seed"])
    parsed = _parse_claims(claims, D, K, pid)
    result.steps += _steps(D, K)

    rng = random.Random(p["seed"])
    nrng = np.random.default_rng(p["seed"])
    rows, exact_ok, net_ok, eig_ok, agree = [], True, True, True, True
    for name, c in special_cs(D, rng):
        info = reach(c, D)
        reachable = info.units_needed <= K
        exact = net = eig = "-"  # not reachable: nothing to construct
        if reachable:
            th = construct_theta(c, D, K)
            ok, _ = _verify_exact(c, th)
            exact_ok &= ok
            exact = "=" if ok else "MISMATCH"
            err = _network_check(c, th, D, nrng)
            net_ok &= err < 1e-8
            net = f"{err:.1e}"
        cf = np.array(np.array(c).astype(float)).ravel()
        th_f = eigen_construction(cf, D, K)
        agree &= (th_f is not None) == reachable
        if th_f is not None:
            e = float(np.max(np.abs(np.array(qn.c_theta(*(sp.Matrix(a) if np.ndim(a) else a for a in th_f)).evalf(),
                                                dtype=float).ravel() - cf)))
            eig_ok &= e < 1e-8
            eig = f"{e:.1e}"
        rows.append([name, str(info.rank), "yes" if info.ell_in_range else "no", str(info.units_needed),
                     "reached" if reachable else "unreachable", exact, net, eig])
    result.tables.append(Table(
        caption=f"The map c -> Theta on random exact c of every kind (D = {D}, K = {K}, seed {p['seed']}). "
                "Units: the number needed; exact: c_Theta = c recomputed in rationals; network: max |forward pass - "
                "c^T phi(x)| at 20 random x; eigen: the float eigendecomposition route, max |c_Theta - c|.",
        columns=["c", "rank Q", "l in range Q", "units", f"K = {K}", "exact", "network", "eigen"], rows=rows))
    result.checks += [
        Check("constructed Theta reproduces c exactly", "c_Theta from the expanded formula of q3.2, rational arithmetic",
              exact_ok, f"{sum(r[4] == 'reached' for r in rows)} reachable c of {len(rows)} kinds"),
        Check("constructed network computes c^T phi(x)", "direct NumPy forward pass at 20 random x per c", net_ok,
              "largest difference < 1e-8" if net_ok else "a difference >= 1e-8"),
        Check("an independent eigendecomposition construction agrees on reachability and reproduces c",
              "numpy.linalg.eigh, float64", eig_ok and agree, "same verdicts; |c_Theta - c| < 1e-8" if eig_ok and agree
              else "disagreement"),
    ]
    # the exceptions and the K < D rank argument, confirmed by Groebner bases (no complex solution)
    ex_rows = []
    cases = [(1, 1, sp.Matrix([0, 1, 0]), r"\hat y = x"),
             (2, 2, qn.join_c(0, sp.Matrix([0, 1]), sp.diag(1, 0)), r"\hat y = x_1^2 + x_2"),
             (2, 1, qn.join_c(0, sp.zeros(2, 1), sp.eye(2)), r"\hat y = x_1^2 + x_2^2")]
    if K < D and (D, K) != (2, 1):
        cases.append((D, K, qn.join_c(0, sp.zeros(D, 1), sp.eye(D)), r"\hat y = \|x\|^2,\ Q = I_{%d}" % D))
    gro_ok = True
    for d, k, c, label in cases:
        info = reach(c, d)
        ours = info.units_needed > k
        gb = groebner_unreachable(c, d, k) if d * k <= 4 else None
        if gb is not None:
            gro_ok &= gb == ours
        ex_rows.append([str(d), str(k), label, str(info.rank), "yes" if info.ell_in_range else "no",
                        str(info.units_needed), "unreachable" if ours else "reachable",
                        {True: "{1}: no solution", False: "solvable", None: "not run"}[gb]])
    result.tables.append(Table(caption="Unreachable c: the K = D exception and K < D (rank argument); the last "
                                       "column is the Groebner basis of the system c_Theta = c in all of Theta",
                               columns=["D", "K", "c", "rank Q", "l in range Q", "units", "verdict", "Groebner"],
                               rows=ex_rows, math_columns=[2]))
    result.checks.append(Check("unreachable c confirmed by an independent oracle",
                               "SymPy Groebner basis (grevlex) of the polynomial system c_Theta = c in all of Theta",
                               gro_ok, f"{sum(r[7] != 'not run' for r in ex_rows)} systems; all agree" if gro_ok
                               else "a Groebner basis disagrees with the unit count"))
    # rank bound on random Theta with K < D (or K = D - 1 when K >= D)
    kk, dd = (K, D) if K < D else (max(1, D - 1), D)
    rr = random.Random(p["seed"] + 1)
    ranks = [qn.split_c(list(qn.c_theta(*qn._rand_theta(rr, dd, kk))), dd)[2].rank() for _ in range(20)]
    result.checks.append(Check(f"rank Q_Theta <= K on random Theta (D = {dd}, K = {kk})",
                               "exact rank of the quadratic part of c_Theta, 20 random integer Theta",
                               max(ranks) <= kk, "ranks seen: " + ", ".join(map(str, sorted(set(ranks))))))
    result.summary = (f"c -> Theta constructed exactly for every c when K >= D + 1; K = D misses only c with rank Q = "
                      f"D - 1 and l not in range Q; K < D misses every c with rank Q > K (e.g. Q = I)")
    _verdicts(result, claims, parsed, D, K, rng)
    return qn.finish(result)


# ---------------------------------------------------------------- claims

def _parse_claims(claims: dict, D: int, K: int, pid: str) -> dict:
    P = qn.n_features(D)
    out: dict = {}
    theta_keys = {"W", "b", "v", "v0"}
    given = theta_keys & set(claims)
    if given or "c" in claims:
        if "c" not in claims or given != theta_keys:
            raise InputError(f'["{pid}"]: a claimed Theta needs c, W, b, v and v0 together (missing: '
                             f'{", ".join(sorted((theta_keys | {"c"}) - set(claims)))})')
        out["c"] = sp.Matrix(qn.parse_vector(claims["c"], P, {}, f'["{pid}"].c'))
        out["theta"] = (qn.parse_matrix(claims["W"], K, D, {}, f'["{pid}"].W'),
                        sp.Matrix(qn.parse_vector(claims["b"], K, {}, f'["{pid}"].b')),
                        sp.Matrix(qn.parse_vector(claims["v"], K, {}, f'["{pid}"].v')),
                        qn.parse_scalar(claims["v0"], {}, f'["{pid}"].v0'))
    if "map" in claims:
        m = claims["map"]
        where = f'["{pid}"].map'
        if not isinstance(m, dict) or not theta_keys <= set(m) or not set(m) <= theta_keys | {"D", "K"}:
            raise InputError(f"{where}: expected a table with keys W, b, v, v0 (expressions in c1..cP) and "
                             f"optionally D, K")
        Dm, Km = _own_instance(m, D, K, where)
        Pm = qn.n_features(Dm)
        cs = [sp.Symbol(f"c{n + 1}", real=True) for n in range(Pm)]
        table = {s.name: s for s in cs}
        out["map"] = (Dm, Km, cs, (qn.parse_matrix(m["W"], Km, Dm, table, f"{where}.W"),
                                   sp.Matrix(qn.parse_vector(m["b"], Km, table, f"{where}.b")),
                                   sp.Matrix(qn.parse_vector(m["v"], Km, table, f"{where}.v")),
                                   qn.parse_scalar(m["v0"], table, f"{where}.v0")))
    if "unreachable_c" in claims:
        u = claims["unreachable_c"]
        where = f'["{pid}"].unreachable_c'
        Du, Ku = D, K
        if isinstance(u, dict):
            if "c" not in u or not set(u) <= {"c", "D", "K"}:
                raise InputError(f"{where}: expected a list of P numbers or a table {{ c = [...], K = ..., D = ... }}")
            Du, Ku = _own_instance(u, D, K, where)
            u = u["c"]
            where += ".c"
        out["unreachable_c"] = (Du, Ku, sp.Matrix(qn.parse_vector(u, qn.n_features(Du), {}, where)))
    return out


def _own_instance(table: dict, D: int, K: int, where: str) -> tuple[int, int]:
    Dx = qn.int_value(table["D"], f"{where}.D", 1, 6) if "D" in table else D
    Kx = qn.int_value(table["K"], f"{where}.K", 1, 8) if "K" in table else K
    return Dx, Kx


def _theta_text(th) -> str:
    W, b, v, v0 = th
    return f"W = {qn.fmt_matrix(W)}, b = {_fmt_vec(b)}, v = {_fmt_vec(v)}, v0 = {sp.sstr(v0)}"


def _verdicts(result: Result, claims: dict, parsed: dict, D: int, K: int, rng: random.Random):
    mons = [qn.natural(qn.monomial_expr(m, qn.x_symbols(D))) for m in qn.monomials(D)]
    if "theta" in parsed:
        c, th = parsed["c"], parsed["theta"]
        ok, n = _verify_exact(c, th)
        text = f"Theta for c = {_fmt_vec(c)}: {_theta_text(th)}"
        if ok:
            result.verdicts.append(Verdict(text, True, f"c_Theta = c exactly, all {len(c)} coefficients (D = {D}, K = {K})"))
        else:
            got = qn.c_theta(*th)
            result.verdicts.append(Verdict(text, False, f"c_Theta = {_fmt_vec(got)} != c: the coefficient of {mons[n]} "
                                                        f"is {qn.natural(got[n])}, not {qn.natural(c[n])}"))
    if "map" in parsed:
        Dm, Km, cs, th = parsed["map"]
        mons_m = [qn.natural(qn.monomial_expr(m, qn.x_symbols(Dm))) for m in qn.monomials(Dm)]
        result.verdicts.append(_map_verdict(claims["map"], (cs, th), Dm, Km, rng, mons_m))
    if "unreachable_c" in parsed:
        D, K, c = parsed["unreachable_c"]
        info = reach(c, D)
        text = f"unreachable_c = {_fmt_vec(c)} (K = {K})"
        if info.units_needed > K:
            ev = f"right: quadratic part Q = {qn.fmt_matrix(info.Q)}; " + why_unreachable(info, K)
            result.verdicts.append(Verdict(text, True, ev, r"Q = " + sp.latex(info.Q)))
        else:
            th = construct_theta(c, D, K)
            ok, _ = _verify_exact(c, th)
            result.verdicts.append(Verdict(text, False,
                                           f"rank Q = {info.rank} <= K = {K} and {info.units_needed} unit(s) suffice: "
                                           f"{_theta_text(th)} gives c_Theta = c" + (" exactly" if ok else "")))


def _undefined_text(e) -> str:
    """A value of the map that is not a real number, in words (never SymPy's zoo / nan / oo)."""
    if e.has(sp.zoo, sp.nan):
        return "a division by zero: undefined"
    if e.has(sp.oo, -sp.oo):
        return "infinite"
    return f"{sp.sstr(e)}, not real"


def _map_verdict(raw: dict, parsed, D: int, K: int, rng: random.Random, mons) -> Verdict:
    cs, th = parsed
    text = f"map c -> Theta (D = {D}, K = {K}): " + ", ".join(f"{k} = {qn.raw_text(raw[k])}"
                                                             for k in ("W", "b", "v", "v0"))
    text = text if len(text) <= 300 else text[:297] + "..."
    got = qn.c_theta(*th)
    for n in range(len(cs)):
        eq = equivalent(got[n], cs[n], cs)
        if eq.equal is False:
            return Verdict(text, False, f"c_Theta(map(c)) != c: coefficient of {mons[n]}: {eq.evidence}")
        if eq.equal is None:
            return Verdict(text, None, f"coefficient of {mons[n]}: {eq.evidence}")
    generic = "c_Theta(map(c)) = c holds identically where the map is defined"
    for name, c in special_cs(D, rng):
        sub = {s: val for s, val in zip(cs, c)}
        try:
            vals = [a.xreplace(sub) if isinstance(a, sp.Matrix) else a.xreplace(sub) for a in th]
            flat = [e for a in vals for e in (a if isinstance(a, sp.Matrix) else [a])]
            bad = [e for e in flat if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not (e.is_real is True)]
        except (ZeroDivisionError, TypeError):
            bad = [sp.zoo]
        if bad:
            info = reach(c, D)
            note = (f" (no Theta with K = {K} units reaches this c at all: {why_unreachable(info, K)})"
                    if info.units_needed > K else f" (a Theta with {info.units_needed} unit(s) exists)")
            return Verdict(text, False, f"{generic}, but not for every c: at {name}, c = {_fmt_vec(c)}, the map is "
                                        f"undefined or not real ({_undefined_text(bad[0])}); every c must be mapped" + note)
        ok, n = _verify_exact(c, tuple(vals))
        if not ok:
            return Verdict(text, False, f"{generic}, but at {name}, c = {_fmt_vec(c)}, c_Theta = "
                                        f"{_fmt_vec(qn.c_theta(*vals))} != c (coefficient of {mons[n]})")
    return Verdict(text, True, f"{generic} (proved symbolically), and it is defined and exact on "
                               f"{len(special_cs(D, random.Random(0)))} kinds of c including rank-deficient and zero Q")
