"""Solvers that misbehave, for tests/test_sandbox.py (each has the solver signature ``f(params, claims)``)."""
import collections
import itertools
import os

from problems.errors import InputError
from problems.model import Result


def forever(params, claims):
    """A pure-Python loop (SIGALRM could stop this one)."""
    while True:
        pass


def forever_in_c(params, claims):
    """One call into C that never returns and never checks for signals (SIGALRM cannot stop it)."""
    collections.deque(itertools.repeat(None), maxlen=0)


def huge_sympy(params, claims):
    """A SymPy computation far beyond any limit: factor a 200-digit semiprime."""
    import sympy

    p, q = sympy.prime(10**6), sympy.nextprime(10**199)
    return Result(problem_id="", summary=str(sympy.factorint(sympy.nextprime(10**100) * q * p)))


def crash(params, claims):
    os._exit(3)


def bad_input(params, claims):
    raise InputError("claim 'x': expected a number, got 'banana'")


def boom(params, claims):
    raise ZeroDivisionError("nothing to divide by in boom")


def echo(params, claims):
    return Result(problem_id="", summary=f"pid {os.getpid()}", params=dict(params),
                  data={"claims": claims}, timings={})
