"""The CLI: exit codes 0 / 1 / 2, JSON shapes, one clear line on bad input."""
import json
import os
import subprocess
import textwrap
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=None if env is None else {**os.environ, **env})


def test_list_json_has_69_ids():
    p = run("list", "--json")
    assert p.returncode == 0
    rows = json.loads(p.stdout)
    assert len(rows) == 69 and len({r["id"] for r in rows}) == 69
    assert {"id", "set", "title", "kind", "status"} <= set(rows[0])
    assert {r["status"] for r in rows} <= {"implemented", "not-implemented"}
    assert [r for r in rows if r["id"] == "hertie.1.1"][0]["status"] == "implemented"


def test_list_text_gives_each_problem_and_its_status():
    from problems.registry import all_problems

    p = run("list")
    assert p.returncode == 0 and "hertie.1.1" in p.stdout
    missing = sum(not q.implemented for q in all_problems())
    assert p.stdout.count("not implemented yet") == missing
    assert "(15/15 implemented)" in p.stdout or missing


def test_a_problem_without_solver_says_so_and_takes_no_claims():
    from dataclasses import replace

    from problems import api
    from problems.registry import get

    planned = replace(get("hertie.1.2"), solver="", planned="issue 99")
    r = api.run_problem(planned, {"db": "1"})
    assert r.status == "not-implemented" and "issue 99" in r.summary
    assert r.verdicts[0].passed is None and not r.passed


def test_check_sheet_instance_passes():
    p = run("check", "hertie.1.1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "(2, 2) minimum" in p.stdout


def test_check_json_shape_and_wrong_claims_exit_1():
    p = run("check", "hertie.1.1", "--answers", "examples/wrong_answers.toml", "--json")
    assert p.returncode == 1
    data = json.loads(p.stdout)
    (prob,) = data["problems"]
    assert prob["id"] == "hertie.1.1" and prob["passed"] is False
    assert all({"name", "passed", "detail"} <= set(c) for c in prob["checks"])
    assert all({"claim", "passed", "evidence"} <= set(v) for v in prob["verdicts"])
    evidence = " ".join(v["evidence"] for v in prob["verdicts"])
    assert "gradient at (1, 1) is (-3, -3)" in evidence
    assert "missing critical point(s): (0, 6) (saddle), (6, 0) (saddle)" in evidence


def test_check_example_answers_pass():
    p = run("check", "hertie", "--answers", "examples/answers.toml")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "REJECTED" not in p.stdout


def test_param_any_function(tmp_path):
    p = run("check", "hertie.1.1", "--param", "f=x**4 - 2*x**2 + y**2")
    assert p.returncode == 0 and "(-1, 0) minimum, (0, 0) saddle, (1, 0) minimum" in p.stdout
    answers = tmp_path / "a.toml"
    answers.write_text('["hertie.1.1"]\npoints = [ { at = "(1, 0)", kind = "minimum" }, { at = "(0, 1)", kind = "saddle" } ]\n')
    p = run("check", "hertie.1.1", "--param", "f=x**4 - 2*x**2 + y**2", "--answers", str(answers))
    assert p.returncode == 1
    assert "gradient at (0, 1) is (0, 2)" in p.stdout and "(-1, 0) (minimum), (0, 0) (saddle)" in p.stdout


def test_schema():
    p = run("check", "hertie.1.1", "--schema")
    assert p.returncode == 0 and "points" in p.stdout and "kind" in p.stdout


@pytest.mark.parametrize("args, message", [
    (("check", "hertie.9"), "unknown problem id 'hertie.9'"),
    (("check", "hertie.1.1", "--param", "g=1"), "unknown parameter 'g' for hertie.1.1"),
    (("check", "hertie.1.1", "--param", "f"), "expected KEY=VALUE"),
    (("check", "hertie.1.1", "--param", "f=__import__('os')"), "parameter f: name '__import__' is not allowed"),
    (("check", "hertie.1.1", "--answers", "missing.toml"), "missing.toml: answers file not found"),
    (("check", "hertie.1.1", "--answers", "examples"), "is a directory"),
])
def test_bad_input_one_line_exit_2(args, message):
    p = run(*args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_bad_answers_files_exit_2(tmp_path):
    cases = {
        "broken.toml": ('["hertie.1.1"\npoints = 1\n', "invalid TOML"),
        "unknown.toml": ('["hertie.9.9"]\npoints = []\n', "unknown problem id 'hertie.9.9'"),
        "type.toml": ('[report]\nauthors = "me"\n', "[report].authors: expected list"),
        "claim.toml": ('["hertie.1.1"]\npoints = [ { at = "(1, 2)", kind = "bowl" } ]\n', 'points[0].kind'),
    }
    for name, (text, message) in cases.items():
        f = tmp_path / name
        f.write_text(text)
        p = run("check", "hertie.1.1", "--answers", str(f))
        assert p.returncode == 2 and message in p.stderr and name in p.stderr or "hertie.1.1" in p.stderr, (name, p.stderr)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\x00\x01\x02")
    p = run("check", "hertie.1.1", "--answers", str(binary))
    assert p.returncode == 2 and "binary" in p.stderr


def test_usage_error_exit_2():
    assert run("check").returncode == 2
    assert run("frobnicate").returncode == 2


@pytest.mark.parametrize("command", [("check", "hertie.1.1"), ("figures", "hertie.1.1"),
                                     ("build-report", "--set", "hertie.1.1", "--tex-only")])
@pytest.mark.parametrize("args, env, message", [
    (("--time-limit", "0"), {}, "--time-limit '0': expected a number of seconds above 0 and at most 86400"),
    (("--time-limit", "1e9"), {}, "--time-limit '1e9': expected a number of seconds above 0 and at most 86400"),
    (("--memory-limit", "lots"), {}, "--memory-limit 'lots': expected a number of GB above 0 and at most 1024"),
    (("--memory-limit", "-2"), {}, "--memory-limit '-2': expected a number of GB above 0 and at most 1024"),
    ((), {"DLCHECK_TIME_LIMIT": "nan"}, "$DLCHECK_TIME_LIMIT 'nan': expected a number of seconds above 0 and at most 86400"),
    ((), {"DLCHECK_MEMORY_LIMIT": "0"}, "$DLCHECK_MEMORY_LIMIT '0': expected a number of GB above 0 and at most 1024"),
])
def test_bad_limits_one_line_exit_2(command, args, env, message, tmp_path):
    out = () if command[0] == "check" else ("--out", str(tmp_path / "out"))  # nothing is written anyway
    p = run(*command, *args, *out, env=env)
    assert p.returncode == 2 and p.stderr == f"error: {message}\n" and not p.stdout, p.stdout + p.stderr


def test_limit_options_say_they_bind_solvers_not_experiments():
    for command in ("check", "figures", "build-report"):
        text = " ".join(run(command, "--help").stdout.split())
        assert "--time-limit SECONDS Wall-clock limit of each theory/numeric solver (not experiments)" in text
        assert "--memory-limit GB Memory limit of the process that runs theory/numeric solvers (not experiments;" in text


def test_report_states_the_solver_limits_that_held(tmp_path):
    p = run("build-report", "--set", "hertie.1.1", "--tex-only", "--time-limit", "30", "--memory-limit", "2.5",
            "--out", str(tmp_path / "r.pdf"))
    assert p.returncode in (0, 1), p.stderr
    tex = " ".join((tmp_path / "r.tex").read_text().split())
    assert "isolated worker process with a 30 s time limit and a 2.5 GB memory limit" in tex


# `check` on the misbehaving solvers of tests/sandbox_helpers.py, through the real CLI
FAKE_CHECK = """
    import sys
    import main
    from problems import registry
    from problems.registry import Param, Problem

    gb = (Param("gb", "float", 1.0),)
    registry.select = lambda names: [Problem(f"test.{n}", "test", n, "theory", "", f"tests.sandbox_helpers:{n}",
                                             params=gb if n == "hog" else ()) for n in names]
    if __name__ == "__main__":
        main.cli(sys.argv[1:], prog_name="main.py")
"""


def test_limits_reached_are_one_line_error_results_exit_1():
    def check(*args, env=None):
        return subprocess.run([sys.executable, "-c", textwrap.dedent(FAKE_CHECK), "check", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})

    p = check("hog", "--memory-limit", "0.25")
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout.splitlines()[:2] == [
        "test.hog  hog: ERROR",
        "  error: could not decide within the memory limit of 0.25 GB: test.hog ran out of memory, so its solver "
        "process was stopped (simplify the input or raise the limit with --memory-limit or $DLCHECK_MEMORY_LIMIT)"]
    p = check("forever_in_c", "--json", env={"DLCHECK_TIME_LIMIT": "1.5"})
    assert p.returncode == 1 and json.loads(p.stdout)["problems"][0]["error"] == (
        "could not decide within 1.5 s: test.forever_in_c did not finish, so its solver process was stopped "
        "(simplify the input or raise the limit with --time-limit or $DLCHECK_TIME_LIMIT)")
    p = check("hog", "--param", "gb=0.3", "--memory-limit", "0.5", env={"DLCHECK_MEMORY_LIMIT": "0.25"})  # option wins
    assert p.returncode == 0 and "test.hog  hog: PASS" in p.stdout, p.stdout + p.stderr


def test_undecided_claims_are_reported_as_undecided_not_failed(tmp_path):
    answers = tmp_path / "a.toml"
    answers.write_text('["hertie.2.1a"]\nval_accuracy = 0.5\n')            # MNIST is absent: a substitute runs
    p = run("check", "hertie.2.1a", "--answers", str(answers), "--profile", "smoke", "--cache-dir", str(tmp_path / "c"),
            env={"DLCHECK_DATA": str(tmp_path / "no-data")})
    assert p.returncode == 1, p.stdout + p.stderr                       # undecided is not a pass
    assert p.stdout.splitlines()[0].endswith(": UNDECIDED")
    assert "[UNDECIDED] claim: val_accuracy = 0.5" in p.stdout and "not comparable" in p.stdout
    assert p.stdout.rstrip().endswith("1 undecided")
