"""Experiments with linear models written in NumPy: the multi-class perceptron and multinomial
logistic regression (plain, L2, L1 by subgradient and by proximal step).

The pattern of an experiment solver: parameters -> run configurations -> :func:`run_configs`
-> figures, a table, proxies, claim verdicts, with the data that ran on the page.

Solvers (all share the run configurations built by :func:`logreg_config`, so the same model asked
by two problems is one cached run):

- :func:`perceptron`: ist23.q1.1a, ist24.q1.1a, ist21.q3.1a;
- :func:`logistic_regression`: ist23.q1.1b (two rates), ist24.q1.2a, ist24.q1.2b (none vs L2),
  ist21.q3.1b;
- :func:`weight_norms`: ist24.q1.2c (||W||_F against epoch, growing vs saturating);
- :func:`l1_weights`: ist24.q1.2d (L1 by subgradient and by proximal step against L2).

>>> soft_threshold(np.array([-0.3, 0.05, 0.2]), 0.1).round(3).tolist()
[-0.2, 0.0, 0.1]
"""
from __future__ import annotations

import copy
import functools
import importlib
import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import sympy as sp

from numerics import experiment as ex
from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Verdict

ACCURACY_KEYS = ("train_accuracy", "val_accuracy", "test_accuracy")

# The quick profile caps every run at 5,000/1,000/2,000 examples and 20 epochs. Intel has 6,912
# features: one SGD step of logistic regression costs 120-250 us here (9x OCTMNIST's), so under
# `quick` this module also caps its training set (the cap is part of the configuration, hence of
# the cache key, and is printed on the page). `smoke` and `full` are left alone.
QUICK_TRAIN_CAP = {"intel": 2500}

# Fashion-MNIST's published scikit-learn benchmark (zalandoresearch/fashion-mnist, benchmark table;
# full 60,000/10,000 data): shown beside our number only when Fashion-MNIST itself ran.
PUBLISHED = {"logreg": 0.842, "mlp": 0.871}
PUBLISHED_SOURCE = ("published reference: scikit-learn benchmark in the Fashion-MNIST repository "
                    "(zalandoresearch/fashion-mnist; LogisticRegression 0.842, MLPClassifier 0.871, "
                    "trained on all 60,000 images)")


# -- shared helpers (also used by numerics.exp_mlp) ----------------------------------------------

def one_thread(fn):
    """Run ``fn`` with BLAS/OpenMP limited to one thread, as the runner does for per-example loops
    (a rank-1 update on two threads of a busy machine is 10-20x slower than on one)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return fn(*args, **kwargs)
    return wrapper


def budget_keys(dataset: str) -> dict:
    """Configuration keys this module adds under the current profile (see QUICK_TRAIN_CAP)."""
    if current().profile == "quick" and dataset in QUICK_TRAIN_CAP:
        return {"n_train": QUICK_TRAIN_CAP[dataset]}
    return {}


def budget_note(outs: dict[str, dict]) -> str:
    """A sentence on this module's own cap, or '' when none applied."""
    capped = {o["config"]["dataset"]: o["config"]["n_train"] for o in outs.values()
              if o["config"].get("n_train") and o["profile"] == "quick"}
    return "".join(f" Under the quick profile this solver caps the {name} training set at {n:,} examples "
                   "(6,912 features make each SGD step about 9x costlier than on 784-feature data); "
                   "the full profile uses all of it." for name, n in capped.items())


def published_reference(out: dict, model: str) -> Optional[float]:
    """The published test accuracy for ``model`` when the data that ran is Fashion-MNIST itself."""
    ds = out["dataset"]
    return PUBLISHED[model] if ds["name"] == "fashion-mnist" and not ds["substitute"] else None


def finished_check(label: str, out: dict) -> Check:
    return Check(name=f"{label}: the run finished without diverging", method="runner status",
                 passed=not out["diverged"] and bool(out["metrics"]),
                 detail=f"{len(out['metrics'])} epochs" + (f"; diverged: {out['diverged_reason']}" if out["diverged"] else ""))


def chance_check(label: str, out: dict) -> Check:
    """Final validation accuracy (train when no validation split ran) above 1/K; asserted under quick
    and full, information only under smoke (two epochs on 256 examples need not learn, e.g. the MLP with
    the sheets' N(0.1, 0.1^2) init)."""
    k = out["dataset"]["n_classes"]
    key = "val_accuracy" if ex.final(out, "val_accuracy") is not None else "train_accuracy"
    acc = ex.final(out, key)
    above = (acc or 0) > 1 / k
    info = out["profile"] == "smoke"
    return Check(name=f"{label}: better than chance", method=f"final {ex.METRIC_LABELS[key]} vs 1/K"
                 + (" (information only under the smoke profile)" if info else ""),
                 passed=bool(above or info), info=info and not above,
                 detail=f"{ex.METRIC_LABELS[key]} {ex.fmt(acc)}, chance {1 / k:.3g}"
                 + ("" if above else ": not above chance"))


number_verdicts = ex.number_claims




def plot_keys(pid: str, params: dict, default: tuple[str, ...]) -> list[str]:
    keys = list(params.get("plot") or default)
    for k in keys:
        if k not in ex.METRIC_LABELS:
            raise InputError(f"[{pid}] plot key {k!r}: expected metric names such as {', '.join(ACCURACY_KEYS)}")
    return keys


def keys_phrase(keys: list[str]) -> str:
    names = [ex.METRIC_LABELS[k] for k in keys]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# -- the perceptron ------------------------------------------------------------------------------

PERCEPTRON_SCHEMA = """\
Claims (all optional; numbers are fractions in [0, 1]):
  train_accuracy = 0.55   final train accuracy
  val_accuracy = 0.54     final validation accuracy
  test_accuracy = 0.52    final test accuracy
  tolerance = 0.03        the band for the numbers above (default: 0.25 smoke, 0.05 quick, 0.02 full)
A claimed number passes when it lies within the band of the accuracy measured by the checker's own
run (same hyper-parameters, the profile's budget; the verdict names the profile)."""


@one_thread
def perceptron_oracle_check(dataset: str, seed: int, n: int = 300) -> Check:
    """The engine's perceptron against a naive float64 loop written from the sheet's update,
    on the first ``n`` training examples of the data that runs, one epoch, the same order."""
    from numerics import datasets
    from numerics.engine.np_linear import Perceptron

    ds = datasets.load(dataset, current().data_dir)
    X, y = np.asarray(ds.X("train")[:n]), np.asarray(ds.y("train")[:n])
    K = ds.n_classes
    order = np.random.default_rng(seed).permutation(len(y))
    model = Perceptron(X.shape[1], K)
    model.train_epoch(X, y, np.random.default_rng(seed))
    W = np.zeros((K, X.shape[1] + 1))                      # naive: [W | b], float64
    for i in order:
        x = np.append(X[i].astype(np.float64), 1.0)
        y_hat = int(np.argmax(W @ x))
        if y_hat != y[i]:
            W[y[i]] += x
            W[y_hat] -= x
    err = float(np.max(np.abs(W - model.W)))
    return Check(name="update rule", method=f"engine vs a naive float64 loop of the sheet's update ({len(y)} examples, 1 epoch)",
                 passed=err <= 1e-3, detail=f"max |W_engine - W_naive| = {err:.2g}")


def perceptron(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """Multi-class perceptron (ist23.q1.1a, ist24.q1.1a, ist21.q3.1a); ``plot`` names the curves."""
    pid = current_problem() or "perceptron"
    claims = ex.check_claim_keys(pid, claims, ACCURACY_KEYS + ("tolerance",))
    keys = plot_keys(pid, params, ("train_accuracy", "val_accuracy"))
    cfg = {"kind": "perceptron", "dataset": params["dataset"], "epochs": params["epochs"], "seed": params["seed"],
           **budget_keys(params["dataset"])}
    outs = ex.run_configs({"perceptron": cfg})
    out = outs["perceptron"]

    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = [
        Step(text="Predict with the highest score; on a mistake move the true class's weights towards x "
                  "and the predicted class's away from it (weights start at 0, a constant-1 feature is appended).",
             math=r"\hat y=\arg\max_k w_k^\top x,\quad w_y\leftarrow w_y+x,\quad w_{\hat y}\leftarrow w_{\hat y}-x",
             rule="the sheet's update"),
        Step(text=f"Train {out['budget']['epochs']} epochs of per-example updates, reshuffling every epoch; "
                  "log the train, validation and test accuracy after each epoch." + budget_note(outs)),
    ]
    result.checks = [
        finished_check("perceptron", out),
        perceptron_oracle_check(params["dataset"], params["seed"]),
        chance_check("perceptron", out),
    ]
    result.figures = [ex.curves("accuracy", f"Perceptron: {keys_phrase(keys)} against epoch.", outs,
                                keys, "accuracy")]
    result.tables = [ex.results_table("Perceptron: final accuracies.", outs,
                                      metrics=("train_accuracy", "val_accuracy", "test_accuracy"))]
    result.verdicts = number_verdicts(pid, claims, {k: ex.final(out, k) for k in ACCURACY_KEYS})
    acc = ", ".join(f"{ex.METRIC_LABELS[k]} {ex.fmt(ex.final(out, k))}" for k in ACCURACY_KEYS)
    result.summary = f"final {acc} after {out['budget']['epochs']} epochs."
    return result


perceptron.CLAIM_SCHEMA = PERCEPTRON_SCHEMA


# -- logistic regression: runs -------------------------------------------------------------------

PENALTY_LABELS = {"none": "unregularised", "l2": "L2", "l1_subgradient": "L1 subgradient",
                  "l1_proximal": "L1 proximal"}
_PENALTY_ALIASES = {"none": "none", "unregularised": "none", "unregularized": "none", "no penalty": "none",
                    "l2": "l2", "ridge": "l2", "l1_subgradient": "l1_subgradient", "subgradient": "l1_subgradient",
                    "l1 subgradient": "l1_subgradient", "l1_proximal": "l1_proximal", "proximal": "l1_proximal",
                    "l1 proximal": "l1_proximal"}


@dataclass
class Run:
    """One configuration of a comparison: ``key`` is what claims name, ``label`` what the page shows."""

    key: str
    label: str
    cfg: dict
    eta: float
    penalty: str
    lam: float


def logreg_config(dataset: str, seed: int, epochs: int, eta: float, penalty: str = "none", lam: float = 0.0) -> dict:
    """The run configuration of one logistic regression (identical dicts are one cached run)."""
    return {"kind": "logreg_numpy", "dataset": dataset, "epochs": epochs, "seed": seed, "eta": float(eta),
            "penalty": penalty, "lam": float(lam) if penalty != "none" else 0.0, **budget_keys(dataset)}


def _float_list(pid: str, name: str, values: Any) -> list[float]:
    values = values if isinstance(values, (list, tuple)) else [values]
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise InputError(f"[{pid}] parameter {name}: {v!r} is not a number") from None
        if isinstance(v, bool) or not math.isfinite(f) or f <= 0:
            raise InputError(f"[{pid}] parameter {name}: {v!r} must be a positive number")
        out.append(f)
    if not out:
        raise InputError(f"[{pid}] parameter {name}: give at least one value")
    return out


def _lambda(params: dict, penalty: str) -> float:
    if penalty == "l2":
        return float(params.get("l2", 0.01))
    if penalty.startswith("l1"):
        return float(params.get("l1", 0.01))
    return 0.0


def logreg_runs(pid: str, params: dict, penalties: Optional[list[str]] = None) -> list[Run]:
    """Runs for every (learning rate, penalty) the parameters ask for.

    ``learning_rates`` (list) or ``learning_rate`` (one value); ``penalties`` (list of
    none / l2 / l1_subgradient / l1_proximal, default none) with ``l2`` and ``l1`` as lambda.
    """
    rates = _float_list(pid, "learning_rates", params.get("learning_rates") or params.get("learning_rate", 0.001))
    pens = penalties or list(params.get("penalties") or ["none"])
    for p in pens:
        if p not in PENALTY_LABELS:
            raise InputError(f"[{pid}] penalty {p!r}: expected one of {', '.join(PENALTY_LABELS)}")
    for name in ("l2", "l1"):
        if name in params:
            _float_list(pid, name, params[name])
    runs = []
    for p in pens:
        lam = _lambda(params, p)
        pen_label = PENALTY_LABELS[p]
        for eta in rates:
            keys, labels = [], []
            if len(pens) > 1:
                keys.append(p)
                labels.append(pen_label)
            if len(rates) > 1:
                keys.append(f"{eta:g}")
                labels.append(f"eta = {eta:g}")
            if not keys:                                  # one run
                keys, labels = ([p], [pen_label]) if p != "none" else ([f"{eta:g}"], [f"eta = {eta:g}"])
            runs.append(Run("@".join(keys), ", ".join(labels),
                            logreg_config(params["dataset"], params["seed"], params["epochs"], eta, p, lam), eta, p, lam))
    return runs


def lambda_note(runs: list[Run]) -> str:
    """' (L2: lambda = 0.01; L1 subgradient: lambda = 0.01)' for the penalised runs, or ''."""
    parts = [f"{r.label}: lambda = {r.lam:g}" for r in runs if r.penalty != "none"]
    return f" ({'; '.join(dict.fromkeys(parts))})" if parts else ""


def from_epoch_one(fig: Figure) -> Figure:
    """Leave out epoch 0 (before training) so that the trained epochs fill the axis."""
    for s in fig.series:
        pts = [(x, y) for x, y in zip(s.x, s.y) if x >= 1]
        s.x, s.y = [x for x, _ in pts], [y for _, y in pts]
    fig.caption = fig.caption.replace(" Data:", " Epoch 0 (before training) is left out. Data:", 1)
    return fig


def _run_all(runs: list[Run]) -> dict[str, dict]:
    """Outputs keyed by the runs' labels (the page's names)."""
    outs = ex.run_configs({r.label: r.cfg for r in runs})
    return outs


def _match_run(pid: str, what: str, value: Any, runs: list[Run]) -> Run:
    """The run a claim names: a learning rate (number or text), a penalty name or a run key."""
    text = str(value).strip().lower()
    for r in runs:
        if text in (r.key.lower(), r.label.lower()):
            return r
    pen = _PENALTY_ALIASES.get(text)
    by_pen = [r for r in runs if r.penalty == pen]
    if pen and len(by_pen) == 1:
        return by_pen[0]
    try:
        f = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        f = None
    by_rate = [r for r in runs if f is not None and math.isclose(r.eta, f, rel_tol=1e-9)]
    if len(by_rate) == 1:
        return by_rate[0]
    raise InputError(f"[{pid}] {what} = {value!r}: expected one of the runs {', '.join(r.key for r in runs)}")


def _per_run(pid: str, claims: dict, key: str, runs: list[Run]) -> dict[str, float]:
    """A claimed number per run: a number (one run) or a table ``{run: number}``."""
    if key not in claims:
        return {}
    v = claims[key]
    if isinstance(v, dict):
        out = {}
        for name, num in v.items():
            run = _match_run(pid, f"{key} run", name, runs)
            out[run.key] = ex.claim_number(pid, {f"{key}.{name}": num}, f"{key}.{name}")
        return out
    if len(runs) > 1:
        raise InputError(f"[{pid}] {key} = {v!r}: several runs; expected a table such as "
                         f"{key} = {{ {', '.join(repr(r.key) + ' = ...' for r in runs)} }}")
    return {runs[0].key: ex.claim_number(pid, claims, key)}


def _per_run_text(pid: str, claims: dict, key: str, runs: list[Run], choices: tuple[str, ...]) -> dict[str, str]:
    if key not in claims:
        return {}
    v = claims[key]
    if not isinstance(v, dict):
        if len(runs) > 1:
            raise InputError(f"[{pid}] {key} = {v!r}: expected a table {{run = one of {', '.join(choices)}}}")
        v = {runs[0].key: v}
    out = {}
    for name, text in v.items():
        run = _match_run(pid, f"{key} run", name, runs)
        if not isinstance(text, str) or text.strip().lower() not in choices:
            raise InputError(f"[{pid}] {key}.{name} = {text!r}: expected one of {', '.join(choices)}")
        out[run.key] = text.strip().lower()
    return out


# -- logistic regression: oracles ----------------------------------------------------------------

def soft_threshold(v: np.ndarray, t: float) -> np.ndarray:
    """The proximal map of ``t |.|``: ``sign(v) max(|v| - t, 0)``."""
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def naive_logreg_epoch(X: np.ndarray, y: np.ndarray, K: int, order: np.ndarray, eta: float,
                       penalty: str = "none", lam: float = 0.0) -> np.ndarray:
    """One epoch of the sheet's update written plainly in float64: ``[W | b]`` from 0, in ``order``."""
    W = np.zeros((K, X.shape[1] + 1))
    for i in order:
        x = np.append(X[i].astype(np.float64), 1.0)                       # (D+1,)
        s = W @ x
        p = np.exp(s - s.max())
        p /= p.sum()
        p[y[i]] -= 1.0
        G = np.outer(p, x)                                                # (softmax(Wx) - e_y) x^T
        if penalty == "l2":
            W = (1 - eta * lam) * W - eta * G
        elif penalty == "l1_subgradient":
            W = W - eta * (G + lam * np.sign(W))
        elif penalty == "l1_proximal":
            W = soft_threshold(W - eta * G, eta * lam)
        else:
            W = W - eta * G
    return W


@one_thread
def logreg_oracle_check(dataset: str, seed: int, eta: float, penalty: str = "none", lam: float = 0.0,
                        n: int = 300) -> Check:
    """The engine's logistic regression (one epoch on the first ``n`` training examples) against
    :func:`naive_logreg_epoch` in the same order."""
    from numerics import datasets
    from numerics.engine.np_linear import LogisticRegression

    ds = datasets.load(dataset, current().data_dir)
    X, y = np.asarray(ds.X("train")[:n]), np.asarray(ds.y("train")[:n])
    K = ds.n_classes
    model = LogisticRegression(X.shape[1], K, eta, penalty, lam)
    model.train_epoch(X, y, np.random.default_rng(seed))
    W = naive_logreg_epoch(X, y, K, np.random.default_rng(seed).permutation(len(y)), eta, penalty, lam)
    err = float(np.max(np.abs(W - model.W)))
    scale = max(1.0, float(np.max(np.abs(W))))
    what = PENALTY_LABELS[penalty] + (f", lambda = {lam:g}" if penalty != "none" else "")
    return Check(name=f"update rule ({what}, eta = {eta:g})",
                 method=f"engine (float32) vs a naive float64 loop of the update ({len(y)} examples, 1 epoch, same order)",
                 passed=bool(err <= 1e-4 * scale), detail=f"max |W_engine - W_naive| = {err:.2g} (max |W_naive| = "
                                                    f"{np.max(np.abs(W)):.3g}; tolerance 1e-4 x max(1, max |W|))")


def _theory(name: str):
    """``theory.updates.<name>`` when that module and function exist, else None."""
    try:
        mod = importlib.import_module("theory.updates")
    except ModuleNotFoundError as exc:
        if exc.name != "theory.updates":
            raise
        return None
    return getattr(mod, name, None)


def _softmax_loss(W: sp.Matrix, x: sp.Matrix, y: int):
    z = W * x
    return -z[y] + sp.log(sum(sp.exp(z[k]) for k in range(W.shape[0])))


def _symbols(K: int, D: int):
    W = sp.Matrix(K, D, lambda k, j: sp.Symbol(f"w_{k}{j}", real=True))
    x = sp.Matrix(D, 1, lambda j, _: sp.Symbol(f"x_{j}", real=True))
    return W, x


def logistic_gradient_derivation(K: int = 3, D: int = 2) -> tuple[list[Step], list[Check]]:
    """``dL/dW = (softmax(Wx) - e_y) x^T`` for ``L = -log softmax(Wx)_y``: SymPy for every entry and
    every label at K x D, then central finite differences at a random point (K=4, D=5)."""
    W, x = _symbols(K, D)
    z = W * x
    den = sum(sp.exp(z[k]) for k in range(K))
    bad = []
    for y in range(K):
        L = _softmax_loss(W, x, y)
        for k in range(K):
            for j in range(D):
                closed = (sp.exp(z[k]) / den - (1 if k == y else 0)) * x[j]
                if sp.simplify(sp.diff(L, W[k, j]) - closed) != 0:
                    bad.append((y, k, j))
    sym = Check(name="gradient of the softmax cross-entropy (symbolic)",
                method=f"SymPy: d/dW_kj of -log softmax(Wx)_y minus (softmax(Wx)_k - [k=y]) x_j simplifies to 0 "
                       f"for every entry and every label (K={K}, D={D})",
                passed=not bad, detail="all entries agree" if not bad else f"entries (y, k, j) that differ: {bad[:5]}")
    rng = np.random.default_rng(0)
    Wn, xn, yn, h = rng.normal(size=(4, 5)), rng.normal(size=5), 2, 1e-6

    def loss(Wv):
        s = Wv @ xn
        return float(-s[yn] + np.log(np.exp(s - s.max()).sum()) + s.max())

    p = np.exp(Wn @ xn - (Wn @ xn).max())
    p /= p.sum()
    closed = np.outer(p - np.eye(4)[yn], xn)
    fd = np.zeros_like(Wn)
    for idx in np.ndindex(*Wn.shape):
        E = np.zeros_like(Wn)
        E[idx] = h
        fd[idx] = (loss(Wn + E) - loss(Wn - E)) / (2 * h)
    err = float(np.max(np.abs(fd - closed)))
    fdc = Check(name="gradient of the softmax cross-entropy (finite differences)",
                method="central differences (h = 1e-6) at a random point, K=4, D=5, float64",
                passed=bool(err <= 1e-6), detail=f"max |finite difference - (softmax(Wx) - e_y) x^T| = {err:.2g}")
    steps = [
        Step(text="The loss of one example is the negative log-probability of its class.",
             math=r"L(W)=-\log\mathrm{softmax}(Wx)_y=-w_y^\top x+\log\sum_{k}e^{w_k^\top x}", rule="definition"),
        Step(text="Differentiate entry (k, j): the first term gives -[k=y] x_j, the log-sum-exp gives softmax(Wx)_k x_j.",
             math=r"\frac{\partial L}{\partial W_{kj}}=\bigl(\mathrm{softmax}(Wx)_k-[k=y]\bigr)x_j",
             rule=f"chain rule; verified by SymPy for K={K}, D={D}"),
        Step(text="In matrix form, and the SGD step on one example:",
             math=r"\nabla_W L=(\mathrm{softmax}(Wx)-e_y)\,x^\top,\qquad W\leftarrow W-\eta\,(\mathrm{softmax}(Wx)-e_y)\,x^\top",
             rule="the sheet's update"),
    ]
    return steps, [sym, fdc]


@functools.lru_cache(maxsize=2)
def _cached_derivation(name: str) -> tuple[list[Step], list[Check]]:
    """``theory.updates.<name>()`` when present, else this module's own SymPy derivation (cached:
    the same every call; callers get copies)."""
    fn = _theory(name)
    if fn is not None:
        return fn(3, 2)                                   # K = 3 classes, D = 2 features
    return logistic_gradient_derivation(3, 2) if name == "logistic_sgd_gradient" else l2_update_derivation(3, 2)


def _gradient_derivation() -> tuple[list[Step], list[Check]]:
    return copy.deepcopy(_cached_derivation("logistic_sgd_gradient"))


def l2_update_derivation(K: int = 2, D: int = 2) -> tuple[list[Step], list[Check]]:
    """``W - eta grad(L + lam/2 ||W||_F^2) = (1 - eta lam) W - eta grad L``, symbolically for K x D."""
    W, x = _symbols(K, D)
    eta, lam = sp.symbols("eta lambda", positive=True)
    L = _softmax_loss(W, x, 0)
    Lp = L + lam / 2 * sum(w ** 2 for w in W)
    gd = W - eta * sp.Matrix(K, D, lambda k, j: sp.diff(Lp, W[k, j]))
    target = (1 - eta * lam) * W - eta * sp.Matrix(K, D, lambda k, j: sp.diff(L, W[k, j]))
    diff = sp.simplify(gd - target)
    ok = diff == sp.zeros(K, D)
    grad_pen = sp.Matrix(K, D, lambda k, j: sp.diff(lam / 2 * sum(w ** 2 for w in W), W[k, j]))
    ok_pen = sp.simplify(grad_pen - lam * W) == sp.zeros(K, D)
    checks = [Check(name="L2 update (symbolic)",
                    method=f"SymPy: the gradient step on the penalised loss minus (1 - eta lambda) W + eta grad L "
                           f"simplifies to the zero matrix (K={K}, D={D}, symbolic eta, lambda, W, x)",
                    passed=bool(ok and ok_pen),
                    detail="gradient of (lambda/2)||W||_F^2 is lambda W; the step matches" if ok and ok_pen
                    else f"difference: {diff}")]
    steps = [
        Step(text="Add the penalty to the loss of one example.",
             math=r"L_\lambda(W)=L(W)+\tfrac{\lambda}{2}\|W\|_F^2", rule="the sheet's penalty"),
        Step(text="Its gradient adds lambda W to that of the loss.",
             math=r"\nabla_W L_\lambda=\nabla_W L+\lambda W", rule=r"d/dW of (lambda/2) sum W_kj^2; SymPy"),
        Step(text="The SGD step therefore shrinks W before the gradient step (weight decay).",
             math=r"W\leftarrow W-\eta(\nabla_W L+\lambda W)=(1-\eta\lambda)W-\eta\nabla_W L",
             rule=f"verified by SymPy for K={K}, D={D}"),
    ]
    return steps, checks


def _l2_derivation() -> tuple[list[Step], list[Check]]:
    return copy.deepcopy(_cached_derivation("l2_update"))


# -- logistic regression: proxies ------------------------------------------------------------------

def _diffs(values: list[Optional[float]]) -> list[float]:
    v = [x for x in values if x is not None]
    return [b - a for a, b in zip(v, v[1:])]


def jitter_variance(out: dict, key: str = "val_accuracy") -> Optional[float]:
    """Variance of the epoch-to-epoch changes of ``key`` (trained epochs only): the stability proxy."""
    d = _diffs(ex.series(out, key)[1][1:] if out.get("initial", {}).get(key) is not None else ex.series(out, key)[1])
    return float(np.var(d)) if len(d) >= 2 else None


def smoothness(out: dict, key: str = "val_accuracy") -> Optional[float]:
    """Mean |change| of ``key`` between consecutive trained epochs (lower is smoother)."""
    _, v = ex.series(out, key)
    if out.get("initial", {}).get(key) is not None:
        v = v[1:]
    return ex.oscillation(v)


def _proxy_columns(runs: list[Run], outs: dict) -> dict[str, dict[str, Any]]:
    return {
        "val-acc oscillation": {r.label: smoothness(outs[r.label]) for r in runs},
        "var of val-acc changes": {r.label: jitter_variance(outs[r.label]) for r in runs},
        "train-val gap": {r.label: ex.gap(outs[r.label]) for r in runs},
    }


def _lowest(runs: list[Run], value) -> Optional[Run]:
    scored = [(value(r), i, r) for i, r in enumerate(runs) if value(r) is not None]
    return min(scored)[2] if scored else None


# -- logistic regression: the solver -------------------------------------------------------------

LOGREG_SCHEMA = """\
Claims (all optional). Runs are named by their learning rate ("0.01") or penalty ("none", "l2",
"l1_subgradient", "l1_proximal"); with one run a number may be given instead of a table.
  test_accuracy = { "0.01" = 0.71, "0.001" = 0.69 }   final test accuracy per run
  train_accuracy, val_accuracy                           the same form
  tolerance = 0.03        band for the accuracies (default: 0.25 smoke, 0.05 quick, 0.02 full)
With several runs:
  best = "0.001"          the run with the highest final validation accuracy (any run within two binomial
                          standard errors of it is tied and accepted too)
  smoother = "0.001"      the run whose validation accuracy changes least between consecutive
                          epochs (mean |change|, the sheet's "variance between epochs")
  more_stable = "l2"      the run whose epoch-to-epoch validation-accuracy changes have the
                          smallest variance
                          (smoother / more_stable = "tie" when the two lowest values differ by at
                          most 10 %; naming a run then fails)
  larger_gap = "0.01"     the run with the larger final train - validation accuracy gap
Every verdict is decided by the checker's own runs (the profile that ran is named)."""

_CHOICES = ("best", "smoother", "more_stable", "larger_gap")


# proxies closer than this (relative) are a tie: "smoother" / "more_stable" then name no run
TIE_MARGIN = 0.1
_TIE_WORDS = ("tie", "same", "equal", "neither", "similar")


def _choice_verdicts(pid: str, claims: dict, runs: list[Run], outs: dict) -> list:
    out_of = {r.key: outs[r.label] for r in runs}
    measures = {       # key: (score to minimise, what, value shown, ties allowed)
        "best": (lambda r: -(ex.final(out_of[r.key], "val_accuracy") or -math.inf), "final validation accuracy",
                 lambda r: ex.final(out_of[r.key], "val_accuracy"), False),
        "smoother": (lambda r: smoothness(out_of[r.key]), "mean |change| of the validation accuracy between epochs",
                     lambda r: smoothness(out_of[r.key]), True),
        "more_stable": (lambda r: jitter_variance(out_of[r.key]), "variance of the epoch-to-epoch validation-accuracy changes",
                        lambda r: jitter_variance(out_of[r.key]), True),
        "larger_gap": (lambda r: -g if (g := ex.gap(out_of[r.key])) is not None else None,
                       "final train - validation accuracy gap", lambda r: ex.gap(out_of[r.key]), False),
    }
    verdicts = []
    for key in _CHOICES:
        if key not in claims:
            continue
        score, what, shown, ties = measures[key]
        text = str(claims[key]).strip().lower()
        claimed = "tie" if ties and text in _TIE_WORDS else _match_run(pid, key, claims[key], runs).key
        winner = _lowest(runs, score)
        ranking = f"{what}: " + ", ".join(f"{r.key} {ex.fmt(shown(r))}" for r in runs) + "."
        if winner is None or any(score(r) is None for r in runs):
            verdicts.append(Verdict(claim=f"{key} = {claims[key]!r}", passed=None,
                                    evidence=f"undecided: not measured for every run ({ranking} It needs at least "
                                             "three epochs.)"))
            continue
        if key == "best":                              # an accuracy: runs tied within noise all count as best
            verdicts.append(ex.choice_among(f"{key} = {claims[key]!r}", claimed, out_of, ranking, "val_accuracy"))
            continue
        measured = winner.key
        if ties:
            values = sorted(score(r) for r in runs)
            if values[1] - values[0] <= TIE_MARGIN * max(abs(values[0]), abs(values[1])):
                measured = "tie"
                ranking += f" The two lowest differ by at most {TIE_MARGIN:.0%}: a tie."
        verdicts.append(ex.choice_verdict(f"{key} = {claims[key]!r}", claimed, measured, ranking))
    return verdicts


def _accuracy_verdicts(pid: str, claims: dict, runs: list[Run], outs: dict) -> list:
    band = ex.claim_number(pid, claims, "tolerance")
    band = ex.band_for("accuracy") if band is None else band
    verdicts = []
    by_key = {r.key: r for r in runs}
    for metric in ACCURACY_KEYS:
        for key, claimed in _per_run(pid, claims, metric, runs).items():
            run = by_key[key]
            name = f"{metric}[{key}]" if len(runs) > 1 else metric
            verdicts.append(ex.number_verdict(f"{name} = {claimed:g}", claimed, ex.final(outs[run.label], metric),
                                              band, f"{ex.METRIC_LABELS[metric]} ({run.label})"))
    return verdicts


def _update_math(runs: list[Run]) -> list[Step]:
    rules = {
        "none": r"W\leftarrow W-\eta\,(\mathrm{softmax}(Wx)-e_y)\,x^\top",
        "l2": r"W\leftarrow(1-\eta\lambda)W-\eta\,(\mathrm{softmax}(Wx)-e_y)\,x^\top",
        "l1_subgradient": r"W\leftarrow W-\eta\bigl((\mathrm{softmax}(Wx)-e_y)\,x^\top+\lambda\,\mathrm{sign}(W)\bigr)",
        "l1_proximal": r"V=W-\eta\,(\mathrm{softmax}(Wx)-e_y)\,x^\top,\quad W\leftarrow\mathrm{sign}(V)\max(|V|-\eta\lambda,0)",
    }
    seen, steps = set(), []
    for r in runs:
        if r.penalty in seen:
            continue
        seen.add(r.penalty)
        steps.append(Step(text=f"{PENALTY_LABELS[r.penalty].capitalize()} update, per example (x with a constant 1 "
                               "appended, W from 0, the penalty also covers the bias column):",
                          math=rules[r.penalty], rule="the sheet's update" if r.penalty in ("none", "l2") else "L1 variant"))
    return steps


def logistic_regression(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """Multinomial logistic regression by SGD (ist23.q1.1b, ist24.q1.2a, ist24.q1.2b, ist21.q3.1b):
    every learning rate of ``learning_rates`` (or ``learning_rate``) times every penalty of
    ``penalties`` (``l2``/``l1`` give lambda); ``plot`` names the accuracy curves."""
    pid = current_problem() or "logistic_regression"
    runs = logreg_runs(pid, params)
    allowed = ACCURACY_KEYS + ("tolerance",) + (_CHOICES if len(runs) > 1 else ())
    claims = ex.check_claim_keys(pid, claims, allowed)
    keys = plot_keys(pid, params, ("train_accuracy", "val_accuracy"))
    outs = _run_all(runs)
    first = outs[runs[0].label]

    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    deriv_steps, deriv_checks = _gradient_derivation()
    result.steps = deriv_steps + _update_math(runs)
    if any(r.penalty == "l2" for r in runs):
        l2_steps, l2_checks = _l2_derivation()
        result.steps += l2_steps
        deriv_checks = deriv_checks + l2_checks
    result.steps.append(Step(text=f"Train {first['budget']['epochs']} epochs of per-example SGD (data reshuffled every "
                                  f"epoch) for each of: {'; '.join(r.label for r in runs)}. Smoothness of a curve: the "
                                  "mean |change| of the validation accuracy between consecutive epochs; stability: the "
                                  "variance of those changes; the gap: final train minus validation accuracy."
                                  + budget_note(outs)))
    result.checks = [finished_check(r.label, outs[r.label]) for r in runs] + deriv_checks
    for r in runs:
        result.checks.append(logreg_oracle_check(params["dataset"], params["seed"], r.eta, r.penalty, r.lam))
    result.checks += [chance_check(r.label, outs[r.label]) for r in runs]

    title = "Logistic regression"
    result.figures = [from_epoch_one(ex.curves(
        "accuracy", f"{title}: {keys_phrase(keys)} against epoch"
        + (f" ({', '.join(r.label for r in runs)}){lambda_note(runs)}." if len(runs) > 1 else f"{lambda_note(runs)}."),
        outs, keys, "accuracy"))]
    extra = _proxy_columns(runs, outs)
    ref = {r.label: published_reference(outs[r.label], "logreg") for r in runs}
    caption = (f"{title}: final metrics and the curve proxies{lambda_note(runs)}. Oscillation: mean |change| of the "
               "validation accuracy between epochs; var: variance of those changes; gap: final train - validation accuracy.")
    if any(v is not None for v in ref.values()):
        extra["published test acc."] = ref
        caption += " The last column is a " + PUBLISHED_SOURCE + "; ours ran on the budget stated below."
    result.tables = [ex.results_table(caption, outs, extra=extra, metrics=ACCURACY_KEYS)]
    result.verdicts = _accuracy_verdicts(pid, claims, runs, outs) + _choice_verdicts(pid, claims, runs, outs)
    parts = [f"{r.label}: test accuracy {ex.fmt(ex.final(outs[r.label], 'test_accuracy'))}" for r in runs]
    if len(runs) > 1:
        smooth = _lowest(runs, lambda r: smoothness(outs[r.label]))
        parts.append(f"smoother validation curve: {smooth.label if smooth else '--'}")
    result.summary = "; ".join(parts) + f" ({first['budget']['epochs']} epochs)."
    return result


logistic_regression.CLAIM_SCHEMA = LOGREG_SCHEMA


# -- ist24.q1.2c: weight norms ---------------------------------------------------------------------

# A norm curve "grows" when its relative growth over the last half of the epochs (least-squares
# slope per epoch x epochs in that half / mean over that half) exceeds this; otherwise it "saturates".
GROWTH_THRESHOLD = 0.05
# With weight decay the SGD iterate forgets gradients older than about 1/(eta lambda) steps: the
# norm can only have saturated after a few such time constants, so a shorter run leaves the L2
# model's trend undecided.
SATURATION_CONSTANTS = 3
NORM_BAND = {"smoke": 0.5, "quick": 0.1, "full": 0.05}       # relative band for claimed norms


def norm_trend(out: dict) -> dict:
    """``{"final", "growth", "trend", "tau_epochs", "undecided"}`` of ``weight_norm``: the relative
    growth over the last half of the trained epochs and, for L2, the decay time constant
    ``1/(eta lambda n)`` in epochs (the trend is undecided when the run is shorter than
    SATURATION_CONSTANTS of them)."""
    v = [r.get("weight_norm") for r in out["metrics"]]
    v = [x for x in v if x is not None and math.isfinite(x)]
    half = v[len(v) // 2:] if len(v) >= 4 else v
    s = ex.slope(half, 1.0)
    mean = float(np.mean(half)) if half else None
    growth = s * len(half) / mean if s is not None and mean else None
    trend = None if growth is None else ("growing" if growth > GROWTH_THRESHOLD else "saturating")
    cfg, tau, undecided = out["config"], None, ""
    if cfg.get("penalty") == "l2" and cfg.get("lam", 0) > 0 and out["metrics"]:
        tau = 1.0 / (cfg["eta"] * cfg["lam"] * out["metrics"][-1]["updates"])
        if len(v) < SATURATION_CONSTANTS * tau:
            undecided = (f"the run has {len(v)} epochs, fewer than {SATURATION_CONSTANTS} decay time constants "
                         f"1/(eta lambda n) = {tau:.3g} epochs, so the L2 norm cannot have saturated yet")
    return {"final": v[-1] if v else None, "growth": growth, "trend": trend, "tau_epochs": tau,
            "undecided": undecided}


WEIGHT_NORM_SCHEMA = f"""\
Claims (all optional); runs are "none" (unregularised) and "l2":
  final_norm = {{ none = 40.0, l2 = 12.0 }}    final ||W||_F (bias column included) per model
  norm_tolerance = 0.1                  relative band (default 0.5 smoke, 0.1 quick, 0.05 full)
  trend = {{ none = "growing", l2 = "saturating" }}
A curve grows when its relative growth over the last half of the epochs (least-squares slope x
epochs in that half / mean over that half) exceeds {GROWTH_THRESHOLD:g}; otherwise it saturates. The
L2 model's trend is undecided (no verdict) when the run is shorter than {SATURATION_CONSTANTS} decay
time constants 1/(eta lambda n) epochs (n = updates per epoch)."""


def _norm_bound_check(r: Run, out: dict, x_max: float) -> Check:
    """A-priori bounds: every SGD step moves W by at most eta sqrt(2) ||x~||; with L2 decay the
    norm also stays below sqrt(2) ||x~|| / lambda."""
    steps = sum(m["updates"] for m in out["metrics"])
    g = math.sqrt(2) * x_max
    bound = r.eta * steps * g if r.penalty != "l2" else min(r.eta * steps * g, g / r.lam)
    norm = max((m.get("weight_norm") or 0.0) for m in out["metrics"]) if out["metrics"] else None
    how = "eta x steps x sqrt(2) max ||x~||" + (" and sqrt(2) max ||x~|| / lambda" if r.penalty == "l2" else "")
    return Check(name=f"{r.label}: ||W||_F within its a-priori bound", method=how + " (a loose sanity bound, for "
                 "information; the update rule itself is checked against a naive loop)", info=True,
                 passed=bool(norm is not None and norm <= bound * (1 + 1e-6)),
                 detail=f"largest ||W||_F {ex.fmt(norm)} <= bound {ex.fmt(bound)}")


@functools.lru_cache(maxsize=4)
def _x_max_cached(dataset: str, data_dir: Optional[str]) -> float:
    from numerics import datasets

    X = datasets.load(dataset, data_dir).X("train")
    sq = max(float(np.einsum("ij,ij->i", X[s:s + 2048], X[s:s + 2048], dtype=np.float64).max())
             for s in range(0, len(X), 2048))
    return math.sqrt(sq + 1.0)


def _x_max(dataset: str) -> float:
    """max ||[x, 1]|| over the whole training split (a superset of any subset that ran)."""
    return _x_max_cached(dataset, current().data_dir)


def weight_norms(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """||W||_F against epoch for the unregularised and the L2 model (ist24.q1.2c); the same runs as
    ist24.q1.2a/b."""
    pid = current_problem() or "weight_norms"
    claims = ex.check_claim_keys(pid, claims, ("final_norm", "norm_tolerance", "trend"))
    runs = logreg_runs(pid, params, ["none", "l2"])
    outs = _run_all(runs)
    first = outs[runs[0].label]
    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    trends = {r.key: norm_trend(outs[r.label]) for r in runs}
    result.steps = _update_math(runs) + [
        Step(text="Record the Frobenius norm of W (bias column included) after every epoch.",
             math=r"\|W\|_F=\Bigl(\sum_{k,j}W_{kj}^2\Bigr)^{1/2}"),
        Step(text=f"Trend: the relative growth over the last half of the epochs (least-squares slope x epochs in "
                  f"that half / mean over that half); above {GROWTH_THRESHOLD:g} the norm is growing, otherwise "
                  "saturating. Without a penalty the norm can grow without bound on (nearly) separable data; weight "
                  "decay forgets gradients older than about 1/(eta lambda) steps and so pulls the norm to a fixed "
                  f"point after a few such time constants (the L2 trend is left undecided when the run is shorter "
                  f"than {SATURATION_CONSTANTS} of them)." + budget_note(outs),
             math=r"W_t=(1-\eta\lambda)^t W_0-\eta\sum_{s<t}(1-\eta\lambda)^{t-1-s}g_s,\qquad "
                  r"\tau=\frac{1}{\eta\lambda n}\ \text{epochs}", rule="unrolled L2 update"),
    ]
    x_max = _x_max(params["dataset"])
    result.checks = [finished_check(r.label, outs[r.label]) for r in runs] + \
        [logreg_oracle_check(params["dataset"], params["seed"], r.eta, r.penalty, r.lam) for r in runs] + \
        [_norm_bound_check(r, outs[r.label], x_max) for r in runs]
    fig = ex.curves("weight-norm", f"Frobenius norm of W against epoch{lambda_note(runs)}.", outs, ["weight_norm"],
                    r"$\|W\|_F$")
    result.figures = [fig]
    extra = {"final ||W||_F": {r.label: trends[r.key]["final"] for r in runs},
             "growth": {r.label: trends[r.key]["growth"] for r in runs},
             "tau (epochs)": {r.label: trends[r.key]["tau_epochs"] for r in runs},
             "trend": {r.label: (trends[r.key]["trend"] or "--") + (" (undecided)" if trends[r.key]["undecided"] else "")
                       for r in runs}}
    result.tables = [ex.results_table(f"Weight norms: final norm and trend{lambda_note(runs)}; growth: relative growth "
                                      "over the last half of the epochs; tau: the L2 decay time constant in epochs.",
                                      outs, extra=extra, metrics=("test_accuracy",))]
    band = ex.claim_number(pid, claims, "norm_tolerance")
    band = NORM_BAND[current().profile] if band is None else band
    by_key = {r.key: r for r in runs}
    for key, claimed in _per_run(pid, claims, "final_norm", runs).items():
        result.verdicts.append(ex.number_verdict(f"final_norm[{key}] = {claimed:g}", claimed, trends[key]["final"],
                                                 band, f"final ||W||_F ({by_key[key].label})", relative=True))
    for key, claimed in _per_run_text(pid, claims, "trend", runs, ("growing", "saturating")).items():
        t = trends[key]
        proxy = (f"relative growth over the last half {ex.fmt(t['growth'], 3)}, threshold {GROWTH_THRESHOLD:g}: "
                 f"{t['trend']}" + (f"; but {t['undecided']} (run the full profile)" if t["undecided"] else ""))
        measured = None if t["trend"] is None or t["undecided"] else t["trend"] == "growing"
        result.verdicts.append(ex.trend_verdict(f"trend[{key}] = {claimed}", claimed == "growing", measured, proxy))
    parts = [f"{r.label}: final ||W||_F {ex.fmt(trends[r.key]['final'])}, {trends[r.key]['trend']}"
             + (" (undecided: run too short)" if trends[r.key]["undecided"] else "") for r in runs]
    result.summary = "; ".join(parts) + f" ({first['budget']['epochs']} epochs)."
    return result


weight_norms.CLAIM_SCHEMA = WEIGHT_NORM_SCHEMA


# -- ist24.q1.2d: L1 against L2 --------------------------------------------------------------------

@one_thread
def replay_weights(out: dict, data_dir: Optional[str] = None) -> np.ndarray:
    """The final ``[W | b]`` of a finished logistic-regression run, recomputed from its configuration,
    budget and seed (the runner stores metrics, not weights). Deterministic: the same data subset,
    initialisation and shuffling as the run, one BLAS thread as the runner uses."""
    from numerics import datasets
    from numerics.engine import learners

    cfg, bud = out["config"], out["budget"]
    ds = datasets.load(cfg["dataset"], data_dir).subsample(bud["n"], seed=cfg["seed"])
    if ds.fingerprint() != out["dataset"]["fingerprint"]:
        raise RuntimeError(f"replay of {cfg}: the data differ from the run's (fingerprint)")
    learner = learners.build(cfg, ds.splits, ds.X("train").shape[1], ds.n_classes)
    for _ in out["metrics"]:
        learner.train_epoch()
    return np.array(learner.model.W, np.float64)


def _replay_all(outs: dict[str, dict]) -> dict[str, np.ndarray]:
    """Final weights of each run: read beside the run in the cache (``<cache key>.weights.npy``), else
    replayed and stored there atomically, so a report rebuild does not train again."""
    import os
    import tempfile

    from numerics.engine import store

    ctx = current()
    folder = store.cache_dir(ctx.cache_dir)
    paths = {label: folder / f"{o['cache_key']}.weights.npy" for label, o in outs.items()}
    found = {label: np.load(p) for label, p in paths.items() if p.exists() and not ctx.force}
    todo = {label: o for label, o in outs.items() if label not in found}
    if todo:
        found.update(_replay(todo))
        for label in todo:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".weights.", suffix=".npy")
            with os.fdopen(fd, "wb") as f:
                np.save(f, found[label])
            os.replace(tmp, paths[label])
    return {label: found[label] for label in outs}


def _replay(outs: dict[str, dict]) -> dict[str, np.ndarray]:
    ctx = current()
    if ctx.profile == "smoke" or len(outs) == 1:
        return {label: replay_weights(o, ctx.data_dir) for label, o in outs.items()}
    from numerics import datasets, runner

    data_dir = str(datasets.data_dir(ctx.data_dir).resolve())
    executor = ctx.executor or runner.local_executor()
    try:
        futures = {label: executor.submit(replay_weights, o, data_dir) for label, o in outs.items()}
        return {label: f.result() for label, f in futures.items()}
    finally:
        if ctx.executor is None:
            executor.shutdown()


def prox_grid_check(ts=(1e-5, 0.01, 0.3)) -> Check:
    """The soft-threshold is the proximal map of t|u|: compare it with a brute-force minimisation of
    (u - v)^2 / 2 + t |u| on a fine grid, for several v and t."""
    worst = 0.0
    for t in ts:
        for v in np.linspace(-1.0, 1.0, 41):
            u = np.linspace(v - 2 * t - 0.01, v + 2 * t + 0.01, 20_001)         # step <= 3e-6
            u = np.append(u, 0.0)
            best = u[np.argmin(0.5 * (u - v) ** 2 + t * np.abs(u))]
            worst = max(worst, abs(best - float(soft_threshold(np.array([v]), t)[0])))
    return Check(name="proximal step = soft-threshold", method="brute-force argmin of (u-v)^2/2 + t|u| on a grid "
                 f"(step <= 3e-6), 41 values of v, t in {list(ts)}", passed=bool(worst <= 5e-6),
                 detail=f"max |argmin - sign(v) max(|v| - t, 0)| = {worst:.2g}")


def _histogram(W: np.ndarray, edges: np.ndarray) -> np.ndarray:
    a = np.abs(W.ravel())
    with np.errstate(divide="ignore"):
        return np.histogram(np.log10(a[a > 0]), bins=edges)[0]


L1_SCHEMA = """\
Claims (all optional); models are "l2", "l1_subgradient" and "l1_proximal":
  fraction_below = { l2 = 0.01, l1_proximal = 0.6 }   fraction of weights with |w| < zero_threshold
  fraction_tolerance = 0.05   absolute band (default: 0.25 smoke, 0.05 quick, 0.02 full)
  sparsest = "l1_proximal"    the model with the largest such fraction
  l1_sparser = true           both L1 models have a larger such fraction than the L2 model"""


def l1_weights(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """L1-regularised logistic regression by subgradient and by proximal SGD against the L2 model
    (ist24.q1.2d): weight histograms and the fraction of |w| below ``zero_threshold``."""
    pid = current_problem() or "l1_weights"
    claims = ex.check_claim_keys(pid, claims, ("fraction_below", "fraction_tolerance", "sparsest", "l1_sparser"))
    variants = list(params.get("variants") or ["subgradient", "proximal"])
    for v in variants:
        if v not in ("subgradient", "proximal"):
            raise InputError(f"[{pid}] variant {v!r}: expected subgradient or proximal")
    thr = _float_list(pid, "zero_threshold", params.get("zero_threshold", 1e-3))[0]
    runs = logreg_runs(pid, params, ["l2"] + [f"l1_{v}" for v in variants])
    outs = _run_all(runs)
    first = outs[runs[0].label]
    weights = _replay_all(outs)

    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = _update_math(runs) + [
        Step(text="The L1 penalty is not differentiable at 0. The subgradient step uses sign(W) (0 at 0) and so keeps "
                  "jittering around 0 by about eta lambda; the proximal step minimises the linearised loss plus the "
                  "penalty exactly, which is the soft-threshold and sets small weights to exactly 0.",
             math=r"\mathrm{prox}_{\eta\lambda|\cdot|}(v)=\arg\min_u\tfrac12(u-v)^2+\eta\lambda|u|"
                  r"=\mathrm{sign}(v)\max(|v|-\eta\lambda,0)", rule="proximal gradient (ISTA)"),
        Step(text=f"After training, recompute each model's final weights from its run (same data subset, seed and order) "
                  f"and compare the histograms of log10 |w| and the fraction of weights with |w| < {thr:g}."
                  + budget_note(outs)),
    ]
    result.checks = [finished_check(r.label, outs[r.label]) for r in runs]
    for r in runs:
        W = weights[r.label]
        norm, rec = float(np.linalg.norm(W)), ex.final(outs[r.label], "weight_norm")
        ok = rec is not None and abs(norm - rec) <= 1e-4 * max(1.0, rec)
        result.checks.append(Check(name=f"{r.label}: recomputed weights are the run's",
                                   method="||W||_F of the recomputed weights vs the norm the run recorded",
                                   passed=bool(ok), detail=f"{norm:.6g} vs {ex.fmt(rec, 7)}"))
    result.checks.append(prox_grid_check())
    for r in runs:
        result.checks.append(logreg_oracle_check(params["dataset"], params["seed"], r.eta, r.penalty, r.lam))

    frac = {r.key: float((np.abs(weights[r.label]) < thr).mean()) for r in runs}
    zeros = {r.key: float((weights[r.label] == 0).mean()) for r in runs}
    top = max(float(np.log10(max(np.abs(W).max() for W in weights.values()))), -1.0)
    edges = np.arange(-8.0, math.ceil(top * 2) / 2 + 0.25, 0.5)               # half-decade bins
    styles = ["-", "--", ":", "-."]
    series = []
    for i, r in enumerate(runs):
        counts = _histogram(weights[r.label], edges)
        centres = (edges[:-1] + edges[1:]) / 2
        pts = [(float(c), float(n)) for c, n in zip(centres, counts) if n > 0]
        series.append(Series(label=f"{r.label} ({zeros[r.key]:.1%} exactly 0, not shown)" if zeros[r.key] else r.label,
                             x=[p[0] for p in pts], y=[p[1] for p in pts], style=styles[i % 4]))
    result.figures = [Figure(name="weight-histogram",
                             caption=f"Histogram of log10 |w| of the final weights{lambda_note(runs)} (bins of 0.5 "
                                     f"decade; exact zeros are counted in the legend). The dashed vertical line is the "
                                     f"threshold {thr:g}. " + ex.data_note(outs),
                             xlabel="log10 |w|", ylabel="number of weights", series=series, yscale="log",
                             vlines=[{"x": math.log10(thr), "label": f"|w| = {thr:g}"}])]
    extra = {f"fraction |w| < {thr:g}": {r.label: frac[r.key] for r in runs},
             "fraction exactly 0": {r.label: zeros[r.key] for r in runs},
             "final ||W||_F": {r.label: ex.final(outs[r.label], "weight_norm") for r in runs}}
    result.tables = [ex.results_table(f"L1 against L2: final metrics and sparsity of the weights{lambda_note(runs)}.",
                                      outs, extra=extra, metrics=("train_accuracy", "test_accuracy"))]

    band = ex.claim_number(pid, claims, "fraction_tolerance")
    band = ex.band_for("accuracy") if band is None else band
    by_key = {r.key: r for r in runs}
    for key, claimed in _per_run(pid, claims, "fraction_below", runs).items():
        result.verdicts.append(ex.number_verdict(f"fraction_below[{key}] = {claimed:g}", claimed, frac[key], band,
                                                 f"fraction of |w| < {thr:g} ({by_key[key].label})"))
    ranking = "fraction of |w| < {:g}: ".format(thr) + ", ".join(f"{k} {frac[k]:.3g}" for k in frac) + "."
    if "sparsest" in claims:
        claimed = _match_run(pid, "sparsest", claims["sparsest"], runs)
        result.verdicts.append(ex.choice_verdict(f"sparsest = {claims['sparsest']!r}", claimed.key,
                                                 max(frac, key=frac.get), ranking))
    l1_sparser = ex.claim_bool(pid, claims, "l1_sparser")
    l1_keys = [r.key for r in runs if r.penalty.startswith("l1")]
    measured = all(frac[k] > frac["l2"] for k in l1_keys) if l1_keys else None
    if l1_sparser is not None:
        result.verdicts.append(ex.trend_verdict(f"l1_sparser = {str(l1_sparser).lower()}", l1_sparser, measured,
                                                "every L1 model has a larger " + ranking[0].lower() + ranking[1:]))
    result.summary = (f"fraction of |w| < {thr:g}: " + ", ".join(f"{by_key[k].label} {frac[k]:.3g}" for k in frac)
                      + f" ({first['budget']['epochs']} epochs).")
    return result


l1_weights.CLAIM_SCHEMA = L1_SCHEMA
