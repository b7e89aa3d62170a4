"""ist23.q3.1a-c: separability LP with exact certificates; 2-unit networks checked on every corner."""
from fractions import Fraction

import numpy as np
import pytest

from numerics import boolean_nets as bn
from numerics import separability as sep
from numerics.solvers_boolean import solve_q3_1a, solve_q3_1b, solve_q3_1c
from problems.errors import InputError

SIGN_EXPR = {"W": ["2", "-2"], "b": ["1 - 2*A", "2*B + 1"], "v": [1, 1], "v0": -1}
RELU_EXPR = {"W": ["-1", "1"], "b": ["A", "-B"], "v": [-2, -2], "v0": 1}


def verdicts(r):
    return {v.claim.split(": ")[-1]: v for v in r.verdicts}


# ---------------------------------------------------------------- q3.1a

def test_xor_certificate_verified_exactly():
    X = sep.corners(2)
    y = bn.f_values(X, 0, 0)
    d = sep.decide(X, y)
    assert not d.separable and all(isinstance(c, Fraction) for c in d.certificate)
    assert sep.verify_certificate(X, y, d.certificate)[0]
    bad = list(d.certificate)
    bad[0] += Fraction(1, 3)
    ok, why = sep.verify_certificate(X, y, bad)
    assert not ok and "not 0" in why


def test_separable_instance_has_no_certificate():
    X = sep.corners(4)
    y = bn.f_values(X, 0, 4)                     # suffix of the attainable sums: separable
    d = sep.decide(X, y)
    assert d.separable and d.certificate is None
    assert sep.verify_separator(X, y, d.w, d.b)[0]
    assert not sep.has_certificate(X, y)
    assert sep.has_certificate(X, bn.f_values(X, 0, 0))


def test_q3_1a_table_and_claims():
    r = solve_q3_1a({"max_D": 4}, {"separable": False})
    assert r.passed, [c for c in r.checks if not c.passed]
    assert r.verdicts[0].passed is True and "Farkas" in r.verdicts[0].evidence
    summary = r.tables[1]
    assert [row[0] for row in summary.rows] == ["1", "2", "3", "4"]
    assert summary.rows[1][4] == "4" and "(0,0)" in summary.rows[1][5]   # attainable {0} only: XOR-like
    # degenerate instance D = 2, A = B = 1: no attainable sum, f = -1, separable
    r2 = solve_q3_1a({"max_D": 2}, {"separable": True, "D": 2, "A": 1, "B": 1})
    assert r2.verdicts[0].passed is True
    r3 = solve_q3_1a({"max_D": 2}, {"separable": True, "D": 2, "A": 0, "B": 0})
    assert r3.verdicts[0].passed is False and not r3.passed


def test_q3_1a_exact_evidence_check_can_fail(monkeypatch):
    real = sep.decide

    def corrupted(X, y):                         # a solver whose certificates are off by 1/3
        d = real(X, y)
        if not d.separable:
            d.certificate = [d.certificate[0] + Fraction(1, 3)] + list(d.certificate[1:])
        return d

    monkeypatch.setattr(sep, "decide", corrupted)
    r = solve_q3_1a({"max_D": 3}, None)
    exact = next(c for c in r.checks if c.name == "every LP verdict carries exact evidence")
    assert exact.passed is False and not r.passed
    assert exact.detail.startswith("4 of 22 labellings without exact evidence")
    assert "(D, A, B) = (2, -1, 0): certificate fails the exact check: sum_n lambda_n y_n x_n[0] = 1/3" in exact.detail
    assert "no exact evidence: (-1,0), (-1,1), (0,0), (0,1)" == r.tables[1].rows[1][5]


def test_q3_1a_solver_failure_is_a_failed_check(monkeypatch):
    def broken(X, y):
        raise sep.SolverFailure("separability LP: status 4 (numerical difficulties)")

    monkeypatch.setattr(sep, "decide", broken)
    from numerics.solvers_boolean import _exact_decision
    X = sep.corners(2)
    assert _exact_decision(X, bn.f_values(X, 0, 0)) == (None, "separability LP: status 4 (numerical difficulties)")


def test_q3_1a_claimed_certificate():
    ok = solve_q3_1a({"max_D": 2}, {"separable": False, "certificate": [1, "1", 1.0, "2/2"]})
    assert ok.verdicts[1].passed is True
    bad = solve_q3_1a({"max_D": 2}, {"separable": False, "certificate": [1, 1, 1, 0]})
    assert bad.verdicts[1].passed is False and "not 0" in bad.verdicts[1].evidence
    with pytest.raises(InputError, match="certificate"):
        solve_q3_1a({"max_D": 2}, {"separable": False, "certificate": [1, 1]})
    with pytest.raises(InputError, match="separable"):
        solve_q3_1a({"max_D": 2}, {"separable": "no"})


# ---------------------------------------------------------------- q3.1b

def test_q3_1b_reference_and_expression_claim():
    r = solve_q3_1b({"max_D": 8}, dict(SIGN_EXPR))
    assert r.passed, ([c for c in r.checks if not c.passed], r.verdicts)


def test_q3_1b_numeric_claim_equivalent_form():
    claim = {"W": [[2, 2, 2], [-2, -2, -2]], "b": [1, 3], "v": [1, 1], "v0": -1, "D": 3, "A": 0, "B": 1}
    r = solve_q3_1b({"max_D": 3}, claim)
    assert all(v.passed for v in r.verdicts), r.verdicts
    claim2 = {**claim, "W": ["2*(D - 2)", "-2"], "b": ["1 - 2*A", "2*B + 1"]}    # 2*(D-2) = 2 at D=3
    assert all(v.passed for v in solve_q3_1b({"max_D": 3}, claim2).verdicts)


def test_q3_1b_first_failing_corner():
    claim = {**SIGN_EXPR, "b": ["1 - 2*A", "2*B - 1"]}        # upper threshold one step too low
    v = verdicts(solve_q3_1b({"max_D": 4}, claim))
    assert v["h = f on every corner"].passed is False
    assert "first failing corner: D = 1, A = -1, B = -1, x = (-1)" in v["h = f on every corner"].evidence


def test_q3_1b_zero_preactivation_and_flip_direction():
    # the sheet's naive thresholds sum x - A and B - sum x: zero at sum x = A
    claim = {"W": ["1", "-1"], "b": ["-A", "B"], "v": [1, 1], "v0": -1, "D": 2, "A": 0, "B": 0}
    v = verdicts(solve_q3_1b({"max_D": 2}, claim))
    assert v["h = f on every corner"].passed is True
    rob = v["robust to infinitesimal perturbations"]
    assert rob.passed is False
    assert "x = (-1, +1): hidden unit 1 pre-activation is 0" in rob.evidence
    assert "direction v = (" in rob.evidence and "tends to -1" in rob.evidence


def test_q3_1b_non_integer_weight():
    claim = {**SIGN_EXPR, "b": ["(1 - 2*A)/2", "B + 1/2"]}
    v = verdicts(solve_q3_1b({"max_D": 3}, claim))
    assert v["integer weights"].passed is False
    assert v["integer weights"].evidence == "b[0] = 3/2 is not an integer at D = 1, A = -1, B = -1"


def test_q3_1b_input_errors():
    with pytest.raises(InputError, match=r'\["ist23.q3.1b"\].W\[0\]'):
        solve_q3_1b({"max_D": 2}, {**SIGN_EXPR, "W": ["2*K", "-2"]})
    with pytest.raises(InputError, match="needs a fixed D"):
        solve_q3_1b({"max_D": 2}, {**SIGN_EXPR, "W": [[2, 2], [-2, -2]]})
    with pytest.raises(InputError, match="__import__|not allowed"):
        solve_q3_1b({"max_D": 2}, {**SIGN_EXPR, "v0": "__import__('os')"})


# ---------------------------------------------------------------- q3.1c

def test_q3_1c_partial_instance_and_claims():
    r = solve_q3_1c({"D": 2, "A": 1, "B": 1, "max_D": 8}, dict(RELU_EXPR))
    assert r.passed, ([c for c in r.checks if not c.passed], r.verdicts)
    assert any("constant -1" in s.text for s in r.steps)
    numeric = {"W": [[-1, -1], [1, 1]], "b": [1, -1], "v": [-2, -2], "v0": 1, "D": 2, "A": 1, "B": 1}
    assert all(v.passed for v in solve_q3_1c({"max_D": 2}, numeric).verdicts)


def test_q3_1c_zero_output_rejected_with_direction():
    # output 0 - 2 a1 - 2 a2: zero inside the interval
    claim = {**RELU_EXPR, "v0": 0, "D": 2, "A": 0, "B": 0}
    v = verdicts(solve_q3_1c({"max_D": 2}, claim))
    rob = v["robust to infinitesimal perturbations"]
    assert v["h = f on every corner"].passed is True
    assert rob.passed is False and "x = (-1, +1): output pre-activation is 0" in rob.evidence
    assert "direction v" in rob.evidence


def test_q3_1c_wrong_claim_first_corner():
    claim = {**RELU_EXPR, "v": [-2, 0]}                       # ignores the upper end
    v = verdicts(solve_q3_1c({"max_D": 3}, claim))
    assert v["h = f on every corner"].passed is False
    assert "first failing corner: D = 1, A = -1, B = -1, x = (+1)" in v["h = f on every corner"].evidence


def test_reference_constructions_all_instances_fast():
    for D, A, B in bn.valid_instances(10):
        assert bn.check_network(bn.reference_sign(D, A, B), D, A, B).ok
        assert bn.check_network(bn.reference_relu(D, A, B), D, A, B).ok
