"""ist21.q2.1: squared loss convex (Hessian I), convex in (W, b); w* by ridge or pseudo-inverse vs lstsq."""
import numpy as np
import pytest

from problems import api, registry
from problems.errors import InputError
from theory import convexity as cvx
from theory import least_squares as ls


@pytest.fixture(autouse=True)
def small(monkeypatch):
    monkeypatch.setattr(cvx, "SYMBOLIC_SIZES", ((2, 1),))


def test_default_run_passes_and_says_which_formula():
    r = api.run_problem(registry.get("ist21.q2.1"))
    assert r.passed, [c for c in r.checks if not c.passed]
    assert [row[2].split(" ")[0] for row in r.tables[0].rows] == ["ridge", "ridge"]
    r0 = ls.solve({"ridge": 0.0})
    assert r0.checks_passed
    assert r0.tables[0].rows[0][2].startswith("normal equations") and r0.tables[0].rows[1][2].startswith("pseudo")


@pytest.mark.parametrize("claims", [
    {"hessian": "eye(3)", "convex": True, "convex_affine": True, "w_star": "inv(X.T*X + lam*eye(4))*X.T*y"},
    {"hessian": "diag(1, 1, 1)", "convex": True, "convex_affine": True, "w_star": "pinv(X) @ y"},
])
def test_right_claims(claims):
    r = ls.solve({}, claims)
    assert [v.passed for v in r.verdicts] == [True] * 4, r.verdicts


def test_wrong_claims():
    r = ls.solve({}, {"hessian": "2*eye(3)", "convex": False, "w_star": "inv(X.T*X)*X.T*y"})
    h, c, w = r.verdicts
    assert h.passed is False and "entry (1, 1) differs at" in h.evidence and "claimed = 2.0" in h.evidence
    assert c.passed is False
    assert w.passed is False and "singular" in w.evidence and "pseudo-inverse" in w.evidence
    r = ls.solve({}, {"w_star": "2*pinv(X)*y", "hessian": "eye(2)"})
    assert r.verdicts[0].passed is False and "shape 2x2" in r.verdicts[0].evidence
    assert r.verdicts[1].passed is False and "the claim gives w = (" in r.verdicts[1].evidence


def test_solution_function_and_checks_that_can_fail(monkeypatch):
    X, y = ls.synthetic_designs()["singular (column 2 = column 1)"]
    w, how = ls.least_squares_solution(X, y, 0.0)
    assert "pseudo-inverse" in how
    assert np.allclose(w, np.linalg.lstsq(X.astype(float), y.astype(float), rcond=None)[0])
    checks, _ = ls.solution_checks({"singular": (X, y)}, 1e-4)
    assert all(c.passed for c in checks)
    real = ls.least_squares_solution
    monkeypatch.setattr(ls, "least_squares_solution", lambda X, y, r: (real(X, y, r)[0] * 1.001, "broken"))
    checks, _ = ls.solution_checks({"singular": (X, y)}, 1e-4)
    assert not any(c.passed for c in checks)


@pytest.mark.parametrize("bad, why", [
    ({"w_star": "inv(X)*y"}, r"w_star: inv\(\) takes a square matrix"),
    ({"w_star": "X*y"}, r"w_star: matrix product of shapes 12x4 and 12x1"),
    ({"w_star": "X.T*X"}, r"w_star: expected a 4x1 vector, got 4x4"),
    ({"convex": 1}, r"convex: expected true or false"),
    ({"hessian": "eye(3) + q"}, r"hessian: unknown name 'q'"),
])
def test_bad_claims(bad, why):
    with pytest.raises(InputError, match=why):
        ls.solve({}, bad)
