"""hertie.1.3 and hertie.2 experiment wiring (smoke profile, one private cache for the module)."""
import pytest

from problems import api
from problems.context import RunContext, using
from problems.errors import InputError
from problems.registry import get
from tests.realdata import write_mnist_idx

OVERFIT = ["hertie.1.3.1", "hertie.1.3.2", "hertie.1.3.3"]
NETS = ["hertie.2.1a", "hertie.2.1b", "hertie.2.2a", "hertie.2.3a", "hertie.2.3b"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("cache")))


def _run(ctx, pid, claims=None, **overrides):
    with using(ctx):
        return api.run_problem(get(pid), claims, {k: str(v) for k, v in overrides.items()} or None)


@pytest.fixture(scope="module")
def results(ctx):
    return {pid: _run(ctx, pid) for pid in OVERFIT + NETS + ["hertie.2.2b", "hertie.2.3c"]}


@pytest.mark.parametrize("pid", OVERFIT + NETS + ["hertie.2.2b"])
def test_runs_pass_with_figures_tables_and_data(results, pid):
    r = results[pid]
    assert r.status == "implemented" and r.passed, [c for c in r.checks if not c.passed]
    assert (r.figures or pid == "hertie.2.3b") and all(f.series for f in r.figures) and r.tables
    assert r.data.get("description")
    if pid in NETS:
        assert "Profile smoke" in r.data["description"] and "substitute" in r.data["description"]
        assert all("Profile smoke" in f.caption for f in r.figures)
    if pid in OVERFIT:
        fig = r.figures[0]
        assert any(h["y"] == 0.0 for h in fig.hlines)                     # zero error marked
        assert "profile smoke" in fig.caption


def test_complexity_line_is_interior_and_at_min_validation(results):
    r = results["hertie.1.3.2"]
    fig = r.figures[0]
    (line,) = fig.vlines
    xs = fig.series[0].x
    val = dict(zip(fig.series[1].x, fig.series[1].y))
    assert xs[0] < line["x"] < xs[-1]
    assert val[line["x"]] == min(val.values())


def test_early_stopping_marks_epoch_and_compares(results):
    r = results["hertie.1.3.3"]
    assert r.figures[0].vlines[0]["label"].startswith("early-stopping epoch")
    assert r.tables[0].rows[-1][0] == "mean"


def test_learning_curve_claims(ctx):
    ok = _run(ctx, "hertie.1.3.1", {"train_error_rises": True, "test_error_falls": True, "gap_closes": True})
    assert [v.passed for v in ok.verdicts] == [True, True, True]
    bad = _run(ctx, "hertie.1.3.1", {"train_error_rises": False})
    assert bad.verdicts[0].passed is False and "Spearman rho" in bad.verdicts[0].evidence and not bad.passed


def test_complexity_claims(ctx, results):
    d = int(results["hertie.1.3.2"].summary.split("d* = ")[1].split()[0])
    r = _run(ctx, "hertie.1.3.2", {"best_degree": d + 1, "test_error_u_shaped": True})
    assert [v.passed for v in r.verdicts] == [True, True]                # within the default tolerance 1
    bad = _run(ctx, "hertie.1.3.2", {"best_degree": d + 5, "degree_tolerance": 0, "test_error_u_shaped": False})
    assert [v.passed for v in bad.verdicts] == [False, False]
    assert f"measured d* = {d}" in bad.verdicts[0].evidence


def test_early_stopping_claims(ctx, results):
    e = int(results["hertie.1.3.3"].summary.split("stopping epoch ")[1].split()[0])
    r = _run(ctx, "hertie.1.3.3", {"early_stopping_helps": True, "stopping_epoch": e * 3, "epoch_tolerance": 0.1})
    assert r.verdicts[0].passed is True
    assert r.verdicts[1].passed is False and f"measured stopping epoch = {e}" in r.verdicts[1].evidence


def test_bad_inputs_are_one_line_errors(ctx):
    with pytest.raises(InputError, match="unknown claim key"):
        _run(ctx, "hertie.1.3.1", {"train_rises": True})
    with pytest.raises(InputError, match="expected true or false"):
        _run(ctx, "hertie.1.3.1", {"train_error_rises": "yes"})
    with pytest.raises(InputError, match="only 'degree'"):
        _run(ctx, "hertie.1.3.2", complexity="width")
    with pytest.raises(InputError, match=r"expected \[784, \.\.\., 10\]"):
        _run(ctx, "hertie.2.1a", sizes="784,32,5")
    with pytest.raises(InputError, match="expected a list of strings"):
        _run(ctx, "hertie.2.2a", {"defects": "softmax"})
    with pytest.raises(InputError, match="positive integer"):
        _run(ctx, "hertie.2.2b", eta0=0)
    with pytest.raises(InputError, match="unknown claim key"):
        _run(ctx, "hertie.2.3c", {"name": "x"})


def test_network_accuracy_claims_on_mnist_are_decided(tmp_path_factory):
    real = RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("real-cache")),
                      data_dir=str(write_mnist_idx(tmp_path_factory.mktemp("data"))))
    probe = _run(real, "hertie.2.1a")
    assert "substitute" not in probe.data["description"]
    acc = float(probe.summary.split("validation accuracy ")[1].split(",")[0])
    r = _run(real, "hertie.2.1a", {"val_accuracy": round(acc, 2), "train_accuracy": acc + 0.9, "tolerance": 0.05})
    assert r.verdicts[0].passed is True
    assert r.verdicts[1].passed is False and "measured train accuracy" in r.verdicts[1].evidence


def test_network_accuracy_claims_on_the_substitute_are_undecided(ctx, results):
    acc = float(results["hertie.2.1a"].summary.split("validation accuracy ")[1].split(",")[0])
    r = _run(ctx, "hertie.2.1a", {"val_accuracy": round(acc, 2), "train_accuracy": acc + 0.9})
    assert [v.passed for v in r.verdicts] == [None, None]
    assert all("not comparable" in v.evidence and "substitute" in v.evidence for v in r.verdicts)


def test_defect_claims_matched_against_planted_list(ctx):
    right = ["softmax as the hidden activation", "sigmoid on the output layer", "binary_crossentropy loss for 10 classes"]
    r = _run(ctx, "hertie.2.2a", {"defects": right, "broken_learns": False})
    assert [v.passed for v in r.verdicts] == [True, True]
    bad = _run(ctx, "hertie.2.2a", {"defects": ["Sigmoid output activation", "learning rate too small"],
                                    "broken_learns": True})
    v = bad.verdicts[0]
    assert v.passed is False and "missing: softmax hidden activation; binary cross-entropy" in v.evidence
    assert "not a planted defect: learning rate too small" in v.evidence
    assert bad.verdicts[1].passed is False and "validation accuracy" in bad.verdicts[1].evidence


def test_schedule_claims_and_eta0_one(ctx, results):
    assert any(c.name == "eta0 = 1, stepped per epoch" and c.passed for c in results["hertie.2.2b"].checks)
    ok = _run(ctx, "hertie.2.2b", {"sequence": [5, 4, 3, 2, 1, 1]})
    assert ok.verdicts[0].passed is True
    bad = _run(ctx, "hertie.2.2b", {"sequence": [5, 4, 3, 2, 1, 0]})
    assert bad.verdicts[0].passed is False and "differs at t = [5]" in bad.verdicts[0].evidence
    r = _run(ctx, "hertie.2.2b", eta0=1, step_unit="epoch")
    assert r.passed and r.tables[0].rows[0][1:] == ["1", "1"]


def test_schedule_is_drawn_as_steps(results):
    """eta_t is constant during step t: the figure holds each value until the next step (steps-post), and the
    drawing passes that to matplotlib; the accuracy curves of 2.2a stay joined by straight segments."""
    import matplotlib.pyplot as plt

    from report.figures import plot_line

    fig = results["hertie.2.2b"].figures[0]
    assert {s.drawstyle for s in fig.series} == {"steps-post"}
    figure, ax = plt.subplots()
    try:
        plot_line(ax, fig)
        assert [ln.get_drawstyle() for ln in ax.get_lines()[:len(fig.series)]] == ["steps-post"] * len(fig.series)
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)          # integer rates: no "4.5" tick
    finally:
        plt.close(figure)
    assert {s.drawstyle for s in results["hertie.2.2a"].figures[0].series} == {"default"}


def test_broken_vs_fixed_table_keeps_each_loss_in_its_own_columns(results):
    t = results["hertie.2.2a"].tables[0]
    assert "train loss" not in t.columns and "validation loss" not in t.columns   # no mixed "loss" column
    rows = {r[0]: dict(zip(t.columns, r)) for r in t.rows}
    broken, fixed = rows["broken (as given)"], rows["repaired Keras class (2.2a)"]
    assert broken["train CE"] == broken["val. CE"] == "--" and float(broken["val. BCE"]) > 0
    assert fixed["train BCE"] == fixed["val. BCE"] == "--" and float(fixed["val. CE"]) > 0
    assert "BCE: binary cross-entropy" in t.caption and "CE: categorical cross-entropy" in t.caption
    assert "sigmoid hidden" in results["hertie.2.2a"].tables[1].rows[0][1]


def test_loss_columns_follow_the_models_heads_not_the_labels(ctx, monkeypatch):
    """Were the repaired class still trained on BCE, its losses would land in the BCE columns and no CE
    column would exist: the table reads each run's loss off the model it built."""
    from numerics import experiment as ex
    from numerics import exp_hertie
    from numerics.engine import torch_models as tm

    params = get("hertie.2.2a").defaults()
    variants = {"broken (as given)": "broken", "repaired Keras class (2.2a)": "fixed"}
    with using(ctx):
        outs = ex.run_configs({label: exp_hertie.keras_config(params, v) for label, v in variants.items()})
    assert {"train CE", "val. CE", "train BCE", "val. BCE"} <= set(exp_hertie.loss_table(outs, variants).columns)
    monkeypatch.setattr(tm, "fixed_network", lambda sizes: tm.KerasStyleNet(sizes, "sigmoid", "linear", "sigmoid_bce"))
    t = exp_hertie.loss_table(outs, variants)
    assert "val. CE" not in t.columns and all(r[t.columns.index("val. BCE")] != "--" for r in t.rows)


def test_curves_and_log_reuse_the_three_runs(results):
    a, b = results["hertie.2.3a"], results["hertie.2.3b"]
    assert len(a.figures) == 3 and len(b.tables) == 3
    keys = {run["cache_key"] for run in a.data["runs"].values()}
    assert keys == {run["cache_key"] for run in b.data["runs"].values()}
    assert results["hertie.2.1a"].data["runs"]["from scratch (2.1a)"]["cache_key"] in keys


def test_header_has_nothing_to_check(results):
    r = results["hertie.2.3c"]
    assert r.passed and not r.checks and "[report]" in r.steps[1].text


def test_oracle_checks_can_fail(ctx, monkeypatch):
    from numerics import exp_hertie
    from numerics.engine import np_mlp, torch_fast

    cfg = exp_hertie.scratch_config(get("hertie.2.1a").defaults())
    real = np_mlp.MLP.output_delta
    monkeypatch.setattr(np_mlp.MLP, "output_delta", lambda self, Z, A, Y: A - Y)   # the softmax Jacobian forgotten
    with using(ctx):
        checks = exp_hertie.scratch_gradient_checks(cfg)
    assert not checks[0].passed and not checks[1].passed
    monkeypatch.setattr(np_mlp.MLP, "output_delta", real)

    def no_bias_grad(model, X, y):
        loss = real_fast(model, X, y)
        for lin in model.linears:
            lin.bias.grad.zero_()
        return loss

    real_fast = torch_fast.ffn_loss_and_grads
    monkeypatch.setattr(torch_fast, "ffn_loss_and_grads", no_bias_grad)
    with using(ctx):
        assert not exp_hertie.torch_gradient_check(exp_hertie.torch_config(get("hertie.2.1b").defaults())).passed
    monkeypatch.setattr(torch_fast, "ffn_loss_and_grads", real_fast)
    real_step = torch_fast.ffn_sgd_step

    def half_step(model, group, X, y):                                   # the fused update at half the rate
        real_step(model, {**group, "lr": group["lr"] / 2}, X, y)

    monkeypatch.setattr(torch_fast, "ffn_sgd_step", half_step)
    with using(ctx):
        check = exp_hertie.torch_gradient_check(exp_hertie.torch_config(get("hertie.2.1b").defaults()))
    assert not check.passed and "fused step off by 0.5" in check.detail


def test_patience_rule():
    from numerics.exp_hertie_overfit import patience_stop
    assert patience_stop([3, 2, 1, 0.5], 2) == (4, None)
    assert patience_stop([1, 2, 3, 4, 5], 3) == (1, 4)


def test_network_api_reads_a_batch_of_K_columns_as_labels():
    """Regression (engine bug fixed in np_network._rows): a batch of exactly K columns with integer labels
    used to be read as one one-hot vector and broadcast silently."""
    import numpy as np

    from numerics.engine.np_network import Network

    net = Network([4, 3, 10], seed=0)
    x, y = np.random.default_rng(0).random((4, 10)), np.arange(10)
    X, Y = net._rows(x, y)
    assert Y.shape == (10, 10) and list(Y.argmax(1)) == list(y)
    _, Y1 = net._rows(x[:, 0], np.eye(10)[4])
    assert Y1.shape == (1, 10) and Y1.argmax() == 4


def test_tanh_gradient_check_can_fail(monkeypatch):
    from numerics import exp_hertie_overfit as ho

    assert ho.tanh_gradient_check().passed
    real = ho.TanhNet.grads

    def wrong(self, X, Y):                                             # a planted bug: every gradient 10 % too large
        loss, g = real(self, X, Y)
        return loss, g * 1.1
    monkeypatch.setattr(ho.TanhNet, "grads", wrong)
    assert not ho.tanh_gradient_check().passed
