"""Experiments with linear models written in NumPy: the multi-class perceptron.

The worked pattern of an experiment solver: parameters -> run configurations -> :func:`run_configs`
-> figures, a table, proxies, claim verdicts, with the data that ran on the page.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from numerics import experiment as ex
from problems.context import current, current_problem
from problems.model import Check, Result, Step

ACCURACY_KEYS = ("train_accuracy", "val_accuracy", "test_accuracy")

PERCEPTRON_SCHEMA = """\
Claims (all optional; numbers are fractions in [0, 1]):
  train_accuracy = 0.55   final train accuracy
  val_accuracy = 0.54     final validation accuracy
  test_accuracy = 0.52    final test accuracy
  tolerance = 0.03        the band for the numbers above (default: 0.25 smoke, 0.05 quick, 0.02 full)
A claimed number passes when it lies within the band of the accuracy measured by the checker's own
run (same hyper-parameters, the profile's budget; the verdict names the profile)."""


def _number_verdicts(pid: str, claims: dict, outs_final: dict[str, Optional[float]]) -> list:
    """Verdicts on claimed final metrics ``{claim key: measured value}``."""
    band = ex.claim_number(pid, claims, "tolerance")
    band = ex.band_for("accuracy") if band is None else band
    verdicts = []
    for key, measured in outs_final.items():
        claimed = ex.claim_number(pid, claims, key)
        if claimed is not None:
            verdicts.append(ex.number_verdict(f"{key} = {claimed:g}", claimed, measured, band,
                                              ex.METRIC_LABELS.get(key, key)))
    return verdicts


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
    """Multi-class perceptron (ist23.q1.1a, ist24.q1.1a, ist21.q3.1a)."""
    pid = current_problem() or "perceptron"
    claims = ex.check_claim_keys(pid, claims, ACCURACY_KEYS + ("tolerance",))
    cfg = {"kind": "perceptron", "dataset": params["dataset"], "epochs": params["epochs"], "seed": params["seed"]}
    outs = ex.run_configs({"perceptron": cfg})
    out = outs["perceptron"]

    result = Result(problem_id=pid, params=params, random_state=ex.random_state(outs), data=ex.data_record(outs))
    result.steps = [
        Step(text="Predict with the highest score; on a mistake move the true class's weights towards x "
                  "and the predicted class's away from it (weights start at 0, a constant-1 feature is appended).",
             math=r"\hat y=\arg\max_k w_k^\top x,\quad w_y\leftarrow w_y+x,\quad w_{\hat y}\leftarrow w_{\hat y}-x",
             rule="the sheet's update"),
        Step(text=f"Train {out['budget']['epochs']} epochs of per-example updates, reshuffling every epoch; "
                  "log the train, validation and test accuracy after each epoch."),
    ]
    result.checks = [
        Check(name="the run finished", method="runner status", passed=not out["diverged"] and bool(out["metrics"]),
              detail=f"{len(out['metrics'])} epochs" + (f"; diverged: {out['diverged_reason']}" if out["diverged"] else "")),
        perceptron_oracle_check(params["dataset"], params["seed"]),
        Check(name="better than chance", method="final train accuracy vs 1/K",
              passed=(ex.final(out, "train_accuracy") or 0) > 1 / out["dataset"]["n_classes"],
              detail=f"train accuracy {ex.fmt(ex.final(out, 'train_accuracy'))}, chance {1 / out['dataset']['n_classes']:.3g}"),
    ]
    result.figures = [ex.curves("accuracy", "Perceptron: train and validation accuracy against epoch.", outs,
                                params.get("plot", ["train_accuracy", "val_accuracy"]), "accuracy")]
    result.tables = [ex.results_table("Perceptron: final accuracies.", outs,
                                      metrics=("train_accuracy", "val_accuracy", "test_accuracy"))]
    result.verdicts = _number_verdicts(pid, claims, {k: ex.final(out, k) for k in ACCURACY_KEYS})
    acc = ", ".join(f"{ex.METRIC_LABELS[k]} {ex.fmt(ex.final(out, k))}" for k in ACCURACY_KEYS)
    result.summary = f"final {acc} after {out['budget']['epochs']} epochs."
    return result


perceptron.CLAIM_SCHEMA = PERCEPTRON_SCHEMA
