"""ist21.q3.2a and ist23.q1.2a: linear MLPs collapse, XOR needs a hidden layer, the 2023 claim."""
import pytest

from problems import api, registry
from problems.errors import InputError
from theory import convexity as cvx
from theory import expressiveness as ex

RIGHT = {"linear_mlp_collapses": True, "W_eff": "W3*W2*W1", "b_eff": "W3*W2*b1 + W3*b2 + b3",
         "xor_separable": False, "xor_network": {"W": [[1, -1], [-1, 1]], "c": [0, 0], "v": [1, 1], "v0": -1}}
RIGHT_OTHER = {"linear_mlp_collapses": True, "W_eff": "(W1.T @ W2.T @ W3.T).T", "b_eff": "W3*(W2*b1 + b2) + b3",
               "xor_separable": False,
               "xor_network": {"W": [[1, 1], [1, 1]], "c": [1, -1], "v": [1, "-4"], "v0": "-1/2"}}


def test_q3_2a_default_run_passes():
    r = api.run_problem(registry.get("ist21.q3.2a"))
    assert r.passed, [c for c in r.checks if not c.passed]
    assert r.tables[0].rows[0][2] == "1"          # certificate lambda on the first XOR point


@pytest.mark.parametrize("claims", [RIGHT, RIGHT_OTHER])
def test_q3_2a_right_claims(claims):
    r = ex.solve_q3_2a({}, claims)
    assert [v.passed for v in r.verdicts] == [True] * 5, r.verdicts


def test_q3_2a_wrong_claims():
    wrong = {"linear_mlp_collapses": False, "W_eff": "W1.T*W2.T*W3.T", "b_eff": "W3*b1 + b3",
             "xor_separable": True, "xor_network": {"W": [[1, 1], [-1, 1]], "c": [0, 0], "v": [1, 1], "v0": -1}}
    r = ex.solve_q3_2a({}, wrong)
    v = {x.claim.split(" ")[0]: x for x in r.verdicts}
    assert all(x.passed is False for x in r.verdicts) and not r.passed
    assert "shape 2x1" in v["W_eff"].evidence
    assert "differs at (" in v["b_eff"].evidence and "claimed = " in v["b_eff"].evidence
    assert "lambda = (1, 1, 1, 1)" in v["xor_separable"].evidence
    assert "first failing input x = (+1, -1): h(x) = -1" in v["xor_network"].evidence


def test_q3_2a_depth_parameter_and_bad_claims():
    r = ex.solve_q3_2a({"depth": 2}, {"W_eff": "W2@W1", "b_eff": "W2*b1 + b2"})
    assert [v.passed for v in r.verdicts] == [True, True]
    with pytest.raises(InputError, match=r"W_eff: .*names: W1, W2"):
        ex.solve_q3_2a({"depth": 2}, {"W_eff": "W3*W1"})
    with pytest.raises(InputError, match=r"xor_network.c: expected 2 entries"):
        ex.solve_q3_2a({}, {"xor_network": {"W": [[1, 1], [1, 1]], "c": [0], "v": [1, 1], "v0": 0}})
    with pytest.raises(InputError, match=r"xor_network: .*rational"):
        ex.solve_q3_2a({}, {"xor_network": {"W": [[1, 1], [1, 1]], "c": [0, "sqrt(2)"], "v": [1, 1], "v0": 0}})
    with pytest.raises(InputError, match="unknown key"):
        ex.solve_q3_2a({}, {"xor": True})


def test_relu_net_check_can_fail():
    net = ex.parse_relu_net({"W": [[0, 0]], "c": [0], "v": [0], "v0": 0}, "n")
    assert ex.relu_net_outputs(net, ex.XOR_X) == [0, 0, 0, 0]
    assert ex.xor_network_verdict({"W": [[0, 0]], "c": [0], "v": [0], "v0": 0}, "p").passed is False


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(cvx, "SYMBOLIC_SIZES", ((2, 1),))


def test_ist23_claim_default_run_passes():
    r = api.run_problem(registry.get("ist23.q1.2a"))
    assert r.passed, [c for c in r.checks if not c.passed]
    assert not any(s.gap for s in r.steps)


def test_ist23_claim_verdicts(small):
    right = {"statement": True, "logistic_convex": True, "mlp_convex": False, "mlp_more_expressive": True}
    r = ex.solve_claim_2023({"K": 2, "D": 2}, right)
    assert [v.passed for v in r.verdicts] == [True] * 4
    wrong = {k: not v for k, v in right.items()}
    r = ex.solve_claim_2023({"K": 2, "D": 2}, wrong)
    assert [v.passed for v in r.verdicts] == [False] * 4
    assert "higher by" in r.verdicts[2].evidence and "XOR" in r.verdicts[3].evidence
    with pytest.raises(InputError, match="statement: expected true or false"):
        ex.solve_claim_2023({}, {"statement": "true"})
