"""hertie.1.5: backprop through ReLU layers and a softmax; claims checked piece by piece, mistakes named."""
import numpy as np
import pytest

from problems import api, registry
from problems.errors import InputError
from theory import backprop as B
from theory.backprop import solve

RIGHT = dict(
    dL_df="2*c*(f_k - y_k)",
    delta3="sum(2*c*(f_k - y_k)*f_k*(delta(k, l) - f_l), k)",
    delta2="Heaviside(z2_m)*sum(w3_lm*delta3_l, l)",
    delta1="Heaviside(z1_i)*sum(w2_mi*delta2_m, m)",
    dL_dw1="delta1_i*x_j",
    gradient="sum(delta1_i*x_j, n)",
    update="w1_ij - eta*grad_ij",
)
# the same answers in other forms: closed-form delta3, other letters, dsigma, one fully expanded formula
RIGHT_OTHER = dict(
    dL_df="-2*c*(y_k - f_k)",
    delta3="2*c*f_l*((f_l - y_l) - sum(f_k*(f_k - y_k), k))",
    delta2="dsigma(z2_q)*sum(w3_pq*delta3_p, p)",
    delta1="dsigma(z1_i)*sum(w2_mi*dsigma(z2_m)*sum(w3_lm*delta3_l, l), m)",
    gradient="sum(Heaviside(z1_i)*x_j*sum(w2_mi*Heaviside(z2_m)*sum(w3_lm*2*c*f_l*((f_l - y_l) - "
             "sum(f_k*(f_k - y_k), k)), l), m), n)",
    update="w1_ij - eta*sum(dLdw1_ij, n)",
)


@pytest.mark.parametrize("claims", [RIGHT, RIGHT_OTHER])
def test_right_claims_pass(claims):
    r = solve({}, claims)
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert all(v.passed is True for v in r.verdicts) and len(r.verdicts) == len(claims), r.verdicts
    assert r.passed


@pytest.mark.parametrize("c, reduction, gradient", [
    (1.0, "mean", "sum(delta1_i*x_j, n)/N"),
    (0.5, "mean", "sum(dLdw1_ij, n)/N"),
    (1.0, "sum", "sum(delta1_i*x_j, n)"),
])
def test_constants_and_reductions(c, reduction, gradient):
    r = solve({"loss_constant": c, "reduction": reduction},
              {"dL_df": "2*c*(f_k - y_k)", "gradient": gradient})
    assert r.passed, (r.checks, r.verdicts)
    wrong = solve({"loss_constant": c, "reduction": reduction},
                  {"gradient": "sum(delta1_i*x_j, n)" if reduction == "mean" else "sum(delta1_i*x_j, n)/N"})
    v = wrong.verdicts[0]
    assert v.passed is False and "sum vs mean" in v.evidence


def _one(key, text, params=None):
    r = solve(params or {}, {key: text})
    assert r.checks_passed
    return r.verdicts[0]


def test_missing_softmax_jacobian_is_named():
    v = _one("delta3", "2*c*(f_l - y_l)")
    assert v.passed is False and "softmax Jacobian is missing" in v.evidence
    assert "claimed = " in v.evidence and "true = " in v.evidence and v.evidence_math
    # the same mistake inside a fully expanded gradient is still found
    v = _one("gradient", "sum(Heaviside(z1_i)*x_j*sum(w2_mi*Heaviside(z2_m)*sum(w3_lm*2*c*(f_l - y_l), l), m), n)")
    assert v.passed is False and "softmax Jacobian is missing" in v.evidence


EXPANDED = "sum({d1}*x_j*sum({w}*{d2}*sum(w3_lm*{d3}, l), m), n)"
D3 = "2*c*f_l*((f_l - y_l) - sum(f_k*(f_k - y_k), k))"


@pytest.mark.parametrize("parts, named", [
    (dict(d3="2*c*(f_l - y_l)*f_l*(1 - f_l)"), "the sum over k is missing"),
    (dict(d1="1"), "activation derivative of layer 1"),
    (dict(d2="1"), "activation derivative of layer 2"),
    (dict(w="w1_mi"), "wrong layer"),
])
def test_mistakes_inside_one_expanded_formula(parts, named):
    f = dict(d1="Heaviside(z1_i)", d2="Heaviside(z2_m)", d3=D3, w="w2_mi")
    f.update(parts)
    v = _one("gradient", EXPANDED.format(**f))
    assert v.passed is False and named in v.evidence, v.evidence


def test_missing_sum_over_k_is_named():
    v = _one("delta3", "2*c*(f_l - y_l)*f_l*(1 - f_l)")
    assert v.passed is False and "the sum over k is missing" in v.evidence


def test_missing_relu_derivative_is_named():
    v = _one("delta1", "sum(w2_mi*delta2_m, m)")
    assert v.passed is False and "activation derivative of layer 1" in v.evidence
    v = _one("delta2", "sum(w3_lm*delta3_l, l)")
    assert v.passed is False and "activation derivative of layer 2" in v.evidence


def test_wrong_weight_matrix_is_a_shape_error():
    v = _one("delta1", "Heaviside(z1_i)*sum(w1_mi*delta2_m, m)")
    assert v.passed is False and "w1_mi" in v.evidence and "wrong layer" in v.evidence
    v = _one("delta2", "Heaviside(z2_m)*sum(w2_lm*delta3_l, l)")
    assert v.passed is False and "wrong layer" in v.evidence
    v = _one("delta2", "Heaviside(z2_m)*sum(w3_ml*delta3_l, l)")  # W3 not transposed
    assert v.passed is False and "shape mismatch in w3_ml" in v.evidence


def test_constant_factors_signs_and_the_update():
    v = _one("dL_df", "c*(f_k - y_k)")
    assert v.passed is False and "missing factor 2" in v.evidence
    v = _one("dL_df", "2*c*(y_k - f_k)")
    assert v.passed is False and "wrong sign" in v.evidence
    v = _one("update", "w1_ij + eta*grad_ij")
    assert v.passed is False and "steps up the gradient" in v.evidence
    v = _one("update", "w1_ij - grad_ij")
    assert v.passed is False and "learning rate eta is missing" in v.evidence
    v = _one("gradient", "delta1_i*x_j")
    assert v.passed is False and "outside any sum over the data" in v.evidence


def test_bad_claims_are_refused_with_the_key():
    with pytest.raises(InputError, match=r'\["hertie.1.5"\].delta2: unknown name'):
        solve({}, {"delta2": "q2_m"})
    with pytest.raises(InputError, match="may refer only to the pieces before it"):
        solve({}, {"delta3": "delta2_l"})
    with pytest.raises(InputError, match="needs its indices"):
        solve({}, {"dL_df": "f - y"})
    with pytest.raises(InputError, match="unknown key"):
        solve({}, {"delta4": "1"})
    with pytest.raises(InputError, match="parameter reduction"):
        solve({"reduction": "max"})


def test_backward_matches_finite_differences_for_another_activation():
    act = B.make_activation("tanh(z)")
    net = B.random_net(2, 3, 2, 3, 2, seed=3)
    g = B.backward(net, B.forward(net, act), act, 1.0, True)["grad"]
    h, fd = 1e-6, np.zeros_like(net.W1)
    for i in range(3):
        for j in range(2):
            up, dn = net.W1.copy(), net.W1.copy()
            up[i, j] += h
            dn[i, j] -= h
            lo = B.loss(B.Net(dn, *[getattr(net, k) for k in ("b1", "W2", "b2", "W3", "b3", "X", "Y")]), act, 1.0, True)
            hi = B.loss(B.Net(up, *[getattr(net, k) for k in ("b1", "W2", "b2", "W3", "b3", "X", "Y")]), act, 1.0, True)
            fd[i, j] = (hi - lo) / (2 * h)
    assert np.allclose(g, fd, atol=1e-8)


def test_registered_default_runs():
    r = api.run_problem(registry.get("hertie.1.5"))
    assert r.passed and len(r.checks) == 5 and r.tables and all(not s.gap for s in r.steps)
