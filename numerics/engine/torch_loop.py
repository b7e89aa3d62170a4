"""The PyTorch training loop: tensors in memory, batches sliced by index, optional LR schedule.

``TorchLearner.train_epoch(X, y, generator)`` draws one permutation with ``generator`` and takes one
optimiser step per slice; ``evaluate`` runs in eval mode without gradients, in chunks.
"""
from __future__ import annotations

import torch

from numerics.engine.torch_fast import ffn_loss_and_grads, ffn_sgd_step, plain_sgd
from numerics.engine.torch_models import FeedforwardNetwork, head_loss


def device() -> torch.device:
    """CUDA when available, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def time_based_factor(eta0: float):
    """``LambdaLR`` factor for ``eta_t = max(eta0 - t, 1)`` with the optimiser's base rate ``eta0``."""
    if eta0 < 1:
        raise ValueError(f"eta0={eta0!r}: the time-based schedule needs eta0 >= 1")
    return lambda t: max(eta0 - t, 1.0) / eta0


def time_based_scheduler(optimizer: torch.optim.Optimizer, eta0: float) -> torch.optim.lr_scheduler.LambdaLR:
    """hertie.2.2b: sets every group's rate to ``eta0`` and returns a ``LambdaLR`` giving ``max(eta0 - t, 1)``."""
    for group in optimizer.param_groups:
        group["lr"] = eta0
        group["initial_lr"] = eta0
    return torch.optim.lr_scheduler.LambdaLR(optimizer, time_based_factor(eta0))


def make_optimizer(name: str, params, lr: float, momentum: float = 0.0, l2: float = 0.0) -> torch.optim.Optimizer:
    """``sgd`` (with ``momentum``) or ``adam``; ``l2`` is the optimiser's weight decay."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=l2)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=l2)
    raise ValueError(f"optimizer {name!r}: expected 'sgd' or 'adam'")


class TorchLearner:
    """Owns a model, its optimiser and (optionally) a scheduler stepped per ``"step"`` or per ``"epoch"``."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch_size: int,
                 scheduler=None, schedule_every: str = "epoch", fast: bool = True):
        if schedule_every not in ("step", "epoch"):
            raise ValueError(f"schedule_every {schedule_every!r}: expected 'step' or 'epoch'")
        self.model, self.optimizer, self.batch_size = model, optimizer, int(batch_size)
        self.scheduler, self.schedule_every = scheduler, schedule_every
        self.head = getattr(model, "head", "ce")
        self.fast = fast and isinstance(model, FeedforwardNetwork) and self.head == "ce"
        self._decide_fused()

    def _decide_fused(self) -> None:
        """Plain SGD is applied inside the hand-written backward (no gradient tensors, no optimiser pass).
        Decided again after ``load_state`` (the loaded hyper-parameters may add momentum); the group is
        looked up at every step because ``load_state_dict`` replaces the group dicts (and schedulers
        change ``lr``). Groups added later with ``add_param_group`` are not seen: call this again."""
        self.fused = self.fast and plain_sgd(self.optimizer, self.model) is not None

    def _step(self, Xb: torch.Tensor, yb: torch.Tensor) -> None:
        if self.fused:
            ffn_sgd_step(self.model, self.optimizer.param_groups[0], Xb, yb)
            self.optimizer._opt_called = True      # what the scheduler's wrapper of step() records
        elif self.fast:
            ffn_loss_and_grads(self.model, Xb, yb)
            self.optimizer.step()
        else:
            self.optimizer.zero_grad(set_to_none=True)
            head_loss(self.head, self.model(Xb), yb).backward()
            self.optimizer.step()
        if self.scheduler is not None and self.schedule_every == "step":
            self.scheduler.step()

    def train_epoch(self, X: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> int:
        """One pass over a permutation drawn from ``generator``; returns the number of updates."""
        self.model.train()
        order = torch.randperm(len(y), generator=generator).to(X.device)
        updates = 0
        for s in range(0, len(y), self.batch_size):
            idx = order[s:s + self.batch_size]
            self._step(torch.index_select(X, 0, idx), torch.index_select(y, 0, idx))   # half of X[idx]'s cost
            updates += 1
        if self.scheduler is not None and self.schedule_every == "epoch":
            self.scheduler.step()
        return updates

    @torch.no_grad()
    def evaluate(self, X: torch.Tensor, y: torch.Tensor, chunk: int = 2048) -> dict:
        """``{"loss": mean loss, "accuracy": fraction of argmax hits}`` in eval mode."""
        self.model.eval()
        total, hits = 0.0, 0
        for s in range(0, len(y), chunk):
            out = self.model(X[s:s + chunk])
            total += float(head_loss(self.head, out, y[s:s + chunk])) * len(out)
            hits += int((out.argmax(1) == y[s:s + chunk]).sum())
        n = max(len(y), 1)
        return {"loss": total / n, "accuracy": hits / n}

    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None}

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self._decide_fused()
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])

    def extras(self) -> dict:
        return {"lr": self.lr()}
