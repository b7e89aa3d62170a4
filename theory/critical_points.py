"""hertie.1.1: find and classify the real critical points of any smooth f.

Polynomial (and rational) gradients are solved exactly: a Gröbner basis decides
whether the critical set is finite, and each coordinate is a real root of its
eliminant (so quintics are handled too). Each point is classified from the
exact signs of its Hessian's eigenvalues (Descartes' rule on the
characteristic polynomial of a symmetric matrix is exact); a degenerate Hessian
is decided by a higher-order argument where one is sound, else reported as
undetermined. A numeric multi-start root search is the independent oracle for
completeness.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Figure, Result, Step, Table, Verdict
from problems.validate import claim_keys
from theory import algebra
from theory.parse import ExprError, Timeout, parse_expr, parse_number, time_limit

KINDS = ("minimum", "maximum", "saddle", "undetermined")
_KIND_WORDS = {
    "min": "minimum", "minimum": "minimum", "local minimum": "minimum", "local min": "minimum",
    "strict local minimum": "minimum", "global minimum": "minimum",
    "max": "maximum", "maximum": "maximum", "local maximum": "maximum", "local max": "maximum",
    "strict local maximum": "maximum", "global maximum": "maximum",
    "saddle": "saddle", "saddle point": "saddle",
    "undetermined": "undetermined", "degenerate": "undetermined", "inconclusive": "undetermined",
}
SOLVE_TIME_LIMIT_S = 20.0

CLAIM_SCHEMA = """\
Claims for hertie.1.1 (critical points), one TOML table:

  ["hertie.1.1"]
  points = [                                   # the critical points you found
    { at = ["0", "0"], kind = "saddle" },        # coordinates in the order of the variables
    { at = "(2, 2)", kind = "minimum" },         # or the point as one text
    { at = [6, 0], kind = "saddle" },            # or TOML numbers; 1.5 means exactly 3/2
  ]
  complete = true          # optional (default true): the list claims to be all critical points
  gradient = ["2*x*y + y**2 - 6*y", "x**2 + 2*x*y - 6*x"]   # optional: your gradient
  tolerance = 0            # optional: accept points within this distance of an exact one

kind is one of: minimum (min, local minimum), maximum (max, local maximum),
saddle (saddle point), undetermined (degenerate: you claim no test decides it).
Expressions may use + - * / **, sqrt, exp, log, sin, cos, ... and the
variables of f; no other Python is accepted.
"""


@dataclass
class Classification:
    kind: str
    reason: str
    eigen_text: str = ""
    degenerate: bool = False
    witnesses: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- inputs

def _setup(params: dict[str, Any]):
    f_param = params.get("f")
    if isinstance(f_param, sp.Expr):
        f = f_param
    else:
        try:
            f = parse_expr(str(f_param))
        except ExprError as exc:
            raise InputError(f"parameter f: {exc}") from None
    if isinstance(f, (tuple, list)) or not isinstance(f, sp.Expr):
        raise InputError("parameter f: expected one scalar expression")
    names = params.get("vars") or []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    by_name = {s.name: s for s in f.free_symbols}
    if names:
        extra = sorted(set(by_name) - set(names))
        if extra:
            raise InputError(f"parameter f depends on {', '.join(extra)}, which are not among vars = {names}")
        variables = [by_name.get(n, sp.Symbol(n, real=True)) for n in names]
    else:
        variables = sorted(f.free_symbols, key=lambda s: s.name)
    if not variables:
        raise InputError("parameter f: f has no variables, so every point is critical")
    if len(variables) > 6:
        raise InputError(f"parameter f: {len(variables)} variables; at most 6 are supported")
    return f, variables


# ---------------------------------------------------------------- solving

@dataclass
class CriticalSet:
    points: list[tuple]
    finite: bool
    complete_proved: bool
    method: str
    families: list[dict] = field(default_factory=list)  # non-isolated components (from sympy.solve)
    groebner: Optional[list] = None
    discarded: list[str] = field(default_factory=list)
    domain_excluded: list[tuple] = field(default_factory=list)


def _numer_denoms(grad):
    numers, denoms = [], []
    for g in grad:
        n, d = sp.fraction(sp.together(g))
        numers.append(sp.expand(n))
        denoms.append(d)
    return numers, denoms


def find_critical_set(f, variables) -> CriticalSet:
    grad = [sp.diff(f, v) for v in variables]
    numers, denoms = _numer_denoms(grad)
    is_poly = all(n.is_polynomial(*variables) for n in numers) and all(d.is_polynomial(*variables) for d in denoms)
    if is_poly:
        G = sp.groebner(numers, *variables, order="lex")
        if G.exprs == [1]:
            return CriticalSet([], True, True, "Gröbner basis", groebner=[sp.Integer(1)])
        if G.is_zero_dimensional:
            pts = algebra.real_solutions(G.exprs, variables)
            kept, excluded = [], []
            for p in pts:
                subs = dict(zip(variables, p))
                (excluded if any(algebra.is_zero(d.subs(subs)) for d in denoms) else kept).append(p)
            return CriticalSet(kept, True, True, "Gröbner basis and real roots of the eliminants",
                               groebner=list(G.exprs), domain_excluded=excluded)
        sols = sp.solve(numers, variables, dict=True)
        points, families = [], []
        for s in sols:
            free = set().union(*(sp.sympify(v).free_symbols for v in s.values())) if s else set()
            if len(s) == len(variables) and not free:
                points.append(tuple(s[v] for v in variables))
            else:
                families.append(s)
        return CriticalSet(points, False, False, "Gröbner basis (not zero-dimensional) and sympy.solve",
                           families=families, groebner=list(G.exprs))
    # not polynomial: sympy.solve, completeness not provable in general
    sols = sp.solve(grad, variables, dict=True)
    points, families, discarded = [], [], []
    for s in sols:
        values = [s.get(v, v) for v in variables]
        free = set().union(*(sp.sympify(v).free_symbols for v in values)) & set(variables)
        if free:
            families.append(s)
        elif all(sp.im(v).equals(0) if sp.im(v) != 0 else True for v in values) and all(v.is_real is not False for v in values):
            points.append(tuple(values))
        else:
            discarded.append(str(tuple(values)))
    return CriticalSet(points, not families, False, "sympy.solve (f is not polynomial)", families=families,
                       discarded=discarded)


# ---------------------------------------------------------------- classification

def eigen_signs(H: sp.Matrix) -> tuple[int, int, int]:
    """(positive, negative, zero) eigenvalue counts of a real symmetric matrix, exactly.

    All roots of the characteristic polynomial are real, so Descartes' rule of
    signs counts the positive ones exactly.
    """
    coeffs = H.charpoly().all_coeffs()
    signs = [algebra.sign(c) for c in coeffs]
    zero = 0
    while signs and signs[-1] == 0:
        signs.pop()
        zero += 1
    nz = [s for s in signs if s != 0]
    pos = sum(1 for a, b in zip(nz, nz[1:]) if a != b)
    return pos, H.shape[0] - pos - zero, zero


def _eigenvalues(H: sp.Matrix) -> list:
    """Eigenvalues in increasing order: exact when short, else 6 significant digits."""
    vals = []
    for v, m in H.eigenvals().items():
        v = sp.radsimp(v)
        if len(sp.sstr(v)) > 24:
            v = sp.Float(sp.re(sp.N(v, 20)), 6)
        vals.extend([v] * m)
    return sorted(vals, key=lambda v: float(sp.re(sp.N(v))))


def _natural(e) -> str:
    """A number or expression as readable plain text: 6 - 6*sqrt(2) -> 6 - 6 sqrt(2), x**5 -> x^5."""
    return sp.sstr(e).replace("**", "^").replace("*", " ")


def _eigen_text(H: sp.Matrix) -> str:
    return ", ".join(_natural(v) for v in _eigenvalues(H))


def _eigen_latex(H: sp.Matrix) -> str:
    return ", ".join(sp.latex(v) for v in _eigenvalues(H))


def _lowest_term(g, t, order=10):
    """(k, c): the lowest-order nonzero term c t^k of g around t = 0, or (None, None)."""
    g = sp.expand(g)
    if not g.is_polynomial(t):
        g = sp.expand(sp.series(g, t, 0, order + 1).removeO())
    for (k,), c in sorted(sp.Poly(g, t).terms()):
        if not algebra.is_zero(c):
            return k, c
    return None, None


def _directions(H, n, rng):
    dirs = []
    null = H.nullspace()
    dirs.extend([sp.Matrix(v) for v in null])
    dirs.extend([sp.eye(n)[:, i] for i in range(n)])
    for _ in range(6):
        dirs.append(sp.Matrix([rng.randint(-2, 2) for _ in range(n)]))
    return [d for d in dirs if any(x != 0 for x in d)]


def _arc_tests(f, variables, p, H, rng):
    """Signs of f(p + t v + t^2 w) - f(p) for small t along lines and parabolic arcs.

    Returns (signs_found, witnesses). An odd lowest order gives both signs on one arc.
    """
    n = len(variables)
    t = sp.Dummy("t")
    f0 = f.subs(dict(zip(variables, p)))
    found: dict[int, str] = {}
    dirs = _directions(H, n, rng)
    curvatures = [sp.zeros(n, 1)] + [sp.eye(n)[:, i] * c for i in range(n) for c in (1, -1, 2, -2, sp.Rational(3, 2))]
    for v in dirs:
        for w in curvatures:
            arc = [p[i] + t * v[i] + t ** 2 * w[i] for i in range(n)]
            g = f.subs(dict(zip(variables, arc)), simultaneous=True) - f0
            k, c = _lowest_term(g, t)
            if k is None:
                continue
            s = algebra.sign(c)
            arc_text = "(" + ", ".join(sp.sstr(sp.expand(a - p[i])) for i, a in enumerate(arc)) + ")"
            term = f"{sp.sstr(c)}*t**{k}"
            if k % 2 == 1:
                found.setdefault(1, f"along p + {arc_text}, f - f(p) = {term} + ... changes sign at t = 0")
                found.setdefault(-1, found[1])
            else:
                found.setdefault(s, f"along p + {arc_text}, f - f(p) = {term} + ... ({'> 0' if s > 0 else '< 0'} for small t != 0)")
            if 1 in found and -1 in found:
                return found
        if 1 in found and -1 in found:
            return found
    return found


def _even_monomial_certificate(f, variables, p, sgn):
    """For polynomials: f(p+h) - f(p) = sum of c_a h^a with every a even and sgn*c_a > 0.

    Then sgn*(f(p+h) - f(p)) >= 0 near p, a sound (if partial) higher-order test.
    """
    h = sp.symbols(f"h1:{len(variables) + 1}", real=True)
    shifted = sp.expand(f.subs({v: p[i] + h[i] for i, v in enumerate(variables)}, simultaneous=True)
                        - f.subs(dict(zip(variables, p))))
    if shifted == 0:
        return None
    poly = sp.Poly(shifted, *h)
    for exps, c in poly.terms():
        if any(e % 2 for e in exps) or algebra.sign(c) != sgn:
            return None
    strict = all(any(exps[i] > 0 and sum(exps) == exps[i] for exps, _ in poly.terms()) for i in range(len(h)))
    return shifted, strict


def classify(f, variables, p, H_p: sp.Matrix, polynomial: bool, seed: int = 0) -> Classification:
    n = len(variables)
    pos, neg, zero = eigen_signs(H_p)
    eig = _eigen_text(H_p)
    if pos and neg:
        return Classification("saddle", f"the Hessian is indefinite ({pos} positive, {neg} negative eigenvalues)", eig, zero > 0)
    if zero == 0:
        if pos == n:
            return Classification("minimum", "the Hessian is positive definite (strict local minimum)", eig)
        return Classification("maximum", "the Hessian is negative definite (strict local maximum)", eig)
    rng = random.Random(seed)
    found = _arc_tests(f, variables, p, H_p, rng)
    if 1 in found and -1 in found:
        wit = [found[1]] if found[1] == found[-1] else [found[1], found[-1]]
        return Classification("saddle", "the Hessian is degenerate; f - f(p) takes both signs arbitrarily near p",
                              eig, True, wit)
    sgn = 1 if neg == 0 and pos > 0 else (-1 if pos == 0 and neg > 0 else 0)
    candidates = [sgn] if sgn else [1, -1]
    if n == 1 and found:
        (s, text), = found.items()
        kind = "minimum" if s > 0 else "maximum"
        return Classification(kind, "the Hessian is degenerate; the first nonzero derivative has even order (decisive in one variable)",
                              eig, True, [text])
    if polynomial:
        for s in candidates:
            cert = _even_monomial_certificate(f, variables, p, s)
            if cert:
                shifted, strict = cert
                kind = "minimum" if s > 0 else "maximum"
                rel = ">=" if s > 0 else "<="
                return Classification(
                    kind, f"the Hessian is degenerate; f(p+h) - f(p) = {sp.sstr(shifted)} has only even monomials with "
                          f"{'positive' if s > 0 else 'negative'} coefficients, so it is {rel} 0 near p"
                          + (" (strict)" if strict else " (not strict)"),
                    eig, True, [])
    return Classification("undetermined", "the Hessian is degenerate and no sound higher-order test decided this point "
                          "(lines and parabolic arcs through p show only one sign)", eig, True,
                          list(found.values()))


# ---------------------------------------------------------------- the numeric oracle

def numeric_roots(f, variables, box: float, starts: int = 150, seed: int = 0) -> list[np.ndarray]:
    from scipy.optimize import root

    grad = [sp.diff(f, v) for v in variables]
    g = sp.lambdify([variables], grad, "numpy")
    J = sp.lambdify([variables], sp.hessian(f, variables), "numpy")
    rng = np.random.default_rng(seed)
    found: list[np.ndarray] = []
    with np.errstate(all="ignore"):
        for _ in range(starts):
            x0 = rng.uniform(-box, box, len(variables))
            try:
                sol = root(lambda x: np.asarray(g(x), float), x0, jac=lambda x: np.asarray(J(x), float), method="hybr")
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
            x = sol.x
            if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > box:
                continue
            res = np.asarray(g(x), float)
            if np.all(np.isfinite(res)) and np.linalg.norm(res) < 1e-9:
                if not any(np.linalg.norm(x - y) < 1e-6 for y in found):
                    found.append(x)
    return found


def _family_contains(family: dict, variables, x: np.ndarray, tol: float = 1e-5) -> bool:
    subs = {v: float(x[i]) for i, v in enumerate(variables)}
    for v, expr in family.items():
        i = variables.index(v)
        try:
            val = complex(sp.N(sp.sympify(expr).subs(subs)))
        except (TypeError, ValueError):
            return False
        if abs(val - x[i]) > tol * max(1.0, abs(x[i])):
            return False
    return True


# ---------------------------------------------------------------- formatting

def _pt(p) -> str:
    return "(" + ", ".join(_natural(c) for c in p) + ")"


def _pt_latex(p) -> str:
    return r"\left(" + ", ".join(sp.latex(c) for c in p) + r"\right)"


def _approx(p) -> str:
    return "(" + ", ".join(f"{float(sp.re(sp.N(c, 20))):.6g}" for c in p) + ")"


def _family_text(family: dict, variables) -> str:
    coords = [family.get(v, v) for v in variables]
    free = sorted(set().union(*(sp.sympify(c).free_symbols for c in coords)) & set(variables), key=lambda s: s.name)
    return f"{_pt(coords)} for every real {', '.join(s.name for s in free)}"


def _family_latex(family: dict, variables) -> str:
    coords = [family.get(v, v) for v in variables]
    free = sorted(set().union(*(sp.sympify(c).free_symbols for c in coords)) & set(variables), key=lambda s: s.name)
    return r"\left\{" + _pt_latex(coords) + r" : " + ", ".join(sp.latex(s) for s in free) + r" \in \mathbb{R}\right\}"


# ---------------------------------------------------------------- claims

def _claim_point(raw, variables, where: str):
    if isinstance(raw, str):
        try:
            value = parse_expr(raw, {v.name: v for v in variables}, allow_new_symbols=False)
        except ExprError as exc:
            raise InputError(f"{where}: {exc}") from None
        coords = value if isinstance(value, (tuple, list)) else (value,)
    elif isinstance(raw, list):
        coords = raw
    elif isinstance(raw, dict):
        missing = [v.name for v in variables if v.name not in raw]
        if missing:
            raise InputError(f"{where}: missing coordinate(s) {', '.join(missing)}")
        coords = [raw[v.name] for v in variables]
    else:
        raise InputError(f"{where}: expected a list of coordinates or a text like \"(1, 2)\"")
    if len(coords) != len(variables):
        names = ", ".join(v.name for v in variables)
        raise InputError(f"{where}: {len(coords)} coordinate(s) given, expected {len(variables)} ({names})")
    out = []
    for i, c in enumerate(coords):
        if isinstance(c, sp.Expr):
            out.append(c)
            continue
        try:
            out.append(parse_number(c))
        except ExprError as exc:
            raise InputError(f"{where}[{i}]: {exc}") from None
    return tuple(out)


def _claim_text(entry: dict) -> str:
    at = entry.get("at")
    at_text = at if isinstance(at, str) else "(" + ", ".join(str(c) for c in at) + ")" if isinstance(at, list) else str(at)
    return f"{at_text}: {entry.get('kind', '?')}"


def parse_claims(claims: dict, variables) -> dict:
    where = '["hertie.1.1"]'
    claim_keys(claims, {"points", "complete", "gradient", "tolerance"}, where)
    out: dict[str, Any] = {"points": [], "has_points": "points" in claims,
                           "complete": claims.get("complete", True), "gradient": None,
                           "tolerance": claims.get("tolerance", 0)}
    if not isinstance(out["complete"], bool):
        raise InputError(f"{where}.complete: expected true or false")
    if isinstance(out["tolerance"], bool) or not isinstance(out["tolerance"], (int, float)) or out["tolerance"] < 0:
        raise InputError(f"{where}.tolerance: expected a non-negative number")
    points = claims.get("points", [])
    if not isinstance(points, list):
        raise InputError(f"{where}.points: expected a list of {{ at = ..., kind = ... }} tables")
    for i, entry in enumerate(points):
        w = f"{where}.points[{i}]"
        if not isinstance(entry, dict):
            raise InputError(f"{w}: expected a table {{ at = ..., kind = ... }}")
        claim_keys(entry, ("at", "kind"), w)
        if "at" not in entry:
            raise InputError(f"{w}: missing key 'at'")
        kind = entry.get("kind")
        if kind is not None:
            if not isinstance(kind, str) or kind.strip().lower() not in _KIND_WORDS:
                raise InputError(f"{w}.kind: {kind!r} is not one of minimum, maximum, saddle, undetermined")
            kind = _KIND_WORDS[kind.strip().lower()]
        out["points"].append({"at": _claim_point(entry["at"], variables, f"{w}.at"), "kind": kind,
                              "text": _claim_text(entry)})
    if "gradient" in claims:
        grad = claims["gradient"]
        if not isinstance(grad, list) or len(grad) != len(variables) or not all(isinstance(g, str) for g in grad):
            raise InputError(f"{where}.gradient: expected a list of {len(variables)} expressions as text")
        parsed = []
        for i, g in enumerate(grad):
            try:
                e = parse_expr(g, {v.name: v for v in variables}, allow_new_symbols=False)
            except ExprError as exc:
                raise InputError(f"{where}.gradient[{i}]: {exc}") from None
            if isinstance(e, (tuple, list)):
                raise InputError(f"{where}.gradient[{i}]: expected one expression")
            parsed.append(e)
        out["gradient"] = (parsed, grad)
    return out


def _same_point(a, b) -> bool:
    if any(abs(complex(sp.N(x - y, 30))) > 1e-12 for x, y in zip(a, b)):
        return False
    return all(algebra.is_zero(x - y) for x, y in zip(a, b))


def _distance(a, b) -> float:
    return math.sqrt(sum(abs(complex(sp.N(x - y, 20))) ** 2 for x, y in zip(a, b)))


def check_claims(claims, f, variables, grad, H, cset: CriticalSet, classes: dict) -> list[Verdict]:
    verdicts: list[Verdict] = []
    matched: set[int] = set()
    seen: list[tuple] = []
    tol = float(claims["tolerance"])
    for entry in claims["points"]:
        q, kind, text = entry["at"], entry["kind"], entry["text"]
        if any(_same_point(q, s) for s in seen):
            verdicts.append(Verdict(text, False, f"the point {_pt(q)} is listed twice"))
            continue
        seen.append(q)
        subs = dict(zip(variables, q))
        g_q = [sp.simplify(g.subs(subs)) for g in grad]
        idx = next((i for i, p in enumerate(cset.points) if _same_point(q, p)), None)
        approx_note = ""
        j = dist = None  # the nearest derived point, when q is not one of them
        if idx is None and cset.points:
            dists = [_distance(q, p) for p in cset.points]
            j = int(np.argmin(dists))
            dist = dists[j]
        if idx is None and tol > 0 and j is not None and dist <= tol:
            idx, approx_note = j, f"accepted as an approximation of {_pt(cset.points[j])} (distance {dist:.2g} <= tolerance {tol:g}); "
        if idx is None and not all(algebra.is_zero(g) for g in g_q):
            nearest = ""
            if j is not None:
                nearest = f"; the nearest critical point is {_pt(cset.points[j])} at distance {dist:.3g}"
                if dist < 1e-2:
                    nearest += " (set tolerance to accept approximations)"
            verdicts.append(Verdict(
                text, False, f"not a critical point: the gradient at {_pt(q)} is {_pt(g_q)}, not zero{nearest}",
                r"\nabla f" + _pt_latex(q) + " = " + _pt_latex(g_q) + r" \neq 0"))
            continue
        if idx is None:  # gradient vanishes: a critical point outside our list (non-finite set or unproved solve)
            cls = classify(f, variables, q, H.subs(subs), f.is_polynomial(*variables))
            where = "on a non-isolated part of the critical set" if not cset.finite else "not in the derived list"
            prefix = f"the gradient vanishes at {_pt(q)} (exact substitution; {where}); "
        else:
            matched.add(idx)
            cls = classes[idx]
            prefix = approx_note or f"the gradient vanishes at {_pt(q)} (exact substitution); "
        if kind is None:
            verdicts.append(Verdict(text, True, prefix + f"it is a {cls.kind} ({cls.reason})"))
        elif cls.kind == "undetermined" and kind != "undetermined":
            verdicts.append(Verdict(text, None, prefix + f"its kind could not be decided: {cls.reason}"))
        elif cls.kind == kind:
            verdicts.append(Verdict(text, True, prefix + f"{kind} confirmed: {cls.reason}"
                                    + (f"; Hessian eigenvalues {cls.eigen_text}" if cls.eigen_text else "")))
        else:
            verdicts.append(Verdict(text, False, prefix + f"but it is a {cls.kind}, not a {kind}: {cls.reason}"
                                    + (f"; Hessian eigenvalues {cls.eigen_text}" if cls.eigen_text else "")
                                    + ("; " + "; ".join(cls.witnesses) if cls.witnesses else "")))
    if claims["complete"] and claims["has_points"]:
        text = f"these {len(claims['points'])} point(s) are all the critical points"
        if not cset.finite:
            fams = "; ".join(_family_text(fm, variables) for fm in cset.families) or "a positive-dimensional set"
            verdicts.append(Verdict(text, False, f"the critical set is not finite: it contains {fams}"))
        else:
            missing = [p for i, p in enumerate(cset.points) if i not in matched]
            if missing:
                names = ", ".join(f"{_pt(p)} ({classes[cset.points.index(p)].kind})" for p in missing)
                verdicts.append(Verdict(text, False, f"missing critical point(s): {names}"))
            elif cset.complete_proved:
                verdicts.append(Verdict(text, True, f"the derived critical set has exactly these points ({cset.method})"))
            else:
                verdicts.append(Verdict(text, None, "no derived point is missing, but completeness of the derived list "
                                                    "is not proved for a non-polynomial f"))
    if claims["gradient"] is not None:
        parsed, raw = claims["gradient"]
        diffs = [sp.simplify(c - g) for c, g in zip(parsed, grad)]
        text = "gradient = (" + ", ".join(raw) + ")"
        bad = [i for i, d in enumerate(diffs) if d != 0]
        if not bad:
            verdicts.append(Verdict(text, True, "equal to the derived gradient component by component (exact simplification)"))
        else:
            i = bad[0]
            pt = _witness_point(diffs[i], variables)
            verdicts.append(Verdict(
                text, False,
                f"component {i + 1} (d f/d {variables[i].name}) differs: claimed - derived = {sp.sstr(diffs[i])}; "
                f"at {_pt(pt)} the claim gives {sp.sstr(parsed[i].subs(dict(zip(variables, pt))))}, "
                f"the derivative is {sp.sstr(grad[i].subs(dict(zip(variables, pt))))}",
                r"\frac{\partial f}{\partial " + sp.latex(variables[i]) + "} = " + sp.latex(grad[i])))
    return verdicts


def _witness_point(diff, variables):
    for cand in ([1] * len(variables), [2] * len(variables), list(range(1, len(variables) + 1)), [3, -1, 2, 5, -2, 7][:len(variables)]):
        pt = tuple(sp.Integer(c) for c in cand)
        val = diff.subs(dict(zip(variables, pt)))
        if val.is_number and not algebra.is_zero(val):
            return pt
    return tuple(sp.Integer(1) for _ in variables)


# ---------------------------------------------------------------- the solver

def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    f, variables = _setup(params)
    n = len(variables)
    grad = [sp.diff(f, v) for v in variables]
    H = sp.hessian(f, variables)
    polynomial = f.is_polynomial(*variables)
    result = Result(problem_id="hertie.1.1", title="Critical points",
                    params={"f": sp.sstr(f), "vars": [v.name for v in variables]}, random_state=0)
    parsed_claims = parse_claims(claims, variables) if claims else None
    try:
        with time_limit(SOLVE_TIME_LIMIT_S, "solving grad f = 0"):
            cset = find_critical_set(f, variables)
    except (NotImplementedError, Timeout) as exc:
        result.status = "error"
        result.error = f"the gradient system could not be solved: {exc}"
        return result
    result.steps.append(Step(text="The function:", math="f" + _pt_latex(variables) + " = " + sp.latex(f)))
    result.steps.append(Step(text="Its gradient (factored):", rule="partial derivatives",
                             math=r"\nabla f = " + r"\begin{pmatrix}" + r" \\ ".join(sp.latex(sp.factor(g)) for g in grad) + r"\end{pmatrix}"))
    result.steps.append(Step(text="Critical points solve the system", rule="first-order condition",
                             math=r",\quad ".join(sp.latex(sp.factor(g)) + " = 0" for g in grad)))
    if cset.groebner is not None and cset.groebner != [1] and len(cset.groebner) <= 6 and sum(len(sp.sstr(g)) for g in cset.groebner) < 400:
        result.steps.append(Step(text="A lexicographic Gröbner basis of the numerators of the system (same solutions):",
                                 rule="Buchberger's algorithm (sympy.groebner)",
                                 math=r",\quad ".join(sp.latex(sp.factor(g)) + " = 0" for g in cset.groebner)))
    if cset.groebner == [sp.Integer(1)]:
        result.steps.append(Step(text="The Gröbner basis is {1}: the system has no solution, even complex. f has no critical points.",
                                 rule="Gröbner basis"))
    elif cset.finite:
        rule = cset.method
        if cset.points:
            result.steps.append(Step(text=f"The real solutions ({len(cset.points)}):", rule=rule,
                                     math=r",\quad ".join(_pt_latex(p) for p in cset.points),
                                     gap=not cset.complete_proved))
        else:
            result.steps.append(Step(text="The system has no real solution: f has no critical points.", rule=rule,
                                     gap=not cset.complete_proved))
        if not cset.complete_proved:
            result.steps.append(Step(text="Completeness of this list is not proved: f is not polynomial and SymPy's "
                                          "solve may omit solutions (for example periodic families).", gap=True,
                                     rule="no proof"))
    else:
        fams = r",\quad ".join(_family_latex(fm, variables) for fm in cset.families)
        result.steps.append(Step(text="The critical set is not finite (the Gröbner basis is not zero-dimensional); it contains",
                                 rule=cset.method, math=fams, gap=True))
        if cset.points:
            result.steps.append(Step(text="and the isolated points", math=r",\quad ".join(_pt_latex(p) for p in cset.points)))
    if cset.domain_excluded:
        result.steps.append(Step(text="Solutions of the numerators where a denominator vanishes are outside the domain: "
                                      + ", ".join(_pt(p) for p in cset.domain_excluded)))
    result.steps.append(Step(text="The Hessian:", rule="second partial derivatives",
                             math=r"H(" + ", ".join(sp.latex(v) for v in variables) + ") = " + sp.latex(H)))

    classes: dict[int, Classification] = {}
    rows = []
    for i, p in enumerate(cset.points):
        subs = dict(zip(variables, p))
        H_p = H.subs(subs).applyfunc(sp.simplify)
        cls = classify(f, variables, p, H_p, polynomial, seed=i)
        classes[i] = cls
        det = sp.simplify(H_p.det())
        math_text = r"H" + _pt_latex(p) + " = " + sp.latex(H_p) + r",\quad \lambda = " + _eigen_latex(H_p)
        if n == 2:
            math_text += r",\quad \det H = " + sp.latex(det) + r",\quad H_{11} = " + sp.latex(H_p[0, 0])
        result.steps.append(Step(
            text=f"At {_pt(p)}: {cls.reason}, so {_pt(p)} is a {cls.kind}."
                 + (" " + "; ".join(cls.witnesses) + "." if cls.witnesses else ""),
            math=math_text, rule="second-derivative test" if not cls.degenerate else "higher-order test",
            gap=cls.kind == "undetermined"))
        rows.append([_pt_latex(p), sp.latex(sp.simplify(f.subs(subs))), _eigen_latex(H_p), cls.kind])
    if rows:
        result.tables.append(Table(caption="Critical points and their classification",
                                   columns=["point", "f(point)", "Hessian eigenvalues", "kind"],
                                   rows=rows, math_columns=[0, 1, 2]))
    kinds = [classes[i].kind for i in range(len(cset.points))]
    summary = ", ".join(f"{_pt(p)} {k}" for p, k in zip(cset.points, kinds)) or "no isolated critical points"
    if not cset.finite:
        summary = "critical set not finite; " + summary
    result.summary = summary
    result.steps.append(Step(text="Conclusion: " + summary + "."))

    # -- checks against independent oracles ---------------------------------
    ok = all(all(algebra.is_zero(g.subs(dict(zip(variables, p)))) for g in grad) for p in cset.points)
    result.checks.append(Check("gradient vanishes at every derived point", "exact substitution", ok,
                               f"{len(cset.points)} point(s)"))
    result.checks.append(_check_hessian_fd(f, variables, H, cset.points))
    result.checks.append(_check_numeric_completeness(f, variables, cset))
    if cset.points:
        result.checks.append(_check_sampling(f, variables, cset.points, classes))
    if parsed_claims:
        result.verdicts = check_claims(parsed_claims, f, variables, grad, H, cset, classes)
    if n == 2:
        fig = _contour_figure(f, variables, cset.points, kinds)
        if fig:
            result.figures.append(fig)
    return result


def _box(points) -> float:
    m = max([abs(float(sp.re(sp.N(c)))) for p in points for c in p] or [0.0])
    return max(4.0, 2.5 * m)


def _check_hessian_fd(f, variables, H, points) -> Check:
    """Compare the symbolic Hessian with central finite differences of f (40 digits, h = 1e-8).

    It is compared at every critical point and at one control point (1/3, 2/3, ...) that is not chosen by the
    solver, so that a Hessian that is only right where the gradient vanishes is caught too (with no critical
    points, at (1, ..., 1) and the control point)."""
    fn = sp.lambdify([variables], f, "mpmath")
    import mpmath as mp

    mp.mp.dps = 40
    control = tuple(sp.Rational(k + 1, 3) for k in range(len(variables)))
    pts = list(points) or [tuple(sp.Integer(1) for _ in variables)]
    if points:
        where = f"the {len(points)} critical point" + ("s" if len(points) != 1 else "")
    else:
        where = "(" + ", ".join("1" for _ in variables) + ")"
    where += f" and the control point {_pt(control)}"
    pts = pts + [control]
    worst = 0.0
    h = mp.mpf("1e-8")
    for p in pts:
        x = [mp.mpf(str(sp.N(c, 40))) for c in p]
        Hp = H.subs(dict(zip(variables, p)))
        for i in range(len(variables)):
            for j in range(len(variables)):
                def at(di, dj):
                    y = list(x)
                    y[i] += di
                    y[j] += dj
                    return fn(y)
                fd = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
                exact = mp.mpf(str(sp.N(Hp[i, j], 40)))
                worst = max(worst, float(abs(fd - exact) / max(1, abs(exact))))
    return Check("Hessian agrees with finite differences of f", "central differences, 40 digits, h = 1e-8",
                 worst < 1e-6, f"largest relative difference {worst:.2g} at {len(pts)} points: {where}")


def _check_numeric_completeness(f, variables, cset: CriticalSet) -> Check:
    box = _box(cset.points)
    roots = numeric_roots(f, variables, box)
    unexplained = []
    for x in roots:
        near = any(np.linalg.norm(x - np.array([float(sp.re(sp.N(c))) for c in p])) < 1e-2 * max(1.0, box / 4)
                   for p in cset.points)
        if not near and not any(_family_contains(fm, variables, x) for fm in cset.families):
            unexplained.append(x)
    detail = f"{len(roots)} distinct numeric root(s) of the gradient from 150 starts in [-{box:g}, {box:g}]^{len(variables)}"
    if unexplained:
        detail += "; not in the derived set: " + ", ".join("(" + ", ".join(f"{c:.6g}" for c in x) + ")" for x in unexplained[:3])
    return Check("a numeric root search finds no other critical point", "multi-start Newton (scipy.optimize.root)",
                 not unexplained, detail)


def _check_sampling(f, variables, points, classes) -> Check:
    """Sample f around each classified point at small radii and compare with its kind."""
    import mpmath as mp

    mp.mp.dps = 50
    fn = sp.lambdify([variables], f, "mpmath")
    rng = np.random.default_rng(0)
    problems = []
    for i, p in enumerate(points):
        kind = classes[i].kind
        if kind == "undetermined":
            continue
        x0 = [mp.mpf(str(sp.N(c, 50))) for c in p]
        f0 = fn(x0)
        signs = set()
        for r in ("1e-3", "1e-5"):
            for _ in range(64):
                u = rng.normal(size=len(variables))
                u /= np.linalg.norm(u)
                y = [a + mp.mpf(r) * mp.mpf(float(c)) for a, c in zip(x0, u)]
                d = fn(y) - f0
                if abs(d) > mp.mpf(10) ** -45:
                    signs.add(1 if d > 0 else -1)
        if kind == "minimum" and -1 in signs or kind == "maximum" and 1 in signs:
            problems.append(f"{_pt(p)} sampled values contradict {kind}")
        if kind == "saddle" and len(signs) < 2 and not classes[i].witnesses:
            problems.append(f"{_pt(p)}: sampling found only one sign for a saddle")
    return Check("the classification agrees with sampling f near each point", "128 random directions at radii 1e-3 and 1e-5, 50 digits",
                 not problems, "; ".join(problems) or f"{len(points)} point(s) consistent")


def _contour_figure(f, variables, points, kinds) -> Optional[Figure]:
    x, y = variables
    fn = sp.lambdify((x, y), f, "numpy")
    coords = np.array([[float(sp.re(sp.N(c))) for c in p] for p in points]) if points else np.zeros((1, 2))
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.maximum(hi - lo, 2.0)
    lo, hi = lo - 0.35 * span, hi + 0.35 * span
    xs = np.linspace(lo[0], hi[0], 81)
    ys = np.linspace(lo[1], hi[1], 81)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(fn(X, Y), dtype=float) * np.ones_like(X)
    Z[~np.isfinite(Z)] = np.nan
    if np.all(np.isnan(Z)):
        return None
    return Figure(
        name="contour", kind="contour",
        caption="Level sets of f with its critical points marked by kind (colour: value of f, clipped to its "
                "10th-90th percentile on the window).",
        caption_math="f" + _pt_latex(variables) + " = " + sp.latex(f),
        xlabel=x.name, ylabel=y.name,
        grid={"x": [round(v, 6) for v in xs.tolist()], "y": [round(v, 6) for v in ys.tolist()],
              "z": [[None if np.isnan(v) else round(float(v), 6) for v in row] for row in Z]},
        points=[{"x": float(c[0]), "y": float(c[1]), "label": f"{_approx(p)} {k}", "kind": k}
                for c, p, k in zip(coords, points, kinds)])
