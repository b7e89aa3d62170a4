"""The problem registry: one TOML data file per problem set in ``problems/sets``.

Each problem has an id, a title, a kind (``theory``, ``numeric`` or
``experiment``), its statement in LaTeX, its parameters (with defaults, types
and documentation) and the dotted path of its solver, or none when it is not
implemented yet (the ``planned`` field then says where it will be).

>>> p = get("hertie.1.1")
>>> p.kind, p.implemented
('theory', True)
>>> len(all_problems())
69
"""
from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

SETS_DIR = Path(__file__).parent / "sets"
SET_ORDER = ("ist23", "ist24", "hertie", "ist21", "tau")
KINDS = ("theory", "numeric", "experiment")
PARAM_TYPES = ("expr", "str", "int", "float", "bool", "list")


class UnknownProblem(KeyError):
    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    doc: str = ""


@dataclass(frozen=True)
class Problem:
    id: str
    set: str
    title: str
    kind: str
    statement: str
    solver: str = ""
    planned: str = ""
    dataset: str = ""
    params: tuple[Param, ...] = field(default_factory=tuple)

    @property
    def implemented(self) -> bool:
        return bool(self.solver)

    @property
    def status(self) -> str:
        return "implemented" if self.implemented else "not-implemented"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def load_solver(self) -> Callable:
        """Import the solver function named by ``module:function``."""
        if not self.solver:
            raise NotImplementedError(f"{self.id} is not implemented yet")
        module, _, func = self.solver.partition(":")
        return getattr(importlib.import_module(module), func)

    def load_module(self):
        module, _, _ = self.solver.partition(":")
        return importlib.import_module(module)


@dataclass(frozen=True)
class ProblemSet:
    name: str
    title: str
    source: str
    problems: tuple[Problem, ...]


def _load_set(path: Path) -> ProblemSet:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    name = data["set"]
    if name != path.stem:
        raise ValueError(f"{path}: set = {name!r} does not match the file name")
    problems = []
    for i, raw in enumerate(data.get("problems", [])):
        where = f"{path.name}: problem #{i + 1}"
        pid = raw.get("id", "")
        if not pid.startswith(name + "."):
            raise ValueError(f"{where}: id {pid!r} does not start with {name + '.'!r}")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{where} ({pid}): kind {kind!r} is not one of {KINDS}")
        params = []
        for pname, spec in raw.get("params", {}).items():
            if spec.get("type") not in PARAM_TYPES:
                raise ValueError(f"{where} ({pid}): parameter {pname!r} has type {spec.get('type')!r}")
            params.append(Param(pname, spec["type"], spec.get("default"), spec.get("doc", "")))
        unknown = set(raw) - {"id", "title", "kind", "statement", "solver", "planned", "dataset", "params"}
        if unknown:
            raise ValueError(f"{where} ({pid}): unknown keys {sorted(unknown)}")
        problems.append(Problem(
            id=pid, set=name, title=raw["title"], kind=kind,
            statement=raw.get("statement", "").strip(), solver=raw.get("solver", ""),
            planned=raw.get("planned", ""), dataset=raw.get("dataset", ""), params=tuple(params)))
    return ProblemSet(name=name, title=data.get("title", name), source=data.get("source", ""),
                      problems=tuple(problems))


@lru_cache(maxsize=None)
def problem_sets() -> tuple[ProblemSet, ...]:
    sets = []
    for name in SET_ORDER:
        sets.append(_load_set(SETS_DIR / f"{name}.toml"))
    ids = [p.id for s in sets for p in s.problems]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate problem ids: {sorted(dupes)}")
    return tuple(sets)


def all_problems() -> list[Problem]:
    return [p for s in problem_sets() for p in s.problems]


def get(pid: str) -> Problem:
    for p in all_problems():
        if p.id == pid:
            return p
    raise UnknownProblem(f"unknown problem id {pid!r} (see `python main.py list`)")


def get_set(name: str) -> ProblemSet:
    for s in problem_sets():
        if s.name == name:
            return s
    raise UnknownProblem(f"unknown problem set {name!r} (sets: {', '.join(SET_ORDER)})")


def select(names: list[str]) -> list[Problem]:
    """Problems named by ids, set names or id prefixes (``hertie.1``), in catalog order."""
    if not names:
        return all_problems()
    chosen: list[Problem] = []
    for name in names:
        if name in SET_ORDER:
            matches = list(get_set(name).problems)
        else:
            matches = [p for p in all_problems() if p.id == name or p.id.startswith(name + ".")]
            if not matches:
                get(name)  # raises UnknownProblem with the standard message
        for p in matches:
            if p not in chosen:
                chosen.append(p)
    order = {p.id: i for i, p in enumerate(all_problems())}
    return sorted(chosen, key=lambda p: order[p.id])


def resolve_params(problem: Problem, overrides: Optional[dict[str, str]] = None) -> dict[str, Any]:
    """The problem's defaults with strict overrides (unknown keys and bad types are refused)."""
    resolved = problem.defaults()
    for key, text in (overrides or {}).items():
        try:
            spec = problem.param(key)
        except KeyError:
            known = ", ".join(p.name for p in problem.params) or "none"
            raise ValueError(f"unknown parameter {key!r} for {problem.id} (known: {known})") from None
        resolved[key] = _coerce(spec, text, problem.id)
    return resolved


def _coerce(spec: Param, value: Any, pid: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if spec.type == "int":
            return int(value)
        if spec.type == "float":
            return float(value)
        if spec.type == "bool":
            if value.lower() in ("1", "true", "yes"):
                return True
            if value.lower() in ("0", "false", "no"):
                return False
            raise ValueError(value)
        if spec.type == "list":
            return [v.strip() for v in value.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"parameter {spec.name!r} of {pid} expects {spec.type}, got {value!r}") from None
    return value
