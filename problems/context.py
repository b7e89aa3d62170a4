"""The run context: how experiments run (profile, data and cache folders, executor, progress bars) and the
limits of theory and numeric solvers (seconds and GB; None: ``$DLCHECK_TIME_LIMIT`` / ``$DLCHECK_MEMORY_LIMIT``,
else the defaults in :mod:`problems.api`).

Solvers keep the pure signature ``solve(params, claims) -> Result``; an experiment solver reads
the context of the call that runs it with :func:`current`. The CLI sets it with :func:`using`.

>>> current().profile
'quick'
>>> with using(RunContext(profile="smoke")):
...     current().profile
'smoke'
>>> current().profile
'quick'
"""
from __future__ import annotations

import contextvars
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

PROFILES = ("smoke", "quick", "full")
TIME_LIMIT_ENV, MEMORY_LIMIT_ENV = "DLCHECK_TIME_LIMIT", "DLCHECK_MEMORY_LIMIT"
MAX_TIME_LIMIT_S = 86400.0    # one day; more would overflow the worker's poll and SIGALRM
MAX_MEMORY_LIMIT_GB = 1024.0
RAISE_TIME_LIMIT = f"raise the limit with --time-limit or ${TIME_LIMIT_ENV}"  # the advice in error Results
INTERNAL_LIMIT = "a fixed limit inside the solver, not the --time-limit: simplify the input"
RAISE_MEMORY_LIMIT = f"raise the limit with --memory-limit or ${MEMORY_LIMIT_ENV}"


def inherited_memory_cap_gb() -> float:
    """The hard RLIMIT_DATA this process already runs under (a worker cannot exceed it), in GB; inf if none."""
    try:
        import resource
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    except (ImportError, AttributeError, OSError):
        return float("inf")
    return float("inf") if hard == resource.RLIM_INFINITY else hard / 2**30


def raise_memory_advice(gb: Optional[float]) -> str:
    """How to get more memory: the option, unless an inherited hard limit is what binds (``gb``: the limit
    that held, None for none)."""
    cap = inherited_memory_cap_gb()
    if gb is not None and gb >= cap - 1e-9:
        return (f"the {cap:g} GB is a hard limit this process inherited (ulimit -d); --memory-limit cannot raise it, "
                "so raise it where the command is started")
    return RAISE_MEMORY_LIMIT


def check_limit(value, what: str, unit: str, most: float) -> float:
    """``value`` (a number or its text) as a float in (0, ``most``]; a ValueError naming ``what`` otherwise.

    >>> check_limit("2.5", "--time-limit", "seconds", MAX_TIME_LIMIT_S)
    2.5
    >>> check_limit("-1", "$DLCHECK_MEMORY_LIMIT", "GB", MAX_MEMORY_LIMIT_GB)
    Traceback (most recent call last):
    ...
    ValueError: $DLCHECK_MEMORY_LIMIT '-1': expected a number of GB above 0 and at most 1024
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not 0 < number <= most:  # also rejects nan
        raise ValueError(f"{what} {str(value)!r}: expected a number of {unit} above 0 and at most {most:g}")
    return number


@dataclass(frozen=True)
class RunContext:
    profile: str = "quick"          # smoke (tests) | quick (report default) | full (the sheet)
    data_dir: Optional[str] = None  # None: $DLCHECK_DATA, else ./data
    cache_dir: Optional[str] = None  # None: $DLCHECK_CACHE, else ./.cache/dlcheck/runs
    progress: bool = False          # tqdm bars on stderr
    executor: Any = None            # any concurrent.futures.Executor; None: a local process pool
    force: bool = False             # ignore cached runs
    time_limit_s: Optional[float] = None     # per theory/numeric solver; None: $DLCHECK_TIME_LIMIT, else 120
    memory_limit_gb: Optional[float] = None  # of the solver process; None: $DLCHECK_MEMORY_LIMIT, else 4

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"profile {self.profile!r}: expected one of {', '.join(PROFILES)}")
        if self.time_limit_s is not None:
            check_limit(self.time_limit_s, "time_limit_s", "seconds", MAX_TIME_LIMIT_S)
        if self.memory_limit_gb is not None:
            check_limit(self.memory_limit_gb, "memory_limit_gb", "GB", MAX_MEMORY_LIMIT_GB)


_CURRENT: contextvars.ContextVar[RunContext] = contextvars.ContextVar("run_context", default=RunContext())


def current() -> RunContext:
    return _CURRENT.get()


@contextmanager
def _setting(var: contextvars.ContextVar, value):
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)


def using(ctx: RunContext):
    """Run the block under ``ctx`` (a context manager)."""
    return _setting(_CURRENT, ctx)


_PROBLEM: contextvars.ContextVar[str] = contextvars.ContextVar("problem_id", default="")


def current_problem() -> str:
    """The id of the problem whose solver is running ('' outside :func:`problems.api.run_problem`);
    used in error messages and claim verdicts."""
    return _PROBLEM.get()


def solving(problem_id: str):
    """Run the block as the solver of ``problem_id`` (a context manager)."""
    return _setting(_PROBLEM, problem_id)
