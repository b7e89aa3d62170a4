"""A learning-rate sweep as one model: M feed-forward networks with stacked weights (``torch.bmm``).

Member ``m`` is exactly a :class:`FeedforwardNetwork` (dropout 0, ``ce`` head, plain SGD at rate
``lrs[m]``) fed the same batches; stacking turns M small matrix products into one larger one.
Shapes: ``W[l]`` (M, n_{l+1}, n_l), ``b[l]`` (M, 1, n_{l+1}); activations (M, B, n_l).
"""
from __future__ import annotations

import torch

from numerics.engine.torch_fast import _dg, _g
from numerics.engine.torch_models import FeedforwardNetwork


class StackedFFN:
    """M members built from copies of ``members`` (FeedforwardNetwork), trained with rates ``lrs``."""

    def __init__(self, members: list[FeedforwardNetwork], lrs: list[float]):
        if len(members) != len(lrs):
            raise ValueError(f"{len(members)} members but {len(lrs)} learning rates")
        self.activation = members[0].activation
        n_layers = len(members[0].linears)
        self.W = [torch.stack([m.linears[l].weight.detach().clone() for m in members]) for l in range(n_layers)]
        self.b = [torch.stack([m.linears[l].bias.detach().clone() for m in members])[:, None, :]
                  for l in range(n_layers)]
        self.lrs = torch.tensor(lrs, dtype=self.W[0].dtype, device=self.W[0].device)[:, None, None]  # (M, 1, 1)

    def forward(self, X: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(Z, H)`` with ``H[0] = X`` shared (B, n_0); the first layer is one GEMM for all members."""
        M, n1, n0 = self.W[0].shape
        Z = [(X @ self.W[0].reshape(M * n1, n0).t()).reshape(len(X), M, n1).transpose(0, 1) + self.b[0]]
        H = [X]
        for l in range(1, len(self.W)):
            H.append(_g(self.activation, Z[-1]))                        # (M, B, n_l)
            Z.append(torch.baddbmm(self.b[l], H[-1], self.W[l].transpose(1, 2)))
        return Z, H

    @torch.no_grad()
    def step(self, X: torch.Tensor, y: torch.Tensor) -> None:
        """One SGD step of every member on batch ``(X (B, D), y (B,))``.

        The output delta is scaled by each member's ``lr / B`` once; every later delta and weight
        gradient is linear in it, so the updates are in-place ``W -= delta^T H`` (``baddbmm_``)."""
        Z, H = self.forward(X)
        delta = torch.softmax(Z[-1], dim=2)                            # (M, B, K)
        delta[:, torch.arange(len(y), device=y.device), y] -= 1.0
        delta.mul_(self.lrs / len(y))
        for l in range(len(self.W) - 1, -1, -1):
            below = None
            if l > 0:
                below = _dg(self.activation, torch.bmm(delta, self.W[l]), H[l])   # before W[l] moves
                self.W[l].baddbmm_(delta.transpose(1, 2), H[l], alpha=-1.0)    # (M, n_{l+1}, n_l)
            else:
                M, B, n1 = delta.shape                                 # shared input: one GEMM
                self.W[0].view(M * n1, -1).addmm_(delta.transpose(0, 1).reshape(B, M * n1).t(), X, alpha=-1.0)
            self.b[l].sub_(delta.sum(dim=1, keepdim=True))
            delta = below

    def train_epoch(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator) -> int:
        order = torch.randperm(len(y), generator=generator).to(X.device)
        for s in range(0, len(y), batch_size):
            idx = order[s:s + batch_size]
            self.step(X[idx], y[idx])
        return -(-len(y) // batch_size)

    def member_state(self, m: int) -> dict:
        """Member ``m`` as a FeedforwardNetwork ``state_dict``."""
        out = {}
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            out[f"linears.{l}.weight"], out[f"linears.{l}.bias"] = W[m].clone(), b[m, 0].clone()
        return out
