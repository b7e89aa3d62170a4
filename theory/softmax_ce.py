"""tau.t4: the gradient of the softmax cross-entropy, grad l_y(w) = softmax(w) - y.

Proved three ways: symbolically for every d in the parameter ``d`` (default
2..8; SymPy differentiates l_y(w) = -sum_j y_j log softmax(w)_j with symbolic y
and the difference to softmax(w) - y cancels exactly once sum_j y_j = 1); in
index form with SymPy's ``IndexedBase`` and a symbolic d (the residual is
(sum_j y_j - 1) s_k); and numerically against ``torch.autograd`` and central
finite differences at random w for every one-hot y.

>>> r = solve_t4({"d": [2, 3]}, {"gradient": "softmax(w) - y"})
>>> r.checks_passed, [v.passed for v in r.verdicts]
(True, [True])
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import claim_keys, text_claim
from theory.equivalence import equivalent_matrix
from theory.parse import FUNCTIONS, ExprError, parse_expr

CLAIM_DIMS = tuple(range(2, 9))   # a claim is compared for d = 2..8 (as the sheet asks) and every one-hot y
SEED = 0

CLAIM_SCHEMA = """\
Claims for tau.t4 (gradient of the softmax cross-entropy), one TOML table:

  ["tau.t4"]
  gradient = "softmax(w) - y"              # vector form
  # or, in index form (component k; sums over j run over 1..d):
  # gradient = "s_k - y_k"
  # gradient = "exp(w_k)/sum_j(exp(w_j)) - y_k"
  # gradient = "-sum_j(y_j*(delta(j, k) - s_k))"

Names: vectors w, y (inside softmax(u), sum(u) = sum of the coordinates, exp(u) coordinate-wise);
components w_k, y_k, s_k = softmax(w)_k (index k = the component, j = a summation index inside
sum_j(...)), w1, y2, s3 for a fixed coordinate; delta(j, k) is the Kronecker delta.
The claim is compared, component by component, with the derived gradient for d = 2, ..., 8
and every one-hot y; a wrong claim is rejected with the point w, the class and both values.
"""


# ---------------------------------------------------------------- the claim language

class _Lang:
    """Symbols and functions of the gradient claim language for one dimension d."""

    def __init__(self, d: int):
        self.d = d
        self.w = list(sp.symbols(f"w1:{d + 1}", real=True))
        self.y = list(sp.symbols(f"y1:{d + 1}", real=True))
        self.s = list(sp.symbols(f"s1:{d + 1}", positive=True))
        self.W, self.Y = sp.Symbol("w", real=True), sp.Symbol("y", real=True)        # vector markers
        self.j, self.k = sp.Symbol("j", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
        self.idx = {f"{f}_{p}": sp.Symbol(f"{f}_{p}", real=True) for f in ("w", "y", "s") for p in ("j", "k")}
        self.S = sum(sp.exp(v) for v in self.w)

    def table(self) -> dict:
        t = {v.name: v for v in self.w + self.y + self.s}
        t.update({f"{v.name[0]}_{v.name[1:]}": v for v in self.w + self.y + self.s})   # w_1 aliases w1
        t.update(self.idx)
        t.update({"w": self.W, "y": self.Y, "j": self.j, "k": self.k})
        return t

    def _fam(self, name: str):
        return {"w": self.w, "y": self.y, "s": self.s}[name]

    def bind(self, e, p: str, m: int):
        """Set the index p (j or k) to m (1-based)."""
        rep = {self.j if p == "j" else self.k: sp.Integer(m)}
        for f in ("w", "y", "s"):
            rep[self.idx[f"{f}_{p}"]] = self._fam(f)[m - 1]
        return e.xreplace(rep)

    def coord(self, e, m: int):
        """Coordinate m of a vector expression in the markers w, y."""
        return e.xreplace({self.W: self.w[m - 1], self.Y: self.y[m - 1]})

    def has_vec(self, e) -> bool:
        return bool(e.free_symbols & {self.W, self.Y})

    def functions(self) -> dict:
        def sum_j(e):
            return sp.Add(*[self.bind(e, "j", m) for m in range(1, self.d + 1)])

        def vsum(e):
            if not self.has_vec(e):
                raise ExprError("sum(u) expects a vector (in w or y); use sum_j(...) for an index sum")
            return sp.Add(*[self.coord(e, m) for m in range(1, self.d + 1)])

        def softmax(e):
            if not self.has_vec(e):
                raise ExprError("softmax(u) expects a vector such as w")
            return sp.exp(e) / vsum(sp.exp(e))

        fns = dict(FUNCTIONS)
        fns.update({"sum_j": sum_j, "sum": vsum, "softmax": softmax})
        return fns

    def claim_vector(self, text: str, where: str) -> sp.Matrix:
        try:
            e = parse_expr(text, self.table(), allow_new_symbols=False, functions=self.functions())
        except ExprError as exc:
            raise InputError(f"{where}: {exc}") from None
        if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
            raise InputError(f"{where}: expected one expression (the gradient, as a vector or its component k)")
        left = e.free_symbols & ({self.j} | {self.idx["w_j"], self.idx["y_j"], self.idx["s_j"]})
        if left:
            raise InputError(f"{where}: index j is used outside sum_j(...)")
        comps = []
        for m in range(1, self.d + 1):
            c = self.coord(self.bind(e, "k", m), m)
            c = c.xreplace({s: sp.exp(v) / self.S for s, v in zip(self.s, self.w)})
            comps.append(c)
        return sp.Matrix(comps)


# ---------------------------------------------------------------- symbolic proofs

def _loss(d: int):
    w = list(sp.symbols(f"w1:{d + 1}", real=True))
    y = list(sp.symbols(f"y1:{d + 1}", real=True))
    S = sum(sp.exp(v) for v in w)
    s = [sp.exp(v) / S for v in w]
    return w, y, s, -sum(yj * sp.log(sj) for yj, sj in zip(y, s))


def prove_dimension(d: int) -> tuple[bool, str]:
    """SymPy: d l / d w_k - (s_k - y_k) cancels to 0 after y_d = 1 - sum_{j<d} y_j, for every k.

    After differentiating, e^{w_m} is renamed to a positive symbol E_m, so the cancellation is
    exact arithmetic on rational functions (fast for d = 8)."""
    w, y, s, l = _loss(d)
    E = sp.symbols(f"E1:{d + 1}", positive=True)
    by_w = dict(zip(w, E))

    def exp_to_E(t):       # exp(sum_m c_m w_m) = prod_m E_m^c_m
        parts = sp.Add.make_args(sp.expand(t.args[0]))
        out = sp.Integer(1)
        for a in parts:
            c, v = a.as_coeff_Mul()
            if v not in by_w:
                return t
            out *= by_w[v] ** c
        return out

    def rename(e):
        return e.replace(lambda t: isinstance(t, sp.exp), exp_to_E)
    on_simplex = {y[-1]: 1 - sum(y[:-1])}
    bad, free_ok = [], True
    for k in range(d):
        diff = rename(sp.diff(l, w[k]) - (s[k] - y[k]))
        if diff.free_symbols & set(w):
            bad.append(k + 1)
            continue
        if sp.cancel(sp.together(diff.subs(on_simplex))) != 0:
            bad.append(k + 1)
        # without the constraint sum y = 1 the difference is (sum y - 1) s_k: the constraint is needed
        if k == 0:
            free_ok = sp.cancel(sp.together(diff - (sum(y) - 1) * rename(s[k]))) == 0
    text = f"d = {d}: all {d} components cancel" if not bad else f"d = {d}: components {bad} do not cancel"
    return not bad and free_ok, text + ("" if free_ok else " (the residual without sum y = 1 is not (sum y - 1) s_1)")


def prove_index_form() -> tuple[bool, str, str]:
    """SymPy with IndexedBase and symbolic d: dl/dw_k - (s_k - y_k) = (sum_j y_j - 1) s_k."""
    w, y = sp.IndexedBase("w", real=True), sp.IndexedBase("y", real=True)
    j, k, m = sp.symbols("j k m", integer=True, positive=True)
    d = sp.Symbol("d", integer=True, positive=True)
    S = sp.Sum(sp.exp(w[m]), (m, 1, d))
    l = -sp.Sum(y[j] * (w[j] - sp.log(S)), (j, 1, d))
    g = sp.diff(l, w[k]).doit()
    conds = [c for pw in g.atoms(sp.Piecewise) for _, c in pw.args if c is not sp.true]
    in_range = all(c == (d >= k) for c in conds)
    g = g.replace(lambda t: isinstance(t, sp.Piecewise), lambda t: t.args[0][0])   # k lies in 1..d
    resid = sp.simplify(g - (sp.exp(w[k]) / S - y[k]))
    expected = (sp.Sum(y[j], (j, 1, d)) - 1) * sp.exp(w[k]) / S
    ok = in_range and sp.simplify(resid - expected) == 0 and resid.subs(sp.Sum(y[j], (j, 1, d)), 1) == 0
    return ok, sp.latex(resid), ("SymPy: dl/dw_k - (s_k - y_k) = (sum_j y_j - 1) s_k "
                                 f"({'confirmed' if ok else 'not confirmed'}; the LaTeX is in the derivation); it "
                                 "vanishes when sum_j y_j = 1. The derivative's only case split is k <= d: "
                                 f"{'yes' if in_range else 'no'}")


# ---------------------------------------------------------------- numeric oracles

def _numeric_checks(dims: list[int]) -> tuple[list[Check], Table]:
    import torch

    rng = np.random.default_rng(SEED)
    auto_worst = fd_worst = 0.0
    rows = []
    for d in dims:
        a_d = f_d = 0.0
        for _ in range(3):
            w0 = rng.normal(scale=2.0, size=d)
            s = np.exp(w0 - w0.max())
            s /= s.sum()
            for c in range(d):
                y = np.zeros(d)
                y[c] = 1.0
                t = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
                loss = -(torch.tensor(y) * torch.log_softmax(t, dim=0)).sum()
                (g,) = torch.autograd.grad(loss, t)
                a_d = max(a_d, float(np.abs(g.numpy() - (s - y)).max()))

                def f(v):
                    z = v - v.max()
                    return -(y * (z - np.log(np.exp(z).sum()))).sum()
                h = 1e-5
                fd = np.array([(f(w0 + h * e) - f(w0 - h * e)) / (2 * h) for e in np.eye(d)])
                f_d = max(f_d, float(np.abs(fd - (s - y)).max()))
        auto_worst, fd_worst = max(auto_worst, a_d), max(fd_worst, f_d)
        rows.append([str(d), str(3 * d), f"{a_d:.1e}", f"{f_d:.1e}"])
    checks = [
        Check("softmax(w) - y agrees with torch.autograd", "torch.autograd.grad of -(y * log_softmax(w)).sum(), "
              f"float64, 3 random w ~ N(0, 4) per d and every one-hot y, d = {dims[0]}..{dims[-1]}",
              auto_worst < 1e-12, f"largest absolute difference {auto_worst:.2g}"),
        Check("softmax(w) - y agrees with central finite differences", "NumPy float64, h = 1e-5, the same points",
              fd_worst < 1e-8, f"largest absolute difference {fd_worst:.2g}"),
    ]
    table = Table(caption=f"Numeric check of grad l_y(w) = softmax(w) - y (random state {SEED}): largest absolute "
                          "difference over random w and every one-hot y",
                  columns=["d", "(w, y) pairs", "vs autograd", "vs finite differences"], rows=rows)
    return checks, table


# ---------------------------------------------------------------- solver

def _dims(params: dict) -> list[int]:
    raw = params.get("d", list(range(2, 9)))
    if not isinstance(raw, list):
        raw = [raw]
    out = []
    for v in raw:
        try:
            if isinstance(v, bool):
                raise ValueError
            v = int(v)
        except (TypeError, ValueError):
            raise InputError(f"parameter d: expected a list of integers, got {v!r}") from None
        if not 2 <= v <= 10:
            raise InputError(f"parameter d: {v} is outside 2..10")
        out.append(v)
    if not out:
        raise InputError("parameter d: expected at least one dimension")
    return sorted(set(out))


def _judge(text: str, pid: str) -> Verdict:
    where = f'["{pid}"].gradient'
    parsed = {d: _Lang(d).claim_vector(text, where) for d in CLAIM_DIMS}   # parse errors first
    numeric = False
    for d in CLAIM_DIMS:
        lang = _Lang(d)
        s = [sp.exp(v) / lang.S for v in lang.w]
        for c in range(d):
            onehot = {v: (1 if m == c else 0) for m, v in enumerate(lang.y)}
            claimed = parsed[d].xreplace(onehot)
            derived = sp.Matrix([s[m] - (1 if m == c else 0) for m in range(d)])
            eq = equivalent_matrix(claimed, derived, lang.w)
            if eq.equal is False:
                return _rejected(text, d, c, eq, parsed[d].xreplace(onehot), derived)
            if eq.equal is None:
                return Verdict(f"gradient = {text}", None, f"d = {d}, y = e_{c + 1}: {eq.evidence}")
            numeric |= eq.method != "exact"
    how = "not proved for every entry; agrees at random points" if numeric else "proved exactly"
    return Verdict(f"gradient = {text}", True,
                   f"{how}: every component equals softmax(w)_k - y_k for d = {CLAIM_DIMS[0]}, ..., "
                   f"{CLAIM_DIMS[-1]} and every one-hot y")


def _rejected(text: str, d: int, c: int, eq, claimed: sp.Matrix, derived: sp.Matrix) -> Verdict:
    """The first differing component: the point and both values in words, the difference as LaTeX."""
    k = eq.entry[0] if eq.entry else 0
    where = f"d = {d}, y = e_{c + 1} (one-hot), component {k + 1}"
    if eq.point:
        at = ", ".join(f"{n[0]}_{n[1:]} = {v}" for n, v in eq.point.items())
        values = ", ".join(f"{lab} = {float(sp.Float(v, 30)):.10g}"
                           for lab, v in (("claimed", eq.claimed_value), ("derived", eq.derived_value))
                           if v is not None)
        text_ev = f"{where}: differs at ({at}): {values}; the difference is shown below"
    else:
        text_ev = f"{where}: the claimed and the derived component differ by the expression shown below"
    diff = sp.simplify(claimed[k] - derived[k])
    lhs = rf"\Big(\text{{claimed}}-\text{{derived}}\Big)_{{{k + 1}}}"
    math = (lhs + "=" + sp.latex(diff) + r",\qquad \text{derived: }\nabla\ell_y(w)=\mathrm{softmax}(w)-y")
    return Verdict(f"gradient = {text}", False, text_ev, math)


def solve_t4(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "tau.t4"
    dims = _dims(params)
    result = Result(problem_id=pid, title="Softmax cross-entropy gradient", params={"d": dims}, random_state=SEED)
    verdict = None
    if claims:
        claim_keys(claims, ("gradient",), f'["{pid}"]')
        if "gradient" in claims:
            verdict = _judge(text_claim(claims, "gradient", pid), pid)
    idx_ok, idx_tex, idx_detail = prove_index_form()
    proofs = {d: prove_dimension(d) for d in dims}
    all_ok = all(ok for ok, _ in proofs.values())
    result.steps += [
        Step(text="With s = softmax(w), the logarithm of s_j is w_j minus the log-sum-exp of w, so the loss is",
             math=r"\ell_y(w)=-\sum_{j=1}^d y_j\log s_j=-\sum_{j=1}^d y_j w_j+\Big(\sum_{j=1}^d y_j\Big)"
                  r"\log\sum_{m=1}^d e^{w_m}", rule="definition of the softmax"),
        Step(text="Differentiate log s_j with respect to w_k (the derivative of log-sum-exp is the softmax):",
             math=r"\frac{\partial\log s_j}{\partial w_k}=\delta_{jk}-\frac{e^{w_k}}{\sum_m e^{w_m}}=\delta_{jk}-s_k",
             rule="chain rule"),
        Step(text="Sum over j and use that y is one-hot, so sum_j y_j = 1:",
             math=r"\frac{\partial\ell_y}{\partial w_k}=-\sum_{j=1}^d y_j(\delta_{jk}-s_k)=-y_k+s_k\sum_{j=1}^d y_j"
                  r"=s_k-y_k", rule="linearity; sum of a one-hot vector", gap=not idx_ok),
        Step(text="SymPy (IndexedBase, symbolic d) finds the residual below, zero exactly when sum_j y_j = 1:",
             math=r"\frac{\partial\ell_y}{\partial w_k}-(s_k-y_k)=" + idx_tex, rule="symbolic verification",
             gap=not idx_ok),
        Step(text=f"In vector form, checked by SymPy for d = {', '.join(map(str, dims))} (with symbolic y, the "
                  "difference is (sum_j y_j - 1) softmax(w), zero on one-hot y):",
             math=r"\nabla\ell_y(w)=\mathrm{softmax}(w)-y", rule="symbolic verification", gap=not all_ok),
    ]
    result.checks.append(Check("index form: dl/dw_k = -sum_j y_j (delta_jk - s_k) = s_k - y_k (symbolic d)",
                               "SymPy IndexedBase, Sum, diff, simplify", idx_ok, idx_detail))
    result.checks.append(Check(f"grad l_y = softmax(w) - y exactly, d = {', '.join(map(str, dims))}",
                               "SymPy diff and cancel, symbolic y with sum y = 1", all_ok,
                               "; ".join(detail for _, detail in proofs.values())))
    num_checks, table = _numeric_checks(dims)
    result.checks += num_checks
    result.tables.append(table)
    result.summary = "grad l_y(w) = softmax(w) - y (uses sum_j y_j = 1)"
    if verdict:
        result.verdicts.append(verdict)
    return result
