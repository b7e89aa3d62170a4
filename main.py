"""dlcheck: derive, verify and report deep-learning problem sets.

Exit codes: 0 every check and claim holds; 1 one fails (or cannot be decided);
2 bad usage or input (one line saying what and where).
"""
from __future__ import annotations

import contextlib
import json
import sys

import click

from problems.context import MAX_MEMORY_LIMIT_GB, MAX_TIME_LIMIT_S, check_limit
from problems.errors import InputError


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except Exception as exc:
            from report.build import ReportError

            if isinstance(exc, ReportError):
                click.echo(f"error: {exc}", err=True)
                ctx.exit(1)
            raise


def _overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def _json_default(value):
    """NumPy scalars and arrays that a solver left in a Result become plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _select(names):
    from problems.registry import UnknownProblem, select

    try:
        return select(list(names))
    except UnknownProblem as exc:
        raise InputError(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Derive, prove and check deep-learning problem sets; build a LaTeX report."""


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_cmd(as_json):
    """List every problem set and problem, with its status."""
    from problems.registry import problem_sets

    rows = [{"id": p.id, "set": p.set, "title": p.title, "kind": p.kind, "status": p.status,
             "planned": p.planned} for s in problem_sets() for p in s.problems]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    for s in problem_sets():
        done = sum(p.implemented for p in s.problems)
        click.echo(f"{s.name}  {s.title}  ({done}/{len(s.problems)} implemented)")
        for p in s.problems:
            mark = "implemented" if p.implemented else f"not implemented yet ({p.planned})" if p.planned else "not implemented yet"
            click.echo(f"  {p.id:<16} {p.kind:<10} {p.title[:46]:<46} {mark}")


def _outcome_counts(results) -> str:
    """'60 pass, 2 fail, 7 undecided' (only the outcomes that occur)."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    order = ("pass", "fail", "undecided", "error", "not-implemented")
    return ", ".join(f"{counts[k]} {k}" for k in order if k in counts)


def _print_result(r) -> None:
    state = r.outcome.upper()            # PASS, FAIL, UNDECIDED (nothing failed, a claim undecided), ERROR, ...
    click.echo(f"{r.problem_id}  {r.title}: {state}")
    if r.error:
        click.echo(f"  error: {r.error}")
    if r.summary:
        click.echo(f"  result: {r.summary}")
    if r.data:
        described = r.data.get("description") or "; ".join(f"{k}: {v}" for k, v in r.data.items()
                                                          if not isinstance(v, (dict, list)))
        click.echo(f"  data: {described}")
    for c in r.checks:
        mark = "info" if c.info else "ok" if c.passed else "FAILED"
        click.echo(f"  [{mark}] check: {c.name} ({c.method})" + (f": {c.detail}" if c.detail else ""))
    for v in r.verdicts:
        word = {True: "accepted", False: "REJECTED", None: "UNDECIDED"}[v.passed]
        click.echo(f"  [{word}] claim: {v.claim}")
        if v.evidence:
            click.echo(f"      {v.evidence}")


def _run_options(default_profile: str):
    """Options shared by every command that may train: profile, data and cache folders, workers."""
    def wrap(f):
        f = click.option("--profile", type=click.Choice(["smoke", "quick", "full"]), default=default_profile,
                         show_default=True, help="Experiment budget: smoke (seconds), quick (the report's "
                         "default), full (exactly the sheet).")(f)
        f = click.option("--data-dir", type=click.Path(file_okay=False),
                         help="Folder with the datasets in their published formats [default: $DLCHECK_DATA or ./data].")(f)
        f = click.option("--cache-dir", type=click.Path(file_okay=False),
                         help="Folder of the experiment cache [default: $DLCHECK_CACHE or ./.cache/dlcheck/runs].")(f)
        f = click.option("--workers", type=click.IntRange(1, 64), default=None,
                         help="Processes that train at once [default: the cores].")(f)
        f = click.option("--force", is_flag=True, help="Retrain even when a run is cached.")(f)
        return f
    return wrap


def _limit(unit: str, most: float):
    """Parse a limit option: a positive number, else one line naming the option (exit 2)."""
    def parse(ctx, param, value):
        if value is None:
            return None
        try:
            return check_limit(value, param.opts[0], unit, most)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    return parse


def _limit_options(f):
    """Options of the commands that run theory and numeric solvers: their time and memory limits."""
    f = click.option("--time-limit", "time_limit", metavar="SECONDS", callback=_limit("seconds", MAX_TIME_LIMIT_S),
                     help="Wall-clock limit of each theory/numeric solver (not experiments) "
                     "[default: $DLCHECK_TIME_LIMIT or 120].")(f)
    f = click.option("--memory-limit", "memory_limit", metavar="GB", callback=_limit("GB", MAX_MEMORY_LIMIT_GB),
                     help="Memory limit of the process that runs theory/numeric solvers (not experiments; "
                     "none with DLCHECK_ISOLATE=0) [default: $DLCHECK_MEMORY_LIMIT or 4 plus 1 per 8 CPU cores].")(f)
    return f


@contextlib.contextmanager
def _run_context(profile, data_dir, cache_dir, workers, force, progress=True, time_limit=None, memory_limit=None,
                 solvers=False):
    """The run context of one command: one process pool for all its experiments. ``solvers``: the command
    runs theory/numeric solvers, so a bad $DLCHECK_TIME_LIMIT / $DLCHECK_MEMORY_LIMIT fails before anything runs."""
    from problems.context import RunContext, using

    executor = None
    try:
        if workers != 1:
            from numerics.runner import local_executor

            executor = _LazyExecutor(lambda: local_executor(workers))
        with using(RunContext(profile=profile, data_dir=data_dir, cache_dir=cache_dir, progress=progress,
                              executor=executor, force=force, time_limit_s=time_limit, memory_limit_gb=memory_limit)):
            if solvers:
                from problems.api import solver_limits

                solver_limits()
            yield
    finally:
        if executor is not None:
            executor.shutdown()


class _LazyExecutor:
    """Start the process pool only when an experiment first needs it (theory-only runs never pay)."""

    def __init__(self, make):
        self._make, self._pool = make, None

    def submit(self, *args, **kwargs):
        if self._pool is None:
            self._pool = self._make()
        return self._pool.submit(*args, **kwargs)

    def shutdown(self, wait=True):
        if self._pool is not None:
            self._pool.shutdown(wait=wait)


def _solving(p) -> None:
    if p.implemented:
        click.echo(f"  solving {p.id} ...", err=True)


@cli.command("check")
@click.argument("targets", nargs=-1, required=True)
@click.option("--answers", "answers_path", type=click.Path(), help="TOML file with your claimed answers.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Override a problem parameter.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--schema", is_flag=True, help="Print the claim schema of each problem and exit.")
@_run_options("quick")
@_limit_options
def check_cmd(targets, answers_path, params, as_json, schema, profile, data_dir, cache_dir, workers, force,
              time_limit, memory_limit):
    """Derive and verify problems (ids, set names or id prefixes) and check claims."""
    from problems import api
    from problems.answers import load_answers

    problems = _select(targets)
    if schema:
        for p in problems:
            click.echo(f"# {p.id}: {p.title}\n{api.schema(p)}")
        return
    answers = load_answers(answers_path) if answers_path else None
    overrides = _overrides(params)
    with _run_context(profile, data_dir, cache_dir, workers, force, progress=not as_json, time_limit=time_limit,
                      memory_limit=memory_limit, solvers=True):
        results = api.run_problems(problems, answers, overrides)
    ok = all(r.passed for r in results)
    if as_json:
        click.echo(json.dumps({"passed": ok, "problems": [r.to_dict() for r in results]}, indent=1,
                              default=_json_default))
    else:
        for r in results:
            _print_result(r)
        click.echo(_outcome_counts(results))
    sys.exit(0 if ok else 1)


@cli.command("run")
@click.argument("targets", nargs=-1, required=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Override a problem parameter.")
@_run_options("quick")
def run_cmd(targets, params, profile, data_dir, cache_dir, workers, force):
    """Run experiments (cached) and print what ran and the results."""
    from problems import api

    problems = [p for p in _select(targets) if p.kind == "experiment"]
    if not problems:
        raise InputError(f"{' '.join(targets)}: no experiment among these problems (see `list`)")
    with _run_context(profile, data_dir, cache_dir, workers, force):
        results = api.run_problems(problems, None, _overrides(params), progress=_solving)
    for r in results:
        _print_result(r)
    sys.exit(0 if all(r.passed for r in results) else 1)


@cli.command("figures")
@click.argument("targets", nargs=-1)
@click.option("--out", "out_dir", default="build/figures", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the figures (PDF and PNG).")
@_run_options("quick")
@_limit_options
def figures_cmd(targets, out_dir, profile, data_dir, cache_dir, workers, force, time_limit, memory_limit):
    """Draw the figures of problems (default: all) from the cache, running only what is missing."""
    from pathlib import Path

    from problems import api
    from report.figures import render

    problems = [p for p in _select(targets or ()) if p.implemented]
    with _run_context(profile, data_dir, cache_dir, workers, force, time_limit=time_limit, memory_limit=memory_limit,
                      solvers=True):
        results = api.run_problems(problems, None, progress=_solving)
    n = 0
    for r in results:
        for f in r.figures:
            path = render(f, Path(out_dir), r.problem_id)
            click.echo(f"{path}  ({r.problem_id})")
            n += 1
        if r.status == "error":
            click.echo(f"{r.problem_id}: error: {r.error}", err=True)
    click.echo(f"{n} figures in {out_dir}")


@cli.command("build-report")
@click.option("--set", "sets", multiple=True, help="Only this problem set or problem (repeatable).")
@click.option("--answers", "answers_path", type=click.Path(), help="TOML file with your answers and [report] table.")
@click.option("--out", default="build/report.pdf", show_default=True, type=click.Path(), help="Where to write the PDF.")
@click.option("--tex-only", is_flag=True, help="Write the .tex beside the PDF path and do not compile.")
@_run_options("quick")
@_limit_options
def build_report_cmd(sets, answers_path, out, tex_only, profile, data_dir, cache_dir, workers, force, time_limit,
                     memory_limit):
    """Run every selected problem and render the LaTeX/PDF report."""
    from problems import api
    from problems.answers import Answers, load_answers
    from report.build import build_report

    problems = _select(sets)
    answers = load_answers(answers_path) if answers_path else Answers()
    with _run_context(profile, data_dir, cache_dir, workers, force, time_limit=time_limit, memory_limit=memory_limit,
                      solvers=True):
        results = api.run_problems(problems, answers, progress=_solving)
        limits = api.limits_text()
    path = build_report(results, answers.report, out, versions=api.versions(), profile=profile,
                        answers_path=answers.path, tex_only=tex_only, limits=limits)
    click.echo(f"wrote {path}  ({len(results)} problems: {_outcome_counts(results)})")


if __name__ == "__main__":
    cli(prog_name="python main.py")
