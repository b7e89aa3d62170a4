"""hertie.1.4: the 2-unit network is proved equal to sigma(beta0 + beta1 x1 x2), or refuted with a residual."""
import pytest

from problems import api, registry
from problems.errors import InputError
from theory.capacity import solve

RIGHT = dict(g="z**2", o="sigmoid(z)", hidden_weights=[["1", "1"], ["1", "-1"]], hidden_biases=["0", "0"],
             output_weights=["beta1/4", "-beta1/4"], output_bias="beta0")
# the same idea, written differently: g = z^2/2, o spelled out, TOML numbers, weights beta1/2
RIGHT_OTHER = dict(g="z**2/2", o="1/(1 + exp(-z))", hidden_weights=[[1, 1], [1, -1]], hidden_biases=[0, 0],
                   output_weights=["beta1/2", "-beta1/2"], output_bias="beta0")
# another network: units 2(x2 - x1) and 2(x1 + x2), output weights -beta1/16 and beta1/16
RIGHT_SHIFTED = dict(g="z**2", o="sigmoid(z)", hidden_weights=[[-2, 2], [2, 2]], hidden_biases=[0, 0],
                     output_weights=["-beta1/16", "beta1/16"], output_bias="beta0")


@pytest.mark.parametrize("claims", [RIGHT, RIGHT_OTHER, RIGHT_SHIFTED])
def test_right_constructions_are_proved(claims):
    r = solve({}, claims)
    assert r.checks_passed and r.passed
    v = r.verdicts[0]
    assert v.passed is True and v.evidence.startswith("proved")


def test_wrong_output_weights_give_the_residual_and_a_point():
    r = solve({}, dict(RIGHT, output_weights=["beta1/2", "-beta1/2"]))
    v = r.verdicts[0]
    assert v.passed is False and not r.passed and r.checks_passed
    assert "logit - (beta0 + beta1*x1*x2) = beta1*x1*x2" in v.evidence
    assert "differs at (x1 = " in v.evidence and "network = " in v.evidence and "target = " in v.evidence
    assert v.evidence_math


@pytest.mark.parametrize("change", [dict(g="relu(z)"), dict(o="tanh(z)"), dict(g="z")])
def test_other_wrong_claims(change):
    v = solve({}, dict(RIGHT, **change)).verdicts[0]
    assert v.passed is False and "network = " in v.evidence


def test_shifted_units_leave_a_linear_residual():
    v = solve({}, dict(RIGHT, hidden_biases=[1, 1])).verdicts[0]
    assert v.passed is False and "= beta1*x2" in v.evidence


def test_bad_claims_name_the_key():
    with pytest.raises(InputError, match=r"output_bias: unknown name 'x2'"):
        solve({}, dict(RIGHT, output_bias="beta0 + x2"))
    with pytest.raises(InputError, match="missing key"):
        solve({}, {"g": "z**2"})
    with pytest.raises(InputError, match=r"hidden_weights\[1\]"):
        solve({}, dict(RIGHT, hidden_weights=[[1, 1], [1]]))


def test_registered_default_runs():
    r = api.run_problem(registry.get("hertie.1.4"))
    assert r.passed and len(r.checks) == 3 and all(not s.gap for s in r.steps)
