"""From-scratch NumPy trainers (float32): the public names, implemented under ``numerics/engine``.

- :class:`Perceptron`, :class:`LogisticRegression` (L2, L1 subgradient, L1 proximal),
  :class:`LinearRegression` and :func:`least_squares` (``np_linear``);
- :class:`MLP`, hand-written backprop for any depth, width, activation and initialisation,
  per-example (BLAS ``ger`` rank-1 updates) or mini-batch, softmax+CE / softmax+MSE / linear+MSE (``np_mlp``);
- :class:`Network`, the backprop course's API for tau.p1 (``np_network``).
"""
from numerics.engine.np_linear import LinearRegression, LogisticRegression, Perceptron, least_squares
from numerics.engine.np_mlp import MLP
from numerics.engine.np_network import Network
from numerics.engine.np_ops import draw, one_hot, rank1_update_, softmax

__all__ = ["Perceptron", "LogisticRegression", "LinearRegression", "least_squares", "MLP", "Network",
           "draw", "one_hot", "rank1_update_", "softmax"]
