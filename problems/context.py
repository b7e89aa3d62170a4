"""The run context: how experiments run (profile, data and cache folders, executor, progress bars).

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
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

PROFILES = ("smoke", "quick", "full")


@dataclass(frozen=True)
class RunContext:
    profile: str = "quick"          # smoke (tests) | quick (report default) | full (the sheet)
    data_dir: Optional[str] = None  # None: $DLCHECK_DATA, else ./data
    cache_dir: Optional[str] = None  # None: $DLCHECK_CACHE, else ./.cache/dlcheck/runs
    progress: bool = False          # tqdm bars on stderr
    executor: Any = None            # any concurrent.futures.Executor; None: a local process pool
    force: bool = False             # ignore cached runs

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"profile {self.profile!r}: expected one of {', '.join(PROFILES)}")


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
