"""tau.p1 and tau.p2 wiring in the smoke profile (a private cache, runs in this process)."""
import pytest

from problems import api
from problems.context import RunContext, using
from problems.errors import InputError
from problems.registry import get
from tests.realdata import write_mnist_idx


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    with using(RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("cache")))):
        yield


def _run(pid, claims=None, **over):
    return api.run_problem(get(pid), claims, {k: str(v) for k, v in over.items()} or None)


def test_p1a_backprop_agrees_with_both_oracles(smoke):
    r = _run("tau.p1a")
    assert r.passed and len(r.checks) == 3 * 4
    assert r.tables[0].columns == ["layer sizes", "shapes ok", "vs autograd", "vs finite differences"]


def test_p1a_checks_fail_on_a_planted_backprop_bug(smoke, monkeypatch):
    from numerics.engine import np_network

    original = np_network.Network.backprop

    def forgets_the_mean(self, x, y):          # a classic bug: the sum instead of the mean over the batch
        db, dw = original(self, x, y)
        n = 1 if getattr(x, "ndim", 1) == 1 else x.shape[1]
        return [g * n for g in db], [g * n for g in dw]

    monkeypatch.setattr(np_network.Network, "backprop", forgets_the_mean)
    r = _run("tau.p1a")
    failed = [c.name for c in r.checks if not c.passed]
    assert any("autograd" in n for n in failed) and any("finite differences" in n for n in failed)
    assert not r.passed


def test_p1b_sweep_figures_and_claims(smoke):
    r = _run("tau.p1b")
    assert r.passed, [c for c in r.checks if not c.passed]
    assert [f.name for f in r.figures] == ["train-accuracy", "train-loss", "test-accuracy"]
    assert r.figures[1].yscale == "log" and len(r.figures[0].series) == 6
    assert "information only" in " ".join(c.name for c in r.checks)     # a substitute ran: the 80 % is not asserted
    rates = [0.001, 0.01, 0.1, 1, 10, 100]
    verdicts = [_run("tau.p1b", {"best_rate": rate}).verdicts[0] for rate in rates]
    col = r.tables[0].columns.index("test accuracy")
    acc = {float(row[0].split("= ")[1]): float(row[col]) for row in r.tables[0].rows}   # test accuracy per rate
    n = 128                                                              # smoke: 128 test images
    top = max(acc, key=acc.get)
    tied = {q for q, a in acc.items()
            if abs(acc[top] - a) <= 2 * (acc[top] * (1 - acc[top]) / n + a * (1 - a) / n) ** 0.5}
    assert {q for q, v in zip(rates, verdicts) if v.passed} == tied     # the best and the runs tied with it
    wrong = next(v for v in verdicts if not v.passed)
    assert "measured best" in wrong.evidence and "Final test accuracy by rate" in wrong.evidence
    assert "beyond noise (on 128 test images, 2 SE = " in wrong.evidence
    assert "Decided on the substitute Fashion-MNIST in place of MNIST" in wrong.evidence


def test_p1b_divergence_claims(smoke):
    r = _run("tau.p1b", {"diverges": [], "stalls": []})
    by = {v.claim.split(" =")[0]: v for v in r.verdicts}
    measured_div = by["diverges"].evidence.split("for rates ")[1].split(" (")[0]
    right = [] if measured_div == "none" else [float(x) for x in measured_div.strip("[]").split(", ")]
    assert _run("tau.p1b", {"diverges": right}).verdicts[0].passed is True
    wrong = [0.001] if 0.001 not in right else []
    v = _run("tau.p1b", {"diverges": wrong}).verdicts[0]
    assert v.passed is False and "measured: diverges for rates" in v.evidence
    with pytest.raises(InputError, match="not in the sweep"):
        _run("tau.p1b", {"diverges": [3]})
    with pytest.raises(InputError, match="expected a list of learning rates"):
        _run("tau.p1b", {"diverges": "large ones"})


@pytest.fixture(scope="module")
def real_mnist(tmp_path_factory):
    """Tiny MNIST IDX files (the published format): claimed numbers are decided."""
    folder = write_mnist_idx(tmp_path_factory.mktemp("data"))
    with using(RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("real-cache")), data_dir=str(folder))):
        yield


def test_p1c_numbers_on_the_substitute_are_undecided(smoke):
    r = _run("tau.p1c")
    acc = float(r.summary.split("accuracy ")[1].rstrip("."))
    for claimed in (acc, 0.99):
        v = _run("tau.p1c", {"test_accuracy": claimed, "tolerance": 0.01}).verdicts[0]
        assert v.passed is None and f"measured test accuracy = {acc:.4f} on the substitute Fashion-MNIST " \
                                    "in place of MNIST" in v.evidence and "not comparable, so no verdict" in v.evidence


def test_p1c_and_p1d(real_mnist):
    r = _run("tau.p1c")
    assert r.passed and "substitute" not in r.data["description"]
    acc = float(r.summary.split("accuracy ")[1].rstrip("."))
    assert _run("tau.p1c", {"test_accuracy": acc}).verdicts[0].passed is True
    assert _run("tau.p1c", {"test_accuracy": acc, "tolerance": 0.001}).verdicts[0].passed is True
    bad = _run("tau.p1c", {"test_accuracy": 0.99, "tolerance": 0.01}).verdicts[0]
    assert bad.passed is False and "measured test accuracy" in bad.evidence and "outside the band" in bad.evidence
    d = _run("tau.p1d")
    assert d.passed and len(d.tables[0].rows) == 3
    with pytest.raises(InputError, match="candidates"):
        _run("tau.p1d", candidates='[{"width" = 3}]')


def test_p2_parts(smoke):
    a = _run("tau.p2a", {"better": "sgd"})
    b = _run("tau.p2a", {"better": "adam"})
    assert True in (a.verdicts[0].passed, b.verdicts[0].passed)        # the measured better one passes
    tied = "are tied within noise" in a.verdicts[0].evidence
    assert (a.verdicts[0].passed and b.verdicts[0].passed) is tied     # both pass only when tied within noise
    assert "validation images, 2 SE = " in a.verdicts[0].evidence + b.verdicts[0].evidence
    assert "Decided on the substitute" in a.verdicts[0].evidence        # CIFAR-10 is absent here
    assert {f.name for f in a.figures} == {"train-loss", "val-accuracy"}
    r = _run("tau.p2b")
    measured = r.summary.split("unstable: ")[1].split(" ")[0]
    assert measured in ("yes", "no", "--")
    if measured != "--":
        claim = measured == "yes"
        assert _run("tau.p2b", {"unstable": claim}).verdicts[0].passed is True
        wrong = _run("tau.p2b", {"unstable": not claim}).verdicts[0]
        assert wrong.passed is False and "oscillation" in wrong.evidence or "diverged" in wrong.evidence
    c = _run("tau.p2c")
    assert "Epochs to reach a training loss" in c.tables[1].caption
    d = _run("tau.p2d")
    assert any("information only" in ch.name for ch in d.checks)
    with pytest.raises(InputError, match="expected \"sgd\" or \"adam\""):
        _run("tau.p2a", {"better": "rmsprop"})


def test_trained_backprop_and_optimiser_steps_are_checked_and_can_fail(smoke, monkeypatch):
    r = _run("tau.p1b")
    assert [c.passed for c in r.checks if c.name == "backpropagation vs autograd"] == [True]
    a = _run("tau.p2a")
    steps = {c.name: c for c in a.checks if c.name.startswith("optimiser steps")}
    assert set(steps) == {"optimiser steps (sgd, rate 0.01, momentum 0.9)", "optimiser steps (adam, rate 5e-05)"}
    assert all(c.passed for c in steps.values())

    from numerics import exp_tau
    from numerics.engine import np_mlp, torch_loop

    one = exp_tau._network_config(get("tau.p1b").defaults(), batch_size=1)   # trains through the per-example loop
    assert [c.name for c in exp_tau._backprop_checks([one, one])] == [
        "backpropagation vs autograd", "per-example SGD loop vs autograd SGD"]

    base = {"dataset": "cifar10", "epochs": 1, "seed": 0, "batch_size": 8, "train_fraction": 0.1,
            "learning_rate": 0.01, "momentum": 0.9}
    with using(RunContext(profile="smoke")):                           # the weight-decay branch of the closed form
        for over in ({"l2": 1e-2}, {"optimizer": "adam", "eta": 5e-4, "momentum": 0.0, "l2": 1e-2}):
            assert exp_tau._optimizer_check(exp_tau._alexnet_config(base, **over)).passed

    real = torch_loop.make_optimizer
    monkeypatch.setattr(torch_loop, "make_optimizer",                 # momentum dropped, Adam at ten times its rate
                        lambda name, p, lr, momentum=0.0, l2=0.0: real(name, p, lr * (10 if name == "adam" else 1), 0.0, l2))
    cfgs = {c: exp_tau._alexnet_config({"dataset": "cifar10", "epochs": 1, "seed": 0, "batch_size": 8,
                                        "train_fraction": 0.1, "learning_rate": 0.01, "momentum": 0.9}, **over)
            for c, over in (("sgd", {}), ("adam", {"optimizer": "adam", "eta": 5e-5, "momentum": 0.0}))}
    with using(RunContext(profile="smoke")):
        for c in cfgs.values():
            bad = exp_tau._optimizer_check(c)
            assert bad.passed is False and "max |engine step - formula|" in bad.detail
    monkeypatch.setattr(np_mlp.MLP, "output_delta", lambda self, Z, A, Y: 2 * (A - Y))   # twice the output delta
    with using(RunContext(profile="smoke")):
        assert exp_tau._backprop_checks([exp_tau._network_config(get("tau.p1b").defaults())])[0].passed is False
