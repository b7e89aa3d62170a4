"""hertie.1.1: derivation, classification, and claims that can fail."""
import pytest
import sympy as sp

from problems.errors import InputError
from theory.critical_points import solve


def kinds(result) -> dict[str, str]:
    return {row[0]: row[3] for t in result.tables for row in t.rows}


def summary_points(result) -> str:
    return result.summary


def test_sheet_instance():
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"})
    assert r.summary == "(0, 0) saddle, (0, 6) saddle, (2, 2) minimum, (6, 0) saddle"
    assert r.checks_passed and r.passed
    assert r.figures and r.figures[0].kind == "contour"


@pytest.mark.parametrize("f, expected", [
    ("x**4 - 2*x**2 + y**2", "(-1, 0) minimum, (0, 0) saddle, (1, 0) minimum"),
    ("x**4 + y**4", "(0, 0) minimum"),                          # degenerate Hessian, proved minimum
    ("-(x**2 + y**4)", "(0, 0) maximum"),                       # degenerate, maximum
    ("x**2 - y**4", "(0, 0) saddle"),                           # degenerate, saddle along y
    ("x**3 - 3*x*y**2", "(0, 0) saddle"),                       # monkey saddle, Hessian zero
    ("(y - x**2)*(y - 2*x**2)", "(0, 0) saddle"),               # Peano: a minimum on every line, still a saddle
    ("x**3 + y**2 + z**2 - 3*x", "(-1, 0, 0) saddle, (1, 0, 0) minimum"),  # three variables
    ("x**4 + y**4 + z**4 - 4*x*y*z", "(-1, -1, 1) minimum, (-1, 1, -1) minimum, (0, 0, 0) saddle, "
                                     "(1, -1, -1) minimum, (1, 1, 1) minimum"),
    ("x**3/3 + x + y**2", "no isolated critical points"),       # x^2 + 1 = 0: complex roots only
    ("x**4/4 + x**2/2 - 2*x + y**2", "(1, 0) minimum"),          # x^3 + x - 2 = (x-1)(x^2+x+2): two complex roots dropped
    ("x/(1 + x**2)", "(-1) minimum, (1) maximum"),              # rational function
    ("exp(-x**2 - y**2)", "(0, 0) maximum"),                    # smooth, not polynomial
])
def test_classification(f, expected):
    r = solve({"f": f})
    assert r.summary == expected
    assert r.checks_passed, [c for c in r.checks if not c.passed]


def test_quintic_roots_not_in_radicals_are_found():
    r = solve({"f": "x**6/6 - x**2/2 - x + y**2"})  # f_x = x^5 - x - 1
    assert len(r.tables[0].rows) == 1 and "CRootOf" in r.summary
    assert r.checks_passed


def test_non_isolated_critical_set_is_never_a_finite_list():
    r = solve({"f": "(x - y)**2"}, {"points": [{"at": "(0, 0)", "kind": "minimum"}]})
    assert r.summary.startswith("critical set not finite")
    assert any(s.gap for s in r.steps)
    complete = [v for v in r.verdicts if "all the critical points" in v.claim][0]
    assert complete.passed is False and "not finite" in complete.evidence and "(y, y)" in complete.evidence
    r2 = solve({"f": "x**2*y**2"})
    assert r2.summary.startswith("critical set not finite")


def test_non_polynomial_incompleteness_is_caught_by_the_numeric_oracle():
    r = solve({"f": "sin(x) + y**2"})
    oracle = [c for c in r.checks if "numeric root search" in c.name][0]
    assert not oracle.passed and "not in the derived set" in oracle.detail
    assert any(s.gap for s in r.steps)


RIGHT = {"points": [{"at": ["0", "0"], "kind": "saddle"}, {"at": "(6, 0)", "kind": "saddle"},
                    {"at": [0, 6], "kind": "saddle point"}, {"at": [2, 2], "kind": "minimum"}]}


def test_right_claim_is_accepted():
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"}, RIGHT)
    assert [v.passed for v in r.verdicts] == [True] * 5
    assert r.passed


def test_right_claim_in_another_form_is_accepted():
    claims = {"points": [{"at": [2.0, 2.0], "kind": "local min"}, {"at": "(12/2, 0)", "kind": "saddle"},
                         {"at": {"x": 0, "y": "6"}, "kind": "saddle"}, {"at": "(0.0, 0)", "kind": "saddle"}],
              "gradient": ["y*(2*x + y - 6)", "x**2 + 2*x*y - 6*x"]}
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"}, claims)
    assert all(v.passed for v in r.verdicts), [v for v in r.verdicts if not v.passed]
    r = solve({"f": "x**4 - 2*x**2 + y**2"},
              {"points": [{"at": ["1.0", "0"], "kind": "min"}, {"at": ["-1", "0"], "kind": "min"},
                          {"at": ["0", "0"], "kind": "saddle"}]})
    assert all(v.passed for v in r.verdicts)
    r = solve({"f": "x**2 - 3*x"}, {"points": [{"at": ["1.5"], "kind": "minimum"}]})
    r2 = solve({"f": "x**2 - 3*x"}, {"points": [{"at": ["3/2"], "kind": "minimum"}]})
    assert r.passed and r2.passed


def test_wrong_point_is_rejected_with_gradient_and_missing_point_named():
    claims = {"points": [{"at": "(0, 0)", "kind": "saddle"}, {"at": "(1, 1)", "kind": "minimum"},
                         {"at": "(6, 0)", "kind": "saddle"}, {"at": "(0, 6)", "kind": "saddle"}]}
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"}, claims)
    bad = r.verdicts[1]
    assert bad.passed is False and "gradient at (1, 1) is (-3, -3)" in bad.evidence
    complete = r.verdicts[-1]
    assert complete.passed is False and "missing critical point(s): (2, 2) (minimum)" in complete.evidence
    assert not r.passed


def test_wrong_kind_is_rejected_with_the_reason():
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"}, {"points": [{"at": "(2, 2)", "kind": "maximum"}], "complete": False})
    (v,) = r.verdicts
    assert v.passed is False and "minimum, not a maximum" in v.evidence and "positive definite" in v.evidence


def test_wrong_kind_at_degenerate_point_names_the_witness_curve():
    r = solve({"f": "(y - x**2)*(y - 2*x**2)"}, {"points": [{"at": "(0, 0)", "kind": "minimum"}]})
    v = r.verdicts[0]
    assert v.passed is False and "saddle" in v.evidence and "t**4" in v.evidence


def test_wrong_gradient_is_rejected_with_a_point():
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"}, {"gradient": ["2*x*y + y**2 - 6*y", "x**2 + 2*x*y - 6*y"]})
    (v,) = r.verdicts
    assert v.passed is False and "component 2" in v.evidence and "6*x - 6*y" in v.evidence


def test_duplicate_and_approximate_points():
    f = {"f": "x**2 - 2*x*sqrt(2)"}  # minimum at sqrt(2)
    r = solve(f, {"points": [{"at": ["1.41421356"], "kind": "minimum"}]})
    assert r.verdicts[0].passed is False and "nearest critical point is (sqrt(2))" in r.verdicts[0].evidence
    r = solve(f, {"points": [{"at": ["1.41421356"], "kind": "minimum"}], "tolerance": 1e-6})
    assert r.verdicts[0].passed is True and "approximation" in r.verdicts[0].evidence
    r = solve(f, {"points": [{"at": ["sqrt(2)"], "kind": "min"}, {"at": ["2/sqrt(2)"], "kind": "min"}]})
    assert r.verdicts[1].passed is False and "listed twice" in r.verdicts[1].evidence


@pytest.mark.parametrize("claims, where", [
    ({"points": [{"at": "(1, 2, 3)", "kind": "min"}]}, "points\\[0\\].at: 3 coordinate"),
    ({"points": [{"at": "(1, 2)", "kind": "bowl"}]}, "points\\[0\\].kind"),
    ({"points": [{"at": "(1, z)", "kind": "min"}]}, "unknown name 'z'"),
    ({"points": [{"at": "(1, 2)", "kind": "min", "extra": 1}]}, "unknown key"),
    ({"pionts": []}, "unknown key\\(s\\) pionts"),
    ({"points": [{"at": "__import__('os')"}]}, "not allowed"),
])
def test_bad_claims_name_the_key(claims, where):
    with pytest.raises(InputError, match=where):
        solve({"f": "x**2 + y**2"}, claims)


def test_bad_function_is_input_error():
    with pytest.raises(InputError, match="parameter f"):
        solve({"f": "x.__class__"})
    with pytest.raises(InputError, match="no variables"):
        solve({"f": "3"})


def test_hessian_oracle_names_its_points():
    r = solve({"f": "x**2*y + x*y**2 - 6*x*y"})
    c = next(c for c in r.checks if c.name == "Hessian agrees with finite differences of f")
    # 4 critical points plus one control point that the solver did not choose: the count is explained
    assert "at 5 points: the 4 critical points and the control point (1/3, 2/3)" in c.detail
    r = solve({"f": "x**2 + x"})
    c = next(c for c in r.checks if c.name == "Hessian agrees with finite differences of f")
    assert "the 1 critical point and the control point (1/3)" in c.detail


def test_no_raw_python_values_in_details():
    for f in ("x**2*y + x*y**2 - 6*x*y", "(y - x**2)*(y - 2*x**2)", "x/(1 + x**2)", "x**3/3 + x + y**2"):
        r = solve({"f": f})
        for text in [c.detail for c in r.checks] + [s.text for s in r.steps] + [r.summary]:
            for bad in ("True", "False", "zoo", "{'"):
                assert bad not in text, (f, text)
