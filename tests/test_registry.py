"""The registry holds every catalog problem, and nothing else."""
import re
from pathlib import Path

import pytest

from problems import registry

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT.parent / "shared" / "PROBLEMS.md"


def catalog_ids() -> list[str]:
    """The ids of ../shared/PROBLEMS.md when present, else the copy kept in tests/data."""
    if CATALOG.exists():
        return re.findall(r"^### `([^`]+)`", CATALOG.read_text(encoding="utf-8"), flags=re.M)
    return (ROOT / "tests" / "data" / "catalog_ids.txt").read_text().split()


def test_copy_of_catalog_ids_is_current():
    assert (ROOT / "tests" / "data" / "catalog_ids.txt").read_text().split() == catalog_ids()


def test_every_catalog_problem_is_registered_in_order():
    ids = [p.id for p in registry.all_problems()]
    expected = catalog_ids()
    assert len(expected) == 69
    missing = [i for i in expected if i not in ids]
    unknown = [i for i in ids if i not in expected]
    assert not missing, f"catalog problems missing from the registry: {missing}"
    assert not unknown, f"registry ids not in the catalog: {unknown}"
    assert ids == expected


def test_each_problem_is_well_formed():
    for p in registry.all_problems():
        assert p.title and p.statement, p.id
        assert p.kind in registry.KINDS, p.id
        assert p.set == p.id.split(".")[0]
        if p.implemented:
            assert callable(p.load_solver()), p.id
        else:
            assert p.planned, f"{p.id} is not implemented and says nothing about when"
        if p.kind == "experiment":
            assert p.dataset, p.id


def test_select_by_set_prefix_and_id():
    assert [p.id for p in registry.select(["hertie.1.1"])] == ["hertie.1.1"]
    assert all(p.set == "tau" for p in registry.select(["tau"]))
    assert {p.id for p in registry.select(["hertie.1.3"])} == {"hertie.1.3.1", "hertie.1.3.2", "hertie.1.3.3"}
    with pytest.raises(registry.UnknownProblem, match="unknown problem id 'hertie.9'"):
        registry.select(["hertie.9"])


def test_strict_parameter_overrides():
    p = registry.get("hertie.1.1")
    assert registry.resolve_params(p, {"f": "x**2"})["f"] == "x**2"
    with pytest.raises(ValueError, match="unknown parameter 'g' for hertie.1.1"):
        registry.resolve_params(p, {"g": "1"})


def test_broken_set_file_is_refused(tmp_path):
    bad = tmp_path / "hertie.toml"
    bad.write_text('set = "hertie"\n[[problems]]\nid = "hertie.x"\ntitle = "t"\nkind = "magic"\nstatement = "s"\n')
    with pytest.raises(ValueError, match="kind 'magic'"):
        registry._load_set(bad)


def test_every_implemented_problem_has_a_solver_a_schema_and_a_test():
    """STYLE 8: a problem is implemented only with an importable solver, a claim schema and a test
    that names it (its id, or the solver function, appears in some test file)."""
    import re
    from pathlib import Path

    from problems import api
    from problems.registry import all_problems

    tests_text = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for p in all_problems():
        if not p.implemented:
            assert p.planned, f"{p.id}: neither a solver nor a plan"
            continue
        solver = p.load_solver()
        assert callable(solver), p.id
        assert "documents no claim schema" not in api.schema(p), p.id
        func = p.solver.partition(":")[2]
        assert p.id in tests_text or re.search(rf"\b{func}\b", tests_text), f"{p.id}: no test names it"
