"""Hard time and memory limits for theory and numeric solvers: they run in a worker process, replaced on overrun.

``SIGALRM`` (``theory.parse.time_limit``) cannot stop a long call into C code (GMP, a regex, a C loop) and
leaves SymPy's caches in an unknown state when it does interrupt. Here one long-lived worker process,
started lazily with the *spawn* method (forking a parent that has initialised torch or OpenMP can
deadlock), imports the registry once and serves requests ``(problem, params, claims, run context)``: it
imports the solver's module, runs the solver inside :func:`problems.context.solving` and sends the
:class:`~problems.model.Result` back (pickled), or the exception the solver raised.

The parent waits at most ``limit_s`` for the solver (importing its module is not counted: that has its own
limit, :data:`LOAD_LIMIT_S`, which also covers starting the worker). On overrun it stops the worker (SIGTERM,
then SIGKILL after :data:`TERM_GRACE_S`), returns ``Result(status="error", error="could not decide within
N s: ...")`` and starts a fresh worker on the next request. A worker that dies (a crash, the OOM killer)
gives an error Result saying so. Exceptions come back as themselves: an :class:`~problems.errors.InputError`
with its message, anything else with the worker's traceback attached as its ``__cause__``.

Memory: the worker caps its own data segment (``RLIMIT_DATA``: heap and private writable mappings, which is
where a runaway expression's memory goes) at ``memory_limit_gb`` before it imports anything, so an
allocation past it fails with :class:`MemoryError` (or torch's allocator error) instead of taking the machine
down; that becomes ``Result(status="error", error="could not decide within the memory limit of N GB: ...")``
and the worker is replaced. ``RLIMIT_DATA`` rather than ``RLIMIT_AS``: the worker needs about 0.5 GB of data
but maps about 1.2 GB of address space (shared libraries, torch), and a CUDA build of torch reserves far more
without using it. A worker started with another limit is replaced. Linux only (elsewhere there is no limit).

No process outlives the parent: :func:`shutdown` runs at exit, the worker asks Linux to kill it when its
parent dies (``PR_SET_PDEATHSIG``) and also watches its parent id. One caller at a time: the module is
not meant to be used from several threads at once.

As with any *spawn* child, a script that calls :func:`run_isolated` (or ``problems.api.run_problem``) must
do so under ``if __name__ == "__main__":`` (the worker re-imports the main module); otherwise the worker
dies at start and every problem gets an error Result. The worker is daemonic, so a solver in it cannot
start processes with :mod:`multiprocessing` (none does).
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from typing import Any, Optional

from problems.context import INTERNAL_LIMIT, RAISE_TIME_LIMIT, raise_memory_advice
from problems.errors import InputError
from problems.model import Result

START_METHOD = "spawn"   # never fork: the parent may have imported torch (OpenMP threads)
LOAD_LIMIT_S = 300.0     # starting the worker plus importing the solver's module (cvxpy, torch ...)
TERM_GRACE_S = 0.5       # between SIGTERM and SIGKILL

_worker: Optional["_Worker"] = None
_atexit_registered = False


class RemoteTraceback(Exception):
    """The traceback of an exception raised in the worker (attached as ``__cause__``)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n\nin the solver process:\n{self.text}"


class SolverProcessError(RuntimeError):
    """A solver raised an exception that could not be sent back as itself (its text is kept)."""


# ---------------------------------------------------------------- parent side

class _Worker:
    def __init__(self, memory_limit_gb: Optional[float]):
        ctx = multiprocessing.get_context(START_METHOD)
        self.memory_limit_gb = memory_limit_gb
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_serve, args=(child, os.getpid(), memory_limit_gb), name="dlcheck-solver",
                                daemon=True)
        self.proc.start()
        child.close()
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.is_alive()

    def receive(self, timeout: float):
        """The next message, ``_TIMEOUT`` if none came within ``timeout``, ``_DIED`` if the pipe closed."""
        try:
            if not self.conn.poll(timeout):
                return _TIMEOUT
            return self.conn.recv()
        except (EOFError, OSError):
            return _DIED

    def how_it_ended(self) -> str:
        self.proc.join(2.0)
        code = self.proc.exitcode
        if code is None:
            return "it closed its end of the pipe"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"killed by {name}" + (", as the system does when it runs out of memory" if -code == signal.SIGKILL
                                          else "")
        return f"exit code {code}"

    def stop(self, graceful: bool = False) -> None:
        if graceful and self.proc.is_alive():
            try:
                self.conn.send(None)
                self.proc.join(1.0)
            except (OSError, ValueError):
                pass
        try:
            self.conn.close()
        except OSError:
            pass
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(TERM_GRACE_S)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5.0)


_TIMEOUT, _DIED = object(), object()


def _get_worker(memory_limit_gb: Optional[float]) -> _Worker:
    global _worker, _atexit_registered
    if _worker is not None and (not _worker.alive() or _worker.memory_limit_gb != memory_limit_gb):
        _worker.stop(graceful=True)
        _worker = None
    if _worker is None:
        if not _atexit_registered:
            atexit.register(shutdown)
            _atexit_registered = True
        _worker = _Worker(memory_limit_gb)
    return _worker


def _discard_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.stop()
        _worker = None


def worker_pid() -> Optional[int]:
    """The pid of the current worker, or None when none runs (for tests and diagnostics)."""
    return _worker.pid if _worker is not None and _worker.alive() else None


def shutdown() -> None:
    """Stop the worker (registered with ``atexit``; the next request starts a new one)."""
    global _worker
    if _worker is not None:
        _worker.stop(graceful=True)
        _worker = None


def _context_fields() -> dict[str, Any]:
    """The caller's run context without its executor (which stays in the parent)."""
    from problems.context import current

    ctx = current()
    return {"profile": ctx.profile, "data_dir": ctx.data_dir, "cache_dir": ctx.cache_dir, "force": ctx.force}


def run_isolated(problem, params: dict[str, Any], claims: Optional[dict[str, Any]] = None,
                 limit_s: float = 120.0, memory_limit_gb: Optional[float] = None) -> Result:
    """Run ``problem``'s solver on ``params`` and ``claims`` in the worker, for at most ``limit_s`` seconds
    and ``memory_limit_gb`` GB of data (None: no memory limit; ``problems.api`` always sets one).

    Returns the solver's Result (with ``timings["solve_s"]`` measured in the worker), an error Result on
    overrun (time or memory) or when the worker dies, and re-raises what the solver raised.
    """
    request = (problem, params, claims, _context_fields())
    worker = _get_worker(memory_limit_gb)
    try:
        worker.conn.send(request)
    except (BrokenPipeError, ConnectionResetError, EOFError):  # it died between two requests: once more
        _discard_worker()
        worker = _get_worker(memory_limit_gb)
        worker.conn.send(request)
    done = False
    try:
        msg = worker.receive(LOAD_LIMIT_S)
        if msg is _TIMEOUT:
            return _error(problem, f"could not load the solver of {problem.id} within {LOAD_LIMIT_S:g} s "
                                   "(its process was stopped)")
        if isinstance(msg, tuple) and msg[0] == "loaded":
            msg = worker.receive(limit_s)
            if msg is _TIMEOUT:
                return _error(problem, f"could not decide within {limit_s:g} s: {problem.id} did not finish, "
                                       f"so its solver process was stopped (simplify the input or {RAISE_TIME_LIMIT})")
        if msg is _DIED:
            how = worker.how_it_ended()
            hint = "" if memory_limit_gb is None or "SIGKILL" in how else \
                f" (if it ran out of its {memory_limit_gb:g} GB of memory, {raise_memory_advice(memory_limit_gb)})"
            return _error(problem, f"{problem.id}: the solver process died ({how}) before it sent a result; "
                                   f"nothing was decided{hint}")
        kind, payload = msg
        if kind == "memory":  # the worker stays marked not done: a fresh one serves the next request
            within = f"the memory limit of {memory_limit_gb:g} GB" if memory_limit_gb is not None else "free memory"
            return _error(problem, f"could not decide within {within}: {problem.id} ran out of memory, so its "
                                   f"solver process was stopped (simplify the input or "
                                   f"{raise_memory_advice(memory_limit_gb)})")
        if kind == "raise":
            done = True
            _reraise(payload)
        if kind != "result":
            raise RuntimeError(f"unexpected message from the solver process: {kind!r}")
        done = True
        return payload
    finally:
        if not done:  # overrun, death, Ctrl-C or a protocol error: the worker's state is unknown
            _discard_worker()


def _error(problem, text: str) -> Result:
    return Result(problem_id=problem.id, title=problem.title, status="error", error=text)


def _reraise(payload: dict[str, Any]):
    exc = None
    if payload["pickled"] is not None:
        try:
            exc = pickle.loads(payload["pickled"])
        except Exception:
            exc = None
    if isinstance(exc, InputError):
        raise exc from None  # one clear line (exit 2), as in-process
    if exc is None:
        if payload["input_error"]:
            raise InputError(payload["message"]) from None
        exc = SolverProcessError(f"{payload['type']}: {payload['message']}")
    raise exc from RemoteTraceback(payload["traceback"])


# ---------------------------------------------------------------- worker side

def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except Exception:
            pass
    if os.getppid() != parent_pid:
        os._exit(0)

    def watch():  # in case prctl is missing; needs the GIL, which PR_SET_PDEATHSIG does not
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _limit_memory(gb: Optional[float]) -> None:
    """Cap this process's data segment at ``gb`` GB (2**30 bytes), or at the hard limit when that is lower."""
    try:
        import resource
    except ImportError:  # not a Unix
        return
    if gb is None or not hasattr(resource, "RLIMIT_DATA"):
        return
    limit = int(gb * 2**30)
    hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))  # the hard one too: a solver cannot lift it


def _serve(conn, parent_pid: int, memory_limit_gb: Optional[float] = None) -> None:
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    _limit_memory(memory_limit_gb)
    try:
        import problems.registry  # noqa: F401  (requests carry Problem objects)
        import theory.parse  # noqa: F401  (SymPy, paid once, before the first request's clock starts)
        started = True
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        started = False  # too little memory even to start: say so to the first request

    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        except MemoryError:  # unpickling the request imports the problem's modules
            conn.send(("memory", None))
            continue
        if request is None:  # skip the interpreter's teardown (torch, cvxpy ...): nothing to save
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        if not started:
            conn.send(("memory", None))
            continue
        _solve(conn, *request)


def _solve(conn, problem, params, claims, ctx_fields) -> None:
    from problems.context import RunContext, solving, using
    from theory.parse import Timeout

    try:
        solver = problem.load_solver()
    except Exception as exc:
        conn.send(_failure(exc))
        return
    conn.send(("loaded", None))
    start = time.perf_counter()
    try:
        with using(RunContext(**ctx_fields)), solving(problem.id):
            result = solver(params, claims)
    except Timeout as exc:  # a limit inside the solver (parsing): as in-process
        result = _error(problem, f"{exc} ({INTERNAL_LIMIT})")
    except Exception as exc:
        conn.send(_failure(exc))
        return
    result.timings.setdefault("solve_s", round(time.perf_counter() - start, 4))
    try:
        conn.send(("result", result))
    except Exception as exc:  # something in the Result does not pickle
        if _out_of_memory(exc):
            conn.send(("memory", None))
            return
        conn.send(("result", _error(problem, f"{problem.id}: its Result could not be sent back from the solver "
                                             f"process ({type(exc).__name__}: {exc})")))


def _out_of_memory(exc: BaseException) -> bool:
    """True when ``exc``, or an exception it was raised from or during, says an allocation failed: Python's
    (and NumPy's) MemoryError, torch's CPU allocator error, a shared library that could not be mapped."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc)
        if isinstance(exc, MemoryError) or "can't allocate memory" in text or "Cannot allocate memory" in text \
                or "failed to map segment" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _failure(exc: BaseException) -> tuple[str, Any]:
    """The message for an exception that left the solver (or its import)."""
    if _out_of_memory(exc):
        return ("memory", None)
    return ("raise", _exception_payload(exc))


def _exception_payload(exc: BaseException) -> dict[str, Any]:
    try:
        pickled = pickle.dumps(exc)
        pickle.loads(pickled)
    except Exception:
        pickled = None
    return {"pickled": pickled, "type": type(exc).__qualname__, "message": str(exc),
            "input_error": isinstance(exc, InputError),
            "traceback": "".join(traceback.format_exception(exc))}
