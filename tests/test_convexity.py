"""ist21.q1.5: logistic loss convex in (W, b) for affine logits; a ReLU network is not (midpoint counter-example)."""
import pytest
import sympy as sp

from problems import api, registry
from problems.errors import InputError
from theory import convexity as cvx

CE_RIGHT = {"x": [1, 0], "y": 1,
            "theta_a": {"W1": [[1, 0], [-1, 0]], "c1": [0, 0], "V": [[2, -2], [0, 0], [0, 0]], "b": [0, 0, 0]},
            "theta_b": {"W1": [[-1, 0], [1, 0]], "c1": [0, 0], "V": [[-2, 2], [0, 0], [0, 0]], "b": [0, 0, 0]}}
# another valid one, with text entries: three hidden units, a cyclic permutation, one input
CE_OTHER = {"x": [2], "y": 2,
            "theta_a": {"W1": [["1/2"], [-1], [0]], "c1": [0, 0, 1], "V": [[0, 0, 0], [3, "-3", 0]], "b": [0, 0]},
            "theta_b": {"W1": [[0], ["1/2"], [-1]], "c1": [1, 0, 0], "V": [[0, 0, 0], [0, 3, -3]], "b": [0, 0]}}
# not a counter-example: the same parameters twice
CE_WRONG = {**CE_RIGHT, "theta_b": CE_RIGHT["theta_a"]}


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(cvx, "SYMBOLIC_SIZES", ((2, 1),))


def test_default_run_passes_every_check():
    r = api.run_problem(registry.get("ist21.q1.5"))
    assert r.passed, [c for c in r.checks if not c.passed]
    assert r.steps and not any(s.gap for s in r.steps)
    assert r.figures[0].series[0].y[20] > r.figures[0].series[1].y[0]     # midpoint above the chord


@pytest.mark.parametrize("ce", [CE_RIGHT, CE_OTHER])
def test_right_claims_accepted(small, ce):
    r = cvx.solve({"K": 3 if ce is CE_RIGHT else 2, "D": 2},
                  {"convex_affine": True, "convex_network": False, "counterexample": ce})
    assert [v.passed for v in r.verdicts] == [True, True, True], r.verdicts
    assert "L(mid) - average" in r.verdicts[2].evidence


def test_wrong_claims_rejected_with_evidence(small):
    r = cvx.solve({}, {"convex_affine": False, "convex_network": True, "counterexample": CE_WRONG})
    assert [v.passed for v in r.verdicts] == [False, False, False] and not r.passed
    assert "u^T" in r.verdicts[0].evidence
    assert "midpoint is higher by 0.859" in r.verdicts[1].evidence
    assert "not a counter-example" in r.verdicts[2].evidence and "L(mid) - average = 0" in r.verdicts[2].evidence


def test_segment_judge_can_fail_for_a_convex_segment():
    ta, tb, x, y = cvx.reference_counterexample(2, 1)
    j = cvx.judge_segment(ta, ta, x, y)
    assert j["violates"] is False and j["gap_num"] == 0
    assert cvx.judge_segment(ta, tb, x, y)["violates"] is True


def test_symbolic_hessian_and_quadratic_form():
    e = cvx.affine_hessian_proof(2, 1)
    assert e.equal is True and e.method == "exact"
    ok, _ = cvx.kron_quadratic_form_identity(2, 2)
    assert ok


@pytest.mark.parametrize("bad, why", [
    ({"convex_affine": "yes"}, r"convex_affine: expected true or false"),
    ({"convexx": True}, "unknown key"),
    ({"counterexample": {**CE_RIGHT, "y": 4}}, r"counterexample.y: expected a class 1..3"),
    ({"counterexample": {**CE_RIGHT, "x": [1, 0, 0]}}, r"theta_a.W1: expected 3 columns"),
    ({"counterexample": {**CE_RIGHT, "theta_b": {"W1": [[1, 0]]}}}, r"theta_b: expected a table with exactly"),
    ({"counterexample": {**CE_RIGHT, "x": ["x1", 0]}}, r"counterexample.x"),
    ({"counterexample": {**CE_RIGHT, "z": 1}}, r"counterexample: unknown key\(s\) z \(expected: x, y, theta_a, theta_b\)"),
    ({"counterexample": {"x": [1, 0]}}, r"counterexample: missing key\(s\) theta_a, theta_b, y"),
])
def test_bad_claims_name_the_key(small, bad, why):
    with pytest.raises(InputError, match=why):
        cvx.solve({}, bad)
