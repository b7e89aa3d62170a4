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
