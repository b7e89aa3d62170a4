"""hertie.1.2: the gradient of an activation of an affine function, g(b + x*w).

Generic in the activation g (relu by default; sigmoid, tanh, softplus, or any
expression in z from the safe parser). A piecewise activation (Max, Min, Abs,
...) is split at its kinks into smooth pieces; each piece is differentiated by
SymPy, and at a kink the gradient is the interval between the one-sided
derivatives (the Clarke subdifferential; [0, 1] for ReLU), with a stated
convention. The oracles are ``torch.autograd`` and central finite differences
(mpmath, 30 digits) away from the kinks, and torch's own value at each kink.

A claimed gradient is compared region by region (b + x*w below, between and
above the kinks), so ``Heaviside(b + x*w)``, ``relu(b + x*w)/(b + x*w)`` and
``(1 + sign(b + x*w))/2`` are all accepted for ReLU; its value at the kink is
accepted when it lies in the subdifferential (or is undefined there). With a
stated ``kink_value`` each formula's value at the kink must also equal it: a
formula and a convention that disagree are rejected with both values. The
value Heaviside(0) is itself a convention the notation leaves open (SymPy's
default is 1/2), so it is read as the value that makes the formula agree with
the stated kink_value, when one in [0, 1] exists.

>>> r = solve({"activation": "relu(z)"}, {"db": "Heaviside(b + x*w)", "dw": "x*Heaviside(b + x*w)"})
>>> [v.passed for v in r.verdicts], r.checks_passed
([True, True], True)
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Optional

import mpmath as mp
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Verdict
from problems.validate import claim_keys, text_claim
from theory.equivalence import equivalent
from theory.parse import FUNCTIONS, ExprError, parse_expr

PID = "hertie.1.2"

CLAIM_SCHEMA = """\
Claims for hertie.1.2 (gradient of g(b + x*w) for scalars b, x, w; the
activation g is the parameter `activation`, default relu(z)). Expressions are
text in the safe language, in the symbols b, x, w; functions include relu,
sigmoid, tanh, softplus, exp, log, Max, Min, abs, sign, Heaviside (alias
indicator: Heaviside(s) is 1 for s > 0 and 0 for s < 0).

  ["hertie.1.2"]
  db = "Heaviside(b + x*w)"        # d/db relu(b + x*w)
  dw = "x*Heaviside(b + x*w)"      # d/dw relu(b + x*w)
  # dx = "w*Heaviside(b + x*w)"    # when `wrt` includes x
  kink_value = 0                   # optional: your convention for g'(s) at the kink
                                   # (a number, or a list with one number per kink)

Piecewise claims are compared region by region (split on the sign of
b + x*w - k at each kink k). At a kink g has no derivative: any value in the
subdifferential (for ReLU, any value in [0, 1]) is accepted, and a formula
that is undefined exactly at the kink, such as relu(b + x*w)/(b + x*w), is
accepted with a note. With kink_value given, each formula's value at the kink must
equal it: (1 + sign(b + x*w))/2 gives 1/2 there and contradicts kink_value = 0. The
value Heaviside(0) is a convention the notation leaves open; it is read as the one
that agrees with your kink_value (SymPy's default 1/2 when none is stated).
Comparisons such as (b + x*w > 0) are not part of the language: write
Heaviside(b + x*w) instead.
"""

NAMED = {"relu": "relu(z)", "sigmoid": "sigmoid(z)", "tanh": "tanh(z)", "softplus": "softplus(z)"}
VARS = ("b", "w", "x")
_KINK_TYPES = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside)
MAX_KINKS = 6
N_POINTS = 40
MARGIN = 1e-3


def softplus(z):
    return sp.log(1 + sp.exp(z))


ACT_FUNCTIONS: dict[str, Callable] = {**FUNCTIONS, "softplus": softplus}


# ---------------------------------------------------------------- the activation

def symbols():
    return {n: sp.Symbol(n, real=True) for n in ("b", "x", "w", "z")}


def parse_activation(text: Any, key: str = "activation") -> sp.Expr:
    """The activation g(z) from a name (relu, sigmoid, tanh, softplus) or an expression in z."""
    if isinstance(text, sp.Expr):
        g = text
    else:
        if not isinstance(text, str):
            raise InputError(f"parameter {key}: expected an expression in z as text")
        src = NAMED.get(text.strip(), text)
        try:
            g = parse_expr(src, {"z": symbols()["z"]}, allow_new_symbols=False, functions=ACT_FUNCTIONS)
        except ExprError as exc:
            raise InputError(f"parameter {key}: {exc}") from None
    if isinstance(g, (tuple, list)) or not isinstance(g, sp.Expr):
        raise InputError(f"parameter {key}: expected one scalar expression in z")
    if not g.has(symbols()["z"]):
        raise InputError(f"parameter {key}: {sp.sstr(g)} does not depend on z")
    return g


@dataclass
class Region:
    """An open interval lo < z < hi of the activation's argument (None = unbounded)."""

    lo: Optional[sp.Expr]
    hi: Optional[sp.Expr]
    piece: sp.Expr = sp.S.Zero  # g on this region, free of Max/Min/Abs/...
    dpiece: sp.Expr = sp.S.Zero  # its derivative

    def rep(self, t: sp.Symbol) -> sp.Expr:
        """z as a function of a positive symbol t that sweeps the region."""
        if self.lo is None and self.hi is None:
            return t  # t is then an unrestricted real symbol
        if self.lo is None:
            return self.hi - t
        if self.hi is None:
            return self.lo + t
        return self.lo + (self.hi - self.lo) * t / (1 + t)

    def inverse(self, z: sp.Expr) -> sp.Expr:
        if self.lo is None and self.hi is None:
            return z
        if self.lo is None:
            return self.hi - z
        if self.hi is None:
            return z - self.lo
        return (z - self.lo) / (self.hi - z)

    def contains(self, s: float) -> bool:
        return (self.lo is None or s > float(self.lo)) and (self.hi is None or s < float(self.hi))

    def condition(self, arg: str) -> str:
        """The region as trusted LaTeX, with ``arg`` (LaTeX) for z."""
        if self.lo is None and self.hi is None:
            return r"\text{all } " + arg
        if self.lo is None:
            return f"{arg} < {sp.latex(self.hi)}"
        if self.hi is None:
            return f"{arg} > {sp.latex(self.lo)}"
        return f"{sp.latex(self.lo)} < {arg} < {sp.latex(self.hi)}"

    def text(self, arg: str) -> str:
        if self.lo is None and self.hi is None:
            return "everywhere"
        if self.lo is None:
            return f"{arg} < {sp.sstr(self.hi)}"
        if self.hi is None:
            return f"{arg} > {sp.sstr(self.lo)}"
        return f"{sp.sstr(self.lo)} < {arg} < {sp.sstr(self.hi)}"


@dataclass
class Kink:
    at: sp.Expr
    left: sp.Expr  # one-sided derivatives g'(k-), g'(k+)
    right: sp.Expr

    @property
    def lo(self):
        return sp.Min(self.left, self.right)

    @property
    def hi(self):
        return sp.Max(self.left, self.right)

    @property
    def convention(self):
        """The value used at the kink: the left derivative (0 for ReLU, PyTorch's choice)."""
        return self.left


@dataclass
class Analysis:
    g: sp.Expr
    z: sp.Symbol
    regions: list[Region]
    kinks: list[Kink]


def _kink_points(g: sp.Expr, z: sp.Symbol) -> list[sp.Expr]:
    eqs = []
    for node in sp.preorder_traversal(g):
        if isinstance(node, (sp.Max, sp.Min)):
            a = node.args
            eqs += [a[p] - a[q] for p in range(len(a)) for q in range(p + 1, len(a))]
        elif isinstance(node, _KINK_TYPES):
            eqs.append(node.args[0])
    points = set()
    for e in eqs:
        if not e.has(z):
            continue
        sols = sp.solveset(e, z, sp.Reals)
        if not isinstance(sols, sp.FiniteSet):
            raise InputError(f"parameter activation: cannot locate the kinks of {sp.sstr(g)} "
                             f"({sp.sstr(e)} = 0 has no finite set of real solutions)")
        for s in sols:
            if not s.is_real:
                continue
            points.add(sp.nsimplify(s) if s.is_Float else s)
    if len(points) > MAX_KINKS:
        raise InputError(f"parameter activation: more than {MAX_KINKS} kinks")
    return sorted(points, key=lambda p: float(p))


def analyse(g: sp.Expr) -> Analysis:
    """Split g at its kinks; differentiate each smooth piece; one-sided derivatives at each kink."""
    z = symbols()["z"]
    pts = _kink_points(g, z)
    bounds = [None] + pts + [None]
    regions = [Region(bounds[n], bounds[n + 1]) for n in range(len(bounds) - 1)]
    for reg in regions:
        t = sp.Symbol("t", real=True) if not pts else sp.Symbol("t", positive=True)
        on = sp.simplify(g.subs(z, reg.rep(t)))
        if on.has(*_KINK_TYPES):
            raise InputError(f"parameter activation: could not resolve {sp.sstr(g)} on the region "
                             f"{reg.text('z')} into one smooth piece")
        reg.piece = sp.simplify(on.subs(t, reg.inverse(z)))
        reg.dpiece = sp.simplify(sp.diff(reg.piece, z))
    kinks = []
    for n, k in enumerate(pts):
        left, right = regions[n], regions[n + 1]
        jump = sp.simplify(left.piece.subs(z, k) - right.piece.subs(z, k))
        if jump != 0:
            raise InputError(f"parameter activation: {sp.sstr(g)} jumps at z = {sp.sstr(k)} (by {sp.sstr(jump)}); "
                             "only continuous activations have a (sub)gradient")
        kinks.append(Kink(k, sp.simplify(left.dpiece.subs(z, k)), sp.simplify(right.dpiece.subs(z, k))))
    return Analysis(g, z, regions, kinks)


def d_affine(v: str) -> sp.Expr:
    """d(b + x*w)/dv."""
    s = symbols()
    return {"b": sp.S.One, "w": s["x"], "x": s["w"]}[v]


def affine() -> sp.Expr:
    s = symbols()
    return s["b"] + s["x"] * s["w"]


# ---------------------------------------------------------------- torch (oracle)

_TORCH_UNARY = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.tanh: "tanh",
                sp.sinh: "sinh", sp.cosh: "cosh", sp.atan: "atan", sp.Abs: "abs", sp.sign: "sign"}


def to_torch(expr: sp.Expr, env: dict):
    """Evaluate a SymPy expression (whitelisted functions only) on torch tensors, so autograd can differentiate it.

    ``Max(0, e)`` becomes ``torch.relu(e)`` (PyTorch's derivative at 0 is 0).
    """
    import torch

    def ev(e):
        if e.is_Symbol:
            if e not in env:
                raise InputError(f"cannot evaluate {sp.sstr(expr)}: unknown symbol {e.name}")
            return env[e]
        if e.is_Number or e in (sp.pi, sp.E):
            return torch.tensor(float(e), dtype=torch.float64)
        if e.is_Add:
            out = ev(e.args[0])
            for a in e.args[1:]:
                out = out + ev(a)
            return out
        if e.is_Mul:
            out = ev(e.args[0])
            for a in e.args[1:]:
                out = out * ev(a)
            return out
        if e.is_Pow:
            base, ex = e.args
            if ex == sp.Rational(1, 2):
                return torch.sqrt(ev(base))
            return ev(base) ** ev(ex)
        for cls, name in _TORCH_UNARY.items():
            if isinstance(e, cls):
                return getattr(torch, name)(ev(e.args[0]))
        if isinstance(e, sp.Heaviside):
            a = ev(e.args[0])
            return torch.heaviside(a, torch.full_like(a, 0.5))
        if isinstance(e, (sp.Max, sp.Min)):
            args = list(e.args)
            if len(args) == 2 and sp.S.Zero in args:
                other = ev(args[1] if args[0] == 0 else args[0])
                return torch.relu(other) if isinstance(e, sp.Max) else -torch.relu(-other)
            out = ev(args[0])
            for a in args[1:]:
                out = (torch.maximum if isinstance(e, sp.Max) else torch.minimum)(out, ev(a))
            return out
        raise InputError(f"cannot evaluate {type(e).__name__} in torch (in {sp.sstr(expr)[:60]})")
    return ev(expr)


def _torch_grad(g: sp.Expr, point: dict[str, float], wrt: list[str]) -> dict[str, float]:
    import torch

    s = symbols()
    env = {s[n]: torch.tensor(point[n], dtype=torch.float64, requires_grad=True) for n in ("b", "x", "w")}
    out = to_torch(g.subs(s["z"], affine()), env)
    grads = torch.autograd.grad(out, [env[s[v]] for v in wrt], allow_unused=True)
    return {v: (0.0 if gr is None else float(gr)) for v, gr in zip(wrt, grads)}


# ---------------------------------------------------------------- numeric helpers

def _region_of(an: Analysis, s: float) -> Optional[Region]:
    for reg in an.regions:
        if reg.contains(s):
            return reg
    return None


def derived_value(an: Analysis, v: str, point: dict[str, float]) -> float:
    """The derived d g(b + x*w)/dv at a point off the kinks."""
    s = point["b"] + point["x"] * point["w"]
    reg = _region_of(an, s)
    syms = symbols()
    val = (reg.dpiece.subs(an.z, affine()) * d_affine(v)).subs({syms[n]: sp.Float(point[n], 30) for n in point})
    return float(val.evalf(30))


def _random_points(an: Analysis, n: int, seed: int) -> list[dict[str, float]]:
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        p = {k: round(rng.uniform(-3, 3), 4) for k in ("b", "x", "w")}
        s = p["b"] + p["x"] * p["w"]
        if all(abs(s - float(k.at)) > MARGIN for k in an.kinks):
            out.append(p)
    return out


def _autograd_check(an: Analysis, wrt: list[str], seed: int = 0) -> Check:
    worst = 0.0
    pts = _random_points(an, N_POINTS, seed)
    for p in pts:
        auto = _torch_grad(an.g, p, wrt)
        for v in wrt:
            d = derived_value(an, v, p)
            worst = max(worst, abs(auto[v] - d) / max(1.0, abs(d)))
    return Check("the piecewise gradient agrees with torch.autograd away from the kinks",
                 f"torch.autograd.grad of g(b + x*w), float64, {len(pts)} random points, each of b, x, w "
                 f"uniform in [-3, 3], with |b + x*w - kink| > {MARGIN:g}", worst < 1e-9,
                 f"largest relative difference {worst:.2g}")


def _fd_check(an: Analysis, wrt: list[str], seed: int = 1) -> Check:
    syms = symbols()
    f = sp.lambdify([syms["b"], syms["x"], syms["w"]], an.g.subs(an.z, affine()), "mpmath")
    worst = mp.mpf(0)
    pts = _random_points(an, 20, seed)
    with mp.workdps(30):
        h = mp.mpf("1e-10")
        for p in pts:
            for v in wrt:
                args = {k: mp.mpf(str(p[k])) for k in ("b", "x", "w")}
                up, dn = dict(args), dict(args)
                up[v] += h
                dn[v] -= h
                fd = (f(up["b"], up["x"], up["w"]) - f(dn["b"], dn["x"], dn["w"])) / (2 * h)
                d = derived_value(an, v, p)
                worst = max(worst, abs(fd - d) / max(1, abs(d)))
    return Check("the piecewise gradient agrees with central finite differences away from the kinks",
                 f"mpmath, 30 digits, h = 1e-10, {len(pts)} random points", bool(worst < mp.mpf("1e-12")),
                 f"largest relative difference {mp.nstr(worst, 3)}")


def _kink_check(an: Analysis, kink: Kink, wrt: list[str]) -> Check:
    k = float(kink.at)
    p = {"x": 0.5, "w": 2.0, "b": k - 1.0}  # x*w = 1 exactly, so b + x*w = k in floating point
    auto = _torch_grad(an.g, p, wrt)
    lo, hi = float(kink.lo), float(kink.hi)
    ok = True
    parts = []
    for v in wrt:
        factor = {"b": 1.0, "w": p["x"], "x": p["w"]}[v]
        c = auto[v] / factor
        ok = ok and lo - 1e-12 <= c <= hi + 1e-12
        parts.append(f"d/d{v} = {auto[v]:.6g} (g'(s) = {c:.6g})")
    return Check(f"torch's gradient at the kink b + x*w = {sp.sstr(kink.at)} lies in the subdifferential "
                 f"[{sp.sstr(kink.lo)}, {sp.sstr(kink.hi)}]",
                 "torch.autograd.grad at (b, x, w) = (" + f"{p['b']:g}, 0.5, 2)", ok, "; ".join(parts))


# ---------------------------------------------------------------- claims

def _parse_claim(claims: dict, key: str) -> sp.Expr:
    text = text_claim(claims, key, PID)
    where = f'["{PID}"].{key}'
    s = symbols()
    try:
        e = parse_expr(text, {n: s[n] for n in ("b", "x", "w")}, allow_new_symbols=False, functions=ACT_FUNCTIONS)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
        raise InputError(f"{where}: expected one scalar expression")
    return e


def _num(e: sp.Expr, point: dict) -> Optional[sp.Expr]:
    s = symbols()
    try:
        val = sp.sympify(e).subs({s[n]: sp.Rational(str(point[n])) for n in point})
        val = val.evalf(20)
    except MemoryError:  # out of the solver's memory limit: not 'no proof'
        raise
    except Exception:  # noqa: BLE001 - undefined values count as undefined
        return None
    if not val.is_number or val.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not val.is_real:
        return None
    return val


def _check_region(an: Analysis, reg: Region, claimed: sp.Expr, v: str, seed: int):
    """Compare the claim with the derived piece on one region (b = rep(t) - x*w)."""
    s = symbols()
    t = sp.Symbol("t", positive=True) if an.kinks else sp.Symbol("t", real=True)
    sub = {s["b"]: reg.rep(t) - s["x"] * s["w"]}
    derived = reg.dpiece.subs(an.z, reg.rep(t)) * d_affine(v)
    c_r = claimed.subs(sub)
    dom = {t: (0.01, 10.0)} if an.kinks else None
    eq = equivalent(c_r, derived, [t, s["x"], s["w"]], domain=dom, seed=seed)
    if eq.equal is False and eq.point is not None:
        tv, xv, wv = (sp.Rational(str(eq.point[k])) for k in ("t", "x", "w"))
        zv = reg.rep(t).subs(t, tv)
        point = {"b": zv - xv * wv, "x": xv, "w": wv}
        cv, dv = _num(claimed, point), _num(reg.dpiece.subs(an.z, affine()) * d_affine(v), point)
        where = f"in the region {reg.text('b + x*w')}: " if an.kinks else ""
        eq.evidence = (f"{where}differs at (b = {float(point['b']):.6g}, x = {float(xv):.6g}, "
                       f"w = {float(wv):.6g}), where b + x*w = {float(zv):.6g}: claimed = "
                       f"{f'{float(cv):.10g}' if cv is not None else 'undefined'}, derived = {float(dv):.10g}")
    return eq


H0 = sp.Symbol("H0", real=True)  # Heaviside(0): the notation leaves it open


def _open_heaviside(e: sp.Expr) -> sp.Expr:
    """Heaviside(s) with its value at s = 0 left as the symbol H0 (SymPy would fix it to 1/2)."""
    return e.replace(lambda t: isinstance(t, sp.Heaviside), lambda t: sp.Heaviside(t.args[0], H0))


def _at_kink(claimed: sp.Expr, point: dict) -> Optional[sp.Expr]:
    """The claim at a point on a kink, exact, possibly in H0; None when undefined there."""
    s = symbols()
    try:
        val = sp.simplify(_open_heaviside(sp.sympify(claimed)).subs({s[n]: sp.nsimplify(point[n]) for n in point}))
    except MemoryError:  # out of the solver's memory limit: not 'no proof'
        raise
    except Exception:  # noqa: BLE001 - undefined values count as undefined
        return None
    if val.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not val.free_symbols <= {H0}:
        return None
    if not val.free_symbols:
        val = sp.nsimplify(val.evalf(30), rational=True, tolerance=1e-20)
        if not val.is_real:
            return None
    return val


def _fmt(v) -> str:
    return sp.sstr(v) if isinstance(v, sp.Rational) else f"{float(v):.8g}"


def _kink_note(an: Analysis, claimed: sp.Expr, v: str, stated: Optional[list] = None) -> tuple[bool, str]:
    """Is the claim's value at each kink a subgradient (or undefined)? With a stated kink_value,
    does the formula's value at the kink agree with it?

    The value of Heaviside(0) is a convention that the notation leaves open (SymPy's default is 1/2):
    a formula whose kink value depends on it is read with the Heaviside(0) that makes it agree with
    the stated kink_value, when one in [0, 1] exists; without a stated kink_value, with SymPy's 1/2."""
    notes, ok = [], True
    for n_k, kink in enumerate(an.kinks):
        c_stated = stated[n_k] if stated is not None else None
        if c_stated is not None and not (kink.lo <= c_stated <= kink.hi):
            c_stated = None  # not a subgradient: the kink_value verdict says so; nothing to compare with
        at = f"at the kink b + x*w = {sp.sstr(kink.at)}"
        values = []
        for xv, wv in ((sp.Rational(1, 2), sp.Integer(2)), (sp.Rational(-3, 2), sp.Rational(7, 10))):
            point = {"b": kink.at - xv * wv, "x": xv, "w": wv}
            val = _at_kink(claimed, point)
            factor = {"b": sp.S.One, "w": xv, "x": wv}[v]
            values.append((point, None if val is None else sp.simplify(val / factor)))
        if any(c is None for _, c in values):
            if c_stated is not None:
                notes.append(f"{at} the formula is undefined; g has no derivative there, so this is accepted, and "
                             f"your kink_value = {_fmt(c_stated)} supplies the value")
            else:
                notes.append(f"{at} the formula is undefined; g has no derivative there, so this is accepted, "
                             f"but a convention (any g'(s) in [{sp.sstr(kink.lo)}, {sp.sstr(kink.hi)}]) should be stated")
            continue
        cs = [c for _, c in values]
        opens = any(c.has(H0) for c in cs)
        if opens:
            h_choice = None
            if c_stated is not None:
                sols = sp.solve([sp.Eq(c, c_stated) for c in cs], H0, dict=True)
                h_choice = next((d_[H0] for d_ in sols if H0 in d_ and 0 <= d_[H0] <= 1), None)
            if c_stated is not None and h_choice is None:
                ok = False
                vals = ", ".join(sorted({sp.sstr(c) for c in cs}))
                notes.append(f"{at} the formula gives g'(s) = {vals} (H0 = Heaviside(0)), which equals your "
                             f"kink_value = {_fmt(c_stated)} for no H0 in [0, 1]: the formula and the stated "
                             "convention disagree")
                continue
            h = h_choice if h_choice is not None else sp.Rational(1, 2)
            cs = [sp.simplify(c.subs(H0, h)) for c in cs]
        c = cs[0]
        lo, hi = kink.lo - sp.Rational(1, 10**12), kink.hi + sp.Rational(1, 10**12)
        if any(not (lo <= ci <= hi) for ci in cs) or any(sp.simplify(ci - c) != 0 for ci in cs):
            ok = False
            point, _ = values[0]
            notes.append(f"{at} (b = {sp.sstr(point['b'])}, x = {sp.sstr(point['x'])}, w = {sp.sstr(point['w'])}) "
                         f"the formula gives g'(s) = {_fmt(c)}, outside the subdifferential "
                         f"[{sp.sstr(kink.lo)}, {sp.sstr(kink.hi)}]" if not (lo <= c <= hi) else
                         f"{at} the formula gives g'(s) = " + " or ".join(_fmt(ci) for ci in cs)
                         + " depending on the point: not one value of g'(s)")
            continue
        if not opens:
            heav = ""
        elif c_stated is None:
            heav = f" with Heaviside(0) = {sp.sstr(h)} (SymPy's default; the notation leaves Heaviside(0) open)"
        else:
            heav = (f" with Heaviside(0) read as {sp.sstr(h)} (a convention the notation leaves open; SymPy's "
                    "default is 1/2)")
        if c_stated is not None:
            if sp.simplify(c - c_stated) != 0:
                ok = False
                notes.append(f"{at} the formula gives g'(s) = {_fmt(c)}, while your kink_value states g'(s) = "
                             f"{_fmt(c_stated)} there: the formula and the stated convention disagree")
                continue
            notes.append(f"{at} the formula gives g'(s) = {_fmt(c)}{heav}, consistent with your kink_value = "
                         f"{_fmt(c_stated)}")
        else:
            notes.append(f"{at} the formula gives g'(s) = {_fmt(c)}{heav}, a valid subgradient (any value in "
                         f"[{sp.sstr(kink.lo)}, {sp.sstr(kink.hi)}] is accepted)")
    return ok, "; ".join(notes)


def verify_claim(an: Analysis, v: str, text: str, claimed: sp.Expr, stated: Optional[list] = None) -> Verdict:
    label = f"d{v} = {text}"
    methods, undecided = [], None
    for n, reg in enumerate(an.regions):
        eq = _check_region(an, reg, claimed, v, seed=n)
        if eq.equal is False:
            return Verdict(label, False, eq.evidence, _gradient_latex(an, v))
        if eq.equal is None:
            undecided = (f"in the region {reg.text('b + x*w')}: " if an.kinks else "") + eq.evidence
        methods.append(eq.method)
    if undecided:
        return Verdict(label, None, undecided)
    if all(m == "exact" for m in methods):
        how = "proved on every region" if an.kinks else "proved: claimed - derived simplifies to 0"
    else:
        how = ("not proved on every region; agrees at random points of each region (50 digits)" if an.kinks
               else "not proved; agrees at 20 random points (50 digits)")
    if not an.kinks:
        return Verdict(label, True, how)
    ok, note = _kink_note(an, claimed, v, stated)
    if not ok:
        return Verdict(label, False, f"equal away from the kinks ({how}), but {note}", _gradient_latex(an, v))
    return Verdict(label, True, f"equal on each region ({how}); {note}")


def _kink_numbers(an: Analysis, value: Any) -> list:
    """The stated kink_value(s), one per kink (InputError names the key)."""
    vals = value if isinstance(value, list) else [value]
    where = f'["{PID}"].kink_value'
    if len(vals) != len(an.kinks):
        raise InputError(f"{where}: expected {len(an.kinks)} value(s), one per kink")
    try:
        from theory.parse import parse_number
        return [parse_number(v) for v in vals]
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None


def _kink_value_verdict(an: Analysis, value: Any) -> Verdict:
    if not an.kinks:
        return Verdict(f"kink_value = {value}", False, "this activation has no kink: it is differentiable everywhere")
    nums = _kink_numbers(an, value)
    for c, kink in zip(nums, an.kinks):
        if not (kink.lo <= c <= kink.hi):
            return Verdict(f"kink_value = {value}", False,
                           f"g'({sp.sstr(kink.at)}) = {sp.sstr(c)} is not a subgradient: the one-sided derivatives are "
                           f"{sp.sstr(kink.left)} and {sp.sstr(kink.right)}, so the allowed values are "
                           f"[{sp.sstr(kink.lo)}, {sp.sstr(kink.hi)}]")
    return Verdict(f"kink_value = {value}", True,
                   "a valid convention: every value lies between the one-sided derivatives ("
                   + "; ".join(f"[{sp.sstr(k.lo)}, {sp.sstr(k.hi)}] at z = {sp.sstr(k.at)}" for k in an.kinks) + ")")


# ---------------------------------------------------------------- derivation

def _gradient_latex(an: Analysis, v: str) -> str:
    s_tex = "b + x w"
    factor = d_affine(v)
    head = rf"\frac{{\partial}}{{\partial {v}}}\, g(b + x w) = "
    if not an.kinks:
        return head + sp.latex(sp.simplify(an.regions[0].dpiece.subs(an.z, affine()) * factor))
    rows = []
    for reg in an.regions:
        rows.append(sp.latex(sp.simplify(reg.dpiece.subs(an.z, affine()) * factor)) + r" & " + reg.condition(s_tex))
    for k in an.kinks:
        f_tex = "" if factor == 1 else sp.latex(factor) + r"\,"
        rows.append(f_tex + rf"c,\ c \in [{sp.latex(k.lo)}, {sp.latex(k.hi)}]\ (\text{{we take }} c = "
                    rf"{sp.latex(k.convention)}) & {s_tex} = {sp.latex(k.at)}")
    return head + r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def _in_terms_of_g(g: sp.Expr, dg: sp.Expr, z: sp.Symbol) -> Optional[str]:
    """LaTeX of g' written with g (sigmoid: g(1 - g); tanh: 1 - g^2; softplus: sigmoid), when proved."""
    G = sp.Function("g")(z)
    for form in (G * (1 - G), 1 - G ** 2, 1 / (1 + sp.exp(-z))):
        eq = equivalent(form.subs(G, g), dg, [z])
        if eq.equal is True and eq.method == "exact":
            return sp.latex(form) if form.has(G) else r"\sigma(z)"
    return None


def _plain(e) -> str:
    """An expression as plain text: s for the argument, ^ for powers, a space for products."""
    return sp.sstr(e).replace("**", "^").replace("*", " ")


def _summary(an: Analysis, wrt: list[str]) -> str:
    s_sym = sp.Symbol("s", real=True)
    if not an.kinks:
        parts = [_plain(sp.simplify(an.regions[0].dpiece.subs(an.z, s_sym)))]
    else:
        parts = [f"{_plain(r.dpiece.subs(an.z, s_sym))} if {r.text('s')}" for r in an.regions]
        parts += [f"any value in [{sp.sstr(k.lo)}, {sp.sstr(k.hi)}] at s = {sp.sstr(k.at)} (we take "
                  f"{sp.sstr(k.convention)})" for k in an.kinks]
    gp = "with s = b + x w: g'(s) = " + ", ".join(parts)
    return gp + "; " + ", ".join(f"d/d{v} = " + ("g'(s)" if d_affine(v) == 1 else f"{_plain(d_affine(v))} g'(s)")
                                 for v in wrt)


def _params(params: dict) -> tuple[sp.Expr, list[str]]:
    g = parse_activation(params.get("activation", "relu(z)"))
    wrt = params.get("wrt", ["b", "w"])
    if isinstance(wrt, str):
        wrt = [p.strip() for p in wrt.split(",") if p.strip()]
    if not isinstance(wrt, list) or not wrt or any(v not in VARS for v in wrt) or len(set(wrt)) != len(wrt):
        raise InputError(f"parameter wrt: expected a list of distinct names among b, w, x, got {wrt!r}")
    return g, wrt


def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    g, wrt = _params(params)
    result = Result(problem_id=PID, title="Gradient of an activation",
                    params={"activation": sp.sstr(g), "wrt": wrt}, random_state=0)
    parsed = {}
    if claims:
        claim_keys(claims, {f"d{v}" for v in wrt} | {"kink_value"}, f'["{PID}"]')
        for v in wrt:
            if f"d{v}" in claims:
                parsed[v] = _parse_claim(claims, f"d{v}")
    an = analyse(g)
    z = an.z
    result.steps.append(Step(text="Write s = b + x w for the affine argument; its partial derivatives are constants "
                                  "or the other factor:", rule="linearity",
                             math=r"s = b + x w,\quad \frac{\partial s}{\partial b} = 1,\quad "
                                  r"\frac{\partial s}{\partial w} = x,\quad \frac{\partial s}{\partial x} = w"))
    result.steps.append(Step(text="The activation:", math="g(z) = " + sp.latex(g)))
    if an.kinks:
        pieces = r" \\ ".join(sp.latex(r.piece) + " & " + r.condition("z") for r in an.regions)
        result.steps.append(Step(
            text="g is piecewise smooth: split the real line at its kinks (where the arguments of Max/Min/abs/... "
                 "meet) and simplify g on each open region:", rule="case split",
            math=r"g(z) = \begin{cases} " + pieces + r" \end{cases}"))
        dpieces = [sp.latex(r.dpiece) + " & " + r.condition("z") for r in an.regions]
        for k in an.kinks:
            dpieces.append(rf"c \in [{sp.latex(k.lo)}, {sp.latex(k.hi)}] & z = {sp.latex(k.at)}")
        result.steps.append(Step(
            text="Differentiate each smooth piece. At a kink the one-sided derivatives differ, so g has no derivative "
                 "there; every value between them is a (Clarke) subgradient. Convention: we take the left derivative "
                 "(for ReLU this is 0, PyTorch's choice); any value of the interval is equally valid and is accepted "
                 "in a claim.", rule="derivative of each piece; subdifferential at the kinks",
            math=r"g'(z) = \begin{cases} " + r" \\ ".join(dpieces) + r" \end{cases}"))
        if g == sp.Max(0, z):
            result.steps.append(Step(text="For ReLU in one formula, with the Heaviside step H (H(s) = 1 for s > 0, "
                                          "0 for s < 0, and H(0) = c in [0, 1] by convention):",
                                     math=r"\mathrm{ReLU}'(s) = H(s)"))
    else:
        result.steps.append(Step(text="g is smooth everywhere (no kinks); differentiate:", rule="derivative",
                                 math="g'(z) = " + sp.latex(an.regions[0].dpiece)))
        own = _in_terms_of_g(g, an.regions[0].dpiece, z)
        if own is not None:
            result.steps.append(Step(text="In terms of g itself (SymPy proves the identity):", rule="algebra",
                                     math="g'(z) = " + own))
    result.steps.append(Step(text="Chain rule: the derivative of g at s times the derivative of s:", rule="chain rule",
                             math=r"\frac{\partial g(s)}{\partial v} = g'(s)\,\frac{\partial s}{\partial v}"))
    for v in wrt:
        result.steps.append(Step(text=f"The partial derivative with respect to {v}:", math=_gradient_latex(an, v)))
    result.checks.append(_autograd_check(an, wrt))
    result.checks.append(_fd_check(an, wrt))
    for k in an.kinks:
        result.checks.append(_kink_check(an, k, wrt))
    summary = _summary(an, wrt)
    result.summary = summary
    stated = _kink_numbers(an, claims["kink_value"]) if claims and "kink_value" in claims and an.kinks else None
    for v in wrt:
        if v in parsed:
            result.verdicts.append(verify_claim(an, v, claims[f"d{v}"], parsed[v], stated))
    if claims and "kink_value" in claims:
        result.verdicts.append(_kink_value_verdict(an, claims["kink_value"]))
    return result
