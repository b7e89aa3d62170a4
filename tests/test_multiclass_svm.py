"""tau.t1: multiclass hinge SVM as an LP; exact witness of min f = 0; proof steps in SymPy; claims."""
from fractions import Fraction

import numpy as np
import pytest

from numerics import multiclass_svm as ms
from problems.errors import InputError

SMALL = {"n": 12, "d": 2, "K": 3}
X3 = [[1, 0], [0, 1], [-1, -1]]
Y3 = [1, 2, 3]


def by_claim(r):
    return {v.claim: v for v in r.verdicts}


@pytest.fixture(scope="module")
def default_result():
    return ms.solve({}, {"min_value": 0, "zero_training_error": True, "loss_nonnegative": True,
                         "scaling_drives_f_to_zero": True, "zero_f_implies_margins_at_least_one": True})


def test_own_checks_pass(default_result):
    r = default_result
    assert r.checks_passed, [c for c in r.checks if not c.passed]
    assert r.passed and all(v.passed is True for v in r.verdicts) and len(r.verdicts) == 5
    names = {c.name for c in r.checks}
    assert {"minimum is 0 (exact witness)", "non-separable data: minimum > 0",
            "separable data: LP dual certificate (KKT)"} <= names
    assert r.params["n"] == 24 and r.random_state == 0


def test_generic_in_n_d_K():
    r = ms.solve({"n": 30, "d": 3, "K": 4, "seed": 5}, None)
    assert r.checks_passed, [c for c in r.checks if not c.passed]


def test_lp_agrees_with_linprog_and_exact_witness():
    X, y, w_star = ms.separable_data(15, 2, 3, seed=1)
    a = ms.analyse(X, y, 3)
    assert a.separable is True and a.f_exact_witness == 0 and a.train_errors == 0
    assert abs(a.f_cvxpy - a.f_linprog) < 1e-6
    # an independent oracle: the generator's w* scaled by 1/m has f = 0 exactly; w* itself does not
    Xf = ms._data_fr(X)
    Wf = [[Fraction(repr(float(v))) for v in row] for row in w_star]
    m = min(ms.exact_margins(Wf, Xf, list(y)))
    assert m > 0 and ms.exact_f([[w / m for w in row] for row in Wf], Xf, list(y))[0] == 0


def test_non_separable_min_value_and_kkt_detects_wrong_multipliers():
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 1, 1])                    # the same point with two labels: l_1 + l_2 >= 2
    a = ms.analyse(X, y, 2)
    assert a.separable is None and abs(a.f_cvxpy - 2 / 3) < 1e-6 and abs(a.kkt["dual value"] - 2 / 3) < 1e-6
    lam = np.full((3, 2), 1 / 6)               # row sums right, stationarity wrong
    res = ms.kkt_residuals(X, y, 2, a.W, np.zeros(3), lam)
    assert res["stationarity in W"] > 1e-3 or res["primal infeasibility"] > 1e-3


def test_right_claims_in_second_form_and_own_data():
    claims = {"min_value": "0/3", "zero_training_error": True, "X": X3, "y": Y3,
              "W": [[2, 0], ["0", "4/2"], [-2.0, "-2"]], "f_value": "0"}
    v = by_claim(ms.solve(SMALL, claims))
    assert all(x.passed is True for x in v.values()), v
    assert "every point classified correctly, least margin 2" in v["W* classifies every training point of your data"].evidence


def test_wrong_claims_rejected_with_evidence():
    claims = {"min_value": 1, "X": X3, "y": Y3, "W": [[0, 1], [1, 0], [-1, -1]], "f_value": "0",
              "zero_training_error": False, "loss_nonnegative": False}
    v = by_claim(ms.solve(SMALL, claims))
    assert v["min_value = 1"].passed is False and "is not 0" in v["min_value = 1"].evidence
    w = v["W* classifies every training point of your data"]
    assert w.passed is False
    assert "first: i = 1, x = (1, 0), y = 1, scores w_j.x = (0, 1, -1)" in w.evidence
    assert v["f(W*) = 0"].passed is False and "exact f(W*) = 4/3" in v["f(W*) = 0"].evidence
    assert v["zero_training_error = false"].passed is False
    assert v["loss_nonnegative = false"].passed is False


def test_non_separable_claim_data():
    claims = {"X": [[1, 0], [1, 0]], "y": [1, 2], "min_value": 1, "zero_training_error": False}
    v = by_claim(ms.solve(SMALL, claims))
    assert v["min_value = 1"].passed is True and "not certified separable" in v["min_value = 1"].evidence
    assert v["zero_training_error = false"].passed is True
    bad = by_claim(ms.solve(SMALL, {"X": [[1, 0], [1, 0]], "y": [1, 2], "min_value": 0}))
    assert bad["min_value = 0"].passed is False and "LP minimum is 1" in bad["min_value = 0"].evidence


def test_claim_on_generated_data_uses_the_table():
    r = ms.solve(SMALL, None)
    data = r.tables[2]
    X = np.array([[float(t) for t in row[1].strip("()").split(",")] for row in data.rows])
    y = np.array([int(row[2]) - 1 for row in data.rows])
    W = ms.analyse(X, y, 3).W
    m = min(ms.exact_margins([[Fraction(float(v)) for v in row] for row in W], ms._data_fr(X), list(y)))
    W_claim = [[str(Fraction(float(v)) / m) for v in row] for row in W]
    v = by_claim(ms.solve(SMALL, {"W": W_claim, "f_value": 0}))
    assert v["W* classifies every training point of the generated separable data"].passed is True
    assert v["f(W*) = 0"].passed is True


@pytest.mark.parametrize("claims, match", [
    ({"min_value": "x + 1"}, r'\["tau.t1"\].min_value'),
    ({"zero_training_error": "yes"}, r"zero_training_error: expected true or false"),
    ({"W": [[1, 0], [0, 1]]}, r"W: expected 3 rows"),
    ({"W": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, r"W\[0\]: expected 2 entries"),
    ({"W": [[1, 0], [0, 1], [0, "sqrt(2)"]]}, r"W\[2\]\[1\]: expected a rational"),
    ({"X": X3}, r"both X and y"),
    ({"X": X3, "y": [1, 2, 0]}, r"y\[2\]: expected a label"),
    ({"f_value": 0}, r"f_value: needs a claimed W"),
    ({"bogus": 1}, r"unknown key"),
    ({"min_value": "__import__('os')"}, r"not allowed"),
])
def test_bad_claims_name_the_key(claims, match):
    with pytest.raises(InputError, match=match):
        ms.solve(SMALL, claims)


def test_bad_params():
    with pytest.raises(InputError, match="parameter K"):
        ms.solve({"K": 1}, None)


def test_rational_data_are_used_exactly():
    third = {"X": [["1/3", 0], [0, "1/3"], ["-1/3", "-1/3"]], "y": Y3, "min_value": 0,
             "W": [[6, 0], [0, 6], [-6, -6]], "f_value": 0}
    v = by_claim(ms.solve(SMALL, third))
    assert all(x.passed is True for x in v.values()), v
    assert "least margin 2;" in v["W* classifies every training point of your data"].evidence
    # margins exactly 1 (w = 3 times 1/3): f = 0 exactly; with 0.333... in floats it would not be 0
    edge = by_claim(ms.solve(SMALL, {**third, "W": [[3, 0], [0, 3], [-3, -3]], "f_value": 0}))
    assert edge["f(W*) = 0"].passed is True and "least margin 1;" in edge[
        "W* classifies every training point of your data"].evidence
    off = by_claim(ms.solve(SMALL, {**third, "W": [[2, 0], [0, 2], [-2, -2]], "f_value": "1/3"}))
    assert off["f(W*) = 1/3"].passed is False and "exact f(W*) = 2/9" in off["f(W*) = 1/3"].evidence


def test_data_figures_show_the_labels_they_are_about(default_result):
    r = default_result
    figs = {f.name: f for f in r.figures}
    sep, non = figs["tau_t1_data"], figs["tau_t1_data_nonseparable"]
    assert sep.legend == non.legend == "outside"
    assert not any("misclassified" in s.label for s in sep.series)  # no crosses on the separable labels
    X, y, _ = ms.separable_data(24, 2, 3, 0)
    y_bad, flipped = ms.flip_labels(y, 3, r.params["flip"], 0)
    for k in range(3):  # each figure's colours are its own labels
        pts = lambda fig: sorted(zip(fig.series[k].x, fig.series[k].y))  # noqa: E731
        assert pts(sep) == sorted(zip(X[y == k, 0], X[y == k, 1]))
        assert pts(non) == sorted(zip(X[y_bad == k, 0], X[y_bad == k, 1]))
    crosses = [s for s in non.series if "misclassified" in s.label]
    assert len(crosses) == 1 and len(crosses[0].x) > 0
    assert "labels changed: points i = " in non.caption


def test_no_raw_python_values_or_broken_glyphs(default_result):
    r = default_result
    for text in [c.detail for c in r.checks] + [v.evidence for v in r.verdicts]:
        for bad in ("True", "False", "zoo", "[0, ", "is_nonnegative"):
            assert bad not in text, text
    assert not any(r"\mathbb 1" in s.math or r"\mathbb{1}" in s.math for s in r.steps)
    assert any(r"\mathbf 1" in s.math for s in r.steps)
