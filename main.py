"""dlcheck: derive, verify and report deep-learning problem sets.

Exit codes: 0 every check and claim holds; 1 one fails (or cannot be decided);
2 bad usage or input (one line saying what and where).
"""
from __future__ import annotations

import json
import sys

import click

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


def _print_result(r) -> None:
    state = {True: "PASS", False: "FAIL"}[r.passed] if r.status == "implemented" else r.status.upper()
    click.echo(f"{r.problem_id}  {r.title}: {state}")
    if r.error:
        click.echo(f"  error: {r.error}")
    if r.summary:
        click.echo(f"  result: {r.summary}")
    if r.data:
        click.echo(f"  data: {r.data.get('description', r.data)}")
    for c in r.checks:
        click.echo(f"  [{'ok' if c.passed else 'FAILED'}] check: {c.name} ({c.method})" + (f": {c.detail}" if c.detail else ""))
    for v in r.verdicts:
        word = {True: "accepted", False: "REJECTED", None: "UNDECIDED"}[v.passed]
        click.echo(f"  [{word}] claim: {v.claim}")
        if v.evidence:
            click.echo(f"      {v.evidence}")


@cli.command("check")
@click.argument("targets", nargs=-1, required=True)
@click.option("--answers", "answers_path", type=click.Path(), help="TOML file with your claimed answers.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Override a problem parameter.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--schema", is_flag=True, help="Print the claim schema of each problem and exit.")
def check_cmd(targets, answers_path, params, as_json, schema):
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
    results = api.run_problems(problems, answers, overrides)
    ok = all(r.passed for r in results)
    if as_json:
        click.echo(json.dumps({"passed": ok, "problems": [r.to_dict() for r in results]}, indent=1))
    else:
        for r in results:
            _print_result(r)
        n_fail = sum(not r.passed for r in results)
        click.echo(f"{len(results) - n_fail} passed, {n_fail} failed")
    sys.exit(0 if ok else 1)


@cli.command("build-report")
@click.option("--set", "sets", multiple=True, help="Only this problem set (repeatable).")
@click.option("--answers", "answers_path", type=click.Path(), help="TOML file with your answers and [report] table.")
@click.option("--out", default="build/report.pdf", show_default=True, type=click.Path(), help="Where to write the PDF.")
@click.option("--profile", type=click.Choice(["smoke", "quick", "full"]), default="quick", show_default=True,
              help="Experiment budget (used by experiments once they are implemented).")
@click.option("--tex-only", is_flag=True, help="Write the .tex beside the PDF path and do not compile.")
def build_report_cmd(sets, answers_path, out, profile, tex_only):
    """Run every selected problem and render the LaTeX/PDF report."""
    from problems import api
    from problems.answers import Answers, load_answers
    from report.build import build_report

    problems = _select(sets)
    answers = load_answers(answers_path) if answers_path else Answers()
    results = api.run_problems(problems, answers,
                               progress=lambda p: click.echo(f"  solving {p.id} ...", err=True) if p.implemented else None)
    path = build_report(results, answers.report, out, versions=api.versions(), profile=profile,
                        answers_path=answers.path, tex_only=tex_only)
    n_fail = sum(not r.passed for r in results)
    click.echo(f"wrote {path}  ({len(results)} problems, {n_fail} not passing)")


if __name__ == "__main__":
    cli(prog_name="python main.py")
