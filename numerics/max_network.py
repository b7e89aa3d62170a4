"""tau.t2: ReLU networks for max(x_1, ..., x_n), verified EXACTLY on every cell of the arrangement.

A network with ReLU hidden layers and a linear output is affine on every cell
of the arrangement cut out by its pre-activations; max(x) is affine on each
region {x_k > x_j for all j != k}. The verifier walks these cells depth-first:
it starts from the n regions of max, and splits a cell by the sign of each
hidden pre-activation in turn (which is affine on the cell). For every split

* a cell with an interior point (LP: maximise s subject to g.x + g0 >= s, HiGHS;
  the point is then re-checked in exact rationals) is explored further;
* a cell without one is discarded only with an exact emptiness certificate
  (Gordan/Motzkin: lambda >= 0, sum lambda = 1, G^T lambda = 0, g0.lambda <= 0,
  checked in ``fractions.Fraction``); otherwise it is reported as undecided.

At each full cell the network's affine map and x_k are compared exactly. Both
functions are continuous and the open cells cover R^n up to a null set, so
equality on every open cell is equality everywhere. When the maps differ the
verifier returns an interior rational point with both values.

>>> v = verify_max(reference_4(), 2)
>>> v.equal, len(v.cells)
(True, 4)
>>> bad = verify_max(Net([([[F(1), F(-1)]], [F(0)])], ([F(1)], F(0))), 2)   # relu(x1 - x2)
>>> bad.equal, bad.counterexample["network"] != bad.counterexample["max"]
(False, True)
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import numpy as np
import sympy as sp
from scipy.optimize import linprog

from numerics.separability import exact_nullspace
from problems.errors import InputError
from problems.model import Check, Result, Step, Table, Verdict
from problems.validate import claim_keys
from theory.parse import ExprError, parse_number

F = Fraction
PID = "tau.t2"
WHERE = f'["{PID}"]'
S_TOL = 1e-9             # an LP margin s above this is tried as an interior point (then checked exactly)
MAX_N, MAX_H = 5, 16
SPOT_POINTS = 2000
WIDTH2_GRID = (-2, -1, 0, 1, 2)    # integer values searched for width-2 hidden layers

CLAIM_SCHEMA = """\
Claims for tau.t2 (max with one ReLU hidden layer and a linear output), one TOML table:

  ["tau.t2"]
  hidden_weights = [[1, 1], [-1, -1], [1, -1], [-1, 1]]   # W: H rows of n entries (n = 2 for the sheet;
                                                          #    n = 3..5 checks max(x_1, ..., x_n))
  hidden_biases = [0, 0, 0, 0]                            # b: H entries
  output_weights = ["1/2", "-1/2", "1/2", "1/2"]          # a: H entries
  output_bias = 0                                         # c
  width = 4            # optional: "this many hidden units suffice" for max(x1, x2)
  min_width = 3        # optional: the least width that computes max(x1, x2) exactly

N(x) = a . relu(W x + b) + c. Entries are TOML numbers or text ("1/2", "-1"): exact rationals.
Checked exactly on every cell of the hyperplane arrangement (counter-example: an interior point of
a cell where N differs from max, with both values), and by random spot checks.
"""


# ---------------------------------------------------------------- networks

@dataclass
class Net:
    """ReLU hidden layers ``[(W, b), ...]`` (W: rows of the layer's inputs) and a linear output (a, c)."""

    layers: list[tuple[list[list[Fraction]], list[Fraction]]]
    out: tuple[list[Fraction], Fraction]

    @property
    def widths(self) -> list[int]:
        return [len(b) for _, b in self.layers]


def _net(W, b, a, c) -> Net:
    return Net([([[F(v) for v in row] for row in W], [F(v) for v in b])], ([F(v) for v in a], F(c)))


def reference_4() -> Net:
    """The sheet's hint: max = (x1 + x2)/2 + |x1 - x2|/2, with z = relu(z) - relu(-z), |z| = relu(z) + relu(-z)."""
    return _net([[1, 1], [-1, -1], [1, -1], [-1, 1]], [0, 0, 0, 0], ["1/2", "-1/2", "1/2", "1/2"], 0)


def reference_3() -> Net:
    """max = x2 + relu(x1 - x2), with x2 = relu(x2) - relu(-x2)."""
    return _net([[0, 1], [0, -1], [1, -1]], [0, 0, 0], [1, -1, 1], 0)


def tree_network(n: int) -> Net:
    """max(x_1..x_n) by a tree of pairwise maxes: ceil(log2 n) hidden layers; each pair (u, v) uses the
    4 units of :func:`reference_4`, an unpaired value v is carried by relu(v) - relu(-v)."""
    # values: each current value is a linear form of the previous layer's outputs (list of Fractions)
    width = n
    forms = [[F(int(i == j)) for j in range(n)] for i in range(n)]     # x_i in terms of the inputs
    layers = []
    while len(forms) > 1:
        W, b, new_forms = [], [], []
        for p in range(0, len(forms) - 1, 2):
            u, v = forms[p], forms[p + 1]
            base = len(W)
            for su, sv in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
                W.append([su * x + sv * y for x, y in zip(u, v)])
                b.append(F(0))
            new_forms.append((base, [F(1, 2), F(-1, 2), F(1, 2), F(1, 2)]))
        if len(forms) % 2:
            v = forms[-1]
            base = len(W)
            W += [list(v), [-x for x in v]]
            b += [F(0), F(0)]
            new_forms.append((base, [F(1), F(-1)]))
        width = len(W)
        forms = []
        for base, coef in new_forms:
            f = [F(0)] * width
            for k, cval in enumerate(coef):
                f[base + k] = cval
            forms.append(f)
        layers.append((W, b))
    return Net(layers, (forms[0], F(0)))


# ---------------------------------------------------------------- evaluation

def forward_exact(net: Net, x: list[Fraction]) -> Fraction:
    h = list(x)
    for W, b in net.layers:
        h = [max(F(0), sum((w * v for w, v in zip(row, h)), F(0)) + bb) for row, bb in zip(W, b)]
    a, c = net.out
    return sum((w * v for w, v in zip(a, h)), F(0)) + c


def forward_float(net: Net, X: np.ndarray) -> np.ndarray:
    H = X                                                                   # (m, n)
    for W, b in net.layers:
        H = np.maximum(0.0, H @ np.array(W, float).T + np.array(b, float))  # (m, width)
    a, c = net.out
    return H @ np.array(a, float) + float(c)


# ---------------------------------------------------------------- cells

Affine = tuple[list[Fraction], Fraction]       # g.x + g0


def _lp_interior(G: np.ndarray, g0: np.ndarray, box: Optional[float]):
    """max s s.t. G x + g0 >= s, s <= 1 (and |x_i| <= box). Returns (s, x) or (None, None) on solver trouble."""
    m, n = G.shape
    c = np.zeros(n + 1)
    c[-1] = -1.0
    A = np.hstack([-G, np.ones((m, 1))])
    bounds = [(-box, box) if box else (None, None)] * n + [(None, 1.0)]
    res = linprog(c, A_ub=A, b_ub=g0, bounds=bounds, method="highs")
    if res.status != 0:
        return None, None
    return -res.fun, res.x[:n]


def _strictly_inside(cons: list[Affine], x: list[Fraction]) -> bool:
    return all(sum((gi * xi for gi, xi in zip(g, x)), F(0)) + g0 > 0 for g, g0 in cons)


def _nice(x: np.ndarray, cons: list[Affine]) -> Optional[list[Fraction]]:
    """A rational point near x strictly inside the cell, with small denominators when possible."""
    for den in (1, 2, 4, 10, 100, 1000, 10 ** 6):
        q = [F(round(float(v) * den), den) for v in x]
        if _strictly_inside(cons, q):
            return q
    q = [F(float(v)) for v in x]
    return q if _strictly_inside(cons, q) else None


def _emptiness_certificate(cons: list[Affine], n: int) -> Optional[list[Fraction]]:
    """lambda >= 0, sum = 1, sum_r lambda_r g_r = 0, sum_r lambda_r g0_r <= 0 (exact), or None."""
    G = np.array([[float(v) for v in g] for g, _ in cons])
    g0 = np.array([float(v) for _, v in cons])
    m = len(cons)
    res = linprog(g0, A_eq=np.vstack([G.T, np.ones((1, m))]), b_eq=np.concatenate([np.zeros(n), [1.0]]),
                  bounds=[(0, None)] * m, method="highs-ds")
    if res.status != 0:
        return None
    support = [r for r in range(m) if res.x[r] > 1e-9]
    candidates = []
    rows = [[cons[r][0][k] for r in support] for k in range(n)]      # G_S^T lambda_S = 0
    basis = exact_nullspace(rows, len(support))
    if len(basis) == 1:
        v = basis[0]
        total = sum(v, F(0))
        if total != 0:
            candidates.append({r: a / total for r, a in zip(support, v)})
    candidates.append({r: F(float(res.x[r])).limit_denominator(10 ** 6) for r in support})
    for lam in candidates:
        full = [lam.get(r, F(0)) for r in range(m)]
        if _is_certificate(cons, full, n):
            return full
    return None


def _is_certificate(cons: list[Affine], lam: list[Fraction], n: int) -> bool:
    if any(v < 0 for v in lam) or sum(lam, F(0)) <= 0:
        return False
    if any(sum((l * g[k] for l, (g, _) in zip(lam, cons)), F(0)) != 0 for k in range(n)):
        return False
    return sum((l * g0 for l, (_, g0) in zip(lam, cons)), F(0)) <= 0


def _pair_certificate(cons: list[Affine], n: int) -> Optional[list[Fraction]]:
    """The last constraint opposes an earlier one (g_new = -alpha g_r, alpha > 0): a two-entry certificate."""
    g, g0 = cons[-1]
    k = next((i for i, v in enumerate(g) if v != 0), None)
    if k is None:
        return None
    for r, (h, h0) in enumerate(cons[:-1]):
        if h[k] != 0 and -g[k] / h[k] > 0:
            alpha = -g[k] / h[k]
            if all(gi == -alpha * hi for gi, hi in zip(g, h)):
                lam = [F(0)] * len(cons)
                lam[r], lam[-1] = alpha / (1 + alpha), 1 / (1 + alpha)
                if _is_certificate(cons, lam, n):
                    return lam
    return None


def cell_point(cons: list[Affine], n: int, hint: Optional[list[Fraction]] = None) -> tuple[str, Any]:
    """('interior', x) with x rational and strictly inside; ('empty', lambda) with an exact certificate;
    or ('undecided', reason). ``hint``: a candidate point (e.g. the parent cell's), tried first."""
    if hint is not None and _strictly_inside(cons, hint):
        return "interior", hint
    lam = _pair_certificate(cons, n) or _emptiness_certificate(cons, n)          # most sign patterns are empty: try this first
    if lam is not None:
        return "empty", lam
    G = np.array([[float(v) for v in g] for g, _ in cons])
    g0 = np.array([float(v) for _, v in cons])
    for box in (2.0, 10.0, None):                  # small boxes first, for readable points
        s, x = _lp_interior(G, g0, box)
        if s is not None and s > S_TOL:
            q = _nice(x, cons)
            if q is not None:
                return "interior", q
    return "undecided", "no exact interior point and no exact emptiness certificate"


@dataclass
class Cell:
    k: int                              # the region x_k > x_j of max
    pattern: list[str]                  # per layer, '+'/'0' per unit ('0': inactive)
    point: list[Fraction]               # an interior point (exact)
    net_map: Affine                     # the network on the cell
    equal: bool


@dataclass
class Verification:
    equal: Optional[bool]               # None: some cell undecided (and no difference found)
    cells: list[Cell] = field(default_factory=list)
    empty: int = 0                      # branches discarded with an exact certificate
    undecided: list[str] = field(default_factory=list)
    counterexample: Optional[dict] = None
    lps: int = 0


def _compose(W, b, acts: list[Affine], n: int) -> list[Affine]:
    out = []
    for row, bb in zip(W, b):
        g = [sum((w * a[0][k] for w, a in zip(row, acts)), F(0)) for k in range(n)]
        out.append((g, sum((w * a[1] for w, a in zip(row, acts)), F(0)) + bb))
    return out


def _counterexample(cell_cons, x0, diff: Affine) -> list[Fraction]:
    """An interior point where the affine ``diff`` (non-zero as a map) is non-zero."""
    g, g0 = diff
    val = sum((gi * xi for gi, xi in zip(g, x0)), F(0)) + g0
    if val != 0 or all(v == 0 for v in g):
        return x0
    eps = F(1)
    for h, h0 in cell_cons:                       # keep every strict inequality
        slope = sum((hi * gi for hi, gi in zip(h, g)), F(0))
        if slope < 0:
            eps = min(eps, (sum((hi * xi for hi, xi in zip(h, x0)), F(0)) + h0) / (2 * -slope))
    return [xi + eps * gi for xi, gi in zip(x0, g)]


def verify_max(net: Net, n: int, max_cells: int = 5000, budget_s: float = 30.0) -> Verification:
    """Exact check that ``net`` computes max(x_1..x_n) on R^n (see the module docstring). Past
    ``max_cells`` cells or ``budget_s`` seconds the answer is None (undecided) unless a difference was found."""
    if any(len(row) != n for row in net.layers[0][0]):
        raise ValueError(f"the first layer expects {len(net.layers[0][0][0])} inputs, not {n}")
    v = Verification(equal=True)
    deadline = time.monotonic() + budget_s
    ident = [([F(int(i == k)) for k in range(n)], F(0)) for i in range(n)]

    def explore(cons, acts, layer, unit, pre, pattern, k, x0):
        if v.counterexample is not None or len(v.cells) >= max_cells:
            return
        if time.monotonic() > deadline:
            if not v.undecided or v.undecided[-1] != "time budget exhausted":
                v.undecided.append("time budget exhausted")
            return
        if layer == len(net.layers):                       # a full cell: compare affine maps
            a, c = net.out
            gmap = ([sum((w * h[0][j] for w, h in zip(a, acts)), F(0)) for j in range(n)],
                    sum((w * h[1] for w, h in zip(a, acts)), F(0)) + c)
            target = [F(int(j == k)) for j in range(n)]
            same = gmap[0] == target and gmap[1] == 0
            v.cells.append(Cell(k, [p for p in pattern if p], x0, gmap, same))
            if not same:
                diff = ([p - q for p, q in zip(gmap[0], target)], gmap[1])
                x = _counterexample(cons, x0, diff)
                v.counterexample = {"point": x, "network": forward_exact(net, x), "max": max(x),
                                    "region": k, "pattern": [p for p in pattern if p], "net_map": gmap}
            return
        W, b = net.layers[layer]
        if pre is None:
            pre = _compose(W, b, acts, n)
        if unit == len(pre):                               # next layer: activations on this cell
            new_acts = [p if s == "+" else ([F(0)] * n, F(0)) for p, s in zip(pre, pattern[-1])]
            explore(cons, new_acts, layer + 1, 0, None, pattern + [""], k, x0)
            return
        g, g0 = pre[unit]
        choices = []
        if all(c == 0 for c in g):                         # constant pre-activation: no split
            choices.append(("+" if g0 > 0 else "0", None))
        else:
            choices += [("+", (g, g0)), ("0", ([-c for c in g], -g0))]
        for sign, con in choices:
            new_cons = cons if con is None else cons + [con]
            point = x0
            if con is not None:
                st, info = cell_point(new_cons, n, hint=x0)
                v.lps += 1
                if st == "empty":
                    v.empty += 1
                    continue
                if st == "undecided":
                    v.undecided.append(f"region k = {k + 1}, pattern {pattern[:-1] + [pattern[-1] + sign]}")
                    continue
                point = info                               # an exact interior point of the new cell
            explore(new_cons, acts, layer, unit + 1, pre, pattern[:-1] + [pattern[-1] + sign], k, point)

    for k in range(n):
        cons = [([F(int(j == k)) - F(int(j == i)) for j in range(n)], F(0)) for i in range(n) if i != k]
        x0 = [F(int(j == k) - 1) for j in range(n)]      # x_k = 0 > -1 = x_j: strictly inside
        explore(cons, ident, 0, 0, None, [""], k, x0)
    if v.counterexample is not None:
        v.equal = False
    elif v.undecided or len(v.cells) >= max_cells:
        v.equal = None
    return v


def spot_check(net: Net, n: int, points: int = SPOT_POINTS, seed: int = 0) -> tuple[int, Optional[tuple]]:
    """Float comparison at random points (Gaussian, scale 3, half of them pushed near a tie x_i = x_j)."""
    rng = np.random.default_rng(seed)
    X = 3 * rng.standard_normal((points, n))
    half = points // 2
    i = rng.integers(0, n, half)
    j = (i + rng.integers(1, n, half)) % n
    X[np.arange(half), i] = X[np.arange(half), j] + 1e-6 * rng.standard_normal(half)
    got, want = forward_float(net, X), X.max(axis=1)
    err = np.abs(got - want)
    bad = np.flatnonzero(err > 1e-9 * (1 + np.abs(want)))
    if not len(bad):
        return 0, None
    worst = bad[np.argmax(err[bad])]                       # the clearest example
    return len(bad), (X[worst].tolist(), float(got[worst]), float(want[worst]))


def grid_check(net: Net, n: int, half_width: int = 4, den: int = 2) -> tuple[int, Optional[list]]:
    """Exact comparison on every point of the rational grid {-h, ..., h}^n / den (an oracle independent of
    the cell enumeration). Returns (number of points, first failing point or None)."""
    pts = itertools.product(range(-half_width * den, half_width * den + 1), repeat=n)
    count = 0
    for p in pts:
        x = [F(v, den) for v in p]
        count += 1
        if forward_exact(net, x) != max(x):
            return count, x
    return count, None


# ---------------------------------------------------------------- width search

def _relu_features(Ws: np.ndarray, bs: np.ndarray, P: np.ndarray) -> np.ndarray:
    """(B, m, H + 1): relu(P W^T + b) for every hidden layer in the batch, plus a column of ones."""
    Z = np.maximum(0.0, np.einsum("md,bhd->bmh", P, Ws) + bs[:, None, :])
    return np.concatenate([Z, np.ones(Z.shape[:2] + (1,))], axis=2)


def width_search(H: int, values: tuple[int, ...], n: int = 2, seed: int = 0, chunk: int = 4096):
    """Every hidden layer of width H with integer weights and biases in ``values``: does SOME output layer
    (a, c) fit max on 40 sample points? (least squares, residual <= 1e-9). Returns (searched, fits)."""
    rng = np.random.default_rng(seed)
    P = rng.uniform(-3, 3, size=(40, n))                  # (m, n)
    t = P.max(axis=1)
    combos = np.array(list(itertools.product(values, repeat=H * (n + 1))), dtype=float)  # (B, H(n+1))
    fits = []
    for s in range(0, len(combos), chunk):
        C = combos[s:s + chunk]
        Ws = C[:, :H * n].reshape(-1, H, n)
        bs = C[:, H * n:]
        Fm = _relu_features(Ws, bs, P)                     # (B, m, H+1)
        coef = np.linalg.pinv(Fm) @ t                      # (B, H+1)
        res = np.linalg.norm(np.einsum("bmh,bh->bm", Fm, coef) - t, axis=1)
        for idx in np.flatnonzero(res <= 1e-9):
            fits.append((Ws[idx], bs[idx], coef[idx]))
    return len(combos), fits


# ---------------------------------------------------------------- formatting

def _xs(n):
    return sp.symbols(f"x_1:{n + 1}", real=True)


def affine_tex(m: Affine) -> str:
    n = len(m[0])
    xs = _xs(n)
    e = sum((sp.Rational(c.numerator, c.denominator) * x for c, x in zip(m[0], xs)), sp.Integer(0))
    return sp.latex(e + sp.Rational(m[1].numerator, m[1].denominator))


def affine_txt(m: Affine) -> str:
    xs = _xs(len(m[0]))
    e = sum((sp.Rational(c.numerator, c.denominator) * x for c, x in zip(m[0], xs)), sp.Integer(0))
    return sp.sstr(e + sp.Rational(m[1].numerator, m[1].denominator))


def _q(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def _pt(x) -> str:
    return "(" + ", ".join(_q(F(v)) for v in x) + ")"


def net_tex(net: Net) -> str:
    """N(x) = sum_h a_h relu(w_h . x + b_h) + c for a one-hidden-layer net, as LaTeX."""
    (W, b), (a, c) = net.layers[0], net.out
    n = len(W[0])
    xs = _xs(n)
    terms = []
    for row, bb, aa in zip(W, b, a):
        if aa == 0:
            continue
        inner = sum((sp.Rational(w.numerator, w.denominator) * x for w, x in zip(row, xs)), sp.Integer(0)) \
            + sp.Rational(bb.numerator, bb.denominator)
        coef = sp.Rational(aa.numerator, aa.denominator)
        lead = "" if coef == 1 else "-" if coef == -1 else sp.latex(coef)
        terms.append(rf"{lead}\,\mathrm{{relu}}({sp.latex(inner)})")
    out = " + ".join(terms).replace("+ -", "- ") or "0"
    if c != 0:
        out += " + " + sp.latex(sp.Rational(c.numerator, c.denominator))
    return out


def cells_table(v: Verification, caption: str) -> Table:
    rows = [[f"x_{c.k + 1} largest", " | ".join(c.pattern), _pt(c.point), affine_tex(c.net_map),
             f"x_{{{c.k + 1}}}", "yes" if c.equal else "NO"] for c in v.cells]
    return Table(caption=caption, columns=["region of max", "active units (+) per layer", "interior point",
                                           "network on the cell", "max on the cell", "equal"],
                 rows=rows, math_columns=[3, 4])


# ---------------------------------------------------------------- claims

def _rational(raw, where: str) -> Fraction:
    try:
        v = parse_number(raw)
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if not v.is_Rational:
        raise InputError(f"{where}: expected a rational number (the check is exact), got {v}")
    return F(int(v.p), int(v.q))


def _vector(raw, where: str, length: Optional[int]) -> list[Fraction]:
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{where}: expected a list of numbers")
    if length is not None and len(raw) != length:
        raise InputError(f"{where}: expected {length} entries (one per hidden unit), got {len(raw)}")
    return [_rational(v, f"{where}[{i}]") for i, v in enumerate(raw)]


def parse_claims(claims: dict) -> dict:
    net_keys = ("hidden_weights", "hidden_biases", "output_weights", "output_bias")
    claim_keys(claims, set(net_keys) | {"width", "min_width"}, WHERE)
    out: dict[str, Any] = {}
    given = [k for k in net_keys if k in claims]
    if given and len(given) < 4:
        missing = [k for k in net_keys if k not in claims]
        raise InputError(f"{WHERE}: a network needs all of {', '.join(net_keys)} (missing: {', '.join(missing)})")
    if given:
        W = claims["hidden_weights"]
        if not isinstance(W, list) or not W or not all(isinstance(r, list) for r in W):
            raise InputError(f"{WHERE}.hidden_weights: expected a list of rows (one row of n numbers per unit)")
        if len(W) > MAX_H:
            raise InputError(f"{WHERE}.hidden_weights: at most {MAX_H} hidden units")
        n = len(W[0])
        if not 2 <= n <= MAX_N:
            raise InputError(f"{WHERE}.hidden_weights[0]: expected 2..{MAX_N} entries (the inputs), got {n}")
        Wq = []
        for i, row in enumerate(W):
            if len(row) != n:
                raise InputError(f"{WHERE}.hidden_weights[{i}]: expected {n} entries, got {len(row)}")
            Wq.append([_rational(v, f"{WHERE}.hidden_weights[{i}][{j}]") for j, v in enumerate(row)])
        H = len(Wq)
        b = _vector(claims["hidden_biases"], f"{WHERE}.hidden_biases", H)
        a = _vector(claims["output_weights"], f"{WHERE}.output_weights", H)
        c = _rational(claims["output_bias"], f"{WHERE}.output_bias")
        out["net"] = Net([(Wq, b)], (a, c))
        out["n"] = n
        out["text"] = "; ".join(f"{k} = {claims[k]}" for k in net_keys)
    for key in ("width", "min_width"):
        if key in claims:
            v = claims[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InputError(f"{WHERE}.{key}: expected a non-negative integer")
            out[key] = v
    return out


def _net_verdict(p: dict) -> Verdict:
    net, n = p["net"], p["n"]
    v = verify_max(net, n)
    bad, first = spot_check(net, n)
    spots = f"random spot checks: {bad} of {SPOT_POINTS} points differ" + (
        " (largest difference at x = (" + ", ".join(f"{t:.4g}" for t in first[0]) + f"): N = {first[1]:.6g}, "
        f"max = {first[2]:.6g})" if first else "")
    args = "x_1, x_2" if n == 2 else f"x_1, ..., x_{n}"
    claim = f"N(x) = max({args}) for the claimed network of width {len(net.out[0])}"
    if v.equal is True:
        return Verdict(claim, True, f"exact: equal on all {len(v.cells)} cells of the arrangement ({v.empty} sign "
                                    f"patterns empty, each with an exact certificate); {spots}",
                       evidence_math=r"N(x)=" + net_tex(net))
    if v.equal is False:
        ce = v.counterexample
        k = ce["region"]
        return Verdict(claim, False,
                       f"counter-example x = {_pt(ce['point'])} (interior of the cell where x_{k + 1} is largest "
                       f"and the active units are {' | '.join(ce['pattern'])}): N(x) = {_q(ce['network'])}, "
                       f"max(x) = {_q(ce['max'])}; there N(x) = {affine_txt(ce['net_map'])} instead of "
                       f"x_{k + 1}; {spots}",
                       evidence_math=rf"N\big({_pt(ce['point'])}\big)={_q(ce['network'])}\ne"
                                     rf"{_q(ce['max'])}=\max(x),\quad N(x)=" + net_tex(net))
    return Verdict(claim, None, f"undecided: {len(v.undecided)} cell(s) could not be decided exactly "
                                f"(first: {v.undecided[0] if v.undecided else 'cell limit reached'}); {spots}")


def claim_verdicts(parsed: dict) -> list[Verdict]:
    """One verdict per claim: the network (exact cell check), ``width`` and ``min_width``."""
    out = []
    n2 = len(WIDTH2_GRID) ** (2 * 3)
    if "net" in parsed:
        out.append(_net_verdict(parsed))
    if "width" in parsed:
        w = parsed["width"]
        out.append(Verdict(
            f"width = {w}: {w} hidden units suffice for max(x1, x2)", w >= 3,
            "true: the 3-unit network is verified exactly, and extra units with output weight 0 change nothing"
            if w >= 3 else ("false: width 1 is proved impossible (constant along a direction, SymPy); width 2 is "
                            "rejected by an unchecked argument and a search over integer weights in {-2..2} (no "
                            f"width-2 fit among {n2} integer hidden layers); so the least width is 3")
            if w == 2 else f"false: the least width is 3 (width {w} cannot work: a network with at most one unit is "
                           f"constant along a direction, proved with SymPy for one unit, and max is not)"))
    if "min_width" in parsed:
        w = parsed["min_width"]
        out.append(Verdict(
            f"min_width = {w}", w == 3,
            "width 2 is rejected by an unchecked argument and a search over integer weights in {-2..2} (no "
            f"width-2 fit among {n2} integer hidden layers), not by a proof; width 1 is proved impossible (SymPy: "
            "constant along a direction); width 3 is attained: relu(x2) - relu(-x2) + relu(x1 - x2) is verified "
            "exactly on every cell" + ("" if w == 3 else f"; so {w} is not the least width")))
    return out


# ---------------------------------------------------------------- the solver

def _params(params: dict) -> dict:
    out = {"n_inputs": int(params.get("n_inputs") or 2), "hidden_width": int(params.get("hidden_width") or 4)}
    if not 2 <= out["n_inputs"] <= 4:
        raise InputError(f"parameter n_inputs: expected 2 <= n_inputs <= 4, got {out['n_inputs']}")
    if out["hidden_width"] not in (3, 4):
        raise InputError(f"parameter hidden_width: expected 3 or 4 (the reference constructions), "
                         f"got {out['hidden_width']}")
    return out


def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    t0 = time.perf_counter()
    P = _params(params)
    parsed = parse_claims(claims) if claims else None
    r = Result(problem_id=PID, title="The max function with ReLU", params=P, random_state=0)
    r.versions = {"sympy": sp.__version__, "numpy": np.__version__}
    ref = reference_4() if P["hidden_width"] == 4 else reference_3()
    other = reference_3() if P["hidden_width"] == 4 else reference_4()

    r.steps.append(Step(
        text="The hint, with z = relu(z) - relu(-z) and |z| = relu(z) + relu(-z), gives 4 hidden units:",
        math=r"\max\{x_1,x_2\}=\frac{x_1+x_2}2+\frac{|x_1-x_2|}2=" + net_tex(reference_4()),
        rule="construction"))
    r.steps.append(Step(
        text="Three units suffice: max = x_2 + relu(x_1 - x_2), and a linear output without skip connection "
             "needs x_2 = relu(x_2) - relu(-x_2):",
        math=r"\max\{x_1,x_2\}=" + net_tex(reference_3()), rule="construction"))
    r.steps.append(Step(
        text="Exact verification: on every open cell of the arrangement (the regions of max, split by the sign "
             "of each hidden pre-activation) both sides are affine; the maps are compared in exact rationals. "
             "Cells: an LP finds an interior point, re-checked exactly; an empty sign pattern is discarded only "
             "with an exact Gordan certificate. Both functions are continuous and the open cells cover the input "
             "space up to a null set, so equality on every cell is equality everywhere.",
        math=r"\lambda\ge0,\ \textstyle\sum_r\lambda_r=1,\ \sum_r\lambda_r g_r=0,\ \sum_r\lambda_r g_{0r}\le0"
             r"\ \Rightarrow\ \{x:\ g_r\cdot x+g_{0r}>0\ \forall r\}=\emptyset",
        rule="hyperplane arrangement + LP + exact arithmetic"))

    # -- the reference networks
    for net, name in ((ref, f"reference ({P['hidden_width']} units)"), (other, f"second construction "
                                                                        f"({len(other.out[0])} units)")):
        v = verify_max(net, 2)
        r.checks.append(Check(f"{name} equals max(x1, x2) on every cell", "exact cell enumeration (HiGHS LP + "
                              "Fraction certificates)", v.equal is True,
                              f"{len(v.cells)} cells, {v.empty} empty patterns certified, {v.lps} sign-pattern tests"))
        n_pts, bad = grid_check(net, 2)
        r.checks.append(Check(f"{name}: exact values on a rational grid", "independent oracle: N(x) = max(x) in "
                              "Fractions on {-4, -7/2, ..., 4}^2", bad is None,
                              f"{n_pts} points" + (f"; fails at {_pt(bad)}" if bad else "")))
        nbad, first = spot_check(net, 2)
        r.checks.append(Check(f"{name}: random spot checks", f"float, {SPOT_POINTS} points (half near x1 = x2), "
                              "relative tolerance 1e-9", nbad == 0, f"{nbad} mismatches"))
        r.tables.append(cells_table(v, f"Cells of the arrangement for the {name}: the network and max are "
                                       "the same affine map on each"))
    # the checker must be able to fail
    broken = Net([(ref.layers[0][0], ref.layers[0][1])], (ref.out[0], F(1, 1000)))
    vb = verify_max(broken, 2)
    ce = vb.counterexample or {}
    r.checks.append(Check("the exact checker rejects a perturbed network", "reference with output bias 1/1000",
                          vb.equal is False and ce.get("network") != ce.get("max"),
                          f"counter-example x = {_pt(ce['point'])}: N = {_q(ce['network'])}, max = {_q(ce['max'])}"
                          if ce else "no counter-example found"))

    # -- the minimal width for n = 2
    x1, x2, t = sp.symbols("x_1 x_2 t", real=True)
    w1, w2, bb, aa, cc = sp.symbols("w_1 w_2 b a c", real=True)
    one = aa * sp.Max(0, w1 * x1 + w2 * x2 + bb) + cc
    inv = sp.simplify(one.subs({x1: x1 + t * w2, x2: x2 - t * w1}) - one) == 0
    R = sp.Symbol("R", positive=True)
    mx = sp.Max(x1, x2)
    moves = [sp.simplify(mx.subs({x1: R + t * v1, x2: t * v2}) - mx.subs({x1: R, x2: 0}))
             for v1, v2 in ((1, 0), (0, 1))]
    r.steps.append(Step(
        text="Width 1 cannot work: a single unit is constant along the direction (w_2, -w_1) (SymPy: "
             f"{'verified' if inv else 'NOT verified'}), while max(x + t v) is constant in t only for v = 0 "
             "(at x = (R, 0) it moves by t v_1, at (0, R) by t v_2). More generally, any one-hidden-layer net of "
             "width H < n is constant along the null space of W, so width >= n.",
        math=r"a\,\mathrm{relu}\big(w\cdot(x+t\,(w_2,-w_1))+b\big)+c=a\,\mathrm{relu}(w\cdot x+b)+c,\qquad "
             r"\max\{R+t v_1,\,t v_2\}-R=t v_1\ (R\ \text{large})",
        rule="SymPy invariance + argument"))
    r.checks.append(Check("width 1 is constant along a direction", "SymPy simplification", inv,
                          "a relu(w.x + b) + c is unchanged by x -> x + t (w_2, -w_1)"))
    r.steps.append(Step(
        text="Width 2 cannot work (proof by argument, not machine-checked): max(x1, x2) is non-differentiable "
             "exactly on the line L = {x1 = x2}. A net a_1 relu(w_1.x + b_1) + a_2 relu(w_2.x + b_2) + c with "
             "a_h, w_h non-zero is non-differentiable on the union of its two lines (minus a point), or, if both "
             "units share one line, on that line or nowhere. Either way that set equals L only if both lines "
             "are L, i.e. w_h is a multiple of (1, -1) and b_h = 0. Then N depends on x1 - x2 only and is "
             "constant along (1, 1), but max(x + t(1, 1)) = max(x) + t. Units with a_h = 0 or w_h = 0 reduce "
             "the width to 1. Hence the least width is 3, attained by the construction above.",
        math=r"\mathrm{ND}(\max)=\{x_1=x_2\},\quad \mathrm{ND}(N)\subseteq L_1\cup L_2\ \Rightarrow\ L_1=L_2=L"
             r"\ \Rightarrow\ N(x+t(1,1))=N(x)\ne\max(x)+t",
        rule="proof by argument (non-differentiability sets), not machine-checked", gap=True))
    n1, fits1 = width_search(1, (-2, -1, 0, 1, 2))
    n2, fits2 = width_search(2, WIDTH2_GRID)
    n3, fits3 = width_search(3, (-1, 0, 1))
    found = None
    for Ws, bs, coef in fits3:
        cand = Net([([[F(int(v)) for v in row] for row in Ws], [F(int(v)) for v in bs])],
                   ([F(float(a)).limit_denominator(100) for a in coef[:-1]], F(float(coef[-1])).limit_denominator(100)))
        if verify_max(cand, 2).equal is True:
            found = cand
            break
    r.tables.append(Table(
        caption="Search for the least width (hidden weights and biases on an integer grid; for each hidden layer "
                "the best output layer by least squares on 40 random points; a fit means residual <= 1e-9)",
        columns=["width", "hidden entries in", "hidden layers searched", "fit max", "exact check of a fit"],
        rows=[["1", "{-2..2}", str(n1), str(len(fits1)), "none to check"],
              ["2", "{-2..2}", str(n2), str(len(fits2)), "none to check"],
              ["3", "{-1, 0, 1}", str(n3), str(len(fits3)),
               "verified on every cell" if found else "no fit verified"]]))
    r.checks.append(Check("width search agrees with the width-1 proof and the (unchecked) width-2 argument",
                          "no width-1 or width-2 fit on the grid; a width-3 fit passes the exact checker",
                          not fits1 and not fits2 and found is not None,
                          f"fits: width 1: {len(fits1)}, width 2: {len(fits2)}, width 3: {len(fits3)}"))

    # -- n inputs
    n = max(3, P["n_inputs"])
    tree = tree_network(n)
    vt = verify_max(tree, n)
    nbad, _ = spot_check(tree, n)
    n_grid, bad_grid = grid_check(tree, n, half_width=2)
    r.steps.append(Step(
        text=f"More inputs: a tree of pairwise maxes computes max(x_1, ..., x_{n}) with {len(tree.layers)} hidden "
             f"layers of widths {tree.widths} (an unpaired input is carried by relu(v) - relu(-v)); verified "
             "exactly with the same cell enumeration (the pre-activations of a deeper layer are affine on each "
             "cell of the layers before).",
        math=r"\max\{x_1,\dots,x_n\}=\max\big\{\max\{x_1,x_2\},\ \max\{x_3,\dots\}\big\}", rule="construction"))
    r.checks.append(Check(f"tree network equals max of {n} inputs on every cell", "exact cell enumeration, deep "
                          f"network; plus {SPOT_POINTS} float spot checks and exact values on the grid "
                          f"{{-2, -3/2, ..., 2}}^{n}", vt.equal is True and nbad == 0 and bad_grid is None,
                          f"{len(vt.cells)} cells, {vt.empty} empty patterns certified; {nbad} spot mismatches; "
                          f"{n_grid} grid points" + (f", fails at {_pt(bad_grid)}" if bad_grid else "")))
    r.steps.append(Step(
        text="One hidden layer cannot compute max of n >= 3 inputs exactly (proof by argument, not machine-"
             "checked): the non-differentiability set of a one-hidden-layer net is a union of whole hyperplanes "
             "(across a hyperplane the gradient jumps by the same vector everywhere on it), but max(x_1, x_2, "
             "x_3) is non-differentiable on {x_1 = x_2 > x_3} and differentiable on {x_1 = x_2 < x_3}, one "
             "plane. The checker rejects candidates, e.g. the flattened tree below.",
        math=r"N(x)=\mathrm{relu}(x_3)-\mathrm{relu}(-x_3)+\mathrm{relu}(x_2-x_3)+\mathrm{relu}(x_1-x_3)",
        rule="proof by argument (non-differentiability sets), not machine-checked", gap=True))
    flat = _net([[0, 0, 1], [0, 0, -1], [0, 1, -1], [1, 0, -1]], [0, 0, 0, 0], [1, -1, 1, 1], 0)
    vf = verify_max(flat, 3)
    ce = vf.counterexample or {}
    r.checks.append(Check("the checker rejects a one-hidden-layer candidate for n = 3", "exact cell enumeration",
                          vf.equal is False,
                          f"x = {_pt(ce['point'])}: N = {_q(ce['network'])}, max = {_q(ce['max'])}" if ce else
                          "no counter-example"))
    r.summary = (f"max(x1, x2): the 4-unit (hint) and 3-unit networks verified exactly on every cell; least width 3 "
                 f"(width 1 proved impossible; width 2 excluded by an unchecked argument and an integer search); "
                 f"max of {n} inputs by a "
                 f"{len(tree.layers)}-hidden-layer tree, verified exactly")
    if parsed:
        r.verdicts.extend(claim_verdicts(parsed))
    r.timings["total_s"] = time.perf_counter() - t0
    return r
