"""The library calls behind the CLI: run solvers, collect Results.

``check`` and ``build-report`` both go through :func:`run_problems`, so they
print the same verdicts.
"""
from __future__ import annotations

import multiprocessing
import os
import platform
import time
from importlib import metadata
from typing import Any, Optional

from problems.answers import Answers
from problems.context import (INTERNAL_LIMIT, MAX_MEMORY_LIMIT_GB, MAX_TIME_LIMIT_S, MEMORY_LIMIT_ENV,
                              RAISE_TIME_LIMIT, TIME_LIMIT_ENV, check_limit, current, inherited_memory_cap_gb,
                              solving)
from problems.errors import InputError
from problems.model import Result, Verdict
from problems.registry import Problem, resolve_params

SOLVER_TIME_LIMIT_S = 120.0     # wall clock of one theory/numeric solver
# Data segment of the solver process (RLIMIT_DATA). Measured with every theory/numeric problem run in one
# worker: 0.43 GB with one thread per BLAS/OpenMP pool, 0.52 GB with two; each further core adds about 0.09 GB
# (thread stacks and BLAS buffers), so 64 cores need about 6 GB. 4 GB plus 1 GB per 8 cores leaves room.
SOLVER_MEMORY_LIMIT_GB = 4.0 + (os.cpu_count() or 1) // 8


def solver_limits() -> tuple[float, float]:
    """The time (s) and memory (GB) limits of theory and numeric solvers: the run context's, else
    ``$DLCHECK_TIME_LIMIT`` / ``$DLCHECK_MEMORY_LIMIT``, else :data:`SOLVER_TIME_LIMIT_S` /
    :data:`SOLVER_MEMORY_LIMIT_GB`. A bad environment value raises InputError naming it.

    The memory limit holds only in the worker process; with ``DLCHECK_ISOLATE=0`` there is none.
    """
    ctx = current()
    return (ctx.time_limit_s or _env_limit(TIME_LIMIT_ENV, "seconds", MAX_TIME_LIMIT_S, SOLVER_TIME_LIMIT_S),
            min(_requested_memory_gb(), inherited_memory_cap_gb()))


def _requested_memory_gb() -> float:
    return current().memory_limit_gb or _env_limit(MEMORY_LIMIT_ENV, "GB", MAX_MEMORY_LIMIT_GB, SOLVER_MEMORY_LIMIT_GB)


def limits_text() -> str:
    """How theory and numeric solvers ran, for the report's provenance: isolation and both limits."""
    seconds, gb = solver_limits()
    if not isolation_enabled():
        return (f"theory and numeric solvers ran in this process (DLCHECK_ISOLATE=0) with a {seconds:g} s time limit "
                "and no memory limit")
    capped = (f" (a hard limit inherited from the shell, below the {_requested_memory_gb():g} GB asked for)"
              if _requested_memory_gb() > gb else "")
    return (f"theory and numeric solvers ran in an isolated worker process with a {seconds:g} s time limit and a "
            f"{gb:g} GB memory limit{capped}; experiments ran without these limits")


def _env_limit(name: str, unit: str, most: float, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return check_limit(text, f"${name}", unit, most)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def isolation_enabled() -> bool:
    """Theory and numeric solvers run in a worker process killed on overrun (problems/sandbox.py);
    ``DLCHECK_ISOLATE=0`` runs them in-process under SIGALRM instead (cannot stop a long C call)."""
    if multiprocessing.current_process().daemon:  # a pool worker may not start processes
        return False
    return os.environ.get("DLCHECK_ISOLATE", "1").strip().lower() not in ("0", "false", "no", "off")


_PACKAGES = ("sympy", "numpy", "scipy", "cvxpy", "torch", "matplotlib", "Jinja2", "PyLaTeX")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def schema(problem: Problem) -> str:
    if not problem.implemented:
        return f"{problem.id} is not implemented yet ({problem.planned or 'planned'}); it takes no claims."
    solver = problem.load_solver()
    text = getattr(solver, "CLAIM_SCHEMA", None) or getattr(problem.load_module(), "CLAIM_SCHEMA", None)
    return text or f"{problem.id} documents no claim schema."


def run_problem(problem: Problem, claims: Optional[dict[str, Any]] = None,
                overrides: Optional[dict[str, str]] = None) -> Result:
    """Resolve parameters, run the solver, stamp provenance. Bad input raises InputError."""
    if not problem.implemented:
        result = Result(problem_id=problem.id, title=problem.title, status="not-implemented",
                        summary=f"not implemented yet ({problem.planned})" if problem.planned else "not implemented yet")
        if claims:
            result.verdicts.append(Verdict(claim=f"claims for {problem.id}", passed=None,
                                           evidence="cannot be checked: this problem is not implemented yet"))
        return result
    try:
        params = resolve_params(problem, overrides)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if problem.kind != "experiment":
        limit_s, limit_gb = solver_limits()
    if problem.kind != "experiment" and isolation_enabled():
        from problems.sandbox import run_isolated

        start = time.perf_counter()
        result = run_isolated(problem, params, claims, limit_s, limit_gb)  # sets solve_s itself
        return _stamp(problem, result, start)
    from theory.parse import Timeout, time_limit

    solver = problem.load_solver()
    start = time.perf_counter()
    try:
        with solving(problem.id):
            if problem.kind == "experiment":  # training has its own budget (the profile) and resumes
                from numerics.datasets import DataError

                try:
                    result = solver(params, claims)
                except DataError as exc:            # a data file that cannot be trained on: this problem only
                    result = Result(problem_id=problem.id, title=problem.title, status="error", error=str(exc))
            else:
                with time_limit(limit_s, f"{problem.id}"):  # no memory limit in-process
                    result = solver(params, claims)
    except Timeout as exc:
        outer = str(exc).startswith(f"{problem.id} did not finish")    # the solver's limit, not an internal one
        result = Result(problem_id=problem.id, title=problem.title, status="error",
                        error=f"{exc} (simplify the input or {RAISE_TIME_LIMIT})" if outer
                        else f"{exc} ({INTERNAL_LIMIT})")
    return _stamp(problem, result, start)


def _stamp(problem: Problem, result: Result, start: float) -> Result:
    result.problem_id, result.title = problem.id, problem.title
    result.timings.setdefault("solve_s", round(time.perf_counter() - start, 4))
    result.versions = result.versions or versions()
    return result


def run_problems(problems: list[Problem], answers: Optional[Answers] = None,
                 overrides: Optional[dict[str, str]] = None, progress=None) -> list[Result]:
    results = []
    for problem in problems:
        if progress:
            progress(problem)
        claims = answers.claims.get(problem.id) if answers else None
        results.append(run_problem(problem, claims, overrides))
    return results
