"""numerics.experiment: ties within noise for "best" claims, and verdicts on substitute data.

Run outputs are built by hand (the fields the verdicts read), so these tests train nothing."""
import pytest

from numerics import experiment as ex
from problems.context import RunContext, solving, using

REAL = {"requested": "octmnist", "name": "octmnist", "substitute": False, "image_shape": [1, 28, 28],
        "sizes": {"train": 5000, "val": 1000, "test": 2000}}
SUBSTITUTE = {**REAL, "name": "substitute:fashion-mnist[0..3]", "substitute": True}


def _out(val_accuracy, data=REAL, diverged=False, **final):
    return {"dataset": data, "diverged": diverged,
            "final": {"val_accuracy": val_accuracy, "val_loss": 1 - val_accuracy, **final}}


def _grid(data=REAL):
    return {"0.1": _out(0.937, data), "0.01": _out(0.932, data), "0.001": _out(0.80, data)}


@pytest.fixture(autouse=True)
def smoke():
    with using(RunContext(profile="smoke")), solving("t.experiment"):
        ex._LAST_DATA.pop("t.experiment", None)
        yield


def test_noise_margin_is_two_binomial_standard_errors():
    assert ex.noise_margin(0.937, 1000, 0.932, 1000) == pytest.approx(
        2 * ((0.937 * 0.063 + 0.932 * 0.068) / 1000) ** 0.5)
    assert ex.evaluated_size(_out(0.5), "val_accuracy") == 1000
    assert ex.evaluated_size(_out(0.5), "test_accuracy") == 2000


def test_best_set_ties_accuracies_within_noise_only():
    assert ex.best_set(_grid()) == ["0.1", "0.01"]
    assert ex.best(_grid()) == "0.1"                                     # figures keep the strict pick
    big = {**REAL, "sizes": {"val": 1_000_000}}                        # the same gap on a million images is real
    assert ex.best_set(_grid(big)) == ["0.1"]
    assert ex.best_set({**_grid(), "0.01": _out(0.932, diverged=True)}) == ["0.1"]   # a diverged run is never tied
    # losses have no binomial model: strict ranking
    assert ex.best_set(_grid(), "val_loss", higher=False) == ["0.1"]
    assert ex.worst_set({"a": _out(0.50), "b": _out(0.51), "c": _out(0.9)}) == ["a", "b"]


def test_choice_in_the_tied_set_passes_with_the_numbers():
    ranking = "by validation accuracy: 0.1 0.937 > 0.01 0.932 > 0.001 0.800."
    tied = ex.choice_among("best = 0.01", 0.01, _grid(), ranking, names={k: float(k) for k in _grid()})
    assert tied.passed is True
    assert ("0.1 and 0.01 are tied within noise: 0.937 vs 0.932 on 1,000 validation images, 2 SE = 0.022"
            in tied.evidence)
    for form in (0.1, "0.1"):                                          # the best itself, as a number or a string
        v = ex.choice_among(f"best = {form}", form, _grid(), ranking, names={k: float(k) for k in _grid()})
        assert v.passed is True and "tied within noise" in v.evidence
    assert "Decided on the substitute" not in tied.evidence


def test_choice_outside_the_tied_set_fails_naming_the_best_and_the_margin():
    v = ex.choice_among("best = 0.001", "0.001", _grid(), "ranking.")
    assert v.passed is False
    assert v.evidence.startswith("measured best: 0.1; claimed 0.001.")
    assert "0.001 has 0.800 against 0.937 for 0.1: a margin of 0.137, beyond noise" in v.evidence
    assert "0.1 and 0.01 are tied within noise" in v.evidence           # which runs would have passed


def test_strict_ranking_for_losses():
    v = ex.choice_among("best = 0.01", "0.01", _grid(), "ranking.", key="val_loss", higher=False)
    assert v.passed is False and "measured best: 0.1" in v.evidence and "tied" not in v.evidence


def test_worst_claim_is_tie_aware():
    outs = {"a": _out(0.50), "b": _out(0.51), "c": _out(0.9)}
    assert ex.choice_among("worst = b", "b", outs, "r.", pick_worst=True).passed is True
    bad = ex.choice_among("worst = c", "c", outs, "r.", pick_worst=True)
    assert bad.passed is False and bad.evidence.startswith("measured worst: a")


def test_number_on_the_real_dataset_is_decided():
    ok = ex.number_verdict("test_accuracy = 0.84", 0.84, 0.842, 0.03, "test accuracy", data=REAL)
    bad = ex.number_verdict("test_accuracy = 0.5", 0.5, 0.842, 0.03, "test accuracy", data=REAL)
    assert ok.passed is True and "within the band" in ok.evidence
    assert bad.passed is False and "measured test accuracy = 0.8420" in bad.evidence and "outside the band" in bad.evidence


def test_number_on_a_substitute_is_undecided_with_the_measured_value():
    near = ex.number_verdict("test_accuracy = 0.84", 0.84, 0.842, 0.03, "test accuracy", data=SUBSTITUTE)
    far = ex.number_verdict("test_accuracy = 0.5", 0.5, 0.842, 0.03, "test accuracy", data=SUBSTITUTE)
    assert near.passed is None and far.passed is None
    assert ("measured test accuracy = 0.8420 on the substitute Fashion-MNIST classes 0-3 in place of OCTMNIST"
            in near.evidence)
    assert "your 0.84 is a number of OCTMNIST and not comparable, so no verdict" in near.evidence
    assert "would have been within the band +/- 0.03" in near.evidence
    assert "would have been outside the band" in far.evidence


def test_number_takes_the_data_of_the_last_data_note():
    outs = {"run": {**_out(0.8), "dataset": {**SUBSTITUTE, "fingerprint": "f"}, "config": {"epochs": 2},
                    "budget": {"epochs": 2}, "seed": 1, "profile": "smoke"}}
    ex.data_note(outs)
    assert ex.number_verdict("x = 0.8", 0.8, 0.8, 0.1, "x").passed is None
    trend = ex.trend_verdict("overfits = true", True, True, "proxy")
    assert trend.passed is True and "Decided on the substitute Fashion-MNIST classes 0-3 in place of OCTMNIST" in trend.evidence


def test_choices_and_trends_on_a_substitute_stay_decided_and_say_so():
    right = ex.choice_among("best = 0.1", 0.1, _grid(SUBSTITUTE), "r.", names={k: float(k) for k in _grid()})
    wrong = ex.choice_among("best = 0.001", 0.001, _grid(SUBSTITUTE), "r.", names={k: float(k) for k in _grid()})
    assert right.passed is True and wrong.passed is False
    for v in (right, wrong):
        assert v.evidence.endswith("Decided on the substitute Fashion-MNIST classes 0-3 in place of OCTMNIST.")
    t = ex.trend_verdict("overfits = false", False, True, "proxy", data=SUBSTITUTE)
    assert t.passed is False and "Decided on the substitute" in t.evidence
    assert "Decided" not in ex.trend_verdict("overfits = true", True, True, "proxy", data=REAL).evidence


def test_diverged_runs_are_tied_with_each_other_as_the_worst():
    outs = {"1": _out(0.10, diverged=True), "10": _out(0.10, diverged=True), "0.1": _out(0.9)}
    assert ex.worst_set(outs) == ["1", "10"]
    for claimed in ("1", "10"):                                        # either diverged run is "the worst"
        assert ex.choice_among(f"worst = {claimed}", claimed, outs, "r.", pick_worst=True).passed is True
    assert ex.choice_among("worst = 0.1", "0.1", outs, "r.", pick_worst=True).passed is False
    assert ex.best_set(outs) == ["0.1"]                                # never tied with a finished run


def test_best_number_is_compared_with_the_tied_run_it_is_closest_to():
    from numerics.exp_torch_common import Claims

    outs = {k: {**o, "final": {**o["final"], "test_accuracy": t}}
            for (k, o), t in zip(_grid().items(), (0.90, 0.86, 0.70))}
    cl = Claims("t.experiment", {"best_test_accuracy": 0.86, "tolerance": 0.01}, ["best_test_accuracy", "tolerance"],
                {k: k for k in outs})
    cl.outs = outs
    cl.best_number("best_test_accuracy", outs)
    v = cl.verdicts[0]
    assert v.passed is True and "test accuracy of 0.01 (tied for best with 0.1" in v.evidence
    cl.verdicts.clear()
    cl.claims["best_test_accuracy"] = 0.70                             # the third run is not tied for best
    cl.best_number("best_test_accuracy", outs)
    assert cl.verdicts[0].passed is False and "outside the band" in cl.verdicts[0].evidence
