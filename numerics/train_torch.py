"""PyTorch trainers: the public names, implemented under ``numerics/engine``.

- models (``torch_models``): :class:`LogisticRegression`, :class:`FeedforwardNetwork`,
  :class:`AlexNet32` (BatchNorm/Dropout by flags), :func:`broken_network` / :func:`fixed_network`
  (hertie.2.2a, defects in :data:`PLANTED_DEFECTS`), :func:`head_loss`;
- the loop (``torch_loop``): :class:`TorchLearner` (tensors in memory, index slicing), :func:`make_optimizer`,
  :func:`time_based_scheduler` (hertie.2.2b, ``eta_t = max(eta0 - t, 1)``, per step or per epoch), :func:`device`;
- :func:`ffn_loss_and_grads` (``torch_fast``): hand-written backward for the feed-forward network;
- :class:`StackedFFN` (``torch_sweep``): a learning-rate sweep batched into one model.
"""
from numerics.engine.torch_fast import ffn_loss_and_grads
from numerics.engine.torch_loop import (TorchLearner, device, make_optimizer, time_based_factor,
                                        time_based_scheduler)
from numerics.engine.torch_models import (PLANTED_DEFECTS, AlexNet32, FeedforwardNetwork, KerasStyleNet,
                                          LogisticRegression, broken_network, fixed_network, head_loss)
from numerics.engine.torch_sweep import StackedFFN

__all__ = ["ffn_loss_and_grads", "TorchLearner", "device", "make_optimizer", "time_based_factor",
           "time_based_scheduler", "PLANTED_DEFECTS", "AlexNet32", "FeedforwardNetwork", "KerasStyleNet",
           "LogisticRegression", "broken_network", "fixed_network", "head_loss", "StackedFFN"]
