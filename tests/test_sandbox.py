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
from problems.context import RunContext, using
from problems.errors import InputError
from problems.registry import Param, Problem, get

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 2.0
SMALL_GB = 0.25  # enough to start a worker (about 0.05 GB) and load tests/sandbox_helpers.py
RAISE_GB = "raise the limit with --memory-limit or $DLCHECK_MEMORY_LIMIT"


GB = (Param("gb", "float", 1.0, "GB to allocate"),)


def fake(name: str, kind: str = "theory") -> Problem:
    return Problem(id=f"test.{name}", set="test", title=f"Test {name}", kind=kind, statement="",
                   solver=f"tests.sandbox_helpers:{name}", params=GB if name.startswith("hog") else ())


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
    r = sandbox.run_isolated(fake("crash"), {}, None, LIMIT_S, memory_limit_gb=1.5)  # perhaps a C library's malloc
    assert r.error == ("test.crash: the solver process died (exit code 3) before it sent a result; nothing was "
                       f"decided (if it ran out of its 1.5 GB of memory, {RAISE_GB})")


def test_a_worker_killed_by_the_system_says_so():
    r = sandbox.run_isolated(fake("killed"), {}, None, LIMIT_S, memory_limit_gb=1.5)
    assert r.status == "error" and r.error == (
        "test.killed: the solver process died (killed by SIGKILL, as the system does when it runs out of memory) "
        "before it sent a result; nothing was decided")
    echo_works()


def memory_error(problem_id: str, gb: float) -> str:
    return (f"could not decide within the memory limit of {gb:g} GB: {problem_id} ran out of memory, so its solver "
            f"process was stopped (simplify the input or {RAISE_GB})")


@pytest.mark.parametrize("name, limit_gb, gb", [("hog", SMALL_GB, 0.3),           # Python's MemoryError
                                               ("hog_torch", 0.75, 1.0)])        # torch's RuntimeError
def test_memory_overrun_becomes_an_error_result_and_the_next_call_works(name, limit_gb, gb):
    slow = 60.0  # importing torch inside the solver counts against the time limit; a loaded machine is slow
    r = sandbox.run_isolated(fake(name), {"gb": gb}, None, slow, limit_gb)
    first = sandbox.worker_pid()
    assert r.status == "error" and not r.passed and r.error == memory_error(f"test.{name}", limit_gb)
    assert first is None  # the worker was stopped; nothing of its state is reused
    assert sandbox.run_isolated(fake(name), {"gb": gb / 10}, None, slow, limit_gb).status == "implemented"


def test_too_little_memory_to_start_is_an_error_result():
    r = sandbox.run_isolated(fake("echo"), {}, None, LIMIT_S, memory_limit_gb=0.01)
    assert r.status == "error" and r.error == memory_error("test.echo", 0.01)
    echo_works()


def test_the_worker_holds_its_memory_limit_and_a_new_limit_starts_a_new_worker():
    def limit(gb):
        r = sandbox.run_isolated(fake("data_limit"), {}, None, LIMIT_S, gb)
        return r.summary, r.data["pid"]

    unlimited, pid = limit(None)
    assert limit(None)[1] == pid
    (summary, pid2), n = limit(1.5), int(1.5 * 2**30)
    assert summary == str((n, n)) and pid2 != pid  # soft and hard: a solver cannot lift it
    assert limit(1.5) == (summary, pid2) and unlimited != summary


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
    assert r.status == "error" and r.error == (
        "could not decide within 2 s: test.forever_in_c did not finish, so its solver process was stopped "
        "(simplify the input or raise the limit with --time-limit or $DLCHECK_TIME_LIMIT)")
    assert r.problem_id == "test.forever_in_c" and r.versions and "solve_s" in r.timings
    monkeypatch.setenv("DLCHECK_ISOLATE", "0")  # in-process, SIGALRM stops a Python loop
    r = api.run_problem(fake("forever"))
    assert r.status == "error" and r.error == ("test.forever did not finish within 2 s (simplify the input or "
                                               "raise the limit with --time-limit or $DLCHECK_TIME_LIMIT)")


def test_an_internal_limit_is_not_blamed_on_the_time_limit_option(monkeypatch):
    """A fixed limit inside the solver says so; raising --time-limit would not help there."""
    expected = ("simplifying claimed - derived did not finish within 0.2 s (a fixed limit inside the solver, not the "
                "--time-limit: simplify the input)")
    assert api.run_problem(fake("internal_timeout")).error == expected          # in the worker
    monkeypatch.setenv("DLCHECK_ISOLATE", "0")
    assert api.run_problem(fake("internal_timeout")).error == expected          # in-process


def test_run_problem_limits_come_from_the_context_then_the_environment(monkeypatch):
    monkeypatch.delenv("DLCHECK_TIME_LIMIT", raising=False)
    monkeypatch.delenv("DLCHECK_MEMORY_LIMIT", raising=False)
    assert api.solver_limits() == (api.SOLVER_TIME_LIMIT_S, api.SOLVER_MEMORY_LIMIT_GB) == (120.0, api.SOLVER_MEMORY_LIMIT_GB)
    monkeypatch.setenv("DLCHECK_TIME_LIMIT", "7.5")
    monkeypatch.setenv("DLCHECK_MEMORY_LIMIT", str(SMALL_GB))
    assert api.solver_limits() == (7.5, SMALL_GB)
    assert api.run_problem(fake("hog")).error == memory_error("test.hog", SMALL_GB)  # it allocates 1 GB
    with using(RunContext(time_limit_s=LIMIT_S, memory_limit_gb=0.5)):  # the context wins
        assert api.solver_limits() == (LIMIT_S, 0.5)
        r = api.run_problem(fake("forever_in_c"))
        assert r.error.startswith("could not decide within 2 s: test.forever_in_c")
        r = api.run_problem(fake("hog"), overrides={"gb": "0.6"})
        assert r.error == memory_error("test.hog", 0.5) and r.versions and r.problem_id == "test.hog"
    monkeypatch.setenv("DLCHECK_MEMORY_LIMIT", "lots")
    with pytest.raises(InputError, match=r"^\$DLCHECK_MEMORY_LIMIT 'lots': expected a number of GB above 0 and "
                                         r"at most 1024$"):
        api.run_problem(fake("echo"))


def test_bad_limits_in_a_run_context_are_refused():
    with pytest.raises(ValueError, match=r"^time_limit_s '0': expected a number of seconds above 0"):
        RunContext(time_limit_s=0)
    with pytest.raises(ValueError, match=r"^memory_limit_gb 'inf': expected a number of GB above 0"):
        RunContext(memory_limit_gb=float("inf"))


def test_in_process_fallback_has_no_memory_limit(monkeypatch):
    """Documented: with DLCHECK_ISOLATE=0 the limit would bind the whole CLI, so there is none."""
    monkeypatch.setenv("DLCHECK_ISOLATE", "0")
    with using(RunContext(memory_limit_gb=SMALL_GB)):
        r = api.run_problem(fake("hog"), overrides={"gb": "0.3"})
    assert r.status == "implemented" and r.summary == f"{int(0.3 * 2**30)} bytes"


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


def test_the_stated_memory_limit_is_the_one_that_holds(monkeypatch):
    """An inherited hard limit below the one asked for is what holds: errors and the report say so, and do not
    advise --memory-limit, which cannot raise it."""
    from problems import context

    monkeypatch.setattr(api, "inherited_memory_cap_gb", lambda: 0.5)
    monkeypatch.setattr(context, "inherited_memory_cap_gb", lambda: 0.5)
    with using(RunContext(memory_limit_gb=3.0)):
        assert api.solver_limits()[1] == 0.5
        assert "a 0.5 GB memory limit (a hard limit inherited from the shell, below the 3 GB asked for)" in api.limits_text()
    assert "--memory-limit cannot raise it" in context.raise_memory_advice(0.5)
    with using(RunContext(memory_limit_gb=0.3)):
        assert api.solver_limits()[1] == 0.3 and "inherited" not in api.limits_text()
    assert context.raise_memory_advice(0.3) == context.RAISE_MEMORY_LIMIT
