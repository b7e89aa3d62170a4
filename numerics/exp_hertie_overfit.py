"""hertie.1.3: the sheet's hand sketches of overfitting, drawn from real small experiments.

The setting of the sheet (a continuous domain, a smooth joint distribution, no duplicate cases, an
infinite i.i.d. test set) is the synthetic task ``x ~ U[0, 1)``, ``y = sin(2 pi x) + N(0, sigma^2)``;
a large held-out sample stands in for the infinite test set. Everything here is seeded NumPy, cheap
enough to run inside the solver (no runner, no cache): least-squares polynomials (Legendre basis on
``2x - 1`` for conditioning) for 1.3.1 and 1.3.2, a one-hidden-layer tanh network trained full-batch
with Adam for 1.3.3.

>>> x, y = sample(np.random.default_rng(0), 5, 0.0)
>>> bool(np.allclose(y, np.sin(2 * np.pi * x)))
True
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
from threadpoolctl import threadpool_limits

from numerics import experiment as ex
from problems.context import current, current_problem
from problems.errors import InputError
from problems.model import Check, Figure, Result, Series, Step, Table, Verdict

# repetitions and held-out sizes by profile (the sheet fixes none: the checker's choice, printed)
REPEATS = {"smoke": 40, "quick": 100, "full": 400}
TEST_N = {"smoke": 50_000, "quick": 50_000, "full": 200_000}
ES_REPEATS = {"smoke": 2, "quick": 5, "full": 20}
TASK_TEXT = r"x\sim U[0,1),\quad y=\sin(2\pi x)+\varepsilon,\quad \varepsilon\sim\mathcal N(0,\sigma^2)"


def target(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def sample(rng: np.random.Generator, n: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` i.i.d. draws of the task: ``x`` (n,), ``y`` (n,)."""
    x = rng.random(n)
    return x, target(x) + sigma * rng.standard_normal(n)


def design(x: np.ndarray, degree: int) -> np.ndarray:
    """Legendre features of ``2x - 1`` up to ``degree``: (n, degree + 1); spans the polynomials of that degree."""
    return np.polynomial.legendre.legvander(2 * x - 1, degree)


def fit_poly(x: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    """Least-squares coefficients (minimum norm when n <= degree)."""
    return np.linalg.lstsq(design(x, degree), y, rcond=None)[0]


def mse(Phi: np.ndarray, w: np.ndarray, y: np.ndarray) -> float:
    r = Phi @ w - y
    return float(r @ r / len(y))


def spearman(a, b) -> float:
    """Rank correlation (no ties expected)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _profile() -> str:
    return current().profile


def _seed(params) -> int:
    s = params.get("seed", 0)
    if isinstance(s, bool) or not isinstance(s, int) or s < 0:
        raise InputError(f"seed = {s!r}: expected a non-negative integer")
    return s


def _positive(params, key, kind=float):
    v = params[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 or (kind is int and int(v) != v):
        raise InputError(f"{key} = {v!r}: expected a positive {'integer' if kind is int else 'number'}")
    return kind(v)


def _note(what: str) -> str:
    prof = _profile()
    return (f"Data: synthetic task, x ~ U[0,1), y = sin(2 pi x) + N(0, sigma^2); {what}; "
            f"profile {prof}.")


def _data_record(description: str, seed: int, **sizes) -> dict:
    return {"description": description.removeprefix("Data: "), "runs": {"synthetic": {
        "dataset": "synthetic sin(2 pi x) + noise", "requested": "synthetic", "substitute": False,
        "sizes": sizes, "seed": seed, "profile": _profile()}}}


def _bool_verdicts(pid: str, claims: dict, measured: dict[str, tuple[Optional[bool], str]]) -> list:
    out = []
    for key, (value, proxy) in measured.items():
        claimed = ex.claim_bool(pid, claims, key)
        if claimed is not None:
            out.append(ex.trend_verdict(f"{key} = {str(claimed).lower()}", claimed, value, proxy))
    return out


def _zero_line() -> dict:
    return {"y": 0.0, "label": "zero error", "color": "k"}


# -- 1.3.1 error vs training-set size ------------------------------------------------------------

def learning_curves(sizes: list[int], degree: int, sigma: float, repeats: int, n_test: int,
                    seed: int) -> dict:
    """Mean (and standard error) train and test MSE of the degree-``degree`` least-squares fit for each
    training-set size, over ``repeats`` independent training sets; one held-out sample for all."""
    rng = np.random.default_rng([seed, 131])
    x_t, y_t = sample(rng, n_test, sigma)
    Phi_t = design(x_t, degree)                                        # (n_test, d+1)
    best = float(np.mean((Phi_t @ np.linalg.lstsq(Phi_t, y_t, rcond=None)[0] - y_t) ** 2))
    train, test = np.empty((len(sizes), repeats)), np.empty((len(sizes), repeats))
    for i, n in enumerate(sizes):
        for r in range(repeats):
            x, y = sample(rng, n, sigma)
            w = fit_poly(x, y, degree)
            train[i, r] = mse(design(x, degree), w, y)
            test[i, r] = mse(Phi_t, w, y_t)
    se = lambda a: a.std(axis=1, ddof=1) / math.sqrt(repeats)
    return {"sizes": list(sizes), "train": train.mean(1), "test": test.mean(1), "train_se": se(train),
            "test_se": se(test), "best_in_class": best}


LC_SCHEMA = """\
Claims (all optional, true/false; decided from the checker's own averaged learning curves):
  train_error_rises = true   the mean training error rises with the training-set size
  test_error_falls = true    the mean test error falls with the training-set size
  gap_closes = true          test minus train error shrinks from the smallest to the largest size"""


def error_vs_size(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.1.3.1: training and test error against the training-set size (learning curves)."""
    pid = current_problem() or "hertie.1.3.1"
    claims = ex.check_claim_keys(pid, claims, ("train_error_rises", "test_error_falls", "gap_closes"))
    degree, sigma, seed = _positive(params, "degree", int), _positive(params, "noise"), _seed(params)
    sizes = sorted({int(v) for v in params["sizes"]})
    if len(sizes) < 3 or sizes[0] <= degree + 1:
        raise InputError(f"sizes = {sizes}: need at least 3 sizes, all above degree + 1 = {degree + 1}")
    prof = _profile()
    R, n_test = REPEATS[prof], TEST_N[prof]
    with threadpool_limits(1):
        lc = learning_curves(sizes, degree, sigma, R, n_test, seed)
    tr, te, best = lc["train"], lc["test"], lc["best_in_class"]
    rho_tr, rho_te = spearman(sizes, tr), spearman(sizes, te)
    rises = bool(rho_tr >= 0.8 and tr[-1] > tr[0])
    falls = bool(rho_te <= -0.8 and te[-1] < te[0])
    closes = bool(te[-1] - tr[-1] < te[0] - tr[0])
    # in expectation: E[train] <= L* <= E[test] (least squares is optimistic on its own sample)
    below = [bool(a - 2 * s <= best) for a, s in zip(tr, lc["train_se"])]
    above = [bool(a + 2 * s >= best) for a, s in zip(te, lc["test_se"])]

    note = _note(f"degree-{degree} polynomial least squares; {R} training sets per size; "
                 f"held-out sample of {n_test:,} for the test error; sigma = {sigma:g}; seed {seed}")
    res = Result(problem_id=pid, params=params, random_state=seed,
                 data=_data_record(note, seed, test=n_test, repeats=R, sizes=sizes))
    res.steps = [
        Step(text="The task (a smooth joint distribution on a continuous domain; no duplicate cases):",
             math=TASK_TEXT, rule="synthetic stand-in for the sheet's setting"),
        Step(text=f"For each training-set size n, draw {R} independent training sets, fit a degree-{degree} "
                  "polynomial by least squares, and measure its mean squared error on its own training set "
                  f"and on one held-out sample of {n_test:,} points (the infinite test set).",
             math=r"\hat w_n=\arg\min_w \tfrac1n\sum_{i=1}^n (w^\top\phi(x_i)-y_i)^2,\quad "
                  r"E_{\mathrm{train}}(n)=\mathbb E\big[\tfrac1n\textstyle\sum_i(\hat w_n^\top\phi(x_i)-y_i)^2\big],\quad "
                  r"E_{\mathrm{test}}(n)=\mathbb E\big[(\hat w_n^\top\phi(x)-y)^2\big]",
             rule="learning curves, averaged over repeated runs"),
        Step(text="Both curves approach the best error the model class can reach, L* (noise variance plus the "
                  "approximation error of the class), the training error from below (small samples are fitted "
                  "too well) and the test error from above (the fit varies with the sample); the gap closes.",
             math=r"E_{\mathrm{train}}(n)\ \le\ L^\star\ \le\ E_{\mathrm{test}}(n),\qquad "
                  r"E_{\mathrm{test}}(n)-E_{\mathrm{train}}(n)\to 0\ (n\to\infty)",
             rule="in expectation, for least squares"),
    ]
    res.checks = [
        Check(name="the training error rises with n", method="rank correlation of the mean training error with n",
              passed=rises, detail=f"Spearman rho = {rho_tr:.3f}; {ex.fmt(float(tr[0]))} at n = {sizes[0]} -> "
                                   f"{ex.fmt(float(tr[-1]))} at n = {sizes[-1]}"),
        Check(name="the test error falls with n", method="rank correlation of the mean test error with n",
              passed=falls, detail=f"Spearman rho = {rho_te:.3f}; {ex.fmt(float(te[0]))} at n = {sizes[0]} -> "
                                   f"{ex.fmt(float(te[-1]))} at n = {sizes[-1]}"),
        Check(name="train below, test above the best-in-class error", method=(
            "at every n, mean train error <= L* <= mean test error, within 2 standard errors; L* from a "
            f"least-squares fit on the {n_test:,}-point held-out sample"),
              passed=all(below) and all(above),
              detail=f"L* = {best:.4g} (sigma^2 = {sigma ** 2:.4g}); violations at n = "
                     f"{[n for n, a, b in zip(sizes, below, above) if not (a and b)] or 'none'}"),
    ]
    x = [float(n) for n in sizes]
    res.figures = [Figure(
        name="error vs training-set size",
        caption=("Training and test error (mean squared error, mean over repeated training sets) against the "
                 "training-set size: error increases upwards, the size to the right (log scale). The training "
                 "error rises towards L*, the test error falls towards it; the dotted lines mark zero error and "
                 f"L*. {note}"),
        xlabel="training-set size n (log scale)", ylabel="mean squared error", xscale="log",
        series=[Series("training error", x, [float(v) for v in tr], "o-"),
                Series("test error (held-out sample)", x, [float(v) for v in te], "s--")],
        hlines=[_zero_line(), {"y": best, "label": f"best in class L* = {best:.3g}", "color": "tab:green"}])]
    res.tables = [Table(
        caption=f"Learning curves of the degree-{degree} polynomial: mean over {R} training sets (standard error). {note}",
        columns=["n", "train MSE", "test MSE", "gap (test - train)"],
        rows=[[n, f"{a:.4g} ({sa:.2g})", f"{b:.4g} ({sb:.2g})", f"{b - a:.4g}"]
              for n, a, sa, b, sb in zip(sizes, tr, lc["train_se"], te, lc["test_se"])])]
    res.verdicts = _bool_verdicts(pid, claims, {
        "train_error_rises": (rises, f"Spearman rho(n, mean train error) = {rho_tr:.3f} >= 0.8 and last > first"),
        "test_error_falls": (falls, f"Spearman rho(n, mean test error) = {rho_te:.3f} <= -0.8 and last < first"),
        "gap_closes": (closes, f"gap {te[0] - tr[0]:.4g} at n = {sizes[0]} vs {te[-1] - tr[-1]:.4g} at n = {sizes[-1]}")})
    res.summary = (f"train error {tr[0]:.3g} -> {tr[-1]:.3g} (rises), test error {te[0]:.3g} -> {te[-1]:.3g} (falls), "
                   f"both towards L* = {best:.3g}; {R} runs per size.")
    return res


error_vs_size.CLAIM_SCHEMA = LC_SCHEMA


# -- 1.3.2 error vs model complexity -------------------------------------------------------------

def complexity_curves(max_degree: int, n_train: int, n_val: int, sigma: float, repeats: int, n_test: int,
                      seed: int) -> dict:
    """Train, validation and test MSE of every degree 0..max_degree over ``repeats`` (train, validation) draws."""
    rng = np.random.default_rng([seed, 132])
    x_t, y_t = sample(rng, n_test, sigma)
    Phi_t = design(x_t, max_degree)                                    # columns nest: degree d uses [:, :d+1]
    D = max_degree + 1
    tr, va, te = (np.empty((D, repeats)) for _ in range(3))
    for r in range(repeats):
        x, y = sample(rng, n_train, sigma)
        xv, yv = sample(rng, n_val, sigma)
        P, Pv = design(x, max_degree), design(xv, max_degree)
        for d in range(D):
            w = np.linalg.lstsq(P[:, :d + 1], y, rcond=None)[0]
            tr[d, r], va[d, r] = mse(P[:, :d + 1], w, y), mse(Pv[:, :d + 1], w, yv)
            te[d, r] = mse(Phi_t[:, :d + 1], w, y_t)
    return {"train": np.median(tr, 1), "val": np.median(va, 1), "test": np.median(te, 1),
            "test_mean": te.mean(1)}


def shown_range(d_star: int, test: np.ndarray, max_degree: int, factor: float = 4.0) -> int:
    """The last degree shown: the test error's rise stays readable (<= ``factor`` x its minimum), and at
    least as far right of ``d_star`` as the line is from the left edge."""
    ok = [d for d in range(len(test)) if test[d] <= factor * test.min()]
    D = max(d for d in ok if all(e in ok for e in range(d_star, d + 1)))
    return int(min(max_degree, max(D, 2 * d_star, d_star + 2)))


CX_SCHEMA = """\
Claims (all optional):
  best_degree = 5            the most complex model the data supports (lowest validation error)
  degree_tolerance = 1       how far the claimed degree may be from the measured one (default 1)
  test_error_u_shaped = true the test error falls, then rises with the degree (within the shown range)"""


def error_vs_complexity(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.1.3.2: training and test error against the polynomial degree at a fixed training-set size."""
    pid = current_problem() or "hertie.1.3.2"
    claims = ex.check_claim_keys(pid, claims, ("best_degree", "degree_tolerance", "test_error_u_shaped"))
    if params.get("complexity", "degree") != "degree":
        raise InputError(f"complexity = {params['complexity']!r}: only 'degree' (polynomial degree) is supported")
    n_train, sigma, seed = _positive(params, "n_train", int), _positive(params, "noise"), _seed(params)
    max_degree = _positive(params, "max_degree", int)
    n_val = n_train
    prof = _profile()
    R, n_test = REPEATS[prof], TEST_N[prof] // 5
    cc = complexity_curves(max_degree, n_train, n_val, sigma, R, n_test, seed)
    tr, va, te = cc["train"], cc["val"], cc["test"]
    d_star = int(np.argmin(va))
    d_test = int(np.argmin(te))
    D = shown_range(d_star, te, max_degree)
    pos = d_star / D if D else 0.0
    interior = 0 < d_star < D and 0.15 <= pos <= 0.85
    u_shape = bool(0 < d_test < D and te[0] > te[d_test] and te[D] > te[d_test])
    train_falls = bool(spearman(range(D + 1), tr[:D + 1]) <= -0.8)

    note = _note(f"n = {n_train} training and {n_val} validation points per run, {R} runs, medians over runs; "
                 f"held-out sample of {n_test:,}; sigma = {sigma:g}; seed {seed}")
    res = Result(problem_id=pid, params=params, random_state=seed,
                 data=_data_record(note, seed, train=n_train, val=n_val, test=n_test, repeats=R))
    res.steps = [
        Step(text="The task:", math=TASK_TEXT, rule="synthetic stand-in for the sheet's setting"),
        Step(text=f"At a fixed training-set size n = {n_train}, fit polynomials of degree 0..{max_degree} by least "
                  f"squares; measure the error on the training set, on an independent validation set of {n_val} "
                  f"points and on a held-out sample of {n_test:,} (the infinite test set). Repeat {R} times and "
                  "take medians (a mean is dominated by a few runs whose high-degree fit explodes at the edges).",
             rule="model complexity = polynomial degree"),
        Step(text="The most complex model the data supports is the degree with the lowest validation error; "
                  "more complex models fit the noise: the training error keeps falling while the test error rises.",
             math=r"d^\star=\arg\min_d E_{\mathrm{val}}(d)=" + str(d_star), rule="model selection on validation data"),
    ]
    res.checks = [
        Check(name="the line is at the lowest validation error", method="argmin of the median validation error",
              passed=bool(va[d_star] == va.min()),
              detail=f"d* = {d_star} (validation MSE {va[d_star]:.4g}); the test error is lowest at degree {d_test}"),
        Check(name="the line is inside the x-range", method="d* / D within [0.15, 0.85] for the shown degrees 0..D",
              passed=bool(interior), detail=f"d* = {d_star}, D = {D}: position {pos:.2f}"),
        Check(name="the training error falls with the degree", method="rank correlation over the shown degrees",
              passed=train_falls, detail=f"{tr[0]:.3g} at degree 0 -> {tr[D]:.3g} at degree {D}"),
    ]
    xs = list(range(D + 1))
    res.figures = [Figure(
        name="error vs model complexity",
        caption=("Training, validation and test error (median squared error over repeated runs) against the "
                 "polynomial degree at a fixed training-set size: error increases upwards, complexity to the "
                 f"right. The dashed line marks d* = {d_star}, the most complex model the data supports (lowest "
                 f"validation error); to its right the model fits the noise. {note}"),
        xlabel="model complexity: polynomial degree", ylabel="mean squared error",
        series=[Series("training error", xs, [float(v) for v in tr[:D + 1]], "o-"),
                Series("validation error", xs, [float(v) for v in va[:D + 1]], "^:"),
                Series("test error (held-out sample)", xs, [float(v) for v in te[:D + 1]], "s--")],
        vlines=[{"x": d_star, "label": f"supported complexity d* = {d_star}", "color": "tab:red"}],
        hlines=[_zero_line(), {"y": sigma ** 2, "label": f"noise variance sigma^2 = {sigma ** 2:.3g}",
                               "color": "tab:green"}])]
    res.tables = [Table(
        caption=f"Median errors over {R} runs by degree (mean test error beside: heavy-tailed at high degree). {note}",
        columns=["degree", "train MSE", "validation MSE", "test MSE (median)", "test MSE (mean)"],
        rows=[[d, ex.fmt(float(tr[d])), ex.fmt(float(va[d])), ex.fmt(float(te[d])), ex.fmt(float(cc["test_mean"][d]))]
              for d in range(max_degree + 1)])]
    verdicts = []
    claimed = ex.claim_number(pid, claims, "best_degree")
    tol = ex.claim_number(pid, claims, "degree_tolerance")
    tol = 1.0 if tol is None else tol
    if claimed is not None:
        ok = abs(claimed - d_star) <= tol
        verdicts.append(Verdict(claim=f"best_degree = {claimed:g}", passed=ok, evidence=(
            f"measured d* = {d_star} (lowest median validation error; the test error is lowest at degree "
            f"{d_test}); claimed {claimed:g}, tolerance +/- {tol:g}: " + ("within." if ok else "outside."))))
    verdicts += _bool_verdicts(pid, claims, {"test_error_u_shaped": (
        u_shape, f"test error {te[0]:.3g} at degree 0, minimum {te[d_test]:.3g} at degree {d_test}, {te[D]:.3g} at degree {D}")})
    res.verdicts = verdicts
    res.summary = f"supported complexity d* = {d_star} (test-optimal degree {d_test}); shown degrees 0..{D}."
    return res


error_vs_complexity.CLAIM_SCHEMA = CX_SCHEMA


# -- 1.3.3 error vs epochs, early stopping -------------------------------------------------------

class TanhNet:
    """``f(x) = W2^T tanh(W1^T x + b1) + b2``, one input, ``H`` hidden units; full-batch Adam on the MSE.

    The parameters live in one flat vector ``theta`` (3H + 1,) with named views, so one Adam step is a
    handful of vector operations."""

    def __init__(self, H: int, rng: np.random.Generator):
        self.H = H
        self.theta = np.concatenate([3.0 * rng.standard_normal(H), 1.5 * rng.standard_normal(H),
                                     rng.standard_normal(H) / math.sqrt(H), np.zeros(1)])
        self.m, self.v, self.t = np.zeros_like(self.theta), np.zeros_like(self.theta), 0
        self.grad = np.zeros_like(self.theta)

    def views(self, flat: np.ndarray) -> tuple[np.ndarray, ...]:
        H = self.H
        return flat[:H].reshape(1, H), flat[H:2 * H], flat[2 * H:3 * H].reshape(H, 1), flat[3 * H:]

    def predict(self, X: np.ndarray) -> np.ndarray:                    # (n, 1) -> (n, 1)
        W1, b1, W2, b2 = self.views(self.theta)
        return np.tanh(X @ W1 + b1) @ W2 + b2

    def grads(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean squared error and its gradient (hand-written backward), flat like ``theta``."""
        W1, b1, W2, b2 = self.views(self.theta)
        gW1, gb1, gW2, gb2 = self.views(self.grad)
        A = np.tanh(X @ W1 + b1)                                       # (n, H)
        r = A @ W2 + b2 - Y                                            # (n, 1)
        e = 2.0 * r / len(X)
        dA = (e @ W2.T) * (1.0 - A * A)                                # (n, H)
        gW1[...], gb1[...], gW2[...], gb2[...] = X.T @ dA, dA.sum(0), A.T @ e, e.sum(0)
        return float((r * r).mean()), self.grad

    def adam_step(self, g: np.ndarray, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
        self.t += 1
        self.m *= b1
        self.m += (1 - b1) * g
        self.v *= b2
        self.v += (1 - b2) * g * g
        step = lr / (1 - b1 ** self.t)
        self.theta -= step * self.m / (np.sqrt(self.v / (1 - b2 ** self.t)) + eps)


def patience_stop(val: list[float], patience: int) -> tuple[int, Optional[int]]:
    """The patience rule on a validation curve (index 0 = epoch 1): returns ``(best epoch, epoch at which
    training stops)``; the stop is None when the patience never ran out. Ties keep the earlier epoch.

    >>> patience_stop([3, 2, 2.5, 2.4, 2.6], 2)
    (2, 4)
    """
    best, since = 0, 0
    for i in range(1, len(val)):
        if val[i] < val[best]:
            best, since = i, 0
        else:
            since += 1
            if since >= patience:
                return best + 1, i + 1
    return best + 1, None


def early_stopping_run(width: int, n_train: int, sigma: float, epochs: int, lr: float, patience: int,
                       seed: int, n_test: int, log_every: int = 20) -> dict:
    """Train to the last epoch, recording train/validation error every epoch and the test error every
    ``log_every`` epochs; keep the weights of the best validation epoch (what early stopping returns)."""
    rng = np.random.default_rng([seed, 133])
    x, y = sample(rng, n_train, sigma)
    xv, yv = sample(rng, n_train, sigma)
    xt, yt = sample(rng, n_test, sigma)
    X, Y, Xv, Yv, Xt, Yt = (a[:, None] for a in (x, y, xv, yv, xt, yt))
    net = TanhNet(width, rng)
    train, val, test_log = [], [], []
    best_val, best_theta = math.inf, net.theta.copy()
    for epoch in range(1, epochs + 1):
        _, G = net.grads(X, Y)
        net.adam_step(G, lr)
        train.append(float(((net.predict(X) - Y) ** 2).mean()))
        val.append(float(((net.predict(Xv) - Yv) ** 2).mean()))
        if val[-1] < best_val:
            best_val, best_theta = val[-1], net.theta.copy()
        if epoch % log_every == 0 or epoch == 1:
            test_log.append((epoch, float(((net.predict(Xt[:2000]) - Yt[:2000]) ** 2).mean())))
    test_last = float(((net.predict(Xt) - Yt) ** 2).mean())
    best_epoch, stop_epoch = patience_stop(val, patience)
    last_theta = net.theta.copy()
    net.theta[...] = best_theta
    test_best = float(((net.predict(Xt) - Yt) ** 2).mean())
    net.theta[...] = last_theta
    return {"train": train, "val": val, "test_log": test_log, "best_epoch": best_epoch, "stop_epoch": stop_epoch,
            "test_at_stop": test_best, "test_at_last": test_last}


def tanh_gradient_check(width: int = 7, n: int = 5, seed: int = 0) -> Check:
    """The hand-written backward of :class:`TanhNet` against central finite differences on every parameter."""
    rng = np.random.default_rng(seed)
    net = TanhNet(width, rng)
    X, Y = rng.random((n, 1)), rng.standard_normal((n, 1))
    _, g = net.grads(X, Y)
    g, eps, err = g.copy(), 1e-6, 0.0
    for i in range(len(net.theta)):
        old = net.theta[i]
        net.theta[i] = old + eps
        up = float(((net.predict(X) - Y) ** 2).mean())
        net.theta[i] = old - eps
        down = float(((net.predict(X) - Y) ** 2).mean())
        net.theta[i] = old
        err = max(err, abs((up - down) / (2 * eps) - g[i]))
    return Check(name="backward pass = finite differences", method=(
        f"hand-written gradient of the MSE vs central differences (eps 1e-6) on all {len(g)} parameters of a 1-{width}-1 net"),
        passed=err <= 1e-7, detail=f"max |difference| = {err:.2g}")


ES_SCHEMA = """\
Claims (all optional):
  early_stopping_helps = true   the test error at the early-stopping epoch is below the one at the last
                                epoch (decided on the mean over the checker's repeated runs)
  stopping_epoch = 150          the epoch early stopping returns (lowest validation error), checked against
  epoch_tolerance = 0.5         the checker's run within this relative band (default 0.5)"""


def early_stopping(params: dict[str, Any], claims: Optional[dict] = None) -> Result:
    """hertie.1.3.3: training and validation error against the epoch of an overparametrised network, the
    patience rule, and the test error at the stopping epoch vs at the last epoch."""
    pid = current_problem() or "hertie.1.3.3"
    claims = ex.check_claim_keys(pid, claims, ("early_stopping_helps", "stopping_epoch", "epoch_tolerance"))
    width, n_train = _positive(params, "width", int), _positive(params, "n_train", int)
    sigma, lr, seed = _positive(params, "noise"), _positive(params, "learning_rate"), _seed(params)
    epochs, patience = _positive(params, "epochs", int), _positive(params, "patience", int)
    prof = _profile()
    R, n_test = ES_REPEATS[prof], TEST_N[prof]
    with threadpool_limits(1):                                         # tiny matrices: one BLAS thread
        runs = [early_stopping_run(width, n_train, sigma, epochs, lr, patience, seed + r, n_test) for r in range(R)]
    run = runs[0]
    e_best, e_stop = run["best_epoch"], run["stop_epoch"]
    helps = [r["test_at_stop"] < r["test_at_last"] for r in runs]
    mean_stop = float(np.mean([r["test_at_stop"] for r in runs]))
    mean_last = float(np.mean([r["test_at_last"] for r in runs]))
    val_rise = run["val"][-1] / min(run["val"])

    note = _note(f"{n_train} training and {n_train} validation points, held-out sample of {n_test:,}; "
                 f"tanh network 1-{width}-1 ({3 * width + 1} parameters), full-batch Adam, learning rate {lr:g}, "
                 f"{epochs} epochs, patience {patience}; sigma = {sigma:g}; {R} runs, seeds {seed}..{seed + R - 1}")
    res = Result(problem_id=pid, params=params, random_state=seed,
                 data=_data_record(note, seed, train=n_train, val=n_train, test=n_test, repeats=R))
    res.steps = [
        Step(text="The task:", math=TASK_TEXT, rule="synthetic stand-in for the sheet's setting"),
        Step(text=f"Train an overparametrised network ({3 * width + 1} parameters for {n_train} points) by full-batch "
                  "Adam on the mean squared error; after every epoch measure the error on the training and on "
                  "a separate validation set.", rule="training"),
        Step(text=f"Patience rule: remember the epoch with the lowest validation error so far; when it has not "
                  f"improved for {patience} epochs, stop and return the weights of that epoch.",
             math=r"e^\star=\arg\min_{e\le e_{\mathrm{stop}}} E_{\mathrm{val}}(e),\quad "
                  r"e_{\mathrm{stop}}=\min\{e: E_{\mathrm{val}}(e')\ge E_{\mathrm{val}}(e^\star_e)\ "
                  r"\forall e'\in(e-P,e]\}",
             rule="early stopping"),
        Step(text="Is it a sound regulariser? It restricts how far the weights travel from their initialisation "
                  "(for a quadratic loss, gradient descent stopped early behaves like an L2 penalty), and it "
                  "chooses that amount on data the model was not trained on; the price is that the validation "
                  "set is no longer an unbiased estimate of the test error, and a noisy validation curve can stop "
                  "too early (hence the patience). The measurement below compares the test error of the returned "
                  "weights with that of the last epoch.", rule="discussion", gap=True),
    ]
    res.checks = [
        tanh_gradient_check(),
        Check(name="the training error falls", method="last vs first epoch, and a rank correlation over epochs",
              passed=bool(run["train"][-1] < run["train"][0]
                          and spearman(range(len(run["train"])), run["train"]) <= -0.8),
              detail=f"{run['train'][0]:.3g} -> {run['train'][-1]:.3g}"),
        Check(name="the network overfits (the premise of early stopping)",
              method="validation error at the last epoch vs its minimum: at least 10 % higher",
              passed=bool(val_rise >= 1.1), detail=f"ratio {val_rise:.3g} (minimum at epoch {e_best})"),
        Check(name="the patience rule fired", method=f"no improvement for {patience} epochs before the last epoch",
              passed=e_stop is not None,
              detail=f"stopping epoch {e_best}, patience exhausted at epoch {e_stop}"),
    ]
    ep = list(range(1, len(run["train"]) + 1))
    vlines = [{"x": e_best, "label": f"early-stopping epoch {e_best} (weights kept)", "color": "tab:red"}]
    if e_stop is not None:
        vlines.append({"x": e_stop, "label": f"patience {patience} exhausted (epoch {e_stop})", "color": "0.4"})
    res.figures = [Figure(
        name="error vs epochs",
        caption=("Training, validation and test error (mean squared error) against the epoch: error increases "
                 "upwards, epochs to the right. The training error keeps falling; the validation error reaches "
                 "its minimum at the early-stopping epoch (red line) and then rises as the network fits the "
                 f"noise. {note}"),
        xlabel="epoch", ylabel="mean squared error",
        series=[Series("training error", ep, run["train"], "-"), Series("validation error", ep, run["val"], "--"),
                Series("test error (held-out sample)", [e for e, _ in run["test_log"]],
                       [v for _, v in run["test_log"]], ":")],
        vlines=vlines, hlines=[_zero_line()])]
    res.tables = [Table(
        caption=f"Test error of the weights early stopping returns vs the weights of the last epoch, per run. {note}",
        columns=["seed", "stopping epoch", "patience exhausted", "test MSE at stop", "test MSE at last epoch",
                 "early stopping better"],
        rows=[[seed + i, r["best_epoch"], ex.fmt(r["stop_epoch"]), f"{r['test_at_stop']:.4g}",
               f"{r['test_at_last']:.4g}", ex.fmt(h)] for i, (r, h) in enumerate(zip(runs, helps))]
        + [["mean", "", "", f"{mean_stop:.4g}", f"{mean_last:.4g}", ex.fmt(mean_stop < mean_last)]])]
    verdicts = _bool_verdicts(pid, claims, {"early_stopping_helps": (
        mean_stop < mean_last, f"mean test MSE over {R} runs: {mean_stop:.4g} at the stopping epoch vs "
                               f"{mean_last:.4g} at the last epoch; better in {sum(helps)}/{R} runs")})
    claimed = ex.claim_number(pid, claims, "stopping_epoch")
    if claimed is not None:
        band = ex.claim_number(pid, claims, "epoch_tolerance")
        verdicts.append(ex.number_verdict(f"stopping_epoch = {claimed:g}", claimed, float(e_best),
                                          0.5 if band is None else band, "stopping epoch", relative=True))
    res.verdicts = verdicts
    res.summary = (f"stopping epoch {e_best} of {epochs}; test MSE {run['test_at_stop']:.3g} at the stop vs "
                   f"{run['test_at_last']:.3g} at the last epoch (mean over {R} runs: {mean_stop:.3g} vs {mean_last:.3g}).")
    return res


early_stopping.CLAIM_SCHEMA = ES_SCHEMA
