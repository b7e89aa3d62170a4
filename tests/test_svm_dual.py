"""tau.t3b-t3d: Lagrangian, stationarity and dual of the L2 soft SVM; claims that can fail."""
import pytest
import sympy as sp

from problems import api, registry
from problems.errors import InputError
from theory.svm_dual import Instance, solve_t3b, solve_t3c, solve_t3d

L_INDEX = "norm(w)**2/2 + C/2*sum_i(xi_i**2) - sum_i(alpha_i*(y_i*(dot(w, x_i) + b) - 1 + xi_i))"
L_COMPONENTS = ("w1**2/2 + w2**2/2 + C*(xi1**2 + xi2**2)/2 + alpha1*(1 - xi1 - y1*(w1*x1_1 + w2*x1_2 + b))"
                " + alpha2*(1 - xi2 - y2*(w1*x2_1 + w2*x2_2 + b))")
DUAL = "sum_i(alpha_i) - norm(sum_i(alpha_i*y_i*x_i))**2/2 - sum_i(alpha_i**2)/(2*C)"
DUAL_KERNEL = "sum_i(alpha_i) - 1/2*sum_i(sum_j(alpha_i*alpha_j*y_i*y_j*(dot(x_i, x_j) + delta(i, j)/C)))"
SMALL = {"n": 12, "d": 2, "C": [0.5, 4], "seed": 2}


# ---------------------------------------------------------------- the claim language

def test_language_expands_sums_vectors_and_uses_y_squared_is_one():
    S = Instance(3, 2)
    assert S.scalar("sum_i(alpha_i*y_i)", "k") == sum(a * y for a, y in zip(S.alpha, S.y))
    e = S.scalar("sum_i(sum_j(alpha_i*alpha_j*y_i*y_j*delta(i, j)))", "k")
    assert S.reduce_signs(e) == sum(a ** 2 for a in S.alpha)
    with pytest.raises(InputError, match="outside a sum"):
        S.scalar("alpha_i", "k")
    with pytest.raises(InputError, match="vector"):
        S.scalar("w + b", "k")
    with pytest.raises(InputError, match="unknown name"):
        S.scalar("z1", "k")
    with pytest.raises(InputError, match="not allowed"):
        S.scalar("__import__('os')", "k")


# ---------------------------------------------------------------- t3b

@pytest.mark.parametrize("claim", [L_INDEX, L_COMPONENTS,
                                   "norm(w)**2/2 + C/2*sum_j(xi_j**2) + sum_k(alpha_k*(1 - xi_k - y_k*b - y_k*dot(x_k, w)))"])
def test_t3b_right_lagrangian(claim):
    r = solve_t3b({}, {"lagrangian": claim})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True] and r.passed


@pytest.mark.parametrize("claim, diagnosis", [
    (L_INDEX.replace("- sum_i(alpha", "+ sum_i(alpha"), "sign of the multiplier term"),
    (L_INDEX.replace("norm(w)**2/2", "norm(w)**2"), "1/2 of ||w||^2"),
    (L_INDEX + " - sum_i(mu_i*xi_i)", "extra constraints xi_i >= 0"),
])
def test_t3b_wrong_lagrangian(claim, diagnosis):
    r = solve_t3b({}, {"lagrangian": claim})
    v = r.verdicts[0]
    assert v.passed is False and not r.passed
    assert diagnosis in v.evidence and "claimed minus the derived Lagrangian" in v.evidence
    assert "differs at (" in v.evidence and "alpha_1 = " in v.evidence
    assert r"L_{\text{claimed}}-L=" in v.evidence_math and r"\text{derived: }" in v.evidence_math
    assert "**" not in v.evidence and "alpha1*" not in v.evidence      # no Python syntax in the plain text


def test_t3b_oracles_are_independent_and_the_seed_is_recorded():
    r = solve_t3b({})
    assert r.random_state == 0 and r.checks_passed
    names = [c.name for c in r.checks]
    # the two notations are both ours: labelled as a consistency check, not as an oracle
    assert not any(n.startswith("index form = entry-wise") for n in names)
    assert any(n.startswith("consistency of the two notations") for n in names)
    oracle = next(c for c in r.checks if "at the cvxpy optimum" in c.name)
    assert "primal and dual solved separately" in oracle.method and "|L - dual optimum|" in oracle.detail
    weak = next(c for c in r.checks if "weak duality" in c.name)
    assert "seed 0" in weak.method and "50 random feasible" in weak.method


def test_t3b_bad_claims():
    with pytest.raises(InputError, match=r'\["tau.t3b"\].lagrangian'):
        solve_t3b({}, {"lagrangian": "w**2"})
    with pytest.raises(InputError, match="unknown key"):
        solve_t3b({}, {"lagrangain": L_INDEX})


# ---------------------------------------------------------------- t3c

RIGHT_C = {"dL_dw": "w = sum_i(alpha_i*y_i*x_i)", "dL_db": "sum_i(alpha_i*y_i) = 0", "dL_dxi": "xi_i = alpha_i/C"}
RIGHT_C2 = {"dL_dw": "w - sum_j(alpha_j*y_j*x_j) = 0", "dL_db": "-sum_i(y_i*alpha_i)", "dL_dxi": "C*xi_i = alpha_i"}


@pytest.mark.parametrize("claims", [RIGHT_C, RIGHT_C2])
def test_t3c_right_conditions(claims):
    r = solve_t3c({}, claims)
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True] * 3 and r.passed
    assert all("at the cvxpy optimum" in v.evidence for v in r.verdicts)


def test_t3c_wrong_conditions():
    r = solve_t3c({}, {"dL_dw": "w = -sum_i(alpha_i*y_i*x_i)", "dL_db": "sum_i(alpha_i) = 0",
                       "dL_dxi": "xi_i = C*alpha_i"})
    assert [v.passed for v in r.verdicts] == [False] * 3 and not r.passed
    for v in r.verdicts:
        assert "differs at (" in v.evidence and "the derived condition" in v.evidence
        assert r"\text{claimed: }" in v.evidence_math and r"\text{derived: }" in v.evidence_math
        assert "*" not in v.evidence.split("differs at")[0]
        residual = float(v.evidence.rsplit("= ", 1)[1])
        assert residual > 1e-3                     # the wrong condition fails at the cvxpy optimum too
    with pytest.raises(InputError, match="dL_dw"):
        solve_t3c({}, {"dL_dw": "w1 = alpha1"})   # not a vector equation
    with pytest.raises(InputError, match="dL_dxi"):
        solve_t3c({}, {"dL_dxi": "xi_i = alpha_i = C"})


# ---------------------------------------------------------------- t3d

@pytest.mark.parametrize("dual", [DUAL, DUAL_KERNEL])
def test_t3d_right_dual(dual):
    r = solve_t3d(SMALL, {"dual": dual, "constraints": ["alpha_i >= 0", "sum_i(y_i*alpha_i) = 0"]})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True, True] and r.passed
    names = " ".join(c.name for c in r.checks)
    assert "zero duality gap" in names and "w recovered from alpha" in names and "b recovered" in names


def test_t3d_wrong_dual_and_constraints():
    hard = "sum_i(alpha_i) - 1/2*sum_i(sum_j(alpha_i*alpha_j*y_i*y_j*dot(x_i, x_j)))"
    r = solve_t3d(SMALL, {"dual": hard, "constraints": ["alpha_i >= 0", "alpha_i <= C", "sum_i(alpha_i*y_i) = 0"]})
    dual_v, cons_v = r.verdicts
    assert dual_v.passed is False and "hard-margin dual" in dual_v.evidence and "differs at (" in dual_v.evidence
    assert cons_v.passed is False and "'alpha_i <= C'" in cons_v.evidence and "violates it" in cons_v.evidence
    # the violation reads plainly, and a difference shown is lhs - rhs with its true sign
    import re
    m = re.search(r"for i = (\d+): alpha_\1 = ([\d.]+) > C = 0\.5 \(lhs - rhs = ([-\d.e]+);", cons_v.evidence)
    assert m, cons_v.evidence
    assert float(m.group(2)) > 0.5 and float(m.group(3)) > 0
    assert abs(float(m.group(3)) - (float(m.group(2)) - 0.5)) < 1e-3
    assert r"D_{\text{claimed}}-D=" in dual_v.evidence_math and "**" not in dual_v.evidence
    r2 = solve_t3d(SMALL, {"constraints": ["alpha_i >= 0"]})
    assert r2.verdicts[0].passed is False and "missing sum_i alpha_i y_i = 0" in r2.verdicts[0].evidence
    r3 = solve_t3d(SMALL, {"dual": "-(" + DUAL + ")"})
    assert "negative of the dual" in r3.verdicts[0].evidence
    with pytest.raises(InputError, match="constraints"):
        solve_t3d(SMALL, {"constraints": "alpha_i >= 0"})


def test_t3c_stationarity_step_names_all_primal_variables_and_details_are_words():
    r = solve_t3c({})
    step = r.steps[1]
    assert "(w, b, xi)" in step.text and "(w, b)" not in step.text.replace("(w, b, xi)", "")
    for c in r.checks:
        assert "True" not in c.detail and "False" not in c.detail, c.detail


def test_derivation_has_no_gaps_and_the_registry_runs_them():
    for pid in ("tau.t3b", "tau.t3c", "tau.t3d"):
        r = api.run_problem(registry.get(pid))
        assert r.passed, (pid, [c for c in r.checks if not c.passed])
        assert r.steps and not any(s.gap for s in r.steps)
    assert sp.Symbol("C", positive=True) in Instance(2, 2).lagrangian().free_symbols
