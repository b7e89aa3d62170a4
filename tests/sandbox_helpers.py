"""Solvers that misbehave, for tests/test_sandbox.py (each has the solver signature ``f(params, claims)``)."""
import collections
import itertools
import os
import signal

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


def hog(params, claims):
    """Allocate ``params["gb"]`` GB at once (past a small memory limit: a MemoryError, no page touched)."""
    return Result(problem_id="", summary=f"{len(bytearray(int(params['gb'] * 2**30)))} bytes")


def hog_torch(params, claims):
    """The same through torch's CPU allocator (it raises RuntimeError, not MemoryError)."""
    import torch

    return Result(problem_id="", summary=str(torch.empty(int(params["gb"] * 2**30), dtype=torch.uint8).shape))


def killed(params, claims):
    """Die as the kernel's out-of-memory killer would end it."""
    os.kill(os.getpid(), signal.SIGKILL)


def data_limit(params, claims):
    """The worker's RLIMIT_DATA (soft, hard) in bytes."""
    import resource

    return Result(problem_id="", summary=str(resource.getrlimit(resource.RLIMIT_DATA)), data={"pid": os.getpid()})


def internal_timeout(params, claims):
    """A fixed limit inside the solver fires (as parsing or an exact simplification would)."""
    from theory.parse import time_limit

    with time_limit(0.2, "simplifying claimed - derived"):
        while True:
            pass
