"""ist21.q1.1-q1.4: derivations, oracle checks, and claims that can fail."""
import pytest
import sympy as sp

from problems import api, registry
from problems.errors import InputError
from theory.logistic import solve_q1_1, solve_q1_2, solve_q1_3, solve_q1_4


def _assert_rejected_with_point(v):
    assert v.passed is False
    assert "differs at (" in v.evidence and "claimed = " in v.evidence and "derived = " in v.evidence


@pytest.mark.parametrize("claim", ["sigmoid(z)*(1 - sigmoid(z))", "exp(-z)/(1 + exp(-z))**2",
                                   "1/(4*cosh(z/2)**2)"])
def test_q1_1_right_claims(claim):
    r = solve_q1_1({}, {"derivative": claim})
    assert r.checks_passed and r.passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True]


def test_q1_1_wrong_claim():
    r = solve_q1_1({}, {"derivative": "sigmoid(z)**2"})
    assert r.checks_passed and not r.passed
    _assert_rejected_with_point(r.verdicts[0])
    assert r.verdicts[0].evidence_math


def test_q1_1_bad_claims_name_the_key():
    with pytest.raises(InputError, match=r'\["ist21.q1.1"\].derivative'):
        solve_q1_1({}, {"derivative": "sigmoid(x)"})
    with pytest.raises(InputError, match="unknown key"):
        solve_q1_1({}, {"derivativ": "z"})


RIGHT_Q12 = {"first_derivative_pos": "sigmoid(z) - 1", "second_derivative_pos": "sigmoid(z)*(1 - sigmoid(z))",
             "first_derivative_neg": "sigmoid(z)", "second_derivative_neg": "sigmoid(z)*(1 - sigmoid(z))",
             "convex": True}
RIGHT_Q12_OTHER = {"first_derivative_pos": "-1/(1 + exp(z))", "second_derivative_pos": "exp(z)/(1 + exp(z))**2",
                   "first_derivative_neg": "exp(z)/(1 + exp(z))", "second_derivative_neg": "exp(-z)/(1 + exp(-z))**2",
                   "convex": True}


@pytest.mark.parametrize("claims", [RIGHT_Q12, RIGHT_Q12_OTHER])
def test_q1_2_right_claims(claims):
    r = solve_q1_2({}, claims)
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True] * 5 and r.passed


def test_q1_2_wrong_claims():
    r = solve_q1_2({}, {"first_derivative_pos": "1 - sigmoid(z)", "convex": False})
    _assert_rejected_with_point(r.verdicts[0])
    assert r.verdicts[1].passed is False and not r.passed
    with pytest.raises(InputError, match=r"\.convex"):
        solve_q1_2({}, {"convex": "yes"})


@pytest.mark.parametrize("claim", ["p_i*(delta(i, j) - p_j)", "delta(i, j)*p_i - p_j*p_i"])
def test_q1_3_right_claims(claim):
    r = solve_q1_3({"K": 3}, {"jacobian_entry": claim})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True] and r.passed
    assert sum("(symbolic)" in c.name for c in r.checks) == 4  # K = 2..5 proved


def test_q1_3_wrong_claim():
    r = solve_q1_3({"K": 2}, {"jacobian_entry": "p_i*(1 - p_j)"})
    v = r.verdicts[0]
    _assert_rejected_with_point(v)
    assert "entry i = 1, j = 2" in v.evidence
    with pytest.raises(InputError, match="jacobian_entry"):
        solve_q1_3({"K": 2}, {"jacobian_entry": "q_i"})


DEN = "(exp(z1) + exp(z2) + exp(z3))"


@pytest.mark.parametrize("grad", [
    [f"exp(z1)/{DEN} - 1", f"exp(z2)/{DEN}", f"exp(z3)/{DEN}"],
    [f"-(exp(z2) + exp(z3))/{DEN}", f"1/(1 + exp(z1 - z2) + exp(z3 - z2))", f"exp(z3)/{DEN}"],
])
def test_q1_4_right_claims(grad):
    r = solve_q1_4({"K": 3, "j": 1}, {"gradient": grad, "convex": True})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True, True] and r.passed


def test_q1_4_wrong_claim_and_other_class():
    r = solve_q1_4({"K": 3, "j": 2}, {"gradient": [f"exp(z1)/{DEN} - 1", f"exp(z2)/{DEN}", f"exp(z3)/{DEN}"]})
    v = r.verdicts[0]
    _assert_rejected_with_point(v)
    assert v.evidence.startswith("component 1")
    with pytest.raises(InputError, match=r"gradient: expected a list of 3"):
        solve_q1_4({}, {"gradient": ["z1"]})
    with pytest.raises(InputError, match="parameter j"):
        solve_q1_4({"K": 2, "j": 3})


def test_registry_runs_all_four():
    for pid in ("ist21.q1.1", "ist21.q1.2", "ist21.q1.3", "ist21.q1.4"):
        r = api.run_problem(registry.get(pid))
        assert r.passed, (pid, [c for c in r.checks if not c.passed])
        assert r.steps and all(not s.gap for s in r.steps)


# ---------------------------------------------------------------- matrix-notation claims

@pytest.mark.parametrize("claim", ["diag(p) - p*p.T", "diag(p) - p@p.T", "diag(p_1, p_2, p_3) - p*p.T"])
def test_q1_3_matrix_claim_accepted(claim):
    r = solve_q1_3({"K": 3}, {"jacobian": claim, "jacobian_entry": "p_i*(delta(i, j) - p_j)"})
    assert [v.passed for v in r.verdicts] == [True, True] and r.passed


def test_q1_3_matrix_claim_rejected_and_shape_checked():
    r = solve_q1_3({"K": 3}, {"jacobian": "diag(p) - p.T*p*eye(3)"})
    v = r.verdicts[0]
    _assert_rejected_with_point(v)
    assert v.evidence.startswith("entry (1, 1) = dp_1/dz_1")
    with pytest.raises(InputError, match=r"jacobian: expected a 3x3 matrix .* got a 3x1 matrix"):
        solve_q1_3({"K": 3}, {"jacobian": "p"})
    with pytest.raises(InputError, match=r"jacobian: .*attribute access"):
        solve_q1_3({"K": 3}, {"jacobian": "p.shape"})


@pytest.mark.parametrize("claim", ["diag(p) - p*p.T", "diag(p) - (p - e_j)*p.T - e_j*p.T"])
def test_q1_4_hessian_claim_accepted(claim):
    r = solve_q1_4({"K": 3, "j": 2}, {"hessian": claim})
    assert [v.passed for v in r.verdicts] == [True]


def test_q1_4_hessian_claim_rejected():
    r = solve_q1_4({"K": 3, "j": 2}, {"hessian": "diag(p) - (p - e_j)*(p - e_j).T"})
    v = r.verdicts[0]
    _assert_rejected_with_point(v)
    assert v.evidence.startswith("entry (1, 2) = d2L/dz1dz2")


def test_q1_1_independent_oracles_and_the_proof_labelled_as_such():
    r = solve_q1_1({})
    names = [c.name for c in r.checks]
    assert any("torch.autograd" in n for n in names) and any("finite differences" in n for n in names)
    proof = next(c for c in r.checks if "proof of step 4" in c.name)
    assert proof.passed and "not an independent oracle" in proof.name


def test_q1_3_index_form_proved_for_symbolic_K():
    from theory import logistic
    ok, latex, detail = logistic.prove_index_form()
    assert ok and "simplifies to 0" in detail and r"\delta_{i j}" in latex
    g, conds, s_i, s_j, (i, j, K) = logistic.index_form_jacobian()
    assert isinstance(K, sp.Symbol) and not K.is_number  # K stays symbolic
    r = solve_q1_3({}, {"jacobian_entry": "p_i*(delta(i, j) - p_j)"})
    check = next(c for c in r.checks if "index form for symbolic K" in c.name)
    assert check.passed
    step = next(s for s in r.steps if "symbolic K" in s.text)
    assert not step.gap and r"\sum_{m=1}^{K}" in step.math
    assert "also proved for symbolic K" in r.verdicts[0].evidence


def test_no_raw_python_values_in_details():
    for r in (solve_q1_1({}), solve_q1_2({}), solve_q1_3({}), solve_q1_4({})):
        for c in r.checks:
            for bad in ("True", "False", "zoo", "{'"):
                assert bad not in c.detail, (r.problem_id, c.name, c.detail)
