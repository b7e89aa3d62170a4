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
    assert "claimed = 1," in v_b.evidence and "derived = 0" in v_b.evidence
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


def test_a_formula_must_agree_with_the_stated_kink_value():
    # (1 + sign(s))/2 is 1/2 at the kink: it contradicts kink_value = 0, with both values shown
    r = solve({}, {"db": "(1 + sign(b + x*w))/2", "kink_value": 0})
    v, kv = r.verdicts
    assert v.passed is False and not r.passed and kv.passed is True
    assert "g'(s) = 1/2" in v.evidence and "kink_value states g'(s) = 0" in v.evidence and "disagree" in v.evidence
    assert solve({}, {"db": "(1 + sign(b + x*w))/2", "kink_value": "1/2"}).passed
    # Heaviside(0) is a convention: it is read as the stated kink value, and the verdict says so
    r = solve({}, {"db": "Heaviside(b + x*w)", "dw": "x*Heaviside(b + x*w)", "kink_value": 0})
    assert r.passed
    for v in r.verdicts[:2]:
        assert "g'(s) = 0 with Heaviside(0) read as 0" in v.evidence
        assert "consistent with your kink_value = 0" in v.evidence and "g'(s) = 1/2" not in v.evidence
    # without a stated convention SymPy's Heaviside(0) = 1/2 is named as such
    v = solve({}, {"db": "Heaviside(b + x*w)"}).verdicts[0]
    assert v.passed is True and "Heaviside(0) = 1/2 (SymPy's default" in v.evidence
    # one kink value per kink; a formula undefined at the kink takes the stated value
    r = solve({"activation": "Min(1, Max(-1, z))"},
              {"db": "Heaviside(1 - b - x*w)*Heaviside(1 + b + x*w)", "kink_value": [1, 0]})
    assert r.passed and r.verdicts[0].evidence.count("consistent with your kink_value") == 2
    # a formula that is 1/4 + Heaviside(0)/2 at the kink agrees with kink_value = 0 for no Heaviside(0) in [0, 1]
    v = solve({}, {"db": "Heaviside(b + x*w)/2 + (1 + sign(b + x*w))/4", "kink_value": 0}).verdicts[0]
    assert v.passed is False and "for no H0 in [0, 1]" in v.evidence and "H0/2 + 1/4" in v.evidence
    r = solve({}, {"db": "relu(b + x*w)/(b + x*w)", "kink_value": 0})
    assert r.passed and "kink_value = 0 supplies the value" in r.verdicts[0].evidence


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
