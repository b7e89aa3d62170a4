"""ist21.q2.2 regression experiments (smoke profile, one private cache for the module)."""
import numpy as np
import pytest

from problems import api
from problems.context import RunContext, using
from problems.errors import InputError
from problems.registry import get


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("cache")))


def _run(ctx, pid, claims=None):
    with using(ctx):
        return api.run_problem(get(pid), claims)


@pytest.fixture(scope="module")
def results(ctx):
    return {pid: _run(ctx, pid) for pid in ("ist21.q2.2a", "ist21.q2.2b")}


@pytest.mark.parametrize("pid", ["ist21.q2.2a", "ist21.q2.2b"])
def test_runs_pass_with_figures_tables_and_data(results, pid):
    r = results[pid]
    assert r.passed, [c for c in r.checks if not c.passed]
    assert r.figures and all(f.series for f in r.figures) and r.tables
    assert "Profile smoke" in r.data["description"] and "substitute" in r.data["description"]


def test_linear_figures_and_trend_claims(ctx, results):
    r = results["ist21.q2.2a"]
    assert [f.name for f in r.figures] == ["rmse", "distance"]
    ok = _run(ctx, "ist21.q2.2a", {"distance_decreases": True})
    assert ok.verdicts[0].passed is True
    bad = _run(ctx, "ist21.q2.2a", {"distance_decreases": False})
    assert bad.verdicts[0].passed is False and "||w - w*||" in bad.verdicts[0].evidence


@pytest.fixture(scope="module")
def real_ames(tmp_path_factory):
    """A tiny ames.csv in the published format (numeric and categorical columns, target SalePrice), so
    that claimed RMSEs are decided."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("data")
    lines = ["Lot Area,Overall Qual,Neighborhood,SalePrice"]
    for _ in range(200):
        area, qual, hood = rng.normal(10000, 2000), int(rng.integers(1, 11)), "ABC"[int(rng.integers(0, 3))]
        price = 50000 + 5 * area + 12000 * qual + {"A": 0, "B": 15000, "C": -10000}[hood] + rng.normal(0, 8000)
        lines.append(f"{area:.0f},{qual},{hood},{price:.0f}")
    (folder / "ames.csv").write_text("\n".join(lines) + "\n")
    return RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("real-cache")), data_dir=str(folder))


def _rmse(result, which):
    return float(result.summary.split(f"{which} RMSE ")[1].split(";")[0].split()[0].replace(",", ""))


def test_linear_number_claims(real_ames):
    plain = _run(real_ames, "ist21.q2.2a")
    assert "substitute" not in plain.data["description"]
    test_rmse = _rmse(plain, "test")
    r = _run(real_ames, "ist21.q2.2a", {"final_test_rmse": test_rmse * 1.02, "final_train_rmse": test_rmse * 10})
    assert r.verdicts[0].passed is False and "measured train rmse" in r.verdicts[0].evidence
    assert "outside the band" in r.verdicts[0].evidence
    assert r.verdicts[1].passed is True and "within the band" in r.verdicts[1].evidence


def test_linear_number_claims_on_the_substitute_are_undecided(ctx, results):
    test_rmse = _rmse(results["ist21.q2.2a"], "test")
    r = _run(ctx, "ist21.q2.2a", {"final_test_rmse": test_rmse, "final_train_rmse": test_rmse * 10,
                                   "distance_decreases": True})
    by = {v.claim.split(" =")[0]: v for v in r.verdicts}
    for key in ("final_test_rmse", "final_train_rmse"):
        assert by[key].passed is None and "not comparable, so no verdict" in by[key].evidence
        assert "on the substitute synthetic regression in place of Ames housing" in by[key].evidence
    assert "would have been within the band" in by["final_test_rmse"].evidence
    assert "would have been outside the band" in by["final_train_rmse"].evidence
    trend = by["distance_decreases"]                                    # a trend stays decided, naming the substitute
    assert trend.passed is True and "Decided on the substitute synthetic regression" in trend.evidence


def test_network_overlay_and_claims(ctx, results):
    r = results["ist21.q2.2b"]
    labels = [s.label for s in r.figures[0].series]
    assert any(l.startswith("network") for l in labels) and any(l.startswith("linear") for l in labels)
    assert "diverged" in r.summary                                     # the sheet's settings on dollar targets
    ok = _run(ctx, "ist21.q2.2b", {"sheet_settings_diverge": True})
    assert ok.verdicts[0].passed is True
    bad = _run(ctx, "ist21.q2.2b", {"sheet_settings_diverge": False})
    assert bad.verdicts[0].passed is False and "loss is nan" in bad.verdicts[0].evidence


def test_bad_claims(ctx):
    with pytest.raises(InputError, match="unknown claim key"):
        _run(ctx, "ist21.q2.2a", {"distance": True})
    with pytest.raises(InputError, match="expected a number"):
        _run(ctx, "ist21.q2.2b", {"network_test_rmse": "low"})


def test_update_oracle_can_fail(ctx, monkeypatch):
    from numerics import exp_regression
    from numerics.engine import np_linear

    def no_bias(self, X, y, rng):                                      # a planted bug: the bias never moves
        w = self.Wx[0]
        for i in rng.permutation(len(y)):
            w -= self.eta * (w @ X[i] + self.W[0, -1] - y[i]) * X[i]
        return len(y)

    monkeypatch.setattr(np_linear.LinearRegression, "train_epoch", no_bias)
    with using(ctx):
        assert not exp_regression.sgd_oracle_check(0.001).passed
