"""Exact algebra helpers shared by the theory solvers.

* :func:`is_zero` decides exactly whether an algebraic expression vanishes.
* :func:`sign` gives the exact sign of a real algebraic number.
* :func:`real_solutions` finds every real solution of a zero-dimensional
  polynomial system (also when the roots are not expressible in radicals,
  where ``sympy.solve`` silently returns nothing).

>>> x, y = sp.symbols("x y")
>>> real_solutions([x**2 - 2, y - x], [x, y])
[(-sqrt(2), -sqrt(2)), (sqrt(2), sqrt(2))]
>>> sign(sp.sqrt(2) - sp.Rational(141, 100))
1
"""
from __future__ import annotations

import itertools
from typing import Sequence

import mpmath
import sympy as sp

_PREC = 60  # decimal digits for numeric screening


def is_zero(expr) -> bool:
    """Exact zero test: structural simplification, then the minimal polynomial."""
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    if expr.free_symbols:
        return sp.simplify(expr) == 0
    value = expr.evalf(_PREC)
    if value.is_number and abs(complex(value)) > mpmath.mpf(10) ** (-_PREC // 2):
        return False
    simp = sp.nsimplify(expr) if not expr.has(sp.CRootOf) else expr
    if sp.simplify(simp) == 0:
        return True
    try:
        t = sp.Dummy("t")
        return sp.minimal_polynomial(expr, t) == t
    except (NotImplementedError, ValueError):
        # fall back to very high precision evaluation, stated by the caller as numeric
        return abs(complex(expr.evalf(200))) < 1e-150


def sign(value) -> int:
    """Exact sign of a real algebraic number (-1, 0 or 1)."""
    value = sp.sympify(value)
    if is_zero(value):
        return 0
    approx = value.evalf(_PREC)
    re = sp.re(approx)
    return 1 if re > 0 else -1


def _univariate_real_roots(poly: sp.Poly) -> list[sp.Expr]:
    """Real roots of a univariate polynomial: radicals up to degree 2, CRootOf beyond."""
    roots: list[sp.Expr] = []
    _, factors = sp.factor_list(poly)
    for factor, _mult in factors:
        if factor.degree() <= 0:
            continue
        if factor.degree() <= 2:
            for r in sp.roots(factor, multiple=True):
                if r.is_real:
                    roots.append(sp.radsimp(r))
        else:
            roots.extend(factor.real_roots())
    unique: list[sp.Expr] = []
    for r in sorted(roots, key=lambda r: float(r.evalf(30))):
        if not any(is_zero(r - u) for u in unique):
            unique.append(r)
    return unique


def eliminant(polys: Sequence[sp.Expr], variables: Sequence[sp.Symbol], var: sp.Symbol) -> sp.Poly:
    """The generator of the ideal intersected with Q[var] (zero-dimensional ideals)."""
    order = [v for v in variables if v != var] + [var]
    G = sp.groebner(list(polys), *order, order="lex")
    for g in reversed(G.exprs):
        if g.free_symbols <= {var}:
            return sp.Poly(g, var)
    raise ValueError(f"no univariate eliminant in {var}: the system is not zero-dimensional")


def real_solutions(polys: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> list[tuple]:
    """Every real solution of a zero-dimensional polynomial system, exactly.

    Each coordinate is a real root of that variable's eliminant; candidate
    tuples are screened at high precision and then confirmed exactly.
    """
    candidates = [_univariate_real_roots(eliminant(polys, variables, v)) for v in variables]
    solutions = []
    for point in itertools.product(*candidates):
        subs = dict(zip(variables, point))
        approx = {v: sp.N(val, _PREC) for v, val in subs.items()}
        if any(abs(complex(sp.N(p.subs(approx), _PREC // 2))) > 1e-20 for p in polys):
            continue
        if all(is_zero(sp.expand(p.subs(subs))) for p in polys):
            solutions.append(tuple(point))
    return solutions
