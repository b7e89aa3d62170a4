"""Trainers: every hand-written gradient against autograd AND finite differences; update rules."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from numerics import train_numpy as tn
from numerics import train_torch as tt

torch.set_default_dtype(torch.float32)


def _mlp64(mlp: tn.MLP) -> tn.MLP:
    """The same network in float64, so finite differences are accurate."""
    mlp.W = [np.asfortranarray(W.astype(np.float64)) for W in mlp.W]
    mlp.b = [b.astype(np.float64) for b in mlp.b]
    return mlp


def _autograd_mlp(mlp: tn.MLP, X: np.ndarray, Y: np.ndarray):
    """The loss of ``mlp`` rebuilt in torch; returns the autograd gradients (dW, db)."""
    W = [torch.tensor(w, requires_grad=True) for w in mlp.W]
    b = [torch.tensor(v, requires_grad=True) for v in mlp.b]
    g = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[mlp.activation]
    h = torch.tensor(X)
    for l in range(len(W)):
        z = h @ W[l].T + b[l]
        h = g(z) if l < len(W) - 1 else z
    T = torch.tensor(Y)
    if mlp.loss_name == "ce":
        loss = -(torch.log_softmax(h, 1) * T).sum(1).mean()
    else:
        out = torch.softmax(h, 1) if mlp.output == "softmax" else h
        loss = 0.5 * ((out - T) ** 2).sum(1).mean()
    loss.backward()
    return [w.grad.numpy() for w in W], [v.grad.numpy() for v in b]


def _finite_difference(mlp: tn.MLP, X, y, param: np.ndarray, index: tuple, eps: float = 1e-6) -> float:
    old = param[index]
    param[index] = old + eps
    up = mlp.loss(X, y)
    param[index] = old - eps
    down = mlp.loss(X, y)
    param[index] = old
    return (up - down) / (2 * eps)


CASES = [("relu", "softmax", "ce", [5, 7, 3]), ("sigmoid", "softmax", "mse", [5, 6, 4, 3]),
         ("tanh", "softmax", "ce", [5, 4, 4, 4, 3]), ("relu", "identity", "mse", [5, 8, 1])]


@pytest.mark.parametrize("activation,output,loss,sizes", CASES)
def test_mlp_backprop_matches_autograd_and_finite_differences(activation, output, loss, sizes):
    rng = np.random.default_rng(3)
    mlp = _mlp64(tn.MLP(sizes, activation, output, loss, init="normal:0.0,0.5", bias_init="normal:0.0,0.5", rng=rng))
    X = rng.standard_normal((6, sizes[0]))
    y = rng.integers(0, sizes[-1], 6) if output == "softmax" else rng.standard_normal(6)
    Y = mlp.targets(y).astype(np.float64)
    dW, db = mlp.gradients(X, Y)
    aW, ab = _autograd_mlp(mlp, X, Y)
    for ours, theirs in zip(dW + db, aW + ab):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)
    for l in range(len(mlp.W)):
        for index in [(0, 0), (mlp.W[l].shape[0] - 1, mlp.W[l].shape[1] - 1)]:
            assert dW[l][index] == pytest.approx(_finite_difference(mlp, X, y, mlp.W[l], index), rel=1e-5, abs=1e-8)
        assert db[l][0] == pytest.approx(_finite_difference(mlp, X, y, mlp.b[l], (0,)), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("activation,output,loss,sizes", CASES)
def test_per_example_path_equals_batch_one_updates(activation, output, loss, sizes):
    """The BLAS ger fast path gives the same weights as plain batch-of-one gradient steps."""
    rng = np.random.default_rng(5)
    X = rng.random((12, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], 12) if output == "softmax" else rng.standard_normal(12).astype(np.float32)
    fast = tn.MLP(sizes, activation, output, loss, init="uniform:-0.5,0.5", rng=np.random.default_rng(1))
    slow = tn.MLP(sizes, activation, output, loss, init="uniform:-0.5,0.5", rng=np.random.default_rng(1))
    fast.train_epoch(X, y, np.random.default_rng(9), eta=0.05, batch_size=1)
    for i in np.random.default_rng(9).permutation(12):
        dW, db = slow.gradients(X[i:i + 1], slow.targets(y[i:i + 1]))
        for W, b, gW, gb in zip(slow.W, slow.b, dW, db):
            W -= np.float32(0.05) * gW
            b -= np.float32(0.05) * gb
    for a, b in zip(fast.W + fast.b, slow.W + slow.b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_rank1_update_is_in_place():
    A = np.asfortranarray(np.ones((3, 4), np.float32))
    u, v = np.arange(3, dtype=np.float32), np.arange(4, dtype=np.float32)
    before = A.ctypes.data
    tn.rank1_update_(A, -0.5, u, v)
    assert A.ctypes.data == before
    np.testing.assert_allclose(A, 1 - 0.5 * np.outer(u, v))


def test_network_api_backprop_indexing_and_gradients():
    net = tn.Network([6, 5, 4, 3], seed=2)
    rng = np.random.default_rng(0)
    x = rng.random((6, 7))                                              # 7 columns
    y = rng.integers(0, 3, 7)
    db, dw = net.backprop(x, y)
    assert [w.shape for w in dw] == [(5, 6), (4, 5), (3, 4)] and [b.shape for b in db] == [(5, 1), (4, 1), (3, 1)]
    _mlp64(net)
    db, dw = net.backprop(x, y)
    aW, ab = _autograd_mlp(net, x.T, tn.one_hot(y, 3).astype(np.float64))
    for ours, theirs in zip(dw, aW):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)
    for ours, theirs in zip(db, ab):
        np.testing.assert_allclose(ours[:, 0], theirs, rtol=1e-7, atol=1e-10)
    fd = _finite_difference(net, x.T, y, net.W[1], (2, 3))
    assert dw[1][2, 3] == pytest.approx(fd, rel=1e-5, abs=1e-8)
    # a single example as a column and a one-hot column give the same gradient
    db1, dw1 = net.backprop(x[:, 0], tn.one_hot(y[:1], 3)[0])
    db2, dw2 = net.backprop(x[:, :1], y[:1])
    np.testing.assert_allclose(dw1[0], dw2[0])


def test_network_sgd_returns_per_epoch_metrics():
    rng = np.random.default_rng(0)
    X = rng.random((60, 8), dtype=np.float32)
    y = (X[:, 0] > 0.5).astype(np.int64)
    net = tn.Network([8, 6, 2], seed=0)
    pairs = [(X[i][:, None], tn.one_hot(y[i:i + 1], 2)[0][:, None]) for i in range(60)]
    acc, loss, test = net.SGD(pairs, epochs=3, mini_batch_size=10, learning_rate=0.1, test_data=(X, y))
    assert len(acc) == len(loss) == len(test) == 3
    assert net.SGD((X, y), 1, 10, 0.1, compute_train_metrics=False) == ([], [], [])


def test_logistic_gradient_finite_difference_and_update():
    rng = np.random.default_rng(1)
    model = tn.LogisticRegression(4, 3, eta=0.1)
    model.W[...] = rng.standard_normal(model.W.shape).astype(np.float32)
    x, label = rng.random(4, dtype=np.float32), 2
    W0 = model.W.astype(np.float64)
    p = tn.softmax(W0[:, :-1] @ x + W0[:, -1])
    grad = np.outer(p - np.eye(3)[label], np.append(x, 1.0))           # (softmax(Wx) - e_y) [x;1]^T

    def loss(W):
        return -np.log(tn.softmax(W[:, :-1] @ x + W[:, -1])[label])
    eps, fd = 1e-6, np.zeros_like(W0)
    for idx in np.ndindex(*W0.shape):
        E = np.zeros_like(W0)
        E[idx] = eps
        fd[idx] = (loss(W0 + E) - loss(W0 - E)) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    model.train_epoch(x[None], np.array([label]), np.random.default_rng(0))
    np.testing.assert_allclose(model.W, W0 - 0.1 * grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("penalty", ["l2", "l1_subgradient", "l1_proximal"])
def test_logistic_penalties(penalty):
    rng = np.random.default_rng(2)
    model = tn.LogisticRegression(4, 3, eta=0.1, penalty=penalty, lam=0.5)
    model.W[...] = rng.standard_normal(model.W.shape).astype(np.float32)
    W0 = model.W.astype(np.float64)
    x, label = rng.random(4, dtype=np.float32), 0
    p = tn.softmax(W0[:, :-1] @ x + W0[:, -1])
    G = np.outer(p - np.eye(3)[label], np.append(x, 1.0))
    expected = {"l2": (1 - 0.05) * W0 - 0.1 * G, "l1_subgradient": W0 - 0.1 * (G + 0.5 * np.sign(W0)),
                "l1_proximal": np.sign(W0 - 0.1 * G) * np.maximum(np.abs(W0 - 0.1 * G) - 0.05, 0)}[penalty]
    model.train_epoch(x[None], np.array([label]), np.random.default_rng(0))
    np.testing.assert_allclose(model.W, expected, rtol=1e-5, atol=1e-6)


def test_perceptron_update_rule():
    model = tn.Perceptron(3, 3)
    x = np.array([1.0, 2.0, 3.0], np.float32)
    model.train_epoch(x[None], np.array([2]), np.random.default_rng(0))   # scores tie -> argmax 0, a mistake
    np.testing.assert_array_equal(model.W[2], [1, 2, 3, 1])
    np.testing.assert_array_equal(model.W[0], [-1, -2, -3, -1])
    model.train_epoch(x[None], np.array([2]), np.random.default_rng(0))   # now correct: no change
    np.testing.assert_array_equal(model.W[2], [1, 2, 3, 1])


def test_linear_regression_reaches_least_squares():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    w_star, method = tn.least_squares(X, y, lam=None)
    model = tn.LinearRegression(3, eta=0.05, w_star=w_star)
    for _ in range(30):
        model.train_epoch(X, y, rng)
    assert method == "pseudo-inverse" and model.extras()["distance_to_w_star"] < 1e-3


def test_init_specs():
    rng = np.random.default_rng(0)
    assert tn.draw("uniform:-0.5,0.5", (1000,), rng).min() >= -0.5
    assert abs(tn.draw("normal:0.1,0.1", (10000,), rng).mean() - 0.1) < 0.01
    with pytest.raises(ValueError, match="init"):
        tn.draw("cauchy:0,1", (2,), rng)


# ----------------------------------------------------------------------- torch
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_ffn_manual_backward_matches_autograd_and_finite_differences(activation):
    torch.manual_seed(0)
    model = tt.FeedforwardNetwork(6, 4, [5, 3], activation, dropout=0.0).double()
    X, y = torch.randn(9, 6, dtype=torch.float64), torch.randint(0, 4, (9,))
    loss = tt.ffn_loss_and_grads(model, X, y)
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    reference = tt.head_loss("ce", model(X), y)
    reference.backward()
    assert float(loss) == pytest.approx(float(reference.detach()), rel=1e-12)
    for a, p in zip(ours, model.parameters()):
        torch.testing.assert_close(a, p.grad, rtol=1e-9, atol=1e-12)
    W = model.linears[0].weight
    with torch.no_grad():
        eps = 1e-6
        W[1, 2] += eps
        up = float(tt.head_loss("ce", model(X), y))
        W[1, 2] -= 2 * eps
        down = float(tt.head_loss("ce", model(X), y))
        W[1, 2] += eps
    assert float(ours[0][1, 2]) == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9)


def test_ffn_manual_backward_with_dropout_matches_autograd():
    """With the same seed the manual masks equal nn.Dropout's, so the gradients agree."""
    model = tt.FeedforwardNetwork(6, 4, [8, 8], "relu", dropout=0.3).double().train()
    X, y = torch.randn(5, 6, dtype=torch.float64), torch.randint(0, 4, (5,))
    torch.manual_seed(11)
    tt.ffn_loss_and_grads(model, X, y)
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    torch.manual_seed(11)
    tt.head_loss("ce", model(X), y).backward()
    for a, p in zip(ours, model.parameters()):
        torch.testing.assert_close(a, p.grad)


@pytest.mark.parametrize("activation,dropout,wd", [("relu", 0.0, 0.0), ("tanh", 0.0, 0.01), ("sigmoid", 0.3, 0.0)])
def test_fused_sgd_step_equals_autograd_and_optimizer_step(activation, dropout, wd):
    """The update applied inside the backward pass equals autograd's gradients then SGD.step()."""
    torch.manual_seed(0)
    fused = tt.FeedforwardNetwork(6, 4, [5, 3], activation, dropout).double().train()
    ref = copy.deepcopy(fused)
    X, y = torch.randn(9, 6, dtype=torch.float64), torch.randint(0, 4, (9,))
    opt_f = torch.optim.SGD(fused.parameters(), lr=0.3, weight_decay=wd)
    opt_r = torch.optim.SGD(ref.parameters(), lr=0.3, weight_decay=wd)
    learner = tt.TorchLearner(fused, opt_f, 9)
    assert learner.fused
    for _ in range(3):
        torch.manual_seed(5)                                          # the same dropout masks
        learner._step(X, y)
        torch.manual_seed(5)
        opt_r.zero_grad()
        tt.head_loss("ce", ref(X), y).backward()
        opt_r.step()
    for a, b in zip(fused.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert all(p.grad is None for p in fused.parameters())           # no gradient tensors were made


def test_fused_sgd_can_fail():
    """A planted bug in the shared backward moves the fused parameters away from autograd's."""
    torch.manual_seed(0)
    fused = tt.FeedforwardNetwork(6, 4, [5], "relu").double()
    ref = copy.deepcopy(fused)
    X, y = torch.randn(9, 6, dtype=torch.float64), torch.randint(0, 4, (9,))
    from numerics.engine import torch_fast
    real = torch_fast._dg
    try:
        torch_fast._dg = lambda name, grad, a: grad                     # the ReLU derivative forgotten
        tt.TorchLearner(fused, torch.optim.SGD(fused.parameters(), lr=0.3), 9)._step(X, y)
    finally:
        torch_fast._dg = real
    opt = torch.optim.SGD(ref.parameters(), lr=0.3)
    tt.head_loss("ce", ref(X), y).backward()
    opt.step()
    assert not torch.allclose(fused.linears[0].weight, ref.linears[0].weight)


def test_fused_path_only_for_plain_sgd():
    model = tt.FeedforwardNetwork(6, 4, [5])
    assert tt.TorchLearner(model, torch.optim.SGD(model.parameters(), lr=0.1), 4).fused
    for opt in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                torch.optim.Adam(model.parameters(), lr=0.1),
                torch.optim.SGD(list(model.parameters())[:2], lr=0.1)):
        learner = tt.TorchLearner(model, opt, 4)
        assert learner.fast and not learner.fused
    assert not tt.TorchLearner(model, torch.optim.SGD(model.parameters(), lr=0.1), 4, fast=False).fused


def test_fused_path_declines_frozen_parameters_hooks_and_loaded_momentum():
    torch.manual_seed(0)
    model = tt.FeedforwardNetwork(6, 4, [5])
    X, y = torch.randn(8, 6), torch.randint(0, 4, (8,))
    model.linears[0].weight.requires_grad_(False)                    # frozen: autograd leaves it alone
    frozen = model.linears[0].weight.clone()
    learner = tt.TorchLearner(model, torch.optim.SGD(model.parameters(), lr=0.5), 8)
    assert learner.fast and not learner.fused
    learner._step(X, y)
    assert torch.equal(model.linears[0].weight, frozen) and model.linears[0].weight.grad is None
    assert not torch.equal(model.linears[1].weight.grad, torch.zeros_like(model.linears[1].weight))

    model = tt.FeedforwardNetwork(6, 4, [5])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    calls = []
    handle = opt.register_step_post_hook(lambda o, a, k: calls.append(1))
    learner = tt.TorchLearner(model, opt, 8)
    learner._step(X, y)
    assert not learner.fused and calls == [1]                       # the hook saw its step
    handle.remove()

    learner = tt.TorchLearner(model, opt, 8)
    assert learner.fused
    with_momentum = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    learner.load_state({"model": model.state_dict(), "optimizer": with_momentum.state_dict(), "scheduler": None})
    assert not learner.fused                                         # the loaded state asks for momentum


def test_fused_sgd_follows_the_scheduler_after_resume():
    """The rate is read from the optimiser's group at every step, also after load_state_dict."""
    X, y = torch.randn(16, 6), torch.randint(0, 4, (16,))

    def learner():
        torch.manual_seed(0)
        model = tt.FeedforwardNetwork(6, 4, [5])
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        return tt.TorchLearner(model, opt, 4, tt.time_based_scheduler(opt, 6), "step")

    straight = learner()
    for e in range(2):
        straight.train_epoch(X, y, torch.Generator().manual_seed(e))
    first = learner()
    first.train_epoch(X, y, torch.Generator().manual_seed(0))
    resumed = learner()
    resumed.load_state(copy.deepcopy(first.state()))
    resumed.train_epoch(X, y, torch.Generator().manual_seed(1))
    assert resumed.lr() == straight.lr() == 1.0
    for a, b in zip(resumed.model.parameters(), straight.model.parameters()):
        torch.testing.assert_close(a, b)


def test_stacked_sweep_equals_separate_runs():
    torch.manual_seed(0)
    X, y = torch.randn(64, 10), torch.randint(0, 3, (64,))
    lrs = [0.5, 0.1, 0.01]
    members = [tt.FeedforwardNetwork(10, 3, [7, 5]) for _ in lrs]
    stacked = tt.StackedFFN(members, lrs)
    stacked.train_epoch(X, y, 8, torch.Generator().manual_seed(3))
    for m, (model, lr) in enumerate(zip(members, lrs)):
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        tt.TorchLearner(model, opt, 8).train_epoch(X, y, torch.Generator().manual_seed(3))
        for name, value in model.state_dict().items():
            torch.testing.assert_close(stacked.member_state(m)[name], value, rtol=1e-4, atol=1e-5)


def test_time_based_schedule_per_step_and_per_epoch():
    for eta0, expected in ((5, [5, 4, 3, 2, 1, 1, 1]), (1, [1, 1, 1])):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = tt.time_based_scheduler(opt, eta0)
        seen = []
        for _ in expected:
            seen.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        assert seen == pytest.approx(expected)
    with pytest.raises(ValueError):
        tt.time_based_factor(0.5)
    # per step: one epoch of 4 batches moves the rate by 4; per epoch by 1
    X, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    for every, after in (("step", 6.0), ("epoch", 9.0)):
        model = tt.LogisticRegression(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        learner = tt.TorchLearner(model, opt, 4, tt.time_based_scheduler(opt, 10), every)
        learner.train_epoch(X, y, torch.Generator().manual_seed(0))
        assert learner.lr() == after


def test_alexnet_flags_and_shapes():
    full, bare = tt.AlexNet32(), tt.AlexNet32(batchnorm=False, dropout=False)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in full.modules())
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.Dropout)) for m in bare.modules())
    assert 23.2e6 < sum(p.numel() for p in full.parameters()) < 23.4e6
    assert full.eval()(torch.randn(2, 3 * 32 * 32)).shape == (2, 10)


def test_broken_and_fixed_networks():
    broken, fixed = tt.broken_network([8, 6, 10]), tt.fixed_network([8, 6, 10])
    assert (broken.hidden, broken.output, broken.head) == ("softmax", "sigmoid", "sigmoid_bce")
    assert (fixed.hidden, fixed.head) == ("sigmoid", "ce") and len(tt.PLANTED_DEFECTS) == 3
    out = broken(torch.randn(4, 8))
    assert ((out > 0) & (out < 1)).all()
    assert torch.isfinite(tt.head_loss(broken.head, out, torch.randint(0, 10, (4,))))
