"""Decide whether a claimed expression equals a derived one.

An exact proof is tried first: ``claimed - derived`` simplifies to 0, directly
or after rewriting in ``exp`` (sigmoid, tanh, ...) and together/cancel/expand.
Without a proof both sides are evaluated at random points with mpmath at 50
digits; any point where they differ (relative tolerance 1e-30) refutes the
claim, and the point and both values are reported. Agreement at every sampled
point is reported as ``equal=True`` with ``method='numeric'`` and evidence
that says it is not proved. A sampled point that differs is never reported as
equal.

>>> import sympy as sp
>>> z = sp.Symbol("z", real=True)
>>> s = 1 / (1 + sp.exp(-z))
>>> equivalent(s * (1 - s), sp.exp(-z) / (1 + sp.exp(-z))**2, [z]).equal
True
>>> e = equivalent(s**2, s * (1 - s), [z])
>>> e.equal, e.method, e.point is not None
(False, 'numeric', True)
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
            except Exception:  # noqa: BLE001 - any SymPy failure means "no proof by this route"
                continue
    return None


def _residual(diff) -> str:
    try:
        with time_limit(EXACT_TIME_LIMIT_S, "simplifying the residual"):
            r = sp.simplify(diff)
    except Exception:  # noqa: BLE001
        r = diff
    text = sp.sstr(r)
    return text if len(text) < MAX_RESIDUAL_CHARS else ""


# ---------------------------------------------------------------- numeric

def _evaluator(expr, symbols):
    try:
        fn = sp.lambdify(symbols, expr, "mpmath")
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


# ---------------------------------------------------------------- API

def equivalent(claimed, derived, symbols, *, domain: Optional[dict] = None, points: int = 20,
               seed: int = 0) -> Equivalence:
    """Is ``claimed`` equal to ``derived`` as functions of ``symbols``?

    ``domain`` optionally maps a symbol (or its name) to a sampling interval
    ``(lo, hi)``; by default positive symbols are sampled in (0, 3], others in
    [-3, 3], and points where either side is undefined are skipped.
    """
    claimed, derived = sp.sympify(claimed), sp.sympify(derived)
    symbols = list(symbols)
    extra = (claimed.free_symbols | derived.free_symbols) - set(symbols)
    symbols += sorted(extra, key=lambda s: s.name)
    route = _proved_zero(claimed - derived)
    if route is not None:
        return Equivalence(True, "exact", f"proved: claimed - derived = 0 ({route})", residual="0")
    return _numeric(claimed, derived, symbols, domain, points, seed)


def equivalent_matrix(claimed: sp.Matrix, derived: sp.Matrix, symbols, *, domain: Optional[dict] = None,
                      points: int = 20, seed: int = 0) -> Equivalence:
    """Entry-by-entry :func:`equivalent`; reports the first entry that differs (0-based (i, j))."""
    claimed, derived = sp.Matrix(claimed), sp.Matrix(derived)
    if claimed.shape != derived.shape:
        return Equivalence(False, "exact", f"shape {claimed.shape} differs from the derived shape {derived.shape}")
    methods, undecided = set(), None
    for i in range(derived.rows):
        for j in range(derived.cols):
            e = equivalent(claimed[i, j], derived[i, j], symbols, domain=domain, points=points, seed=seed)
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
