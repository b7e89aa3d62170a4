"""Experiments with the NumPy multilayer perceptron (hand-written backpropagation, per-example SGD):
ist23.q1.2b, ist24.q1.3a, ist21.q3.2b.

Any width, depth, activation and normal initialisation, from the problem's parameters. Before the
numbers are trusted, the engine's backpropagation is compared with PyTorch autograd and with central
finite differences on a small slice of the data that runs, and its per-example SGD loop (in-place
BLAS rank-1 updates) with a plain autograd SGD loop over the same examples in the same order.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from numerics import experiment as ex
from numerics.exp_linear import (ACCURACY_KEYS, PUBLISHED_SOURCE, budget_keys, budget_note, chance_check,
                                 finished_check, keys_phrase, number_verdicts, one_thread, plot_keys,
                                 published_reference)
from numerics.engine.np_ops import parse_init
from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Check, Result, Step

ACTIVATIONS = ("relu", "sigmoid", "tanh")


def mlp_config(params: dict, pid: str = "mlp") -> dict:
    """The run configuration of the problem's MLP (identical dicts are one cached run)."""
    hidden = params.get("hidden_sizes") or [200]
    try:
        hidden = [int(h) for h in hidden]
    except (TypeError, ValueError):
        raise InputError(f"[{pid}] hidden_sizes = {params.get('hidden_sizes')!r}: expected positive integers") from None
    if any(h <= 0 for h in hidden):
        raise InputError(f"[{pid}] hidden_sizes = {hidden!r}: expected positive integers")
    if params.get("activation", "relu") not in ACTIVATIONS:
        raise InputError(f"[{pid}] activation {params.get('activation')!r}: expected one of {', '.join(ACTIVATIONS)}")
    mean, std = float(params.get("init_mean", 0.1)), float(params.get("init_std", 0.1))
    if not std > 0:
        raise InputError(f"[{pid}] init_std = {std!r}: expected a positive number")
    init = params.get("init") or f"normal:{mean:g},{std:g}"       # any spec of np_ops.draw overrides mean/std
    try:
        parse_init(init)
    except ValueError as exc:
        raise InputError(f"[{pid}] {exc}") from None
    return {"kind": "mlp_numpy", "dataset": params["dataset"], "epochs": params["epochs"], "seed": params["seed"],
            "hidden_sizes": hidden, "activation": params.get("activation", "relu"),
            "init": init, "bias_init": "zeros", "eta": float(params.get("learning_rate", 0.001)),
            "batch_size": 1, **budget_keys(params["dataset"])}


# -- oracles ---------------------------------------------------------------------------------------

def _slice(dataset: str, n: int):
    from numerics import datasets

    ds = datasets.load(dataset, current().data_dir)
    return np.asarray(ds.X("train")[:n]), np.asarray(ds.y("train")[:n]), ds.n_classes


# a second, generic point for the gradient oracles: centred weights and positive biases keep hidden
# pre-activations away from the ReLU kink at exactly 0 (where finite differences see 1/2, not 0)
GENERIC = ("normal:0,0.1", "uniform:0.05,0.15")


def _model(cfg: dict, n_in: int, K: int, init: Optional[tuple[str, str]] = None, seed: int = 0):
    from numerics.engine.np_mlp import MLP

    w, b = init or (cfg["init"], cfg["bias_init"])
    return MLP([n_in, *cfg["hidden_sizes"], K], cfg["activation"], "softmax", "ce", w, b,
               np.random.default_rng([cfg["seed"], seed]))


def _points(cfg: dict) -> dict[str, tuple[str, str]]:
    return {f"the problem's init (W {cfg['init']}, b {cfg['bias_init']})": (cfg["init"], cfg["bias_init"]),
            f"a generic point (W {GENERIC[0]}, b {GENERIC[1]})": GENERIC}


def _torch_forward(Ws, bs, X, activation: str):
    import torch

    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    z = X
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = z @ W.T + b
        if i < len(Ws) - 1:
            z = act(z)
    return z                                                           # logits (B, K)


def _autograd(model, X: np.ndarray, y: np.ndarray):
    """Gradients of the mean cross-entropy by torch autograd, float64, from the model's weights."""
    import torch

    Ws = [torch.tensor(np.asarray(W, np.float64), requires_grad=True) for W in model.W]
    bs = [torch.tensor(np.asarray(b, np.float64), requires_grad=True) for b in model.b]
    logits = _torch_forward(Ws, bs, torch.tensor(X, dtype=torch.float64), model.activation)
    torch.nn.functional.cross_entropy(logits, torch.tensor(y)).backward()
    return [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


def _rel_err(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    num = max(float(np.max(np.abs(np.asarray(x, np.float64) - y))) for x, y in zip(a, b))
    den = max(max(float(np.max(np.abs(y))) for y in b), 1e-12)
    return num / den


@one_thread
def autograd_check(cfg: dict, n: int = 16) -> Check:
    """Engine ``MLP.gradients`` (float32) vs torch autograd (float64) on ``n`` training examples,
    at the problem's initialisation (softmax saturated) and at a generic point."""
    from numerics.engine.np_ops import one_hot

    X, y, K = _slice(cfg["dataset"], n)
    errs = {}
    for name, init in _points(cfg).items():
        model = _model(cfg, X.shape[1], K, init)
        dW, db = model.gradients(X, one_hot(y, K))
        tW, tb = _autograd(model, X, y)
        errs[name] = _rel_err(dW + db, tW + tb)
    worst = max(errs.values())
    return Check(name="backpropagation vs autograd", method=f"engine gradients (float32) vs torch autograd (float64), "
                 f"{n} training examples, sizes {[X.shape[1], *cfg['hidden_sizes'], K]}, at {' and '.join(errs)}",
                 passed=bool(worst <= 1e-4), detail="max relative error " + "; ".join(f"{v:.2g} at {k.split(' (')[0]}"
                                                                                    for k, v in errs.items())
                 + " (tolerance 1e-4 of the largest gradient entry)")


def finite_differences(loss: Callable[[], float], params_and_grads, rng: np.random.Generator, entries: int,
                       h: float = 1e-6):
    """``(central difference, analytic)`` at ``entries`` random entries of each ``(P, G)`` pair: ``P`` is
    perturbed in place (and restored) and ``loss()`` re-evaluated; entries drawn in order from ``rng``."""
    for P, G in params_and_grads:
        for _ in range(entries):
            idx = tuple(int(rng.integers(s)) for s in P.shape)
            old = P[idx]
            P[idx] = old + h
            up = loss()
            P[idx] = old - h
            down = loss()
            P[idx] = old
            yield (up - down) / (2 * h), G[idx]


@one_thread
def finite_difference_check(cfg: dict, n: int = 4, entries: int = 5, h: float = 1e-6) -> Check:
    """Engine gradients in float64 vs central differences of the engine's loss on ``entries`` random
    entries of every weight matrix and bias vector, at the problem's init and at a generic point."""
    from numerics.engine.np_ops import one_hot

    X, y, K = _slice(cfg["dataset"], n)
    X = X.astype(np.float64)
    rng = np.random.default_rng(cfg["seed"])
    worst = 0.0
    for init in _points(cfg).values():
        model = _model(cfg, X.shape[1], K, init)
        model.W = [np.asarray(W, np.float64) for W in model.W]
        model.b = [np.asarray(b, np.float64) for b in model.b]
        dW, db = model.gradients(X, one_hot(y, K).astype(np.float64))
        scale = max(max(float(np.abs(g).max()) for g in dW + db), 1e-12)
        pairs = finite_differences(lambda: model.loss(X, y), list(zip(model.W, dW)) + list(zip(model.b, db)),
                                   rng, entries, h)
        worst = max([worst] + [abs(fd - g) / scale for fd, g in pairs])
    return Check(name="backpropagation vs finite differences", method=f"central differences (h = {h:g}, float64) on "
                 f"{entries} random entries of every W_l and b_l, {n} training examples, at the problem's init and a generic point",
                 passed=bool(worst <= 1e-5), detail=f"max |FD - backprop| / max |gradient| = {worst:.2g} (tolerance 1e-5)")


@one_thread
def sgd_loop_check(cfg: dict, n: int = 24) -> Check:
    """One epoch of the engine's per-example SGD (preallocated buffers, in-place BLAS rank-1 updates)
    vs a plain torch autograd SGD loop (float64) over the same ``n`` examples in the same order."""
    import torch

    X, y, K = _slice(cfg["dataset"], n)
    model = _model(cfg, X.shape[1], K)
    Ws = [torch.tensor(np.asarray(W, np.float64), requires_grad=True) for W in model.W]
    bs = [torch.tensor(np.asarray(b, np.float64), requires_grad=True) for b in model.b]
    eta = cfg["eta"]
    model.train_epoch(X, y, np.random.default_rng(cfg["seed"]), eta=eta, batch_size=1)
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y)
    for i in np.random.default_rng(cfg["seed"]).permutation(n):
        logits = _torch_forward(Ws, bs, Xt[i:i + 1], cfg["activation"])
        loss = torch.nn.functional.cross_entropy(logits, yt[i:i + 1])
        grads = torch.autograd.grad(loss, Ws + bs)
        with torch.no_grad():
            for p, g in zip(Ws + bs, grads):
                p -= eta * g
    ref = [p.detach().numpy() for p in Ws + bs]
    err = _rel_err(model.W + model.b, ref)
    return Check(name="per-example SGD loop vs autograd SGD", method=f"engine train_epoch (batch 1, float32, in-place "
                 f"rank-1 updates) vs a torch autograd loop (float64), {n} examples, same order, eta = {eta:g}",
                 passed=bool(err <= 1e-4), detail=f"max |W_engine - W_autograd| / max |W| = {err:.2g} (tolerance 1e-4)")


# -- the solver -------------------------------------------------------------------------------------

def _init_text(spec: str) -> str:
    kind, p, q = parse_init(spec)
    return {"normal": f"N({p:g}, {q:g}^2)", "uniform": f"U({p:g}, {q:g})", "zeros": "0"}[kind]


MLP_SCHEMA = """\
Claims (all optional; fractions in [0, 1]):
  test_accuracy = 0.75     final test accuracy (also train_accuracy, val_accuracy)
  train_loss = 0.6         final train loss (mean cross-entropy)
  tolerance = 0.03         band for the accuracies (default: 0.25 smoke, 0.05 quick, 0.02 full)
  loss_tolerance = 0.2     relative band for the loss (default 0.5 smoke, 0.25 quick, 0.1 full)
  overfits = false         the validation loss bottoms out before the last epoch while the
                           train loss keeps falling (the checker's overfitting proxy)"""

LOSS_BAND = {"smoke": 0.5, "quick": 0.25, "full": 0.1}


def mlp(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """One-hidden-layer (or deeper) MLP with hand-written backprop and per-example SGD."""
    pid = current_problem() or "mlp"
    claims = ex.check_claim_keys(pid, claims, ACCURACY_KEYS + ("train_loss", "tolerance", "loss_tolerance", "overfits"))
    cfg = mlp_config(params, pid)
    keys = plot_keys(pid, params, ("train_accuracy", "val_accuracy"))
    outs = ex.run_configs({"MLP": cfg})
    out = outs["MLP"]
    sizes = [out["dataset"]["shapes"]["train"][1] if out["dataset"].get("shapes") else "D",
             *cfg["hidden_sizes"], out["dataset"]["n_classes"]]

    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    act = cfg["activation"]
    result.steps = [
        Step(text=f"Network {'-'.join(map(str, sizes))}: {act} hidden layers with biases, softmax output, mean "
                  f"cross-entropy; weights drawn from {_init_text(cfg['init'])}, biases 0.",
             math=r"z_l=W_l a_{l-1}+b_l,\quad a_l=g(z_l),\quad \hat p=\mathrm{softmax}(z_L),\quad L=-\log\hat p_y",
             rule="forward pass"),
        Step(text="Backpropagation: the output error, then each layer's error from the one above.",
             math=r"\delta_L=\hat p-e_y,\quad \delta_l=(W_{l+1}^\top\delta_{l+1})\odot g'(z_l),\quad "
                  r"\nabla_{W_l}L=\delta_l a_{l-1}^\top,\quad \nabla_{b_l}L=\delta_l",
             rule="chain rule"),
        Step(text=f"Per-example SGD with eta = {cfg['eta']:g} for {out['budget']['epochs']} epochs, data reshuffled "
                  "every epoch." + budget_note(outs),
             math=r"W_l\leftarrow W_l-\eta\,\delta_l a_{l-1}^\top,\quad b_l\leftarrow b_l-\eta\,\delta_l",
             rule="SGD"),
    ]
    result.checks = [finished_check("MLP", out), autograd_check(cfg), finite_difference_check(cfg),
                     sgd_loop_check(cfg), chance_check("MLP", out)]
    result.figures = [
        ex.curves("train-loss", "MLP: train loss against epoch.", outs, ["train_loss"], "mean cross-entropy"),
        ex.curves("accuracy", f"MLP: {keys_phrase(keys)} against epoch.", outs, keys, "accuracy"),
    ]
    first_loss = out["initial"].get("train_loss")
    if first_loss is not None:
        result.figures[0].caption = result.figures[0].caption.replace(
            " Data:", f" Before training (epoch 0) the loss is {ex.fmt(first_loss)}. Data:", 1)
    if (first_loss or 0) > 20 * max(ex.final(out, "train_loss") or 1.0, 1e-9):
        result.figures[0].yscale = "log"                    # the sheet's init starts far above the final loss
    ov = ex.overfitting(out)
    extra = {"min val loss epoch": {"MLP": ov["min_val_loss_epoch"]}}
    ref = published_reference(out, "mlp")
    caption = "MLP: final metrics."
    if ref is not None:
        extra["published test acc."] = {"MLP": ref}
        caption += " The last column is a " + PUBLISHED_SOURCE + "; ours ran on the budget stated below."
    result.tables = [ex.results_table(caption, outs, extra=extra, metrics=ACCURACY_KEYS + ("train_loss",))]

    result.verdicts = number_verdicts(pid, claims, {k: ex.final(out, k) for k in ACCURACY_KEYS})
    loss_claim = ex.claim_number(pid, claims, "train_loss")
    if loss_claim is not None:
        band = ex.claim_number(pid, claims, "loss_tolerance")
        band = LOSS_BAND[current().profile] if band is None else band
        result.verdicts.append(ex.number_verdict(f"train_loss = {loss_claim:g}", loss_claim, ex.final(out, "train_loss"),
                                                 band, "final train loss", relative=True))
    overfits = ex.claim_bool(pid, claims, "overfits")
    if overfits is not None:
        proxy = (f"validation loss lowest at epoch {ov['min_val_loss_epoch']} of {ov['last_epoch']} "
                 f"({ex.fmt(ov['min_val_loss'])}; final {ex.fmt(ov['final_val_loss'])}); overfitting means that minimum "
                 "comes before the last epoch while the train loss keeps falling")
        result.verdicts.append(ex.trend_verdict(f"overfits = {str(overfits).lower()}", overfits, ov["overfits"], proxy))
    acc = ", ".join(f"{ex.METRIC_LABELS[k]} {ex.fmt(ex.final(out, k))}" for k in ACCURACY_KEYS)
    result.summary = f"final {acc}, train loss {ex.fmt(ex.final(out, 'train_loss'))} after {out['budget']['epochs']} epochs."
    return result


mlp.CLAIM_SCHEMA = MLP_SCHEMA
