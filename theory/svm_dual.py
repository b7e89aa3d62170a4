"""tau.t3b-t3d: Lagrangian, stationarity and dual of the squared-slack (L2) soft-margin SVM.

The Lagrangian is built in SymPy for a small symbolic instance (n points in
R^d; every x_ij, y_i, w_j, xi_i, alpha_i and C a symbol), differentiated, and
the stationarity conditions are substituted back to derive the dual. Claims are
written in a small index language (see ``CLAIM_SCHEMA``) that is parsed by
:func:`theory.parse.parse_expr` with extra whitelisted functions (``sum_i``,
``sum_j``, ``sum_k``, ``dot``, ``norm``), expanded for the instance sizes, and
compared by :func:`theory.equivalence.equivalent` after reducing ``y_i**2 = 1``.
The numeric side (cvxpy optimum, duals of the constraints, zero gap) comes from
:mod:`numerics.soft_svm` and is certified by :mod:`numerics.kkt`.

>>> S = Instance(2, 2)
>>> S.parse("sum_i(alpha_i*y_i)", "claim")
alpha1*y1 + alpha2*y2
>>> S.parse("norm(w)**2", "claim")
w1**2 + w2**2
>>> sp.expand(S.parse("dot(x1, x_2)", "claim"))      # x_2 is an alias of x2
x1_1*x2_1 + x1_2*x2_2
"""
from __future__ import annotations

import re
from typing import Any, Optional

import numpy as np
import sympy as sp

from numerics import soft_svm as ns
from numerics.kkt import kkt_residuals
from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import claim_keys, text_claim
from theory.equivalence import equivalent
from theory.parse import FUNCTIONS, ExprError, parse_expr

PLACEHOLDERS = ("i", "j", "k")
SAMPLE_FAMILIES = ("alpha", "y", "xi", "mu")
SIZES = ((2, 2), (3, 2))       # (n, d) at which a sum-notation claim is expanded
NUMERIC_N, NUMERIC_D = 8, 2    # the instance on which claims are evaluated at the cvxpy optimum

LANGUAGE = """\
The claim language (expressions as text; + - * / ** and the usual functions):
  scalars per point   alpha_i, y_i, xi_i, mu_i (index i, j or k inside sums; alpha1, y2, ... for one point)
  vectors             w, x_i (x_j, x_k; x1, x2, ... for one point), only inside dot(u, v), norm(u)
                      or in the vector condition for w; components w1, w2, x1_2 (point 1, coordinate 2)
  scalars             b, C
  sums over points    sum_i(...), sum_j(...), sum_k(...): the index runs over 1..n;
                      the indices i, j, k may appear in delta(i, j) (Kronecker delta)
  vector algebra      dot(u, v) = u.v, norm(u) = ||u||; u, v linear combinations of w and the x's
A claim in sum notation is expanded for (n, d) = (2, 2) and (3, 2); a claim in components
(w1, alpha2, x1_2, ...) is checked at n = 2, d = 2 unless the table sets n and d.
"""

CLAIM_SCHEMA = """\
Claims for tau.t3b, tau.t3c and tau.t3d (the squared-slack soft SVM).

  ["tau.t3b"]
  lagrangian = "norm(w)**2/2 + C/2*sum_i(xi_i**2) - sum_i(alpha_i*(y_i*(dot(w, x_i) + b) - 1 + xi_i))"
  # optional: n = 2, d = 2 for a claim written in components

  ["tau.t3c"]       # equations "lhs = rhs"; a free index i means "for every i"
  dL_dw = "w = sum_i(alpha_i*y_i*x_i)"
  dL_db = "sum_i(alpha_i*y_i) = 0"
  dL_dxi = "xi_i = alpha_i/C"

  ["tau.t3d"]
  dual = "sum_i(alpha_i) - norm(sum_i(alpha_i*y_i*x_i))**2/2 - sum_i(alpha_i**2)/(2*C)"   # maximised
  constraints = ["alpha_i >= 0", "sum_i(alpha_i*y_i) = 0"]

""" + LANGUAGE


# ---------------------------------------------------------------- the instance and the claim language

class Instance:
    """The symbols of an instance with n points in R^d, and the parser of the claim language."""

    def __init__(self, n: int, d: int):
        self.n, self.d = n, d
        self.C = sp.Symbol("C", positive=True)
        self.b = sp.Symbol("b", real=True)
        self._sym: dict[tuple, sp.Symbol] = {}
        self._key: dict[sp.Symbol, tuple] = {}
        self.alpha = [self.get(("s", "alpha", i)) for i in range(1, n + 1)]
        self.y = [self.get(("s", "y", i)) for i in range(1, n + 1)]
        self.xi = [self.get(("s", "xi", i)) for i in range(1, n + 1)]
        self.mu = [self.get(("s", "mu", i)) for i in range(1, n + 1)]
        self.w = [self.get(("wc", m)) for m in range(1, d + 1)]
        self.x = [[self.get(("xc", i, m)) for m in range(1, d + 1)] for i in range(1, n + 1)]

    # symbols -------------------------------------------------------
    def get(self, key: tuple) -> sp.Symbol:
        if key not in self._sym:
            kind = key[0]
            if kind == "s":
                _, fam, a = key
                name = f"{fam}{a}" if isinstance(a, int) else f"{fam}_{a}"
                sym = sp.Symbol(name, positive=True) if fam == "alpha" and isinstance(a, int) else sp.Symbol(name, real=True)
            elif kind == "wc":
                sym = sp.Symbol(f"w{key[1]}", real=True)
            elif kind == "xc":
                _, a, m = key
                sym = sp.Symbol(f"x{a}_{m}" if isinstance(a, int) else f"x_{a}_{m}", real=True)
            elif kind == "idx":
                sym = sp.Symbol(key[1], integer=True, positive=True)
            elif kind == "wv":
                sym = sp.Symbol("w", real=True)
            elif kind == "xv":
                a = key[1]
                sym = sp.Symbol(f"x{a}" if isinstance(a, int) else f"x_{a}", real=True)
            else:
                raise KeyError(key)
            self._sym[key], self._key[sym] = sym, key
        return self._sym[key]

    def table(self) -> dict[str, sp.Symbol]:
        """The names a claim may use."""
        keys = [("wv",)] + [("wc", m) for m in range(1, self.d + 1)] + [("idx", p) for p in PLACEHOLDERS]
        for a in list(range(1, self.n + 1)) + list(PLACEHOLDERS):
            keys += [("s", f, a) for f in SAMPLE_FAMILIES] + [("xv", a)]
            keys += [("xc", a, m) for m in range(1, self.d + 1)] if isinstance(a, int) else []
        out = {self.get(k).name: self.get(k) for k in keys}
        for name, sym in list(out.items()):          # aliases with an underscore: alpha_1, x_1, x_1_2, w_1
            alias = re.sub(r"^([a-z]+)(\d)", r"\1_\2", name)
            out.setdefault(alias, sym)
        out.update({"C": self.C, "b": self.b})
        return out

    def concrete(self) -> list[sp.Symbol]:
        return [self.C, self.b] + self.w + self.alpha + self.y + self.xi + self.mu + [v for row in self.x for v in row]

    def is_vector(self, s) -> bool:
        return self._key.get(s, ("",))[0] in ("wv", "xv")

    def placeholders_of(self, expr) -> set[str]:
        out = set()
        for s in expr.free_symbols:
            key = self._key.get(s)
            if key is None:
                continue
            for part in key[1:]:
                if part in PLACEHOLDERS:
                    out.add(part)
        return out

    def bind(self, expr, p: str, value: int):
        """Replace the index placeholder ``p`` by ``value`` in every symbol."""
        rep = {}
        for s in expr.free_symbols:
            key = self._key.get(s)
            if key == ("idx", p):
                rep[s] = sp.Integer(value)
            elif key is not None and p in key[1:]:
                rep[s] = self.get(tuple(value if part == p else part for part in key))
        return expr.xreplace(rep)

    def component(self, expr, m: int):
        """The m-th coordinate (1-based) of a linear combination of the vectors w, x_a."""
        rep = {}
        for s in expr.free_symbols:
            key = self._key.get(s)
            if key == ("wv",):
                rep[s] = self.get(("wc", m))
            elif key is not None and key[0] == "xv":
                a = key[1]
                rep[s] = self.get(("xc", a, m))
        return expr.xreplace(rep)

    def vectors_in(self, expr) -> list[sp.Symbol]:
        return sorted((s for s in expr.free_symbols if self.is_vector(s)), key=lambda s: s.name)

    def _vector_parts(self, u, what: str):
        u = sp.expand(u)
        vecs = self.vectors_in(u)
        if not vecs:
            raise ExprError(f"{what}: expects a vector (w, x_i, or a combination of them), got {sp.sstr(u)[:60]}")
        for v in vecs:
            if self.vectors_in(sp.diff(u, v)):
                raise ExprError(f"{what}: vectors may only be combined linearly (with scalar coefficients)")
        if sp.expand(u.xreplace({v: 0 for v in vecs})) != 0:
            raise ExprError(f"{what}: a scalar cannot be added to a vector")
        return [self.component(u, m) for m in range(1, self.d + 1)]

    def functions(self) -> dict:
        def make_sum(p):
            def _sum(e):
                return sp.Add(*[self.bind(e, p, k) for k in range(1, self.n + 1)])
            return _sum

        def dot(u, v):
            return sp.Add(*[a * c for a, c in zip(self._vector_parts(u, "dot()"), self._vector_parts(v, "dot()"))])

        def norm(u):
            return sp.sqrt(sp.Add(*[a ** 2 for a in self._vector_parts(u, "norm()")]))

        fns = dict(FUNCTIONS)
        fns.update({f"sum_{p}": make_sum(p) for p in PLACEHOLDERS})
        fns.update({"dot": dot, "norm": norm})
        return fns

    def parse(self, text: str, where: str):
        try:
            e = parse_expr(text, self.table(), allow_new_symbols=False, functions=self.functions())
        except ExprError as exc:
            raise InputError(f"{where}: {exc}") from None
        if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
            raise InputError(f"{where}: expected one scalar expression")
        return e

    def scalar(self, text: str, where: str, free: tuple[str, ...] = ()):
        """A scalar claim: no vectors left; placeholders only among ``free``."""
        e = self.parse(text, where)
        if self.vectors_in(e):
            raise InputError(f"{where}: {', '.join(s.name for s in self.vectors_in(e))} is a vector here; use "
                             "dot(u, v) or norm(u), or components such as w1")
        bad = self.placeholders_of(e) - set(free)
        if bad:
            raise InputError(f"{where}: index {', '.join(sorted(bad))} is used outside a sum "
                             f"(write sum_{sorted(bad)[0]}(...))")
        return e

    # the problem ---------------------------------------------------
    def margin(self, i: int):
        return self.y[i] * (sum(wm * xm for wm, xm in zip(self.w, self.x[i])) + self.b)

    def objective(self):
        return sp.Rational(1, 2) * sum(v ** 2 for v in self.w) + self.C / 2 * sum(v ** 2 for v in self.xi)

    def constraint(self, i: int):
        """g_i = y_i (w.x_i + b) - 1 + xi_i >= 0."""
        return self.margin(i) - 1 + self.xi[i]

    def lagrangian(self):
        return self.objective() - sum(self.alpha[i] * self.constraint(i) for i in range(self.n))

    def dual_objective(self):
        v = [sum(self.alpha[i] * self.y[i] * self.x[i][m] for i in range(self.n)) for m in range(self.d)]
        return (sum(self.alpha) - sp.Rational(1, 2) * sum(c ** 2 for c in v)
                - sum(a ** 2 for a in self.alpha) / (2 * self.C))

    def reduce_signs(self, expr):
        """Use y_i in {-1, +1}: y_i**k -> y_i**(k mod 2) (exact for polynomials and 1/y_i)."""
        ys = set(self.y)
        e = sp.expand(expr)
        return e.replace(lambda t: t.is_Pow and t.base in ys and t.exp.is_Integer,
                         lambda t: t.base ** (int(t.exp) % 2))


# ---------------------------------------------------------------- small helpers

def cube_point(S: Instance, claimed, derived, seed: int = 0, tries: int = 60) -> str:
    """A point with every y_i in {-1, +1} (other symbols: short decimals) where claimed != derived, in exact
    rationals, as evidence text; empty if none is found."""
    import random

    rng = random.Random(seed)
    ys = set(S.y)
    syms = sorted((claimed.free_symbols | derived.free_symbols), key=lambda t: t.name)
    for _ in range(tries):
        point = {}
        for t in syms:
            if t in ys:
                point[t] = sp.Integer(rng.choice((-1, 1)))
            elif t.is_positive:
                point[t] = sp.Rational(rng.randint(1, 30), 10)
            else:
                point[t] = sp.Rational(rng.randint(-30, 30), 10)
        try:
            a, b = claimed.xreplace(point), derived.xreplace(point)
            a, b = sp.nsimplify(a), sp.nsimplify(b)
        except (ZeroDivisionError, TypeError):
            continue
        if not (a.is_number and b.is_number) or a.has(sp.zoo, sp.nan) or b.has(sp.zoo, sp.nan):
            continue
        if sp.simplify(a - b) != 0:
            where = ", ".join(f"{_plain(t)} = {v}" for t, v in point.items())
            return f"differs at ({where}): claimed = {a}, derived = {b}"
    return ""

_CONCRETE = re.compile(r"\b(?:alpha|xi|mu|y|w|x)\d")


def _int_claim(claims: dict, key: str, default: int, lo: int, hi: int, pid: str) -> int:
    v = claims.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise InputError(f'["{pid}"].{key}: expected an integer in {lo}..{hi}')
    return v


def _sizes(text: str, claims: dict, pid: str) -> list[tuple[int, int]]:
    if _CONCRETE.search(text) or "n" in claims or "d" in claims:
        return [(_int_claim(claims, "n", 2, 1, 4, pid), _int_claim(claims, "d", 2, 1, 3, pid))]
    return list(SIZES)


def _split_equation(text: str, where: str) -> tuple[str, str]:
    parts = re.split(r"(?<![<>=!])=(?!=)", text)
    if len(parts) == 1:
        return text, "0"
    if len(parts) != 2 or "==" in text or not parts[0].strip() or not parts[1].strip():
        raise InputError(f"{where}: expected one equation 'lhs = rhs' (or an expression meaning '= 0')")
    return parts[0], parts[1]


def _sizes_text(sizes) -> str:
    return ", ".join(f"n = {n}, d = {d}" for n, d in sizes)


def _latex_L_index() -> str:
    return (r"L(w,b,\xi,\alpha)=\tfrac12\|w\|^2+\tfrac C2\sum_{i=1}^n\xi_i^2"
            r"-\sum_{i=1}^n\alpha_i\big(y_i(w^\top x_i+b)-1+\xi_i\big),\qquad \alpha_i\ge0")


DUAL_TEX = (r"\max_{\alpha}\ \sum_{i=1}^n\alpha_i-\tfrac12\Big\|\sum_{i=1}^n\alpha_iy_ix_i\Big\|^2"
            r"-\tfrac1{2C}\sum_{i=1}^n\alpha_i^2\quad\text{s.t.}\quad \alpha_i\ge0,\ \ \sum_{i=1}^n\alpha_iy_i=0")


# ---------------------------------------------------------------- tau.t3b

def _lagrangian_variants(S: Instance) -> list[tuple[str, Any]]:
    f = S.objective()
    g = sum(S.alpha[i] * S.constraint(i) for i in range(S.n))
    half_w = sp.Rational(1, 2) * sum(v ** 2 for v in S.w)
    half_xi = S.C / 2 * sum(v ** 2 for v in S.xi)
    mu_term = sum(m * x for m, x in zip(S.mu, S.xi))
    L = f - g
    return [
        ("the sign of the multiplier term is wrong: for constraints g_i >= 0 with alpha_i >= 0 the term is "
         "- sum alpha_i g_i (so that L <= f on the feasible set)", f + g),
        ("the factor 1/2 of ||w||^2 is missing", L + half_w),
        ("the factor 1/2 of C sum xi_i^2 is missing", L + half_xi),
        ("both factors 1/2 are missing", L + half_w + half_xi),
        ("the constraint term is written as y_i(w.x_i + b) - 1 (the slack xi_i is missing)",
         L + sum(a * x for a, x in zip(S.alpha, S.xi))),
        ("it is the Lagrangian of the problem with the extra constraints xi_i >= 0 (multipliers mu_i >= 0): valid "
         "for that version, whose optimum is the same (tau.t3a), but the problem as stated has no constraint "
         "xi_i >= 0 and so no multipliers mu_i; drop the mu terms", L - mu_term),
        ("it has multipliers mu_i for xi_i >= 0, a constraint the problem as stated does not have, and with the "
         "wrong sign (it would be - sum mu_i xi_i)", L + mu_term),
    ]


def _judge_lagrangian(text: str, claims: dict, pid: str) -> Verdict:
    sizes = _sizes(text, claims, pid)
    for n, d in sizes:
        S = Instance(n, d)
        claim = S.scalar(text, f'["{pid}"].lagrangian')
        L = S.lagrangian()
        eq = equivalent(S.reduce_signs(claim), S.reduce_signs(L), [])
        if eq.equal is True:
            continue
        if eq.equal is None:
            return Verdict(f"lagrangian = {text}", None, f"n = {n}, d = {d}: {eq.evidence}")
        why = ""
        for label, variant in _lagrangian_variants(S):
            if sp.expand(S.reduce_signs(claim - variant)) == 0:
                why = "Diagnosis: " + label + ". "
                break
        resid = sp.expand(claim - L)
        point = cube_point(S, S.reduce_signs(claim), S.reduce_signs(L)) or eq.evidence.split("; claimed - derived")[0]
        derived_tex = _latex_instance(S) if n * d <= 4 else _latex_L_index()
        return Verdict(f"lagrangian = {text}", False,
                       f"{why}At n = {n}, d = {d} the claimed minus the derived Lagrangian is the expression shown "
                       "below (not 0); " + point,
                       r"\begin{aligned}&" + _latex_difference(r"L_{\text{claimed}}-L", resid, S.alpha)
                       + r"\\[4pt]&\text{derived: }" + derived_tex.replace(r"\begin{aligned}", r"\begin{aligned}[t]", 1)
                       + r"\end{aligned}")
    return Verdict(f"lagrangian = {text}", True,
                   f"expanded at {_sizes_text(sizes)}: equal to the derived Lagrangian ({eq.evidence})")


def _t3b_steps(S: Instance) -> list[Step]:
    return [
        Step(text="The constraints, written as g_i(w, b, xi) >= 0:",
             math=r"g_i(w,b,\xi)=y_i(w^\top x_i+b)-1+\xi_i\ \ge\ 0,\quad i=1,\dots,n", rule="standard form"),
        Step(text="One multiplier alpha_i >= 0 per constraint; the Lagrangian subtracts alpha_i g_i from the "
                  "objective (so L <= objective on the feasible set). There is no constraint xi_i >= 0, so no "
                  "multiplier for it.", math=_latex_L_index(), rule="Lagrangian of an inequality-constrained problem"),
        Step(text=f"Built in SymPy for n = {S.n}, d = {S.d} (x_i = (x_i1, ..., x_id)):",
             math=_latex_instance(S), rule="symbolic instance"),
    ]


def _latex_instance(S: Instance) -> str:
    """The instance's Lagrangian, one line per multiplier term (aligned)."""
    w2 = sp.latex(sum(v ** 2 for v in S.w))
    xi2 = sp.latex(sum(v ** 2 for v in S.xi))
    terms = "".join(rf"\\&-{sp.latex(S.alpha[i])}\left({sp.latex(S.margin(i))}-1+{sp.latex(S.xi[i])}\right)"
                    for i in range(S.n))
    return rf"\begin{{aligned}}L={{}}&\tfrac12\left({w2}\right)+\tfrac C2\left({xi2}\right){terms}\end{{aligned}}"


def solve_t3b(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "tau.t3b"
    result = Result(problem_id=pid, title="Lagrangian", params={**params, "numeric instance":
                    f"n = {NUMERIC_N}, d = {NUMERIC_D}, C = 1, seeded non-separable data", "solver": ns.SOLVER_TEXT},
                    random_state=T3B_SEED)
    result.data = {"dataset": f"synthetic: n = {NUMERIC_N}, d = {NUMERIC_D}, seed {T3B_SEED} (non-separable), for the "
                              "numeric checks; the derivation is symbolic"}
    verdict = None
    if claims:
        claim_keys(claims, {"lagrangian", "n", "d"}, f'["{pid}"]')
        if "lagrangian" in claims:
            verdict = _judge_lagrangian(text_claim(claims, "lagrangian", pid), claims, pid)
    S = Instance(2, 2)
    result.steps = _t3b_steps(S)
    # a consistency check of the two notations (both are ours: not an oracle) ...
    ref = ("norm(w)**2/2 + C/2*sum_i(xi_i**2) - sum_i(alpha_i*(y_i*(dot(w, x_i) + b) - 1 + xi_i))")
    sizes = SIZES + ((4, 3),)
    same = []
    for n, d in sizes:
        Sn = Instance(n, d)
        eq = equivalent(Sn.scalar(ref, "reference"), Sn.lagrangian(), Sn.concrete())
        same.append(eq.equal is True and eq.method == "exact")
    result.checks.append(Check(
        "consistency of the two notations: the index form (sum_i, dot) read by the claim language expands to the "
        "entry-wise SymPy Lagrangian", "SymPy expansion; both forms are written in this solver, so this checks the "
        "claim language, not the Lagrangian", all(same),
        "; ".join(f"n = {n}, d = {d}: {'identical' if ok else 'different'}" for (n, d), ok in zip(sizes, same))))
    # ... and the oracles: cvxpy's optimum and multipliers, which know nothing of our SymPy L
    result.checks += _lagrangian_oracle_checks(seed=T3B_SEED)
    result.summary = "L = 1/2||w||^2 + C/2 sum xi_i^2 - sum alpha_i (y_i(w.x_i + b) - 1 + xi_i), alpha >= 0"
    if verdict:
        result.verdicts.append(verdict)
    return result


T3B_SEED = 0   # the data and the 50 random feasible points of the tau.t3b oracle checks


def _lagrangian_oracle_checks(seed: int = T3B_SEED) -> list[Check]:
    """The SymPy Lagrangian (n = NUMERIC_N, d = NUMERIC_D) against cvxpy, which never sees it:

    * at the primal optimum with cvxpy's multipliers alpha* it equals the primal and the dual optimum
      (complementarity; zero gap) and its gradient in (w, b, xi) vanishes (a saddle point);
    * it is <= the objective at random feasible points with alpha >= 0 (weak duality)."""
    X, y = ns.make_data(NUMERIC_N, NUMERIC_D, separable=False, seed=seed)
    svm = ns.SoftSVM(X, y)
    p, dual_value = svm.primal(1.0), svm.dual(1.0).value
    S = Instance(NUMERIC_N, NUMERIC_D)
    data = {S.C: 1, **{t: int(v) for t, v in zip(S.y, y)}}
    data.update({S.x[i][m]: sp.Float(float(X[i, m]), 17) for i in range(NUMERIC_N) for m in range(NUMERIC_D)})
    L, f = S.lagrangian().xreplace(data), S.objective().xreplace(data)
    prim = S.w + [S.b] + S.xi
    args = prim + S.alpha
    L_num, f_num = sp.lambdify(args, L, "numpy"), sp.lambdify(args, f, "numpy")
    grad = sp.lambdify(args, [sp.diff(L, v) for v in prim], "numpy")
    at_opt = [*p.w, p.b, *p.xi, *p.alpha]
    L_opt = float(L_num(*at_opt))
    gap_p, gap_d = abs(L_opt - p.value), abs(L_opt - dual_value)
    g_max = float(np.abs(np.array(grad(*at_opt), dtype=float)).max())
    rng = np.random.default_rng(seed)
    worst = -np.inf
    for _ in range(50):
        w, b = rng.normal(size=NUMERIC_D), rng.normal()
        xi = np.maximum(0, 1 - y * (X @ w + b)) + rng.uniform(0, 1, size=NUMERIC_N)   # feasible
        a = rng.uniform(0, 2, size=NUMERIC_N)
        pt = [*w, b, *xi, *a]
        worst = max(worst, float(L_num(*pt) - f_num(*pt)))
    where = f"n = {NUMERIC_N}, d = {NUMERIC_D}, C = 1, seeded non-separable data (seed {seed})"
    return [
        Check("the SymPy Lagrangian at the cvxpy optimum, with cvxpy's multipliers alpha*, equals the primal and "
              "the dual optimum, and its gradient in (w, b, xi) vanishes there",
              f"{ns.SOLVER_TEXT}: primal and dual solved separately; L evaluated and differentiated by SymPy; {where}",
              bool(gap_p <= 1e-7 and gap_d <= 1e-6 and g_max <= 1e-6),
              f"|L - primal optimum| {gap_p:.1e}, |L - dual optimum| {gap_d:.1e}, largest |dL| {g_max:.1e}"),
        Check("the SymPy Lagrangian is at most the objective at feasible points (alpha >= 0): weak duality",
              f"50 random feasible (w, b, xi), each alpha_i uniform in [0, 2] (NumPy generator, seed {seed}); {where}",
              bool(worst <= 1e-12), f"largest L - objective {worst:.3g} (must be <= 0)"),
    ]


# ---------------------------------------------------------------- tau.t3c

STATIONARITY = {
    "dL_dw": (r"\frac{\partial L}{\partial w}=w-\sum_i\alpha_iy_ix_i=0\ \Rightarrow\ w=\sum_{i=1}^n\alpha_iy_ix_i",
              "w = sum_i alpha_i y_i x_i"),
    "dL_db": (r"\frac{\partial L}{\partial b}=-\sum_i\alpha_iy_i=0\ \Rightarrow\ \sum_{i=1}^n\alpha_iy_i=0",
              "sum_i alpha_i y_i = 0"),
    "dL_dxi": (r"\frac{\partial L}{\partial\xi_i}=C\xi_i-\alpha_i=0\ \Rightarrow\ \xi_i=\frac{\alpha_i}{C}",
               "xi_i = alpha_i / C"),
}


def _derived_conditions(S: Instance) -> dict[str, list[tuple[sp.Symbol, Any]]]:
    """Each condition as (pivot, value of the pivot) pairs, derived by differentiating L."""
    L = S.lagrangian()
    out = {"dL_dw": [], "dL_db": [], "dL_dxi": []}
    for wm in S.w:
        out["dL_dw"].append((wm, sp.solve(sp.diff(L, wm), wm)[0]))
    a1 = S.alpha[0]
    out["dL_db"].append((a1, S.reduce_signs(sp.solve(sp.diff(L, S.b), a1)[0])))
    for xv in S.xi:
        out["dL_dxi"].append((xv, sp.solve(sp.diff(L, xv), xv)[0]))
    return out


def _claim_equations(S: Instance, key: str, text: str, pid: str) -> list[Any]:
    """The claimed condition as a list of residuals lhs - rhs (one per coordinate / point)."""
    where = f'["{pid}"].{key}'
    lhs, rhs = _split_equation(text, where)
    if key == "dL_dw":
        L, R = S.parse(lhs, where), S.parse(rhs, where)
        if S.placeholders_of(L - R):
            raise InputError(f"{where}: index {', '.join(sorted(S.placeholders_of(L - R)))} is used outside a sum")
        diff = L - R
        if S.vectors_in(diff):
            try:
                return S._vector_parts(diff, where)
            except ExprError as exc:
                raise InputError(f"{where}: {exc}") from None
        raise InputError(f"{where}: expected a vector equation such as 'w = sum_i(alpha_i*y_i*x_i)'")
    L = S.scalar(lhs, where, free=("i",) if key == "dL_dxi" else ())
    R = S.scalar(rhs, where, free=("i",) if key == "dL_dxi" else ())
    r = L - R
    if key == "dL_dxi":
        if "i" not in S.placeholders_of(r):
            raise InputError(f"{where}: expected a condition for every i, such as 'C*xi_i = alpha_i'")
        return [S.bind(r, "i", k) for k in range(1, S.n + 1)]
    return [r]


def _judge_condition(S: Instance, key: str, text: str, pid: str, derived) -> Verdict:
    residuals = _claim_equations(S, key, text, pid)
    claim_txt = f"{key}: {text}"
    if len(residuals) != len(derived[key]):
        return Verdict(claim_txt, False, f"{len(residuals)} equations, expected {len(derived[key])}")
    for r, (pivot, value) in zip(residuals, derived[key]):
        r = S.reduce_signs(r)
        coef = sp.expand(sp.diff(r, pivot))
        derived_tex = r"\text{derived: }\ " + sp.latex(pivot) + " = " + sp.latex(value)
        if coef == 0 or coef.has(pivot):
            return Verdict(claim_txt, False,
                           f"at n = {S.n}, d = {S.d} the claimed equation (shown below, left) does not determine "
                           f"{_plain(pivot)}; the derived condition does (right)",
                           r"\text{claimed: }\ " + sp.latex(r) + r" = 0,\qquad " + derived_tex)
        sol = S.reduce_signs(sp.cancel(-r.subs(pivot, 0) / coef))
        eq = equivalent(sol, value, [])
        if eq.equal is not True:
            return Verdict(claim_txt, eq.equal,
                           f"at n = {S.n}, d = {S.d} the claim gives a value of {_plain(pivot)} that differs from the "
                           "derived condition (both shown below); "
                           + ((cube_point(S, sol, value) or eq.evidence.split("; claimed - derived")[0])
                              if eq.equal is False else eq.evidence),
                           r"\text{claimed: }\ " + sp.latex(pivot) + " = " + sp.latex(sol) + r",\qquad " + derived_tex)
    return Verdict(claim_txt, True, "")


def _numeric_residual(key: str, text: str, pid: str, sol, X, y, C) -> float:
    """The largest |lhs - rhs| of the claimed condition at the cvxpy optimum (n = NUMERIC_N)."""
    S = Instance(*X.shape)
    vals = {S.C: C, S.b: sol.b}
    vals.update({s: v for s, v in zip(S.w, sol.w)})
    vals.update({s: v for s, v in zip(S.alpha, sol.alpha)})
    vals.update({s: v for s, v in zip(S.xi, sol.xi)})
    vals.update({s: v for s, v in zip(S.y, y)})
    vals.update({S.x[i][m]: X[i, m] for i in range(X.shape[0]) for m in range(X.shape[1])})
    worst = 0.0
    for r in _claim_equations(S, key, text, pid):
        v = complex(sp.N(r.xreplace({k: sp.Float(float(val), 20) for k, val in vals.items()}) .subs(
            {m: 0 for m in S.mu})))
        worst = max(worst, abs(v))
    return worst


def solve_t3c(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "tau.t3c"
    C = 2.0
    result = Result(problem_id=pid, title="Stationarity", params={"sizes": [list(s) for s in SIZES],
                    "numeric instance": f"n = {NUMERIC_N}, d = {NUMERIC_D}, C = {C:g}, seed 0, non-separable",
                    "solver": ns.SOLVER_TEXT}, random_state=0)
    result.data = {"dataset": f"synthetic: n = {NUMERIC_N}, d = {NUMERIC_D}, seed 0 (non-separable), for the numeric "
                              "checks; the derivation is symbolic"}
    texts = {}
    if claims:
        claim_keys(claims, set(STATIONARITY), f'["{pid}"]')
        texts = {k: text_claim(claims, k, pid) for k in STATIONARITY if k in claims}
        for k, t in texts.items():                           # validate early: bad claims raise InputError
            _claim_equations(Instance(*SIZES[0]), k, t, pid)
    S = Instance(*SIZES[0])
    L = S.lagrangian()
    result.steps.append(Step(text="The Lagrangian (tau.t3b):", math=_latex_L_index(), rule="definition"))
    result.steps.append(Step(text="For fixed alpha, L is a convex function of all the primal variables (w, b, xi): "
                                  "quadratic in w and xi (the Hessian below), linear in b. So its minimum over "
                                  "(w, b, xi) is where the gradient vanishes; if the coefficient of b is not 0, the "
                                  "infimum is minus infinity.", rule="first-order condition",
                             math=r"\nabla^2_{(w,\xi)}L=\begin{pmatrix}I_d&0\\0&C\,I_n\end{pmatrix}\succeq0,"
                                  r"\qquad \nabla_{w,b,\xi}L=0"))
    for key, (tex, _) in STATIONARITY.items():
        result.steps.append(Step(text=f"{key.replace('_', '/')}:", math=tex, rule="differentiate"))
    # checks: SymPy derivatives against the closed forms, at several sizes
    for n, d in SIZES + ((4, 3),):
        Sn = Instance(n, d)
        Ln = Sn.lagrangian()
        ok = all(sp.expand(sp.diff(Ln, Sn.w[m]) - (Sn.w[m] - sum(Sn.alpha[i] * Sn.y[i] * Sn.x[i][m]
                 for i in range(n)))) == 0 for m in range(d))
        ok &= sp.expand(sp.diff(Ln, Sn.b) + sum(a * yy for a, yy in zip(Sn.alpha, Sn.y))) == 0
        ok &= all(sp.expand(sp.diff(Ln, Sn.xi[i]) - (Sn.C * Sn.xi[i] - Sn.alpha[i])) == 0 for i in range(n))
        hess = sp.hessian(Ln, Sn.w + Sn.xi)
        ok_h = hess == sp.diag(*([1] * d + [Sn.C] * n))
        result.checks.append(Check(f"dL/dw, dL/db, dL/dxi equal the closed forms; Hessian in (w, xi) = diag(1, C) "
                                   f"(n = {n}, d = {d})", "SymPy differentiation, exact expansion",
                                   bool(ok and ok_h), f"closed forms: {'yes' if ok else 'no'}; Hessian diag(I, C I): "
                                   f"{'yes' if ok_h else 'no'}"))
    X, y = ns.make_data(NUMERIC_N, NUMERIC_D, separable=False, seed=0)
    sol = ns.SoftSVM(X, y).primal(C)
    r = kkt_residuals(X, y, C, sol.w, sol.b, sol.xi, sol.alpha)
    for name, label in (("stationarity_w", "w = sum alpha_i y_i x_i"), ("stationarity_b", "sum alpha_i y_i = 0"),
                        ("stationarity_xi", "xi = alpha / C")):
        result.checks.append(Check(f"{label} at the cvxpy optimum (alpha = duals of the margin constraints)",
                                   "KKT residuals (numerics/kkt.py); " + ns.SOLVER_TEXT, r[name] <= 1e-6,
                                   f"residual {r[name]:.1e} (n = {NUMERIC_N}, d = {NUMERIC_D}, C = {C:g})"))
    result.tables.append(Table(
        caption=f"The cvxpy optimum of the primal (n = {NUMERIC_N}, d = {NUMERIC_D}, C = {C:g}, seeded non-separable "
                f"data): the slacks xi* and the duals alpha* of the margin constraints; xi* = alpha*/C",
        columns=["i", "label y", "slack xi*", "multiplier alpha*", "alpha* / C"],
        rows=[[str(i + 1), f"{y[i]:+.0f}", f"{sol.xi[i]:.6f}", f"{sol.alpha[i]:.6f}", f"{sol.alpha[i] / C:.6f}"]
              for i in range(NUMERIC_N)]))
    result.summary = "w = sum_i alpha_i y_i x_i, sum_i alpha_i y_i = 0, xi_i = alpha_i / C"
    derived_at = {size: _derived_conditions(Instance(*size)) for size in SIZES} if texts else {}
    for key, text in texts.items():
        verdict = None
        for size in SIZES:
            Sz = Instance(*size)
            verdict = _judge_condition(Sz, key, text, pid, derived_at[size])
            if verdict.passed is not True:
                break
        res = _numeric_residual(key, text, pid, sol, X, y, C)
        num = (f"at the cvxpy optimum (n = {NUMERIC_N}, d = {NUMERIC_D}, C = {C:g}) the claimed condition has "
               f"residual |lhs - rhs| = {res:.2g}")
        if verdict.passed is True:
            verdict.evidence = f"proved equivalent to {STATIONARITY[key][1]} at {_sizes_text(SIZES)}; " + num
            if res > 1e-6:
                verdict.passed = None
                verdict.evidence += " (unexpectedly large)"
        else:
            verdict.evidence += "; " + num
        result.verdicts.append(verdict)
    return result


# ---------------------------------------------------------------- tau.t3d

def _dual_variants(S: Instance):
    D = S.dual_objective()
    ridge = sum(a ** 2 for a in S.alpha) / (2 * S.C)
    return [
        ("it is the negative of the dual objective (correct only as a minimisation)", -D),
        ("the term -1/(2C) sum alpha_i^2 from the squared slacks is missing (this is the hard-margin dual)", D + ridge),
        ("the slack term has the coefficient 1/C instead of 1/(2C)", D - ridge),
        ("the slack term has the wrong sign", D + 2 * ridge),
    ]


def _judge_dual(text: str, claims: dict, pid: str) -> tuple[Verdict, Optional[sp.Expr]]:
    sizes = _sizes(text, claims, pid)
    for n, d in sizes:
        S = Instance(n, d)
        claim = S.scalar(text, f'["{pid}"].dual')
        D = S.dual_objective()
        eq = equivalent(S.reduce_signs(claim), S.reduce_signs(D), [])
        if eq.equal is True:
            continue
        if eq.equal is None:
            return Verdict(f"dual = {text}", None, f"n = {n}, d = {d}: {eq.evidence}"), None
        why = ""
        for label, variant in _dual_variants(S):
            if sp.expand(S.reduce_signs(claim - variant)) == 0:
                why = "Diagnosis: " + label + ". "
                break
        if not why and claim.free_symbols & set([S.b] + S.w + S.xi + S.mu):
            why = "The dual depends on alpha only: b, w and xi must be eliminated. "
        resid = S.reduce_signs(claim - D)
        point = cube_point(S, S.reduce_signs(claim), S.reduce_signs(D)) or eq.evidence.split("; claimed - derived")[0]
        return Verdict(f"dual = {text}", False,
                       f"{why}At n = {n}, d = {d} the claimed minus the derived dual objective is the expression "
                       "shown below (not 0); " + point,
                       r"\begin{aligned}&" + _latex_difference(r"D_{\text{claimed}}-D", resid, S.alpha)
                       + r"\\ &\text{derived: }" + DUAL_TEX + r"\end{aligned}"), None
    return Verdict(f"dual = {text}", True,
                   f"expanded at {_sizes_text(sizes)}: equal to the derived dual objective ({eq.evidence})"), None


def _judge_constraints(items, pid: str, dual_opt) -> Verdict:
    where = f'["{pid}"].constraints'
    if not isinstance(items, list) or not all(isinstance(t, str) for t in items):
        raise InputError(f"{where}: expected a list of constraints as text, e.g. [\"alpha_i >= 0\"]")
    S = Instance(*SIZES[1])
    found_nonneg, found_sum, wrong = False, False, []
    for n_, t in enumerate(items):
        w_ = f"{where}[{n_}]"
        m = re.split(r"(>=|<=)", t)
        if len(m) == 3:
            lhs, op, rhs = m
            g = S.scalar(lhs, w_, free=("i",)) - S.scalar(rhs, w_, free=("i",))
            g = g if op == ">=" else -g
            insts = [S.bind(g, "i", k) for k in range(1, S.n + 1)] if "i" in S.placeholders_of(g) else [g]
            if all(any(sp.simplify(gi / a).is_positive and not (gi / a).free_symbols for a in S.alpha) for gi in insts) \
                    and len(insts) == S.n:
                found_nonneg = True
                continue
            wrong.append((t, insts))
        else:
            lhs, rhs = _split_equation(t, w_)
            e = S.reduce_signs(S.scalar(lhs, w_) - S.scalar(rhs, w_))
            target = sum(a * yy for a, yy in zip(S.alpha, S.y))
            ratio = sp.cancel(e / target)
            if ratio != 0 and not ratio.free_symbols:
                found_sum = True
                continue
            wrong.append((t, [e]))
    claim_txt = "constraints = [" + ", ".join(items) + "]"
    problems = []
    for t, _ in wrong:
        msg = f"'{t}' is not a constraint of the dual (it does not follow from alpha_i >= 0 and dL/db = 0)"
        if dual_opt is not None:
            viol = _violation(t, where, *dual_opt)
            if viol:
                msg += "; " + viol
        problems.append(msg)
    if not found_nonneg:
        problems.append("missing alpha_i >= 0 (multipliers of inequality constraints)")
    if not found_sum:
        problems.append("missing sum_i alpha_i y_i = 0 (from dL/db = 0: otherwise the infimum over b is -infinity)")
    if problems:
        return Verdict(claim_txt, False, "; ".join(problems), DUAL_TEX)
    return Verdict(claim_txt, True, "alpha_i >= 0 for every i and sum_i alpha_i y_i = 0, exactly the derived constraints")


def _dual_at_optimum(text: str, pid: str, X, y, C: float, svm) -> tuple[str, bool]:
    """The claimed dual objective at the cvxpy dual optimum, next to the primal optimum (equal when right)."""
    S = Instance(*X.shape)
    claim = S.scalar(text, f'["{pid}"].dual')
    alpha, primal = svm.dual(C).alpha, svm.primal(C).value
    vals = {S.C: C, **{a: v for a, v in zip(S.alpha, alpha)}, **{t: v for t, v in zip(S.y, y)}}
    vals.update({S.x[i][k]: X[i, k] for i in range(X.shape[0]) for k in range(X.shape[1])})
    v = claim.xreplace({t: sp.Float(float(x), 20) for t, x in vals.items()})
    if v.free_symbols:
        return ("not evaluated at the cvxpy optimum (it depends on "
                + ", ".join(sorted(map(str, v.free_symbols))) + ")"), False
    return (f"at the cvxpy dual optimum alpha* (n = {S.n}, d = {S.d}, C = {C:g}, seeded non-separable data) the claimed "
            f"objective is {float(v):.8g}, the primal optimum {primal:.8g}"), ns._close(float(v), primal) <= ns.VALUE_TOL


def _plain(e) -> str:
    """A small SymPy expression as plain text, with the point index written alpha_1, y_2, x_1_2."""
    return re.sub(r"\b(alpha|xi|mu|y|w|x)(\d)", r"\1_\2", sp.sstr(e)).replace("**", "^")


def _latex_difference(lhs: str, resid, alphas) -> str:
    """``lhs = resid`` as LaTeX, the terms grouped by the multipliers alpha_i (one group per alpha_i)."""
    groups = sp.collect(sp.expand(resid), alphas, evaluate=False)
    terms = [sp.factor(c) * a for a, c in groups.items() if a != 1] + ([sp.factor(groups[1])] if 1 in groups else [])
    if not terms:
        return lhs + "=0"
    texs = [sp.latex(t) for t in terms]
    signed = [texs[0]] + [t if t.startswith("-") else "+" + t for t in texs[1:]]
    if len(terms) == 1 or sum(map(len, texs)) < 90:
        return lhs + "=" + "".join(signed)
    return (r"\begin{aligned}" + lhs + "={}&" + r"\\&".join(signed) + r"\end{aligned}")  # one row per alpha_i


def _violation(text: str, where: str, X, y, C: float, alpha) -> str:
    """How the dual optimum violates a claimed constraint, e.g. "alpha_1 = 0.1378 > C = 0.1" (empty when it
    does not, or when the constraint cannot be evaluated)."""
    m = re.split(r"(>=|<=)", text)
    S = Instance(*X.shape)
    vals = {S.C: C, **{a: v for a, v in zip(S.alpha, alpha)}, **{s: v for s, v in zip(S.y, y)}}
    vals.update({S.x[i][k]: X[i, k] for i in range(X.shape[0]) for k in range(X.shape[1])})
    if len(m) == 3:
        texts = (m[0].strip(), m[2].strip())
        lhs, op, rhs = S.scalar(m[0], where, free=("i",)), m[1], S.scalar(m[2], where, free=("i",))
    else:
        a, b_ = _split_equation(text, where)
        texts = (a.strip(), b_.strip())
        lhs, op, rhs = S.scalar(a, where), "=", S.scalar(b_, where)
    indexed = "i" in S.placeholders_of(lhs - rhs)
    pairs = [(S.bind(lhs, "i", k), S.bind(rhs, "i", k)) for k in range(1, S.n + 1)] if indexed else [(lhs, rhs)]
    for k, (l_k, r_k) in enumerate(pairs):
        lv, rv = (e.xreplace({s: sp.Float(float(x), 20) for s, x in vals.items()}) for e in (l_k, r_k))
        if lv.free_symbols or rv.free_symbols:
            return ""
        lv, rv = float(lv), float(rv)
        diff = lv - rv                                     # lhs - rhs, literally
        broken = {">=": diff < -1e-6, "<=": diff > 1e-6, "=": abs(diff) > 1e-6}[op]
        if broken:
            def side(e, t, v):       # "alpha_1 = 0.1378", "C = 0.1", or the number alone
                return f"{v:.4g}" if not e.free_symbols else f"{_plain(e) if indexed else t} = {v:.4g}"
            at = f" for i = {k + 1}" if indexed else ""
            if op == "=":
                shown = f"{side(l_k, texts[0], lv)}, not {side(r_k, texts[1], rv)}"
            else:
                shown = f"{side(l_k, texts[0], lv)} {'<' if op == '>=' else '>'} {side(r_k, texts[1], rv)}"
            return (f"the dual optimum violates it{at}: {shown} "
                    f"(lhs - rhs = {diff:.4g}; cvxpy, n = {S.n}, d = {S.d}, C = {C:g}, seeded non-separable data)")
    return ""


def solve_t3d(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "tau.t3d"
    n, d, seed, Cs = ns.instance_params(params)
    result = Result(problem_id=pid, title="Dual problem",
                    params={"n": n, "d": d, "seed": seed, "C": Cs, "solver": ns.SOLVER_TEXT,
                            "symbolic sizes": [list(s) for s in SIZES]}, random_state=seed)
    result.data = {"dataset": f"synthetic: n = {n}, d = {d}, seeds {seed} (separable) and {seed + 1} (non-separable)"}
    verdicts = []
    if claims:
        claim_keys(claims, {"dual", "constraints", "n", "d"}, f'["{pid}"]')
        X8, y8 = ns.make_data(NUMERIC_N, NUMERIC_D, separable=False, seed=0)
        svm8, c_min = ns.SoftSVM(X8, y8), min(Cs)
        if "dual" in claims:
            text = text_claim(claims, "dual", pid)
            v = _judge_dual(text, claims, pid)[0]
            num, agrees = _dual_at_optimum(text, pid, X8, y8, c_min, svm8)
            v.evidence += "; " + num
            if v.passed is True and not agrees:
                v.passed, v.evidence = None, v.evidence + " (they should agree: not decided)"
            verdicts.append(v)
        if "constraints" in claims:
            dual_opt = (X8, y8, c_min, svm8.dual(c_min).alpha)
            verdicts.append(_judge_constraints(claims["constraints"], pid, dual_opt))
    # symbolic derivation ------------------------------------------------
    S = Instance(*SIZES[0])
    result.steps += [
        Step(text="Stationarity (tau.t3c):", rule="first-order conditions",
             math=r"w=\sum_i\alpha_iy_ix_i,\qquad \sum_i\alpha_iy_i=0,\qquad \xi_i=\alpha_i/C"),
        Step(text="Substitute into L. The b term vanishes because sum_i alpha_i y_i = 0; the two w terms combine to "
                  "minus half the squared norm of w; each slack term becomes -alpha_i^2/(2C):",
             rule="substitution",
             math=r"\begin{aligned}L&=\tfrac12\|w\|^2-w^\top\!\sum_i\alpha_iy_ix_i-b\sum_i\alpha_iy_i+\sum_i\alpha_i"
                  r"+\sum_i\Big(\tfrac C2\xi_i^2-\alpha_i\xi_i\Big)\\"
                  r"&=\sum_i\alpha_i-\tfrac12\Big\|\sum_i\alpha_iy_ix_i\Big\|^2-\tfrac1{2C}\sum_i\alpha_i^2"
                  r"\end{aligned}"),
        Step(text="The dual maximises this over the multipliers, which must be >= 0, and over the alpha for which "
                  "the infimum over b is finite (sum alpha_i y_i = 0):", math=DUAL_TEX, rule="Lagrange dual"),
    ]
    for nn, dd in SIZES + ((4, 3),):
        Sn = Instance(nn, dd)
        sub = {Sn.w[m]: sum(Sn.alpha[i] * Sn.y[i] * Sn.x[i][m] for i in range(nn)) for m in range(dd)}
        sub.update({Sn.xi[i]: Sn.alpha[i] / Sn.C for i in range(nn)})
        Lsub = sp.expand(Sn.lagrangian().xreplace(sub))
        bcoef = sum(a * yy for a, yy in zip(Sn.alpha, Sn.y))
        ok = sp.expand(Lsub - (Sn.dual_objective() - Sn.b * bcoef)) == 0
        result.checks.append(Check(f"L(w(alpha), b, xi(alpha), alpha) = D(alpha) - b sum alpha_i y_i "
                                   f"(n = {nn}, d = {dd})", "SymPy substitution and exact expansion", bool(ok),
                                   "the difference expands to 0" if ok else "the difference does not vanish"))
    # numeric side ---------------------------------------------------------
    data = ns.datasets(n, d, seed)
    result.checks += ns.data_checks(data)
    try:
        all_rows = [(name, ns.sweep(X, y, Cs)) for name, X, y in data]
    except ns.SolverError as exc:
        result.status, result.error = "error", f"the solver did not reach an optimum: {exc}"
        return result
    inst = [(f"{name}, C = {r['C']:g}", r) for name, sw in all_rows for r in sw]
    result.checks += [
        ns.worst_check("zero duality gap: primal = dual optimum", ns.SOLVER_TEXT + "; dual in sum-of-squares form",
                       [(i, ns._close(r["free"].value, r["dual"].value)) for i, r in inst], ns.VALUE_TOL, "relative gap"),
        ns.worst_check("w recovered from alpha (sum alpha_i y_i x_i) equals the primal w", ns.SOLVER_TEXT,
                       [(i, float(np.abs(r["dual"].w - r["free"].w).max())) for i, r in inst], 1e-5, "|w_dual - w_primal|"),
        ns.worst_check("b recovered from the support vectors equals the primal b", ns.SOLVER_TEXT,
                       [(i, abs(r["dual"].b - r["free"].b)) for i, r in inst], 1e-5, "|b_dual - b_primal|"),
        ns.worst_check("the dual alpha equals the primal's multipliers of the margin constraints", ns.SOLVER_TEXT,
                       [(i, float(np.abs(r["dual"].alpha - r["free"].alpha).max())) for i, r in inst], 1e-5,
                       "|alpha_dual - alpha_primal|"),
        ns.kkt_check("KKT conditions hold at (w, b, xi) recovered from the dual alpha",
                     [(i, r["kkt_dual"]) for i, r in inst]),
        ns.worst_check("the primal optimum agrees with the scipy oracle", ns.SCIPY_TEXT,
                       [(i, ns._close(r["free"].value, float(r["scipy"].fun))) for i, r in inst], ns.VALUE_TOL,
                       "relative difference"),
    ]
    rows = []
    for name, sw in all_rows:
        for r in sw:
            p, dl = r["free"], r["dual"]
            rows.append([ns._label(name), f"{r['C']:g}", ns._fmt(p.value), ns._fmt(dl.value), f"{p.value - dl.value:.1e}",
                         f"{np.abs(dl.w - p.w).max():.1e}", f"{abs(dl.b - p.b):.1e}", str(dl.n_support),
                         f"{dl.b_spread:.1e}"])
    result.tables.append(Table(
        caption="Primal and dual optima; w and b recovered from alpha: w = sum alpha_i y_i x_i, "
                "b = y_i(1 - alpha_i/C) - w.x_i averaged over the support vectors (alpha_i > 0), with the spread "
                "of those estimates. sep./non-sep.: the separable / non-separable data",
        columns=["data", "C", "primal", "dual", "gap", "|w_D - w_P|", "|b_D - b_P|", "#SV", "b spread"], rows=rows))
    result.summary = "dual: max sum alpha - 1/2||sum alpha_i y_i x_i||^2 - 1/(2C) sum alpha^2, alpha >= 0, sum alpha_i y_i = 0"
    result.verdicts = verdicts
    return result
