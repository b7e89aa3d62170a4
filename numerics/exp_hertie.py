"""hertie.2: the MNIST networks of the Hertie sheet (from scratch, PyTorch, the broken Keras class), the
time-based learning rate, the accuracy curves, the per-epoch progress log and the notebook header.

The sheet fixes no hyper-parameters; the course template's defaults are the problems' parameters
(50 epochs, eta = 0.01, batch 1, random state 1, a 10,000/1,000 subset). Profiles cap them: under
``quick`` these batch-1 loops run on :data:`QUICK_CAPS` (1,000 training and 500 validation images, 10
epochs), so that the three networks fit the report's time budget; ``full`` runs the template exactly.
"""
from __future__ import annotations

import re
from typing import Any, Optional

import numpy as np
import torch

from numerics import experiment as ex
from numerics.exp_mlp import finite_differences
from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Table, Verdict

CHANCE = 0.1
QUICK_CAPS = {"n_train": 1000, "n_val": 500, "epochs": 10}
MARGIN = 0.1            # "clearly above chance": final validation accuracy >= chance + MARGIN


# -- configurations (one builder per network: 2.3a/2.3b rebuild the same dicts, so the cache serves them) --

def _int_list(pid: str, key: str, value) -> list[int]:
    try:
        out = [int(v) for v in value]
    except (TypeError, ValueError):
        raise InputError(f"[{pid}] {key} = {value!r}: expected a list of positive integers") from None
    if not out or any(v <= 0 for v in out):
        raise InputError(f"[{pid}] {key} = {value!r}: expected a list of positive integers")
    return out


def _sizes(pid: str, params: dict) -> list[int]:
    sizes = _int_list(pid, "sizes", params["sizes"])
    if len(sizes) < 2 or sizes[0] != 784 or sizes[-1] != 10:
        raise InputError(f"[{pid}] sizes = {sizes}: expected [784, ..., 10] (28x28 inputs, 10 classes)")
    return sizes


def _budget(params: dict) -> dict:
    """Subset and epochs asked for: the template's values, capped by QUICK_CAPS under the quick profile."""
    n_train, n_val = int(params.get("train_size", 10_000)), int(params.get("val_size", 1_000))
    epochs = int(params["epochs"])
    if current().profile == "quick":
        ex.declare_sheet(epochs=epochs, n_train=n_train, n_val=n_val)
        n_train, n_val = min(n_train, QUICK_CAPS["n_train"]), min(n_val, QUICK_CAPS["n_val"])
        epochs = min(epochs, QUICK_CAPS["epochs"])
    return {"n_train": n_train, "n_val": n_val, "epochs": epochs, "eval_test": False}


def scratch_config(params: dict, pid: str = "hertie.2.1a") -> dict:
    sizes = _sizes(pid, params)
    lo, hi = (float(v) for v in params["init_range"])
    if params["loss"] != "mse":
        raise InputError(f"[{pid}] loss = {params['loss']!r}: the scratch network uses 'mse' (after the softmax)")
    return {"kind": "mlp_numpy", "dataset": "mnist", "hidden_sizes": sizes[1:-1], "activation": "sigmoid",
            "output": "softmax", "loss": "mse", "init": f"uniform:{lo:g},{hi:g}", "bias_init": "zeros",
            "eta": float(params["learning_rate"]), "batch_size": int(params["batch_size"]),
            "seed": int(params["random_state"]), **_budget(params)}


def torch_config(params: dict, pid: str = "hertie.2.1b") -> dict:
    sizes = _sizes(pid, params)
    heads = {"cross_entropy": "ce", "mse": "softmax_mse"}
    if params["loss"] not in heads:
        raise InputError(f"[{pid}] loss = {params['loss']!r}: expected one of {sorted(heads)}")
    return {"kind": "ffn_torch", "dataset": "mnist", "hidden_sizes": sizes[1:-1], "activation": "sigmoid",
            "head": heads[params["loss"]], "eta": float(params["learning_rate"]),
            "batch_size": int(params["batch_size"]), "seed": int(params["random_state"]), **_budget(params)}


def keras_config(params: dict, variant: str) -> dict:
    return {"kind": "keras_net", "dataset": "mnist", "variant": variant, "eta": float(params["learning_rate"]),
            "batch_size": int(params["batch_size"]), "seed": int(params["random_state"]), **_budget(params)}


def _defaults(pid: str) -> dict:
    from problems.registry import get
    return get(pid).defaults()


def three_networks() -> dict[str, dict]:
    """The configurations of 2.1a, 2.1b and 2.2a (fixed) at their problems' defaults."""
    return {"from scratch (2.1a)": scratch_config(_defaults("hertie.2.1a")),
            "PyTorch (2.1b)": torch_config(_defaults("hertie.2.1b")),
            "repaired Keras class (2.2a)": keras_config(_defaults("hertie.2.2a"), "fixed")}


# -- shared checks ------------------------------------------------------------------------------

def asserted() -> bool:
    """The success criterion is asserted under quick and full; the smoke profile (a few hundred updates)
    reports it as information."""
    return current().profile != "smoke"


def success_check(name: str, out: dict) -> Check:
    ok, why = success(out)
    if asserted():
        return Check(name=name, method="validation accuracy before training vs after the last epoch", passed=ok, detail=why)
    return Check(name=name + " (information only under the smoke profile)", passed=True,
                 method="not asserted: the smoke profile runs too few updates", detail=f"{why}; criterion {'met' if ok else 'not met'}")


def success(out: dict) -> tuple[bool, str]:
    """The sheet's success criterion: the accuracy rises over the epochs and ends clearly above chance."""
    _, acc = ex.series(out, "val_accuracy")
    acc = [a for a in acc if a is not None]
    if len(acc) < 2:
        return False, "fewer than two measured epochs"
    final, first = acc[-1], acc[0]
    rises = final > first
    above = final >= CHANCE + MARGIN
    return bool(rises and above and not out["diverged"]), (
        f"validation accuracy {first:.3f} before training -> {final:.3f} after epoch {out['metrics'][-1]['epoch']} "
        f"(chance {CHANCE:.2f}; 'clearly above' = at least {CHANCE + MARGIN:.2f})")


def _finished(out: dict) -> Check:
    return Check(name="the run finished", method="runner status",
                 passed=not out["diverged"] and bool(out["metrics"]),
                 detail=f"{len(out['metrics'])} epochs" + (f"; diverged: {out['diverged_reason']}" if out["diverged"] else ""))


_number_verdicts = ex.number_claims


def _load_slice(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    from numerics import datasets
    ds = datasets.load("mnist", current().data_dir)
    return np.asarray(ds.X("train")[:n]), np.asarray(ds.y("train")[:n])


def scratch_gradient_checks(cfg: dict, n: int = 8) -> list[Check]:
    """The hand-written backward of the scratch network against torch autograd and central finite
    differences (float64, the template's sizes and init, ``n`` real images), and the per-example update
    path (in-place BLAS rank-1 updates, float32) against plain gradient steps on the same examples."""
    from numerics.engine.np_mlp import MLP

    X, y = _load_slice(n)
    sizes = [X.shape[1], *cfg["hidden_sizes"], 10]
    mlp = MLP(sizes, "sigmoid", "softmax", "mse", cfg["init"], cfg["bias_init"], np.random.default_rng(cfg["seed"]))
    mlp.W = [np.asfortranarray(W.astype(np.float64)) for W in mlp.W]
    mlp.b = [b.astype(np.float64) for b in mlp.b]
    X64, Y = X.astype(np.float64), mlp.targets(y).astype(np.float64)
    dW, db = mlp.gradients(X64, Y)
    W = [torch.tensor(w, requires_grad=True) for w in mlp.W]
    b = [torch.tensor(v, requires_grad=True) for v in mlp.b]
    h = torch.tensor(X64)
    for l in range(len(W)):
        z = h @ W[l].T + b[l]
        h = torch.sigmoid(z) if l < len(W) - 1 else torch.softmax(z, dim=1)
    (0.5 * ((h - torch.tensor(Y)) ** 2).sum(1).mean()).backward()
    err_ag = max(float(np.max(np.abs(ours - t.grad.numpy()))) for ours, t in zip(dW + db, W + b))
    scale = max(float(np.max(np.abs(g))) for g in dW + db)
    pairs = finite_differences(lambda: mlp.loss(X64, y), zip(mlp.W, dW), np.random.default_rng(0), 3)
    fd_err = max([0.0] + [abs(fd - g) for fd, g in pairs])
    # the training path: per-example SGD with rank-1 BLAS updates vs naive float64 gradient steps
    fast = MLP(sizes, "sigmoid", "softmax", "mse", cfg["init"], cfg["bias_init"], np.random.default_rng(cfg["seed"]))
    slow = MLP(sizes, "sigmoid", "softmax", "mse", cfg["init"], cfg["bias_init"], np.random.default_rng(cfg["seed"]))
    slow.W = [np.asfortranarray(w.astype(np.float64)) for w in slow.W]
    slow.b = [v.astype(np.float64) for v in slow.b]
    eta = cfg["eta"]
    order = np.random.default_rng(7).permutation(n)
    fast.train_epoch(X, y, np.random.default_rng(7), eta=eta, batch_size=1)
    for i in order:
        gW, gb = slow.gradients(X64[i:i + 1], slow.targets(y[i:i + 1]).astype(np.float64))
        for l in range(len(slow.W)):
            slow.W[l] -= eta * gW[l]
            slow.b[l] -= eta * gb[l]
    step_err = max(float(np.max(np.abs(a - c))) for a, c in zip(fast.W + fast.b, slow.W + slow.b))
    return [
        Check(name="backward pass = autograd", method=f"hand-written gradients vs torch autograd, float64, {n} images",
              passed=err_ag <= 1e-9 * max(1.0, scale), detail=f"max |difference| = {err_ag:.2g} (largest gradient {scale:.2g})"),
        Check(name="backward pass = finite differences", method="central differences (eps 1e-6) at 3 random weights per layer",
              passed=fd_err <= 1e-7, detail=f"max |difference| = {fd_err:.2g}"),
        Check(name="per-example update = gradient step", method=(
            f"one epoch over {n} images: the engine's in-place float32 rank-1 updates vs float64 steps W <- W - eta grad"),
              passed=step_err <= 1e-5, detail=f"max |W_engine - W_naive| = {step_err:.2g}"),
    ]


def torch_gradient_check(cfg: dict, n: int = 8) -> Check:
    """The hand-written backward the PyTorch run trains with against autograd: the gradients
    (``ffn_loss_and_grads``) and one plain-SGD step applied inside the backward (``ffn_sgd_step``, the
    path ``TorchLearner`` takes for SGD) against autograd + ``torch.optim.SGD``, in float64."""
    from numerics.engine.torch_fast import ffn_loss_and_grads, fused_step_error
    from numerics.engine.torch_models import FeedforwardNetwork, head_loss

    if cfg["head"] != "ce":
        return Check(name="backward pass = autograd", method="not applicable: the softmax-MSE head trains through "
                     "autograd itself (no hand-written path to compare)", passed=True, info=True,
                     detail="the run uses autograd")
    X, y = _load_slice(n)
    torch.manual_seed(cfg["seed"])
    model = FeedforwardNetwork(X.shape[1], 10, cfg["hidden_sizes"], "sigmoid", 0.0, "ce").double()
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y)
    model.zero_grad()
    head_loss("ce", model(Xt), yt).backward()
    auto = [p.grad.clone() for p in model.parameters()]
    ffn_loss_and_grads(model, Xt, yt)
    err = max(float((p.grad - a).abs().max()) for p, a in zip(model.parameters(), auto))
    step_err = fused_step_error(model, Xt, yt, cfg["eta"])
    return Check(name="backward pass = autograd",
                 method=(f"ffn_loss_and_grads vs autograd, and one SGD step applied inside the backward (rate {cfg['eta']:g}, "
                         f"the path training takes) vs autograd + torch.optim.SGD; float64, {n} images"),
                 passed=err <= 1e-10 and step_err <= 1e-9,
                 detail=f"max |gradient difference| = {err:.2g}; fused step off by {step_err:.2g} of the step's size")


def _acc_figure(name: str, title: str, outs: dict) -> Figure:
    fig = ex.curves(name, f"{title}: train and validation accuracy against epoch (epoch 0 = before training).",
                    outs, ["train_accuracy", "val_accuracy"], "accuracy")
    fig.hlines = [{"y": CHANCE, "label": "chance (10 %)", "color": "0.5"}]
    return fig


# -- 2.1a / 2.1b ----------------------------------------------------------------------------------

NET_SCHEMA = """\
Claims (all optional; fractions in [0, 1]):
  val_accuracy = 0.8      final validation accuracy
  train_accuracy = 0.85   final train accuracy
  tolerance = 0.05        the band (default: 0.25 smoke, 0.05 quick, 0.02 full)
Checked against the checker's own run with the template's hyper-parameters under the profile's budget."""


def _network(pid: str, params: dict, claims: Optional[dict], cfg: dict, title: str, steps: list[Step],
             oracle: list[Check]) -> Result:
    claims = ex.check_claim_keys(pid, claims, ("val_accuracy", "train_accuracy", "tolerance"))
    outs = ex.run_configs({title: cfg})
    out = outs[title]
    res = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    res.steps = steps + [Step(text=f"Train {out['budget']['epochs']} epochs of SGD with batch size {cfg['batch_size']} "
                                   f"and eta = {cfg['eta']:g}, reshuffling each epoch; log train and validation loss "
                                   "and accuracy after every epoch.")]
    sheet = current().profile == "full"
    res.checks = [_finished(out), *oracle,
                  success_check("success criterion: accuracy rises and ends clearly above chance", out)]
    res.figures = [_acc_figure("accuracy", title, outs)]
    res.tables = [ex.results_table(f"{title}: final metrics.", outs,
                                   metrics=("train_accuracy", "val_accuracy", "train_loss", "val_loss"))]
    res.verdicts = _number_verdicts(pid, claims, {k: ex.final(out, k) for k in ("val_accuracy", "train_accuracy")})
    res.summary = (f"validation accuracy {ex.fmt(ex.final(out, 'val_accuracy'))}, train accuracy "
                   f"{ex.fmt(ex.final(out, 'train_accuracy'))} after {out['budget']['epochs']} epochs"
                   + ("" if sheet else f" (profile {current().profile}: {out['budget']['n']['train']:,} training images)") + ".")
    return res


def from_scratch(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.1a: NumPy network, sigmoid hidden layers, softmax output, MSE, per-example SGD."""
    pid = current_problem() or "hertie.2.1a"
    cfg = scratch_config(params, pid)
    steps = [
        Step(text="Forward pass: sigmoid hidden layers, softmax output; loss: half the squared error between the "
                  "softmax output and the one-hot label.",
             math=r"h^{[l]}=\sigma(W^{[l]}h^{[l-1]}+b^{[l]}),\quad f=\mathrm{softmax}(W^{[L]}h^{[L-1]}+b^{[L]}),\quad "
                  r"L=\tfrac12\lVert f-y\rVert^2", rule="the template's network"),
        Step(text="Backward pass: the output error goes through the softmax Jacobian, then back through each "
                  "sigmoid layer.",
             math=r"\delta^{[L]}=J_{\mathrm{softmax}}^\top(f-y)=f\odot\big((f-y)-f^\top(f-y)\big),\quad "
                  r"\delta^{[l]}=(W^{[l+1]\top}\delta^{[l+1]})\odot h^{[l]}\odot(1-h^{[l]}),\quad "
                  r"\frac{\partial L}{\partial W^{[l]}}=\delta^{[l]}h^{[l-1]\top}", rule="backpropagation"),
        Step(text=f"Weights drawn uniformly from [{cfg['init'].split(':')[1].replace(',', ', ')}) (random state "
                  f"{cfg['seed']}); biases start at 0 (the template has none).", rule="initialisation"),
    ]
    return _network(pid, params, claims, cfg, "from scratch (2.1a)", steps, scratch_gradient_checks(cfg))


from_scratch.CLAIM_SCHEMA = NET_SCHEMA


def pytorch(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.1b: the same network in PyTorch (cross-entropy on the logits, SGD, batch 1)."""
    pid = current_problem() or "hertie.2.1b"
    cfg = torch_config(params, pid)
    loss = (r"L=-\log\mathrm{softmax}(z)_y" if cfg["head"] == "ce"
            else r"L=\tfrac12\lVert\mathrm{softmax}(z)-y\rVert^2")
    steps = [Step(text="The same layer sizes in PyTorch: nn.Linear layers with sigmoid between them; the softmax is "
                       "folded into the loss (torch's default initialisation, seeded).",
                  math=r"h^{[l]}=\sigma(W^{[l]}h^{[l-1]}+b^{[l]}),\quad z=W^{[L]}h^{[L-1]}+b^{[L]},\quad " + loss,
                  rule="nn.Module + torch.optim.SGD")]
    return _network(pid, params, claims, cfg, "PyTorch (2.1b)", steps, [torch_gradient_check(cfg)])


pytorch.CLAIM_SCHEMA = NET_SCHEMA


# -- 2.2a ---------------------------------------------------------------------------------------

# how a claimed defect is recognised: every pattern of one planted defect must occur in the text
DEFECT_PATTERNS = {
    "softmax hidden activation": (r"softmax", r"hidden|intermediate|inner|dense_?1|first|layer activation"),
    "sigmoid output activation": (r"sigmoid", r"output|last|final"),
    "binary cross-entropy for 10 classes": (r"binary|bce",),
}


def match_defects(claimed: list[str]) -> tuple[dict[str, str], list[str]]:
    """``({planted defect: the claim that names it}, [claims naming no planted defect])``.

    >>> match_defects(["Sigmoid on the output layer", "loss is binary_crossentropy", "too few epochs"])[1]
    ['too few epochs']
    """
    from numerics.engine.torch_models import PLANTED_DEFECTS
    assert set(DEFECT_PATTERNS) == set(PLANTED_DEFECTS)
    found, spurious = {}, []
    for text in claimed:
        low = text.lower()
        hits = [d for d, pats in DEFECT_PATTERNS.items() if all(re.search(p, low) for p in pats)]
        if hits:
            for d in hits:
                found.setdefault(d, text)
        else:
            spurious.append(text)
    return found, spurious


BROKEN_SCHEMA = """\
Claims (all optional):
  defects = ["softmax as the hidden activation", "sigmoid output activation", "binary cross-entropy"]
      the mistakes you found; matched against the planted list (each entry must name one planted defect;
      a missing or a spurious entry fails the claim)
  broken_learns = false       whether the class as given learns (accuracy clearly above chance)
  fixed_val_accuracy = 0.8    final validation accuracy of the repaired class
  tolerance = 0.05            band for the number (default: 0.25 smoke, 0.05 quick, 0.02 full)"""


LOSS_NAMES = {"sigmoid_bce": ("BCE", "binary cross-entropy, mean over the 10 sigmoid outputs"),
              "ce": ("CE", "categorical cross-entropy, minus the log softmax probability of the true class")}


def variant_head(variant: str) -> str:
    """The loss head a ``keras_net`` variant trains with, read off the model itself.

    >>> variant_head("broken"), variant_head("fixed")
    ('sigmoid_bce', 'ce')
    """
    from numerics.engine import torch_models
    make = {"broken": torch_models.broken_network, "fixed": torch_models.fixed_network}[variant]
    return make([2, 2, 2]).head


def loss_table(outs: dict[str, dict], variants: dict[str, str]) -> Table:
    """Final metrics of the broken and repaired runs with each run's loss in the column of that loss
    (``--`` where a run does not minimise it): the two losses are different functions, never one column."""
    heads = {label: variant_head(v) for label, v in variants.items()}
    extra = {}
    for head in dict.fromkeys(heads.values()):
        short = LOSS_NAMES[head][0]
        for split, key in (("train", "train_loss"), ("val.", "val_loss")):
            extra[f"{split} {short}"] = {label: ex.final(outs[label], key) for label, h in heads.items() if h == head}
    legend = "; ".join(f"{short}: {long}" for short, long in (LOSS_NAMES[h] for h in dict.fromkeys(heads.values())))
    t = ex.results_table(
        "Broken vs repaired class: final metrics. Each run reports the loss it minimises, in that loss's own "
        f"columns ({legend}); the two losses are different functions on different scales and are not compared.",
        outs, extra=extra, metrics=("train_accuracy", "val_accuracy"))
    first = [c for c in t.columns if c not in extra]                   # losses right after the accuracies
    order = [t.columns.index(c) for c in first[:3] + list(extra) + first[3:]]
    t.columns, t.rows = [t.columns[i] for i in order], [[row[i] for i in order] for row in t.rows]
    return t


def broken_network(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.2a: the class with three planted defects vs its repaired twin."""
    from numerics.engine.torch_models import PLANTED_DEFECTS, SHEET_HIDDEN

    pid = current_problem() or "hertie.2.2a"
    claims = ex.check_claim_keys(pid, claims, ("defects", "broken_learns", "fixed_val_accuracy", "tolerance"))
    outs = ex.run_configs({"broken (as given)": keras_config(params, "broken"),
                           "repaired Keras class (2.2a)": keras_config(params, "fixed")})
    broken, fixed = outs["broken (as given)"], outs["repaired Keras class (2.2a)"]
    ok_b, why_b = success(broken)
    res = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    res.steps = [
        Step(text="The class as given (planted defects): " + "; ".join(PLANTED_DEFECTS) + ".",
             math=r"h=\mathrm{softmax}(Wx+b),\quad f=\sigma(W'h+b'),\quad L=-\tfrac1{10}\sum_k\big[y_k\log f_k+(1-y_k)\log(1-f_k)\big]",
             rule="the broken class"),
        Step(text="Why it fails: a softmax over 128 hidden units squeezes every activation towards 1/128, so the next "
                  "layer sees an almost constant input and its gradient is tiny; ten independent sigmoids with "
                  "binary cross-entropy treat the classes as unrelated yes/no questions, which 90 % 'no' answers "
                  "already satisfy.", rule="diagnosis", gap=True),
        Step(text=f"The repair undoes only the three defects: {SHEET_HIDDEN} hidden layers (the sheet's networks, "
                  "as in 2.1a/2.1b), linear output logits with the softmax inside the loss, categorical "
                  "cross-entropy; sizes, initialisation, optimiser and budget stay as given.",
             math=r"h=\sigma(Wx+b),\quad z=W'h+b',\quad L=-\log\mathrm{softmax}(z)_y", rule="the fixed class"),
    ]
    res.checks = [
        _finished(fixed),
        Check(name="the broken class does not learn", method="success criterion fails for the class as given",
              passed=not ok_b, detail=why_b),
        success_check("the repaired class learns (success criterion)", fixed),
    ]
    res.figures = [ex.curves("broken vs fixed", "The class as given vs the repaired class: validation accuracy "
                             "against epoch.", outs, ["val_accuracy"], "validation accuracy")]
    res.figures[0].hlines = [{"y": CHANCE, "label": "chance (10 %)", "color": "0.5"}]
    res.tables = [loss_table(outs, {"broken (as given)": "broken", "repaired Keras class (2.2a)": "fixed"}),
                  Table(caption="The planted defects and their repairs.", columns=["planted defect", "repair"],
                        rows=[[PLANTED_DEFECTS[0], f"{SHEET_HIDDEN} hidden activation (the sheet's networks)"],
                              [PLANTED_DEFECTS[1], "linear output logits (softmax inside the loss)"],
                              [PLANTED_DEFECTS[2], "categorical (softmax) cross-entropy"]])]
    verdicts = []
    if "defects" in claims:
        listed = claims["defects"]
        if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
            raise InputError(f"[{pid}] defects = {listed!r}: expected a list of strings")
        found, spurious = match_defects(listed)
        missing = [d for d in PLANTED_DEFECTS if d not in found]
        ok = not missing and not spurious
        verdicts.append(Verdict(claim="defects = " + "; ".join(listed), passed=ok, evidence=(
            f"planted: {'; '.join(PLANTED_DEFECTS)}. Found {len(found)}/3"
            + (f"; missing: {'; '.join(missing)}" if missing else "")
            + (f"; not a planted defect: {'; '.join(spurious)}" if spurious else "") + ".")))
    claimed = ex.claim_bool(pid, claims, "broken_learns")
    if claimed is not None:
        verdicts.append(ex.trend_verdict(f"broken_learns = {str(claimed).lower()}", claimed, ok_b,
                                         f"success criterion on the class as given: {why_b}"))
    verdicts += _number_verdicts(pid, claims, {"fixed_val_accuracy": ex.final(fixed, "val_accuracy")})
    res.verdicts = verdicts
    res.summary = (f"broken: validation accuracy {ex.fmt(ex.final(broken, 'val_accuracy'))}; repaired: "
                   f"{ex.fmt(ex.final(fixed, 'val_accuracy'))} after {fixed['budget']['epochs']} epochs.")
    return res


broken_network.CLAIM_SCHEMA = BROKEN_SCHEMA


# -- 2.2b ---------------------------------------------------------------------------------------

def formula(eta0: int, t: int) -> float:
    return float(max(eta0 - t, 1))


def engine_rates(eta0: int, steps_per_epoch: int, epochs: int, every: str) -> list[float]:
    """The learning rate used by each optimisation step of the engine's training loop (TorchLearner with
    ``time_based_scheduler``), on a tiny model: ``epochs * steps_per_epoch`` values."""
    from numerics.engine.torch_loop import TorchLearner, time_based_scheduler

    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    sched = time_based_scheduler(opt, eta0)
    learner = TorchLearner(model, opt, 1, sched, every, fast=False)
    seen: list[float] = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(float(o.param_groups[0]["lr"])))
    X, y = torch.zeros(steps_per_epoch, 2), torch.zeros(steps_per_epoch, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        learner.train_epoch(X, y, g)
    return seen


SCHED_SCHEMA = """\
Claims (all optional):
  sequence = [5, 4, 3, 2, 1, 1]   the rates eta_0, eta_1, ... you computed for the problem's eta0 (t = 0, 1, ...
                                  counting steps or epochs as step_unit says); compared exactly with the formula
                                  and the engine"""


def time_based_rate(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.2b: eta_t = max(eta0 - t, 1), unit-checked in the engine's loop per step and per epoch."""
    pid = current_problem() or "hertie.2.2b"
    claims = ex.check_claim_keys(pid, claims, ("sequence",))
    eta0, unit = params.get("eta0"), params.get("step_unit", "step")
    if isinstance(eta0, bool) or not isinstance(eta0, int) or eta0 < 1:
        raise InputError(f"[{pid}] eta0 = {eta0!r}: expected a positive integer")
    if unit not in ("step", "epoch"):
        raise InputError(f"[{pid}] step_unit = {unit!r}: expected 'step' or 'epoch'")
    spe, epochs = 3, eta0 + 2
    checks = []
    for e0 in sorted({eta0, 1, 2}):
        per_step = engine_rates(e0, spe, epochs, "step")
        per_epoch = engine_rates(e0, spe, epochs, "epoch")
        want_step = [formula(e0, t) for t in range(spe * epochs)]
        want_epoch = [formula(e0, t // spe) for t in range(spe * epochs)]
        checks.append(Check(name=f"eta0 = {e0}, stepped per step", method=(
            f"rate of every optimiser step in the engine's loop ({epochs} epochs x {spe} steps) vs max(eta0 - t, 1)"),
            passed=per_step == want_step, detail=f"first rates {per_step[:8]}"))
        checks.append(Check(name=f"eta0 = {e0}, stepped per epoch", method=(
            "rate of every step vs max(eta0 - epoch, 1), constant within an epoch"),
            passed=per_epoch == want_epoch, detail=f"rates by epoch {per_epoch[::spe]}"))
    from numerics.engine.torch_loop import time_based_factor
    try:
        time_based_factor(0.5)
        refused = False
    except ValueError:
        refused = True
    checks.append(Check(name="eta0 < 1 is refused", method="time_based_factor(0.5) raises ValueError",
                        passed=refused, detail="raised" if refused else "accepted"))
    per_step = engine_rates(eta0, spe, epochs, "step")
    per_epoch = engine_rates(eta0, spe, epochs, "epoch")
    steps = list(range(len(per_step)))
    res = Result(problem_id=pid, params=params, random_state=0,
                 data={"description": "no data: the schedule is checked on a two-parameter model; "
                                      f"{epochs} epochs of {spe} steps.", "runs": {}})
    res.steps = [
        Step(text="The schedule, with t counting optimisation steps (or epochs):",
             math=r"\eta_t=\max(\eta_0-t,\,1),\qquad t=0,1,2,\dots", rule="the sheet's definition"),
        Step(text="In PyTorch: LambdaLR with base rate eta_0 and multiplicative factor max(eta_0 - t, 1)/eta_0, "
                  "stepped after every optimiser step (per step) or after every epoch (per epoch).",
             math=r"\lambda(t)=\max(\eta_0-t,1)/\eta_0", rule="torch.optim.lr_scheduler.LambdaLR"),
        Step(text=f"For eta_0 = {eta0}: the rate reaches 1 after {eta0 - 1} steps (or epochs) and stays there; "
                  "for eta_0 = 1 it is 1 throughout."),
    ]
    res.checks = checks
    res.figures = [Figure(
        name="time-based learning rate",
        caption=(f"The learning rate used by each optimisation step for eta_0 = {eta0}: decreasing by 1 per step "
                 f"vs per epoch ({spe} steps per epoch), measured in the engine's training loop. The rate is "
                 "constant during a step, so it is drawn as steps: a marker is the rate of the step starting there."),
        xlabel="optimisation step", ylabel="learning rate",
        series=[Series("stepped per epoch", steps, per_epoch, "s--", drawstyle="steps-post"),   # under: larger marks
                Series("stepped per step", steps, per_step, "o-", drawstyle="steps-post")],
        hlines=[{"y": 1.0, "label": "floor (1)", "color": "0.5"}])]
    shown = (per_step if unit == "step" else per_epoch[::spe])[:eta0 + 3]
    res.tables = [Table(caption=f"eta_t for eta_0 = {eta0}, t counted in {unit}s.",
                        columns=["t", "eta_t (formula)", "eta_t (engine)"],
                        rows=[[t, ex.fmt(formula(eta0, t)), ex.fmt(v)] for t, v in enumerate(shown)])]
    if "sequence" in claims:
        seq = claims["sequence"]
        if not isinstance(seq, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seq) or not seq:
            raise InputError(f"[{pid}] sequence = {seq!r}: expected a non-empty list of numbers")
        want = [formula(eta0, t) for t in range(len(seq))]
        bad = [t for t, (a, b) in enumerate(zip(seq, want)) if abs(a - b) > 1e-12]
        res.verdicts = [Verdict(claim=f"sequence = {seq}", passed=not bad, evidence=(
            f"eta_t = max({eta0} - t, 1) for t = 0..{len(seq) - 1} (t in {unit}s): {[ex.fmt(v) for v in want]}"
            + (f"; differs at t = {bad}" if bad else "; identical") + "."))]
    res.summary = f"eta_t = max({eta0} - t, 1): {[ex.fmt(v) for v in (formula(eta0, t) for t in range(eta0 + 2))]}; per step and per epoch verified."
    return res


time_based_rate.CLAIM_SCHEMA = SCHED_SCHEMA


# -- 2.3a / 2.3b ------------------------------------------------------------------------------------

def accuracy_curves(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.3a: train and validation accuracy against epoch for the three networks (cached runs)."""
    pid = current_problem() or "hertie.2.3a"
    ex.check_claim_keys(pid, claims, ())
    outs = ex.run_configs(three_networks())
    res = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    res.steps = [Step(text="The runs of 2.1a, 2.1b and 2.2a (repaired class) with their problems' parameters "
                           "(the same configurations, served from the cache); one figure per network.")]
    res.figures = [_acc_figure(f"accuracy {i + 1}", label, {label: out}) for i, (label, out) in enumerate(outs.items())]
    res.checks = []
    for label, out in outs.items():
        res.checks.append(success_check(f"{label}: accuracy rises, ends above chance", out))
    res.checks.append(Check(name="one figure per network with both curves", method="series per figure",
                            passed=all(len(f.series) == 2 for f in res.figures), detail=f"{len(res.figures)} figures"))
    res.tables = [ex.results_table("The three networks: final metrics.", outs,
                                   metrics=("train_accuracy", "val_accuracy", "train_loss", "val_loss"))]
    res.summary = "; ".join(f"{label}: validation accuracy {ex.fmt(ex.final(o, 'val_accuracy'))}" for label, o in outs.items()) + "."
    return res


LOG_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "wall_time")


def progress_log(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.3b: the per-epoch progress of each network as a table, with a completeness check."""
    pid = current_problem() or "hertie.2.3b"
    ex.check_claim_keys(pid, claims, ())
    outs = ex.run_configs(three_networks())
    res = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    res.steps = [Step(text="After every epoch the runner logs the train and validation loss and accuracy and the "
                           "epoch's wall time (the line a notebook prints), and shows them on a progress bar; "
                           "the tables are those logs.")]
    for label, out in outs.items():
        rows = out["metrics"]
        epochs = [r["epoch"] for r in rows]
        want = list(range(1, out["budget"]["epochs"] + 1))
        missing = [(r["epoch"], k) for r in rows for k in LOG_KEYS
                   if not isinstance(r.get(k), (int, float)) or not np.isfinite(r.get(k))]
        res.checks.append(Check(name=f"{label}: every epoch logged", method=(
            "epochs 1..E present in order, each with " + ", ".join(LOG_KEYS)),
            passed=epochs == want and not missing,
            detail=f"{len(rows)}/{len(want)} epochs" + (f"; missing values {missing[:5]}" if missing else "")))
        res.tables.append(Table(
            caption=f"{label}: progress per epoch. {ex.data_note({label: out})}",
            columns=["epoch", "train loss", "train acc.", "val. loss", "val. acc.", "time (s)"],
            rows=[[r["epoch"]] + [ex.fmt(r.get(k)) for k in LOG_KEYS[:-1]] + [ex.fmt(r.get("wall_time"), 3)] for r in rows]))
    res.summary = f"{len(outs)} networks, every epoch logged." if res.checks_passed else "some epochs are not logged."
    return res


# -- 2.3c ---------------------------------------------------------------------------------------

def notebook_header(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.2.3c: administrative; nothing to check. The report's title page carries the header."""
    pid = current_problem() or "hertie.2.3c"
    ex.check_claim_keys(pid, claims, ())
    res = Result(problem_id=pid, params=params)
    res.steps = [
        Step(text="The notebook header is administrative (names, student numbers, group, contributions); the sheet "
                  "asks no technical question here, so there is nothing to check."),
        Step(text="In this report the header is the title page, filled from the [report] table of the answers "
                  "file: title, course, group, date, authors (each with name and student_number) and "
                  "contributions. A report built without that table has a generic title page.",
             rule="[report] metadata"),
    ]
    res.summary = "administrative: nothing to check; the header is the report's title page ([report] table)."
    return res


notebook_header.CLAIM_SCHEMA = "No claims: the header is administrative. Put it in the answers file's [report] table."


accuracy_curves.CLAIM_SCHEMA = ("No claims: the figures are the answer. Claims about the accuracies go to "
                                "hertie.2.1a, hertie.2.1b and hertie.2.2a.")
progress_log.CLAIM_SCHEMA = "No claims: the per-epoch log is the answer (every epoch is checked to be logged)."
