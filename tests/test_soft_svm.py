"""tau.t3a: squared-slack soft SVM in cvxpy, certified by KKT and by independent solvers."""
import numpy as np
import pytest

from numerics import soft_svm as ns
from numerics.kkt import assert_kkt, kkt_residuals
from problems import api, registry
from problems.errors import InputError

CS = [0.1, 1.0, 10.0]


@pytest.fixture(scope="module")
def data():
    return {name: (X, y) for name, X, y in ns.datasets(24, 3, seed=5)}


def test_data_are_what_they_claim(data):
    assert ns.data_certificate(*data["separable"])[0] is True
    sep, why = ns.data_certificate(*data["non-separable"])
    assert sep is False and "Farkas" in why


@pytest.mark.parametrize("name", ["separable", "non-separable"])
def test_primal_with_and_without_xi_nonneg_and_dual_agree(data, name):
    X, y = data[name]
    svm = ns.SoftSVM(X, y)
    for C in CS:
        p, q, d = svm.primal(C), svm.primal(C, nonneg=True), svm.dual(C)
        assert abs(p.value - q.value) <= 1e-7 * max(1, p.value)
        assert abs(p.value - d.value) <= 1e-7 * max(1, p.value)           # zero duality gap
        assert p.xi.min() >= -1e-8                                        # xi* >= 0 without the constraint
        assert_kkt(X, y, C, p.w, p.b, p.xi, p.alpha)
        assert_kkt(X, y, C, q.w, q.b, q.xi, q.alpha, q.mu)
        assert_kkt(X, y, C, d.w, d.b, d.alpha / C, d.alpha)               # w, b recovered from alpha
        np.testing.assert_allclose(d.w, p.w, atol=1e-6)
        assert abs(d.b - p.b) < 1e-6


@pytest.mark.parametrize("name", ["separable", "non-separable"])
def test_primal_matches_scipy_and_sklearn(data, name):
    from sklearn.svm import LinearSVC

    X, y = data[name]
    svm = ns.SoftSVM(X, y)
    for C in CS:
        p = svm.primal(C)
        res = ns.scipy_primal(X, y, C)
        assert res.success and abs(res.fun - p.value) <= 1e-7 * max(1, p.value)
        np.testing.assert_allclose(res.x[:-1], p.w, atol=1e-4)
        # sklearn minimises 1/2||w||^2 + C' sum max(0, 1 - margin)^2 with a regularised intercept:
        # C' = C/2 and a large intercept_scaling make it the same problem (MEASUREMENTS.md)
        clf = LinearSVC(loss="squared_hinge", dual=False, intercept_scaling=100, C=C / 2, tol=1e-12,
                        max_iter=100_000).fit(X, y)
        w, b = clf.coef_.ravel(), float(clf.intercept_[0])
        h = np.maximum(0, 1 - y * (X @ w + b))
        value = 0.5 * w @ w + 0.5 * C * h @ h
        assert abs(value - p.value) <= 1e-5 * max(1, p.value)


def test_kkt_helper_catches_a_wrong_point(data):
    X, y = data["non-separable"]
    p = ns.SoftSVM(X, y).primal(1.0)
    with pytest.raises(AssertionError, match="stationarity_xi"):
        assert_kkt(X, y, 1.0, p.w, p.b, p.xi, 2 * p.alpha)                # alpha twice too large
    r = kkt_residuals(X, y, 1.0, p.w + 0.1, p.b, p.xi, p.alpha)
    assert r["stationarity_w"] == pytest.approx(0.1)


def test_solver_checks_and_claims():
    r = ns.solve_t3a({"n": 20, "d": 2, "C": [0.5, 5], "seed": 1}, {"redundant": True})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True] and r.passed
    assert len(r.tables) == 3 and [row[0] for row in r.tables[0].rows] == ["sep.", "non-sep."]
    assert "OSQP" in r.params["solver"] and "eps_abs" in r.params["solver"]
    wrong = ns.solve_t3a({"n": 20, "d": 2, "C": [0.5], "seed": 1}, {"redundant": False})
    v = wrong.verdicts[0]
    assert v.passed is False and "largest relative difference" in v.evidence and not wrong.passed


def test_bad_input_names_the_key():
    with pytest.raises(InputError, match=r'\["tau.t3a"\].redundant'):
        ns.solve_t3a({"n": 8, "C": [1]}, {"redundant": "yes"})
    with pytest.raises(InputError, match="unknown key"):
        ns.solve_t3a({"n": 8, "C": [1]}, {"redundnt": True})
    with pytest.raises(InputError, match="parameter C"):
        ns.solve_t3a({"C": ["-1"]})
    with pytest.raises(InputError, match="parameter n"):
        ns.solve_t3a({"n": "many"})


def test_registered_default_run():
    r = api.run_problem(registry.get("tau.t3a"), {"redundant": True})
    assert r.passed, [c for c in r.checks if not c.passed]
    assert r.params["C"] == [0.1, 1.0, 10.0]


def test_solver_failure_is_an_error_result(monkeypatch):
    def fail(self, C, nonneg=False):
        raise ns.SolverError(f"primal (C = {C:g}): status infeasible_inaccurate")

    monkeypatch.setattr(ns.SoftSVM, "primal", fail)
    r = ns.solve_t3a({"n": 8, "d": 2, "C": [1]})
    assert r.status == "error" and "infeasible_inaccurate" in r.error and not r.passed
