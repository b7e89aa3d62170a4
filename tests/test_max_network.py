"""tau.t2: ReLU networks for max, verified exactly on every cell of the arrangement; claims."""
from fractions import Fraction as F

import pytest

from numerics import max_network as mn
from problems.errors import InputError

HINT = {"hidden_weights": [[1, 1], [-1, -1], [1, -1], [-1, 1]], "hidden_biases": [0, 0, 0, 0],
        "output_weights": ["1/2", "-1/2", "1/2", "1/2"], "output_bias": 0}


def net_of(claims):
    return mn.parse_claims(claims)["net"]


def verdicts(claims):
    return mn.claim_verdicts(mn.parse_claims(claims))


@pytest.fixture(scope="module")
def default_result():
    return mn.solve({}, {**HINT, "width": 4, "min_width": 3})


def test_own_checks_pass(default_result):
    r = default_result
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert r.passed and [v.passed for v in r.verdicts] == [True, True, True]
    assert "equal on all 4 cells" in r.verdicts[0].evidence
    assert r.tables[0].rows[0][3:] == ["x_{1}", "x_{1}", "yes"]


def test_right_claim_second_form_scaled_and_permuted():
    # relu(2z)/4 = relu(z)/2; units in another order; entries as text and floats
    claims = {"hidden_weights": [["-2", 2], [2, -2], [2, 2], [-2, -2]], "hidden_biases": [0, "0", 0.0, 0],
              "output_weights": [0.25, "1/4", "1/4", "-1/4"], "output_bias": "0"}
    r = mn.solve({"hidden_width": 3, "n_inputs": 2}, claims)
    assert r.verdicts[0].passed is True and r.checks_passed, [c for c in r.checks if not c.passed]
    three = {"hidden_weights": [[0, 1], [0, -1], [1, -1]], "hidden_biases": [0, 0, 0],
             "output_weights": [1, -1, 1], "output_bias": 0}
    assert mn.verify_max(net_of(three), 2).equal is True


def test_wrong_claim_counterexample_is_real():
    claims = {**HINT, "output_weights": ["1/2", "-1/2", "1/2", "-1/2"]}     # (x1+x2)/2 + (x1-x2)/2 = x1
    v = verdicts(claims)[0]
    assert v.passed is False
    assert "counter-example x = (1, 2)" in v.evidence and "N(x) = 1, max(x) = 2" in v.evidence
    assert "there N(x) = x_1 instead of x_2" in v.evidence
    ver = mn.verify_max(net_of(claims), 2)
    x = ver.counterexample["point"]
    assert mn.forward_exact(net_of(claims), x) != max(x)          # recomputed independently


def test_difference_far_away_found_exactly_but_not_by_spot_checks():
    # the hint network plus relu(x1 - 50)/1000: wrong only where x1 > 50
    claims = {"hidden_weights": HINT["hidden_weights"] + [[1, 0]], "hidden_biases": [0, 0, 0, 0, -50],
              "output_weights": HINT["output_weights"] + ["1/1000"], "output_bias": 0}
    net = net_of(claims)
    assert mn.spot_check(net, 2)[0] == 0
    ver = mn.verify_max(net, 2)
    x = ver.counterexample["point"]
    assert ver.equal is False and x[0] > 50 and mn.forward_exact(net, x) == max(x) + (x[0] - 50) / 1000


def test_degenerate_units_and_empty_patterns_certified():
    claims = {"hidden_weights": [[0, 1], [0, -1], [1, -1], [0, 0], [0, 0]], "hidden_biases": [0, 0, 0, 1, 0],
              "output_weights": [1, -1, 1, 0, 7], "output_bias": 0}
    ver = mn.verify_max(net_of(claims), 2)
    assert ver.equal is True and ver.empty > 0 and not ver.undecided
    cons = [([F(1), F(0)], F(0)), ([F(-1), F(0)], F(-1))]       # x1 > 0 and -x1 - 1 > 0: empty
    st, lam = mn.cell_point(cons, 2)
    assert st == "empty" and mn._is_certificate(cons, lam, 2)


def test_n3_one_hidden_layer_rejected_and_tree_verified():
    flat = {"hidden_weights": [[0, 0, 1], [0, 0, -1], [0, 1, -1], [1, 0, -1]], "hidden_biases": [0, 0, 0, 0],
            "output_weights": [1, -1, 1, 1], "output_bias": 0}
    v = verdicts(flat)[0]
    assert v.passed is False and v.claim.startswith("N(x) = max(x_1, ..., x_3)")
    assert "counter-example x = (" in v.evidence
    tree = mn.tree_network(3)
    assert tree.widths == [6, 4] and mn.verify_max(tree, 3).equal is True
    W, b = tree.layers[1]
    broken = mn.Net([tree.layers[0], (W, b[:-1] + [F(-1, 10)])], tree.out)
    assert mn.verify_max(broken, 3).equal is False


def test_width_claims():
    w, m = verdicts({"width": 2, "min_width": 4})
    assert w.passed is False and "least width is 3" in w.evidence
    assert m.passed is False and "so 4 is not the least width" in m.evidence
    assert [v.passed for v in verdicts({"width": 5})] == [True]
    # the width-2 exclusion is not a proof: the evidence says so up front
    (m,) = verdicts({"min_width": 3})
    assert m.passed is True
    assert m.evidence.startswith("width 2 is rejected by an unchecked argument and a search over integer weights "
                                 "in {-2..2}")
    assert "unchecked argument" in w.evidence


def test_unchecked_arguments_are_marked_as_gaps(default_result):
    steps = default_result.steps
    argued = [s for s in steps if "not machine-checked" in s.rule or "not machine-checked" in s.text]
    assert len(argued) == 2 and all(s.gap for s in argued)
    assert "unchecked argument" in default_result.summary


def test_width_search_finds_no_width_2_network():
    searched, fits = mn.width_search(2, (-1, 0, 1))
    assert searched == 3 ** 6 and fits == []
    searched, fits = mn.width_search(3, (-1, 0, 1))
    assert fits


@pytest.mark.parametrize("claims, match", [
    ({**HINT, "output_bias": "y"}, r'\["tau.t2"\].output_bias'),
    ({**HINT, "hidden_biases": [0, 0, 0]}, r"hidden_biases: expected 4 entries"),
    ({**HINT, "hidden_weights": [[1, 1], [1], [1, -1], [-1, 1]]}, r"hidden_weights\[1\]: expected 2 entries"),
    ({**HINT, "output_weights": ["sqrt(2)", 0, 0, 0]}, r"output_weights\[0\]: expected a rational"),
    ({"hidden_weights": HINT["hidden_weights"]}, r"missing: hidden_biases"),
    ({"width": "three"}, r"width: expected a non-negative integer"),
    ({"depth": 2}, r"unknown key"),
    ({**HINT, "output_bias": "__import__('os')"}, r"not allowed"),
])
def test_bad_claims_name_the_key(claims, match):
    with pytest.raises(InputError, match=match):
        mn.solve({}, claims)


def test_time_budget_gives_undecided_not_pass(monkeypatch):
    assert mn.verify_max(mn.tree_network(3), 3, budget_s=0).equal is None
    real = mn.verify_max
    monkeypatch.setattr(mn, "verify_max", lambda net, n: real(net, n, budget_s=0))
    v = verdicts(HINT)[0]
    assert v.passed is None and v.evidence.startswith("undecided") and "time budget exhausted" in v.evidence
