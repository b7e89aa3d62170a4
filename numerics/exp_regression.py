"""ist21.q2.2: regression on the Ames housing data (a synthetic Ames-shaped substitute when the file is
absent): linear regression by per-example SGD and its distance to the least-squares solution, and a
one-hidden-layer ReLU network.

The network at the sheet's settings (targets in dollars, eta = 0.001, W ~ N(0.1, 0.1^2)) is run as
given through the runner; it diverges in its first epoch (residuals of ~10^5 dollars times
weights that grow each step). The comparison with the linear model therefore also trains the same
network on the standardised target (the checker's documented variant: y' = (y - mean) / std with
training statistics; errors are converted back to dollars), with the engine's MLP and its
per-example update, in this module.
"""
from __future__ import annotations

import math
import time
from typing import Any, Optional

import numpy as np
import torch

from numerics import experiment as ex
from numerics.exp_mlp import finite_differences
from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Table

SEED = 1


def linear_config(params: dict) -> dict:
    return {"kind": "linreg_numpy", "dataset": "ames", "eta": float(params["learning_rate"]),
            "epochs": int(params["epochs"]), "seed": SEED}


def network_config(params: dict) -> dict:
    hidden = [int(v) for v in params["hidden_sizes"]]
    return {"kind": "mlp_numpy", "dataset": "ames", "hidden_sizes": hidden, "activation": "relu",
            "output": "identity", "loss": "mse", "init": f"normal:{float(params['init_mean']):g},{float(params['init_std']):g}",
            "bias_init": "zeros", "eta": float(params["learning_rate"]), "batch_size": 1,
            "epochs": int(params["epochs"]), "seed": SEED}


def _positive(pid: str, params: dict, key: str) -> None:
    v = params[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise InputError(f"[{pid}] {key} = {v!r}: expected a positive number")


def _load(data_dir=None):
    from numerics import datasets
    return datasets.load("ames", data_dir)


def sgd_oracle_check(eta: float, n: int = 200) -> Check:
    """One epoch of the engine's LinearRegression vs a naive float64 loop of the sheet's update
    ``w <- w - eta (w^T x - y) x`` (constant-1 feature appended), same order, on ``n`` training rows."""
    from numerics.engine.np_linear import LinearRegression

    ds = _load(current().data_dir)
    X, y = np.asarray(ds.X("train")[:n]), np.asarray(ds.y("train")[:n])
    n = len(y)                                                  # a small training split has fewer rows
    model = LinearRegression(X.shape[1], eta)
    model.train_epoch(X, y, np.random.default_rng(3))
    w = np.zeros(X.shape[1] + 1)
    for i in np.random.default_rng(3).permutation(n):
        x = np.append(X[i].astype(np.float64), 1.0)
        w -= eta * (w @ x - y[i]) * x
    err = float(np.max(np.abs(model.W[0] - w)) / max(1.0, np.max(np.abs(w))))
    return Check(name="update rule", method=f"engine vs a naive float64 loop of w <- w - eta (w.x - y) x ({n} rows, 1 epoch)",
                 passed=err <= 1e-4, detail=f"max |w_engine - w_naive| / max |w_naive| = {err:.2g}")


def w_star_check(lam: Optional[float]) -> Check:
    """w* solves the (ridge-regularised) normal equations: its residual gradient is ~0."""
    from numerics.engine.np_linear import least_squares

    ds = _load(current().data_dir)
    X, y = np.asarray(ds.X("train")), np.asarray(ds.y("train"))
    w, method = least_squares(X, y, lam)
    A = np.hstack([X, np.ones((len(X), 1))]).astype(np.float64)
    g = A.T @ (A @ w - y) + (lam or 0.0) * w
    rel = float(np.linalg.norm(g) / np.linalg.norm(A.T @ y))
    return Check(name="w* is the least-squares solution", method=f"{method}: ||A^T(Aw* - y) + lambda w*|| / ||A^T y||",
                 passed=rel <= 1e-8, detail=f"relative residual {rel:.2g}")


LIN_SCHEMA = """\
Claims (all optional):
  distance_decreases = true   ||w_SGD - w*|| falls over the epochs (last < first, falling over the second half)
  gap_widens = false          the test minus train RMSE grows from the first to the last epoch
  final_train_rmse = 19400    numbers in the target's units, checked within a relative band
  final_test_rmse = 20600
  tolerance = 0.05            the relative band (default 0.05)"""


def linear_sgd(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """ist21.q2.2a: linear regression with per-example SGD; RMSE and the distance to w* against epoch."""
    pid = current_problem() or "ist21.q2.2a"
    claims = ex.check_claim_keys(pid, claims, ("distance_decreases", "gap_widens", "final_train_rmse",
                                               "final_test_rmse", "tolerance"))
    for k in ("learning_rate", "epochs"):
        _positive(pid, params, k)
    cfg = linear_config(params)
    outs = ex.run_configs({"linear regression (SGD)": cfg})
    out = outs["linear regression (SGD)"]
    _, dist = ex.series(out, "distance_to_w_star")
    dist = [d for d in dist if d is not None]
    _, tr = ex.series(out, "train_rmse")
    _, te = ex.series(out, "test_rmse")
    gaps = [b - a for a, b in zip(tr, te) if a is not None and b is not None]
    falls = bool(len(dist) >= 2 and dist[-1] < dist[0] and (ex.slope(dist) or 0) < 0)
    widens = bool(len(gaps) >= 2 and gaps[-1] > gaps[0])

    res = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    res.steps = [
        Step(text="Squared loss of a linear model with a constant-1 feature appended; weights start at 0; one "
                  "update per training house, reshuffled each epoch.",
             math=r"L_i(w)=\tfrac12(w^\top x_i-y_i)^2,\qquad w\leftarrow w-\eta\,(w^\top x_i-y_i)\,x_i",
             rule="per-example SGD"),
        Step(text="The analytic solution it is compared with (ridge with a tiny lambda, because X^T X may be singular):",
             math=r"w^\star=(X^\top X+\lambda I)^{-1}X^\top y,\ \lambda=10^{-4}", rule="least squares"),
        Step(text="Record the train and test RMSE and the distance ||w_SGD - w*|| after every epoch."),
    ]
    res.checks = [
        Check(name="the run finished", method="runner status", passed=not out["diverged"] and bool(out["metrics"]),
              detail=f"{len(out['metrics'])} epochs" + (f"; diverged: {out['diverged_reason']}" if out["diverged"] else "")),
        sgd_oracle_check(cfg["eta"]),
        w_star_check(1e-4),
    ]
    init_rmse = (out.get("initial") or {}).get("train_rmse")
    rmse = ex.curves("rmse", "Linear regression by SGD: train and test RMSE against epoch, from epoch 1 (at "
                     f"epoch 0, w = 0, the train RMSE is {ex.fmt(init_rmse)}: left out so that the gap stays visible).",
                     outs, ["train_rmse", "test_rmse"], "RMSE (target units)")
    for s_ in rmse.series:
        s_.x, s_.y = [a for a in s_.x if a > 0], [b for a, b in zip(s_.x, s_.y) if a > 0]
    rmse.hlines = [{"y": 0.0, "label": "zero error", "color": "k"}]
    distance = ex.curves("distance", "Distance of the SGD weights to the least-squares solution w* against epoch "
                         "(log scale).", outs, ["distance_to_w_star"], "||w_SGD - w*|| (log scale)")
    distance.yscale = "log"
    res.figures = [rmse, distance]
    res.tables = [ex.results_table("Linear regression by SGD: final metrics.", outs,
                                   metrics=("train_rmse", "test_rmse", "train_loss"),
                                   extra={"distance to w*": {"linear regression (SGD)": dist[-1] if dist else None},
                                          "test - train RMSE": {"linear regression (SGD)": gaps[-1] if gaps else None}})]
    verdicts = []
    for key, value, proxy in (
            ("distance_decreases", falls, f"||w - w*|| {ex.fmt(dist[0] if dist else None)} -> {ex.fmt(dist[-1] if dist else None)}, "
                                          f"slope over the second half {ex.fmt(ex.slope(dist))} per epoch"),
            ("gap_widens", widens, f"test - train RMSE {ex.fmt(gaps[0] if gaps else None)} at epoch 0 -> "
                                   f"{ex.fmt(gaps[-1] if gaps else None)} at the last epoch")):
        claimed = ex.claim_bool(pid, claims, key)
        if claimed is not None:
            verdicts.append(ex.trend_verdict(f"{key} = {str(claimed).lower()}", claimed, value, proxy))
    band = ex.claim_number(pid, claims, "tolerance")
    for key in ("final_train_rmse", "final_test_rmse"):
        claimed = ex.claim_number(pid, claims, key)
        if claimed is not None:
            verdicts.append(ex.number_verdict(f"{key} = {claimed:g}", claimed, ex.final(out, key.removeprefix("final_")),
                                              0.05 if band is None else band, key.removeprefix("final_").replace("_", " "),
                                              relative=True))
    res.verdicts = verdicts
    res.summary = (f"train RMSE {ex.fmt(ex.final(out, 'train_rmse'))}, test RMSE {ex.fmt(ex.final(out, 'test_rmse'))}; "
                   f"||w - w*|| {ex.fmt(dist[0] if dist else None)} -> {ex.fmt(dist[-1] if dist else None)} "
                   f"({'falls' if falls else 'does not fall'}); gap {'widens' if widens else 'narrows'}.")
    return res


linear_sgd.CLAIM_SCHEMA = LIN_SCHEMA


# -- q2.2b ----------------------------------------------------------------------------------------

def network_gradient_check(cfg: dict, n: int = 6) -> list[Check]:
    """The engine MLP's hand-written gradients (ReLU hidden, linear output, squared loss) against torch
    autograd and central finite differences, float64, on ``n`` training rows (standardised target)."""
    from numerics.engine.np_mlp import MLP

    ds = _load(current().data_dir)
    X = np.asarray(ds.X("train")[:n], np.float64)
    y_all = np.asarray(ds.y("train"), np.float64)
    y = (y_all[:n] - y_all.mean()) / y_all.std()
    mlp = MLP([X.shape[1], *cfg["hidden_sizes"], 1], "relu", "identity", "mse", cfg["init"], "zeros",
              np.random.default_rng([cfg["seed"], 0]))
    mlp.W = [np.asfortranarray(W.astype(np.float64)) for W in mlp.W]
    mlp.b = [b.astype(np.float64) for b in mlp.b]
    Y = y[:, None]
    dW, db = mlp.gradients(X, Y)
    W = [torch.tensor(w, requires_grad=True) for w in mlp.W]
    b = [torch.tensor(v, requires_grad=True) for v in mlp.b]
    h = torch.tensor(X)
    for l in range(len(W)):
        z = h @ W[l].T + b[l]
        h = torch.relu(z) if l < len(W) - 1 else z
    (0.5 * ((h - torch.tensor(Y)) ** 2).sum(1).mean()).backward()
    err = max(float(np.max(np.abs(o - t.grad.numpy()))) for o, t in zip(dW + db, W + b))
    scale = max(float(np.max(np.abs(g))) for g in dW + db)
    pairs = finite_differences(lambda: mlp.loss(X, y), zip(mlp.W, dW), np.random.default_rng(0), 3)
    fd = max([0.0] + [abs(fd_ - g) / max(1.0, abs(g)) for fd_, g in pairs])
    return [Check(name="backward pass = autograd", method=f"hand-written gradients vs torch autograd, float64, {n} rows",
                  passed=err <= 1e-9 * max(1.0, scale), detail=f"max |difference| = {err:.2g} (largest gradient {scale:.2g})"),
            Check(name="backward pass = finite differences", method="central differences (eps 1e-6) at 3 random weights per layer",
                  passed=fd <= 1e-6, detail=f"max relative difference = {fd:.2g}")]


def standardised_network(cfg: dict, epochs: int) -> dict:
    """The sheet's network and update on the standardised target (training mean/std); per-epoch train and
    test RMSE in the target's units. Uses the engine's MLP (per-example in-place updates)."""
    from numerics.engine.np_mlp import MLP

    ds = _load(current().data_dir)
    X, y = np.asarray(ds.X("train")), np.asarray(ds.y("train"), np.float64)
    Xt, yt = np.asarray(ds.X("test")), np.asarray(ds.y("test"), np.float64)
    mu, sd = float(y.mean()), float(y.std())
    z, zt = ((y - mu) / sd).astype(np.float32), ((yt - mu) / sd).astype(np.float32)
    mlp = MLP([X.shape[1], *cfg["hidden_sizes"], 1], "relu", "identity", "mse", cfg["init"], "zeros",
              np.random.default_rng([cfg["seed"], 0]))
    rng = np.random.default_rng([cfg["seed"], 1])
    rows = []

    def row(epoch, wall):
        r = {"epoch": epoch, "wall_time": wall}
        for split, (A, t) in {"train": (X, z), "test": (Xt, zt)}.items():
            r[f"{split}_rmse"] = mlp.evaluate(A, t)["rmse"] * sd
        return r

    initial = row(0, 0.0)
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        mlp.train_epoch(X, z, rng, eta=cfg["eta"], batch_size=1)
        rows.append(row(epoch, time.perf_counter() - t0))
        if not all(math.isfinite(rows[-1][k]) for k in ("train_rmse", "test_rmse")):
            break
    return {"initial": initial, "metrics": rows, "mean": mu, "std": sd}


NET_SCHEMA = """\
Claims (all optional):
  sheet_settings_diverge = true   the network at the sheet's settings (targets in dollars) diverges
  network_beats_linear = true     the network's final test RMSE is below the linear model's (q2.2a)
  network_test_rmse = 21000       the network's final test RMSE (standardised-target run, target units)
  tolerance = 0.05                relative band for the number (default 0.05)"""


def regression_network(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """ist21.q2.2b: one hidden layer of ReLU units, linear output, squared loss, SGD; overlay with q2.2a."""
    from problems.registry import get

    pid = current_problem() or "ist21.q2.2b"
    claims = ex.check_claim_keys(pid, claims, ("sheet_settings_diverge", "network_beats_linear",
                                               "network_test_rmse", "tolerance"))
    for k in ("learning_rate", "epochs", "init_std"):
        _positive(pid, params, k)
    try:
        cfg = network_config(params)
    except (TypeError, ValueError):
        raise InputError(f"[{pid}] hidden_sizes = {params['hidden_sizes']!r}: expected a list of positive integers") from None
    lin_cfg = linear_config(get("ist21.q2.2a").defaults())
    lin_cfg["eta"], lin_cfg["epochs"] = cfg["eta"], cfg["epochs"]
    outs = ex.run_configs({"network, sheet's settings": cfg, "linear regression (q2.2a)": lin_cfg})
    sheet, lin = outs["network, sheet's settings"], outs["linear regression (q2.2a)"]
    epochs = sheet["budget"]["epochs"]
    std_run = standardised_network(cfg, epochs)
    net_final = std_run["metrics"][-1] if std_run["metrics"] else {}
    net_test, lin_test = net_final.get("test_rmse"), ex.final(lin, "test_rmse")
    beats = None if net_test is None or lin_test is None else bool(net_test < lin_test)
    std_ok = bool(std_run["metrics"]) and len(std_run["metrics"]) == epochs and all(
        math.isfinite(v) for v in (net_final.get("train_rmse", math.nan), net_test or math.nan))

    res = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    res.data["runs"]["network, standardised target"] = {"dataset": sheet["dataset"]["name"], "seed": cfg["seed"],
                                                        "epochs": epochs, "target_mean": std_run["mean"],
                                                        "target_std": std_run["std"], "computed": "in the solver"}
    res.steps = [
        Step(text=f"One hidden layer of {cfg['hidden_sizes']} ReLU units, a linear output and the squared loss; "
                  f"per-example SGD with eta = {cfg['eta']:g}; W ~ N({params['init_mean']:g}, {params['init_std']:g}^2), b = 0.",
             math=r"f(x)=w_2^\top\mathrm{ReLU}(W_1x+b_1)+b_2,\quad L=\tfrac12(f(x)-y)^2,\quad "
                  r"\delta_2=f(x)-y,\ \delta_1=(w_2\delta_2)\odot\mathbf 1[W_1x+b_1>0]",
             rule="backpropagation"),
        Step(text="At the sheet's settings with the target in dollars the first residuals are ~10^5, so the first "
                  "updates move the output weights by ~10^2 and the hidden weights by far more: the run diverges "
                  + (f"(measured: epoch {sheet['diverged_epoch']}, {sheet['diverged_reason']})." if sheet["diverged"]
                     else "(measured: it did not diverge on this data).")),
        Step(text="The checker's variant for the comparison: the same network, initialisation and update on the "
                  "standardised target y' = (y - mean)/std (training statistics); its RMSE is converted back to "
                  f"dollars (std = {std_run['std']:.4g}).", rule="documented deviation", gap=True),
    ]
    res.checks = network_gradient_check(cfg) + [
        Check(name="the sheet's run is recorded", method="runner status (divergence is a measured outcome here)",
              passed=bool(sheet["metrics"]) or sheet["diverged"],
              detail=(f"diverged at epoch {sheet['diverged_epoch']}: {sheet['diverged_reason']}" if sheet["diverged"]
                      else f"{len(sheet['metrics'])} epochs, final train RMSE {ex.fmt(ex.final(sheet, 'train_rmse'))}")),
        Check(name="the standardised-target run finished", method="finite RMSE after every epoch", passed=std_ok,
              detail=f"{len(std_run['metrics'])}/{epochs} epochs; final train RMSE {ex.fmt(net_final.get('train_rmse'))}, "
                     f"test RMSE {ex.fmt(net_test)}"),
    ]
    series = []
    rows = std_run["metrics"]
    for key, st in (("train_rmse", "-"), ("test_rmse", "--")):
        series.append(Series(f"network (standardised target): {ex.METRIC_LABELS[key]}", [r["epoch"] for r in rows],
                             [r[key] for r in rows], st))
    for key, st in (("train_rmse", "-."), ("test_rmse", ":")):
        x, y = ex.series(lin, key)
        series.append(Series(f"linear (q2.2a): {ex.METRIC_LABELS[key]}", [a for a in x if a > 0],
                             [b for a, b in zip(x, y) if a > 0], st))
    note = ex.data_note(outs)
    res.figures = [Figure(
        name="network vs linear",
        caption=("Train and test RMSE against epoch: the ReLU network (standardised-target variant, RMSE in the "
                 "target's units) overlaid on the linear model of q2.2a, from epoch 1 (at initialisation the network's "
                 f"train RMSE is {ex.fmt(std_run['initial']['train_rmse'])}, the linear model's "
                 f"{ex.fmt((lin.get('initial') or {}).get('train_rmse'))}: left out for scale). {note}"),
        xlabel="epoch", ylabel="RMSE (target units)", series=series,
        hlines=[{"y": 0.0, "label": "zero error", "color": "k"}])]
    res.tables = [Table(
        caption=f"Final RMSE (target units) of the three runs. {note}",
        columns=["run", "epochs run", "train RMSE", "test RMSE", "diverged"],
        rows=[["network, sheet's settings (dollars)", len(sheet["metrics"]), ex.fmt(ex.final(sheet, "train_rmse")),
               ex.fmt(ex.final(sheet, "test_rmse")),
               f"epoch {sheet['diverged_epoch']}: {sheet['diverged_reason']}" if sheet["diverged"] else "no"],
              ["network, standardised target", len(std_run["metrics"]), ex.fmt(net_final.get("train_rmse")),
               ex.fmt(net_test), "no" if std_ok else "yes"],
              ["linear regression (q2.2a)", len(lin["metrics"]), ex.fmt(ex.final(lin, "train_rmse")),
               ex.fmt(lin_test), "no" if not lin["diverged"] else f"epoch {lin['diverged_epoch']}"]])]
    verdicts = []
    for key, value, proxy in (
            ("sheet_settings_diverge", bool(sheet["diverged"]),
             f"runner divergence test on the sheet's run: {sheet['diverged_reason'] or 'finite, below 100 x the initial loss'}"),
            ("network_beats_linear", beats, f"final test RMSE: network {ex.fmt(net_test)} vs linear {ex.fmt(lin_test)}")):
        claimed = ex.claim_bool(pid, claims, key)
        if claimed is not None:
            verdicts.append(ex.trend_verdict(f"{key} = {str(claimed).lower()}", claimed, value, proxy))
    claimed = ex.claim_number(pid, claims, "network_test_rmse")
    if claimed is not None:
        band = ex.claim_number(pid, claims, "tolerance")
        verdicts.append(ex.number_verdict(f"network_test_rmse = {claimed:g}", claimed, net_test,
                                          0.05 if band is None else band, "network test RMSE", relative=True))
    res.verdicts = verdicts
    res.summary = (("sheet's settings: diverged at epoch " + str(sheet["diverged_epoch"]) if sheet["diverged"]
                    else "sheet's settings: converged")
                   + f"; standardised target: test RMSE {ex.fmt(net_test)} vs linear {ex.fmt(lin_test)}.")
    return res


regression_network.CLAIM_SCHEMA = NET_SCHEMA
