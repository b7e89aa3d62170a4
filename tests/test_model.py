import json

import pytest

from problems.model import Check, Figure, Result, Series, Step, Table, Verdict


def full_result() -> Result:
    return Result(
        problem_id="hertie.1.1", title="Critical points", summary="s",
        steps=[Step("text", r"\nabla f = 0", "rule", gap=True)],
        checks=[Check("c", "exact", True, "d")],
        verdicts=[Verdict("(1, 1): minimum", False, "gradient (-3, -3)", r"\neq 0"), Verdict("x", None)],
        tables=[Table("cap", ["a", "b"], [["1", 2.5]], math_columns=[0])],
        figures=[Figure("fig", "cap", series=[Series("train", [0, 1], [1.0, 0.5])], vlines=[{"x": 1}])],
        params={"f": "x**2"}, random_state=7, data={"description": "synthetic"},
        versions={"sympy": "1"}, timings={"solve_s": 0.1})


def test_round_trip_through_json():
    r = full_result()
    again = Result.from_json(json.dumps(json.loads(r.to_json())))
    assert again == r
    assert again.to_dict() == r.to_dict()


def test_passed_logic():
    r = full_result()
    assert not r.passed  # a rejected claim
    r.verdicts = [Verdict("x", True)]
    assert r.passed
    r.verdicts = [Verdict("x", None)]
    assert not r.passed  # undecided never counts as a pass
    r.verdicts, r.checks = [], [Check("c", "m", False)]
    assert not r.passed
    assert Result("a", status="not-implemented").passed
    assert not Result("a", status="not-implemented", verdicts=[Verdict("x", None)]).passed


def test_outcome_separates_failures_from_undecided_claims():
    r = full_result()
    assert r.outcome == "fail"                                        # a rejected claim
    r.verdicts = [Verdict("x", True), Verdict("y", None)]
    assert r.outcome == "undecided" and not r.passed                  # nothing failed, yet not a pass
    r.checks = [Check("c", "m", False)]
    assert r.outcome == "fail"                                        # a failed check wins over undecided
    r.checks, r.verdicts = [Check("c", "m", True)], [Verdict("x", True)]
    assert r.outcome == "pass" and r.to_dict()["outcome"] == "pass"
    assert Result("a", status="error").outcome == "error"
    assert Result.from_dict(r.to_dict()) == r                         # outcome is derived, not stored


def test_unknown_fields_are_refused():
    d = full_result().to_dict()
    d["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        Result.from_dict(d)


def test_series_drawstyle_round_trips_and_defaults_for_old_json():
    r = full_result()
    r.figures[0].series.append(Series("eta_t", [0, 1, 2], [3.0, 2.0, 1.0], "o-", drawstyle="steps-post"))
    again = Result.from_json(r.to_json())
    assert again == r and again.figures[0].series[1].drawstyle == "steps-post"
    d = json.loads(full_result().to_json())
    del d["figures"][0]["series"][0]["drawstyle"]                          # JSON written before the field
    assert Result.from_dict(d).figures[0].series[0].drawstyle == "default"


def test_series_drawstyle_is_validated_at_the_door():
    with pytest.raises(ValueError, match="drawstyle 'stairs'"):
        Series("eta_t", [0, 1], [2.0, 1.0], drawstyle="stairs")
