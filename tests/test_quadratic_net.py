"""ist24.q3.1-q3.4: the quadratic-activation network, its features, reparametrisation and closed form."""
import random
import tomllib
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from problems import api, registry
from problems.errors import InputError
from problems.model import Result
from theory import quadratic_net as qn
from theory import quadratic_net_fit as qf
from theory import quadratic_net_reparam as qr
from theory.quadratic_net import solve_q3_1, solve_q3_2
from theory.quadratic_net_fit import solve_q3_4
from theory.quadratic_net_reparam import solve_q3_3

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "parts"
CANON_PHI = ["1", "x1", "x2", "x1**2", "x1*x2", "x2**2"]
A_ROW = ["b - b**2", "(1 - 2*b)*w1", "(1 - 2*b)*w2", "-w1**2", "-2*w1*w2", "-w2**2"]
SMALL = {"max_D": 2, "max_K": 2}


def _ids(r):
    return [v.passed for v in r.verdicts]


# ---------------------------------------------------------------- q3.1

def test_q3_1_checks_pass_and_canonical_claims_accepted():
    r = solve_q3_1({}, {"phi": CANON_PHI, "A_row": A_ROW})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert _ids(r) == [True, True] and r.passed
    assert any("every D <= 4, K <= 4" in c.name for c in r.checks)


def test_q3_1_recombined_phi_with_adjusted_A_accepted():
    # phi' = (1, x1 + x2, x1 - x2, x1^2, sqrt(2) x1 x2, x2^2): invertible recombination; A adjusted
    phi = ["1", "x1 + x2", "x1 - x2", "x1**2", "sqrt(2)*x1*x2", "x2**2"]
    row = ["b - b**2", "(1 - 2*b)*(w1 + w2)/2", "(1 - 2*b)*(w1 - w2)/2", "-w1**2", "-sqrt(2)*w1*w2", "-w2**2"]
    r = solve_q3_1(SMALL, {"phi": phi, "A_row": row})
    assert _ids(r) == [True, True], r.verdicts


def test_q3_1_full_A_matrix_other_dimensions():
    D, K = 1, 2
    A = [["b1*(1 - b1)", "(1 - 2*b1)*W11", "-W11**2"], ["b2*(1 - b2)", "(1 - 2*b2)*W21", "-W21**2"]]
    r = solve_q3_1(SMALL, {"D": D, "K": K, "A": A})
    assert _ids(r) == [True]


def test_q3_1_wrong_phi_and_A_rejected_with_evidence():
    r = solve_q3_1(SMALL, {"phi": CANON_PHI[:5]})
    v = r.verdicts[0]
    assert v.passed is False and "5 features" in v.evidence and "x2^2 is not in their span" in v.evidence
    r = solve_q3_1(SMALL, {"phi": ["1", "x1", "x2", "x1**2", "x1*x2", "2*x1*x2"]})
    v = r.verdicts[0]
    assert v.passed is False and "rank 5" in v.evidence and "linearly dependent" in v.evidence
    bad_row = A_ROW[:4] + ["-w1*w2"] + A_ROW[5:]
    r = solve_q3_1(SMALL, {"A_row": bad_row})
    v = r.verdicts[0]
    assert v.passed is False and not r.passed
    assert "coefficient of x1 x2" in v.evidence and "differs at (" in v.evidence and v.evidence_math


def test_q3_1_bad_claims_name_the_key():
    with pytest.raises(InputError, match=r'\["ist24.q3.1"\].A_row\[2\]'):
        solve_q3_1(SMALL, {"A_row": ["b", "x1", "0", "0", "0", "0"]})  # x is not allowed in A
    with pytest.raises(InputError, match="phi"):
        solve_q3_1(SMALL, {"phi": "1, x1"})
    with pytest.raises(InputError, match=r"A: expected 3 rows"):
        solve_q3_1(SMALL, {"A": [["0"] * 6]})
    with pytest.raises(InputError, match="unknown key"):
        solve_q3_1(SMALL, {"psi": []})


# ---------------------------------------------------------------- q3.2

C_RIGHT = ["v0 + v1*b1*(1 - b1) + v2*b2*(1 - b2)", "v1*(1 - 2*b1)*W11 + v2*(1 - 2*b2)*W21",
           "v1*(1 - 2*b1)*W12 + v2*(1 - 2*b2)*W22", "-(v1*W11**2 + v2*W21**2)",
           "-2*(v1*W11*W12 + v2*W21*W22)", "-(v1*W12**2 + v2*W22**2)"]


def test_q3_2_right_claims_two_forms():
    r = solve_q3_2(SMALL, {"K": 2, "c": C_RIGHT, "linear_in_theta": False})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert _ids(r) == [True, True] and r.passed
    # the same c against a recombined phi (x1 x2 scaled by 2): the coefficient is halved
    phi = ["1", "x1", "x2", "x1**2", "2*x1*x2", "x2**2"]
    c2 = C_RIGHT[:4] + ["-(v1*W11*W12 + v2*W21*W22)", C_RIGHT[5]]
    r = solve_q3_2(SMALL, {"K": 2, "phi": phi, "c": c2})
    assert _ids(r) == [True]


def test_q3_2_wrong_claims_rejected():
    bad = C_RIGHT[:4] + ["-(v1*W11*W12 + v2*W21*W22)", C_RIGHT[5]]
    r = solve_q3_2(SMALL, {"K": 2, "c": bad, "linear_in_theta": True})
    v, lin = r.verdicts
    assert v.passed is False and "coefficient of x1 x2" in v.evidence and "differs at (" in v.evidence
    assert lin.passed is False and "c(Theta1 + Theta2) != c(Theta1) + c(Theta2)" in lin.evidence


def test_q3_2_counterexample_is_real():
    t1, t2, s, n, lhs, rhs = qn.nonlinearity_counterexample(2, 3, seed=5)
    assert lhs[n] != rhs[n]
    assert qn.c_theta(*s) == lhs and qn.c_theta(*t1) + qn.c_theta(*t2) == rhs
    # and the network itself disagrees at some point
    X = np.random.default_rng(0).normal(size=(10, 2))
    f = lambda th: qn.forward_np(*[np.array(np.array(a).astype(float)) if isinstance(a, sp.Matrix) else float(a)  # noqa: E731
                                   for a in th], X)
    assert np.max(np.abs(f(s) - f(t1) - f(t2))) > 1e-6


# ---------------------------------------------------------------- q3.3

def test_q3_3_construction_exact_on_random_and_rank_deficient_c():
    rng = random.Random(3)
    for D in (1, 2, 3, 4):
        K = D + 1
        for name, c in qr.special_cs(D, rng):
            W, b, v, v0 = qr.construct_theta(c, D, K)
            assert qn.c_theta(W, b, v, v0) == c, (D, name)


def test_q3_3_congruence_handles_zero_diagonal_and_singular():
    for Q in (sp.Matrix([[0, 2], [2, 0]]), sp.zeros(3, 3), sp.Matrix([[1, 1, 0], [1, 1, 0], [0, 0, 0]]),
              sp.Matrix([[0, 1, 1], [1, 0, 1], [1, 1, 0]])):
        terms = qr.congruence_terms(Q)
        assert len(terms) == Q.rank()
        total = sum((d * a * a.T for d, a in terms), sp.zeros(*Q.shape))
        assert total == Q


def test_q3_3_solver_checks_and_exceptions():
    for D, K in ((2, 3), (2, 2), (3, 2)):
        r = solve_q3_3({"D": D, "K": K})
        assert r.checks_passed, (D, K, [c for c in r.checks if not c.passed])
    r = solve_q3_3({"D": 2, "K": 2})
    rows = {(row[0], row[1]): row for row in r.tables[1].rows}
    assert rows[("2", "2")][6] == "unreachable" and rows[("2", "2")][7].startswith("{1}")


def test_q3_3_theta_claims():
    good = {"c": [1, 2, 0, 1, 0, 0], "W": [[1, 0], [0, 0], [0, 0]], "b": ["3/2", 0, 0], "v": [-1, 0, 0], "v0": "1/4"}
    assert _ids(solve_q3_3({}, good)) == [True]
    # the same c by another network: the one the solver constructs (exact rationals, as text)
    W, b, v, v0 = qr.construct_theta(sp.Matrix([1, 2, 0, 1, 0, 0]), 2, 3)
    other = {"c": ["1", "2", "0", "1", "0", "0"], "W": [[str(e) for e in W.row(k)] for k in range(3)],
             "b": [str(e) for e in b], "v": [str(e) for e in v], "v0": str(v0)}
    assert other["W"] != good["W"] or other["b"] != good["b"]
    assert _ids(solve_q3_3({}, other)) == [True]
    bad = dict(good, b=[0, 0, 0], v0=1)
    v = solve_q3_3({}, bad).verdicts[0]
    assert v.passed is False and "coefficient of x1 is -1, not 2" in v.evidence


MAP_RIGHT = {"D": 1, "K": 2, "W": [["1"], ["1"]], "b": ["(1 - c2)/2", "1/2"], "v": ["1", "-(1 + c3)"],
             "v0": "c1 - (1 - c2)*(1 + c2)/4 + (1 + c3)/4"}


def test_q3_3_map_claims():
    assert _ids(solve_q3_3({}, {"map": MAP_RIGHT})) == [True]
    # an equivalent form: first unit with v = 2 and b = (1 - c2/2)/2
    alt = dict(MAP_RIGHT, b=["(1 - c2/2)/2", "1/2"], v=["2", "-(2 + c3)"],
               v0="c1 - 2*(1 - c2/2)*(1 + c2/2)/4 + (2 + c3)/4")
    assert _ids(solve_q3_3({}, {"map": alt})) == [True]
    eig = {"D": 1, "K": 1, "W": [["1"]], "b": ["(1 + c2/c3)/2"], "v": ["-c3"], "v0": "c1 + c3*(1 + c2/c3)*(1 - c2/c3)/4"}
    v = solve_q3_3({}, {"map": eig}).verdicts[0]
    assert v.passed is False and "undefined or not real" in v.evidence and "c = (" in v.evidence
    wrong = dict(MAP_RIGHT, v0="c1")
    v = solve_q3_3({}, {"map": wrong}).verdicts[0]
    assert v.passed is False and "coefficient of 1" in v.evidence


def test_q3_3_unreachable_claims():
    r = solve_q3_3({}, {"unreachable_c": {"K": 1, "c": [0, 0, 0, 1, 0, 1]}})
    assert _ids(r) == [True] and "rank argument" in r.verdicts[0].evidence
    r = solve_q3_3({"D": 3, "K": 2}, {"unreachable_c": [0, 0, 0, 0, 1, 0, 0, 2, 0, 3]})  # x1^2 + 2x2^2 + 3x3^2
    assert _ids(r) == [True]
    r = solve_q3_3({}, {"unreachable_c": {"K": 1, "c": [0, 0, 0, 1, 0, 0]}})
    v = r.verdicts[0]
    assert v.passed is False and "1 unit(s) suffice" in v.evidence


def test_q3_3_bad_claims():
    with pytest.raises(InputError, match="needs c, W, b, v and v0 together"):
        solve_q3_3({}, {"c": [0] * 6})
    with pytest.raises(InputError, match=r"W: expected 3 rows"):
        solve_q3_3({}, {"c": [0] * 6, "W": [[0, 0]], "b": [0] * 3, "v": [0] * 3, "v0": 0})
    with pytest.raises(InputError, match=r"map.b\[1\]"):
        solve_q3_3({}, {"map": dict(MAP_RIGHT, b=["x1", "0"])})


# ---------------------------------------------------------------- q3.4

FAST = {"dims": [2, 3], "N": 40, "theta_steps": 300}


def test_q3_4_checks_and_right_claims():
    r = solve_q3_4(FAST, {"closed_form": "inv(Phi.T*Phi)*Phi.T*y", "normal_equations": "Phi.T*Phi*c = Phi.T*y",
                          "assumption": "full column rank"})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert _ids(r) == [True, True, True] and r.passed


def test_q3_4_min_loss_against_an_independent_fit():
    X, y = qf.make_data(3, 4, FAST["N"], 0.1, 0)  # the seeded D = 3 instance
    Phi = qn.phi_np(X)
    L = qf.loss(Phi, np.linalg.lstsq(Phi, y, rcond=None)[0], y)
    r = solve_q3_4(FAST, {"min_loss": round(L, 9), "D": 3})
    assert _ids(r) == [True], r.verdicts
    r = solve_q3_4(FAST, {"min_loss": f"{L * 1.001:.9f}", "D": 3, "tolerance": 1e-4})
    assert _ids(r) == [False]


def test_q3_4_equivalent_forms_accepted():
    r = solve_q3_4(FAST, {"closed_form": "pinv(Phi)*y", "normal_equations": "Phi.T*(Phi*c - y) = 0",
                          "assumption": "Phi^T Phi invertible"})
    assert _ids(r) == [True, True, True]
    r = solve_q3_4(FAST, {"normal_equations": "c = inv(Phi.T @ Phi) @ Phi.T @ y"})
    assert _ids(r) == [True]


def test_q3_4_wrong_claims_rejected():
    r = solve_q3_4(FAST, {"closed_form": "Phi.T*y", "normal_equations": "Phi.T*Phi*c = y", "assumption": "N > P",
                          "min_loss": 0.5})
    cf, ne, asm, ml = r.verdicts
    assert cf.passed is False and "but the minimiser is" in cf.evidence
    assert ne.passed is False and "left side is 3 x 1 but the right side is 5 x 1" in ne.evidence
    assert asm.passed is False and "rank 5 < 6" in asm.evidence
    assert ml.passed is False and "L(c*) =" in ml.evidence
    v = solve_q3_4(FAST, {"normal_equations": "Phi.T*Phi*c = Phi.T*Phi*c"}).verdicts[0]
    assert v.passed is False and "does not determine c" in v.evidence


def test_q3_4_bad_claims():
    with pytest.raises(InputError, match="closed_form"):
        solve_q3_4(FAST, {"closed_form": "inv(X)*y"})
    with pytest.raises(InputError, match="one equation"):
        solve_q3_4(FAST, {"normal_equations": "Phi.T*Phi*c"})
    with pytest.raises(InputError, match="assumption"):
        solve_q3_4(FAST, {"assumption": "convex"})
    with pytest.raises(InputError, match="dims"):
        solve_q3_4(dict(FAST, dims=[2, 9]))


def test_q3_4_rank_deficient_design_flagged():
    r = solve_q3_4(dict(FAST, N=5))  # N < P = 6 for D = 2
    rows = r.tables[0].rows
    assert "DEFICIENT" in rows[0][2] and "rank-deficient Phi" in r.summary
    deficient = r.tables[1].rows
    assert all("<" in row[1] for row in deficient)
    assert any(row[2] == "-x1 + x2" for row in deficient)


def test_q3_4_hand_gradient_and_gd():
    X, y = qf.make_data(3, 4, 30, 0.1, 0)
    assert qf.fd_check(X, y, 4, 1) < 1e-6
    Phi = qn.phi_np(X)
    c, _ = qf.gd_on_c(Phi, y)
    assert abs(qf.loss(Phi, c, y) - qf.loss(Phi, np.linalg.lstsq(Phi, y, rcond=None)[0], y)) < 1e-9


# ---------------------------------------------------------------- registry and examples

def test_registry_and_examples():
    right = tomllib.loads((EXAMPLES / "quadratic_net.toml").read_text())
    wrong = tomllib.loads((EXAMPLES / "quadratic_net_wrong.toml").read_text())
    for pid in ("ist24.q3.1", "ist24.q3.2", "ist24.q3.3"):
        p = registry.get(pid)
        assert p.implemented
        r = api.run_problem(p, right[pid])
        assert r.passed, (pid, [c for c in r.checks if not c.passed], r.verdicts)
        r = api.run_problem(p, wrong[pid])
        assert r.checks_passed and all(v.passed is False for v in r.verdicts), (pid, r.verdicts)
    assert registry.get("ist24.q3.4").implemented
    r = solve_q3_4(FAST, right["ist24.q3.4"] | {"D": 2})
    assert Result.from_json(r.to_json()) == r  # plain JSON: no NumPy scalars leak out
    assert set(right["ist24.q3.4"]) == {"closed_form", "normal_equations", "assumption", "min_loss", "D"}


# ---------------------------------------------------------------- review fixes

def test_q3_4_gradient_descent_on_theta_is_plain_gd_and_reported_per_D():
    X, y = qf.make_data(2, 3, 40, 0.1, 0)
    Phi = qn.phi_np(X)
    L_star = qf.loss(Phi, np.linalg.lstsq(Phi, y, rcond=None)[0], y)
    L, curve, iters = qf.gd_on_theta(X, y, 3, 2, steps=3000, L_star=L_star)
    assert all(b <= a for a, b in zip(curve, curve[1:]))  # Armijo: every step decreases L
    assert L >= L_star * (1 - 1e-9) and L / L_star - 1 < qf.REACH_RTOL and iters < 3000
    r = solve_q3_4(FAST)
    table = r.tables[0]
    assert "ratio to L(c*)" in table.columns and "iterations, reached" in table.columns
    assert "Adam" not in table.caption + r.summary + " ".join(c.name + c.method for c in r.checks)
    for row in table.rows:
        assert float(row[table.columns.index("ratio to L(c*)")]) >= 1 - 1e-9
    assert "Gradient descent on Theta" in r.summary


def test_q3_4_non_convergence_on_theta_is_information_not_a_failed_check():
    r = solve_q3_4({"dims": [2], "N": 40, "theta_steps": 10})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert r.tables[0].rows[0][8].endswith("no") and "but not for D = 2" in r.summary
    # the check that can fail: a loss below the claimed minimum would contradict the closed form
    names = [c.name for c in r.checks]
    assert "gradient descent on Theta reaches a loss no lower than L(c*)" in names
    assert "gradient descent on c reaches L(c*) (convex)" in names


def test_q3_2_scaling_step_names_theta1_before_its_table():
    r = solve_q3_2(SMALL)
    step = next(s for s in r.steps if "homogeneity" in s.rule)
    assert "above" not in step.text and "W = [" in step.text and r"\ne" in step.math
    assert ";" in r.tables[0].rows[0][1] and r.tables[0].rows[0][2].startswith("(")


def test_q3_2_derived_c_shown_as_a_column():
    bad = C_RIGHT[:4] + ["-(v1*W11*W12 + v2*W21*W22)", C_RIGHT[5]]
    v = solve_q3_2(SMALL, {"K": 2, "c": bad}).verdicts[0]
    assert r"\begin{array}" in v.evidence_math and v.evidence_math.count(r"\\") >= 6


def test_q3_3_unchecked_argument_is_a_gap():
    r = solve_q3_3({})
    step = next(s for s in r.steps if s.rule == "rank / isotropy argument")
    assert step.gap


def test_q3_no_raw_python_values():
    right = tomllib.loads((EXAMPLES / "quadratic_net.toml").read_text())
    wrong = tomllib.loads((EXAMPLES / "quadratic_net_wrong.toml").read_text())
    for claims in (right, wrong):
        for pid in ("ist24.q3.1", "ist24.q3.2", "ist24.q3.3"):
            r = api.run_problem(registry.get(pid), claims[pid])
            texts = [c.detail for c in r.checks] + [v.evidence for v in r.verdicts] + [r.summary]
            for t in texts:
                for bad in ("True", "False", "zoo", "['", "[["):
                    assert bad not in t, (pid, t)
            assert not any("['" in v.claim for v in r.verdicts)  # claims as written, without Python's quotes
    r = solve_q3_4(FAST, {"closed_form": "Phi.T*y"})
    for t in [c.detail for c in r.checks] + [v.evidence for v in r.verdicts]:
        assert "True" not in t and "False" not in t and "[[" not in t, t
