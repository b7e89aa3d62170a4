"""The PyTorch experiment problems (ist23.q2, ist24.q2, ist21.q4) in the smoke profile, one private cache."""
import re

import pytest

from problems import api
from problems.context import RunContext, using
from problems.errors import InputError
from problems.registry import get

IDS = ["ist23.q2.1", "ist23.q2.2a", "ist23.q2.2b", "ist23.q2.2c", "ist24.q2.1", "ist24.q2.2a", "ist24.q2.2b",
       "ist24.q2.2c", "ist21.q4.1", "ist21.q4.2", "ist21.q4.3"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("torch-cache"))


@pytest.fixture
def smoke(cache):
    with using(RunContext(profile="smoke", cache_dir=cache)):
        yield


@pytest.fixture
def real(real_data):
    """OCTMNIST present (a tiny file in its real format): claimed numbers are decided."""
    with using(real_data):
        yield


def _run(pid, claims=None, overrides=None):
    return api.run_problem(get(pid), claims, overrides)


def _measured(verdict) -> float:
    """The measured number in a number verdict's evidence ("measured X = 0.81 (profile ..." or
    "measured X = 0.81 on the substitute ...")."""
    return float(re.search(r"= (-?[0-9.eE+-]+) (\(profile|on the substitute)", verdict.evidence).group(1))


def _other_choice_rejected_unless_tied(verdict) -> None:
    """A claim naming a run other than the measured best fails, unless the two are tied within noise."""
    if "tied within noise" in verdict.evidence:
        assert verdict.passed is True
    else:
        assert verdict.passed is False and "beyond noise" in verdict.evidence, verdict


def _v(result, key):
    """The verdict on claim ``key``."""
    return next(v for v in result.verdicts if v.claim.startswith(key + " "))


def _measured_choice(verdict) -> str:
    return re.search(r"measured best: ([^;]+);", verdict.evidence).group(1)


@pytest.mark.parametrize("pid", IDS)
def test_problem_runs_and_records_what_ran(smoke, pid):
    r = _run(pid)
    assert r.status == "implemented" and r.passed, [c for c in r.checks if not c.passed]
    assert "Profile smoke" in r.data["description"] and r.data["runs"]
    assert r.figures and all(f.series and "Profile smoke" in f.caption and f.xlabel == "epoch" for f in r.figures)
    assert r.tables and r.tables[0].rows and "train time (s)" in r.tables[0].columns
    names = {c.name for c in r.checks}
    assert "runs completed" in names and ({"hand-written backward", "SGD update"} & names)
    assert r.summary and r.steps


def test_grid_claims(real):
    probe = _run("ist23.q2.1", {"best": 0.001, "best_test_accuracy": 0.0, "slowest": 0.1, "most_unstable": 0.1})
    best = float(_measured_choice(probe.verdicts[0]))
    acc = _measured(probe.verdicts[1])
    slowest = float(_measured_choice(probe.verdicts[2]))
    ok = _run("ist23.q2.1", {"best": best, "best_test_accuracy": round(acc, 2), "slowest": slowest,
                             "test_accuracy": {f"{best:g}": acc}})
    assert all(v.passed for v in ok.verdicts), ok.verdicts
    wrong_rate = next(r for r in (0.001, 0.01, 0.1) if r != best)
    bad = _run("ist23.q2.1", {"best": wrong_rate, "best_test_accuracy": acc + 0.5 if acc < 0.5 else acc - 0.5})
    _other_choice_rejected_unless_tied(bad.verdicts[0])
    assert bad.verdicts[1].passed is False
    assert f"measured best: {best:g}" in bad.verdicts[0].evidence and "outside the band" in bad.verdicts[1].evidence
    assert not bad.passed


def test_pairwise_claims_time_and_updates(real):
    probe = _run("ist23.q2.2a", {"faster": 16, "time_ratio": 1.0, "better_accuracy": 16})
    faster = int(float(_measured_choice(probe.verdicts[0])))
    ratio = _measured(probe.verdicts[1])
    better = int(float(_measured_choice(probe.verdicts[2])))
    ok = _run("ist23.q2.2a", {"faster": faster, "time_ratio": ratio * 1.2, "better_accuracy": better,
                              "updates_per_epoch": {"16": 16, "1024": 1}})     # smoke: 256 training examples
    assert all(v.passed for v in ok.verdicts), ok.verdicts
    slower = 16 if faster == 1024 else 1024
    bad = _run("ist23.q2.2a", {"faster": slower, "time_ratio": ratio * 5, "updates_per_epoch": {"16": 15}})
    assert [v.passed for v in bad.verdicts] == [False, False, False]
    assert "Training time" in bad.verdicts[0].evidence and "time ratio" in bad.verdicts[1].evidence


def test_sweep_divergence_and_instability_claims(smoke):
    probe = _run("ist23.q2.2b", {"diverges": [], "most_unstable": 0.001})
    measured = _v(probe, "diverges").evidence                          # "measured diverged runs: lr 1; ..."
    diverged = [float(x.split()[1]) for x in measured.split(": ")[1].split(";")[0].split(", ") if x != "none"]
    unstable = float(_measured_choice(_v(probe, "most_unstable")))
    ok = _run("ist23.q2.2b", {"diverges": diverged, "most_unstable": unstable})
    assert all(v.passed for v in ok.verdicts), ok.verdicts
    bad = _v(_run("ist23.q2.2b", {"diverges": [0.001]}), "diverges")
    assert bad.passed is False and "measured diverged runs" in bad.evidence


def test_overfitting_is_undecided_under_a_capped_budget_and_decided_otherwise(smoke):
    capped = _run("ist23.q2.2c", {"overfits": True})
    v = capped.verdicts[0]
    assert v.passed is None and "not observed within the budget" in v.evidence and not capped.passed
    full = _run("ist23.q2.2c", {"overfits": True}, overrides={"epochs": "2"})   # the budget is the asked epochs
    assert full.verdicts[0].passed in (True, False) and "default run" in full.verdicts[0].evidence
    probe = _run("ist23.q2.2c", {"best_technique": "l2"})
    tech = _measured_choice(probe.verdicts[0])
    other = "dropout" if tech == "l2" else "l2"
    assert _run("ist23.q2.2c", {"best_technique": tech}).verdicts[0].passed is True
    _other_choice_rejected_unless_tied(_run("ist23.q2.2c", {"best_technique": other}).verdicts[0])


def test_one_factor_and_depth_claims(smoke):
    probe = _run("ist21.q4.2", {"best_activation": "relu", "best_optimizer": "sgd"})
    act, opt = (_measured_choice(v) for v in probe.verdicts)
    ok = _run("ist21.q4.2", {"best_activation": act, "best_optimizer": opt})
    assert all(v.passed for v in ok.verdicts)
    bad = _run("ist21.q4.2", {"best_activation": "tanh" if act == "relu" else "relu"})
    _other_choice_rejected_unless_tied(bad.verdicts[0])
    depth = _run("ist21.q4.3", {"best_layers": 3})
    chosen = next(c for c in depth.checks if c.name == "baseline is the grid's best run")
    assert chosen.passed and "served from the cache" in chosen.detail
    best = int(float(_measured_choice(depth.verdicts[0])))
    assert depth.verdicts[0].passed is (best == 3)
    assert _run("ist21.q4.3", {"best_layers": best}).verdicts[0].passed is True


def test_bad_claims_are_one_line_errors(smoke):
    with pytest.raises(InputError, match="unknown claim key 'best_rate'"):
        _run("ist23.q2.1", {"best_rate": 0.1})
    with pytest.raises(InputError, match="not one of the compared values"):
        _run("ist23.q2.1", {"best": 0.5})
    with pytest.raises(InputError, match="expected a table keyed by the compared value"):
        _run("ist23.q2.2a", {"test_accuracy": 0.9})
    with pytest.raises(InputError, match="expected a number"):
        _run("ist23.q2.2a", {"time_ratio": "fast"})
    with pytest.raises(InputError, match="expected a list"):
        _run("ist23.q2.2b", {"diverges": 1})


def test_oracle_checks_can_fail(smoke, monkeypatch):
    from numerics import exp_torch_common as tc
    from numerics.engine import torch_fast, torch_loop

    assert tc.ffn_gradient_check("octmnist", [((8,), "relu"), ((8, 8), "tanh")]).passed
    monkeypatch.setattr(torch_fast, "_dg", lambda name, z, a: torch_fast.torch.ones_like(z))   # a planted bug
    bad = tc.ffn_gradient_check("octmnist", [((8,), "relu")])
    assert bad.passed is False and "max relative error" in bad.detail
    monkeypatch.undo()
    real_step = torch_fast.ffn_sgd_step

    def half_step(model, group, X, y):                                   # the fused update at half the rate
        real_step(model, {**group, "lr": group["lr"] / 2}, X, y)

    monkeypatch.setattr(torch_fast, "ffn_sgd_step", half_step)
    assert tc.ffn_gradient_check("octmnist", [((8,), "relu")]).passed is False
    monkeypatch.undo()

    assert tc.logreg_step_check("octmnist", 0.1, 0.01, 16).passed
    real = torch_loop.make_optimizer
    monkeypatch.setattr(torch_loop, "make_optimizer", lambda n, p, lr, m=0.0, l2=0.0: real(n, p, lr, m, 0.0))
    bad = tc.logreg_step_check("octmnist", 0.1, 0.01, 16)                 # weight decay dropped
    assert bad.passed is False and "max |W_engine - W_formula|" in bad.detail


def _fake(val, train, epochs):
    rows = [{"epoch": e + 1, "val_loss": v, "train_loss": t} for e, (v, t) in enumerate(zip(val, train))]
    return {"metrics": rows, "final": rows[-1], "budget": {"epochs": len(rows)}, "config": {"epochs": epochs},
            "diverged": False}


def test_overfitting_proxy():
    from numerics import exp_torch_common as tc

    rising = _fake([1.0, 0.8, 0.9, 1.0], [1.0, 0.7, 0.5, 0.3], 4)
    assert tc.overfit(rising)["flag"] is True and "epoch 2" in tc.overfit(rising)["text"]
    falling = _fake([1.0, 0.8, 0.7, 0.6], [1.0, 0.7, 0.5, 0.3], 4)
    assert tc.overfit(falling)["flag"] is False
    assert tc.overfit(_fake([1.0, 0.8, 0.7, 0.6], [1.0, 0.7, 0.5, 0.3], 150))["flag"] is None
    noise = _fake([1.0, 0.8, 0.7, 0.702], [1.0, 0.7, 0.5, 0.3], 4)      # within the 1 % margin
    assert tc.overfit(noise)["flag"] is False
    assert tc.oscillation_excess([3.0, 2.0, 1.0]) == 0.0 and tc.oscillation_excess([1.0, 2.0, 1.0]) == 1.0


def test_repaired_keras_class_is_the_sheets_network_and_the_broken_one_is_not():
    """The repair undoes only the planted defects: the fixed class computes what the sheet's 2.1b network
    (sigmoid hidden layers, logits for cross-entropy) computes with the same weights; the class as given
    does not. The oracle is the engine's FeedforwardNetwork built from 2.1b's own configuration."""
    import torch

    from numerics import exp_hertie
    from numerics.engine import torch_models as tm

    cfg = exp_hertie.torch_config(get("hertie.2.1b").defaults())
    sizes = [12, 7, 5, 10]
    sheet = tm.FeedforwardNetwork(12, 10, sizes[1:-1], cfg["activation"], head=cfg["head"])
    X = torch.randn(6, 12)

    def same_weights(net):
        with torch.no_grad():
            for a, b in zip(net.linears, sheet.linears):
                a.weight.copy_(b.weight)
                a.bias.copy_(b.bias)
        return net

    fixed, broken = same_weights(tm.fixed_network(sizes)), same_weights(tm.broken_network(sizes))
    assert (fixed.hidden, fixed.head) == (cfg["activation"], cfg["head"]) == ("sigmoid", "ce")
    assert torch.allclose(fixed(X), sheet(X), atol=1e-6)
    assert not torch.allclose(broken(X), sheet(X), atol=1e-3)
    relu = same_weights(tm.KerasStyleNet(sizes, hidden="relu", output="linear", head="ce"))
    assert not torch.allclose(relu(X), sheet(X), atol=1e-3)                 # the check tells activations apart
