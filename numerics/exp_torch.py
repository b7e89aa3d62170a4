"""PyTorch experiments: logistic regression and feed-forward networks (ist23.q2, ist24.q2, ist21.q4).

One solver per pattern, parametrised by the problem's TOML parameters:

- :func:`logreg_grid` — a learning-rate grid, the best rate by final validation accuracy
  (ist23.q2.1, ist24.q2.1, ist21.q4.1);
- :func:`pairwise` — two values of one factor (batch size, momentum): time, updates per epoch,
  accuracy difference, epoch of the lowest validation loss (ist23.q2.2a, ist24.q2.2a, ist24.q2.2c);
- :func:`sweep` — several values of one factor with the best and the worst run: instability,
  divergence, generalisation gap (ist23.q2.2b, ist24.q2.2b);
- :func:`regularisation` — default vs L2 vs dropout: overfitting and the gap (ist23.q2.2c);
- :func:`one_factor_grid` — one factor at a time around the defaults (ist21.q4.2);
- :func:`depth` — the best configuration of a one-factor grid at several depths (ist21.q4.3).

The compared factor of :func:`pairwise` and :func:`sweep` is the problem's list parameter among
``batch_sizes``, ``momenta``, ``learning_rates``, ``dropouts``; every other setting comes from the
problem's scalar parameters. Identical configurations are run once and served from the cache to
every problem that uses them (ist23.q2.2a's batch-16 run is ist23.q2.2b's rate-0.1 run; ist21.q4.3's
one-layer run is ist21.q4.2's best run).
"""
from __future__ import annotations

from typing import Any, Optional

from numerics import experiment as ex
from numerics import exp_torch_common as tc
from problems.context import current_problem
from problems.errors import InputError
from problems.model import Check, Result, Step, Table

FACTORS = {  # list parameter -> (configuration key, label prefix, what it is)
    "batch_sizes": ("batch_size", "batch", "batch size"),
    "momenta": ("momentum", "momentum", "momentum"),
    "learning_rates": ("eta", "lr", "learning rate"),
    "dropouts": ("dropout", "dropout", "dropout probability"),
}
# published references (only shown when the real data ran): the Fashion-MNIST README's
# scikit-learn benchmark, full 60,000 training images
PUBLISHED = {("fashion-mnist", "logreg_torch"): (0.842, "LogisticRegression"),
             ("fashion-mnist", "ffn_torch"): (0.871, "MLPClassifier")}

BAND_DOC = ("tolerance = 0.03        band for claimed accuracies (default: 0.25 smoke, 0.05 quick, 0.02 full)")
MAP_DOC = ('Tables are keyed by the compared value as a string, e.g. test_accuracy = { "0.01" = 0.8 }.')
CAP_DOC = ("The quick profile caps the sheet's epochs at 20 and the data at 5,000/1,000/2,000 examples: a claim\n"
           "from the sheet's full run is compared with the capped run (the verdict names the profile), and\n"
           "overfitting that cannot show within the budget is 'not observed within the budget' (undecided).\n"
           "A best (or worst) run by accuracy accepts every run tied with it within noise (two binomial standard\n"
           "errors of the difference on the evaluated split). On a substitute dataset claimed numbers are\n"
           "undecided (not comparable); choices and trends are decided and the evidence names the substitute.")


# -- common parts ------------------------------------------------------------------------------

def _factor(params: dict) -> tuple[str, str, str, str]:
    for name, (key, prefix, what) in FACTORS.items():
        if name in params:
            return name, key, prefix, what
    raise InputError(f"no compared factor among the parameters (expected one of {', '.join(FACTORS)})")


def _factor_runs(params: dict) -> tuple[str, dict[str, dict], dict[str, Any]]:
    """The compared factor's description, a feed-forward configuration per compared value and the value
    per run label (ist23/ist24 q2: pairwise and sweep)."""
    kind = "ffn_torch"
    name, key, prefix, what = _factor(params)
    vals = tc.values(params, name, kind, key)
    return (what, {_label(prefix, v): tc.base_config(kind, params, **{key: v}) for v in vals},
            {_label(prefix, v): v for v in vals})


def _label(prefix: str, v: Any) -> str:
    return f"{prefix} {tc.fmt_value(v)}"


def _archs(outs: dict[str, dict]) -> list[tuple]:
    out = []
    for o in outs.values():
        c = o["config"]
        if c["kind"] == "ffn_torch":
            out.append((tuple(c["hidden_sizes"] or [c["hidden_size"]] * c["layers"]), c["activation"]))
    return out


def _first(outs: dict[str, dict]) -> dict:
    return next(iter(outs.values()))


def _published(outs: dict[str, dict], best_label: str) -> list[Table]:
    o = outs[best_label]
    ref = PUBLISHED.get((o["dataset"]["name"], o["config"]["kind"]))
    if ref is None or o["dataset"].get("substitute"):
        return []
    acc, model = ref
    return [Table(caption="Published reference beside our best run (information, not a check: the reference trains "
                          "on all 60,000 training images; our run used the profile's subset and epochs).",
                  columns=["model", "test accuracy", "source"],
                  rows=[[f"ours: {best_label} (profile {o['profile']}, {o['budget']['n']['train']:,} training images, "
                         f"{o['budget']['epochs']} epochs)", ex.fmt(ex.final(o, "test_accuracy")), "this run"],
                        [f"scikit-learn {model}", f"{acc:.3f}",
                         "Fashion-MNIST README benchmark (zalandoresearch/fashion-mnist)"]])]


def _result(pid: str, params: dict, outs: dict[str, dict]) -> Result:
    return Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))


def _budget_step(outs: dict[str, dict]) -> Step:
    o = _first(outs)
    b = o["budget"]
    cap = (f" The profile {o['profile']} caps the sheet's {o['config']['epochs']} epochs at {b['epochs']}."
           if tc.capped(o) else "")
    return Step(text=f"Train each configuration for {b['epochs']} epochs on {b['n']['train']:,} training examples, "
                     f"logging train, validation and test loss and accuracy and the wall time after every epoch.{cap}")


def _ffn_step(cfg: dict) -> Step:
    layers = cfg.get("layers", 2)
    return Step(text="Feed-forward network: hidden layers of Linear, activation and dropout, a linear output layer, "
                     "softmax cross-entropy; the optimiser steps on mini-batches drawn from a fresh permutation "
                     f"every epoch (defaults here: {layers} hidden layer(s) of {cfg.get('hidden_size', 200)} units).",
                math=r"h_l=\mathrm{drop}_p\big(g(W_l h_{l-1}+b_l)\big),\quad z=W_{L}h_{L-1}+b_L,\quad "
                     r"\mathcal L=-\tfrac1B\sum_{i\in\mathcal B}\log\mathrm{softmax}(z_i)_{y_i}",
                rule="the network of the sheet")


METRICS = ("train_accuracy", "val_accuracy", "test_accuracy", "val_loss")   # the train loss is in the figures


def _tables(what: str, outs: dict[str, dict], proxies: dict[str, dict[str, Any]], proxy_caption: str) -> list[Table]:
    """The results table (final metrics, training time, updates per epoch, divergence) and, beside it,
    the proxies table ``{column: {run: value}}`` (kept apart so that both fit the page)."""
    results = ex.results_table(f"{what}: final metrics, training time (evaluation excluded) and optimiser steps "
                               "per epoch.", outs, metrics=METRICS)
    if not proxies:
        return [results]
    rows = [[label] + [ex.fmt(col.get(label), 3) for col in proxies.values()] for label in outs]
    return [results, Table(caption=proxy_caption, columns=["run"] + list(proxies), rows=rows)]


def _acc_cols(outs: dict[str, dict]) -> dict[str, dict[str, Any]]:
    return {"lowest val loss at epoch": {k: ex.min_epoch(o)[0] for k, o in outs.items()},
            "gap train-val acc": {k: ex.gap(o) for k, o in outs.items()}}


# -- logistic-regression grid ------------------------------------------------------------------

LOGREG_GRID_SCHEMA = f"""\
Claims (all optional; accuracies are fractions in [0, 1]; rates as numbers):
  best = 0.01                 the rate with the highest final validation accuracy
  best_test_accuracy = 0.85   final test accuracy of that rate
  best_val_accuracy = 0.85    final validation accuracy of that rate
  test_accuracy = {{ "0.01" = 0.85 }}   final test accuracy per rate
  slowest = 1e-5              among the stable rates, the one whose validation loss falls least per epoch
                              (descent (v_0 - v_n)/n from before training to the last epoch)
  most_unstable = 0.1         the rate with the largest validation-loss oscillation (a diverged run counts as most)
  unstable = [0.1]            exactly the unstable rates (diverged, or oscillation > |descent|; [] for none)
  {BAND_DOC}
{CAP_DOC}"""


def logreg_grid(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """Logistic regression over a learning-rate grid (ist23.q2.1, ist24.q2.1, ist21.q4.1)."""
    pid = current_problem() or "logreg_grid"
    kind = "logreg_torch"
    rates = tc.values(params, "learning_rates", kind, "eta")
    configs = {_label("lr", r): tc.base_config(kind, params, eta=r) for r in rates}
    labels = {_label("lr", r): r for r in rates}
    cl = tc.Claims(pid, claims, ["best", "best_test_accuracy", "best_val_accuracy", "test_accuracy", "slowest",
                                 "most_unstable", "unstable", "tolerance"], labels)
    outs = tc.run_unique(configs)
    cl.outs = outs
    best = ex.best(outs)
    cfg = outs[best]["config"]
    wd = cfg["l2"]

    r = _result(pid, params, outs)
    r.steps = [
        Step(text="Multinomial logistic regression: logits z = Wx + b, softmax cross-entropy, mini-batch SGD"
                  + (f" with weight decay {wd:g} (the optimiser's L2 term)" if wd else "") + f", batch size {cfg['batch_size']}.",
             math=(r"W\leftarrow W-\eta\Big(\tfrac1B\sum_{i\in\mathcal B}(\mathrm{softmax}(Wx_i+b)-e_{y_i})x_i^\top"
                   + (r"+\lambda W" if wd else "") + r"\Big)"),
             rule="gradient of the mean cross-entropy" + (" plus the weight-decay term" if wd else "")),
        _budget_step(outs),
        Step(text=f"Select the rate with the highest final validation accuracy: {best}.", rule="the sheet's selection rule"),
    ]
    osc = {k: tc.oscillation(o) for k, o in outs.items()}
    r.checks = [tc.completed_check(outs),
                tc.logreg_step_check(cfg["dataset"], cfg["eta"], wd, cfg["batch_size"]),
                tc.diverged_check(best, outs[best], "the selected rate"),
                tc.chance_check(best, outs[best])]
    plot = params.get("plot", ["train_loss", "val_accuracy"])
    r.figures = tc.metric_figures("grid", "Logistic regression, one line per learning rate", outs, plot)
    r.tables = _tables("Logistic regression per learning rate", outs,
                       {"val-loss descent/epoch": {k: tc.descent(o) for k, o in outs.items()},
                        "val-loss slope (last half)": {k: tc.late_slope(o) for k, o in outs.items()},
                        "val-loss oscillation": osc, "unstable": {k: tc.unstable(o) for k, o in outs.items()},
                        "lowest val loss at epoch": {k: ex.min_epoch(o)[0] for k, o in outs.items()}},
                       "Validation-loss proxies per learning rate: descent per epoch from before training (slow "
                       "convergence: the smallest among stable runs); least-squares slope over the last half "
                       "(< 0: still falling); oscillation (0 for a monotone curve); unstable: diverged or "
                       "oscillation > |descent|.") + _published(outs, best)

    by_val = tc.ranking(outs, lambda o: ex.final(o, "val_accuracy") if not o["diverged"] else None,
                        "final validation accuracy")
    cl.best_of("best", outs, by_val)
    cl.best_number("best_test_accuracy", outs)
    cl.best_number("best_val_accuracy", outs, "val_accuracy")
    cl.number_map("test_accuracy", lambda k: ex.final(outs[k], "test_accuracy"), "test accuracy")
    stable = {k: o for k, o in outs.items() if tc.unstable(o) is False}
    cl.choice("slowest", tc.pick(stable, tc.descent, higher=False),
              tc.ranking(stable, tc.descent, "validation-loss descent per epoch (stable runs)", higher=False))
    unstable = lambda o: float("inf") if o["diverged"] else tc.oscillation(o)  # noqa: E731
    cl.choice("most_unstable", tc.pick(outs, unstable), tc.ranking(outs, unstable, "validation-loss oscillation"))
    cl.value_set("unstable", [k for k, o in outs.items() if tc.unstable(o)],
                 "unstable rates (diverged, or validation-loss oscillation > |descent per epoch|)")
    r.verdicts = cl.verdicts
    r.summary = (f"best rate {tc.fmt_value(labels[best])} by final validation accuracy "
                 f"({ex.fmt(ex.final(outs[best], 'val_accuracy'))}); its test accuracy "
                 f"{ex.fmt(ex.final(outs[best], 'test_accuracy'))}.")
    return r


logreg_grid.CLAIM_SCHEMA = LOGREG_GRID_SCHEMA


# -- two values of one factor ------------------------------------------------------------------

PAIRWISE_SCHEMA = f"""\
Claims (all optional; values of the compared factor (batch size, momentum) as numbers):
  faster = 1024               the value whose training (without evaluation) took less wall time
  time_ratio = 5.0            slower / faster training time
  time_tolerance = 0.5        relative band for time_ratio (default 0.5: timings on shared machines are noisy)
  better_accuracy = 16        the value with the higher final test accuracy
  accuracy_difference = 0.02  better minus worse final test accuracy
  best = 16                   the value with the higher final validation accuracy
  best_test_accuracy = 0.9    final test accuracy of that run
  test_accuracy = {{ "16" = 0.9 }}, val_accuracy = {{ ... }}    final accuracies per value
  updates_per_epoch = {{ "16" = 313 }}                          optimiser steps per epoch (exact)
  lowest_val_loss_epoch = {{ "0.9" = 12 }}                      epoch of the lowest validation loss
  epoch_tolerance = 2         band for lowest_val_loss_epoch (epochs)
  overfits = {{ "0.9" = true }}   overfitting (validation loss lowest before the end, then > 1 % higher, train loss falling)
  {BAND_DOC}
{MAP_DOC}
{CAP_DOC}"""


def pairwise(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """Two values of one factor compared (ist23.q2.2a, ist24.q2.2a, ist24.q2.2c)."""
    pid = current_problem() or "pairwise"
    what, configs, labels = _factor_runs(params)
    cl = tc.Claims(pid, claims, ["faster", "time_ratio", "time_tolerance", "better_accuracy", "accuracy_difference",
                                 "best", "best_test_accuracy", "test_accuracy", "val_accuracy", "updates_per_epoch",
                                 "lowest_val_loss_epoch", "epoch_tolerance", "overfits", "tolerance"], labels)
    outs = tc.run_unique(configs)
    cl.outs = outs
    best = ex.best(outs)
    times = {k: ex.train_time(o) for k, o in outs.items()}
    fast, slow = min(times, key=times.get), max(times, key=times.get)
    ratio = times[slow] / times[fast] if times[fast] > 0 else None
    test = {k: ex.final(o, "test_accuracy") for k, o in outs.items()}
    scored = [k for k in outs if test[k] is not None]
    better = max(scored, key=test.get) if scored else None
    worse = min(scored, key=test.get) if scored else None
    diff = test[better] - test[worse] if better else None
    upd = {k: (o["metrics"][-1]["updates"] if o["metrics"] else None) for k, o in outs.items()}

    r = _result(pid, params, outs)
    r.steps = [_ffn_step(configs[best]),
               Step(text=f"Train the network once per {what} ({', '.join(outs)}), everything else at the defaults; "
                         "time the training passes (evaluation excluded) and count the optimiser steps per epoch.",
                    math=r"\text{updates per epoch}=\lceil n_{\mathrm{train}}/B\rceil"),
               _budget_step(outs)]
    r.checks = [tc.completed_check(outs)] + [tc.converged_check(k, o, f"{what} {tc.fmt_value(labels[k])}")
                                              for k, o in outs.items()]
    r.checks += [tc.ffn_gradient_check(configs[best].get("dataset", "octmnist"), _archs(outs)),
                 tc.chance_check(best, outs[best]),
                 _updates_check(outs)]
    r.figures = [tc.loss_figure("losses", f"Train (solid) and validation (dashed) loss for each {what}.", outs)]
    r.tables = _tables(f"Per {what}", outs,
                       {"time/epoch (s)": {k: ex.time_per_epoch(o) for k, o in outs.items()},
                        **_acc_cols(outs),
                        "overfitting": {k: tc.overfit_cell(o) for k, o in outs.items()}},
                       f"Proxies per {what}: training time per epoch (speed; the steps per epoch are in the table above); the epoch "
                       "of the lowest validation loss, the final train-minus-validation accuracy gap and the "
                       "overfitting flag (validation loss lowest before the end, then > 1 % higher while the train "
                       "loss falls; 'not observed' when the budget capped the sheet's epochs).")

    time_text = (f"Training time: " + ", ".join(f"{k} {times[k]:.3g} s" for k in outs)
                 + f" (profile {_first(outs)['profile']}; shared machine, timings are noisy).")
    cl.choice("faster", fast, time_text)
    cl.number("time_ratio", ratio, f"time ratio {slow} / {fast}",
              band=ex.claim_number(pid, cl.claims, "time_tolerance") or 0.5, relative=True)
    cl.best_of("better_accuracy", outs, tc.ranking(outs, lambda o: ex.final(o, "test_accuracy"), "final test accuracy"),
               "test_accuracy")
    cl.number("accuracy_difference", diff, f"test accuracy {better} minus {worse}")
    cl.best_of("best", outs, tc.ranking(outs, lambda o: ex.final(o, "val_accuracy"), "final validation accuracy"))
    cl.best_number("best_test_accuracy", outs)
    cl.number_map("test_accuracy", lambda k: test[k], "test accuracy")
    cl.number_map("val_accuracy", lambda k: ex.final(outs[k], "val_accuracy"), "validation accuracy")
    cl.number_map("updates_per_epoch", lambda k: upd[k], "updates per epoch", band=0)
    cl.number_map("lowest_val_loss_epoch", lambda k: ex.min_epoch(outs[k])[0], "epoch of the lowest validation loss",
                  band=ex.claim_number(pid, cl.claims, "epoch_tolerance") or 2)
    cl.bool_map("overfits", lambda k: (tc.overfit(outs[k])["flag"], tc.overfit(outs[k])["text"]))
    r.verdicts = cl.verdicts
    r.summary = (f"{fast} trains faster ({ex.fmt(ratio, 3)}x less wall time than {slow}); final test accuracy "
                 + ", ".join(f"{k} {ex.fmt(test[k])}" for k in outs) + "; lowest validation loss at epoch "
                 + ", ".join(f"{ex.min_epoch(o)[0]} ({k})" for k, o in outs.items()) + ".")
    return r


pairwise.CLAIM_SCHEMA = PAIRWISE_SCHEMA


def _updates_check(outs: dict[str, dict]) -> Check:
    """Updates per epoch equal ceil(n_train / B) for every run (the proxy of speed per epoch)."""
    bad, parts = [], []
    for k, o in outs.items():
        n, B = o["budget"]["n"]["train"], o["config"]["batch_size"]
        want = -(-n // B)
        got = o["metrics"][-1]["updates"] if o["metrics"] else None
        parts.append(f"{k}: {got} (ceil({n}/{B}) = {want})")
        if got != want:
            bad.append(k)
    return Check(name="updates per epoch", method="logged optimiser steps vs ceil(n_train / B)", passed=not bad,
                 detail="; ".join(parts))


# -- sweep with the best and the worst run -----------------------------------------------------

SWEEP_SCHEMA = f"""\
Claims (all optional; values of the swept factor (learning rate, dropout) as numbers):
  best = 0.1                  the value with the highest final validation accuracy
  worst = 1                   the value with the lowest (a diverged run ranks last)
  best_test_accuracy = 0.9    final test accuracy of the best run
  test_accuracy = {{ "0.1" = 0.9 }}, val_accuracy = {{ ... }}    final accuracies per value
  most_unstable = 1           the value with the largest validation-loss oscillation (a diverged run counts as most)
  diverges = [1]              exactly the values whose runs diverged ([] for none)
  collapses = [1]             exactly the values whose runs ended near chance (final validation accuracy
                              below 1/K + 0.05: the network stopped learning without the loss exploding)
  largest_gap = 0.01          the value with the largest final train-minus-validation accuracy gap
  smallest_gap = 0.5          the value with the smallest gap
  gap = {{ "0.5" = 0.01 }}      the gap per value
  {BAND_DOC}
{MAP_DOC}
{CAP_DOC}"""


def sweep(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """Several values of one factor with the best and the worst run (ist23.q2.2b, ist24.q2.2b)."""
    pid = current_problem() or "sweep"
    what, configs, labels = _factor_runs(params)
    cl = tc.Claims(pid, claims, ["best", "worst", "best_test_accuracy", "test_accuracy", "val_accuracy",
                                 "most_unstable", "diverges", "collapses", "largest_gap", "smallest_gap", "gap",
                                 "tolerance"], labels)
    outs = tc.run_unique(configs)
    cl.outs = outs
    best, worst = ex.best(outs), ex.worst(outs)
    osc = {k: tc.oscillation(o) for k, o in outs.items()}
    turns = {k: (None if o["diverged"] else ex.sign_changes(tc._vals(o))) for k, o in outs.items()}
    gaps = {k: ex.gap(o) for k, o in outs.items()}
    diverged = [k for k, o in outs.items() if o["diverged"]]
    collapsed = [k for k, o in outs.items() if not o["diverged"] and _near_chance(o)]

    r = _result(pid, params, outs)
    r.steps = [_ffn_step(configs[best]),
               Step(text=f"Train once per {what} ({', '.join(outs)}), everything else at the defaults; rank the runs by "
                         "final validation accuracy (a diverged run ranks last).", rule="the sheet's comparison"),
               Step(text="Instability: the oscillation of the validation loss, the mean per-epoch movement not explained "
                         "by its net change (0 for a monotone curve), and its number of turns. Divergence: the runner "
                         "stops a run whose loss is not finite or exceeds 100 times its initial value; a run whose "
                         "final validation accuracy is below 1/K + 0.05 is flagged as ending near chance.",
                    math=r"\mathrm{osc}=\frac{\sum_{e=1}^{n-1}|v_{e+1}-v_e|-|v_n-v_1|}{n-1}"),
               _budget_step(outs)]
    plot_all = params.get("plot_runs", "best_worst") == "all"
    shown = outs if plot_all else {k: outs[k] for k in dict.fromkeys([best, worst])}
    r.checks = [tc.completed_check(outs), tc.ffn_gradient_check(configs[best].get("dataset", "octmnist"), _archs(outs)),
                tc.converged_check(best, outs[best], "the best run"), tc.chance_check(best, outs[best])]
    which = f"every {what}" if plot_all else f"the best ({best}) and the worst ({worst}) run by validation accuracy"
    r.figures = [tc.loss_figure("losses", f"Train (solid) and validation (dashed) loss of {which}.", shown)]
    r.tables = _tables(f"Per {what}", outs,
                       {"val-loss oscillation": osc, "val-loss turns": turns, **_acc_cols(outs),
                        "near chance": {k: _near_chance(o) for k, o in outs.items()}},
                       f"Proxies per {what}: oscillation and number of turns of the validation loss (instability), "
                       "the epoch of its minimum, the final train-minus-validation accuracy gap, and whether the run "
                       "ended near chance (validation accuracy < 1/K + 0.05).")

    by_val = tc.ranking(outs, lambda o: None if o["diverged"] else ex.final(o, "val_accuracy"), "final validation accuracy")
    cl.best_of("best", outs, by_val)
    cl.best_of("worst", outs, by_val, worst=True)
    cl.best_number("best_test_accuracy", outs)
    cl.number_map("test_accuracy", lambda k: ex.final(outs[k], "test_accuracy"), "test accuracy")
    cl.number_map("val_accuracy", lambda k: ex.final(outs[k], "val_accuracy"), "validation accuracy")
    unstable = lambda o: float("inf") if o["diverged"] else tc.oscillation(o)  # noqa: E731
    cl.choice("most_unstable", tc.pick(outs, unstable), tc.ranking(outs, unstable, "validation-loss oscillation"))
    cl.value_set("diverges", diverged, "diverged runs")
    cl.value_set("collapses", collapsed, "runs ending near chance (validation accuracy < 1/K + 0.05)")
    gap_of = lambda o: None if o["diverged"] else ex.gap(o)  # noqa: E731
    cl.choice("largest_gap", tc.pick(outs, gap_of), tc.ranking(outs, gap_of, "train-validation accuracy gap"))
    cl.choice("smallest_gap", tc.pick(outs, gap_of, higher=False),
              tc.ranking(outs, gap_of, "train-validation accuracy gap", higher=False))
    cl.number_map("gap", lambda k: gaps[k], "train-validation accuracy gap")
    r.verdicts = cl.verdicts
    r.summary = (f"best {best} (validation accuracy {ex.fmt(ex.final(outs[best], 'val_accuracy'))}, test "
                 f"{ex.fmt(ex.final(outs[best], 'test_accuracy'))}), worst {worst}; "
                 + (f"diverged: {', '.join(diverged)}; " if diverged else "none diverged; ")
                 + (f"ended near chance: {', '.join(collapsed)}; " if collapsed else "")
                 + "validation-loss oscillation " + ", ".join(f"{k} {ex.fmt(osc[k], 3)}" for k in outs) + ".")
    return r


sweep.CLAIM_SCHEMA = SWEEP_SCHEMA


def _near_chance(out: dict) -> bool:
    acc = ex.final(out, "val_accuracy")
    return acc is not None and acc < 1 / out["dataset"]["n_classes"] + 0.05


# -- regularisation ----------------------------------------------------------------------------

REGULARISATION_SCHEMA = f"""\
Claims (all optional; runs are named default, l2, dropout):
  overfits = true             the default run overfits (validation loss lowest before the last epoch and then
                              > 1 % higher while the train loss keeps falling); undecided when not observed
                              within a budget that capped the sheet's epochs
  best = "dropout"            the run with the highest final validation accuracy
  best_technique = "l2"       the better of l2 and dropout by final validation accuracy
  smallest_gap = "dropout"    the run with the smallest final validation-minus-train loss gap
  best_test_accuracy = 0.9    final test accuracy of the best run
  test_accuracy = {{ "l2" = 0.9 }}   final test accuracy per run
  {BAND_DOC}
{CAP_DOC}"""


def regularisation(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """Overfitting of the default network, and L2 vs dropout (ist23.q2.2c)."""
    pid = current_problem() or "regularisation"
    kind = "ffn_torch"
    base = {k: v for k, v in params.items() if k not in ("l2", "dropout")}
    l2 = tc.typed(kind, "l2", params["l2"])
    p = tc.typed(kind, "dropout", params["dropout"])
    names = {"default": "default", f"L2 {l2:g}": "l2", f"dropout {p:g}": "dropout"}
    configs = dict(zip(names, [tc.base_config(kind, base), tc.base_config(kind, base, l2=l2),
                               tc.base_config(kind, base, dropout=p)]))
    cl = tc.Claims(pid, claims, ["overfits", "best", "best_technique", "smallest_gap", "best_test_accuracy",
                                 "test_accuracy", "tolerance"], names)
    outs = tc.run_unique(configs)
    cl.outs = outs
    best, worst = ex.best(outs), ex.worst(outs)
    default = "default"
    ov = {k: tc.overfit(o) for k, o in outs.items()}
    loss_gap = {k: ex.gap(o, "loss") for k, o in outs.items()}

    r = _result(pid, params, outs)
    r.steps = [_ffn_step(configs[default]),
               Step(text=f"Train the default network, one with L2 penalty {l2:g} (the optimiser's weight decay) and one "
                         f"with dropout {p:g}.", math=r"\mathcal L_{\lambda}=\mathcal L+\tfrac\lambda2\|\theta\|_2^2"),
               Step(text="Overfitting proxy: the validation loss reaches its minimum before the last epoch and ends more "
                         "than 1 % above it while the train loss keeps falling; the generalisation gap is the final "
                         "validation minus train loss (and train minus validation accuracy).",
                    rule="the catalog's proxy"),
               _budget_step(outs)]
    r.checks = [tc.completed_check(outs), tc.converged_check(default, outs[default], "the default network"),
                tc.ffn_gradient_check(configs[default].get("dataset", "octmnist"), _archs(outs)),
                tc.chance_check(best, outs[best])]
    r.figures = [tc.loss_figure("losses", f"Train (solid) and validation (dashed) loss of the best ({best}) and the "
                                          f"worst ({worst}) of the three runs.",
                                {k: outs[k] for k in dict.fromkeys([best, worst])})]
    r.tables = _tables("Default vs the two regularised networks", outs,
                       {"lowest val loss at epoch": {k: ov[k]["min_val_loss_epoch"] for k in outs},
                        "overfitting": {k: tc.overfit_cell(o) for k, o in outs.items()},
                        "gap val-train loss": loss_gap, "gap train-val acc": {k: ex.gap(o) for k, o in outs.items()}},
                       "The overfitting proxy (validation loss lowest before the end, then > 1 % higher while the "
                       "train loss falls; 'not observed' when the budget capped the sheet's epochs) and the "
                       "generalisation gaps of each run.")

    cl.flag("overfits", ov[default]["flag"], f"default run: {ov[default]['text']}")
    by_val = tc.ranking(outs, lambda o: ex.final(o, "val_accuracy"), "final validation accuracy")
    cl.best_of("best", outs, by_val)
    techniques = {k: outs[k] for k in list(outs)[1:]}
    cl.best_of("best_technique", techniques, by_val)
    gap_of = lambda o: None if o["diverged"] else ex.gap(o, "loss")  # noqa: E731
    cl.choice("smallest_gap", tc.pick(outs, gap_of, higher=False),
              tc.ranking(outs, gap_of, "validation-minus-train loss gap", higher=False))
    cl.best_number("best_test_accuracy", outs)
    cl.number_map("test_accuracy", lambda k: ex.final(outs[k], "test_accuracy"), "test accuracy")
    r.verdicts = cl.verdicts
    r.summary = (f"overfitting of the default network: {ov[default]['text']}. Best {best} (test accuracy "
                 f"{ex.fmt(ex.final(outs[best], 'test_accuracy'))}); loss gaps "
                 + ", ".join(f"{k} {ex.fmt(loss_gap[k], 3)}" for k in outs) + ".")
    return r


regularisation.CLAIM_SCHEMA = REGULARISATION_SCHEMA


# -- one factor at a time ----------------------------------------------------------------------

ONE_FACTOR = {  # list parameter -> (configuration key, label prefix, claim key)
    "learning_rates": ("eta", "lr", "best_learning_rate"),
    "hidden_sizes": ("hidden_size", "hidden", "best_hidden_size"),
    "dropouts": ("dropout", "dropout", "best_dropout"),
    "activations": ("activation", "", "best_activation"),
    "optimizers": ("optimizer", "", "best_optimizer"),
}

ONE_FACTOR_SCHEMA = f"""\
Claims (all optional):
  best_learning_rate = 0.01   the best value of each factor, varied alone from the defaults, by final
  best_hidden_size = 200      validation accuracy (the default run takes part in every factor)
  best_dropout = 0.3
  best_activation = "relu"
  best_optimizer = "sgd"
  best_test_accuracy = 0.85   final test accuracy of the best run of the whole grid
  {BAND_DOC}
{CAP_DOC}"""


def one_factor_configs(params: dict[str, Any]) -> tuple[dict[str, dict], dict[str, dict[str, Any]]]:
    """The one-factor-at-a-time grid: ``({label: config}, {claim key: {label: value}})``; the default
    run is labelled ``default`` and belongs to every factor."""
    kind = "ffn_torch"
    default = tc.base_config(kind, params)
    configs = {"default": default}
    factors: dict[str, dict[str, Any]] = {}
    for name, (key, prefix, claim) in ONE_FACTOR.items():
        if name not in params:
            continue
        d = runner_default(default, key)
        factors[claim] = {"default": d}
        for v in tc.values(params, name, kind, key):
            if ex._same(v, d):
                continue
            label = _label(prefix, v) if prefix else str(v)
            configs[label] = {**default, key: v}
            factors[claim][label] = v
    return configs, factors


def runner_default(cfg: dict, key: str) -> Any:
    from numerics import runner
    return runner.resolve(cfg)[key]


def one_factor_grid(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """One factor at a time around the defaults (ist21.q4.2)."""
    pid = current_problem() or "one_factor_grid"
    configs, factors = one_factor_configs(params)
    allowed = list(factors) + ["best_test_accuracy", "tolerance"]
    cl = tc.Claims(pid, claims, allowed, {k: k for k in configs})
    outs = tc.run_unique(configs)
    cl.outs = outs
    best = ex.best(outs)

    r = _result(pid, params, outs)
    r.steps = [_ffn_step(configs["default"]),
               Step(text="Vary one factor at a time from the defaults (" + "; ".join(
                   f"{claim.removeprefix('best_').replace('_', ' ')}: " + ", ".join(tc.fmt_value(v) for v in f.values())
                   for claim, f in factors.items()) + "); the best value of each factor is the one whose run has the "
                   "highest final validation accuracy, and the best configuration is the best run of the whole grid.",
                    rule="one-factor-at-a-time search"),
               _budget_step(outs)]
    r.checks = [tc.completed_check(outs), tc.converged_check("default", outs["default"], "the default network"),
                tc.ffn_gradient_check(configs["default"].get("dataset", "fashion-mnist"), _archs(outs)),
                tc.chance_check(best, outs[best])]
    r.figures = tc.metric_figures("grid", "One factor at a time, one line per run", outs,
                                  params.get("plot", ["train_loss", "val_accuracy"]))
    per_factor = {claim: ex.best({k: outs[k] for k in f}) for claim, f in factors.items()}
    r.tables = [ex.results_table("One factor at a time: final metrics of every run (the factor it varies in its "
                                 "name; the default run belongs to every factor).", outs, metrics=METRICS),
                Table(caption="The best value of each factor (by final validation accuracy) and the best run.",
                      columns=["factor", "best value", "its validation accuracy", "its test accuracy"],
                      rows=[[claim.removeprefix("best_").replace("_", " "), tc.fmt_value(factors[claim][lab]),
                             ex.fmt(ex.final(outs[lab], "val_accuracy")), ex.fmt(ex.final(outs[lab], "test_accuracy"))]
                            for claim, lab in per_factor.items()]
                      + [["best run", best, ex.fmt(ex.final(outs[best], "val_accuracy")),
                          ex.fmt(ex.final(outs[best], "test_accuracy"))]])] + _published(outs, best)
    for claim, f in factors.items():
        sub = {k: outs[k] for k in f}
        cl.best_of(claim, sub, tc.ranking(sub, lambda o: ex.final(o, "val_accuracy"), "final validation accuracy"),
                   labels=f)
    cl.best_number("best_test_accuracy", outs)
    r.verdicts = cl.verdicts
    r.summary = ("best values: " + ", ".join(f"{claim.removeprefix('best_').replace('_', ' ')} "
                                              f"{tc.fmt_value(factors[claim][lab])}" for claim, lab in per_factor.items())
                 + f"; best run {best} (test accuracy {ex.fmt(ex.final(outs[best], 'test_accuracy'))}).")
    return r


one_factor_grid.CLAIM_SCHEMA = ONE_FACTOR_SCHEMA


# -- depth -------------------------------------------------------------------------------------

DEPTH_SCHEMA = f"""\
Claims (all optional):
  best_layers = 1             the number of hidden layers with the highest final validation accuracy
  best_test_accuracy = 0.85   final test accuracy of that run
  test_accuracy = {{ "2" = 0.85 }}   final test accuracy per number of hidden layers
  {BAND_DOC}
{CAP_DOC}"""


def depth(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """The best configuration of a one-factor grid (computed from that problem's parameters) at
    several depths (ist21.q4.3)."""
    from problems.registry import get, resolve_params

    pid = current_problem() or "depth"
    source = get(str(params["best_of"]))
    grid_cfgs, _ = one_factor_configs(resolve_params(source))
    grid = tc.run_unique(grid_cfgs)                                     # cached when the source problem ran
    chosen = ex.best(grid)
    depths = tc.values(params, "hidden_layers", "ffn_torch", "layers")
    label = lambda L: f"{L} layer" + ("s" if L != 1 else "")  # noqa: E731
    configs = {label(L): {**grid_cfgs[chosen], "layers": L} for L in depths}
    grid_layers = runner_default(grid_cfgs[chosen], "layers")
    labels = {label(L): L for L in depths}
    cl = tc.Claims(pid, claims, ["best_layers", "best_test_accuracy", "test_accuracy", "tolerance"], labels)
    outs = tc.run_unique(configs)
    cl.outs = outs
    best = ex.best(outs)
    same = [k for k, o in outs.items() if o["cache_key"] == grid[chosen]["cache_key"]]

    r = _result(pid, params, outs)
    r.steps = [Step(text=f"The best configuration of {source.id} (one factor at a time, by final validation accuracy), "
                         f"computed from that problem's parameters: {chosen} ("
                         + ", ".join(f"{k} {tc.fmt_value(v)}" for k, v in grid_cfgs[chosen].items() if k != "kind")
                         + ").", rule=f"{source.id}'s selection"),
               _ffn_step(grid_cfgs[chosen]),
               Step(text="Train it with " + ", ".join(outs) + " of the same width; compare the final accuracies."),
               _budget_step(outs)]
    r.checks = [tc.completed_check(outs)] + [tc.converged_check(k, o, "the network") for k, o in outs.items()]
    r.checks += [tc.ffn_gradient_check(grid_cfgs[chosen].get("dataset", "fashion-mnist"), _archs(outs)),
                 tc.chance_check(best, outs[best]),
                 Check(name="baseline is the grid's best run", method=f"cache key of the run at {source.id}'s depth vs "
                                                                      f"{source.id}'s best run",
                       passed=bool(same) or grid_layers not in depths,
                       detail=(f"{', '.join(same)} is {source.id}'s run {chosen} (same configuration, served from the cache)"
                               if same else f"no run here has {source.id}'s depth"))]
    r.figures = tc.metric_figures("depth", "Depth, one line per number of hidden layers", outs,
                                  params.get("plot", ["train_loss", "val_accuracy"]))
    r.tables = _tables("Per number of hidden layers", outs, _acc_cols(outs),
                       "The epoch of the lowest validation loss and the final train-minus-validation accuracy gap "
                       "per depth.") + _published(outs, best)
    cl.best_of("best_layers", outs, tc.ranking(outs, lambda o: ex.final(o, "val_accuracy"), "final validation accuracy"))
    cl.best_number("best_test_accuracy", outs)
    cl.number_map("test_accuracy", lambda k: ex.final(outs[k], "test_accuracy"), "test accuracy")
    r.verdicts = cl.verdicts
    r.summary = (f"with {source.id}'s best configuration ({chosen}): final test accuracy "
                 + ", ".join(f"{k} {ex.fmt(ex.final(o, 'test_accuracy'))}" for k, o in outs.items())
                 + f"; best depth {best} by validation accuracy.")
    return r


depth.CLAIM_SCHEMA = DEPTH_SCHEMA
