"""Decide whether a claimed expression equals a derived one.

An exact proof is tried first: ``claimed - derived`` simplifies to 0, directly
or after rewriting in ``exp`` (sigmoid, tanh, ...) and together/cancel/expand.
Without a proof both sides are evaluated at random points with mpmath at 50
digits; any point where they differ (relative tolerance 1e-30) refutes the
claim, and the point and both values are reported. Agreement at every sampled
point is reported as ``equal=True`` with ``method='numeric'`` and evidence
that says it is not proved. A sampled point that differs is never reported as
equal.

Piecewise expressions (``Max``/``Min``/``relu``, ``Abs``, ``Heaviside``,
``sign``, ``Piecewise`` from ``indicator(z > 0)``) that the global proof does
not settle are compared region by region: the kink arguments (the argument of
Heaviside/sign/Abs, ``a - b`` for ``Max(a, b)``, ``lhs - rhs`` of each
condition) split the space into sign regions; on each region found by
sampling, every non-smooth atom is replaced by its active branch and the two
smooth branches are proved equal (or sampled inside the region). On the kink
itself (where an argument is 0) the values are compared too, unless the caller
passes ``kink="any"`` (the problem allows any convention there); the evidence
states the values at the kink either way.

>>> import sympy as sp
>>> z = sp.Symbol("z", real=True)
>>> s = 1 / (1 + sp.exp(-z))
>>> equivalent(s * (1 - s), sp.exp(-z) / (1 + sp.exp(-z))**2, [z]).equal
True
>>> e = equivalent(s**2, s * (1 - s), [z])
>>> e.equal, e.method, e.point is not None
(False, 'numeric', True)
>>> relu_prime = sp.Heaviside(z)                       # SymPy's convention: 1/2 at 0
>>> ind = sp.Piecewise((1, z > 0), (0, True))          # indicator(z > 0): 0 at 0
>>> e = equivalent(ind, relu_prime, [z]); e.equal, e.point
(False, {'z': '0'})
>>> e = equivalent(ind, relu_prime, [z], kink="any"); e.equal, e.method
(True, 'exact')
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Optional

import mpmath as mp
import sympy as sp

from theory.parse import Timeout, time_limit

DIGITS = 50
REL_TOL = mp.mpf("1e-30")
EXACT_TIME_LIMIT_S = 5.0
MAX_RESIDUAL_CHARS = 200


@dataclass
class Equivalence:
    equal: Optional[bool]
    method: str  # 'exact' or 'numeric'
    evidence: str
    residual: str = ""
    point: Optional[dict] = None
    claimed_value: Optional[str] = None
    derived_value: Optional[str] = None
    entry: Optional[tuple] = None  # (i, j) for equivalent_matrix

    def __bool__(self) -> bool:  # only a definite True counts
        return self.equal is True


# ---------------------------------------------------------------- exact

def _transforms():
    return (
        lambda e: e,
        lambda e: sp.cancel(sp.together(e)),
        sp.expand,
        sp.simplify,
        lambda e: sp.simplify(sp.cancel(sp.together(sp.expand(e)))),
    )


def _proved_zero(diff) -> Optional[str]:
    """The name of the route that simplifies ``diff`` to 0, or None."""
    diff = sp.sympify(diff)
    if diff == 0:
        return "identical"
    candidates = [("", diff)]
    try:
        rewritten = diff.rewrite(sp.exp)
        if rewritten != diff:
            candidates.append(("rewritten in exp, ", rewritten))
    except MemoryError:  # out of the solver's memory limit: not 'no proof'
        raise
    except Exception:  # noqa: BLE001 - rewrite is best effort
        pass
    names = ("", "together/cancel", "expand", "simplify", "expand/together/cancel/simplify")
    for prefix, cand in candidates:
        for name, tf in zip(names, _transforms()):
            try:
                with time_limit(EXACT_TIME_LIMIT_S, "simplifying claimed - derived"):
                    if tf(cand) == 0:
                        return (prefix + (name or "as written")).strip(", ")
            except Timeout:
                continue
            except MemoryError:  # out of the solver's memory limit: not 'no proof'
                raise
            except Exception:  # noqa: BLE001 - any SymPy failure means "no proof by this route"
                continue
    return None


def _residual(diff) -> str:
    try:
        with time_limit(EXACT_TIME_LIMIT_S, "simplifying the residual"):
            r = sp.simplify(diff)
    except MemoryError:  # out of the solver's memory limit: not 'no proof'
        raise
    except Exception:  # noqa: BLE001
        r = diff
    text = sp.sstr(r)
    return text if len(text) < MAX_RESIDUAL_CHARS else ""


# ---------------------------------------------------------------- numeric

def _evaluator(expr, symbols):
    try:
        fn = sp.lambdify(symbols, expr, "mpmath")
    except MemoryError:  # out of the solver's memory limit: not 'no proof'
        raise
    except Exception:  # noqa: BLE001
        fn = None

    def evaluate(values):
        try:
            if fn is not None:
                v = fn(*values)
            else:
                raise TypeError
        except (TypeError, NameError, AttributeError):
            subs = {s: sp.Float(mp.nstr(x, DIGITS + 5), DIGITS + 5) for s, x in zip(symbols, values)}
            v = sp.sympify(expr).evalf(DIGITS, subs=subs)
            v = complex(v) if not v.is_real else mp.mpf(str(v)) if v.is_number else None
        return v
    return evaluate


def _finite_real(v) -> Optional[Any]:
    try:
        if isinstance(v, (mp.mpc, complex)):
            if abs(v.imag) > mp.mpf(10) ** (-DIGITS + 10) * max(1, abs(v.real)):
                return None
            v = v.real
        v = mp.mpf(v)
    except (TypeError, ValueError):
        return None
    if not mp.isfinite(v):
        return None
    return v


def _sample(sym, domain, rng):
    if domain and (sym in domain or sym.name in domain):
        lo, hi = domain.get(sym, domain.get(sym.name))
    elif sym.is_positive:
        lo, hi = 0.05, 3.0
    elif sym.is_negative:
        lo, hi = -3.0, -0.05
    elif sym.is_nonnegative:
        lo, hi = 0.0, 3.0
    else:
        lo, hi = -3.0, 3.0
    # a short decimal, exact in sympy and mpmath alike
    return mp.mpf(str(round(rng.uniform(float(lo), float(hi)), 4)))


def _fmt(v) -> str:
    return mp.nstr(v, 20)


def _point_text(point: dict) -> str:
    return "(" + ", ".join(f"{k} = {v}" for k, v in point.items()) + ")"


def _numeric(claimed, derived, symbols, domain, points, seed) -> Equivalence:
    rng = random.Random(seed)
    symbols = list(symbols)
    with mp.workdps(DIGITS):
        fc = _evaluator(claimed, symbols)
        fd = _evaluator(derived, symbols)
        agreed, attempts, undefined = 0, 0, 0
        while agreed < points and attempts < 20 * points + 20:
            attempts += 1
            values = [_sample(s, domain, rng) for s in symbols]
            try:
                a = _finite_real(fc(values))
                b = _finite_real(fd(values))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                undefined += 1
                continue
            if a is None or b is None:
                undefined += 1
                continue
            if abs(a - b) > REL_TOL * max(1, abs(a), abs(b)):
                point = {s.name: mp.nstr(x, 6) for s, x in zip(symbols, values)}
                residual = _residual(claimed - derived)
                return Equivalence(
                    False, "numeric",
                    f"differs at {_point_text(point)}: claimed = {_fmt(a)}, derived = {_fmt(b)}"
                    + (f"; claimed - derived simplifies to {residual}" if residual else ""),
                    residual=residual, point=point, claimed_value=_fmt(a), derived_value=_fmt(b))
            agreed += 1
    if agreed == 0:
        return Equivalence(None, "numeric",
                           f"undecided: no proof, and no sampled point where both sides are defined "
                           f"({attempts} tried)")
    return Equivalence(True, "numeric",
                       f"not proved; agrees at {agreed} random points ({DIGITS} digits)"
                       + (f"; {undefined} point(s) where a side is undefined were skipped" if undefined else ""))


# ---------------------------------------------------------------- piecewise

MAX_KINKS = 6
MAX_PROVED_REGIONS = 16  # beyond this many regions, the rest are sampled (bounded time)
KINK_SOLVE_TIME_S = 2.0
_NONSMOOTH = (sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.Piecewise)


def _kink_args(expr) -> set:
    """The expressions whose sign decides the active branch of every non-smooth atom."""
    out = set()
    for atom in sp.sympify(expr).atoms(*_NONSMOOTH):
        if isinstance(atom, (sp.Max, sp.Min)):
            a = list(atom.args)
            out |= {a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a))}
        elif isinstance(atom, sp.Piecewise):
            for _, cond in atom.args:
                for rel in getattr(cond, "atoms", lambda *_: set())(sp.core.relational.Relational):
                    out.add(rel.lhs - rel.rhs)
        else:
            out.add(atom.args[0])
    return {_canonical(k) for k in out if not k.is_number}


def _canonical(k):
    """One representative of {k, -k}: both split space into the same two regions."""
    k = sp.expand(k)
    return -k if k.could_extract_minus_sign() else k


def _active_branch(expr, at: dict):
    """``expr`` with each non-smooth atom replaced by its branch active at the point ``at``
    (innermost first); valid on the whole open sign region that contains ``at``."""
    def val(e):
        return sp.sympify(e).evalf(DIGITS, subs=at)

    def rec(e):
        if not isinstance(e, sp.Basic) or e.is_Atom:
            return e
        if isinstance(e, sp.Piecewise):
            for piece, cond in e.args:
                truth = cond.subs(at) if cond not in (sp.true, sp.false) else cond
                if truth == sp.true:
                    return rec(piece)
            raise ValueError("no Piecewise branch holds")
        args = [rec(a) for a in e.args]
        if isinstance(e, sp.Max):
            return max(args, key=val)
        if isinstance(e, sp.Min):
            return min(args, key=val)
        if isinstance(e, sp.Abs):
            return args[0] if val(args[0]) > 0 else -args[0]
        if isinstance(e, sp.Heaviside):
            return sp.Integer(1 if val(args[0]) > 0 else 0)
        if isinstance(e, sp.sign):
            return sp.Integer(1 if val(args[0]) > 0 else -1)
        return e.func(*args) if args != list(e.args) else e
    return rec(expr)


def _region_text(kinks, pattern) -> str:
    return ", ".join(f"{sp.sstr(k)} {'>' if s > 0 else '<'} 0" for k, s in zip(kinks, pattern))


def _exact_value(expr, at: dict):
    try:
        v = sp.sympify(expr).subs(at)
        return v, _finite_real(mp.mpf(str(sp.N(v, DIGITS)))) if v.is_number else None
    except MemoryError:  # out of the solver's memory limit: not 'no proof'
        raise
    except Exception:  # noqa: BLE001 - undefined at this point
        return None, None


def _kink_points(kinks, symbols, domain, rng, per_kink: int = 3):
    """Points where one kink argument is exactly 0: solve it for one symbol, the others random (rational)."""
    out = []
    for k in kinks:
        free = [s for s in symbols if s in k.free_symbols]
        if not free:
            continue
        target = free[0]
        try:
            with time_limit(KINK_SOLVE_TIME_S, "solving for a kink"):
                sols = sp.solve(k, target)
        except MemoryError:  # out of the solver's memory limit: not 'no proof'
            raise
        except Exception:  # noqa: BLE001
            continue
        tries = 1 if len(free) == 1 and len(symbols) == 1 else per_kink
        for _ in range(tries):
            at = {s: sp.Rational(str(_sample(s, domain, rng))) for s in symbols if s != target}
            for sol in sols[:2]:
                v = sp.sympify(sol).subs(at)
                if v.is_real:
                    out.append((k, {**at, target: v}))
    return out


def _piecewise(claimed, derived, symbols, kinks, domain, points, seed, kink) -> Equivalence:
    rng = random.Random(seed)
    regions: dict[tuple, list[dict]] = {}
    with mp.workdps(DIGITS):
        fk = [_evaluator(k, symbols) for k in kinks]
        for _ in range(max(200, 10 * points)):
            values = [_sample(s, domain, rng) for s in symbols]
            try:
                signs = tuple(int(mp.sign(_finite_real(f(values)) or 0)) for f in fk)
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            if 0 in signs:
                continue
            regions.setdefault(signs, []).append(values)
    if not regions:
        return _numeric(claimed, derived, symbols, domain, points, seed)
    proved, sampled, notes = 0, 0, []
    for pattern in sorted(regions):
        pts = regions[pattern]
        at = {s: sp.Float(mp.nstr(x, DIGITS + 5), DIGITS + 5) for s, x in zip(symbols, pts[0])}
        try:
            bc, bd = _active_branch(claimed, at), _active_branch(derived, at)
        except MemoryError:  # out of the solver's memory limit: not 'no proof'
            raise
        except Exception:  # noqa: BLE001 - fall back to sampling the originals
            bc, bd = claimed, derived
        where = _region_text(kinks, pattern)
        if proved < MAX_PROVED_REGIONS and _proved_zero(bc - bd) is not None:
            proved += 1
            continue
        e = _numeric_at(claimed, derived, symbols, pts[:points])
        if e.equal is False:
            res = _residual(bc - bd)
            e.evidence = f"on the region {where}: {e.evidence}" + (
                f"; there claimed - derived = {res}" if res else "")
            e.residual = res
            return e
        if e.equal is True:
            sampled += 1
        else:
            notes.append(f"region {where} undecided")
    # the kink itself
    kink_notes, kinks_exact = [], True
    for k, at in _kink_points(kinks, symbols, domain, rng):
        if len(at) > 1:
            kinks_exact = False
        c_exact, c = _exact_value(claimed, at)
        d_exact, d = _exact_value(derived, at)
        point = {s.name: sp.sstr(v) for s, v in at.items()}
        if c is None or d is None:
            kinks_exact = False
            if len(kink_notes) < 3:
                kink_notes.append(f"at the kink {sp.sstr(k)} = 0 {_point_text(point)} a side is undefined")
            continue
        same = abs(c - d) <= REL_TOL * max(1, abs(c), abs(d))
        text = f"at the kink {sp.sstr(k)} = 0 {_point_text(point)}: claimed = {sp.sstr(c_exact)}, derived = {sp.sstr(d_exact)}"
        if not same and kink == "strict":
            return Equivalence(False, "exact", f"equal on every region, but differs {text} "
                               f"(the derived side's convention at the kink)", point=point,
                               claimed_value=sp.sstr(c_exact), derived_value=sp.sstr(d_exact))
        if text not in kink_notes and len(kink_notes) < 3:
            kink_notes.append(text)
    complete = len(regions) == 2 ** len(kinks)
    n = len(regions)
    how = (f"{proved} of {n} sign region(s) of {', '.join(sp.sstr(k) for k in kinks)} proved exactly"
           + (f", {sampled} agree at sampled points" if sampled else "")
           + ("" if complete else f" ({n} of {2 ** len(kinks)} sign patterns met by sampling)"))
    if notes and not proved and not sampled:
        return Equivalence(None, "numeric", "undecided: " + "; ".join(notes))
    kink_text = ("; kink values not compared (either convention accepted): " if kink == "any"
                 else "; equal at the kink: ") + "; ".join(kink_notes) if kink_notes else ""
    exact = complete and proved == n and (kink == "any" or kinks_exact)
    if exact:
        return Equivalence(True, "exact", "proved region by region: " + how + kink_text, residual="0")
    return Equivalence(True, "numeric", "not proved everywhere: " + how + kink_text
                       + ("; " + "; ".join(notes) if notes else ""))


def _numeric_at(claimed, derived, symbols, pts) -> Equivalence:
    """Compare at the given points (mpmath values); the first differing point refutes."""
    with mp.workdps(DIGITS):
        fc, fd = _evaluator(claimed, symbols), _evaluator(derived, symbols)
        agreed = 0
        for values in pts:
            try:
                a, b = _finite_real(fc(values)), _finite_real(fd(values))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            if a is None or b is None:
                continue
            if abs(a - b) > REL_TOL * max(1, abs(a), abs(b)):
                point = {s.name: mp.nstr(x, 6) for s, x in zip(symbols, values)}
                return Equivalence(False, "numeric",
                                   f"differs at {_point_text(point)}: claimed = {_fmt(a)}, derived = {_fmt(b)}",
                                   point=point, claimed_value=_fmt(a), derived_value=_fmt(b))
            agreed += 1
    if not agreed:
        return Equivalence(None, "numeric", "no point where both sides are defined")
    return Equivalence(True, "numeric", f"agrees at {agreed} points")


# ---------------------------------------------------------------- API

KINKS = ("strict", "any")


def equivalent(claimed, derived, symbols, *, domain: Optional[dict] = None, points: int = 20,
               seed: int = 0, kink: str = "strict") -> Equivalence:
    """Is ``claimed`` equal to ``derived`` as functions of ``symbols``?

    ``domain`` optionally maps a symbol (or its name) to a sampling interval
    ``(lo, hi)``; by default positive symbols are sampled in (0, 3], others in
    [-3, 3], and points where either side is undefined are skipped.
    ``kink`` applies to piecewise expressions: ``"strict"`` (default) also
    compares the values where a kink argument is 0; ``"any"`` accepts any
    value there (the evidence still states both values at the kink).
    """
    if kink not in KINDS_OK:
        raise ValueError(f"kink must be one of {KINKS}, got {kink!r}")
    claimed, derived = sp.sympify(claimed), sp.sympify(derived)
    symbols = list(symbols)
    extra = (claimed.free_symbols | derived.free_symbols) - set(symbols)
    symbols += sorted(extra, key=lambda s: s.name)
    route = _proved_zero(claimed - derived)
    if route is not None and (kink == "any" or not _kink_args(claimed) | _kink_args(derived)):
        return Equivalence(True, "exact", f"proved: claimed - derived = 0 ({route})", residual="0")
    if route is not None:  # identical as written: the kink values agree too
        return Equivalence(True, "exact", f"proved: claimed - derived = 0 ({route}), kinks included", residual="0")
    kinks = sorted(_kink_args(claimed) | _kink_args(derived), key=sp.default_sort_key)
    if kinks and len(kinks) <= MAX_KINKS:
        return _piecewise(claimed, derived, symbols, kinks, domain, points, seed, kink)
    return _numeric(claimed, derived, symbols, domain, points, seed)


KINDS_OK = KINKS


def equivalent_matrix(claimed: sp.Matrix, derived: sp.Matrix, symbols, *, domain: Optional[dict] = None,
                      points: int = 20, seed: int = 0, kink: str = "strict") -> Equivalence:
    """Entry-by-entry :func:`equivalent`; reports the first entry that differs (0-based (i, j))."""
    claimed, derived = sp.Matrix(claimed), sp.Matrix(derived)
    if claimed.shape != derived.shape:
        return Equivalence(False, "exact", f"shape {claimed.shape} differs from the derived shape {derived.shape}")
    methods, undecided = set(), None
    for i in range(derived.rows):
        for j in range(derived.cols):
            e = equivalent(claimed[i, j], derived[i, j], symbols, domain=domain, points=points, seed=seed, kink=kink)
            e.entry = (i, j)
            if e.equal is False:
                e.evidence = f"entry ({i + 1}, {j + 1}) " + e.evidence
                return e
            if e.equal is None and undecided is None:
                undecided = e
            methods.add(e.method)
    if undecided is not None:
        undecided.evidence = f"entry ({undecided.entry[0] + 1}, {undecided.entry[1] + 1}) " + undecided.evidence
        return undecided
    n = derived.rows * derived.cols
    if methods <= {"exact"}:
        return Equivalence(True, "exact", f"proved: all {n} entries simplify to equality", residual="0")
    return Equivalence(True, "numeric",
                       f"not proved for every entry; the unproved entries agree at {points} random points ({DIGITS} digits)")
