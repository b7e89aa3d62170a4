"""hertie.1.5: dL/dw1_ij for a two-hidden-layer network with a softmax output and a quadratic loss.

The network (one data point; sizes D -> H1 -> H2 -> K):

    z1 = W1 x + b1,  h1 = sigma(z1),  z2 = W2 h1 + b2,  h2 = sigma(z2),  z3 = W3 h2 + b3,  f = softmax(z3)
    loss of one point: l = c * sum_k (y_k - f_k)^2;  L = A * sum_n l_n with A = 1 (sum) or 1/N (mean)

The derivation is given in index form and in matrix form (deltas layer by
layer); SymPy proves the index formula equal to its own derivative of L for a
small instance with a generic (undefined) activation sigma and symbolic c;
torch.autograd and finite differences check the matrix form on random networks
of several sizes, for c in {1/2, 1} and for sum and mean; torch.optim.SGD checks
the update. A claimed formula is evaluated numerically piece by piece on random
networks with all layer sizes distinct (so a weight matrix of the wrong layer is
a shape error); a wrong piece is matched against the plausible mistakes (no
softmax Jacobian, the sum over k missing, no activation derivative, a sign or
constant factor) and the mistake is named.

>>> r = solve({}, {"delta2": "Heaviside(z2_m)*sum(w3_lm*delta3_l, l)", "delta1": "sum(w2_mi*delta2_m, m)"})
>>> [v.passed for v in r.verdicts]
[True, False]
>>> "derivative of layer 1" in r.verdicts[1].evidence
True
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Optional

import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import claim_keys
from theory.activation_gradient import analyse, parse_activation, to_torch
from theory.parse import FUNCTIONS, ExprError, parse_expr

PID = "hertie.1.5"

CLAIM_SCHEMA = """\
Claims for hertie.1.5, in index form. Every key is optional; give as many
pieces as you like. Each piece is an expression in the safe language, checked
numerically on random networks (sizes D, H1, H2, K all different).

  ["hertie.1.5"]
  # per data point, for the loss of that point alone, l = c * sum_k (y_k - f_k)^2:
  dL_df  = "2*c*(f_k - y_k)"                                  # dl/df_k        (free index k)
  delta3 = "sum(2*c*(f_k - y_k)*f_k*(delta(k, l) - f_l), k)"  # dl/dz3_l       (free index l)
  delta2 = "Heaviside(z2_m)*sum(w3_lm*delta3_l, l)"           # dl/dz2_m       (free index m)
  delta1 = "Heaviside(z1_i)*sum(w2_mi*delta2_m, m)"           # dl/dz1_i       (free index i)
  dL_dw1 = "delta1_i*x_j"                                     # dl/dw1_ij      (free indices i, j)
  # for the whole data set (N points, the problem's reduction: sum, or mean = 1/N times the sum):
  gradient = "sum(delta1_i*x_j, n)"                           # dL/dw1_ij
  update   = "w1_ij - eta*grad_ij"                            # w1_ij at iteration r + 1

Names. Arrays are written name_indices, one letter per index, e.g. w3_lm is
W3[l, m]: x_j (D), y_k, f_k, z3_k, b3_k (K), z2_m, h2_m, b2_m (H2),
z1_i, h1_i, b1_i (H1), w1_ij (H1 x D), w2_mi (H2 x H1), w3_km (K x H2), and the
pieces dLdf_k, delta3_l, delta2_m, delta1_i, dLdw1_ij, grad_ij (a piece may use
the pieces listed before it; they take their true values, so each piece is
judged on its own). Scalars: c (loss constant), N (data points), eta
(learning rate), K, D, H1, H2. Index letters: any single lowercase letter
except c, e; i, j, k, l, m and n are the usual ones. sum(expr, k) sums over k
(its range is read from the arrays it indexes); delta(k, l) is Kronecker's
delta; sigma(z) and dsigma(z) are the hidden activation and its derivative
(for ReLU, dsigma(z) = Heaviside(z)). The data index n: per-point arrays
(x, y, f, z*, h*, the deltas) must sit inside sum(..., n) in gradient and
update, and must not be summed over n in the per-point pieces. A vector
piece may use another letter for its free index (delta2 = "...z2_q..."); the
matrix pieces use i and j.
"""

IDX_LETTERS = set("abdgijklmnpqrstuv")
SCALARS = ("c", "N", "eta", "K", "D", "H1", "H2")
DEFAULT_RANGE = {"i": "H1", "j": "D", "m": "H2", "k": "K", "l": "K", "n": "N"}
# base name -> (dimension names, per data point?)
ARRAYS: dict[str, tuple[tuple[str, ...], bool]] = {
    "x": (("D",), True), "y": (("K",), True), "f": (("K",), True), "z3": (("K",), True),
    "z2": (("H2",), True), "h2": (("H2",), True), "z1": (("H1",), True), "h1": (("H1",), True),
    "b1": (("H1",), False), "b2": (("H2",), False), "b3": (("K",), False),
    "w1": (("H1", "D"), False), "w2": (("H2", "H1"), False), "w3": (("K", "H2"), False),
    "dLdf": (("K",), True), "delta3": (("K",), True), "delta2": (("H2",), True), "delta1": (("H1",), True),
    "dLdw1": (("H1", "D"), True), "grad": (("H1", "D"), False),
}


@dataclass(frozen=True)
class Piece:
    key: str
    name: Optional[str]  # the array name other pieces use
    free: tuple[str, ...]
    dims: tuple[str, ...]
    per_sample: bool
    what: str


PIECES = (
    Piece("dL_df", "dLdf", ("k",), ("K",), True, "dl/df_k"),
    Piece("delta3", "delta3", ("l",), ("K",), True, "delta3_l = dl/dz3_l"),
    Piece("delta2", "delta2", ("m",), ("H2",), True, "delta2_m = dl/dz2_m"),
    Piece("delta1", "delta1", ("i",), ("H1",), True, "delta1_i = dl/dz1_i"),
    Piece("dL_dw1", "dLdw1", ("i", "j"), ("H1", "D"), True, "dl/dw1_ij (one data point)"),
    Piece("gradient", "grad", ("i", "j"), ("H1", "D"), False, "dL/dw1_ij (all data)"),
    Piece("update", None, ("i", "j"), ("H1", "D"), False, "w1_ij at iteration r + 1"),
)
PIECE_BY_KEY = {p.key: p for p in PIECES}

# claim instances: every layer size different, so mixing up weight matrices is a shape error
CLAIM_SIZES = ((2, 4, 5, 3, 3), (3, 5, 2, 4, 2))  # (D, H1, H2, K, N)
CHECK_SIZES = ((2, 3, 4, 3), (3, 5, 2, 4), (4, 2, 3, 2), (1, 3, 3, 5))  # (D, H1, H2, K)
ETA = 0.1


# ---------------------------------------------------------------- activation

@dataclass
class Activation:
    expr: sp.Expr
    fn: Callable  # numpy -> numpy
    dfn: Callable
    text: str


def make_activation(text: Any) -> Activation:
    g = parse_activation(text, "hidden_activation")
    an = analyse(g)
    z = an.z

    import torch

    def fn(a):
        a = np.asarray(a, dtype=float)
        return to_torch(g, {z: torch.as_tensor(a)}).numpy() * np.ones_like(a)

    def dfn(a):
        a = np.asarray(a, dtype=float)
        out = np.zeros_like(a)
        for reg in an.regions:
            mask = np.ones(a.shape, dtype=bool)
            if reg.lo is not None:
                mask &= a > float(reg.lo)
            if reg.hi is not None:
                mask &= a < float(reg.hi)
            vals = to_torch(reg.dpiece, {z: torch.as_tensor(a)}).numpy() * np.ones_like(a)
            out = np.where(mask, vals, out)
        for k in an.kinks:  # the convention at a kink: the left derivative (0 for ReLU)
            out = np.where(a == float(k.at), float(k.convention), out)
        return out
    return Activation(g, fn, dfn, sp.sstr(g))


# ---------------------------------------------------------------- the network (NumPy)

@dataclass
class Net:
    W1: np.ndarray  # (H1, D)
    b1: np.ndarray  # (H1,)
    W2: np.ndarray  # (H2, H1)
    b2: np.ndarray  # (H2,)
    W3: np.ndarray  # (K, H2)
    b3: np.ndarray  # (K,)
    X: np.ndarray  # (N, D)
    Y: np.ndarray  # (N, K) one-hot

    @property
    def sizes(self) -> dict[str, int]:
        return {"D": self.X.shape[1], "H1": self.W1.shape[0], "H2": self.W2.shape[0], "K": self.W3.shape[0],
                "N": self.X.shape[0]}


def random_net(D: int, H1: int, H2: int, K: int, N: int, seed: int) -> Net:
    rng = np.random.default_rng(seed)
    Y = np.zeros((N, K))
    Y[np.arange(N), rng.integers(0, K, N)] = 1.0
    return Net(rng.normal(size=(H1, D)), rng.normal(scale=0.5, size=H1), rng.normal(size=(H2, H1)),
               rng.normal(scale=0.5, size=H2), rng.normal(size=(K, H2)), rng.normal(scale=0.5, size=K),
               rng.normal(size=(N, D)), Y)


def forward(net: Net, act: Activation) -> dict[str, np.ndarray]:
    z1 = net.X @ net.W1.T + net.b1  # (N, H1)
    h1 = act.fn(z1)
    z2 = h1 @ net.W2.T + net.b2  # (N, H2)
    h2 = act.fn(z2)
    z3 = h2 @ net.W3.T + net.b3  # (N, K)
    e = np.exp(z3 - z3.max(axis=1, keepdims=True))
    f = e / e.sum(axis=1, keepdims=True)  # (N, K)
    return {"x": net.X, "y": net.Y, "z1": z1, "h1": h1, "z2": z2, "h2": h2, "z3": z3, "f": f}


@dataclass(frozen=True)
class Variant:
    """A backward pass, correct by default, or with one planted mistake."""

    jac: str = "full"  # full | none | diag | plus | offdiag
    d2: str = "deriv"  # deriv | none | act
    d1: str = "deriv"
    upstream3: str = "delta3"  # delta3 | dLdf (layer 2 uses dl/df instead of delta3)


MUTATIONS: tuple[tuple[str, Variant], ...] = (
    ("the softmax Jacobian is missing: dl/df is used as dl/dz3", Variant(jac="none")),
    ("the sum over k is missing: only the k = l term of the softmax Jacobian, f_l (1 - f_l), is kept",
     Variant(jac="diag")),
    ("the off-diagonal terms of the softmax Jacobian have the wrong sign (+f_k f_l instead of -f_k f_l)",
     Variant(jac="plus")),
    ("the delta_kl term of the softmax Jacobian is missing (only -f_k f_l is kept)", Variant(jac="offdiag")),
    ("the activation derivative of layer 2, sigma'(z2_m), is missing", Variant(d2="none")),
    ("sigma(z2_m) is used instead of its derivative sigma'(z2_m)", Variant(d2="act")),
    ("the activation derivative of layer 1, sigma'(z1_i), is missing", Variant(d1="none")),
    ("sigma(z1_i) is used instead of its derivative sigma'(z1_i)", Variant(d1="act")),
    ("layer 2 skips the output layer's softmax Jacobian: W3^T dl/df is used instead of W3^T delta3",
     Variant(upstream3="dLdf")),
)


def backward(net: Net, fw: dict, act: Activation, c: float, mean: bool, v: Variant = Variant()) -> dict[str, np.ndarray]:
    """The deltas layer by layer (matrix form, one row per data point) and dL/dW1."""
    f, y = fw["f"], fw["y"]
    N = f.shape[0]
    dLdf = 2 * c * (f - y)  # (N, K)
    fg = np.sum(f * dLdf, axis=1, keepdims=True)  # (N, 1): sum_k f_k dl/df_k
    delta3 = {"full": f * dLdf - f * fg,  # (diag(f) - f f^T) dl/df
              "none": dLdf,
              "diag": f * (1 - f) * dLdf,
              "plus": f * dLdf + f * fg,
              "offdiag": -f * fg}[v.jac]
    up = delta3 if v.upstream3 == "delta3" else dLdf
    s2 = {"deriv": act.dfn(fw["z2"]), "none": 1.0, "act": act.fn(fw["z2"])}[v.d2]
    delta2 = s2 * (up @ net.W3)  # (N, H2): sigma'(z2) * W3^T delta3
    s1 = {"deriv": act.dfn(fw["z1"]), "none": 1.0, "act": act.fn(fw["z1"])}[v.d1]
    delta1 = s1 * (delta2 @ net.W2)  # (N, H1)
    dLdw1 = delta1[:, :, None] * net.X[:, None, :]  # (N, H1, D)
    A = 1.0 / N if mean else 1.0
    grad = A * dLdw1.sum(axis=0)  # (H1, D) = A * Delta1^T X
    return {"dLdf": dLdf, "delta3": delta3, "delta2": delta2, "delta1": delta1, "dLdw1": dLdw1, "grad": grad}


def loss(net: Net, act: Activation, c: float, mean: bool) -> float:
    f = forward(net, act)["f"]
    per = c * np.sum((net.Y - f) ** 2, axis=1)
    return float(per.mean() if mean else per.sum())


# ---------------------------------------------------------------- oracles

def _torch_grads(net: Net, act: Activation, c: float, mean: bool, eta: float):
    """dL/dW1, dL/dz1..3 from torch.autograd, and W1 after one torch.optim.SGD step."""
    import torch

    t = {k: torch.tensor(getattr(net, k), dtype=torch.float64) for k in ("W1", "b1", "W2", "b2", "W3", "b3", "X", "Y")}
    t["W1"].requires_grad_(True)
    zs = sp.Symbol("z", real=True)

    def sig(a):
        return to_torch(act.expr, {zs: a})
    z1 = t["X"] @ t["W1"].T + t["b1"]
    z1.retain_grad()
    z2 = sig(z1) @ t["W2"].T + t["b2"]
    z2.retain_grad()
    z3 = sig(z2) @ t["W3"].T + t["b3"]
    z3.retain_grad()
    f = torch.softmax(z3, dim=1)
    per = c * ((t["Y"] - f) ** 2).sum(dim=1)
    L = per.mean() if mean else per.sum()
    opt = torch.optim.SGD([t["W1"]], lr=eta)
    opt.zero_grad()
    L.backward()
    grad = t["W1"].grad.detach().clone().numpy()
    scale = float(z1.shape[0]) if mean else 1.0  # torch's z.grad carries the 1/N of the mean
    deltas = {"delta1": z1.grad.numpy() * scale, "delta2": z2.grad.numpy() * scale, "delta3": z3.grad.numpy() * scale}
    opt.step()
    return grad, deltas, t["W1"].detach().numpy().copy()


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def oracle_checks(act: Activation, c_used: float, mean_used: bool) -> tuple[list[Check], Table]:
    """The oracle comparisons (deterministic; cached per activation, constant and reduction)."""
    checks, table = _oracle_checks(act.text, c_used, mean_used)
    return [replace(ch) for ch in checks], copy.deepcopy(table)


@lru_cache(maxsize=8)
def _oracle_checks(act_text: str, c_used: float, mean_used: bool) -> tuple[list[Check], Table]:
    act = make_activation(act_text)
    rows, worst_g, worst_d, worst_u, n_cases = [], 0.0, 0.0, 0.0, 0
    for n, (D, H1, H2, K) in enumerate(CHECK_SIZES):
        errs = []
        for c in (0.5, 1.0):
            for mean in (False, True):
                net = random_net(D, H1, H2, K, 3, seed=100 + n)
                fw = forward(net, act)
                mine = backward(net, fw, act, c, mean)
                grad, deltas, w_next = _torch_grads(net, act, c, mean, ETA)
                errs.append((_rel(mine["grad"], grad), max(_rel(mine[k], deltas[k]) for k in deltas),
                             _rel(net.W1 - ETA * mine["grad"], w_next)))
                n_cases += 1
        eg, ed, eu = (max(e[q] for e in errs) for q in range(3))
        worst_g, worst_d, worst_u = max(worst_g, eg), max(worst_d, ed), max(worst_u, eu)
        rows.append([f"{D}-{H1}-{H2}-{K}", f"{eg:.1e}", f"{ed:.1e}", f"{eu:.1e}"])
    checks = [
        Check("dL/dW1 = A sum_n delta1 x^T agrees with torch.autograd", f"torch float64, {n_cases} random networks "
              f"({len(CHECK_SIZES)} sizes x c in {{1/2, 1}} x sum/mean), N = 3", worst_g < 1e-10,
              f"largest relative difference {worst_g:.2g}"),
        Check("delta3, delta2, delta1 agree with torch's z3.grad, z2.grad, z1.grad (times N for the mean)",
              "torch retain_grad, same networks", worst_d < 1e-10, f"largest relative difference {worst_d:.2g}"),
        Check(f"W1 - eta dL/dW1 equals one torch.optim.SGD step (eta = {ETA:g})", "torch.optim.SGD.step, same networks",
              worst_u < 1e-10, f"largest relative difference {worst_u:.2g}"),
    ]
    # central finite differences on the loss, for the resolved constant and reduction
    net = random_net(3, 4, 3, 3, 4, seed=7)
    mine = backward(net, forward(net, act), act, c_used, mean_used)["grad"]
    fd = np.zeros_like(net.W1)
    h = 1e-6
    for i in range(net.W1.shape[0]):
        for j in range(net.W1.shape[1]):
            for sgn in (1, -1):
                W = net.W1.copy()
                W[i, j] += sgn * h
                fd[i, j] += sgn * loss(Net(W, *(getattr(net, k) for k in ("b1", "W2", "b2", "W3", "b3", "X", "Y"))),
                                       act, c_used, mean_used) / (2 * h)
    efd = _rel(mine, fd)
    checks.append(Check("dL/dW1 agrees with central finite differences of L", "float64, h = 1e-6, a 3-4-3-3 network, "
                        "N = 4, the problem's c and reduction", efd < 1e-6, f"largest relative difference {efd:.2g}"))
    table = Table("The matrix-form backward pass against torch.autograd: largest relative differences over "
                  "c in {1/2, 1} and sum/mean, N = 3 random points per network",
                  ["sizes D-H1-H2-K", "dL/dW1", "deltas", "SGD step"], rows)
    return checks, table


def symbolic_check() -> Check:
    """A fresh copy of the (deterministic, cached) symbolic check."""
    return replace(_symbolic_check())


@lru_cache(maxsize=1)
def _symbolic_check() -> Check:
    """SymPy: the index formula equals SymPy's derivative of l, generic sigma, symbolic c (D, H1, H2, K = 2, 2, 2, 3)."""
    D, H1, H2, K = 2, 2, 2, 3
    sig = sp.Function("sigma")
    u = sp.Symbol("u", real=True)

    def dsig(a):
        return sp.diff(sig(u), u).subs(u, a)
    X = sp.Matrix(sp.symbols(f"x1:{D + 1}", real=True))
    Y = sp.Matrix(sp.symbols(f"y1:{K + 1}", real=True))

    def mat(name, r, q):
        return sp.Matrix(r, q, lambda a, b: sp.Symbol(f"{name}_{a + 1}{b + 1}", real=True))

    def vec(name, r):
        return sp.Matrix(sp.symbols(f"{name}_1:{r + 1}", real=True))
    W1, W2, W3 = mat("w1", H1, D), mat("w2", H2, H1), mat("w3", K, H2)
    c = sp.Symbol("c", positive=True)
    z1 = W1 * X + vec("b1", H1)
    z2 = W2 * z1.applyfunc(sig) + vec("b2", H2)
    z3 = W3 * z2.applyfunc(sig) + vec("b3", K)
    E = [sp.exp(v) for v in z3]
    f = [e / sum(E) for e in E]
    ell = c * sum((Y[k] - f[k]) ** 2 for k in range(K))
    d3 = [sum(2 * c * (f[k] - Y[k]) * f[k] * (sp.KroneckerDelta(k, l) - f[l]) for k in range(K)) for l in range(K)]
    d3_closed = [2 * c * f[l] * ((f[l] - Y[l]) - sum(f[k] * (f[k] - Y[k]) for k in range(K))) for l in range(K)]
    d2 = [dsig(z2[m]) * sum(W3[l, m] * d3[l] for l in range(K)) for m in range(H2)]
    d1 = [dsig(z1[i]) * sum(W2[m, i] * d2[m] for m in range(H2)) for i in range(H1)]
    Es = sp.symbols(f"E1:{K + 1}", positive=True)
    ok, n = True, 0
    for i in range(H1):
        for j in range(D):
            diff = (sp.diff(ell, W1[i, j]) - d1[i] * X[j]).subs(dict(zip(E, Es)))
            ok = ok and sp.cancel(sp.together(sp.expand(diff))) == 0
            n += 1
    for l in range(K):
        diff = (d3[l] - d3_closed[l]).subs(dict(zip(E, Es)))
        ok = ok and sp.cancel(sp.together(sp.expand(diff))) == 0
    return Check("the index formula dl/dw1_ij = delta1_i x_j equals SymPy's derivative of l (generic sigma, symbolic c)",
                 f"exact: SymPy differentiates l for D, H1, H2, K = {D}, {H1}, {H2}, {K}; claimed - derived cancels "
                 f"to 0 for all {n} entries, and delta3 equals its closed form", ok,
                 "sigma is an undefined function, so this holds for every differentiable activation")


# ---------------------------------------------------------------- claims: parsing

class ShapeError(Exception):
    """An index or shape mistake in a claim (a wrong answer, reported as a verdict)."""


class _ISum(sp.Function):
    nargs = 2


_SIGMA = sp.Function("sigma")
_DSIGMA = sp.Function("dsigma")


def _sum(expr, idx):
    if not (isinstance(idx, sp.Symbol) and idx.name in IDX_LETTERS):
        raise ExprError(f"sum(expr, index): the second argument must be an index letter, got {sp.sstr(idx)}")
    return _ISum(expr, idx)


_CLAIM_FUNCS = {**FUNCTIONS, "sum": _sum, "sigma": _SIGMA, "dsigma": _DSIGMA}
_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9]*?)_([a-z]+)$")


def _ref(name: str) -> Optional[tuple[str, str]]:
    m = _NAME.match(name)
    if not m or m.group(1) not in ARRAYS:
        return None
    return m.group(1), m.group(2)


MAX_SUM_DEPTH = 5


def _sum_depth(e) -> int:
    inner = max((_sum_depth(a) for a in e.args), default=0)
    return inner + 1 if isinstance(e, _ISum) else inner


def parse_piece(piece: Piece, text: Any) -> sp.Expr:
    where = f'["{PID}"].{piece.key}'
    if not isinstance(text, str):
        raise InputError(f"{where}: expected an expression as text")
    try:
        e = parse_expr(text, allow_new_symbols=True, functions=_CLAIM_FUNCS)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if isinstance(e, (tuple, list)) or not isinstance(e, sp.Expr):
        raise InputError(f"{where}: expected one scalar expression")
    if _sum_depth(e) > MAX_SUM_DEPTH:
        raise InputError(f"{where}: sums nested more than {MAX_SUM_DEPTH} deep")
    order = [p.name for p in PIECES]
    allowed_refs = set(order[:order.index(piece.name)] if piece.name else order[:-1])
    for s in e.free_symbols | {a for node in sp.preorder_traversal(e) if isinstance(node, _ISum) for a in [node.args[1]]}:
        name = s.name
        if name in SCALARS or name in IDX_LETTERS:
            continue
        r = _ref(name)
        if r is None:
            if name in ARRAYS:
                raise InputError(f"{where}: {name} needs its indices, e.g. {name}_{''.join('ijklm'[:len(ARRAYS[name][0])])}")
            raise InputError(f"{where}: unknown name {name!r} (arrays: {', '.join(sorted(ARRAYS))}, written "
                             f"name_indices; scalars: {', '.join(SCALARS)})")
        base, idx = r
        dims = ARRAYS[base][0]
        if len(idx) != len(dims):
            raise InputError(f"{where}: {name} has {len(idx)} index letter(s), {base} takes {len(dims)}")
        bad = [ch for ch in idx if ch not in IDX_LETTERS]
        if bad:
            raise InputError(f"{where}: {name}: {bad[0]!r} is not an index letter")
        pieces = {p.name for p in PIECES if p.name}
        if base in pieces and base not in allowed_refs:
            raise InputError(f"{where}: {piece.key} may refer only to the pieces before it "
                             f"({', '.join(sorted(allowed_refs)) or 'none'}), not to {base}")
    return e


# ---------------------------------------------------------------- claims: shapes

@dataclass
class Scope:
    ranges: dict[str, str]  # bound index letter -> dimension name
    data_bound: bool  # is the data point (n) bound?
    where: dict[str, str] = field(default_factory=dict)  # letter -> how its range was set


def _uses(e: sp.Expr, letter: str) -> list[tuple[str, str]]:
    """(dimension, array reference) for each array position where ``letter`` indexes, outside inner sums over it."""
    out = []
    if isinstance(e, sp.Symbol):
        r = _ref(e.name)
        if r:
            base, idx = r
            out += [(ARRAYS[base][0][p], e.name) for p, ch in enumerate(idx) if ch == letter]
        return out
    if isinstance(e, _ISum) and e.args[1].name == letter:
        return out  # shadowed
    for a in e.args:
        out += _uses(a, letter)
    return out


def check_shapes(e: sp.Expr, scope: Scope, piece: Piece, sizes: dict[str, int]) -> None:
    """Raise ShapeError naming the first index used with two sizes, or a per-point array outside a data sum."""
    if isinstance(e, sp.Symbol):
        name = e.name
        if name in IDX_LETTERS:
            if name not in scope.ranges:
                raise ShapeError(f"index {name} is not bound: {piece.key} has the free index/indices "
                                 f"{', '.join(piece.free)}; sum over any other index with sum(..., {name})")
            return
        r = _ref(name)
        if r is None:
            return
        base, idx = r
        dims, per_sample = ARRAYS[base]
        for p, ch in enumerate(idx):
            if ch not in scope.ranges:
                raise ShapeError(f"index {ch} of {name} is not bound: {piece.key} has the free index/indices "
                                 f"{', '.join(piece.free)}; sum over any other index with sum(..., {ch})")
            if scope.ranges[ch] != dims[p]:
                raise ShapeError(
                    f"shape mismatch in {name}: index {ch} runs over 1..{sizes[scope.ranges[ch]]} "
                    f"({scope.ranges[ch]}, {scope.where[ch]}) but position {p + 1} of {base} has size "
                    f"{sizes[dims[p]]} ({dims[p]}); {_matrix_hint(base, piece)}")
        if per_sample and not scope.data_bound:
            raise ShapeError(f"{name} depends on the data point but is outside any sum over the data: "
                             f"write sum(..., n) (times 1/N for the mean)")
        return
    if isinstance(e, _ISum):
        body, idx = e.args
        letter = idx.name
        if letter in scope.ranges:
            raise ShapeError(f"sum(..., {letter}): {letter} is already bound (a free index or an outer sum)")
        if letter == "n":
            if piece.per_sample:
                raise ShapeError(f"{piece.key} is for one data point: it must not sum over the data (n)")
            inner = Scope(dict(scope.ranges, n="N"), True, dict(scope.where, n="the data index"))
        else:
            uses = _uses(body, letter)
            if uses:
                dim, ref = uses[0]
                how = f"set by {ref}"
            elif letter in DEFAULT_RANGE:
                dim, how = DEFAULT_RANGE[letter], "its usual range"
            else:
                raise ShapeError(f"sum(..., {letter}): the range of {letter} is unknown (it indexes no array)")
            inner = Scope(dict(scope.ranges, **{letter: dim}), scope.data_bound, dict(scope.where, **{letter: how}))
        check_shapes(body, inner, piece, sizes)
        return
    for a in e.args:
        check_shapes(a, scope, piece, sizes)


def _matrix_hint(base: str, piece: Piece) -> str:
    if base == "w1":
        return ("w1 does not enter the backward pass below z1: the step from delta2 back to layer 1 uses "
                "w2_mi (W2, H2 x H1); a weight matrix of the wrong layer")
    if base == "w2" and piece.key == "delta2":
        return ("the step from delta3 back to layer 2 uses w3_lm (W3, K x H2), not w2: a weight matrix of the "
                "wrong layer")
    dims = " x ".join(ARRAYS[base][0])
    return f"{base} is {dims}: check its index order (a transpose?) and whether it belongs to this layer"


def _free_letters(e: sp.Expr, piece: Piece) -> tuple[str, ...]:
    """The piece's free index letters; a vector piece may use any single unbound letter."""
    if len(piece.free) != 1:
        return piece.free
    unbound = sorted(_unbound(e, set()))
    if len(unbound) == 1:
        return (unbound[0],)
    return piece.free


def _unbound(e, bound: set) -> set:
    if isinstance(e, sp.Symbol):
        if e.name in IDX_LETTERS:
            return set() if e.name in bound else {e.name}
        r = _ref(e.name)
        return {ch for ch in r[1] if ch not in bound} if r else set()
    if isinstance(e, _ISum):
        return _unbound(e.args[0], bound | {e.args[1].name})
    out = set()
    for a in e.args:
        out |= _unbound(a, bound)
    return out


# ---------------------------------------------------------------- claims: evaluation

class Evaluator:
    """Evaluate an index-form claim entry by entry, with arrays from one network instance."""

    def __init__(self, arrays: dict[str, np.ndarray], scalars: dict[str, float], act: Activation,
                 sizes: dict[str, int]):
        self.arrays = arrays  # per-sample arrays carry a leading data axis
        self.scalars = scalars
        self.act = act
        self.sizes = sizes
        self._ranges: dict[sp.Expr, int] = {}

    def _range(self, node: sp.Expr) -> int:
        if node not in self._ranges:
            body, idx = node.args
            letter = idx.name
            uses = _uses(body, letter)
            dim = "N" if letter == "n" else uses[0][0] if uses else DEFAULT_RANGE[letter]
            self._ranges[node] = self.sizes[dim]
        return self._ranges[node]

    def value(self, e: sp.Expr, env: dict[str, int]) -> float:
        if isinstance(e, sp.Symbol):
            name = e.name
            if name in self.scalars:
                return self.scalars[name]
            if name in IDX_LETTERS:
                return float(env[name] + 1)  # 1-based, as written
            base, idx = _ref(name)
            arr = self.arrays[base]
            pos = tuple(env[ch] for ch in idx)
            if ARRAYS[base][1]:
                pos = (env["n"],) + pos
            return float(arr[pos])
        if e.is_Number:
            return float(e)
        if e in (sp.pi, sp.E):
            return float(e)
        if e.is_Add:
            return sum(self.value(a, env) for a in e.args)
        if e.is_Mul:
            out = 1.0
            for a in e.args:
                out *= self.value(a, env)
            return out
        if e.is_Pow:
            return self.value(e.args[0], env) ** self.value(e.args[1], env)
        if isinstance(e, _ISum):
            body, idx = e.args
            letter = idx.name
            n = self._range(e)
            return sum(self.value(body, dict(env, **{letter: t})) for t in range(n))
        if isinstance(e, sp.KroneckerDelta):
            return 1.0 if self.value(e.args[0], env) == self.value(e.args[1], env) else 0.0
        if isinstance(e, sp.Heaviside):
            a = self.value(e.args[0], env)
            return 1.0 if a > 0 else 0.0 if a < 0 else (float(e.args[1]) if len(e.args) > 1 else 0.5)
        if isinstance(e, _SIGMA):
            return float(self.act.fn(np.array([self.value(e.args[0], env)]))[0])
        if isinstance(e, _DSIGMA):
            return float(self.act.dfn(np.array([self.value(e.args[0], env)]))[0])
        if isinstance(e, (sp.Max, sp.Min)):
            vals = [self.value(a, env) for a in e.args]
            return max(vals) if isinstance(e, sp.Max) else min(vals)
        unary = {sp.exp: math.exp, sp.log: math.log, sp.tanh: math.tanh, sp.sin: math.sin, sp.cos: math.cos,
                 sp.tan: math.tan, sp.sinh: math.sinh, sp.cosh: math.cosh, sp.atan: math.atan, sp.Abs: abs,
                 sp.sign: lambda a: float(np.sign(a))}
        for cls, fn in unary.items():
            if isinstance(e, cls):
                return fn(self.value(e.args[0], env))
        raise ShapeError(f"cannot evaluate {type(e).__name__}")

    def entries(self, e: sp.Expr, free: tuple[str, ...], dims: tuple[str, ...], per_sample: bool) -> np.ndarray:
        sizes = self.sizes
        shape = tuple(sizes[d] for d in dims)
        samples = range(sizes["N"]) if per_sample else [None]
        out = np.zeros(((sizes["N"],) if per_sample else ()) + shape)
        for n in samples:
            for pos in np.ndindex(*shape):
                env = dict(zip(free, pos))
                if n is not None:
                    env["n"] = n
                val = self.value(e, env)
                out[((n,) if per_sample else ()) + pos] = val
        return out


@dataclass
class Instance:
    net: Net
    fw: dict
    true: dict
    arrays: dict
    scalars: dict
    sizes: dict


def make_instance(sizes5: tuple, seed: int, act: Activation, c: float, mean: bool) -> Instance:
    D, H1, H2, K, N = sizes5
    net = random_net(D, H1, H2, K, N, seed)
    fw = forward(net, act)
    true = backward(net, fw, act, c, mean)
    true["update"] = net.W1 - ETA * true["grad"]
    arrays = dict(fw, w1=net.W1, w2=net.W2, w3=net.W3, b1=net.b1,
                  b2=net.b2, b3=net.b3, **{k: true[k] for k in ("dLdf", "delta3", "delta2", "delta1", "dLdw1", "grad")})
    scalars = {"c": c, "N": float(N), "eta": ETA, "K": float(K), "D": float(D), "H1": float(H1), "H2": float(H2)}
    return Instance(net, fw, true, arrays, scalars, net.sizes)


# ---------------------------------------------------------------- claims: diagnosis

_FACTOR_NAMES = [
    (-1.0, "the wrong sign (f - y and y - f swapped, or + instead of -)"),
    (0.5, "a missing factor 2 (the derivative of c (y - f)^2 is 2c (f - y))"),
    (2.0, "an extra factor 2"),
]


def _factor_name(r: float, N: int, c: float) -> str:
    for val, name in _FACTOR_NAMES:
        if abs(r - val) < 1e-9:
            return name
    if abs(r - N) < 1e-9:
        return f"an extra factor N = {N} (a missing 1/N: sum vs mean over the data)"
    if abs(r - 1 / N) < 1e-9:
        return f"an extra factor 1/N = 1/{N} (sum vs mean over the data)"
    if abs(r - 1 / (2 * c)) < 1e-9:
        return "the constant 2c is missing (the derivative of c (y - f)^2 is 2c (f - y))"
    return f"a constant factor {r:.6g}"


def _fit(claimed: np.ndarray, ref: np.ndarray) -> Optional[float]:
    """r with claimed == r * ref (to 1e-9 relative), else None."""
    den = float(np.sum(ref * ref))
    if den < 1e-300:
        return None
    r = float(np.sum(claimed * ref)) / den
    if np.max(np.abs(claimed - r * ref)) <= 1e-9 * max(1.0, float(np.max(np.abs(claimed)))) and abs(r) > 1e-12:
        return r
    return None


def diagnose(piece: Piece, claimed: np.ndarray, inst: Instance, act: Activation, c: float, mean: bool) -> str:
    key = piece.name or "update"
    N = inst.sizes["N"]
    if key == "update":
        # the gradient the update implies: w1 - eta * g  =>  g = (w1 - claimed) / eta
        implied = (inst.net.W1 - claimed) / ETA
        r = _fit(implied, inst.true["grad"])
        if r is not None and abs(r - 1 / ETA) < 1e-9:
            return "the learning rate eta is missing"
        if r is not None and abs(r + 1) < 1e-9:
            return "it steps up the gradient (w1 + eta dL/dw1): gradient descent subtracts eta dL/dw1"
        sub = diagnose(PIECE_BY_KEY["gradient"], implied, inst, act, c, mean)
        return "read as w1_ij - eta * g_ij, the gradient g it uses: " + sub
    target = inst.true[key]
    for name, variant in MUTATIONS:
        alt = backward(inst.net, inst.fw, act, c, mean, variant)[key]
        if np.allclose(alt, target, rtol=1e-12, atol=1e-14):
            continue  # this mistake does not change this piece
        r = _fit(claimed, alt)
        if r is not None:
            return "it matches the formula in which " + name + ("" if abs(r - 1) < 1e-9 else
                                                               f", times {_factor_name(r, N, c)}")
    r = _fit(claimed, target)
    if r is not None:
        return "it is off by " + _factor_name(r, N, c)
    return "no single known mistake explains it (no softmax Jacobian, sum over k, activation derivative, sign or " \
           "constant factor)"


def _first_diff(piece: Piece, claimed: np.ndarray, target: np.ndarray, free: tuple[str, ...]) -> str:
    err = np.abs(claimed - target) / np.maximum(1.0, np.abs(target))
    pos = np.unravel_index(int(np.argmax(err)), err.shape)
    parts = []
    rest = pos
    if piece.per_sample:
        parts.append(f"data point n = {pos[0] + 1}")
        rest = pos[1:]
    parts += [f"{ch} = {p + 1}" for ch, p in zip(free, rest)]
    return f"at {', '.join(parts)}: claimed = {claimed[pos] + 0.0:.10g}, true = {target[pos] + 0.0:.10g}"


def verify_piece(piece: Piece, text: str, expr: sp.Expr, act: Activation, c: float, mean: bool,
                 instances: list[Instance]) -> Verdict:
    label = f"{piece.key} = {text}"
    free = _free_letters(expr, piece)
    for inst in instances:
        sz = inst.sizes
        size_text = f"D, H1, H2, K, N = {sz['D']}, {sz['H1']}, {sz['H2']}, {sz['K']}, {sz['N']}"
        try:
            scope = Scope({ch: d for ch, d in zip(free, piece.dims)}, piece.per_sample,
                          {ch: f"the free index of {piece.key}" for ch in free})
            check_shapes(expr, scope, piece, sz)
            claimed = Evaluator(inst.arrays, inst.scalars, act, sz).entries(expr, free, piece.dims, piece.per_sample)
        except ShapeError as exc:
            return Verdict(label, False, f"{exc} (network with {size_text})")
        except (OverflowError, ZeroDivisionError, ValueError, TypeError) as exc:
            return Verdict(label, False, f"cannot be evaluated on a random network ({size_text}): {exc}")
        target = inst.true[piece.name or "update"]
        if not np.allclose(claimed, target, rtol=1e-9, atol=1e-12):
            why = diagnose(piece, claimed, inst, act, c, mean)
            return Verdict(label, False, f"wrong {piece.what}: {why}. On a random network ({size_text}, seed "
                                         f"{CLAIM_SEEDS[instances.index(inst)]}) it differs "
                                         + _first_diff(piece, claimed, target, free),
                           TRUE_LATEX[piece.key])
    n_entries = sum(inst.true[piece.name or "update"].size for inst in instances)
    return Verdict(label, True, f"equal to the true {piece.what} at all {n_entries} entries of {len(instances)} random "
                                f"networks (sizes {', '.join('-'.join(str(s) for s in z[:4]) for z in CLAIM_SIZES)}, "
                                f"N = {', '.join(str(z[4]) for z in CLAIM_SIZES)}), to 1e-9 relative; checked "
                                f"numerically, not proved")


CLAIM_SEEDS = (11, 12)

TRUE_LATEX = {
    "dL_df": r"\frac{\partial \ell}{\partial f_k} = 2c\,(f_k - y_k)",
    "delta3": r"\delta^{[3]}_l = \sum_k 2c\,(f_k - y_k)\, f_k(\delta_{kl} - f_l)",
    "delta2": r"\delta^{[2]}_m = \sigma'(z^{[2]}_m) \sum_l w^{[3]}_{lm}\,\delta^{[3]}_l",
    "delta1": r"\delta^{[1]}_i = \sigma'(z^{[1]}_i) \sum_m w^{[2]}_{mi}\,\delta^{[2]}_m",
    "dL_dw1": r"\frac{\partial \ell}{\partial w^{[1]}_{ij}} = \delta^{[1]}_i x_j",
    "gradient": r"\frac{\partial L}{\partial w^{[1]}_{ij}} = A \sum_n \delta^{[1](n)}_i x^{(n)}_j,\ "
                r"A = 1 \text{ (sum) or } \tfrac1N \text{ (mean)}",
    "update": r"w^{[1]}_{ij}(r+1) = w^{[1]}_{ij}(r) - \eta\, \frac{\partial L}{\partial w^{[1]}_{ij}}\Big|_{r}",
}


# ---------------------------------------------------------------- solver

def _params(params: dict) -> tuple[float, bool, Activation]:
    c = params.get("loss_constant", 0.5)
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not c > 0 or not math.isfinite(c):
        raise InputError(f"parameter loss_constant: expected a positive number, got {c!r}")
    red = params.get("reduction", "sum")
    if red not in ("sum", "mean"):
        raise InputError(f"parameter reduction: expected sum or mean, got {red!r}")
    out = params.get("output_activation", "softmax")
    if str(out).strip() != "softmax":
        raise InputError(f"parameter output_activation: only softmax is supported, got {out!r}")
    return float(c), red == "mean", make_activation(params.get("hidden_activation", "relu(z)"))


def _rows(*lines: str) -> str:
    """Trusted LaTeX: equations stacked in display (one per row)."""
    return r"\begin{matrix} " + r" \\[6pt] ".join(r"\displaystyle " + ln for ln in lines) + r" \end{matrix}"


def _steps(c: float, mean: bool, act: Activation) -> list[Step]:
    A = r"\tfrac{1}{N}" if mean else "1"
    c_tex = sp.latex(sp.nsimplify(c))
    z = sp.Symbol("z", real=True)
    is_relu = act.expr == sp.Max(0, z)
    two_c = "" if abs(2 * c - 1) < 1e-15 else sp.latex(sp.nsimplify(2 * c)) + r"\,"
    d_act = r"H(z) = [z > 0]" if is_relu else sp.latex(sp.diff(act.expr, z))
    return [
        Step(text="The forward pass for one data point (x, y), with sizes D -> H1 -> H2 -> K: two hidden layers "
                  "and the softmax output,",
             math=_rows(r"z^{[1]} = W^{[1]}x + b^{[1]},\quad h^{[1]} = \sigma(z^{[1]}),",
                        r"z^{[2]} = W^{[2]}h^{[1]} + b^{[2]},\quad h^{[2]} = \sigma(z^{[2]}),",
                        r"z^{[3]} = W^{[3]}h^{[2]} + b^{[3]},\quad f = \operatorname{softmax}(z^{[3]}).")),
        Step(text=f"The loss of one point, and of the data set ({'mean' if mean else 'sum'} over the N points; "
                  f"c = {sp.nsimplify(c)}):",
             math=rf"\ell = c\sum_{{k=1}}^K (y_k - f_k)^2,\quad L = A\sum_{{n=1}}^N \ell^{{(n)}},\quad A = {A},\ "
                  rf"c = {c_tex}"),
        Step(text="Gradient descent moves every weight against its partial derivative at the current weights "
                  "(learning rate eta):", rule="gradient descent",
             math=r"w^{[1]}_{ij}(r+1) = w^{[1]}_{ij}(r) - \eta\,\frac{\partial L}{\partial w^{[1]}_{ij}}"
                  r"\Big|_{W(r)}"),
        Step(text="L is a sum over the data, so its derivative is the same sum of the per-point derivatives. "
                  "For one point, w1_ij enters only through z1_i (row i of W1), so the chain rule sums over the "
                  "paths z1_i -> z2_m -> z3_l -> f_k:", rule="chain rule (multivariate)",
             math=_rows(r"\frac{\partial \ell}{\partial w^{[1]}_{ij}} = \sum_{k,l,m}"
                        r"\frac{\partial \ell}{\partial f_k}\frac{\partial f_k}{\partial z^{[3]}_l}"
                        r"\frac{\partial z^{[3]}_l}{\partial h^{[2]}_m}\frac{\partial h^{[2]}_m}{\partial z^{[2]}_m}"
                        r"\frac{\partial z^{[2]}_m}{\partial h^{[1]}_i}\frac{\partial h^{[1]}_i}{\partial z^{[1]}_i}"
                        r"\frac{\partial z^{[1]}_i}{\partial w^{[1]}_{ij}}")),
        Step(text="The output factors: the derivative of the square, and the softmax Jacobian (quotient rule on "
                  "e^{z_k} / sum_q e^{z_q}):", rule="derivative of the loss and of the softmax",
             math=_rows(r"\frac{\partial \ell}{\partial f_k} = 2c(f_k - y_k),\quad "
                        r"\frac{\partial f_k}{\partial z^{[3]}_l} = f_k(\delta_{kl} - f_l)")),
        Step(text="The hidden factors: the weights of each layer, the activation derivatives, and the input:",
             rule="derivative of each layer",
             math=_rows(r"\frac{\partial z^{[3]}_l}{\partial h^{[2]}_m} = w^{[3]}_{lm},\quad "
                        r"\frac{\partial z^{[2]}_m}{\partial h^{[1]}_i} = w^{[2]}_{mi},\quad "
                        r"\frac{\partial h^{[p]}_a}{\partial z^{[p]}_a} = \sigma'(z^{[p]}_a),\quad "
                        r"\frac{\partial z^{[1]}_i}{\partial w^{[1]}_{ij}} = x_j")),
        Step(text="The hidden activation and its derivative" + (
             " (ReLU: the Heaviside step, with the convention sigma'(0) = 0 as in hertie.1.2; random data never hit "
             "the kink exactly)." if is_relu else "."), rule="activation derivative",
             math=r"\sigma(z) = " + sp.latex(act.expr) + r",\quad \sigma'(z) = " + d_act),
        Step(text="Group the sums from the output backwards into deltas, the derivative of l with respect to each "
                  "layer's pre-activation. The sum over k applies the softmax Jacobian to dl/df:",
             rule="backpropagation (index form)",
             math=_rows(r"\delta^{[3]}_l = \sum_k 2c(f_k - y_k) f_k(\delta_{kl} - f_l) = 2c\, f_l\Big[(f_l - y_l) - "
                        r"\sum_k f_k(f_k - y_k)\Big]")),
        Step(text="Each hidden delta is the weighted sum of the deltas above it, times the activation derivative:",
             rule="backpropagation (index form)",
             math=_rows(r"\delta^{[2]}_m = \sigma'(z^{[2]}_m)\sum_l w^{[3]}_{lm}\delta^{[3]}_l,\quad "
                        r"\delta^{[1]}_i = \sigma'(z^{[1]}_i)\sum_m w^{[2]}_{mi}\delta^{[2]}_m")),
        Step(text="So, for one point and for the data set:", rule="result (index form)",
             math=_rows(r"\frac{\partial \ell}{\partial w^{[1]}_{ij}} = \delta^{[1]}_i x_j,\qquad "
                        r"\frac{\partial L}{\partial w^{[1]}_{ij}} = A\sum_n \delta^{[1](n)}_i x^{(n)}_j")),
        Step(text="Written out in full, for one point:", rule="result (index form)",
             math=_rows(r"\frac{\partial \ell}{\partial w^{[1]}_{ij}} = \sigma'(z^{[1]}_i)\, x_j "
                        r"\sum_m w^{[2]}_{mi}\,\sigma'(z^{[2]}_m)\sum_l w^{[3]}_{lm}\, \delta^{[3]}_l")),
        Step(text="The same in matrix form (odot: the elementwise product; Delta1 stacks the delta1 rows of the N "
                  "points, X the inputs):", rule="backpropagation (matrix form)",
             math=_rows(r"\delta^{[3]} = \big(\operatorname{diag}(f) - f f^\top\big)\,2c(f - y),\quad "
                        r"\delta^{[2]} = \sigma'(z^{[2]}) \odot W^{[3]\top}\delta^{[3]},",
                        r"\delta^{[1]} = \sigma'(z^{[1]}) \odot W^{[2]\top}\delta^{[2]},\quad "
                        r"\nabla_{W^{[1]}} L = A\sum_n \delta^{[1](n)} x^{(n)\top} = A\,\Delta^{[1]\top} X.")),
        Step(text=f"The update with the problem's constants (c = {sp.nsimplify(c)}, "
                  f"{'mean' if mean else 'sum'} over the data), where delta3 = "
                  + ("" if not two_c else f"{sp.nsimplify(2 * c)} ") + "(diag(f) - f f^T)(f - y):",
             rule="gradient descent",
             math=r"W^{[1]}(r+1) = W^{[1]}(r) - \eta\," + ("" if not mean else r"\frac{1}{N}")
                  + r"\sum_n \delta^{[1](n)} x^{(n)\top}"),
    ]


def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    c, mean, act = _params(params)
    result = Result(problem_id=PID, title="Weight update for the first layer",
                    params={"loss_constant": c, "reduction": "mean" if mean else "sum",
                            "hidden_activation": act.text, "output_activation": "softmax"},
                    random_state={"check_seeds": [100, 101, 102, 103, 7], "claim_seeds": list(CLAIM_SEEDS)})
    parsed = {}
    if claims:
        claim_keys(claims, PIECE_BY_KEY.keys(), f'["{PID}"]')
        for p in PIECES:
            if p.key in claims:
                parsed[p.key] = parse_piece(p, claims[p.key])
    result.steps = _steps(c, mean, act)
    sym = symbolic_check()
    result.steps.append(Step(text="SymPy differentiates l for a small instance with an undefined activation sigma and "
                                  "symbolic c and confirms the index formula entry by entry.",
                             rule="symbolic verification", math=TRUE_LATEX["dL_dw1"], gap=not sym.passed))
    result.checks.append(sym)
    checks, table = oracle_checks(act, c, mean)
    result.checks += checks
    result.tables.append(table)
    result.summary = ("dL/dw1_ij = A sum_n delta1_i x_j with delta1 = sigma'(z1) * W2^T delta2, delta2 = sigma'(z2) * "
                      "W3^T delta3, delta3 = (diag(f) - f f^T) 2c (f - y); w1_ij(r+1) = w1_ij(r) - eta dL/dw1_ij "
                      f"(c = {sp.nsimplify(c)}, A = {'1/N' if mean else '1'})")
    if parsed:
        instances = [make_instance(s, seed, act, c, mean) for s, seed in zip(CLAIM_SIZES, CLAIM_SEEDS)]
        for p in PIECES:
            if p.key in parsed:
                result.verdicts.append(verify_piece(p, claims[p.key], parsed[p.key], act, c, mean, instances))
    return result
