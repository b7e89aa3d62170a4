"""tau.p1 (backpropagation on MNIST with the course's ``Network``) and tau.p2 (AlexNet on CIFAR-10).

Every number comes from the checker's own runs (the runner's cache); the sheet's accuracy
targets are asserted only when the sheet's data ran under the ``full`` profile, and shown as
information otherwise.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from numerics import experiment as ex
from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict

# -- tau.p1a: backprop against autograd and finite differences ---------------------------------


def _forward_loss64(Ws: list[np.ndarray], bs: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    """The sheet's loss, written independently of the engine: ReLU layers, softmax, mean CE (float64)."""
    z = X
    for i, (W, b) in enumerate(zip(Ws, bs)):
        v = z @ W.T + b
        z = np.maximum(v, 0.0) if i < len(Ws) - 1 else v
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return float(-(Y * logp).sum(1).mean())


def _autograd(Ws, bs, X, Y):
    import torch

    tW = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in Ws]
    tb = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]
    z = torch.tensor(X, dtype=torch.float64)
    for i, (W, b) in enumerate(zip(tW, tb)):
        z = z @ W.T + b
        if i < len(tW) - 1:
            z = torch.relu(z)
    loss = -(torch.tensor(Y, dtype=torch.float64) * torch.log_softmax(z, 1)).sum(1).mean()
    loss.backward()
    return [W.grad.numpy() for W in tW], [b.grad.numpy() for b in tb]


def gradient_report(sizes: list[int], n: int, seed: int, fd_entries: int = 12) -> dict:
    """Engine ``Network.backprop`` vs autograd (float64) and central differences on ``fd_entries``
    random entries per parameter array; shapes and the indexing ``dw[i] = dl/dW_{i+1}``."""
    from numerics.engine.np_network import Network

    rng = np.random.default_rng(seed)
    net = Network(sizes, seed=seed)
    X = rng.random((n, sizes[0]))                                        # pixels in [0, 1]
    y = rng.integers(0, sizes[-1], n)
    Y = np.eye(sizes[-1])[y]
    db, dw = net.backprop(X.T, y)                                        # column convention
    Ws = [np.array(W, np.float64, order="C") for W in net.weights]      # own C-ordered copies: the
    bs = [np.array(b, np.float64).ravel() for b in net.biases]           # finite differences edit them in place
    shapes_ok = (len(dw) == len(db) == len(sizes) - 1
                 and all(dw[i].shape == (sizes[i + 1], sizes[i]) and db[i].shape == (sizes[i + 1], 1)
                         for i in range(len(sizes) - 1)))
    gW, gb = _autograd(Ws, bs, X, Y)
    scale = max(1.0, max(float(np.abs(g).max()) for g in gW + gb))
    err_auto = max(max(float(np.abs(dw[i] - gW[i]).max()), float(np.abs(db[i].ravel() - gb[i]).max()))
                   for i in range(len(dw))) / scale if shapes_ok else math.inf
    err_fd, h = 0.0, 1e-6
    for i in range(len(Ws)):
        for arr, grad in ((Ws[i], dw[i]), (bs[i], db[i].ravel())):
            flat = arr.reshape(-1)
            for j in rng.choice(flat.size, min(fd_entries, flat.size), replace=False):
                old = flat[j]
                flat[j] = old + h
                up = _forward_loss64(Ws, bs, X, Y)
                flat[j] = old - h
                down = _forward_loss64(Ws, bs, X, Y)
                flat[j] = old
                fd = (up - down) / (2 * h)
                g = grad.reshape(-1)[j] if shapes_ok else math.nan
                err_fd = max(err_fd, abs(g - fd) / max(1.0, abs(fd)))
    return {"sizes": sizes, "shapes_ok": shapes_ok, "err_autograd": err_auto, "err_fd": err_fd}


GRAD_TOL = 1e-4   # the engine computes in float32; the oracles in float64


def p1a_backprop(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = current_problem() or "tau.p1a"
    ex.check_claim_keys(pid, claims, ())
    reports = [gradient_report(list(s), params["batch"], params["seed"]) for s in params["layer_sizes"]]
    result = Result(problem_id=pid, params=params, random_state=params["seed"])
    result.steps = [
        Step(text="Forward pass: affine maps with ReLU on the hidden layers and softmax on the last.",
             math=r"v_{l+1}=W_{l+1}z_l+b_{l+1},\quad z_{l+1}=\mathrm{ReLU}(v_{l+1}),\quad z_L=\mathrm{softmax}(v_L)"),
        Step(text="Output layer: by tau.t4 the gradient of the cross-entropy with respect to the logits is "
                  "softmax minus the one-hot label (averaged over the mini-batch).",
             math=r"\delta_L=\frac{\partial\ell}{\partial v_L}=\frac1n\left(z_L-y\right)", rule="tau.t4"),
        Step(text="Backward pass: propagate through the weights, then multiply by the ReLU derivative; "
                  "the gradients of a layer are the outer product with its input.",
             math=r"\delta_l=\left(W_{l+1}^\top\delta_{l+1}\right)\circ\mathbf 1[v_l>0],\qquad "
                  r"\frac{\partial\ell}{\partial W_l}=\delta_l z_{l-1}^\top,\qquad \frac{\partial\ell}{\partial b_l}=\delta_l",
             rule="chain rule"),
        Step(text="Indexing of the skeleton: dw[i] and db[i] belong to W_{i+1} and b_{i+1}, with the shapes "
                  "of those parameters (biases as columns)."),
    ]
    rows = []
    for r in reports:
        label = "[" + ", ".join(map(str, r["sizes"])) + "]"
        result.checks += [
            Check(name=f"shapes and indexing {label}", method="dw[i].shape == W_{i+1}.shape, db[i].shape == (n_{i+1}, 1)",
                  passed=r["shapes_ok"]),
            Check(name=f"backprop vs autograd {label}", method="torch.autograd in float64 on the same weights",
                  passed=r["err_autograd"] <= GRAD_TOL, detail=f"max relative error {r['err_autograd']:.2g} (tolerance {GRAD_TOL:g})"),
            Check(name=f"backprop vs finite differences {label}", method="central differences (h = 1e-6) of an independent float64 forward",
                  passed=r["err_fd"] <= GRAD_TOL, detail=f"max relative error {r['err_fd']:.2g} (tolerance {GRAD_TOL:g})"),
        ]
        rows.append([label, ex.fmt(r["shapes_ok"]), f"{r['err_autograd']:.2g}", f"{r['err_fd']:.2g}"])
    result.tables = [Table(caption=f"Backprop of the course's Network against two oracles (mini-batch of {params['batch']} random inputs).",
                           columns=["layer sizes", "shapes ok", "vs autograd", "vs finite differences"], rows=rows)]
    result.summary = f"backprop agrees with autograd and finite differences for {len(reports)} layer-size lists."
    return result


p1a_backprop.CLAIM_SCHEMA = ("No claims: the code is the answer. The checks compare the course Network's backprop "
                             "with torch.autograd and finite differences for each list of layer sizes (param layer_sizes).")


# -- tau.p1b-d: the Network on MNIST ------------------------------------------------------------

def _network_config(params: dict, **over) -> dict:
    over = dict(over)
    sizes = over.pop("sizes", params["sizes"])
    if not isinstance(sizes, list) or len(sizes) < 2 or not all(isinstance(n, int) and n > 0 for n in sizes):
        raise InputError(f"[{current_problem()}] sizes = {sizes!r}: expected a list of positive layer sizes, input first")
    cfg = {"kind": "network_tau", "dataset": params["dataset"], "epochs": params["epochs"], "seed": params["seed"],
           "hidden_sizes": list(sizes[1:-1]), "eta": params["learning_rate"], "batch_size": params["batch_size"],
           "init": params["init"], "n_train": params["train_size"], "n_test": params["test_size"]}
    if "learning_rate" in over:
        over["eta"] = over.pop("learning_rate")
    cfg.update(over)
    return cfg


def _backprop_checks(configs) -> list[Check]:
    """The backprop the runs trained with (``np_mlp.MLP`` under the course's ``Network``) against torch
    autograd in float64, on training examples of the data that ran, once per trained architecture: the
    mini-batch gradients, and for batch size 1 the per-example loop (its own in-place backprop) too."""
    from numerics.exp_mlp import autograd_check, sgd_loop_check

    seen, checks = set(), []
    for cfg in configs:
        per_example = cfg["batch_size"] == 1
        key = (tuple(cfg["hidden_sizes"]), per_example)
        if key in seen:
            continue
        seen.add(key)
        mlp = {**cfg, "activation": "relu", "bias_init": cfg["init"]}
        checks.append(autograd_check(mlp))
        if per_example:
            checks.append(sgd_loop_check(mlp))
    return checks


def _threshold_check(out: dict, target: float, what: str) -> Check:
    """The sheet's accuracy target: asserted for the sheet's data under ``full``; information otherwise."""
    acc = ex.final(out, "test_accuracy")
    real = not out["dataset"]["substitute"]
    applies = real and out["profile"] == "full"
    met = acc is not None and acc > target
    if applies:
        return Check(name=f"{what}: test accuracy above {target:.0%}", method="the sheet's requirement (full profile)",
                     passed=met, detail=f"measured {ex.fmt(acc)}")
    why = "a substitute dataset ran" if not real else f"profile {out['profile']} is a reduced budget"
    return Check(name=f"{what}: test accuracy above {target:.0%} (information only)",
                 method=f"not asserted: {why}", passed=True, info=True,
                 detail=f"measured {ex.fmt(acc)}: the target {'is' if met else 'is not'} reached on the data and budget that ran")


def _rate_label(eta: float) -> str:
    return f"eta = {eta:g}"


def diverges(out: dict, n_classes: int) -> tuple[bool, str]:
    """Divergence proxy: the runner stopped the run (NaN/inf or 100x its start), or the training loss
    ends above twice the loss of a uniform guess (2 ln K) while the accuracy is at chance (within 5
    points of 1/K): the iterates were thrown far away and never came back."""
    if out["diverged"]:
        return True, f"stopped at epoch {out['diverged_epoch']}: {out['diverged_reason']}"
    loss, acc = ex.final(out, "train_loss"), ex.final(out, "train_accuracy")
    if loss is None or acc is None:
        return False, "no training metrics"
    blown = loss > 2 * math.log(n_classes) and acc <= 1 / n_classes + 0.05
    return blown, f"final loss {ex.fmt(loss)} vs 2 ln K = {2 * math.log(n_classes):.3g}, accuracy {ex.fmt(acc)}"


def at_chance(out: dict, n_classes: int) -> bool:
    """The final training accuracy is within 10 points of chance (1/K)."""
    acc = ex.final(out, "train_accuracy")
    return acc is None or acc <= 1 / n_classes + 0.10


def stalls(out: dict, best_accuracy: float, n_classes: int) -> Optional[bool]:
    """Stalling proxy (too small a rate): the run neither diverged nor sits near chance, but its final
    training accuracy is more than 10 points below the best rate's while still rising (it has not
    converged; it is slow)."""
    acc = ex.final(out, "train_accuracy")
    if acc is None or diverges(out, n_classes)[0] or at_chance(out, n_classes):
        return False
    _, accs = ex.series(out, "train_accuracy")
    rising = (ex.slope([a for a in accs if a is not None]) or 0) > 0
    return acc <= best_accuracy - 0.10 and rising


def p1b_rates(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = current_problem() or "tau.p1b"
    claims = ex.check_claim_keys(pid, claims, ("test_accuracy", "best_rate", "diverges", "stalls", "tolerance"))
    rates = [float(r) for r in params["learning_rates"]]
    outs = ex.run_configs({_rate_label(r): _network_config(params, eta=r) for r in rates})
    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = [Step(text=f"Train Network({params['sizes']}) with mini-batch SGD (batch {params['batch_size']}) "
                              f"once per learning rate {', '.join(f'{r:g}' for r in rates)}; everything else as the reference run.")]
    for key, ylabel, log in (("train_accuracy", "training accuracy", False), ("train_loss", "training loss (log scale)", True),
                             ("test_accuracy", "test accuracy", False)):
        fig = ex.curves(key.replace("_", "-"), f"{ex.METRIC_LABELS[key].capitalize()} against epoch, one curve per learning rate.",
                        outs, [key], ylabel)
        fig.yscale = "log" if log else "linear"
        result.figures.append(fig)
    K = next(iter(outs.values()))["dataset"]["n_classes"]
    div = {label: diverges(o, K)[0] for label, o in outs.items()}
    chance = {label: at_chance(o, K) and not div[label] for label, o in outs.items()}
    top = max((ex.final(o, "train_accuracy") or 0.0) for o in outs.values())
    stall = {label: stalls(o, top, K) for label, o in outs.items()}
    result.tables = [ex.results_table("Learning-rate sweep: final metrics, divergence and stalling.", outs,
                                      extra={"diverges": div, "at chance": chance, "slow (stalls)": stall},
                                      metrics=("train_accuracy", "train_loss", "test_accuracy"))]
    ref = _rate_label(params["learning_rate"])
    ref_out = outs.get(ref)
    result.checks = [Check(name="every run ended (finished or stopped as diverged)", method="runner status",
                           passed=all(o["metrics"] for o in outs.values()))] + _backprop_checks(o["config"] for o in outs.values())
    if ref_out is not None:
        result.checks.append(Check(name=f"the reference rate {params['learning_rate']:g} learns",
                                   method="neither diverged nor at chance (the proxies below)",
                                   passed=not div[ref] and not chance[ref],
                                   detail=f"final train accuracy {ex.fmt(ex.final(ref_out, 'train_accuracy'))}, "
                                          f"chance {1 / K:.2f}; {diverges(ref_out, K)[1]}"))
        result.checks.append(_threshold_check(ref_out, params["target_accuracy"], f"rate {params['learning_rate']:g}"))
    best = ex.best(outs, "test_accuracy")
    result.summary = (f"best rate {best.split('= ')[1]} (test accuracy {ex.fmt(ex.final(outs[best], 'test_accuracy'))}); "
                      f"diverged: {', '.join(k.split('= ')[1] for k, v in div.items() if v) or 'none'}; "
                      f"at chance: {', '.join(k.split('= ')[1] for k, v in chance.items() if v) or 'none'}; "
                      f"slow: {', '.join(k.split('= ')[1] for k, v in stall.items() if v) or 'none'}.")
    if ref_out is not None:
        rate = f"rate {params['learning_rate']:g}"
        result.verdicts += filter(None, [ex.accuracy_claim(pid, claims, "test_accuracy", ex.final(ref_out, "test_accuracy"),
                                                           f"test accuracy at {rate}", label=f"test_accuracy ({rate})")])
    if "best_rate" in claims:
        c = ex.claim_number(pid, claims, "best_rate")
        ranking = "; ".join(f"{k}: {ex.fmt(ex.final(o, 'test_accuracy'))}" for k, o in outs.items())
        result.verdicts.append(ex.choice_among(f"best_rate = {c:g}", c, outs, f"Final test accuracy by rate: {ranking}.",
                                               "test_accuracy", names={k: float(k.split("= ")[1]) for k in outs}))
    for key, measured, proxy in (("diverges", div, "stopped as NaN/inf/100x its start, or a final loss above 2 ln K "
                                                   "with the accuracy at chance"),
                                 ("stalls", stall, "not diverged, more than 10 points above chance, but more than 10 points of train "
                                                   "accuracy below the best rate and still rising")):
        if key in claims:
            result.verdicts.append(_rate_set_verdict(pid, key, claims[key], measured, rates, proxy))
    return result


def _rate_set_verdict(pid: str, key: str, claimed: Any, measured: dict[str, Optional[bool]], rates: list[float],
                      proxy: str):
    if not isinstance(claimed, list) or not all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in claimed):
        raise InputError(f"[{pid}] {key} = {claimed!r}: expected a list of learning rates, e.g. [10, 100]")
    unknown = [r for r in claimed if not any(math.isclose(r, q) for q in rates)]
    if unknown:
        raise InputError(f"[{pid}] {key}: rate(s) {unknown} are not in the sweep {rates}")
    got = sorted(float(k.split("= ")[1]) for k, v in measured.items() if v)
    want = sorted(float(r) for r in claimed)
    ok = len(got) == len(want) and all(math.isclose(a, b) for a, b in zip(got, want))
    return Verdict(claim=f"{key} = {want}", passed=ok,
                      evidence=f"measured: {key} for rates {got or 'none'} ({proxy}); claimed {want}." + ex._decided_on())


def p1c_full(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = current_problem() or "tau.p1c"
    claims = ex.check_claim_keys(pid, claims, ("test_accuracy", "tolerance"))
    outs = ex.run_configs({"full data": _network_config(params, eval_train=False)})
    out = outs["full data"]
    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = [Step(text=f"Train Network({params['sizes']}) on all training images (profile permitting) "
                              "without computing the training metrics; evaluate on the test images after each epoch.")]
    result.figures = [ex.curves("test-accuracy", "Test accuracy against epoch (no training metrics computed).",
                                outs, ["test_accuracy"], "test accuracy")]
    result.tables = [ex.results_table("Full-data run.", outs, metrics=("test_accuracy",))]
    result.checks = [Check(name="the run finished without divergence", method="runner status", passed=not out["diverged"]),
                     Check(name="no training metrics were computed", method="per-epoch log",
                           passed=all(r.get("train_accuracy") is None for r in out["metrics"])),
                     *_backprop_checks([out["config"]]),
                     _threshold_check(out, params["target_accuracy"], "full data")]
    result.summary = f"final test accuracy {ex.fmt(ex.final(out, 'test_accuracy'))}."
    result.verdicts += filter(None, [ex.accuracy_claim(pid, claims, "test_accuracy", ex.final(out, "test_accuracy"),
                                                       "test accuracy")])
    return result


def p1d_search(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = current_problem() or "tau.p1d"
    claims = ex.check_claim_keys(pid, claims, ("best_test_accuracy", "tolerance"))
    configs = {}
    for cand in params["candidates"]:
        if not isinstance(cand, dict) or not set(cand) <= {"sizes", "learning_rate", "batch_size", "epochs"}:
            raise InputError(f"[{pid}] candidates: each entry must be a table with keys among sizes, learning_rate, "
                             f"batch_size, epochs; got {cand!r}")
        label = ", ".join(f"{k} {v}" for k, v in cand.items())
        configs[label] = _network_config(params, eval_train=False, **cand)
    outs = ex.run_configs(configs)
    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = [Step(text="Train each candidate structure and hyper-parameter setting (param candidates) "
                              "and rank them by final test accuracy.")]
    best = ex.best(outs, "test_accuracy")
    result.figures = [ex.curves("test-accuracy", "Test accuracy against epoch for each candidate.", outs,
                                ["test_accuracy"], "test accuracy")]
    result.tables = [ex.results_table("Candidates (best first in the summary).", outs, metrics=("test_accuracy",))]
    result.checks = [Check(name="every candidate finished", method="runner status",
                           passed=all(not o["diverged"] for o in outs.values()),
                           detail="; ".join(f"{k} diverged" for k, o in outs.items() if o["diverged"])),
                     *_backprop_checks(o["config"] for o in outs.values()),
                     _threshold_check(outs[best], params["target_accuracy"], f"best candidate ({best})")]
    result.summary = f"best candidate: {best} with test accuracy {ex.fmt(ex.final(outs[best], 'test_accuracy'))}."
    result.verdicts += filter(None, [ex.accuracy_claim(pid, claims, "best_test_accuracy",
                                                       ex.final(outs[best], "test_accuracy"),
                                                       "best test accuracy among the candidates")])
    return result


for _f, _schema in ((p1b_rates, """\
Claims (all optional):
  test_accuracy = 0.9    final test accuracy at the reference rate (param learning_rate, 0.1)
  best_rate = 0.1        the rate with the best final test accuracy (rates tied with it within two binomial
                         standard errors are accepted too)
  diverges = [10, 100]   the rates whose run diverges (stopped as NaN/inf or 100x its start, or a final loss
                         above 2 ln K with the accuracy at chance)
  stalls = [0.001]       the rates that learn too slowly (above chance, more than 10 points of train accuracy
                         below the best rate, still rising)
  tolerance = 0.03       band for test_accuracy (default by profile: 0.25 smoke, 0.05 quick, 0.02 full)"""),
                    (p1c_full, "Claims: test_accuracy = 0.95 (final test accuracy), tolerance = 0.02 (optional band)."),
                    (p1d_search, "Claims: best_test_accuracy = 0.97 (best candidate's final test accuracy), tolerance (optional).")):
    _f.CLAIM_SCHEMA = _schema


# -- tau.p2: AlexNet on CIFAR-10 ----------------------------------------------------------------

def _alexnet_config(params: dict, **over) -> dict:
    cfg = {"kind": "alexnet", "dataset": params["dataset"], "epochs": params["epochs"], "seed": params["seed"],
           "batch_size": params["batch_size"], "train_fraction": params["train_fraction"],
           "optimizer": "sgd", "eta": params.get("sgd_learning_rate", params.get("learning_rate")), "momentum": params["momentum"]}
    cfg.update(over)
    return cfg


def _alexnet_runs(params: dict, which: list[str]) -> dict[str, dict]:
    """The named runs of tau.p2 (the same configurations serve every part through the cache)."""
    adam = dict(optimizer="adam", momentum=0.0)
    table = {
        "SGD (default)": _alexnet_config(params),
        f"Adam {params['adam_learning_rate']:g}": _alexnet_config(params, eta=params["adam_learning_rate"], **adam),
        f"Adam {params['large_adam_learning_rate']:g}": _alexnet_config(params, eta=params["large_adam_learning_rate"], **adam),
        f"Adam {params['adam_learning_rate']:g}, no BatchNorm/Dropout": _alexnet_config(params, eta=params["adam_learning_rate"],
                                                                                 batchnorm=False, dropout=False, **adam),
    }
    keys = {"sgd": "SGD (default)", "adam": f"Adam {params['adam_learning_rate']:g}", "adam_large": f"Adam {params['large_adam_learning_rate']:g}",
            "plain": f"Adam {params['adam_learning_rate']:g}, no BatchNorm/Dropout"}
    return ex.run_configs({keys[w]: table[keys[w]] for w in which})


def _p2_result(pid: str, params: dict, outs: dict, text: str) -> Result:
    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = [Step(text="AlexNet-style CNN for 32x32x3 inputs (five convolutions, three fully connected layers, "
                              "BatchNorm and Dropout switchable), written by hand. " + text)]
    result.figures = [ex.curves("train-loss", "Training loss against epoch.", outs, ["train_loss"], "training loss"),
                      ex.curves("val-accuracy", "Validation accuracy against epoch.", outs, ["val_accuracy"],
                                "validation accuracy")]
    result.tables = [ex.results_table("AlexNet runs: final metrics, training time and the instability proxy.", outs,
                                      extra={"train-loss oscillation": {k: ex.oscillation(ex.series(o, "train_loss")[1])
                                                                        for k, o in outs.items()}})]
    result.checks = [Check(name="every run ended (finished or stopped as diverged)", method="runner status",
                           passed=all(o["metrics"] for o in outs.values()))] + _optimizer_checks(outs)
    return result


def _closed_form_steps(cfg: dict, g1: list, g2: list) -> tuple[list, list]:
    """The first two parameter changes the sheet's optimiser makes, in closed form from the gradients of the
    two steps (weight decay already added, ``g + l2 p``, as both optimisers do): SGD with momentum m
    (``buf_1 = g_1``, ``buf_2 = m g_1 + g_2``, ``delta = -lr buf``) or Adam with torch's defaults
    (bias-corrected moments, eps 1e-8)."""
    lr = cfg["eta"]
    if cfg["optimizer"] == "sgd":
        m = cfg["momentum"]
        return [-lr * a for a in g1], [-lr * (m * a + b) for a, b in zip(g1, g2)]
    b1, b2, eps = 0.9, 0.999, 1e-8
    d1 = [-lr * a / (a.abs() + eps) for a in g1]
    d2 = []
    for a, b in zip(g1, g2):
        mom = (b1 * (1 - b1) * a + (1 - b1) * b) / (1 - b1 ** 2)
        var = (b2 * (1 - b2) * a * a + (1 - b2) * b * b) / (1 - b2 ** 2)
        d2.append(-lr * mom / (var.sqrt() + eps))
    return d1, d2


def _optimizer_check(cfg: dict, n: int = 8) -> Check:
    """Two steps of the engine's learner, built from the run's configuration as the runner builds it,
    against the closed-form updates of the configured optimiser (:func:`_closed_form_steps`, float64) from
    the gradients each step used (left in ``p.grad`` by the autograd path the AlexNet trains on)."""
    import torch

    from numerics import datasets, runner
    from numerics.engine import learners

    cfg = runner.resolve(cfg)
    ds = datasets.load(cfg["dataset"], current().data_dir)
    X = np.asarray(ds.X("train")[:2 * n])
    y = np.asarray(ds.y("train")[:2 * n])
    learner = learners.build(cfg, {"train": (X, y)}, X.shape[1], ds.n_classes).learner
    model = learner.model
    model.train()
    dev = next(model.parameters()).device                       # CUDA when present, as the run
    params, grads = [[p.detach().double().clone() for p in model.parameters()]], []
    for i in range(2):
        before = [p.detach().clone() for p in model.parameters()]
        learner._step(torch.tensor(X[i * n:(i + 1) * n]).to(dev), torch.tensor(y[i * n:(i + 1) * n]).to(dev))
        # the gradient with weight decay, g + l2 p, formed in the parameters' float32 as the optimisers form it:
        # Adam divides by its size, so where g and l2 p nearly cancel a float64 sum would differ from the run's
        grads.append([(torch.zeros_like(b) if p.grad is None else p.grad.detach()).add(b, alpha=cfg["l2"]).double()
                      for p, b in zip(model.parameters(), before)])
        params.append([p.detach().double().clone() for p in model.parameters()])
    d1, d2 = _closed_form_steps(cfg, grads[0], grads[1])
    err = 0.0
    for want, before, after in ((d1, params[0], params[1]), (d2, params[1], params[2])):
        size = max(float(w.abs().max()) for w in want)
        # the run stores float32 parameters: p + step is rounded to half a unit in the last place of p
        worst = max(float(((a - b - w).abs() - FLOAT32_ROUNDING * torch.maximum(a.abs(), b.abs())).clamp_min(0).max())
                    for w, a, b in zip(want, after, before))
        err = max(err, worst / max(size, 1e-30))
    what = (f"{cfg['optimizer']}, rate {cfg['eta']:g}" + (f", momentum {cfg['momentum']:g}" if cfg["optimizer"] == "sgd" else "")
            + ("" if cfg.get("batchnorm", True) else ", no BatchNorm/Dropout"))
    return Check(name=f"optimiser steps ({what})",
                 method=f"two steps of the engine's learner (built from the run's configuration, {n} images each) vs the "
                        "closed-form SGD-momentum / Adam updates (float64) from the gradients those steps used",
                 passed=err <= 1e-4, detail=f"max |engine step - formula| beyond float32 rounding of the parameter = "
                                            f"{err:.2g} of the step's size (tolerance 1e-4)")


FLOAT32_ROUNDING = 2.0 ** -23      # a unit in the last place, relative: more than the rounding of one addition


def _optimizer_checks(outs: dict[str, dict]) -> list[Check]:
    keys = ("optimizer", "eta", "momentum", "l2", "batchnorm", "dropout")
    unique = {tuple(o["config"].get(k) for k in keys): o["config"] for o in outs.values()}
    return [_optimizer_check(cfg) for cfg in unique.values()]


def _instability(out: dict, ref: dict) -> tuple[Optional[bool], str]:
    """Instability proxy: divergence, or a validation-accuracy curve that turns more often and
    oscillates more than the reference run's."""
    if out["diverged"]:
        return True, f"the run diverged at epoch {out['diverged_epoch']}"
    o, r = (ex.oscillation(ex.series(x, "val_accuracy")[1]) for x in (out, ref))
    t, tr = (ex.oscillation(ex.series(x, "train_loss")[1]) for x in (out, ref))
    if o is None or r is None:
        return None, "too few epochs to measure oscillation"
    unstable = o > r and (t or 0) > (tr or 0)
    return unstable, (f"oscillation of the validation accuracy {ex.fmt(o)} vs {ex.fmt(r)} and of the training loss "
                      f"{ex.fmt(t)} vs {ex.fmt(tr)} for the reference run")


def _layer_flags_check() -> Check:
    """The batchnorm/dropout flags really remove those layers (and nothing else) from the AlexNet."""
    import torch

    from numerics.engine.torch_models import AlexNet32

    def count(model):
        kinds = [type(m).__name__ for m in model.modules()]
        return (sum(k.startswith("BatchNorm") for k in kinds), sum(k.startswith("Dropout") for k in kinds),
                sum(k in ("Conv2d", "Linear") for k in kinds))

    full_, plain = count(AlexNet32(10, True, True)), count(AlexNet32(10, False, False))
    with torch.no_grad():
        shape = tuple(AlexNet32(10, False, False).eval()(torch.zeros(2, 3, 32, 32)).shape)
    ok = full_[0] > 0 and full_[1] > 0 and plain[:2] == (0, 0) and full_[2] == plain[2] and shape == (2, 10)
    return Check(name="the flags remove BatchNorm and Dropout, and only them", method="count the modules of both models",
                 passed=ok, detail=f"BatchNorm/Dropout/Conv+Linear: {full_} with the layers, {plain} without; "
                                   f"output shape {shape}")


def _epochs_to(out: dict, threshold: float) -> Optional[int]:
    return next((r["epoch"] for r in out["metrics"] if (ex.final({"final": r}, "train_loss") or math.inf) <= threshold), None)


def p2a_optimizers(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    return _p2(params, claims, "a")


def p2b_large_rate(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    return _p2(params, claims, "b")


def p2c_no_layers(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    return _p2(params, claims, "c")


def _p2(params: dict[str, Any], claims: Optional[dict], part: str) -> Result:
    """tau.p2a-c: a (SGD vs Adam), b (large Adam rate), c (no BatchNorm/Dropout)."""
    pid = current_problem() or f"tau.p2{part}"
    allowed = {"a": ("better", "tolerance", "final_val_accuracy"), "b": ("unstable",),
               "c": ("layers_speed_up",)}
    claims = ex.check_claim_keys(pid, claims, allowed[part])
    if part == "a":
        outs = _alexnet_runs(params, ["sgd", "adam"])
        result = _p2_result(pid, params, outs, f"Train with the default SGD (momentum {params['momentum']:g}) and "
                                                f"with Adam at {params['adam_learning_rate']:g}; compare the curves.")
        best = ex.best(outs, "val_accuracy")
        result.summary = f"higher final validation accuracy: {best}."
        if "better" in claims:
            c = str(claims["better"])
            opts = {"sgd": "SGD (default)", "adam": f"Adam {params['adam_learning_rate']:g}"}
            if c.lower() not in opts:
                raise InputError(f"[{pid}] better = {c!r}: expected \"sgd\" or \"adam\"")
            result.verdicts.append(ex.choice_among(f"better = {c}", opts[c.lower()], outs,
                                                   "Ranked by final validation accuracy: " + "; ".join(
                                                       f"{k}: {ex.fmt(ex.final(o, 'val_accuracy'))}" for k, o in outs.items())
                                                   + ".", "val_accuracy"))
        result.verdicts += filter(None, [ex.accuracy_claim(
            pid, claims, "final_val_accuracy", ex.final(outs[f"Adam {params['adam_learning_rate']:g}"], "val_accuracy"),
            "final validation accuracy of the Adam run", label="final_val_accuracy (Adam)")])
        return result
    if part == "b":
        outs = _alexnet_runs(params, ["sgd", "adam", "adam_large"])
        result = _p2_result(pid, params, outs, f"Add Adam at the large rate {params['large_adam_learning_rate']:g} and overlay it "
                                                "on the runs of part a.")
        unstable, why = _instability(outs[f"Adam {params['large_adam_learning_rate']:g}"], outs[f"Adam {params['adam_learning_rate']:g}"])
        result.summary = f"large Adam rate unstable: {ex.fmt(unstable)} ({why})."
        if "unstable" in claims:
            result.verdicts.append(ex.trend_verdict(f"unstable = {str(ex.claim_bool(pid, claims, 'unstable')).lower()}",
                                                    claims["unstable"], unstable, why))
        return result
    outs = _alexnet_runs(params, ["adam", "plain"])
    result = _p2_result(pid, params, outs, f"Remove the BatchNorm and Dropout layers (Adam {params['adam_learning_rate']:g}) and "
                                            "count the epochs each model needs to reach a training-loss threshold.")
    full_, plain = outs[f"Adam {params['adam_learning_rate']:g}"], outs[f"Adam {params['adam_learning_rate']:g}, no BatchNorm/Dropout"]
    result.checks.append(_layer_flags_check())
    epochs = min(len(full_["metrics"]), len(plain["metrics"]))
    mid = max(1, math.ceil(epochs / 2))
    at_mid = [o["metrics"][mid - 1].get("train_loss") if len(o["metrics"]) >= mid else None for o in (full_, plain)]
    if params["loss_threshold"]:
        threshold, source = params["loss_threshold"], "param loss_threshold"
    elif all(v is not None and math.isfinite(v) for v in at_mid):
        threshold, source = max(at_mid), f"the higher of the two losses at epoch {mid}, which both runs reach"
    else:
        threshold, source = None, "no common threshold (a run has no finite loss)"
    e_full, e_plain = (_epochs_to(o, threshold) if threshold is not None else None for o in (full_, plain))
    speed_up = None if e_full is None or e_plain is None or e_full == e_plain else e_full < e_plain
    result.tables.append(Table(caption=f"Epochs to reach a training loss of {ex.fmt(threshold)} ({source}).",
                               columns=["model", "epochs to threshold", "final training loss"],
                               rows=[["with BatchNorm and Dropout", ex.fmt(e_full), ex.fmt(ex.final(full_, "train_loss"))],
                                     ["without", ex.fmt(e_plain), ex.fmt(ex.final(plain, "train_loss"))]]))
    why = f"epochs to reach training loss {ex.fmt(threshold)}: {ex.fmt(e_full)} with the layers, {ex.fmt(e_plain)} without"
    if e_full is not None and e_full == e_plain:
        why += " (a tie within the epoch budget: undecided)"
    result.summary = f"BatchNorm/Dropout speed up learning: {ex.fmt(speed_up)} ({why})."
    if "layers_speed_up" in claims:
        result.verdicts.append(ex.trend_verdict(f"layers_speed_up = {str(ex.claim_bool(pid, claims, 'layers_speed_up')).lower()}",
                                                claims["layers_speed_up"], speed_up, why))
    return result


def p2d_best(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = current_problem() or "tau.p2d"
    claims = ex.check_claim_keys(pid, claims, ("test_accuracy", "tolerance"))
    over = {k: params[k] for k in ("optimizer", "momentum") if k in params}
    outs = ex.run_configs({"full training set": _alexnet_config(params, train_fraction=1.0, eta=params["learning_rate"], **over)})
    out = outs["full training set"]
    result = _p2_result(pid, params, outs, f"Train on the full training set with the epoch budget fixed at {params['epochs']} "
                                            f"({params['optimizer']}, rate {params['learning_rate']:g}); on a machine without a GPU the "
                                            "profile's reduced run is what ran.")
    result.checks.append(_threshold_check(out, params["target_accuracy"], "full training set"))
    result.summary = f"final test accuracy {ex.fmt(ex.final(out, 'test_accuracy'))} (target {params['target_accuracy']:.0%})."
    result.verdicts += filter(None, [ex.accuracy_claim(pid, claims, "test_accuracy", ex.final(out, "test_accuracy"),
                                                       "test accuracy")])
    return result


P2_SCHEMA = """\
Claims by part (all optional):
  tau.p2a: better = "sgd" | "adam" (higher final validation accuracy; both pass when the two are tied within
           two binomial standard errors); final_val_accuracy = 0.4 (Adam run), tolerance
  tau.p2b: unstable = true   (the large Adam rate: divergence, or more oscillation of the validation accuracy
                              and of the training loss than Adam at the small rate)
  tau.p2c: layers_speed_up = true   (fewer epochs to reach the training-loss threshold with BatchNorm and Dropout)"""
p2a_optimizers.CLAIM_SCHEMA = p2b_large_rate.CLAIM_SCHEMA = p2c_no_layers.CLAIM_SCHEMA = P2_SCHEMA
p2d_best.CLAIM_SCHEMA = "Claims: test_accuracy = 0.85 (final test accuracy), tolerance (optional band)."
