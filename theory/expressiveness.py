"""ist21.q3.2a and ist23.q1.2a: expressiveness of MLPs, and the expressiveness-vs-convexity claim.

* A linear MLP (any depth, symbolic weights) collapses to one affine map:
  W_eff = W_L ... W_1, b_eff = sum_l W_L ... W_{l+1} b_l, proved with SymPy.
* XOR is not linearly separable (LP + Farkas certificate verified exactly,
  :mod:`numerics.separability`), and a ReLU MLP with two hidden units fits it
  exactly (verified on every point in rational arithmetic).
* ist23.q1.2a combines this with :mod:`theory.convexity` (logistic regression is
  convex in W; an MLP is not).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Optional

import sympy as sp

from numerics import separability as sep
from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import bool_claim as _bool
from problems.validate import claim_keys
from theory import convexity as cvx
from theory.equivalence import equivalent, equivalent_matrix
from theory.parse import ExprError, parse_expr, parse_number

CLAIM_SCHEMA = """\
Claims for ist21.q3.2a (expressiveness), one TOML table:

  ["ist21.q3.2a"]
  linear_mlp_collapses = true            # a linear-activation MLP is one affine map
  W_eff = "W3*W2*W1"                     # the effective map of the depth-L linear MLP (param depth, default 3)
  b_eff = "W3*W2*b1 + W3*b2 + b3"        #   in the matrices W1..WL, b1..bL (matrix notation: *, @, .T)
  xor_separable = false                  # is XOR linearly separable?
  xor_network = { W = [[1, -1], [-1, 1]], c = [0, 0], v = [1, 1], v0 = -1 }
      # h(x) = v . relu(W x + c) + v0 must have sign y_n at every XOR point x_n in {-1,+1}^2
      # (y = +1 when x_1 != x_2); entries are numbers or exact text ("1/2")

Claims for ist23.q1.2a (the statement "logistic regression is less expressive than a ReLU MLP, but
easier to train because its problem is convex"):

  ["ist23.q1.2a"]
  statement = true               # your verdict on the whole statement
  logistic_convex = true         # the logistic-regression loss is convex in W
  mlp_convex = false             # the MLP loss is convex in its parameters
  mlp_more_expressive = true     # a ReLU MLP can fit data that no linear classifier fits
"""

XOR_X = [[-1, -1], [-1, 1], [1, -1], [1, 1]]
XOR_Y = [-1, 1, 1, -1]  # +1 when x_1 != x_2
REFERENCE_XOR = {"W": [[1, -1], [-1, 1]], "c": [0, 0], "v": [1, 1], "v0": -1}


# ---------------------------------------------------------------- linear MLP collapse

def linear_mlp(depth: int, widths: list[int]):
    """Symbolic W_l (widths[l] x widths[l-1]) and b_l; returns (Ws, bs, x, f(x))."""
    x = sp.Matrix(widths[0], 1, lambda i, _: sp.Symbol(f"x{i + 1}", real=True))
    Ws, bs = [], []
    h = x
    for l in range(1, depth + 1):
        W = sp.Matrix(widths[l], widths[l - 1],
                      lambda i, j, l=l: sp.Symbol(f"w{l}_{i + 1}{j + 1}", real=True))
        b = sp.Matrix(widths[l], 1, lambda i, _, l=l: sp.Symbol(f"b{l}_{i + 1}", real=True))
        Ws.append(W)
        bs.append(b)
        h = W * h + b  # linear activation: identity
    return Ws, bs, x, h


def effective_map(Ws, bs):
    """W_eff = W_L ... W_1 and b_eff = sum_l W_L ... W_{l+1} b_l."""
    W_eff = sp.eye(Ws[0].cols)
    for W in Ws:
        W_eff = W * W_eff
    b_eff = sp.zeros(Ws[-1].rows, 1)
    for l, b in enumerate(bs):
        P = sp.eye(b.rows)
        for W in Ws[l + 1:]:
            P = W * P
        b_eff += P * b
    return W_eff, b_eff


def _widths(depth: int, width: int) -> list[int]:
    return [2] + [width] * (depth - 1) + [1]


def collapse_evidence(depth: int, width: int) -> tuple[list[Step], list[Check], dict]:
    proofs = {}
    for L in range(1, depth + 1):
        Ws, bs, x, f = linear_mlp(L, _widths(L, width))
        W_eff, b_eff = effective_map(Ws, bs)
        syms = sorted(f.free_symbols | x.free_symbols, key=lambda s: s.name)
        proofs[L] = (equivalent_matrix(f, W_eff * x + b_eff, syms), Ws, bs, x, W_eff, b_eff)
    ok = all(p[0].equal is True and p[0].method == "exact" for p in proofs.values())
    _, Ws, bs, x, W_eff, b_eff = proofs[depth]
    steps = [
        Step(text="A multi-layer perceptron with linear (identity) activations applies one affine map per layer:",
             math=r"h_0 = x,\qquad h_l = W_l h_{l-1} + b_l\quad (l = 1,\dots,L)", rule="definition"),
        Step(text="Substituting layer by layer (induction on L) gives a single affine map:",
             math=r"h_L = \underbrace{W_L\cdots W_1}_{W_{\mathrm{eff}}}\,x + \underbrace{\sum_{l=1}^{L} W_L\cdots "
                  r"W_{l+1}\,b_l}_{b_{\mathrm{eff}}}",
             rule="composition of affine maps"),
        Step(text=f"SymPy checks it with symbolic weights, input 2, hidden width {width}, output 1, for depths "
                  f"1..{depth}: " + "; ".join(f"L = {L}: {p[0].evidence}" for L, p in proofs.items())
                  + f". For L = {depth}:",
             math=r"W_{\mathrm{eff}} = " + sp.latex(W_eff.applyfunc(sp.factor)) if depth <= 2
             else r"W_{\mathrm{eff}} = " + r"".join(f"W_{l}" for l in range(depth, 0, -1))
             + r"\in\mathbb{R}^{1\times 2},\quad (W_{\mathrm{eff}})_{11} = \sum_{i,j} (W_3)_{1i}(W_2)_{ij}(W_1)_{j1}"
             if depth == 3 else r"W_{\mathrm{eff}}\in\mathbb{R}^{1\times 2}",
             rule="symbolic verification", gap=not ok),
        Step(text="So a linear MLP has exactly the decision boundaries of one perceptron (a hyperplane), whatever its "
                  "depth and width; the hidden layers add no expressive power. Non-linear activations break this "
                  "collapse.", rule="consequence"),
    ]
    checks = [Check(f"linear MLP = W_eff x + b_eff (symbolic weights, depths 1..{depth})",
                    "SymPy, equivalent_matrix (exact expansion)", ok,
                    "; ".join(f"L = {L}: {p[0].evidence}" for L, p in proofs.items()))]
    # independent oracle: a numeric forward pass with random rational weights
    import random
    rng = random.Random(0)
    subs = {s: sp.Rational(rng.randint(-9, 9), rng.randint(1, 5))
            for M in Ws + bs + [x] for s in M}
    f_num = x
    for W, b in zip(Ws, bs):
        f_num = W.subs(subs) * f_num.subs(subs) + b.subs(subs)
    eff_num = W_eff.subs(subs) * x.subs(subs) + b_eff.subs(subs)
    checks.append(Check("layer-by-layer forward pass = W_eff x + b_eff at random rational weights",
                        "exact rational arithmetic", f_num == eff_num, f"forward = {list(f_num)}, "
                                                                          f"affine = {list(eff_num)}"))
    return steps, checks, {"Ws": Ws, "bs": bs, "W_eff": W_eff, "b_eff": b_eff}


def _effective_claim(claims, key, pid, info) -> Verdict:
    text = claims[key]
    where = f'["{pid}"].{key}'
    if not isinstance(text, str):
        raise InputError(f"{where}: expected a matrix expression as text, e.g. \"W2*W1\"")
    L = len(info["Ws"])
    mats = {f"W{l + 1}": W for l, W in enumerate(info["Ws"])} | {f"b{l + 1}": b for l, b in enumerate(info["bs"])}
    try:
        m = parse_expr(text, {}, allow_new_symbols=False, matrices=mats)
    except ExprError as exc:
        raise InputError(f"{where}: {exc} (names: {', '.join(mats)})") from None
    derived = info["W_eff"] if key == "W_eff" else info["b_eff"]
    if not isinstance(m, sp.MatrixBase):
        m = sp.Matrix([[m]])
    if m.shape != derived.shape:
        return Verdict(f"{key} = {text}", False, f"shape {m.rows}x{m.cols}; the depth-{L} network's {key} is "
                                                 f"{derived.rows}x{derived.cols}")
    syms = sorted(derived.free_symbols | m.free_symbols, key=lambda s: s.name)
    eq = equivalent_matrix(m, derived, syms)
    tex = r"W_{\mathrm{eff}} = W_L\cdots W_1" if key == "W_eff" else \
        r"b_{\mathrm{eff}} = \sum_l W_L\cdots W_{l+1} b_l"
    if eq.equal is True:
        return Verdict(f"{key} = {text}", True, eq.evidence)
    if eq.equal is False:
        return Verdict(f"{key} = {text}", False, f"(depth {L}) " + eq.evidence, tex)
    return Verdict(f"{key} = {text}", None, eq.evidence)


# ---------------------------------------------------------------- XOR

def _fr(v) -> Fraction:
    e = parse_number(v) if not isinstance(v, Fraction) else v
    if isinstance(e, Fraction):
        return e
    if not e.is_Rational:
        raise ExprError(f"expected a rational number, got {sp.sstr(e)}")
    return Fraction(int(e.p), int(e.q))


def relu_net_outputs(net: dict, X) -> list[Fraction]:
    """h(x) = v . relu(W x + c) + v0 in exact rational arithmetic."""
    out = []
    for x in X:
        pre = [sum((w * xi for w, xi in zip(row, x)), Fraction(0)) + c for row, c in zip(net["W"], net["c"])]
        out.append(sum((vi * max(Fraction(0), a) for vi, a in zip(net["v"], pre)), Fraction(0)) + net["v0"])
    return out


def parse_relu_net(raw: Any, where: str, D: int = 2) -> dict:
    if not isinstance(raw, dict) or set(raw) != {"W", "c", "v", "v0"}:
        raise InputError(f"{where}: expected a table with exactly W, c, v, v0")
    try:
        W = raw["W"]
        if not isinstance(W, list) or not W or any(not isinstance(r, list) or len(r) != D for r in W):
            raise InputError(f"{where}.W: expected a list of rows with {D} entries each")
        if len(W) > 64:
            raise InputError(f"{where}.W: at most 64 hidden units")
        H = len(W)
        net = {"W": [[_fr(a) for a in r] for r in W]}
        for k in ("c", "v"):
            if not isinstance(raw[k], list) or len(raw[k]) != H:
                raise InputError(f"{where}.{k}: expected {H} entries (one per hidden unit)")
            net[k] = [_fr(a) for a in raw[k]]
        if isinstance(raw["v0"], list):
            raise InputError(f"{where}.v0: expected one number")
        net["v0"] = _fr(raw["v0"])
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    return net


def xor_evidence() -> tuple[list[Step], list[Check], list[Table], dict]:
    d = sep.decide(XOR_X, XOR_Y)
    cert_ok, cert_why = sep.verify_certificate(XOR_X, XOR_Y, d.certificate) if d.certificate else (False, "none")
    ref = parse_relu_net(REFERENCE_XOR, "reference")
    out = relu_net_outputs(ref, XOR_X)
    fits = all(o * y > 0 for o, y in zip(out, XOR_Y))
    u = sp.Symbol("u", real=True)
    ident = equivalent(sp.Max(0, u) - sp.Max(0, -u), u, [u])
    lam = d.certificate or []
    steps = [
        Step(text="XOR on {-1,+1}^2 (label +1 when the coordinates differ). A perceptron fits it only if the LP "
                  "y_n (w.x_n + b) >= 1 is feasible; it is not, and a Farkas certificate proves it (found by LP, "
                  "verified exactly in rationals):",
             math=r"\sum_n\lambda_n y_n\begin{bmatrix}x_n\\1\end{bmatrix} = 0,\ \lambda = ("
                  + ", ".join(str(a) for a in lam) + r")\ \Rightarrow\ 0 = \sum_n \lambda_n y_n(w^\top x_n + b) "
                  r"\ge \sum_n\lambda_n > 0",
             rule="Farkas' lemma", gap=not cert_ok),
        Step(text="A ReLU MLP with two hidden units fits XOR exactly: h(x) = y on every point, checked in exact "
                  "arithmetic.", math=r"h(x) = \operatorname{relu}(x_1 - x_2) + \operatorname{relu}(x_2 - x_1) - 1"
                                      r" = |x_1 - x_2| - 1", rule="explicit network", gap=not fits),
        Step(text="Every linear function is also a ReLU network (relu(u) - relu(-u) = u, proved region by region), so "
                  "one-hidden-layer ReLU MLPs contain the linear classifiers and strictly more: XOR is the limitation "
                  "of the perceptron they overcome. With linear activations they collapse to one affine map and "
                  "XOR stays out of reach.",
             math=r"\operatorname{relu}(u) - \operatorname{relu}(-u) = u", rule="containment", gap=ident.equal is not True),
    ]
    checks = [
        Check("XOR is not linearly separable", "HiGHS LP + exact Fraction check of the Farkas certificate",
              (not d.separable) and cert_ok, cert_why),
        Check("the reference ReLU network classifies every XOR point correctly", "exact rational forward pass",
              fits, "h(x_n) = " + ", ".join(str(o) for o in out) + " with labels " + ", ".join(map(str, XOR_Y))),
        Check("relu(u) - relu(-u) = u", "theory.equivalence, region by region", ident.equal is True, ident.evidence),
    ]
    table = Table(caption="XOR: labels, Farkas certificate and the ReLU network's output",
                  columns=["x", "y", "lambda", "h(x)"],
                  rows=[[f"({x[0]:+d}, {x[1]:+d})", f"{y:+d}", str(l), str(o)]
                        for x, y, l, o in zip(XOR_X, XOR_Y, lam, out)])
    return steps, checks, [table], {"decision": d, "cert_ok": cert_ok, "fits": fits}


def xor_network_verdict(raw, pid: str) -> Verdict:
    net = parse_relu_net(raw, f'["{pid}"].xor_network')
    out = relu_net_outputs(net, XOR_X)
    for x, y, o in zip(XOR_X, XOR_Y, out):
        if o * y <= 0:
            return Verdict("xor_network", False, f"first failing input x = ({x[0]:+d}, {x[1]:+d}): h(x) = {o}, "
                                                 f"label y = {y:+d} (need y * h(x) > 0)")
    return Verdict("xor_network", True, "exact: y_n h(x_n) > 0 on all 4 points; h = ("
                   + ", ".join(str(o) for o in out) + ")")


# ---------------------------------------------------------------- solvers

def _bool_verdict(key: str, said: bool, truth: bool, ok: bool, why_true: str, why_false: str) -> Verdict:
    claim = f"{key} = {str(said).lower()}"
    if not ok:
        return Verdict(claim, None, "the solver's own evidence for this part failed")
    if said == truth:
        return Verdict(claim, True, why_true)
    return Verdict(claim, False, why_false)


def solve_q3_2a(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q3.2a"
    depth = cvx._int_param(params, "depth", 3, 1, 5)
    width = cvx._int_param(params, "width", 2, 1, 4)
    if claims:
        claim_keys(claims, {"linear_mlp_collapses", "W_eff", "b_eff", "xor_separable", "xor_network"}, f'["{pid}"]')
        for k in ("linear_mlp_collapses", "xor_separable"):
            if k in claims:
                _bool(claims, k, pid)
    r = Result(problem_id=pid, title="Expressiveness", params={"depth": depth, "width": width}, random_state=0,
               data={"dataset": "XOR on {-1,+1}^2 (4 points)"})
    s1, c1, info = collapse_evidence(depth, width)
    s2, c2, t2, xinfo = xor_evidence()
    r.steps += s1 + s2
    r.checks += c1 + c2
    r.tables += t2
    r.summary = ("a linear MLP collapses to W_eff x + b_eff (one perceptron); XOR is not linearly separable "
                 "(exact Farkas certificate) but a 2-unit ReLU MLP fits it")
    collapse_ok = c1[0].passed and c1[1].passed
    if claims:
        if "linear_mlp_collapses" in claims:
            r.verdicts.append(_bool_verdict("linear_mlp_collapses", claims["linear_mlp_collapses"], True, collapse_ok,
                                            "proved: h_L = W_eff x + b_eff for symbolic weights",
                                            "a linear MLP is one affine map: h_L = W_L...W_1 x + sum_l W_L...W_{l+1} "
                                            "b_l (proved with SymPy)"))
        for k in ("W_eff", "b_eff"):
            if k in claims:
                r.verdicts.append(_effective_claim(claims, k, pid, info))
        if "xor_separable" in claims:
            lam = ", ".join(str(a) for a in xinfo["decision"].certificate or [])
            r.verdicts.append(_bool_verdict("xor_separable", claims["xor_separable"], False, xinfo["cert_ok"],
                                            f"Farkas certificate lambda = ({lam}) verified exactly",
                                            f"not separable: lambda = ({lam}) gives sum lambda_n y_n (x_n, 1) = 0 "
                                            f"with lambda >= 0, sum lambda > 0"))
        if "xor_network" in claims:
            r.verdicts.append(xor_network_verdict(claims["xor_network"], pid))
    return r


def solve_claim_2023(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist23.q1.2a"
    K = cvx._int_param(params, "K", 4, 2, 10)
    D = cvx._int_param(params, "D", 3, 1, 20)
    keys = ("statement", "logistic_convex", "mlp_convex", "mlp_more_expressive")
    if claims:
        claim_keys(claims, set(keys), f'["{pid}"]')
        for k in keys:
            if k in claims:
                _bool(claims, k, pid)
    r = Result(problem_id=pid, title="Claim: expressiveness vs convexity", params={"K": K, "D": D}, random_state=0,
               data={"dataset": "synthetic: random Gaussian points (seed 0); XOR on {-1,+1}^2"})
    r.steps.append(Step(text="The statement has three parts, each checked below: (1) the logistic-regression loss is "
                             "convex in W; (2) the MLP loss is not convex; (3) a ReLU MLP is strictly more expressive "
                             "than a linear classifier. Pixel features x play the role of phi(x); the bias is the "
                             "weight of a constant-1 feature.", rule="plan"))
    r.steps.append(Step(text="(1) Logistic regression.", rule="part 1"))
    s1, c1 = cvx.affine_steps(K, D)
    r.steps += s1
    r.steps.append(Step(text="(2) The MLP.", rule="part 2"))
    s2, c2, t2, f2, j = cvx.network_steps(K, D)
    r.steps += s2
    r.steps.append(Step(text="(3) Expressiveness.", rule="part 3"))
    s3, c3, t3, xinfo = xor_evidence()
    r.steps += s3
    r.steps.append(Step(text="Conclusion: every part holds, so the statement is true. Convexity is what makes "
                             "training easier: every local minimum of a convex loss is global, so (stochastic) "
                             "gradient descent with suitable step sizes reaches the optimal loss from any "
                             "initialisation, while the MLP's loss has symmetric, separated minima (part 2) and "
                             "training depends on the initialisation.",
                        rule="convex optimisation: local minima are global"))
    r.checks += c1 + c2 + c3
    r.tables += t2 + t3
    r.figures += f2
    ok1, ok2, ok3 = all(c.passed for c in c1), all(c.passed for c in c2), all(c.passed for c in c3)
    r.summary = "true: logistic regression is convex in W (PSD Kronecker Hessian), the MLP is not (midpoint " \
                "counter-example), and a ReLU MLP fits XOR, which an LP certificate proves no linear classifier can"
    if claims:
        gap = cvx.mp.nstr(j["gap_num"], 12)
        texts = {
            "statement": (True, ok1 and ok2 and ok3, "all three parts hold (see the checks)",
                          "the statement is true: logistic regression is convex, the MLP is not, and the MLP fits "
                          "XOR, which no linear classifier can"),
            "logistic_convex": (True, ok1, "Hessian (diag(p) - p p^T) kron x x^T is PSD",
                                "the Hessian in W is (diag(p) - p p^T) kron x x^T, PSD: convex"),
            "mlp_convex": (False, ok2, f"not convex: midpoint of two hidden-unit permutations is higher by {gap}",
                           f"not convex: two hidden-unit permutations have equal losses and their midpoint is "
                           f"higher by {gap}"),
            "mlp_more_expressive": (True, ok3, "a 2-unit ReLU MLP fits XOR; an exact Farkas certificate shows no "
                                               "linear classifier does",
                                    "a 2-unit ReLU MLP fits XOR, which is not linearly separable (exact Farkas "
                                    "certificate), and relu(u) - relu(-u) = u embeds every linear model"),
        }
        for k in keys:
            if k in claims:
                truth, ok, yes, no = texts[k]
                r.verdicts.append(_bool_verdict(k, claims[k], truth, ok, yes, no))
    return r
