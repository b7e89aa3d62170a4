"""Shared pieces of the PyTorch experiment solvers (:mod:`numerics.exp_torch`): building run
configurations from a problem's parameters, deduplicated runs, measurable proxies, oracle checks
and claim verdicts keyed by the value of the compared factor.

Proxies (all computed from the logged per-epoch metrics of our own runs):

- *oscillation* of the validation loss: the mean per-epoch movement that does not contribute to
  the net change, ``(sum |v_{e+1} - v_e| - |v_n - v_1|) / (n - 1)`` over epochs ``1..n``; 0 for a
  monotone curve (the instability proxy);
- *descent*: the mean decrease of the validation loss per epoch from before training to the last
  epoch, ``(v_0 - v_n) / n`` (the slow-convergence proxy; the slowest run has the smallest descent),
  beside the least-squares *slope* over the last half of the epochs (< 0: still falling);
- *overfitting*: the validation loss is lowest before the last epoch, the train loss keeps falling
  after it, and the final validation loss exceeds that minimum by more than 1 % (noise margin).
  When the profile capped the sheet's epochs and no overfitting showed, the flag is "not observed
  within the budget", not "no".

>>> oscillation_excess([3.0, 2.0, 1.0])
0.0
>>> oscillation_excess([1.0, 2.0, 1.0])
1.0
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional

import numpy as np

from numerics import experiment as ex
from problems.context import current
from problems.errors import InputError
from problems.model import Check, Figure, Verdict

# problem parameter -> run configuration key
PARAM_KEYS = {"learning_rate": "eta", "batch_size": "batch_size", "l2": "l2", "weight_decay": "l2",
              "momentum": "momentum", "optimizer": "optimizer", "hidden_size": "hidden_size",
              "hidden_layers": "layers", "dropout": "dropout", "activation": "activation",
              "epochs": "epochs", "seed": "seed", "dataset": "dataset"}
OVERFIT_MARGIN = 0.01


# -- configurations and runs -------------------------------------------------------------------

def _field(kind: str, key: str):
    from numerics.engine import config
    return config.DEFAULTS[kind].get(key)


def typed(kind: str, key: str, value: Any, where: str = "") -> Any:
    """``value`` in the type of the configuration field ``kind.key`` (CLI list overrides arrive as
    strings: ``"0.1"`` -> 0.1); a value that does not parse is a one-line InputError."""
    field = _field(kind, key)
    if field is None or not isinstance(value, str) or field.type is str:
        return value
    try:
        return field.type(float(value)) if field.type is int else field.type(value)
    except (TypeError, ValueError):
        raise InputError(f"{where or key}: {value!r} is not a {field.type.__name__}") from None


def values(params: dict, name: str, kind: str, key: str) -> list:
    """The list parameter ``name`` with its items typed as the configuration field ``key``."""
    raw = params[name]
    if not isinstance(raw, (list, tuple)) or not raw:
        raise InputError(f"parameter {name}: expected a non-empty list, got {raw!r}")
    return [typed(kind, key, v, f"parameter {name}") for v in raw]


def base_config(kind: str, params: dict, **override) -> dict:
    """The run configuration of ``kind`` from the problem's parameters (those the kind knows)."""
    cfg: dict[str, Any] = {"kind": kind}
    for pname, key in PARAM_KEYS.items():
        if pname in params and _field(kind, key) is not None:
            cfg[key] = typed(kind, key, params[pname], f"parameter {pname}")
    cfg.update(override)
    return cfg


def run_unique(configs: dict[str, dict]) -> dict[str, dict]:
    """:func:`numerics.experiment.run_configs` (identical configurations run once; cached runs are read
    in this process)."""
    return ex.run_configs(configs)


def fmt_value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# -- proxies -----------------------------------------------------------------------------------

def _vals(out: dict, key: str = "val_loss") -> list[float]:
    return [r[key] for r in out["metrics"] if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]


def oscillation_excess(v: list[float]) -> Optional[float]:
    """Mean per-epoch movement not explained by the net change (0 for a monotone curve)."""
    if len(v) < 2:
        return None
    path = sum(abs(b - a) for a, b in zip(v, v[1:]))
    return (path - abs(v[-1] - v[0])) / (len(v) - 1)


def oscillation(out: dict) -> Optional[float]:
    return None if out.get("diverged") else oscillation_excess(_vals(out))


def descent(out: dict) -> Optional[float]:
    """Mean decrease of the validation loss per epoch, from before training to the last epoch."""
    v0 = (out.get("initial") or {}).get("val_loss")
    v = _vals(out)
    if v0 is None or not v or out.get("diverged"):
        return None
    return (v0 - v[-1]) / len(out["metrics"])


def unstable(out: dict) -> Optional[bool]:
    """Diverged, or the validation loss moves up and down more per epoch than it descends on average
    (oscillation > |descent|)."""
    if out.get("diverged"):
        return True
    osc, d = oscillation(out), descent(out)
    return None if osc is None or d is None else osc > abs(d)


def late_slope(out: dict) -> Optional[float]:
    return None if out.get("diverged") else ex.slope(_vals(out), 0.5)


def capped(out: dict) -> bool:
    return out["budget"]["epochs"] < out["config"]["epochs"]


def overfit(out: dict) -> dict:
    """The overfitting proxy with a 1 % noise margin; ``flag`` is True, False or None (not observed
    within a capped budget); ``text`` says which, with the numbers."""
    o = ex.overfitting(out)
    e_min, v_min, v_last = o["min_val_loss_epoch"], o["min_val_loss"], o["final_val_loss"]
    rise = (v_last - v_min) / v_min if (v_min and v_last is not None) else None
    seen = bool(o["overfits"] and rise is not None and rise > OVERFIT_MARGIN)
    if out.get("diverged"):
        flag, text = None, "diverged"
    elif seen:
        flag, text = True, (f"yes: validation loss lowest at epoch {e_min} ({ex.fmt(v_min)}), {rise:.1%} higher by "
                            f"epoch {o['last_epoch']} while the train loss kept falling")
    elif capped(out):
        flag, text = None, (f"not observed within the budget ({out['budget']['epochs']} of the sheet's "
                            f"{out['config']['epochs']} epochs; validation loss lowest at epoch {e_min})")
    else:
        flag, text = False, f"no: validation loss lowest at epoch {e_min} of {o['last_epoch']}"
    return {**o, "flag": flag, "text": text, "rise": rise}


def overfit_cell(out: dict) -> str:
    f = overfit(out)["flag"]
    return "yes" if f else "no" if f is False else ("diverged" if out.get("diverged") else "not observed")


# -- figures -----------------------------------------------------------------------------------

def loss_figure(name: str, caption: str, outs: dict[str, dict], keys=("train_loss", "val_loss"),
                ylabel: str = "cross-entropy loss") -> Figure:
    """Loss curves; a log y axis when the plotted values span more than a factor of 30."""
    fig = ex.curves(name, caption, outs, keys, ylabel)
    ys = [y for s in fig.series for y in s.y if y is not None and y > 0]
    if ys and max(ys) / min(ys) > 30:
        fig.yscale = "log"
    return fig


def metric_figures(prefix: str, what: str, outs: dict[str, dict], keys: Iterable[str]) -> list[Figure]:
    """One figure for the loss keys and one for the accuracy keys among ``keys``."""
    keys = list(keys)
    losses = [k for k in keys if k.endswith("_loss")]
    accs = [k for k in keys if k.endswith("_accuracy")]
    figs = []
    if losses:
        names = " and ".join(ex.METRIC_LABELS[k] for k in losses)
        figs.append(loss_figure(f"{prefix} loss", f"{what}: {names} against epoch.", outs, losses))
    if accs:
        names = " and ".join(ex.METRIC_LABELS[k] for k in accs)
        figs.append(ex.curves(f"{prefix} accuracy", f"{what}: {names} against epoch.", outs, accs, "accuracy"))
    return figs


# -- checks ------------------------------------------------------------------------------------

def _train_slice(dataset: str, n: int = 64) -> tuple:
    import torch

    from numerics import datasets
    ds = datasets.load(dataset, current().data_dir)
    X = torch.tensor(np.asarray(ds.X("train")[:n]))
    y = torch.tensor(np.asarray(ds.y("train")[:n]))
    return X, y, ds.n_classes


def ffn_gradient_check(dataset: str, architectures: Iterable[tuple], seed: int = 0) -> Check:
    """The hand-written backward of the engine (``ffn_loss_and_grads``) against autograd on the
    first 64 training examples of the data that runs, for each (hidden sizes, activation)."""
    import torch
    import torch.nn.functional as F

    from numerics.engine.torch_fast import ffn_loss_and_grads, fused_step_error
    from numerics.engine.torch_models import FeedforwardNetwork

    X, y, K = _train_slice(dataset)
    worst, details = 0.0, []
    for hidden, act in dict.fromkeys((tuple(h), a) for h, a in architectures):
        torch.manual_seed(seed)
        model = FeedforwardNetwork(X.shape[1], K, list(hidden), act, dropout=0.0)
        model.train()
        loss = ffn_loss_and_grads(model, X, y)
        mine = [p.grad.clone() for p in model.parameters()]
        model.zero_grad(set_to_none=True)
        with torch.enable_grad():
            ref_loss = F.cross_entropy(model(X), y)
            ref_loss.backward()
        err = max(float((a - p.grad).abs().max() / (p.grad.abs().max() + 1e-12))
                  for a, p in zip(mine, model.parameters()))
        err = max(err, abs(float(loss) - float(ref_loss.detach())), fused_step_error(model, X, y, 0.1, 1e-4))
        worst = max(worst, err)
        details.append(f"{act} {list(hidden)}: {err:.1e}")
    return Check(name="hand-written backward", method=f"engine gradients vs autograd, and one plain-SGD step applied "
                                                      "inside the backward (the path SGD runs take) vs autograd + "
                                                      f"torch.optim.SGD, {len(y)} training examples, every architecture "
                                                      "of the problem (dropout off: its masks are random)",
                 passed=worst <= 1e-4, detail="max relative error " + "; ".join(details))


def logreg_step_check(dataset: str, eta: float, l2: float, batch_size: int, seed: int = 0) -> Check:
    """One optimiser step of the engine's logistic regression against the closed-form update in
    float64, ``W <- W - eta((softmax(XW^T) - Y)^T X / B + l2 W)`` (and the same for b)."""
    import torch

    from numerics.engine import torch_loop, torch_models

    X, y, K = _train_slice(dataset, max(1, min(batch_size, 64)))
    torch.manual_seed(seed)
    model = torch_models.LogisticRegression(X.shape[1], K)
    W0 = model.linear.weight.detach().double().numpy().copy()
    b0 = model.linear.bias.detach().double().numpy().copy()
    opt = torch_loop.make_optimizer("sgd", model.parameters(), eta, 0.0, l2)
    torch_loop.TorchLearner(model, opt, len(y))._step(X, y)
    Xd, B = X.double().numpy(), len(y)
    Z = Xd @ W0.T + b0
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    P[np.arange(B), y.numpy()] -= 1.0                                  # softmax - e_y, (B, K)
    W1 = W0 - eta * (P.T @ Xd / B + l2 * W0)
    b1 = b0 - eta * (P.mean(0) + l2 * b0)
    err = max(np.abs(model.linear.weight.detach().double().numpy() - W1).max(),
              np.abs(model.linear.bias.detach().double().numpy() - b1).max())
    scale = max(np.abs(W1 - W0).max(), 1e-12)
    return Check(name="SGD update", method=f"one engine step (batch {B}, eta {eta:g}, weight decay {l2:g}) vs the "
                                           "closed-form softmax-regression update in float64",
                 passed=bool(err <= 1e-4 * scale + 1e-7), detail=f"max |W_engine - W_formula| = {err:.2g} (step size {scale:.2g})")


def completed_check(outs: dict[str, dict]) -> Check:
    """Every run logged all the epochs of its budget, or stopped at a recorded divergence."""
    bad = [label for label, o in outs.items()
           if not o.get("diverged") and len(o["metrics"]) != o["budget"]["epochs"]]
    div = [label for label, o in outs.items() if o.get("diverged")]
    return Check(name="runs completed", method="epochs logged vs the budget",
                 passed=not bad, detail=(f"incomplete: {', '.join(bad)}. " if bad else "all complete. ")
                 + (f"Diverged (recorded, stopped): {', '.join(div)}." if div else "None diverged."))


def converged_check(label: str, out: dict, what: str) -> Check:
    """The run the sheet expects to train (``what``) did not diverge and lowered its train loss."""
    tr0 = (out.get("initial") or {}).get("train_loss")
    tr = ex.final(out, "train_loss")
    ok = not out.get("diverged") and tr is not None and tr0 is not None and tr < tr0
    return Check(name="trains", method=f"{what} ({label}): no divergence and the train loss falls",
                 passed=ok, detail=(f"diverged: {out.get('diverged_reason')}" if out.get("diverged")
                                    else f"train loss {ex.fmt(tr0)} before training, {ex.fmt(tr)} after"))


def diverged_check(label: str, out: dict, what: str) -> Check:
    """The run did not diverge (the runner's criterion: a non-finite loss or one above 100 x its start)."""
    return Check(name="no divergence", method=f"{what} ({label}): the runner's divergence test",
                 passed=not out.get("diverged"),
                 detail=(f"diverged at epoch {out.get('diverged_epoch')}: {out.get('diverged_reason')}"
                         if out.get("diverged") else f"{len(out['metrics'])} epochs, final train loss "
                                                     f"{ex.fmt(ex.final(out, 'train_loss'))}"))


def chance_check(label: str, out: dict) -> Check:
    K = out["dataset"]["n_classes"]
    acc = ex.final(out, "val_accuracy")
    return Check(name="better than chance", method=f"final validation accuracy of {label} vs 1/K",
                 passed=acc is not None and acc > 1 / K, detail=f"{ex.fmt(acc)} vs chance {1 / K:.3g}")


# -- claims ------------------------------------------------------------------------------------

class Claims:
    """Verdicts on a problem's claims. Claimed run values (``best = 0.01``) are matched with the
    value of the compared factor; maps (``test_accuracy = { "0.01" = 0.8 }``) are keyed by it."""

    def __init__(self, pid: str, claims: Optional[dict], allowed: Iterable[str], labels: dict[str, Any]):
        self.pid = pid
        self.claims = ex.check_claim_keys(pid, claims, list(allowed))
        self.labels = labels                                            # run label -> factor value
        self.outs: dict[str, dict] = {}                                 # set after the runs: each verdict's data
        self.verdicts: list[Verdict] = []
        band = ex.claim_number(pid, self.claims, "tolerance")
        self.band = ex.band_for("accuracy") if band is None else band

    def has(self, key: str) -> bool:
        return key in self.claims

    def label_of(self, key: str, value: Any, labels: Optional[dict[str, Any]] = None) -> str:
        labels = self.labels if labels is None else labels
        for label, v in labels.items():
            if ex._same(value, v):
                return label
        known = ", ".join(fmt_value(v) for v in labels.values())
        raise InputError(f"[{self.pid}] {key}: {value!r} is not one of the compared values ({known})")

    def _scalar(self, key: str) -> Any:
        v = self.claims[key]
        if isinstance(v, (dict, list)):
            raise InputError(f"[{self.pid}] {key} = {v!r}: expected one value")
        return v

    def _table(self, key: str) -> dict:
        v = self.claims[key]
        if not isinstance(v, dict):
            raise InputError(f"[{self.pid}] {key} = {v!r}: expected a table keyed by the compared value, "
                             f'e.g. {key} = {{ "{fmt_value(next(iter(self.labels.values())))}" = ... }}')
        return v

    def choice(self, key: str, measured_label: Optional[str], ranking: str,
               labels: Optional[dict[str, Any]] = None) -> None:
        """``key = value``: the claimed run is the one the proxy picks."""
        if key not in self.claims:
            return
        labels = self.labels if labels is None else labels
        claimed = self._scalar(key)
        self.label_of(key, claimed, labels)                             # a claimed value must exist
        if measured_label is None:
            self.verdicts.append(Verdict(claim=f"{key} = {claimed}", passed=None, evidence=f"undecided: {ranking}"))
            return
        self.verdicts.append(ex.choice_verdict(f"{key} = {claimed}", claimed, labels[measured_label], ranking))

    def best_of(self, key: str, outs: dict[str, dict], ranking: str, metric: str = "val_accuracy",
                higher: bool = True, labels: Optional[dict[str, Any]] = None, worst: bool = False) -> None:
        """``key = value``: the claimed run is the best (``worst``: the worst) by final ``metric``; for an
        accuracy any run tied with it within noise is accepted too (:func:`numerics.experiment.best_set`)."""
        if key not in self.claims:
            return
        labels = self.labels if labels is None else labels
        claimed = self._scalar(key)
        self.label_of(key, claimed, labels)                             # a claimed value must exist
        names = {label: labels[label] for label in outs}
        self.verdicts.append(ex.choice_among(f"{key} = {claimed}", claimed, outs, ranking, metric, higher, names,
                                             pick_worst=worst))

    def _data(self, label: Optional[str] = None) -> Optional[dict]:
        """The dataset a verdict on run ``label`` (None: on all runs) was measured on: a substitute if any."""
        return ex.runs_data([self.outs[label]] if label in self.outs else self.outs)

    def number(self, key: str, measured: Optional[float], what: str, band: Optional[float] = None,
               relative: bool = False) -> None:
        """``key = x``: a number measured over the runs (a time ratio, a difference)."""
        claimed = ex.claim_number(self.pid, self.claims, key)
        if claimed is not None:
            self.verdicts.append(ex.number_verdict(f"{key} = {claimed:g}", claimed, measured,
                                                   self.band if band is None else band, what, relative,
                                                   data=self._data()))

    def best_number(self, key: str, outs: dict[str, dict], metric: str = "test_accuracy",
                    by: str = "val_accuracy") -> None:
        """``key = x``: final ``metric`` of the best run by final ``by``. When runs are tied for best within
        noise (:func:`numerics.experiment.best_set`) each of them is "the best run", so the claim is compared
        with the tied run whose value is closest to it (the evidence names that run)."""
        claimed = ex.claim_number(self.pid, self.claims, key)
        if claimed is None:
            return
        tied = ex.best_set(outs, by)
        values = {label: ex.final(outs[label], metric) for label in tied}
        label = min(tied, key=lambda k: abs(values[k] - claimed) if values[k] is not None else float("inf"))
        what = f"{ex.METRIC_LABELS.get(metric, metric.replace('_', ' '))} of {label}"
        if len(tied) > 1:
            what += (" (tied for best with " + ", ".join(k for k in tied if k != label)
                     + f" by {ex.METRIC_LABELS.get(by, by)} within noise)")
        self.verdicts.append(ex.number_verdict(f"{key} = {claimed:g}", claimed, values[label], self.band, what,
                                               data=self._data(label)))

    def number_map(self, key: str, measured: Callable[[str], Optional[float]], what: str,
                   band: Optional[float] = None) -> None:
        if key not in self.claims:
            return
        for k, claimed in self._table(key).items():
            label = self.label_of(key, k)
            if isinstance(claimed, bool) or not isinstance(claimed, (int, float)):
                raise InputError(f"[{self.pid}] {key}.{k} = {claimed!r}: expected a number")
            self.verdicts.append(ex.number_verdict(f"{key} for {label} = {claimed:g}", float(claimed),
                                                   measured(label), self.band if band is None else band,
                                                   f"{what} of {label}", data=self._data(label)))

    def bool_map(self, key: str, measured: Callable[[str], tuple[Optional[bool], str]]) -> None:
        if key not in self.claims:
            return
        for k, claimed in self._table(key).items():
            label = self.label_of(key, k)
            if not isinstance(claimed, bool):
                raise InputError(f"[{self.pid}] {key}.{k} = {claimed!r}: expected true or false")
            flag, proxy = measured(label)
            self.verdicts.append(ex.trend_verdict(f"{key} for {label} = {str(claimed).lower()}", claimed, flag,
                                                  f"{label}: {proxy}"))

    def flag(self, key: str, measured: Optional[bool], proxy: str) -> None:
        claimed = ex.claim_bool(self.pid, self.claims, key)
        if claimed is not None:
            self.verdicts.append(ex.trend_verdict(f"{key} = {str(claimed).lower()}", claimed, measured, proxy))

    def value_set(self, key: str, measured_labels: list[str], what: str) -> None:
        """``key = [values]``: exactly these runs have the property ``what``."""
        if key not in self.claims:
            return
        v = self.claims[key]
        if not isinstance(v, list):
            raise InputError(f"[{self.pid}] {key} = {v!r}: expected a list of compared values (may be empty)")
        claimed = {self.label_of(key, x) for x in v}
        ok = claimed == set(measured_labels)
        self.verdicts.append(Verdict(
            claim=f"{key} = {v}", passed=ok,
            evidence=(f"measured {what}: {', '.join(measured_labels) or 'none'}; claimed "
                      f"{', '.join(sorted(claimed)) or 'none'}." + ex._decided_on())))


def ranking(outs: dict[str, dict], score: Callable[[dict], Optional[float]], what: str,
            higher: bool = True, digits: int = 4) -> str:
    """``"by what: a 0.9 > b 0.8 > ..."`` (runs without a value listed last)."""
    items = sorted(outs, key=lambda label: (score(outs[label]) is None,
                                            -(score(outs[label]) or 0) if higher else (score(outs[label]) or 0)))
    parts = [f"{label} {ex.fmt(score(outs[label]), digits)}" for label in items]
    return f"Ranking by {what}: " + (" > " if higher else " < ").join(parts) + "."


def pick(outs: dict[str, dict], score: Callable[[dict], Optional[float]], higher: bool = True) -> Optional[str]:
    scored = {label: score(o) for label, o in outs.items() if score(o) is not None}
    if not scored:
        return None
    return (max if higher else min)(scored, key=scored.get)
