"""ist21.q1.1-q1.4: sigmoid, binary and multinomial logistic losses, softmax Jacobian.

Every derivative is derived with SymPy, proved equal to its closed form with
:mod:`theory.equivalence`, and checked against an independent oracle (central
finite differences at 50 digits with mpmath, or ``torch.autograd``). Claims are
parsed with the safe parser and judged with :func:`theory.equivalence.equivalent`.
"""
from __future__ import annotations

import random
from typing import Any, Optional

import mpmath as mp
import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Verdict
from problems.validate import int_param as _int_param
from problems.validate import bool_claim as _bool_claim
from problems.validate import claim_keys
from theory.equivalence import Equivalence, equivalent, equivalent_matrix
from theory.parse import ExprError, parse_expr

CLAIM_SCHEMA = """\
Claims for ist21.q1.1 .. q1.4 (logistic losses); expressions are text in the
safe expression language (+ - * / **, exp, log, sigmoid, tanh, delta, ...).

  ["ist21.q1.1"]                      # sigmoid derivative, in the symbol z
  derivative = "sigmoid(z)*(1 - sigmoid(z))"

  ["ist21.q1.2"]                      # binary logistic loss, in the symbol z
  first_derivative_pos = "sigmoid(z) - 1"         # L'(z; y=+1)
  second_derivative_pos = "sigmoid(z)*(1 - sigmoid(z))"
  first_derivative_neg = "sigmoid(z)"             # L'(z; y=-1)
  second_derivative_neg = "sigmoid(z)*(1 - sigmoid(z))"
  convex = true

  ["ist21.q1.3"]                      # softmax Jacobian, one entry in index form
  jacobian_entry = "p_i*(delta(i, j) - p_j)"      # symbols i, j, p_i, p_j (p_1..p_K also allowed)
  jacobian = "diag(p) - p*p.T"                    # or the full matrix: p is the K x 1 vector softmax(z);
                                                  # p.T transposes, * and @ multiply, diag(p), eye(K)

  ["ist21.q1.4"]                      # multinomial logistic loss for class j (param j)
  gradient = ["exp(z1)/(exp(z1) + exp(z2) + exp(z3)) - 1", "...", "..."]   # in z1..zK
  hessian = "diag(p) - p*p.T"         # the K x K Hessian in z, matrix notation as in q1.3 (p = softmax(z),
                                      # e_j = the j-th unit vector, also p_1..p_K and z1..zK)
  convex = true
"""

FD_POINTS = ("-4", "-1.5", "-0.3", "0", "0.7", "2", "5")
DIGITS = 50


# ---------------------------------------------------------------- helpers

def _z():
    return sp.Symbol("z", real=True)


def _sigma(z):
    return 1 / (1 + sp.exp(-z))


def _parse(claims: dict, key: str, symbols: dict, pid: str, where: Optional[str] = None):
    text = claims[key]
    where = where or f'["{pid}"].{key}'
    if not isinstance(text, str):
        raise InputError(f"{where}: expected an expression as text")
    try:
        e = parse_expr(text, symbols, allow_new_symbols=False)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
        raise InputError(f"{where}: expected one scalar expression")
    return e


def _verdict(claim_text: str, eq: Equivalence, derived_latex: str) -> Verdict:
    if eq.equal is True:
        return Verdict(claim_text, True, eq.evidence)
    if eq.equal is False:
        return Verdict(claim_text, False, eq.evidence, derived_latex)
    return Verdict(claim_text, None, eq.evidence)


def _fd_check(name: str, f, d, z, order: int = 1) -> Check:
    """Compare ``d`` with central differences of ``f`` (order 1 or 2) at 50 digits."""
    fn = sp.lambdify(z, f, "mpmath")
    dn = sp.lambdify(z, d, "mpmath")
    worst = mp.mpf(0)
    with mp.workdps(DIGITS):
        h = mp.mpf("1e-12")
        for t in FD_POINTS:
            x = mp.mpf(t)
            if order == 1:
                fd = (fn(x + h) - fn(x - h)) / (2 * h)
            else:
                fd = (fn(x + h) - 2 * fn(x) + fn(x - h)) / (h * h)
            exact = dn(x)
            worst = max(worst, abs(fd - exact) / max(1, abs(exact)))
    return Check(name, f"central differences, {DIGITS} digits, h = 1e-12", bool(worst < mp.mpf("1e-15")),
                 f"largest relative difference {mp.nstr(worst, 3)} at {len(FD_POINTS)} points in [-4, 5]")


SIGMA_DEF = r"\sigma(z) = \frac{1}{1 + e^{-z}}"
SIGMA_PRIME = r"\sigma(z)\left(1 - \sigma(z)\right)"


# ---------------------------------------------------------------- q1.1

def solve_q1_1(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q1.1"
    z = _z()
    s = _sigma(z)
    result = Result(problem_id=pid, title="Sigmoid derivative", params=dict(params), random_state=0)
    parsed = {}
    if claims:
        claim_keys(claims, {"derivative"}, f'["{pid}"]')
        if "derivative" in claims:
            parsed["derivative"] = _parse(claims, "derivative", {"z": z}, pid)
    d = sp.diff(s, z)
    target = s * (1 - s)
    proof = equivalent(d, target, [z])
    result.steps += [
        Step(text="The sigmoid:", math=SIGMA_DEF),
        Step(text="Differentiate (chain rule on (1 + e^-z)^-1):", rule="chain rule",
             math=r"\sigma'(z) = " + sp.latex(d)),
        Step(text="Split the fraction into the product of two factors:", rule="algebra",
             math=r"\frac{e^{-z}}{(1+e^{-z})^2} = \frac{1}{1+e^{-z}}\cdot\frac{e^{-z}}{1+e^{-z}}"
                  r" = \sigma(z)\left(1 - \frac{1}{1+e^{-z}}\right) = " + SIGMA_PRIME),
        Step(text=f"SymPy confirms the identity ({proof.evidence}).", rule="symbolic verification",
             math=r"\sigma'(z) - " + SIGMA_PRIME + " = 0", gap=proof.method != "exact"),
    ]
    result.summary = "sigma'(z) = sigma(z)(1 - sigma(z))"
    result.checks.append(Check("the proof of step 4: sigma'(z) - sigma(z)(1 - sigma(z)) is 0 (the derivation itself, "
                               "not an independent oracle)", f"SymPy, {proof.method}",
                               proof.equal is True and proof.method == "exact", proof.evidence))
    result.checks.append(_fd_check("sigma(z)(1 - sigma(z)) agrees with finite differences of sigma", s, target, z))
    result.checks.append(_torch_sigmoid_check())
    if "derivative" in parsed:
        eq = equivalent(parsed["derivative"], d, [z])
        result.verdicts.append(_verdict(f"derivative = {claims['derivative']}", eq,
                                        r"\sigma'(z) = " + sp.latex(d)))
    return result


def _torch_sigmoid_check(seed: int = 0, n: int = 200) -> Check:
    """Independent oracle: torch.autograd's derivative of torch.sigmoid against sigma(1 - sigma) at random z."""
    import torch

    z = torch.tensor(np.random.default_rng(seed).normal(scale=4.0, size=n), dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(torch.sigmoid(z).sum(), z)
    s = 1.0 / (1.0 + np.exp(-z.detach().numpy()))
    worst = float(np.max(np.abs(auto.numpy() - s * (1.0 - s))))
    return Check("sigma(z)(1 - sigma(z)) agrees with torch.autograd",
                 f"torch.autograd.grad of torch.sigmoid, float64, {n} random z ~ N(0, 16)", worst < 1e-14,
                 f"largest absolute difference {worst:.2g}")


# ---------------------------------------------------------------- q1.2

def solve_q1_2(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q1.2"
    z = _z()
    s = _sigma(z)
    result = Result(problem_id=pid, title="Binary logistic loss", params=dict(params), random_state=0)
    keys = ("first_derivative_pos", "second_derivative_pos", "first_derivative_neg", "second_derivative_neg")
    parsed = {}
    if claims:
        claim_keys(claims, set(keys) | {"convex"}, f'["{pid}"]')
        for k in keys:
            if k in claims:
                parsed[k] = _parse(claims, k, {"z": z}, pid)
        if "convex" in claims:
            parsed["convex"] = _bool_claim(claims, "convex", pid)
    L = {"pos": -sp.log(s), "neg": -sp.log(1 - s)}
    closed = {"pos": (s - 1, s * (1 - s)), "neg": (s, s * (1 - s))}
    derived = {}
    lneg_form = equivalent(L["neg"], sp.log(1 + sp.exp(z)), [z])
    result.steps.append(Step(text="The losses, with the sigmoid:", math=SIGMA_DEF + r",\quad L(z;+1) = -\log\sigma(z) = "
                             + sp.latex(sp.log(1 + sp.exp(-z))) + r",\quad L(z;-1) = -\log(1-\sigma(z)) = "
                             + sp.latex(sp.log(1 + sp.exp(z)))))
    result.checks.append(Check("-log(1 - sigma(z)) = log(1 + e^z)", lneg_form.method,
                               lneg_form.equal is True, lneg_form.evidence))
    for y, label in (("pos", "+1"), ("neg", "-1")):
        d1, d2 = sp.diff(L[y], z), sp.diff(L[y], z, 2)
        derived[y] = (d1, d2)
        p1 = equivalent(d1, closed[y][0], [z])
        p2 = equivalent(d2, closed[y][1], [z])
        result.steps.append(Step(
            text=f"y = {label}: differentiate with sigma' = sigma(1 - sigma) (ist21.q1.1).", rule="chain rule",
            math=rf"L'(z;{label}) = " + (r"\sigma(z) - 1" if y == "pos" else r"\sigma(z)")
                 + rf",\quad L''(z;{label}) = " + SIGMA_PRIME, gap=not (p1.equal and p2.equal)))
        result.checks.append(Check(f"L'(z;{label}) and L''(z;{label}) equal their closed forms (symbolic)",
                                   p1.method + "/" + p2.method,
                                   p1.equal is True and p2.equal is True and p1.method == p2.method == "exact",
                                   p1.evidence + "; " + p2.evidence))
        result.checks.append(_fd_check(f"L'(z;{label}) agrees with finite differences of L", L[y], closed[y][0], z))
        result.checks.append(_fd_check(f"L''(z;{label}) agrees with second differences of L", L[y], closed[y][1], z,
                                       order=2))
    positive_form = sp.exp(-z) / (1 + sp.exp(-z)) ** 2
    same = equivalent(closed["pos"][1], positive_form, [z])
    positive = bool(positive_form.is_positive) and same.equal is True and same.method == "exact"
    result.steps.append(Step(
        text="Both second derivatives equal sigma(z)(1 - sigma(z)), a quotient of positive terms, so L'' > 0 for "
             "every real z and L is (strictly) convex in z for both labels.", rule="second-derivative test for convexity",
        math=r"L''(z) = " + SIGMA_PRIME + " = " + sp.latex(positive_form) + r" > 0", gap=not positive))
    result.checks.append(Check("L''(z) > 0 for all real z (SymPy sign of e^-z / (1 + e^-z)^2)", "exact",
                               positive, f"SymPy finds it positive for every real z: "
                               f"{'yes' if positive_form.is_positive else 'not decided'}; {same.evidence}"))
    result.summary = "L'(z;+1) = sigma(z) - 1, L'(z;-1) = sigma(z), L'' = sigma(z)(1 - sigma(z)) > 0: convex"
    for k in keys:
        if k in parsed:
            y = k.rsplit("_", 1)[1]
            idx = 0 if k.startswith("first") else 1
            d = derived[y][idx]
            label = "+1" if y == "pos" else "-1"
            eq = equivalent(parsed[k], d, [z])
            result.verdicts.append(_verdict(f"{k} = {claims[k]}", eq,
                                            ("L'" if idx == 0 else "L''") + rf"(z;{label}) = " + sp.latex(sp.simplify(d))))
    if "convex" in parsed:
        if parsed["convex"] and positive:
            result.verdicts.append(Verdict("convex = true", True, "L''(z) = sigma(z)(1 - sigma(z)) > 0 for every real z"))
        elif parsed["convex"]:
            result.verdicts.append(Verdict("convex = true", None, "positivity of L'' was not proved"))
        else:
            result.verdicts.append(Verdict("convex = false", False,
                                           "L is convex: L''(z) = sigma(z)(1 - sigma(z)) > 0 for every real z"))
    return result


# ---------------------------------------------------------------- softmax

def _softmax_symbols(K: int):
    zs = sp.symbols(f"z1:{K + 1}", real=True)
    den = sum(sp.exp(v) for v in zs)
    p = [sp.exp(v) / den for v in zs]
    return list(zs), p


def _softmax_jacobian(K: int):
    zs, p = _softmax_symbols(K)
    J = sp.Matrix(K, K, lambda i, j: sp.diff(p[i], zs[j]))
    P = sp.Matrix(p)
    closed = sp.diag(*p) - P * P.T
    return zs, p, J, closed


def _torch_jacobian_check(K: int, closed, zs, seed: int = 0) -> Check:
    import torch

    rng = np.random.default_rng(seed)
    fn = sp.lambdify([zs], closed, "numpy")
    worst = 0.0
    for _ in range(5):
        z = rng.normal(scale=2.0, size=K)
        auto = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0),
                                                  torch.tensor(z, dtype=torch.float64)).numpy()
        worst = max(worst, float(np.max(np.abs(auto - np.asarray(fn(z), dtype=float)))))
    return Check(f"diag(p) - p p^T agrees with torch.autograd (K = {K})",
                 "torch.autograd.functional.jacobian of torch.softmax, float64, 5 random z ~ N(0, 4)",
                 worst < 1e-12, f"largest absolute difference {worst:.2g}")


def _matrix_claim(claims: dict, key: str, pid: str, K: int, zs, p, jc: Optional[int] = None) -> sp.Matrix:
    """A K x K matrix claim in matrix notation: p (the softmax vector), p_1..p_K, z1..zK, e_j.

    Returns the claim with p = softmax(z) substituted, as a function of z1..zK."""
    text = claims[key]
    where = f'["{pid}"].{key}'
    if not isinstance(text, str):
        raise InputError(f"{where}: expected a matrix expression as text, e.g. \"diag(p) - p*p.T\"")
    pk = [sp.Symbol(f"p_{k}", positive=True) for k in range(1, K + 1)]
    table = {s.name: s for s in pk} | {v.name: v for v in zs}
    mats = {"p": sp.Matrix(pk), "z": sp.Matrix(zs)}
    if jc is not None:
        mats["e_j"] = sp.Matrix([1 if k == jc - 1 else 0 for k in range(K)])
    try:
        m = parse_expr(text, table, allow_new_symbols=False, matrices=mats)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if not isinstance(m, sp.MatrixBase) or m.shape != (K, K):
        shape = f"a {m.rows}x{m.cols} matrix" if isinstance(m, sp.MatrixBase) else "a scalar"
        raise InputError(f"{where}: expected a {K}x{K} matrix (K = {K}), got {shape}")
    return m.subs(dict(zip(pk, p)), simultaneous=True)


def _index_claim(claims: dict, pid: str, K: int):
    i, j = sp.Symbol("i", integer=True), sp.Symbol("j", integer=True)
    pi, pj = sp.Symbol("p_i", positive=True), sp.Symbol("p_j", positive=True)
    pk = [sp.Symbol(f"p_{k}", positive=True) for k in range(1, K + 1)]
    table = {"i": i, "j": j, "p_i": pi, "p_j": pj, **{s.name: s for s in pk}}
    return _parse(claims, "jacobian_entry", table, pid), (i, j, pi, pj, pk)


def _instantiate(expr, syms, p, K: int) -> sp.Matrix:
    i, j, pi, pj, pk = syms

    def entry(a, b):
        subs = {i: a + 1, j: b + 1, pi: p[a], pj: p[b], **{pk[k]: p[k] for k in range(K)}}
        return expr.subs(subs, simultaneous=True)
    return sp.Matrix(K, K, entry)


def _index_symbols():
    z = sp.IndexedBase("z", real=True)
    i, j, m = sp.symbols("i j m", integer=True, positive=True)
    K = sp.Symbol("K", integer=True, positive=True)
    S = sp.Sum(sp.exp(z[m]), (m, 1, K))
    return z, i, j, K, S


def index_form_jacobian():
    """d s_i / d z_j for symbolic K, with SymPy's IndexedBase and Sum (the quotient rule, not typed by hand).

    Returns (derivative, conditions of SymPy's case split, s_i, s_j, (i, j, K)). SymPy splits on whether j lies
    in 1..K; j is an index of z, so the first branch applies."""
    z, i, j, K, S = _index_symbols()
    s_i, s_j = sp.exp(z[i]) / S, sp.exp(z[j]) / S
    g = sp.diff(s_i, z[j]).doit()
    conds = [c for pw in g.atoms(sp.Piecewise) for _, c in pw.args if c is not sp.true]
    g = g.replace(lambda t: isinstance(t, sp.Piecewise), lambda t: t.args[0][0])  # j lies in 1..K
    return g, conds, s_i, s_j, (i, j, K)


def prove_index_form() -> tuple[bool, str, str]:
    """Prove d s_i / d z_j = s_i (delta_ij - s_j) for symbolic K; a wrong form must not simplify to 0."""
    g, conds, s_i, s_j, (i, j, K) = index_form_jacobian()
    in_range = all(c == (K >= j) for c in conds)
    resid = sp.simplify(g - s_i * (sp.KroneckerDelta(i, j) - s_j))
    wrong = sp.simplify(g - s_i * (sp.KroneckerDelta(i, j) - s_i))  # control: s_i in place of s_j
    ok = in_range and resid == 0 and wrong != 0
    detail = (f"for symbolic K and indices i, j: d p_i/d z_j - p_i (delta_ij - p_j) simplifies to "
              f"{sp.sstr(resid)}; SymPy's case split is only on j <= K: {'yes' if in_range else 'no'}; control: "
              f"the wrong form p_i (delta_ij - p_i) leaves a non-zero residual: {'yes' if wrong != 0 else 'no'}")
    return ok, sp.latex(g), detail


def _index_claim_symbolic_K(expr, syms) -> str:
    """A claim in i, j, p_i, p_j only is also compared with SymPy's index-form derivative for symbolic K."""
    i, j, pi, pj, _ = syms
    if not expr.free_symbols <= {i, j, pi, pj}:
        return "it names p_1..p_K, so it is not judged for symbolic K"
    g, _, s_i, s_j, (ii, jj, _) = index_form_jacobian()
    claimed = expr.subs({pi: s_i, pj: s_j, i: ii, j: jj}, simultaneous=True)
    if sp.simplify(claimed - g) == 0:
        return "also proved for symbolic K in index form (SymPy IndexedBase and Sum)"
    return "not proved for symbolic K in index form (SymPy did not simplify the difference to 0)"


def solve_q1_3(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q1.3"
    K = _int_param(params, "K", 3, 2, 6)
    result = Result(problem_id=pid, title="Softmax Jacobian", params={"K": K}, random_state=0)
    parsed = matrix_claim = None
    zs, p, J, closed = _softmax_jacobian(K)
    if claims:
        claim_keys(claims, {"jacobian_entry", "jacobian"}, f'["{pid}"]')
        if "jacobian_entry" in claims:
            parsed = _index_claim(claims, pid, K)
        if "jacobian" in claims:
            matrix_claim = _matrix_claim(claims, "jacobian", pid, K, zs, p)
    proof = equivalent_matrix(J, closed, zs)
    idx_ok, idx_latex, idx_detail = prove_index_form()
    result.steps += [
        Step(text="The softmax, with p_k = softmax(z)_k:",
             math=r"p_i = \frac{e^{z_i}}{\sum_{k=1}^K e^{z_k}}"),
        Step(text="Quotient rule: the numerator depends on z_j only when i = j, the denominator always.",
             rule="quotient rule",
             math=r"\frac{\partial p_i}{\partial z_j} = \frac{\delta_{ij} e^{z_i}\sum_k e^{z_k} - e^{z_i}e^{z_j}}"
                  r"{\left(\sum_k e^{z_k}\right)^2} = p_i(\delta_{ij} - p_j)", gap=not idx_ok),
        Step(text="SymPy, in index form for symbolic K (IndexedBase z, Sum over m = 1..K, indices i, j), "
                  "differentiates p_i with respect to z_j and proves the result equal to p_i(delta_ij - p_j):",
             rule="symbolic verification (index form, symbolic K)",
             math=r"\frac{\partial p_i}{\partial z_j} = " + idx_latex + r" = p_i(\delta_{ij} - p_j)",
             gap=not idx_ok),
        Step(text="In matrix form:", math=r"J = \operatorname{diag}(p) - p\,p^\top"),
        Step(text=f"For K = {K}, SymPy differentiates every entry and confirms J = diag(p) - p p^T ({proof.evidence}).",
             rule="symbolic verification", math=r"J = " + sp.latex(J.applyfunc(sp.factor)) if K <= 2 else
             r"J_{11} = " + sp.latex(sp.factor(J[0, 0])) + r",\quad J_{12} = " + sp.latex(sp.factor(J[0, 1])),
             gap=not (proof.equal is True and proof.method == "exact")),
    ]
    for k in range(2, 6):
        if k == K:
            pr = proof
        else:
            zk, _, Jk, ck = _softmax_jacobian(k)
            pr = equivalent_matrix(Jk, ck, zk)
        result.checks.append(Check(f"dp_i/dz_j = p_i(delta_ij - p_j) for every entry, K = {k} (symbolic)", pr.method,
                                   pr.equal is True and pr.method == "exact", pr.evidence))
    result.checks.append(Check("dp_i/dz_j = p_i(delta_ij - p_j) in index form for symbolic K",
                               "SymPy IndexedBase, Sum, diff, doit, simplify; a wrong form as control", idx_ok,
                               idx_detail))
    result.checks.append(_torch_jacobian_check(K, closed, zs))
    result.summary = "J = diag(p) - p p^T, i.e. dp_i/dz_j = p_i (delta_ij - p_j)"
    if parsed is not None:
        expr, syms = parsed
        claimed = _instantiate(expr, syms, p, K)
        eq = equivalent_matrix(claimed, J, zs)
        if eq.equal is False and eq.entry is not None:
            a, b = eq.entry
            eq.evidence = f"entry i = {a + 1}, j = {b + 1} (K = {K}): " + eq.evidence.split(" ", 3)[-1]
        if eq.equal is True:
            eq.evidence += "; " + _index_claim_symbolic_K(expr, syms)
        result.verdicts.append(_verdict(f"jacobian_entry = {claims['jacobian_entry']}", eq,
                                        r"\frac{\partial p_i}{\partial z_j} = p_i(\delta_{ij} - p_j)"))
    if matrix_claim is not None:
        eq = equivalent_matrix(matrix_claim, J, zs)
        if eq.equal is False and eq.entry is not None:
            a, b = eq.entry
            eq.evidence = f"entry ({a + 1}, {b + 1}) = dp_{a + 1}/dz_{b + 1} (K = {K}): " + eq.evidence.split(" ", 3)[-1]
        result.verdicts.append(_verdict(f"jacobian = {claims['jacobian']}", eq,
                                        r"J = \operatorname{diag}(p) - p\,p^\top"))
    return result


# ---------------------------------------------------------------- q1.4

def _psd_proof(K: int) -> tuple[bool, str]:
    """v^T (diag(p) - p p^T) v = sum p_i v_i^2 - (sum p_i v_i)^2 = sum p_i (v_i - m)^2 when sum p_i = 1."""
    ps = sp.symbols(f"q1:{K + 1}", positive=True)
    vs = sp.symbols(f"v1:{K + 1}", real=True)
    P, V = sp.Matrix(ps), sp.Matrix(vs)
    H = sp.diag(*ps) - P * P.T
    quad = sp.expand((V.T * H * V)[0, 0])
    m = sum(a * b for a, b in zip(ps, vs))
    form = sum(a * b ** 2 for a, b in zip(ps, vs)) - m ** 2
    ok1 = sp.expand(quad - form) == 0
    squares = sum(a * (b - m) ** 2 for a, b in zip(ps, vs))
    on_simplex = {ps[-1]: 1 - sum(ps[:-1])}
    ok2 = sp.expand((squares - form).subs(on_simplex)) == 0
    return ok1 and ok2, (f"K = {K}: v^T H v - (sum p_i v_i^2 - (sum p_i v_i)^2) expands to 0: "
                         f"{'yes' if ok1 else 'no'}; with sum p_i = 1, sum p_i (v_i - m)^2 minus that form expands "
                         f"to 0: {'yes' if ok2 else 'no'}")


def solve_q1_4(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q1.4"
    K = _int_param(params, "K", 3, 2, 6)
    jc = _int_param(params, "j", 1, 1, K)
    result = Result(problem_id=pid, title="Multinomial logistic loss", params={"K": K, "j": jc}, random_state=0)
    zs, p = _softmax_symbols(K)
    parsed = {}
    if claims:
        claim_keys(claims, {"gradient", "hessian", "convex"}, f'["{pid}"]')
        if "hessian" in claims:
            parsed["hessian"] = _matrix_claim(claims, "hessian", pid, K, zs, p, jc)
        if "gradient" in claims:
            g = claims["gradient"]
            if not isinstance(g, list) or len(g) != K:
                raise InputError(f'["{pid}"].gradient: expected a list of {K} expressions as text (K = {K})')
            table = {v.name: v for v in zs}
            parsed["gradient"] = sp.Matrix([_parse({"g": t}, "g", table, pid, f'["{pid}"].gradient[{n}]')
                                            for n, t in enumerate(g)])
        if "convex" in claims:
            parsed["convex"] = _bool_claim(claims, "convex", pid)
    L = -sp.log(p[jc - 1])
    grad = sp.Matrix([sp.diff(L, v) for v in zs])
    H = sp.hessian(L, zs)
    e_j = sp.Matrix([1 if k == jc - 1 else 0 for k in range(K)])
    P = sp.Matrix(p)
    grad_closed = P - e_j
    H_closed = sp.diag(*p) - P * P.T
    gproof = equivalent_matrix(grad, grad_closed, zs)
    hproof = equivalent_matrix(H, H_closed, zs)
    psd = {k: _psd_proof(k) for k in sorted({2, 3, K})}
    psd_ok = all(ok for ok, _ in psd.values())
    result.steps += [
        Step(text="The loss, written with log-sum-exp:",
             math=r"L(z; y=j) = -\log p_j = -z_j + \log\sum_{k=1}^K e^{z_k}"),
        Step(text="Gradient: the derivative of log-sum-exp is the softmax.", rule="chain rule",
             math=r"\nabla_z L = p - e_j"),
        Step(text="Hessian: differentiate p - e_j; the Jacobian of the softmax is diag(p) - p p^T (ist21.q1.3).",
             rule="softmax Jacobian", math=r"\nabla_z^2 L = \operatorname{diag}(p) - p\,p^\top"),
        Step(text=f"For K = {K}, j = {jc}, SymPy confirms both ({gproof.evidence}; {hproof.evidence}).",
             rule="symbolic verification",
             math=r"\nabla_z L = " + sp.latex(grad_closed.applyfunc(sp.factor)),
             gap=not (gproof.equal and hproof.equal and gproof.method == hproof.method == "exact")),
        Step(text="The quadratic form is a variance under the distribution p (Jensen / Cauchy-Schwarz), so H is "
                  "positive semidefinite and L is convex in z. SymPy verifies the sum identities for K = "
                  + ", ".join(str(k) for k in psd) + ".", rule="positive semidefinite Hessian",
             math=r"v^\top \nabla_z^2 L\, v = \sum_i p_i v_i^2 - \Big(\sum_i p_i v_i\Big)^2"
                  r" = \sum_i p_i \Big(v_i - \sum_k p_k v_k\Big)^2 \ge 0", gap=not psd_ok),
    ]
    result.checks.append(Check(f"gradient = p - e_j (symbolic, K = {K}, j = {jc})", gproof.method,
                               gproof.equal is True and gproof.method == "exact", gproof.evidence))
    result.checks.append(Check(f"Hessian = diag(p) - p p^T (symbolic, K = {K})", hproof.method,
                               hproof.equal is True and hproof.method == "exact", hproof.evidence))
    result.checks.append(Check("v^T H v = sum_i p_i (v_i - m)^2 >= 0 (SymPy, symbolic p and v)", "exact expansion",
                               psd_ok, "; ".join(t for _, t in psd.values())))
    result.checks += _torch_loss_checks(K, jc, zs, grad_closed, H_closed)
    result.summary = "grad L = softmax(z) - e_j, Hessian diag(p) - p p^T, positive semidefinite: convex"
    if "gradient" in parsed:
        eq = equivalent_matrix(parsed["gradient"], grad, zs)
        if eq.equal is False and eq.entry is not None:
            eq.evidence = f"component {eq.entry[0] + 1} (dL/dz{eq.entry[0] + 1}): " + eq.evidence.split(" ", 3)[-1]
        result.verdicts.append(_verdict("gradient = [" + ", ".join(claims["gradient"]) + "]", eq,
                                        r"\nabla_z L = " + sp.latex(grad_closed)))
    if "hessian" in parsed:
        eq = equivalent_matrix(parsed["hessian"], H, zs)
        if eq.equal is False and eq.entry is not None:
            a, b = eq.entry
            eq.evidence = (f"entry ({a + 1}, {b + 1}) = d2L/dz{a + 1}dz{b + 1} (K = {K}, j = {jc}): "
                           + eq.evidence.split(" ", 3)[-1])
        result.verdicts.append(_verdict(f"hessian = {claims['hessian']}", eq,
                                        r"\nabla_z^2 L = \operatorname{diag}(p) - p\,p^\top"))
    if "convex" in parsed:
        if parsed["convex"] and psd_ok:
            result.verdicts.append(Verdict("convex = true", True, "the Hessian diag(p) - p p^T is positive semidefinite: "
                                                                  "v^T H v = sum_i p_i (v_i - m)^2 >= 0"))
        elif parsed["convex"]:
            result.verdicts.append(Verdict("convex = true", None, "positive semidefiniteness was not proved"))
        else:
            result.verdicts.append(Verdict("convex = false", False, "L is convex in z: its Hessian diag(p) - p p^T is "
                                                                    "positive semidefinite"))
    return result


def _torch_loss_checks(K, jc, zs, grad_closed, H_closed, seed: int = 0) -> list[Check]:
    import torch

    rng = np.random.default_rng(seed)
    gfn = sp.lambdify([zs], grad_closed, "numpy")
    hfn = sp.lambdify([zs], H_closed, "numpy")

    def loss(t):
        return -torch.log_softmax(t, dim=0)[jc - 1]

    gworst = hworst = 0.0
    min_eig = float("inf")
    for _ in range(8):
        z = rng.normal(scale=2.0, size=K)
        t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(loss(t), t)
        Ha = torch.autograd.functional.hessian(loss, torch.tensor(z, dtype=torch.float64)).numpy()
        gworst = max(gworst, float(np.max(np.abs(g.numpy() - np.asarray(gfn(z), float).ravel()))))
        Hs = np.asarray(hfn(z), float)
        hworst = max(hworst, float(np.max(np.abs(Ha - Hs))))
        min_eig = min(min_eig, float(np.linalg.eigvalsh(Hs).min()))
    how = "torch.autograd on -log_softmax(z)_j, float64, 8 random z ~ N(0, 4)"
    return [
        Check("p - e_j agrees with torch.autograd", how, gworst < 1e-12, f"largest absolute difference {gworst:.2g}"),
        Check("diag(p) - p p^T agrees with the autograd Hessian", how, hworst < 1e-12,
              f"largest absolute difference {hworst:.2g}"),
        Check("Hessian eigenvalues >= -1e-12 at random z", "numpy.linalg.eigvalsh, 8 random z", min_eig >= -1e-12,
              f"smallest eigenvalue {min_eig:.3g}"),
    ]
