"""ist21.q1.5: convexity of the multinomial logistic loss in the parameters (W, b).

* Affine logits z = W phi + b: the Hessian in theta = vec([W b]) (row-major) is
  (diag(p) - p p^T) kron phit phit^T with phit = [phi; 1]; SymPy proves it for
  small sizes, proves v^T H v = u^T A u (u = V phit, V = v reshaped) so PSD
  follows from q1.4, and torch.autograd checks it at random points.
* A one-hidden-layer ReLU network is not convex in its parameters: two
  parameter vectors that differ by a swap of the hidden units have the same
  loss, their midpoint a higher one (exact values, 50 digits, and an
  independent torch forward pass).

The pieces are shared with ist23.q1.2a (:mod:`theory.expressiveness`).
"""
from __future__ import annotations

from typing import Any, Optional

import mpmath as mp
import numpy as np
import sympy as sp

from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Table, Verdict
from problems.validate import int_param as _int_param
from problems.validate import bool_claim as _bool
from problems.validate import claim_keys
from theory.equivalence import equivalent_matrix
from theory.logistic import _psd_proof
from theory.parse import ExprError, parse_number

CLAIM_SCHEMA = """\
Claims for ist21.q1.5 (convexity in the parameters), one TOML table:

  ["ist21.q1.5"]
  convex_affine = true       # L(W phi + b; y) is convex in (W, b)
  convex_network = false     # L is convex in the parameters of a one-hidden-layer ReLU network

  # optional: your own non-convexity counter-example for z = V relu(W1 x + c1) + b
  # (two parameter vectors whose midpoint has a higher loss than the average of their losses)
  ["ist21.q1.5".counterexample]
  x = [1, 0]                 # one input (D entries)
  y = 1                      # its class, 1..K
  theta_a = { W1 = [[1, 0], [-1, 0]], c1 = [0, 0], V = [[2, -2], [0, 0], [0, 0]], b = [0, 0, 0] }
  theta_b = { W1 = [[-1, 0], [1, 0]], c1 = [0, 0], V = [[-2, 2], [0, 0], [0, 0]], b = [0, 0, 0] }

Entries are TOML numbers or exact text ("1/2", "sqrt(2)"). W1 is H x D, c1 has H entries,
V is K x H, b has K entries. The losses -log softmax(z)_y are computed exactly and compared
at 50 digits: the claim holds when L(midpoint) > (L(theta_a) + L(theta_b))/2.
"""

DIGITS = 50
SYMBOLIC_SIZES = ((2, 2), (3, 1))
PARTS = ("W1", "c1", "V", "b")


# ---------------------------------------------------------------- affine logits: Hessian

def affine_symbols(K: int, D: int, bias: bool = True):
    """Symbolic W (K x D), b (K), phi (D) and theta = vec([W b]) row-major."""
    W = sp.Matrix(K, D, lambda i, j: sp.Symbol(f"W{i + 1}{j + 1}", real=True))
    b = sp.Matrix(K, 1, lambda i, _: sp.Symbol(f"b{i + 1}", real=True)) if bias else sp.zeros(K, 1)
    phi = sp.Matrix(D, 1, lambda i, _: sp.Symbol(f"phi{i + 1}", real=True))
    theta = []
    for k in range(K):
        theta += list(W[k, :]) + ([b[k]] if bias else [])
    return W, b, phi, theta


def affine_hessian_proof(K: int, D: int, y: int = 0, bias: bool = True):
    """SymPy Hessian of -log softmax(W phi + b)_y in theta against the Kronecker closed form."""
    W, b, phi, theta = affine_symbols(K, D, bias)
    z = W * phi + b
    den = sum(sp.exp(v) for v in z)
    p = sp.Matrix([sp.exp(v) / den for v in z])
    L = -sp.log(p[y])
    H = sp.hessian(L, theta)
    phit = sp.Matrix(list(phi) + ([1] if bias else []))
    closed = sp.kronecker_product(sp.diag(*p) - p * p.T, phit * phit.T)
    return equivalent_matrix(H, closed, theta + list(phi))


def kron_quadratic_form_identity(K: int, D1: int) -> tuple[bool, str]:
    """v^T (A kron f f^T) v = u^T A u with u = V f, V = v reshaped K x D1, for a generic symmetric A."""
    A = sp.Matrix(K, K, lambda i, j: sp.Symbol(f"a{min(i, j) + 1}{max(i, j) + 1}", real=True))
    f = sp.Matrix(D1, 1, lambda i, _: sp.Symbol(f"f{i + 1}", real=True))
    v = sp.Matrix(K * D1, 1, lambda i, _: sp.Symbol(f"v{i + 1}", real=True))
    V = v.reshape(K, D1)
    u = V * f
    lhs = (v.T * sp.kronecker_product(A, f * f.T) * v)[0, 0]
    rhs = (u.T * A * u)[0, 0]
    ok = sp.expand(lhs - rhs) == 0
    return ok, f"K = {K}, D+1 = {D1}: v^T (A kron f f^T) v - u^T A u expands to 0 for symmetric symbolic A: {'yes' if ok else 'no'}"


def _softmax_np(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def torch_affine_checks(K: int, D: int, bias: bool = True, seed: int = 0) -> list[Check]:
    """autograd Hessian in (W, b) vs the Kronecker form; eigenvalues; midpoint convexity on random segments."""
    import torch

    rng = np.random.default_rng(seed)
    n_params = K * (D + (1 if bias else 0))
    worst, min_eig = 0.0, float("inf")
    for _ in range(6):
        phi = rng.normal(size=D)
        y = int(rng.integers(K))
        theta0 = rng.normal(size=n_params)

        def loss(t, phi=torch.tensor(phi), y=y):
            M = t.reshape(K, -1)  # (K, D[+1])
            z = M[:, :D] @ phi + (M[:, D] if bias else 0)
            return -torch.log_softmax(z, dim=0)[y]

        Ha = torch.autograd.functional.hessian(loss, torch.tensor(theta0)).numpy()
        M = theta0.reshape(K, -1)
        z = M[:, :D] @ phi + (M[:, D] if bias else 0)
        p = _softmax_np(z)
        phit = np.concatenate([phi, [1.0]]) if bias else phi
        Hk = np.kron(np.diag(p) - np.outer(p, p), np.outer(phit, phit))
        worst = max(worst, float(np.abs(Ha - Hk).max()))
        min_eig = min(min_eig, float(np.linalg.eigvalsh(Ha).min()))
    # convexity along random segments of the summed loss of a small data set
    X = rng.normal(size=(20, D))
    Y = rng.integers(K, size=20)

    def total(theta):
        M = theta.reshape(K, -1)
        Z = X @ M[:, :D].T + (M[:, D] if bias else 0)  # (n, K)
        Z = Z - Z.max(axis=1, keepdims=True)
        return float(np.sum(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(Y)), Y]))

    worst_gap = -float("inf")
    for _ in range(300):
        a, b = rng.normal(scale=3, size=n_params), rng.normal(scale=3, size=n_params)
        worst_gap = max(worst_gap, total((a + b) / 2) - (total(a) + total(b)) / 2)
    what = "(W, b)" if bias else "W"
    return [
        Check(f"Hessian in {what} = (diag(p) - p p^T) kron phit phit^T (torch.autograd, K = {K}, D = {D})",
              "torch.autograd Hessian, float64, 6 random (W, b, phi, y)", worst < 1e-10,
              f"largest absolute difference {worst:.2g}"),
        Check(f"autograd Hessian in {what} has no negative eigenvalue", "numpy.linalg.eigvalsh, 6 random points",
              min_eig >= -1e-10, f"smallest eigenvalue {min_eig:.3g}"),
        Check(f"sum of losses over 20 random points is midpoint-convex in {what}",
              "300 random segments, L(midpoint) - average of the end losses (NumPy)", worst_gap <= 1e-9,
              f"largest L(mid) - average = {worst_gap:.3g} (<= 0 for a convex function)"),
    ]


def affine_steps(K: int, D: int, bias: bool = True) -> tuple[list[Step], list[Check]]:
    """Derivation and checks that the logistic loss is convex in the parameters of an affine model."""
    sizes = [(k, d) for k, d in SYMBOLIC_SIZES]
    proofs = {(k, d): affine_hessian_proof(k, d, bias=bias) for k, d in sizes}
    proofs_ok = all(e.equal is True and e.method == "exact" for e in proofs.values())
    kron_ok = {(k, d): kron_quadratic_form_identity(k, d + (1 if bias else 0)) for k, d in sizes}
    psd = {k: _psd_proof(k) for k in sorted({k for k, _ in sizes} | {min(K, 6)})}
    all_kron = all(ok for ok, _ in kron_ok.values())
    psd_ok = all(ok for ok, _ in psd.values())
    ft = r"\tilde\phi" if bias else "x"
    model = r"z = W\phi + b" if bias else r"z = Wx"
    theta = r"\theta = \operatorname{vec}\big([W\;b]\big)" if bias else r"\theta = \operatorname{vec}(W)"
    steps = [
        Step(text="Stack the parameters row by row; the logits are linear in them:",
             math=model + r",\quad " + theta + r",\quad \frac{\partial z}{\partial\theta} = I_K\otimes " + ft
                  + r"^\top" + (r",\quad \tilde\phi = \begin{bmatrix}\phi\\ 1\end{bmatrix}" if bias else ""),
             rule="affine model"),
        Step(text="Chain rule for the Hessian; the second term vanishes because z is affine in theta:",
             math=r"\nabla^2_\theta L = J^\top\,\nabla_z^2 L\,J + \sum_k \frac{\partial L}{\partial z_k}"
                  r"\nabla^2_\theta z_k = (I_K\otimes " + ft + r")\,(\operatorname{diag}(p) - pp^\top)\,(I_K\otimes "
                  + ft + r"^\top) = (\operatorname{diag}(p) - pp^\top)\otimes " + ft + ft + r"^\top",
             rule="chain rule, mixed-product property of the Kronecker product"),
        Step(text="SymPy differentiates the loss twice for small sizes and confirms the Kronecker form entry by "
                  "entry: " + "; ".join(f"K = {k}, D = {d}: {e.evidence}" for (k, d), e in proofs.items()) + ".",
             rule="symbolic verification", gap=not proofs_ok),
        Step(text="Write v as a K x (D+1) matrix V (row k belongs to class k) and u = V phit. The quadratic form "
                  "of the Kronecker product reduces to the one of q1.4, which is a variance under p:",
             math=r"v^\top\big(A\otimes " + ft + ft + r"^\top\big)v = u^\top A\,u,\quad u = V" + ft
                  + r",\qquad u^\top(\operatorname{diag}(p)-pp^\top)u = \sum_i p_i\Big(u_i - \sum_k p_k u_k\Big)^2"
                  r"\ \ge 0",
             rule="positive semidefinite Hessian", gap=not (all_kron and psd_ok)),
        Step(text="A sum of convex functions is convex, so the empirical risk over any data set is convex in the "
                  "parameters (the Hessian is PSD everywhere, not only at a minimum).", rule="sum of convex functions"),
    ]
    checks = [
        Check("Hessian in theta = (diag(p) - p p^T) kron phit phit^T (symbolic, "
              + ", ".join(f"K = {k}, D = {d}" for k, d in sizes) + ")", "SymPy hessian + equivalent_matrix",
              proofs_ok, "; ".join(e.evidence for e in proofs.values())),
        Check("v^T (A kron f f^T) v = u^T A u (symbolic)", "exact expansion", all_kron,
              "; ".join(t for _, t in kron_ok.values())),
        Check("u^T (diag(p) - p p^T) u = sum_i p_i (u_i - m)^2 >= 0 (symbolic)", "exact expansion", psd_ok,
              "; ".join(t for _, t in psd.values())),
    ]
    checks += torch_affine_checks(K, D, bias=bias)
    return steps, checks


# ---------------------------------------------------------------- ReLU network: not convex

def network_logits(theta: dict, x):
    """z = V relu(W1 x + c1) + b with exact SymPy matrices."""
    h = (theta["W1"] * x + theta["c1"]).applyfunc(lambda a: sp.Max(0, a))
    return theta["V"] * h + theta["b"]


def exact_loss(theta: dict, x, y: int):
    """-log softmax(z)_y as an exact SymPy number (y is 0-based)."""
    z = network_logits(theta, x)
    return sp.log(sum(sp.exp(v) for v in z)) - z[y]


def torch_loss(theta: dict, x, y: int) -> float:
    """The same loss with torch (float64): an independent forward pass."""
    import torch

    t = {k: torch.tensor(np.array(theta[k].evalf(30).tolist(), dtype=float)) for k in PARTS}
    xt = torch.tensor(np.array(x.evalf(30).tolist(), dtype=float))
    z = t["V"] @ torch.relu(t["W1"] @ xt + t["c1"]) + t["b"]
    return float(-torch.log_softmax(z[:, 0], dim=0)[y])


def midpoint(theta_a: dict, theta_b: dict) -> dict:
    return {k: (theta_a[k] + theta_b[k]) / 2 for k in PARTS}


def permuted(theta: dict, perm) -> dict:
    """The same network with its hidden units reordered by ``perm`` (computes the same function)."""
    P = sp.Matrix(len(perm), len(perm), lambda i, j: 1 if perm[i] == j else 0)
    return {"W1": P * theta["W1"], "c1": P * theta["c1"], "V": theta["V"] * P.T, "b": theta["b"]}


def reference_counterexample(K: int, D: int):
    """theta_a: hidden unit 1 = relu(x_1), unit 2 = relu(-x_1), V sends unit 1 to class y with weight 2;
    theta_b: the two hidden units swapped. At x = e_1 both give z = 2 e_y; the midpoint has W1 = 0, V = 0."""
    y = 0
    W1 = sp.zeros(2, D)
    W1[0, 0], W1[1, 0] = 1, -1
    V = sp.zeros(K, 2)
    V[y, 0], V[y, 1] = 2, -2
    theta_a = {"W1": W1, "c1": sp.zeros(2, 1), "V": V, "b": sp.zeros(K, 1)}
    theta_b = permuted(theta_a, [1, 0])
    x = sp.zeros(D, 1)
    x[0] = 1
    return theta_a, theta_b, x, y


def judge_segment(theta_a: dict, theta_b: dict, x, y: int) -> dict:
    """Exact losses at both ends and at the midpoint, the gap at 50 digits, and a torch cross-check."""
    La, Lb = exact_loss(theta_a, x, y), exact_loss(theta_b, x, y)
    mid = midpoint(theta_a, theta_b)
    Lm = exact_loss(mid, x, y)
    gap = Lm - (La + Lb) / 2
    with mp.workdps(DIGITS):
        g = mp.mpf(str(sp.N(gap, DIGITS)))
    torch_vals = [torch_loss(t, x, y) for t in (theta_a, theta_b, mid)]
    exact_vals = [float(sp.N(v, 20)) for v in (La, Lb, Lm)]
    torch_diff = max(abs(a - b) for a, b in zip(torch_vals, exact_vals))
    return {"La": La, "Lb": Lb, "Lm": Lm, "gap": gap, "gap_num": g, "torch_diff": torch_diff,
            "violates": bool(g > mp.mpf(10) ** (-40)), "mid": mid}


def segment_figure(theta_a: dict, theta_b: dict, x, y: int, name: str) -> Figure:
    ts = [i / 40 for i in range(41)]
    La, Lb = (float(sp.N(exact_loss(t, x, y), 15)) for t in (theta_a, theta_b))
    losses = []
    for t in ts:
        th = {k: theta_a[k] * (1 - sp.Rational(t).limit_denominator(40)) + theta_b[k] * sp.Rational(t).limit_denominator(40)
              for k in PARTS}
        losses.append(float(sp.N(exact_loss(th, x, y), 15)))
    return Figure(name=name, caption="Loss of the one-hidden-layer ReLU network along the segment "
                  "theta(t) = (1 - t) theta_a + t theta_b (theta_b = theta_a with its two hidden units swapped), "
                  "against the chord; a convex function would stay below the chord.",
                  kind="line", xlabel="t", ylabel="loss",
                  series=[Series("L(theta(t))", ts, losses), Series("chord", [0.0, 1.0], [La, Lb], style="--")],
                  points=[{"x": 0.5, "y": losses[20], "label": "midpoint"}])


def network_steps(K: int, D: int) -> tuple[list[Step], list[Check], list[Table], list[Figure], dict]:
    ta, tb, x, y = reference_counterexample(K, D)
    j = judge_segment(ta, tb, x, y)
    same_fn = all(network_logits(ta, v) == network_logits(tb, v)
                  for v in (x, -x, sp.Matrix([sp.Rational(k + 2, 3) * (-1) ** k for k in range(D)])))
    closed_gap = sp.log(K) - sp.log(1 + (K - 1) * sp.exp(-2))
    closed_ok = sp.simplify(sp.expand_log(j["gap"] - closed_gap, force=True)) == 0 or \
        abs(sp.N(j["gap"] - closed_gap, DIGITS)) < 1e-45
    sign_ok = bool(sp.Integer(K) - 1 - (K - 1) * sp.exp(-2) > 0)  # K > 1 + (K-1) e^{-2}
    steps = [
        Step(text="With a hidden layer the logits are no longer affine in the parameters, and the second term of "
                  "the chain rule no longer vanishes, so the Hessian can be indefinite:",
             math=r"z = V\,\operatorname{relu}(W_1x + c_1) + b,\qquad \nabla^2_\theta L = J^\top\nabla_z^2L\,J"
                  r" + \sum_k (p_k - [k = y])\,\nabla^2_\theta z_k",
             rule="chain rule"),
        Step(text=f"Counter-example (K = {K}, D = {D}, two hidden units, input x = e_1, class y = 1): theta_a "
                  "computes relu(x_1) and relu(-x_1) and sends the first to class 1 with weight 2; theta_b is the "
                  "same network with the hidden units swapped, so it computes the same function and has the same "
                  "loss. The midpoint averages the two hidden units away (W_1 = 0, V = 0), so z = 0:",
             math=r"W_1^{(a)} = " + sp.latex(ta["W1"]) + r",\ V^{(a)} = " + sp.latex(ta["V"])
                  + r",\quad W_1^{(b)} = " + sp.latex(tb["W1"]) + r",\ V^{(b)} = " + sp.latex(tb["V"])
                  + r",\quad c_1 = 0,\ b = 0",
             rule="permutation symmetry of hidden units"),
        Step(text="Exact losses: at both ends z = 2 e_1, at the midpoint z = 0.",
             math=r"L(\theta_a) = L(\theta_b) = " + sp.latex(sp.simplify(j["La"])) + r",\qquad L\big(\tfrac{\theta_a+"
                  r"\theta_b}{2}\big) = " + sp.latex(j["Lm"]) + r",\qquad L(\text{mid}) - \tfrac{L(\theta_a)+"
                  r"L(\theta_b)}{2} = \log K - \log\big(1 + (K-1)e^{-2}\big) > 0",
             rule="exact evaluation"),
        Step(text="The gap is positive because K > 1 + (K - 1) exp(-2) for every K >= 2. The midpoint lies above the "
                  "chord, which contradicts convexity: the network loss is not convex in its parameters.",
             rule="definition of convexity (midpoint inequality)", gap=not sign_ok),
    ]
    checks = [
        Check("theta_b computes the same function as theta_a (hidden units swapped)", "exact SymPy evaluation at 3 "
              "inputs", same_fn and sp.simplify(j["La"] - j["Lb"]) == 0,
              f"L(theta_a) = L(theta_b) = {sp.N(j['La'], 12)}"),
        Check("L(midpoint) > average of the end losses", f"exact SymPy values compared at {DIGITS} digits",
              j["violates"], f"L(mid) - average = {mp.nstr(j['gap_num'], 15)} (equals the closed form log K - log(1 + (K-1)e^-2): "
                                 f"{'yes' if closed_ok else 'no'})"),
        Check("the three losses agree with an independent torch forward pass", "torch float64, log_softmax",
              j["torch_diff"] < 1e-12, f"largest difference {j['torch_diff']:.2g}"),
    ]
    table = Table(caption=f"Non-convexity counter-example (K = {K}, D = {D}, x = e_1, y = 1)",
                  columns=["parameters", "loss (exact)", "loss (numeric)"],
                  rows=[["theta_a", sp.latex(sp.simplify(j["La"])), f"{float(sp.N(j['La'])):.6f}"],
                        ["theta_b", sp.latex(sp.simplify(j["Lb"])), f"{float(sp.N(j['Lb'])):.6f}"],
                        ["midpoint", sp.latex(j["Lm"]), f"{float(sp.N(j['Lm'])):.6f}"],
                        ["average of the ends", sp.latex(sp.simplify((j["La"] + j["Lb"]) / 2)),
                         f"{float(sp.N((j['La'] + j['Lb']) / 2)):.6f}"]],
                  math_columns=[1])
    fig = segment_figure(ta, tb, x, y, "nonconvex_segment")
    return steps, checks, [table], [fig], j


# ---------------------------------------------------------------- claims

def _matrix(raw, where: str, shape: Optional[tuple] = None) -> sp.Matrix:
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{where}: expected a non-empty list")
    rows = raw if isinstance(raw[0], list) else [[v] for v in raw]
    if any(not isinstance(r, list) or len(r) != len(rows[0]) for r in rows):
        raise InputError(f"{where}: rows of different lengths")
    if len(rows) * len(rows[0]) > 400:
        raise InputError(f"{where}: more than 400 entries")
    try:
        m = sp.Matrix([[parse_number(v) for v in r] for r in rows])
    except ExprError as exc:
        raise InputError(f"{where}: {exc}") from None
    if shape is not None and m.shape != shape:
        raise InputError(f"{where}: expected shape {shape[0]}x{shape[1]}, got {m.rows}x{m.cols}")
    return m


def parse_counterexample(raw: Any, where: str):
    """(theta_a, theta_b, x, y 0-based) from a claim table; shapes checked against x and theta_a."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a table with x, y, theta_a, theta_b")
    claim_keys(raw, ("x", "y", "theta_a", "theta_b"), where)
    missing = sorted({"x", "y", "theta_a", "theta_b"} - set(raw))
    if missing:
        raise InputError(f"{where}: missing key(s) {', '.join(missing)}")
    x = _matrix(raw["x"], f"{where}.x")
    if x.cols != 1:
        raise InputError(f"{where}.x: expected a list of numbers")
    thetas = []
    for name in ("theta_a", "theta_b"):
        t = raw[name]
        if not isinstance(t, dict) or set(t) != set(PARTS):
            raise InputError(f"{where}.{name}: expected a table with exactly W1, c1, V, b")
        W1 = _matrix(t["W1"], f"{where}.{name}.W1")
        if W1.cols != x.rows:
            raise InputError(f"{where}.{name}.W1: expected {x.rows} columns (x has {x.rows} entries), got {W1.cols}")
        H = W1.rows
        V = _matrix(t["V"], f"{where}.{name}.V")
        if V.cols != H:
            raise InputError(f"{where}.{name}.V: expected {H} columns (W1 has {H} rows), got {V.cols}")
        K = V.rows
        thetas.append({"W1": W1, "c1": _matrix(t["c1"], f"{where}.{name}.c1", (H, 1)), "V": V,
                       "b": _matrix(t["b"], f"{where}.{name}.b", (K, 1))})
    for k in PARTS:
        if thetas[0][k].shape != thetas[1][k].shape:
            raise InputError(f"{where}.theta_b.{k}: shape differs from theta_a.{k}")
    K = thetas[0]["V"].rows
    y = raw["y"]
    if isinstance(y, bool) or not isinstance(y, int) or not 1 <= y <= K:
        raise InputError(f"{where}.y: expected a class 1..{K}")
    return thetas[0], thetas[1], x, y - 1


def counterexample_verdict(raw: Any, pid: str, key: str = "counterexample") -> Verdict:
    ta, tb, x, y = parse_counterexample(raw, f'["{pid}"].{key}')
    j = judge_segment(ta, tb, x, y)
    values = (f"L(theta_a) = {mp.nstr(mp.mpf(str(sp.N(j['La'], 30))), 15)}, "
              f"L(theta_b) = {mp.nstr(mp.mpf(str(sp.N(j['Lb'], 30))), 15)}, "
              f"L(midpoint) = {mp.nstr(mp.mpf(str(sp.N(j['Lm'], 30))), 15)}, "
              f"L(mid) - average = {mp.nstr(j['gap_num'], 15)}")
    claim = f"{key}: a midpoint above the chord"
    if j["torch_diff"] > 1e-9:
        return Verdict(claim, None, f"exact and torch losses disagree by {j['torch_diff']:.2g}; {values}")
    if j["violates"]:
        return Verdict(claim, True, f"verified exactly ({DIGITS} digits): {values} > 0, so the loss is not convex "
                                    f"along this segment", r"L\big(\tfrac{\theta_a+\theta_b}{2}\big) = "
                       + sp.latex(j["Lm"]))
    return Verdict(claim, False, f"not a counter-example: {values} <= 0 (the midpoint is not above the chord; "
                                 f"try theta_b = theta_a with its hidden units swapped)")


# ---------------------------------------------------------------- solver

def solve(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    pid = "ist21.q1.5"
    K = _int_param(params, "K", 3, 2, 10)
    D = _int_param(params, "D", 2, 1, 20)
    result = Result(problem_id=pid, title="Convexity in the parameters", params={"K": K, "D": D}, random_state=0,
                    data={"dataset": "synthetic: random Gaussian points (seed 0) for the numeric checks"})
    ce = None
    if claims:
        claim_keys(claims, ("convex_affine", "convex_network", "counterexample"), f'["{pid}"]')
        for k in ("convex_affine", "convex_network"):
            if k in claims:
                _bool(claims, k, pid)
        if "counterexample" in claims:
            ce = counterexample_verdict(claims["counterexample"], pid)
    s1, c1 = affine_steps(K, D)
    s2, c2, tables, figs, j = network_steps(K, D)
    result.steps += s1 + s2
    result.checks += c1 + c2
    result.tables += tables
    result.figures += figs
    affine_ok = all(c.passed for c in c1)
    result.summary = ("convex in (W, b) for affine z: Hessian (diag(p) - pp^T) kron [phi;1][phi;1]^T is PSD; "
                      "not convex for a ReLU network: midpoint of two hidden-unit permutations has a higher loss")
    if claims and "convex_affine" in claims:
        said = claims["convex_affine"]
        if said and affine_ok:
            result.verdicts.append(Verdict("convex_affine = true", True, "the Hessian in (W, b) is (diag(p) - p p^T) "
                                           "kron phit phit^T, PSD (proved symbolically for small sizes, checked with "
                                           "autograd)"))
        elif said:
            result.verdicts.append(Verdict("convex_affine = true", None, "the solver's own convexity checks failed"))
        else:
            result.verdicts.append(Verdict("convex_affine = false", False, "L is convex in (W, b): v^T H v = u^T "
                                           "(diag(p) - p p^T) u >= 0 with u = V [phi; 1]"))
    if claims and "convex_network" in claims:
        said = claims["convex_network"]
        gap = mp.nstr(j["gap_num"], 12)
        if not said and j["violates"]:
            result.verdicts.append(Verdict("convex_network = false", True, f"counter-example: two hidden-unit "
                                           f"permutations of one network, L(mid) - average = {gap} > 0"))
        elif not said:
            result.verdicts.append(Verdict("convex_network = false", None, "the reference counter-example failed"))
        else:
            result.verdicts.append(Verdict("convex_network = true", False, f"not convex: theta_a and theta_b = theta_a "
                                           f"with its hidden units swapped have equal losses, their midpoint is "
                                           f"higher by {gap} (see the table)"))
    if ce is not None:
        result.verdicts.append(ce)
    return result
