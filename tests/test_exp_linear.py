"""Experiment wiring for the NumPy linear models (smoke profile, a private cache)."""
import numpy as np
import pytest

from problems import api
from problems.context import RunContext, using
from problems.errors import InputError
from problems.registry import get


@pytest.fixture
def smoke(tmp_path):
    with using(RunContext(profile="smoke", cache_dir=str(tmp_path / "cache"))):
        yield


def write_octmnist(folder, sizes=(("train", 300), ("val", 60), ("test", 60)), seed=0):
    """A tiny octmnist.npz in the published format (uint8 28x28 images, (n, 1) labels in 0..3) whose
    class shifts the mean brightness, so that a linear model learns something."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in sizes:
        y = rng.integers(0, 4, (n, 1))
        arrays[f"{split}_images"] = np.clip(rng.normal(40 + 50 * y[:, :, None], 30, (n, 28, 28)), 0, 255).astype(np.uint8)
        arrays[f"{split}_labels"] = y
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "octmnist.npz", **arrays)
    return folder


@pytest.fixture
def real_octmnist(tmp_path):
    """The sheet's own dataset format, so that claimed numbers are decided."""
    with using(RunContext(profile="smoke", cache_dir=str(tmp_path / "cache"),
                          data_dir=str(write_octmnist(tmp_path / "data")))):
        yield


def _run(pid, claims=None):
    return api.run_problem(get(pid), claims)


@pytest.mark.parametrize("pid", ["ist23.q1.1a"])
def test_perceptron_runs_and_records_what_ran(smoke, pid):
    r = _run(pid)
    assert r.passed, [c for c in r.checks if not c.passed]
    assert "Profile smoke" in r.data["description"] and "substitute" in r.data["description"]
    assert r.figures and r.figures[0].series and "Profile smoke" in r.figures[0].caption
    assert r.tables[0].rows[0][0] == "perceptron"


def test_perceptron_claims_right_accepted_wrong_rejected(real_octmnist):
    measured = _run("ist23.q1.1a").summary            # the checker's own run decides the numbers
    assert "substitute" not in _run("ist23.q1.1a").data["description"]
    test_acc = float(measured.split("test accuracy ")[1].split()[0])
    ok = _run("ist23.q1.1a", {"test_accuracy": round(test_acc, 2)})
    assert ok.verdicts[0].passed is True
    ok2 = _run("ist23.q1.1a", {"test_accuracy": test_acc + 0.01, "tolerance": 0.02})   # another form: own band
    assert ok2.verdicts[0].passed is True
    bad = _run("ist23.q1.1a", {"test_accuracy": min(1.0, test_acc + 0.4) if test_acc < 0.5 else test_acc - 0.4})
    v = bad.verdicts[0]
    assert v.passed is False and "measured test accuracy" in v.evidence and "outside the band" in v.evidence
    assert not bad.passed


def test_perceptron_number_on_the_substitute_is_undecided(smoke):
    r = _run("ist23.q1.1a")
    assert "substitute" in r.data["description"]                    # no octmnist.npz on this machine
    test_acc = float(r.summary.split("test accuracy ")[1].split()[0])
    for claimed in (test_acc, 0.01):                                   # right or wrong, it is not comparable
        v = _run("ist23.q1.1a", {"test_accuracy": claimed}).verdicts[0]
        assert v.passed is None
        assert f"measured test accuracy = {test_acc:.4f} on the substitute Fashion-MNIST classes 0-3 in place of " \
               "OCTMNIST" in v.evidence
        assert "not comparable, so no verdict" in v.evidence
        assert ("would have been within the band" if claimed == test_acc else "would have been outside") in v.evidence


def test_bad_claims_are_one_line_errors(smoke):
    with pytest.raises(InputError, match="unknown claim key 'test_acc'"):
        _run("ist23.q1.1a", {"test_acc": 0.5})
    with pytest.raises(InputError, match="expected a number"):
        _run("ist23.q1.1a", {"test_accuracy": "high"})


def test_oracle_check_can_fail(smoke, monkeypatch):
    from numerics.engine import np_linear

    def wrong_epoch(self, X, y, rng):                      # a planted bug: the bias is never updated
        for i in rng.permutation(len(y)):
            y_hat = int((self.Wx @ X[i]).argmax())
            if y_hat != y[i]:
                self.Wx[y[i]] += X[i]
                self.Wx[y_hat] -= X[i]
        return len(y)

    monkeypatch.setattr(np_linear.Perceptron, "train_epoch", wrong_epoch)
    from numerics.exp_linear import perceptron_oracle_check
    check = perceptron_oracle_check("octmnist", 1)
    assert check.passed is False and "max |W_engine - W_naive|" in check.detail
