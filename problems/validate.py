"""Validation of solver parameters at the door: one line naming the parameter and the bad value.

>>> int_param({"K": "3"}, "K", 2, 2, 8)
3
>>> int_param({}, "K", 2, 2, 8)
2
>>> int_param({"K": 9}, "K", 2, 2, 8)
Traceback (most recent call last):
...
problems.errors.InputError: parameter K: 9 is outside 2..8
"""
from __future__ import annotations

from collections.abc import Iterable

from problems.errors import InputError


def int_param(params: dict, key: str, default: int, lo: int, hi: int) -> int:
    """``params[key]`` (or ``default``) as an integer in ``lo..hi``; a one-element list, or text that is an
    integer, is accepted (``--param K=3`` arrives as text); a bool is not an integer."""
    v = params.get(key, default)
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    try:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError
        v = int(v)
    except (TypeError, ValueError):
        raise InputError(f"parameter {key}: expected an integer, got {v!r}") from None
    if not lo <= v <= hi:
        raise InputError(f"parameter {key}: {v} is outside {lo}..{hi}")
    return v


def bool_claim(claims: dict, key: str, pid: str) -> bool:
    """``claims[key]`` as a TOML boolean; anything else is a one-line InputError naming the key.

    >>> bool_claim({"convex": "yes"}, "convex", "ist21.q1.2")
    Traceback (most recent call last):
    ...
    problems.errors.InputError: ["ist21.q1.2"].convex: expected true or false
    """
    v = claims[key]
    if not isinstance(v, bool):
        raise InputError(f'["{pid}"].{key}: expected true or false')
    return v


def claim_keys(claims, allowed: Iterable[str], where: str) -> dict:
    """``claims`` itself, once it is a table whose every key is in ``allowed``; otherwise a one-line InputError
    at ``where`` (``'["pid"]'``, or a nested place). The expected keys are listed sorted when ``allowed`` is a
    set, in the given order when it is a sequence (a tuple or a dict's keys).

    >>> claim_keys({"dual": "a"}, {"n", "dual"}, '["tau.t2"]')
    {'dual': 'a'}
    >>> claim_keys({"x": 1, "duel": 2}, {"n", "dual"}, '["tau.t2"]')
    Traceback (most recent call last):
    ...
    problems.errors.InputError: ["tau.t2"]: unknown key(s) duel, x (expected: dual, n)
    >>> claim_keys({"z": 1}, ("g", "o"), '["q"]')
    Traceback (most recent call last):
    ...
    problems.errors.InputError: ["q"]: unknown key(s) z (expected: g, o)
    >>> claim_keys(["dual"], {"dual"}, '["tau.t2"]')
    Traceback (most recent call last):
    ...
    problems.errors.InputError: ["tau.t2"]: expected a table of claims
    """
    if not isinstance(claims, dict):
        raise InputError(f"{where}: expected a table of claims")
    expected = sorted(allowed) if isinstance(allowed, (set, frozenset)) else list(allowed)
    unknown = sorted(set(claims) - set(expected))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)} (expected: {', '.join(expected)})")
    return claims


def text_claim(claims: dict, key: str, pid: str) -> str:
    """``claims[key]`` as text (an expression still to be parsed); anything else is a one-line InputError.

    >>> text_claim({"dual": 3}, "dual", "tau.t2")
    Traceback (most recent call last):
    ...
    problems.errors.InputError: ["tau.t2"].dual: expected an expression as text
    """
    v = claims[key]
    if not isinstance(v, str):
        raise InputError(f'["{pid}"].{key}: expected an expression as text')
    return v
