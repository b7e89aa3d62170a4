"""One source of defaults per experiment kind, and strict overrides.

``resolve({"kind": "ffn_torch", "batch_size": 1024})`` returns the full configuration; an unknown
key, a wrong type or a value outside a field's choices raises ``ValueError`` naming the key.
Defaults are the catalog's (the sheet's) values for the problem the kind is first used by.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """A configuration field: its default, its type (``int``, ``float``, ``bool``, ``str`` or ``"ints"``
    for a list of positive integers), allowed ``choices``, and whether ``None`` is allowed."""

    default: Any
    type: Any
    choices: tuple | None = None
    nullable: bool = False
    doc: str = ""


def _common(dataset: str, epochs: int, **extra: Field) -> dict[str, Field]:
    return {
        "dataset": Field(dataset, str, doc="registry name (numerics.datasets.names())"),
        "epochs": Field(epochs, int),
        "seed": Field(1, int, doc="random state of initialisation, shuffling, dropout and subsets"),
        "n_train": Field(None, int, nullable=True, doc="random subset of the train split (None: all)"),
        "n_val": Field(None, int, nullable=True),
        "n_test": Field(None, int, nullable=True),
        "eval_train": Field(True, bool, doc="compute train loss/accuracy each epoch"),
        "eval_test": Field(True, bool, doc="compute test metrics each epoch"),
        "divergence_factor": Field(100.0, float, doc="diverged when loss > factor x initial loss"),
        **extra,
    }


_TORCH_OPT = {
    "optimizer": Field("sgd", str, ("sgd", "adam")),
    "momentum": Field(0.0, float),
    "l2": Field(0.0, float, doc="weight decay of the optimiser"),
    "lr_schedule": Field("none", str, ("none", "time_based")),
    "schedule_every": Field("epoch", str, ("step", "epoch")),
}

DEFAULTS: dict[str, dict[str, Field]] = {
    # ist23.q1.1a
    "perceptron": _common("octmnist", 20),
    # ist23.q1.1b (eta in {0.01, 0.001}); ist24.q1.2b-d penalties
    "logreg_numpy": _common("octmnist", 50, eta=Field(0.001, float),
                            penalty=Field("none", str, ("none", "l2", "l1_subgradient", "l1_proximal")),
                            lam=Field(0.0, float)),
    # ist21.q2.2a; w* by ridge with lambda_star, or pseudo-inverse when None
    "linreg_numpy": _common("ames", 150, eta=Field(0.001, float),
                            lambda_star=Field(1e-4, float, nullable=True)),
    # ist23.q1.2b (also ist24.q1.3a, ist21.q3.2b, ist21.q2.2b, hertie.2.1a by overrides)
    "mlp_numpy": _common("octmnist", 20, hidden_sizes=Field([200], "ints"),
                         activation=Field("relu", str, ("relu", "sigmoid", "tanh")),
                         output=Field("softmax", str, ("softmax", "identity")),
                         loss=Field("ce", str, ("ce", "mse")),
                         init=Field("normal:0.1,0.1", str), bias_init=Field("zeros", str),
                         eta=Field(0.001, float), batch_size=Field(1, int)),
    # tau.p1b reference run
    "network_tau": _common("mnist", 30, hidden_sizes=Field([40], "ints"), eta=Field(0.1, float),
                           batch_size=Field(10, int), init=Field("standard_normal", str)),
    # ist23.q2.1
    "logreg_torch": _common("octmnist", 20, eta=Field(0.001, float), batch_size=Field(16, int), **_TORCH_OPT),
    # ist23.q2.2a, the sheet's Table 1
    "ffn_torch": _common("octmnist", 20, eta=Field(0.1, float), hidden_size=Field(200, int),
                         layers=Field(2, int), hidden_sizes=Field(None, "ints", nullable=True),
                         dropout=Field(0.0, float), batch_size=Field(16, int),
                         activation=Field("relu", str, ("relu", "tanh", "sigmoid")),
                         head=Field("ce", str, ("ce", "softmax_mse")), fast=Field(True, bool),
                         **_TORCH_OPT),
    # tau.p2a (the checker's documented defaults: SGD with momentum, batch 64, 10 epochs, 10 % of train)
    "alexnet": _common("cifar10", 10, eta=Field(0.01, float), batch_size=Field(64, int),
                       batchnorm=Field(True, bool), dropout=Field(True, bool),
                       train_fraction=Field(0.1, float), **{**_TORCH_OPT, "momentum": Field(0.9, float)}),
    # hertie.2.2a: the Keras class, broken or fixed; template defaults (eta 0.01, batch 1, 50 epochs)
    "keras_net": _common("mnist", 50, variant=Field("broken", str, ("broken", "fixed")),
                         hidden_sizes=Field([128, 64], "ints"), eta=Field(0.01, float),
                         batch_size=Field(1, int), **_TORCH_OPT),
}


POSITIVE = {"epochs", "eta", "batch_size", "hidden_size", "layers", "divergence_factor", "n_train", "n_val",
            "n_test", "train_fraction", "lambda_star"}


def _check(kind: str, key: str, value: Any, field: Field) -> Any:
    where = f"{kind}.{key}"
    if value is None:
        if field.nullable:
            return None
        raise ValueError(f"{where}: None is not allowed")
    t = field.type
    if t == "ints":
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            raise ValueError(f"{where}: expected a list of positive integers, got {value!r}")
        return [int(v) for v in value]
    if isinstance(value, bool) and t is not bool:
        raise ValueError(f"{where}: expected {t.__name__}, got bool {value!r}")
    if t is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, t):
        raise ValueError(f"{where}: expected {t.__name__}, got {type(value).__name__} {value!r}")
    if field.choices is not None and value not in field.choices:
        raise ValueError(f"{where}: {value!r} is not one of {field.choices}")
    if t in (int, float) and key in POSITIVE and value <= 0:
        raise ValueError(f"{where}: expected a positive number, got {value!r}")
    if t in (int, float) and value < 0:
        raise ValueError(f"{where}: expected a non-negative number, got {value!r}")
    if key == "dropout" and isinstance(value, float) and value >= 1:
        raise ValueError(f"{where}: a dropout probability must be below 1, got {value!r}")
    return value


def resolve(config: dict) -> dict:
    """The full configuration for ``config["kind"]``: defaults, then the strict overrides in ``config``."""
    if not isinstance(config, dict) or "kind" not in config:
        raise ValueError(f"config must be a dict with a 'kind' key; kinds: {sorted(DEFAULTS)}")
    kind = config["kind"]
    if kind not in DEFAULTS:
        raise ValueError(f"kind: unknown experiment kind {kind!r}; known: {sorted(DEFAULTS)}")
    fields = DEFAULTS[kind]
    unknown = sorted(set(config) - set(fields) - {"kind"})
    if unknown:
        raise ValueError(f"{kind}: unknown key(s) {unknown}; known: {sorted(fields)}")
    out = {"kind": kind}
    for key, field in fields.items():
        value = config.get(key, field.default)
        out[key] = _check(kind, key, list(value) if isinstance(value, tuple) else value, field)
    return out
