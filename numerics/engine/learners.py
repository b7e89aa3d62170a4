"""Build a learner for a resolved configuration: one uniform face over NumPy and PyTorch trainers.

A learner has ``train_epoch() -> updates``, ``evaluate(split) -> {"loss", "accuracy", ...}``,
``extras() -> dict`` (per-epoch extras such as the weight norm or the learning rate), and
``state()`` / ``load_state()`` which include every random state, so that a run resumed from a
checkpoint continues exactly as the uninterrupted run would have.
"""
from __future__ import annotations

import numpy as np
import torch

from numerics.engine import np_linear, np_mlp, torch_loop, torch_models


class NumpyLearner:
    """A NumPy model with its own shuffling generator ``default_rng([seed, 1])``."""

    def __init__(self, model, data: dict, seed: int, **train_kwargs):
        self.model, self.data, self.train_kwargs = model, data, train_kwargs
        self.rng = np.random.default_rng([seed, 1])

    def train_epoch(self) -> int:
        X, y = self.data["train"]
        return self.model.train_epoch(X, y, self.rng, **self.train_kwargs)

    def evaluate(self, split: str) -> dict:
        return self.model.evaluate(*self.data[split])

    def extras(self) -> dict:
        return self.model.extras()

    def state(self) -> dict:
        return {"model": self.model.state(), "rng": self.rng.bit_generator.state}

    def load_state(self, state: dict) -> None:
        self.model.load_state(state["model"])
        self.rng.bit_generator.state = state["rng"]


class TorchRunLearner:
    """A :class:`TorchLearner` with the data as tensors on the device and its generators."""

    def __init__(self, learner: torch_loop.TorchLearner, data: dict, seed: int, dev: torch.device):
        self.learner = learner
        self.data = {s: (torch.tensor(np.asarray(X)).to(dev), torch.tensor(np.asarray(y)).to(dev))
                     for s, (X, y) in data.items()}
        self.generator = torch.Generator().manual_seed(seed + 1)

    def train_epoch(self) -> int:
        return self.learner.train_epoch(*self.data["train"], self.generator)

    def evaluate(self, split: str) -> dict:
        return self.learner.evaluate(*self.data[split])

    def extras(self) -> dict:
        return self.learner.extras()

    def state(self) -> dict:
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        return {"learner": self.learner.state(), "generator": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(), "cuda_rng": cuda}

    def load_state(self, state: dict) -> None:
        self.learner.load_state(state["learner"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])


def _numpy(cfg: dict, data: dict, n_features: int, n_classes: int | None) -> NumpyLearner:
    kind, seed = cfg["kind"], cfg["seed"]
    init_rng = np.random.default_rng([seed, 0])
    if kind == "perceptron":
        return NumpyLearner(np_linear.Perceptron(n_features, n_classes), data, seed)
    if kind == "logreg_numpy":
        model = np_linear.LogisticRegression(n_features, n_classes, cfg["eta"], cfg["penalty"], cfg["lam"])
        return NumpyLearner(model, data, seed)
    if kind == "linreg_numpy":
        w_star, _ = np_linear.least_squares(*data["train"], cfg["lambda_star"])
        return NumpyLearner(np_linear.LinearRegression(n_features, cfg["eta"], w_star), data, seed)
    if kind == "mlp_numpy":
        n_out = n_classes if cfg["output"] == "softmax" else 1
        model = np_mlp.MLP([n_features, *cfg["hidden_sizes"], n_out], cfg["activation"], cfg["output"],
                           cfg["loss"], cfg["init"], cfg["bias_init"], init_rng)
        return NumpyLearner(model, data, seed, eta=cfg["eta"], batch_size=cfg["batch_size"])
    if kind == "network_tau":
        model = np_mlp.MLP([n_features, *cfg["hidden_sizes"], n_classes], "relu", "softmax", "ce",
                           cfg["init"], cfg["init"], init_rng)
        return NumpyLearner(model, data, seed, eta=cfg["eta"], batch_size=cfg["batch_size"])
    raise ValueError(f"kind {kind!r} is not a NumPy kind")


def _torch_model(cfg: dict, n_features: int, n_classes: int) -> torch.nn.Module:
    kind = cfg["kind"]
    if kind == "logreg_torch":
        return torch_models.LogisticRegression(n_features, n_classes)
    if kind == "ffn_torch":
        hidden = cfg["hidden_sizes"] or [cfg["hidden_size"]] * cfg["layers"]
        return torch_models.FeedforwardNetwork(n_features, n_classes, hidden, cfg["activation"],
                                               cfg["dropout"], cfg["head"])
    if kind == "alexnet":
        return torch_models.AlexNet32(n_classes, cfg["batchnorm"], cfg["dropout"])
    if kind == "keras_net":
        make = torch_models.broken_network if cfg["variant"] == "broken" else torch_models.fixed_network
        return make([n_features, *cfg["hidden_sizes"], n_classes])
    raise ValueError(f"kind {kind!r} is not a PyTorch kind")


NUMPY_KINDS = ("perceptron", "logreg_numpy", "linreg_numpy", "mlp_numpy", "network_tau")


def build(cfg: dict, data: dict, n_features: int, n_classes: int | None):
    """The learner for ``cfg`` on ``data`` (``{split: (X, y)}``); torch models draw from ``manual_seed(seed)``."""
    if cfg["kind"] in NUMPY_KINDS:
        return _numpy(cfg, data, n_features, n_classes)
    torch.manual_seed(cfg["seed"])
    dev = torch_loop.device()
    model = _torch_model(cfg, n_features, n_classes).to(dev)
    optimizer = torch_loop.make_optimizer(cfg["optimizer"], model.parameters(), cfg["eta"], cfg["momentum"], cfg["l2"])
    scheduler = torch_loop.time_based_scheduler(optimizer, cfg["eta"]) if cfg["lr_schedule"] == "time_based" else None
    learner = torch_loop.TorchLearner(model, optimizer, cfg["batch_size"], scheduler, cfg["schedule_every"],
                                      fast=cfg.get("fast", True))
    return TorchRunLearner(learner, data, cfg["seed"], dev)
