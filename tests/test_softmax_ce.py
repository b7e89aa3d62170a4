"""tau.t4: softmax cross-entropy gradient, proved symbolically and checked against autograd."""
import pytest

from problems import api, registry
from problems.errors import InputError
from theory.softmax_ce import prove_dimension, prove_index_form, solve_t4


def test_symbolic_proofs():
    ok, tex, detail = prove_index_form()
    assert ok and "sum_j y_j = 1" in detail
    for d in (2, 5):
        ok, detail = prove_dimension(d)
        assert ok, detail


@pytest.mark.parametrize("claim", ["softmax(w) - y", "s_k - y_k", "exp(w_k)/sum_j(exp(w_j)) - y_k",
                                   "-sum_j(y_j*(delta(j, k) - s_k))", "exp(w)/sum(exp(w)) - y"])
def test_right_claims(claim):
    r = solve_t4({"d": [2, 3]}, {"gradient": claim})
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert [v.passed for v in r.verdicts] == [True] and r.passed


@pytest.mark.parametrize("claim, diff", [("y - softmax(w)", r"=\frac{2 e^{w_{2}}}{e^{w_{1}} + e^{w_{2}}}"),
                                         ("softmax(w)", "=1,")])
def test_wrong_claims_rejected_with_a_point(claim, diff):
    r = solve_t4({"d": [2]}, {"gradient": claim})
    v = r.verdicts[0]
    assert v.passed is False and not r.passed
    assert v.evidence.startswith("d = 2, y = e_1 (one-hot), component 1: differs at (w_1 = ")
    assert "claimed = " in v.evidence and "derived = " in v.evidence
    assert diff in v.evidence_math                              # the difference as LaTeX, not Python syntax
    assert "exp(" not in v.evidence and "**" not in v.evidence


def test_claims_are_checked_for_d_up_to_8():
    # right for d <= 4, wrong from d = 5 on (component 5 is off by 1)
    v = solve_t4({"d": [2]}, {"gradient": "s_k - y_k + delta(k, 5)"}).verdicts[0]
    assert v.passed is False and v.evidence.startswith("d = 5, y = e_1 (one-hot), component 5")
    v = solve_t4({"d": [2]}, {"gradient": "s_k - y_k"}).verdicts[0]
    assert v.passed is True and "d = 2, ..., 8" in v.evidence


def test_details_show_no_raw_python_values():
    r = solve_t4({"d": [2, 3]})
    for c in r.checks:
        for word in ("True", "False", "Sum(", "exp(w["):
            assert word not in c.detail, (word, c.detail)


def test_bad_claims_and_params():
    with pytest.raises(InputError, match=r'\["tau.t4"\].gradient'):
        solve_t4({"d": [2]}, {"gradient": "softmax(z) - y"})
    with pytest.raises(InputError, match="outside sum_j"):
        solve_t4({"d": [2]}, {"gradient": "s_j - y_k"})
    with pytest.raises(InputError, match="unknown key"):
        solve_t4({"d": [2]}, {"grad": "s_k - y_k"})
    with pytest.raises(InputError, match="parameter d"):
        solve_t4({"d": [1]})


def test_registered_default_run():
    r = api.run_problem(registry.get("tau.t4"))
    assert r.passed, [c for c in r.checks if not c.passed]
    proof = [c for c in r.checks if c.name.startswith("grad l_y = softmax(w) - y exactly")]
    assert len(proof) == 1 and proof[0].detail.count("cancel") == 7   # d = 2..8
    assert any("torch.autograd" in c.name for c in r.checks)
