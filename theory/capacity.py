"""hertie.1.4: a one-hidden-layer, 2-unit network that is a logistic regression in x1*x2.

The network on (x1, x2) with hidden activation g, output activation o, hidden
weights V (2 x 2), hidden biases c, output weights u and output bias u0 is

    F(x1, x2) = o(u0 + u1 g(c1 + V11 x1 + V12 x2) + u2 g(c2 + V21 x1 + V22 x2)).

The target is sigma(beta0 + beta1 x1 x2) with symbolic beta0, beta1. A claim
(g, o, V, c, u, u0, expressions in beta0 and beta1) is proved identically equal
to the target by SymPy (first the logit, when o is the sigmoid; then the whole
output), or refuted with the residual and a counter-example point. The
reference construction g(z) = z^2, units x1 + x2 and x1 - x2, output weights
beta1/4 and -beta1/4, bias beta0, o = sigmoid, goes through the same checker,
and a torch forward pass of that network is the numeric oracle.

>>> r = solve({}, None)
>>> r.checks_passed
True
"""
from __future__ import annotations

import random
from typing import Any, Optional

import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Verdict
from problems.validate import claim_keys
from theory.equivalence import equivalent
from theory.parse import FUNCTIONS, ExprError, parse_expr

PID = "hertie.1.4"

CLAIM_SCHEMA = """\
Claims for hertie.1.4 (network capacity). The network is
  F(x1, x2) = o(u0 + u1*g(c1 + V11*x1 + V12*x2) + u2*g(c2 + V21*x1 + V22*x2)).
g and o are expressions in z; the weights are expressions in beta0 and beta1
(or TOML numbers). The claim must make F identically sigmoid(beta0 + beta1*x1*x2).

  ["hertie.1.4"]
  g = "z**2"                                  # hidden activation
  o = "sigmoid(z)"                            # output activation
  hidden_weights = [["1", "1"], ["1", "-1"]]  # row j: the weights of hidden unit j on (x1, x2)
  hidden_biases = ["0", "0"]
  output_weights = ["beta1/4", "-beta1/4"]
  output_bias = "beta0"

All six keys are required together. Functions: sigmoid, exp, log, tanh, relu,
softplus, ...; no other Python is accepted.
"""

KEYS = ("g", "o", "hidden_weights", "hidden_biases", "output_weights", "output_bias")


def _syms():
    return {n: sp.Symbol(n, real=True) for n in ("x1", "x2", "beta0", "beta1", "z")}


def sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def softplus(z):
    return sp.log(1 + sp.exp(z))


_FUNCS = {**FUNCTIONS, "softplus": softplus}


def network(g, o, V, c, u, u0):
    """F(x1, x2) as a SymPy expression, and its pre-activation logit u0 + u.h."""
    s = _syms()
    z = s["z"]
    h = [g.subs(z, c[j] + V[j][0] * s["x1"] + V[j][1] * s["x2"]) for j in range(2)]
    logit = u0 + u[0] * h[0] + u[1] * h[1]
    return o.subs(z, logit), logit, h


def target():
    s = _syms()
    return sigmoid(s["beta0"] + s["beta1"] * s["x1"] * s["x2"]), s["beta0"] + s["beta1"] * s["x1"] * s["x2"]


def reference():
    """The project's construction: g = z^2, units x1 + x2 and x1 - x2, weights beta1/4 and -beta1/4."""
    s = _syms()
    b0, b1 = s["beta0"], s["beta1"]
    return dict(g=s["z"] ** 2, o=sigmoid(s["z"]), V=[[1, 1], [1, -1]], c=[0, 0], u=[b1 / 4, -b1 / 4], u0=b0)


# ---------------------------------------------------------------- claims

def _expr(text: Any, where: str, names: tuple[str, ...]) -> sp.Expr:
    s = _syms()
    if isinstance(text, bool):
        raise InputError(f"{where}: expected an expression, got a boolean")
    if isinstance(text, (int, float)):
        text = repr(text)
    if not isinstance(text, str):
        raise InputError(f"{where}: expected an expression as text or a number")
    try:
        e = parse_expr(text, {n: s[n] for n in names}, allow_new_symbols=False, functions=_FUNCS)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
        raise InputError(f"{where}: expected one scalar expression")
    return e


def _vector(value: Any, where: str, n: int) -> list[sp.Expr]:
    if not isinstance(value, list) or len(value) != n:
        raise InputError(f"{where}: expected a list of {n} expressions (the network has 2 hidden units)")
    return [_expr(v, f"{where}[{k}]", ("beta0", "beta1")) for k, v in enumerate(value)]


def parse_claims(claims: dict) -> dict:
    where = f'["{PID}"]'
    claim_keys(claims, KEYS, where)
    missing = [k for k in KEYS if k not in claims]
    if missing:
        raise InputError(f"{where}: missing key(s) {', '.join(missing)}; the network needs all six")
    V = claims["hidden_weights"]
    if not isinstance(V, list) or len(V) != 2:
        raise InputError(f"{where}.hidden_weights: expected 2 rows (one per hidden unit) of 2 weights (x1, x2)")
    return dict(
        g=_expr(claims["g"], f"{where}.g", ("z",)), o=_expr(claims["o"], f"{where}.o", ("z",)),
        V=[_vector(row, f"{where}.hidden_weights[{j}]", 2) for j, row in enumerate(V)],
        c=_vector(claims["hidden_biases"], f"{where}.hidden_biases", 2),
        u=_vector(claims["output_weights"], f"{where}.output_weights", 2),
        u0=_expr(claims["output_bias"], f"{where}.output_bias", ("beta0", "beta1")))


def _claim_text(claims: dict) -> str:
    return (f"g = {claims['g']}, o = {claims['o']}, hidden_weights = {claims['hidden_weights']}, "
            f"hidden_biases = {claims['hidden_biases']}, output_weights = {claims['output_weights']}, "
            f"output_bias = {claims['output_bias']}")


def prove(net: dict):
    """Prove F == sigma(beta0 + beta1 x1 x2). Returns (Equivalence, route text, logit residual or None)."""
    s = _syms()
    F, logit, _ = network(**net)
    T, T_logit = target()
    names = [s["x1"], s["x2"], s["beta0"], s["beta1"]]
    o_is_sigmoid = equivalent(net["o"], sigmoid(s["z"]), [s["z"]])
    residual = None
    if o_is_sigmoid.equal is True and o_is_sigmoid.method == "exact":
        # sigma is injective, so F == target iff the logits agree
        lg = equivalent(logit, T_logit, names)
        residual = sp.expand(logit - T_logit)
        if lg.equal is True and lg.method == "exact":
            return lg, "o is the sigmoid (proved), so it suffices that the logits agree: " + lg.evidence, residual
    eq = equivalent(F, T, names)
    return eq, eq.evidence, residual


def _numeric_spot_check(net: dict, n: int = 30, seed: int = 0) -> tuple[float, Optional[dict]]:
    """Evaluate the network with torch (float64) and compare with torch.sigmoid(beta0 + beta1 x1 x2)."""
    import torch

    from theory.activation_gradient import to_torch

    s = _syms()
    rng = random.Random(seed)
    worst, where = 0.0, None
    for _ in range(n):
        p = {k: rng.uniform(-2, 2) for k in ("x1", "x2", "beta0", "beta1")}
        env = {s[k]: torch.tensor(v, dtype=torch.float64) for k, v in p.items()}
        V = torch.stack([torch.stack([_t(to_torch(sp.sympify(w), env)) for w in row]) for row in net["V"]])
        c = torch.stack([_t(to_torch(sp.sympify(v), env)) for v in net["c"]])
        u = torch.stack([_t(to_torch(sp.sympify(v), env)) for v in net["u"]])
        u0 = _t(to_torch(sp.sympify(net["u0"]), env))
        x = torch.tensor([p["x1"], p["x2"]], dtype=torch.float64)
        pre = V @ x + c  # (2,)
        h = torch.stack([_t(to_torch(net["g"], {s["z"]: pre[j]})) for j in range(2)])
        out = _t(to_torch(net["o"], {s["z"]: u0 + u @ h}))
        want = torch.sigmoid(torch.tensor(p["beta0"] + p["beta1"] * p["x1"] * p["x2"], dtype=torch.float64))
        d = abs(float(out) - float(want))
        if not d <= worst:  # also catches nan
            worst, where = (d if d == d else float("inf")), {**p, "network": float(out), "target": float(want)}
    return worst, where


def _t(v):
    import torch

    return v if isinstance(v, torch.Tensor) else torch.tensor(float(v), dtype=torch.float64)


def _point_text(p: dict) -> str:
    return ", ".join(f"{k} = {p[k]:.4g}" for k in ("x1", "x2", "beta0", "beta1"))


# ---------------------------------------------------------------- solver

def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    result = Result(problem_id=PID, title="Network capacity", params=dict(params), random_state=0)
    parsed = parse_claims(claims) if claims else None
    s = _syms()
    x1, x2, b0, b1 = s["x1"], s["x2"], s["beta0"], s["beta1"]
    ref = reference()
    F, logit, h = network(**ref)
    result.steps += [
        Step(text="The network with 2 hidden units, and the target (a logistic regression with the feature x1 x2):",
             math=r"F(x_1,x_2) = o\Big(u_0 + \sum_{j=1}^{2} u_j\, g(c_j + V_{j1}x_1 + V_{j2}x_2)\Big),\qquad "
                  r"\sigma(\beta_0 + \beta_1 x_1 x_2)"),
        Step(text="Take o = sigma. Since sigma is injective, F equals the target exactly when the logit "
                  "u0 + u1 h1 + u2 h2 equals beta0 + beta1 x1 x2 for all x1, x2.", rule="injectivity of sigma"),
        Step(text="A linear g cannot work: the logit would be affine in (x1, x2), while x1 x2 has the non-zero mixed "
                  "derivative beta1. A quadratic g can: the polarisation identity writes the product as a difference "
                  "of squares.", rule="polarisation identity",
             math=r"(x_1 + x_2)^2 - (x_1 - x_2)^2 = 4 x_1 x_2"),
        Step(text="So choose g(z) = z^2, hidden units with weights (1, 1) and (1, -1) and no biases, output weights "
                  "beta1/4 and -beta1/4 and output bias beta0:", rule="construction",
             math=r"g(z) = z^2,\quad V = " + sp.latex(sp.Matrix(ref["V"])) + r",\quad c = 0,\quad u = "
                  + sp.latex(sp.Matrix([ref["u"]])) + r",\quad u_0 = \beta_0"),
        Step(text="Then the logit is", rule="expand",
             math=sp.latex(logit) + " = " + sp.latex(sp.expand(logit))),
    ]
    eq, route, _ = prove(ref)
    result.steps.append(Step(text=f"SymPy confirms F = sigma(beta0 + beta1 x1 x2) identically ({route}).",
                             rule="symbolic verification", math=r"F(x_1, x_2) = \sigma(\beta_0 + \beta_1 x_1 x_2)",
                             gap=not (eq.equal is True and eq.method == "exact")))
    result.checks.append(Check("the reference construction equals sigma(beta0 + beta1 x1 x2) identically (symbolic)",
                               eq.method, eq.equal is True and eq.method == "exact", route))
    worst, where = _numeric_spot_check(ref)
    result.checks.append(Check("a torch forward pass of the reference network matches torch.sigmoid(beta0 + beta1 x1 x2)",
                               "torch float64, 30 random (x1, x2, beta0, beta1) in [-2, 2]^4", worst < 1e-12,
                               f"largest absolute difference {worst:.2g}"))
    lin = dict(ref, g=s["z"])
    lin_logit = network(**lin)[1]
    mixed = sp.diff(lin_logit, x1, x2)
    result.checks.append(Check("with a linear g the logit has no x1 x2 term (its mixed derivative is 0, not beta1)",
                               "exact differentiation", mixed == 0 and sp.diff(target()[1], x1, x2) == b1,
                               f"d^2 logit / dx1 dx2 = {sp.sstr(mixed)} for g(z) = z"))
    result.summary = ("g(z) = z^2, o = sigmoid, hidden units x1 + x2 and x1 - x2, output weights beta1/4 and "
                      "-beta1/4, output bias beta0: beta1/4 ((x1 + x2)^2 - (x1 - x2)^2) = beta1 x1 x2")
    if parsed is not None:
        result.verdicts.append(_verdict(parsed, claims))
    return result


def _verdict(net: dict, claims: dict) -> Verdict:
    label = _claim_text(claims)
    eq, route, residual = prove(net)
    worst, where = _numeric_spot_check(net, seed=1)
    spot = f"torch spot check at 30 random points: largest difference {worst:.2g}"
    if eq.equal is True and eq.method == "exact":
        if worst > 1e-9:
            return Verdict(label, None, f"proved symbolically ({route}) but the torch spot check disagrees "
                                        f"({spot}); please report this")
        return Verdict(label, True, f"proved: the network equals sigma(beta0 + beta1*x1*x2) identically ({route}); {spot}")
    if eq.equal is False or worst > 1e-9:
        parts = []
        if residual is not None and residual != 0:
            parts.append(f"logit - (beta0 + beta1*x1*x2) = {sp.sstr(residual)[:300]}")
        if eq.equal is False:
            ev = eq.evidence.replace("claimed", "network").replace("derived", "target")
            if parts:  # the logit residual says it better than the residual of the sigmoids
                ev = ev.split("; network - target simplifies to")[0]
            parts.append(ev)
        elif where is not None:
            parts.append(f"at ({_point_text(where)}): network = {where['network']:.10g}, target = {where['target']:.10g}")
        math = (r"u_0 + u^\top h - (\beta_0 + \beta_1 x_1 x_2) = " + sp.latex(residual)
                if residual is not None and residual != 0 and len(sp.sstr(residual)) < 300 else "")
        return Verdict(label, False, "; ".join(parts), math)
    return Verdict(label, None, f"not proved ({eq.evidence}); {spot}")
