"""theory.updates: logistic SGD gradient and the L2 (weight-decay) update, proved and FD-checked."""
import numpy as np
import pytest

from theory import updates


@pytest.mark.parametrize("K, D", [(2, 1), (3, 2)])
def test_logistic_gradient_proved_and_checked(K, D):
    steps, checks = updates.logistic_sgd_gradient(K, D)
    assert all(c.passed for c in checks), checks
    assert not any(s.gap for s in steps) and "x^\\top" in steps[2].math


def test_l2_update_proved_and_checked():
    steps, checks = updates.l2_update(2, 2)
    assert all(c.passed for c in checks), checks
    assert r"(1 - \eta\lambda)" in steps[2].math


def test_fd_check_can_fail(monkeypatch):
    monkeypatch.setattr(updates, "_np_grad", lambda W, x, y: np.zeros_like(W))
    _, checks = updates.logistic_sgd_gradient(2, 1)
    assert checks[0].passed and not checks[1].passed


def test_sizes_are_validated():
    with pytest.raises(ValueError, match="K"):
        updates.l2_update(1, 2)
