"""Hand-written forward/backward for :class:`FeedforwardNetwork` with the ``ce`` head.

Skips autograd's graph bookkeeping. Two ways to use the gradients:

- :func:`ffn_loss_and_grads` writes them into ``p.grad`` (reusing the tensors already there), so any
  ``torch.optim`` optimiser then takes the step;
- :func:`ffn_sgd_step` applies plain SGD (no momentum; weight decay allowed) inside the backward pass:
  ``W <- (1 - lr wd) W - lr dW`` as one ``addmm_`` per layer, with no gradient tensor and no optimiser
  pass. It reads ``lr`` from the optimiser's group, so schedulers keep working. At batch 16 this is about
  half the time of gradients-then-``optimizer.step()`` (``make bench``).

Row convention: ``H_0 = X`` (B, n_0); ``Z_l = H_{l-1} W_l^T + b_l``; ``A_l = g(Z_l)``; ``H_l = m_l * A_l``
with the dropout mask ``m_l`` (entries 0 or 1/(1-p)); logits ``Z_L``; ``delta_L = softmax(Z_L) - e_y``
(the 1/B of the mean loss is applied where the gradient is formed); ``delta_l = g'(Z_l) * m_l *
(delta_{l+1} W_{l+1})``; ``dW_l = delta_l^T H_{l-1} / B``, ``db_l = sum_rows delta_l / B``.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from numerics.engine.torch_models import FeedforwardNetwork

_ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
_THRESHOLD_BACKWARD = torch.ops.aten.threshold_backward.default
_TANH_BACKWARD = torch.ops.aten.tanh_backward.default
_SIGMOID_BACKWARD = torch.ops.aten.sigmoid_backward.default
_IN_PLACE = {"relu": torch.relu_, "tanh": torch.tanh_, "sigmoid": torch.sigmoid_}


def _g(name: str, z: torch.Tensor) -> torch.Tensor:
    return _ACT[name](z)


def _dg(name: str, grad: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``grad * g'(z)`` from the activation's output ``a = g(z)``: the fused backward kernels
    (``relu'(z) = [a > 0]``, ``tanh' = 1 - a^2``, ``sigmoid' = a (1 - a)``)."""
    if name == "relu":
        return _THRESHOLD_BACKWARD(grad, a, 0)
    if name == "tanh":
        return _TANH_BACKWARD(grad, a)
    return _SIGMOID_BACKWARD(grad, a)


def _layers(model: FeedforwardNetwork) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``[(W_l, b_l)]``, read once per step (slicing a ModuleList builds a new module: slow at batch 16)."""
    return [(lin.weight, lin.bias) for lin in model.linears]


def _forward(model: FeedforwardNetwork, layers, X: torch.Tensor):
    """``(H, A, M, logits)``: layer inputs ``H`` (``H[0] = X``), activations ``A``, dropout masks ``M``."""
    H, A, M = [X], [], []
    p = model.p
    drop = model.training and p > 0
    act = _IN_PLACE[model.activation]
    for W, b in layers[:-1]:
        a = act(torch.addmm(b, H[-1], W.t()))                                      # (B, n_l), in place
        m = torch.empty_like(a).bernoulli_(1 - p).div_(1 - p) if drop else None
        A.append(a)
        M.append(m)
        H.append(a * m if drop else a)
    W, b = layers[-1]
    return H, A, M, torch.addmm(b, H[-1], W.t())                                    # logits (B, K)


def _backward(model: FeedforwardNetwork, layers, H, A, M, delta: torch.Tensor,
              consume: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float], None]) -> None:
    """Walk the layers from the top; ``consume(W_l, b_l, delta_l, H_{l-1}, 1/B)`` receives each layer's
    factors after the delta below was formed from ``W_l``, so it may update ``W_l`` in place."""
    scale = 1.0 / len(delta)
    for l in range(len(layers) - 1, -1, -1):
        W, b = layers[l]
        below = None
        if l > 0:
            below = _dg(model.activation, torch.mm(delta, W), A[l - 1])
            if M[l - 1] is not None:
                below.mul_(M[l - 1])
        consume(W, b, delta, H[l], scale)
        delta = below


_MINUS_ONE: dict = {}


def _minus_one_hot_(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``probs - e_y`` (B, K) in place: ``softmax - e_y``, the output delta (one ``scatter_add_``: an indexed
    ``probs[rows, y] -= 1`` costs four times as much at batch 16)."""
    key = (probs.dtype, probs.device)
    if key not in _MINUS_ONE:
        _MINUS_ONE[key] = torch.full((1, 1), -1.0, dtype=probs.dtype, device=probs.device)
    return probs.scatter_add_(1, y.unsqueeze(1), _MINUS_ONE[key].expand(len(y), 1))


def _grad_buffer(p: torch.Tensor) -> Optional[torch.Tensor]:
    """``p.grad`` when it can take the new gradient in place (``out=``), else None (a new tensor)."""
    return p.grad if p.grad is not None and p.grad.shape == p.shape else None


@torch.no_grad()
def ffn_loss_and_grads(model: FeedforwardNetwork, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy on the batch; sets ``.grad`` of every parameter. Dropout follows ``model.training``."""
    layers = _layers(model)
    H, A, M, logits = _forward(model, layers, X)
    log_p = torch.log_softmax(logits, dim=1)
    loss = -log_p.gather(1, y.unsqueeze(1)).mean()
    delta = _minus_one_hot_(log_p.exp_(), y)                                       # softmax, reusing the buffer

    def into_grad(W, b, d, h, scale):                      # frozen parameters get no gradient, as in autograd
        if W.requires_grad:
            W.grad = torch.mm(d.t(), h, out=_grad_buffer(W)).mul_(scale)
        if b.requires_grad:
            b.grad = torch.sum(d, dim=0, out=_grad_buffer(b)).mul_(scale)

    _backward(model, layers, H, A, M, delta, into_grad)
    return loss


def plain_sgd(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> Optional[dict]:
    """The one parameter group of ``optimizer`` when it is plain SGD over exactly ``model``'s parameters
    (no momentum, no Nesterov, not maximising, every parameter trainable, no step hooks), else None: only
    then may :func:`ffn_sgd_step` replace ``optimizer.step()``."""
    from torch.optim import optimizer as _opt

    if type(optimizer) is not torch.optim.SGD or len(optimizer.param_groups) != 1:
        return None
    group = optimizer.param_groups[0]
    if group["momentum"] != 0 or group["nesterov"] or group.get("maximize", False):
        return None
    params = list(model.parameters())
    if [id(p) for p in group["params"]] != [id(p) for p in params] or not all(p.requires_grad for p in params):
        return None                                            # a frozen parameter: autograd would leave it
    if (optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
            or _opt._global_optimizer_pre_hooks or _opt._global_optimizer_post_hooks):
        return None                                            # step() hooks must see their step
    return group


@torch.no_grad()
def ffn_sgd_step(model: FeedforwardNetwork, group: dict, X: torch.Tensor, y: torch.Tensor) -> None:
    """One plain-SGD step on the batch with rate ``group["lr"]`` and weight decay ``group["weight_decay"]``;
    the same parameters as ``ffn_loss_and_grads`` then ``torch.optim.SGD.step()`` (up to rounding)."""
    lr, wd = float(group["lr"]), float(group["weight_decay"])
    layers = _layers(model)
    H, A, M, logits = _forward(model, layers, X)

    def update(W, b, d, h, scale):
        if wd:
            W.mul_(1.0 - lr * wd)
            b.mul_(1.0 - lr * wd)
        W.addmm_(d.t(), h, alpha=-lr * scale)
        b.add_(d.sum(dim=0), alpha=-lr * scale)

    _backward(model, layers, H, A, M, _minus_one_hot_(torch.softmax(logits, dim=1), y), update)


def fused_step_error(model: FeedforwardNetwork, X: torch.Tensor, y: torch.Tensor, lr: float,
                     weight_decay: float = 0.0) -> float:
    """Oracle for :func:`ffn_sgd_step`: the largest parameter difference, relative to the step's size,
    between one fused step and autograd's gradients followed by ``torch.optim.SGD.step()`` on copies of
    ``model`` (dropout off: its masks are random). ``model`` itself is left unchanged."""
    import copy

    fused, ref = copy.deepcopy(model).eval(), copy.deepcopy(model).eval()
    opt = torch.optim.SGD(ref.parameters(), lr=lr, weight_decay=weight_decay)
    ffn_sgd_step(fused, opt.param_groups[0], X, y)
    with torch.enable_grad():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(X), y).backward()
    opt.step()
    step = max(float((r - p).detach().abs().max()) for r, p in zip(ref.parameters(), model.parameters()))
    diff = max(float((f - r).detach().abs().max()) for f, r in zip(fused.parameters(), ref.parameters()))
    return diff / max(step, 1e-300)
