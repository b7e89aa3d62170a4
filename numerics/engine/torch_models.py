"""PyTorch models for the empirical problems, each with its output head (how outputs become a loss).

Heads: ``ce`` (logits, cross-entropy), ``softmax_mse`` (``1/2 ||softmax(z) - e_y||^2`` summed over
classes, mean over the batch), ``sigmoid_bce`` (outputs already in (0,1), binary cross-entropy
against the one-hot target, as Keras' ``binary_crossentropy`` does for 10 classes).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def head_loss(head: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean loss of outputs ``out`` (B, K) against labels ``y`` (B,) for ``head``."""
    if head == "ce":
        return F.cross_entropy(out, y)
    Y = F.one_hot(y, out.shape[1]).to(out.dtype)                        # (B, K)
    if head == "softmax_mse":
        return 0.5 * ((torch.softmax(out, dim=1) - Y) ** 2).sum(dim=1).mean()
    if head == "sigmoid_bce":
        return F.binary_cross_entropy(out.clamp(1e-7, 1 - 1e-7), Y)
    raise ValueError(f"head {head!r}: expected 'ce', 'softmax_mse' or 'sigmoid_bce'")


class LogisticRegression(nn.Module):
    """``z = W x + b``: logits for cross-entropy (head ``ce``)."""

    head = "ce"

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, X: torch.Tensor) -> torch.Tensor:                # (B, D) -> (B, K)
        return self.linear(X)


class FeedforwardNetwork(nn.Module):
    """``hidden_sizes`` layers of Linear -> activation -> Dropout(p), then a linear output layer."""

    def __init__(self, n_features: int, n_classes: int, hidden_sizes: list[int], activation: str = "relu",
                 dropout: float = 0.0, head: str = "ce"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r}: expected one of {sorted(ACTIVATIONS)}")
        sizes = [n_features, *hidden_sizes, n_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.activation, self.p, self.head = activation, float(dropout), head
        self.g = ACTIVATIONS[activation]()
        self.drop = nn.Dropout(self.p)

    def forward(self, X: torch.Tensor) -> torch.Tensor:                # (B, D) -> (B, K)
        h = X
        for lin in self.linears[:-1]:
            h = self.drop(self.g(lin(h)))
        return self.linears[-1](h)


class AlexNet32(nn.Module):
    """AlexNet-style CNN for 32x32x3 (23.3 M parameters, 125.5 MFLOP per forward image).

    conv 3->64 (3x3, stride 2) -> pool -> conv 64->192 -> pool -> conv 192->384 -> 384->256 -> 256->256
    -> pool -> [Dropout] FC 1024->4096 -> [Dropout] FC 4096->4096 -> FC 4096->10; every conv is
    followed by [BatchNorm] and ReLU. ``batchnorm`` and ``dropout`` switch the bracketed layers.
    """

    head = "ce"

    def __init__(self, n_classes: int = 10, batchnorm: bool = True, dropout: bool = True, p: float = 0.5):
        super().__init__()

        def conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
            bn = [nn.BatchNorm2d(c_out)] if batchnorm else []
            return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), *bn, nn.ReLU(inplace=True)]

        drop = (lambda: [nn.Dropout(p)]) if dropout else (lambda: [])
        self.features = nn.Sequential(
            *conv(3, 64, stride=2), nn.MaxPool2d(2),                   # (B, 64, 8, 8)
            *conv(64, 192), nn.MaxPool2d(2),                           # (B, 192, 4, 4)
            *conv(192, 384), *conv(384, 256), *conv(256, 256), nn.MaxPool2d(2))  # (B, 256, 2, 2)
        self.classifier = nn.Sequential(
            *drop(), nn.Linear(256 * 2 * 2, 4096), nn.ReLU(inplace=True),
            *drop(), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, n_classes))

    def forward(self, X: torch.Tensor) -> torch.Tensor:                # (B, 3*32*32) or (B, 3, 32, 32)
        X = X.reshape(len(X), 3, 32, 32)
        return self.classifier(self.features(X).flatten(1))


class KerasStyleNet(nn.Module):
    """Dense layers with a chosen hidden and output activation (the hertie.2.2a Keras class).

    ``hidden``/``output``: ``softmax``, ``sigmoid``, ``relu`` or ``linear``; ``head`` as in :func:`head_loss`.
    """

    def __init__(self, sizes: list[int], hidden: str, output: str, head: str):
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.hidden, self.output, self.head = hidden, output, head

    def _act(self, name: str, z: torch.Tensor) -> torch.Tensor:
        return {"softmax": lambda: torch.softmax(z, dim=1), "sigmoid": lambda: torch.sigmoid(z),
                "relu": lambda: torch.relu(z), "linear": lambda: z}[name]()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        h = X
        for lin in self.linears[:-1]:
            h = self._act(self.hidden, lin(h))
        return self._act(self.output, self.linears[-1](h))


PLANTED_DEFECTS = ("softmax hidden activation", "sigmoid output activation", "binary cross-entropy for 10 classes")


def broken_network(sizes: list[int]) -> KerasStyleNet:
    """hertie.2.2a as given: softmax hidden layers, sigmoid output, binary cross-entropy (``PLANTED_DEFECTS``)."""
    return KerasStyleNet(sizes, hidden="softmax", output="sigmoid", head="sigmoid_bce")


SHEET_HIDDEN = "sigmoid"    # the hidden activation of the sheet's MNIST networks (hertie.2.1a/2.1b)


def fixed_network(sizes: list[int]) -> KerasStyleNet:
    """The repaired twin: only the three defects undone. Hidden layers get the sheet's activation
    (:data:`SHEET_HIDDEN`, sigmoid), the output is linear logits and the loss is categorical cross-entropy
    (softmax inside the loss, i.e. a softmax output with cross-entropy); sizes and everything else as given."""
    return KerasStyleNet(sizes, hidden=SHEET_HIDDEN, output="linear", head="ce")
