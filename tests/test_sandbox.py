"""problems/sandbox.py: solvers run in a worker process that is killed on overrun or death, never a hang."""
import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from problems import api, sandbox
from problems.errors import InputError
from problems.registry import Problem, get

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 2.0


def fake(name: str, kind: str = "theory") -> Problem:
    return Problem(id=f"test.{name}", set="test", title=f"Test {name}", kind=kind, statement="",
                   solver=f"tests.sandbox_helpers:{name}")


def pid_exists(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def echo_works() -> int:
    r = sandbox.run_isolated(fake("echo"), {"a": 1}, {"c": "x"}, LIMIT_S)
    assert r.status == "implemented" and r.params == {"a": 1} and r.data == {"claims": {"c": "x"}}
    assert "solve_s" in r.timings
    return int(r.summary.split()[1])


@pytest.fixture(autouse=True)
def _fresh_worker():
    yield
    sandbox.shutdown()


@pytest.mark.parametrize("name", ["forever", "forever_in_c", "huge_sympy"])
def test_overrun_becomes_an_error_result_and_the_next_call_works(name):
    first = echo_works()
    r = sandbox.run_isolated(fake(name), {}, None, LIMIT_S)
    assert r.status == "error" and not r.passed
    assert r.error.startswith(f"could not decide within {LIMIT_S:g} s: test.{name} did not finish")
    assert not pid_exists(first)  # the stuck worker was killed and reaped
    assert echo_works() != first  # a fresh one serves the next request


def test_a_dying_worker_is_an_error_result():
    r = sandbox.run_isolated(fake("crash"), {}, None, LIMIT_S)
    assert r.status == "error" and "the solver process died (exit code 3)" in r.error and "test.crash" in r.error
    echo_works()


def test_input_error_passes_through_with_its_message():
    pid = echo_works()
    with pytest.raises(InputError, match=r"^claim 'x': expected a number, got 'banana'$"):
        sandbox.run_isolated(fake("bad_input"), {}, None, LIMIT_S)
    assert echo_works() == pid  # an exception does not cost the worker


def test_other_exceptions_are_reraised_with_the_worker_traceback():
    with pytest.raises(ZeroDivisionError, match="nothing to divide by in boom") as info:
        sandbox.run_isolated(fake("boom"), {}, None, LIMIT_S)
    cause = info.value.__cause__
    assert isinstance(cause, sandbox.RemoteTraceback) and "sandbox_helpers.py" in cause.text and "in boom" in cause.text


def test_an_unknown_solver_is_reported_not_hung():
    p = Problem(id="test.missing", set="test", title="", kind="theory", statement="",
                solver="tests.sandbox_helpers:no_such_solver")
    with pytest.raises(AttributeError, match="no_such_solver"):
        sandbox.run_isolated(p, {}, None, LIMIT_S)


def test_run_problem_isolates_theory_and_matches_in_process(monkeypatch):
    problem = get("ist21.q1.1")
    isolated = api.run_problem(problem)
    assert sandbox.worker_pid() is not None  # it ran in the worker
    monkeypatch.setenv("DLCHECK_ISOLATE", "0")
    local = api.run_problem(problem)
    a, b = isolated.to_dict(), local.to_dict()
    for d in (a, b):
        d.pop("timings")
    assert a == b and isolated.passed


def test_run_problem_overrun_and_fallback(monkeypatch):
    monkeypatch.setattr(api, "SOLVER_TIME_LIMIT_S", LIMIT_S)
    r = api.run_problem(fake("forever_in_c"))
    assert r.status == "error" and r.error.startswith("could not decide within 2 s: test.forever_in_c")
    assert r.problem_id == "test.forever_in_c" and r.versions and "solve_s" in r.timings
    monkeypatch.setenv("DLCHECK_ISOLATE", "0")  # in-process, SIGALRM stops a Python loop
    r = api.run_problem(fake("forever"))
    assert r.status == "error" and "did not finish within 2 s" in r.error


def test_shutdown_leaves_no_process():
    pid = echo_works()
    assert pid_exists(pid)
    sandbox.shutdown()
    assert not pid_exists(pid) and sandbox.worker_pid() is None
    assert not [p for p in multiprocessing.active_children() if p.name == "dlcheck-solver"]


def _run_script(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_no_orphan_after_the_parent_exits():
    p = _run_script("""
        from problems import sandbox
        from problems.registry import Problem
        sandbox.run_isolated(Problem("t.echo", "t", "", "theory", "", "tests.sandbox_helpers:echo"), {}, None, 60)
        print(sandbox.worker_pid())
    """)
    assert p.returncode == 0, p.stderr
    assert not pid_exists(int(p.stdout.split()[-1]))  # atexit stopped it


def test_no_orphan_when_the_parent_is_killed_mid_solve():
    p = _run_script("""
        import os, signal, threading
        from problems import sandbox
        from problems.registry import Problem
        sandbox.run_isolated(Problem("t.echo", "t", "", "theory", "", "tests.sandbox_helpers:echo"), {}, None, 60)
        print(sandbox.worker_pid(), flush=True)
        threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()  # no atexit, no cleanup
        sandbox.run_isolated(Problem("t.c", "t", "", "theory", "", "tests.sandbox_helpers:forever_in_c"), {}, None, 60)
    """)
    assert p.returncode == -9
    pid = int(p.stdout.split()[-1])
    for _ in range(100):  # PR_SET_PDEATHSIG kills it at once; allow the kernel a moment
        if not pid_exists(pid):
            break
        time.sleep(0.1)
    assert not pid_exists(pid)
