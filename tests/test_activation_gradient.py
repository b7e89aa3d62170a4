"""hertie.1.2: piecewise gradient of g(b + x*w), oracle checks, and claims judged region by region."""
import pytest

from problems import api, registry
from problems.errors import InputError
from theory.activation_gradient import analyse, parse_activation, solve


@pytest.mark.parametrize("claims", [
    {"db": "Heaviside(b + x*w)", "dw": "x*Heaviside(b + x*w)"},
    {"db": "indicator(b + x*w)", "dw": "x*(1 + sign(b + x*w))/2"},
    {"db": "relu(b + x*w)/(b + x*w)", "dw": "x*relu(b + x*w)/(b + x*w)"},  # undefined at the kink only
])
def test_relu_right_claims(claims):
    r = solve({"activation": "relu(z)"}, claims)
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True, True] and r.passed
    assert "kink" in r.verdicts[0].evidence


def test_relu_wrong_claims_give_a_point_in_the_differing_region():
    r = solve({}, {"db": "1", "dw": "Heaviside(b + x*w)"})
    v_b, v_w = r.verdicts
    assert v_b.passed is False and "region b + x*w < 0" in v_b.evidence
    assert "claimed = 1.0" in v_b.evidence and "derived = 0" in v_b.evidence
    assert v_w.passed is False and "region b + x*w > 0" in v_w.evidence and v_w.evidence_math
    assert r.checks_passed and not r.passed


def test_kink_values_inside_the_subdifferential_are_accepted():
    assert solve({}, {"kink_value": 0}).verdicts[0].passed is True
    assert solve({}, {"kink_value": "1/2"}).verdicts[0].passed is True
    v = solve({}, {"kink_value": 2}).verdicts[0]
    assert v.passed is False and "[0, 1]" in v.evidence
    # a formula whose value at the kink is not a subgradient is rejected
    v = solve({}, {"db": "Heaviside(b + x*w) + 3*(1 - abs(sign(b + x*w)))"}).verdicts[0]
    assert v.passed is False and "outside the subdifferential" in v.evidence


@pytest.mark.parametrize("act, right, wrong", [
    ("sigmoid", "sigmoid(b + x*w)*(1 - sigmoid(b + x*w))", "sigmoid(b + x*w)**2"),
    ("tanh", "1 - tanh(b + x*w)**2", "1 - tanh(b + x*w)"),
    ("softplus", "sigmoid(b + x*w)", "softplus(b + x*w)"),
    ("z**3", "3*(b + x*w)**2", "3*b**2"),
])
def test_smooth_activations(act, right, wrong):
    r = solve({"activation": act}, {"db": right})
    assert r.checks_passed and r.passed, [c for c in r.checks if not c.passed]
    assert len(r.checks) == 2  # no kinks
    v = solve({"activation": act}, {"db": wrong}).verdicts[0]
    assert v.passed is False and "differs at (b = " in v.evidence and "claimed = " in v.evidence


def test_other_piecewise_activations_and_wrt_x():
    r = solve({"activation": "Min(1, Max(-1, z))", "wrt": ["b", "x"]},
              {"db": "Heaviside(1 - b - x*w)*Heaviside(1 + b + x*w)", "dx": "w*Heaviside(1 - abs(b + x*w))"})
    assert r.checks_passed and r.passed, (r.checks, r.verdicts)
    assert [float(k.at) for k in analyse(parse_activation("Min(1, Max(-1, z))")).kinks] == [-1.0, 1.0]
    an = analyse(parse_activation("abs(z)"))
    assert (an.kinks[0].lo, an.kinks[0].hi) == (-1, 1)
    r = solve({"activation": "Max(z, z/10)"}, {"dw": "x*Heaviside(b + x*w)"})
    v = r.verdicts[0]
    assert v.passed is False and "region b + x*w < 0" in v.evidence and r.checks_passed


def test_bad_input_is_refused_with_the_key():
    with pytest.raises(InputError, match=r'\["hertie.1.2"\].db'):
        solve({}, {"db": "Heaviside(z)"})
    with pytest.raises(InputError, match="unknown key"):
        solve({}, {"dx": "w"})
    with pytest.raises(InputError, match="parameter activation"):
        solve({"activation": "Heaviside(z)"})  # discontinuous
    with pytest.raises(InputError, match="parameter wrt"):
        solve({"wrt": ["q"]})


def test_registered_default_runs():
    r = api.run_problem(registry.get("hertie.1.2"))
    assert r.passed and r.checks_passed and len(r.checks) == 3
    assert "[0, 1]" in r.summary
