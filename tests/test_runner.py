"""The runner: strict configuration, cache hits, resume determinism, divergence, substitutes, executors."""
from __future__ import annotations

import concurrent.futures as cf
import json

import numpy as np
import pytest

from numerics import datasets, runner
from numerics.engine import formats, profiles

TIME_KEYS = ("wall_time", "eval_time")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A tiny MNIST in IDX format whose labels depend on the pixels (so training means something)."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    (root / "mnist").mkdir()
    for split, n in (("train", 360), ("t10k", 120)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (images[:, 14, :10].argmax(axis=1)).astype(np.uint8)
        formats.write_idx(root / "mnist" / f"{split}-images-idx3-ubyte.gz", images)
        formats.write_idx(root / "mnist" / f"{split}-labels-idx1-ubyte.gz", labels)
    datasets._load_cached.cache_clear()
    return root


def _strip_times(rows):
    return [{k: v for k, v in r.items() if k not in TIME_KEYS} for r in rows]


def test_defaults_and_strict_overrides():
    cfg = runner.resolve({"kind": "ffn_torch", "batch_size": 1024, "eta": 1})
    assert cfg["batch_size"] == 1024 and cfg["eta"] == 1.0 and cfg["hidden_size"] == 200 and cfg["layers"] == 2
    assert runner.defaults("network_tau")["hidden_sizes"] == [40]
    bad = [({"kind": "ffn_torch", "batchsize": 16}, "batchsize"),
           ({"kind": "ffn_torch", "batch_size": "16"}, "ffn_torch.batch_size"),
           ({"kind": "ffn_torch", "batch_size": 16.0}, "ffn_torch.batch_size"),
           ({"kind": "ffn_torch", "dropout": True}, "ffn_torch.dropout"),
           ({"kind": "ffn_torch", "activation": "gelu"}, "ffn_torch.activation"),
           ({"kind": "ffn_torch", "eta": -0.1}, "ffn_torch.eta"),
           ({"kind": "mlp_numpy", "hidden_sizes": [200, 0]}, "mlp_numpy.hidden_sizes"),
           ({"kind": "nope"}, "kind"), ({"eta": 0.1}, "kind")]
    for config, named in bad:
        with pytest.raises(ValueError, match=named):
            runner.resolve(config)


def test_profile_budget_is_recorded(data, tmp_path):
    out = runner.run({"kind": "network_tau", "dataset": "mnist", "n_train": 100, "epochs": 5}, profile="smoke",
                     data_dir=data, cache_dir=tmp_path, progress=False)
    assert out["budget"]["n"] == {"train": 100, "val": 60, "test": 120} and out["budget"]["epochs"] == 2
    assert len(out["metrics"]) == 2 and out["dataset"]["sizes"]["train"] == 100
    assert out["dataset"]["name"] == "mnist" and not out["dataset"]["substitute"]
    assert out["versions"]["code"] and out["seed"] == 1
    json.dumps(out)
    b = profiles.budget("quick", runner.resolve({"kind": "alexnet"}), {"train": 45000, "val": 5000, "test": 10000})
    assert b["n"]["train"] == 1000 and b["epochs"] == 3


def test_per_epoch_metrics_and_cache_hit(data, tmp_path):
    config = {"kind": "mlp_numpy", "dataset": "mnist", "hidden_sizes": [16], "eta": 0.01, "init": "normal:0,0.1"}
    first = runner.run(config, profile="smoke", data_dir=data, cache_dir=tmp_path, progress=False)
    row = first["final"]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_accuracy", "wall_time", "updates"):
        assert key in row
    assert row["updates"] == 256 and not first["cache_hit"]
    second = runner.run(config, profile="smoke", data_dir=data, cache_dir=tmp_path, progress=False)
    assert second["cache_hit"] and second["metrics"] == first["metrics"] and second["cache_key"] == first["cache_key"]
    other = runner.run({**config, "eta": 0.02}, profile="smoke", data_dir=data, cache_dir=tmp_path, progress=False)
    assert other["cache_key"] != first["cache_key"] and not other["cache_hit"]
    assert not list(tmp_path.glob("*.ckpt")) and not list(tmp_path.glob("*.tmp"))


class Interrupt(Exception):
    pass


def _interrupt_after(k):
    def hook(epoch, row):
        if epoch == k:
            raise Interrupt(f"simulated interruption after epoch {k}")
    return hook


@pytest.mark.parametrize("config", [
    {"kind": "mlp_numpy", "dataset": "mnist", "hidden_sizes": [12], "eta": 0.01, "init": "normal:0,0.1", "epochs": 4},
    {"kind": "ffn_torch", "dataset": "mnist", "hidden_size": 12, "dropout": 0.3, "momentum": 0.9, "eta": 0.01,
     "epochs": 4},
    {"kind": "logreg_torch", "dataset": "mnist", "optimizer": "adam", "epochs": 4},
    {"kind": "logreg_torch", "dataset": "mnist", "epochs": 4, "lr_schedule": "time_based", "eta": 3.0,
     "schedule_every": "step", "divergence_factor": 1e9},
])
def test_resume_after_interruption_is_identical(config, data, tmp_path):
    caps = dict(profiles.CAPS["smoke"], epochs=4)
    profiles.CAPS["resume-test"] = caps
    try:
        straight = runner.run(config, "resume-test", data, tmp_path / "a", progress=False)
        with pytest.raises(Interrupt):
            runner.run(config, "resume-test", data, tmp_path / "b", progress=False, on_epoch=_interrupt_after(2))
        assert len(list((tmp_path / "b").glob("*.ckpt"))) == 1 and not list((tmp_path / "b").glob("*.json"))
        resumed = runner.run(config, "resume-test", data, tmp_path / "b", progress=False)
    finally:
        del profiles.CAPS["resume-test"]
    assert resumed["timings"]["resumed_from_epoch"] == 2 and straight["timings"]["resumed_from_epoch"] == 0
    assert _strip_times(resumed["metrics"]) == _strip_times(straight["metrics"])
    assert resumed["cache_key"] == straight["cache_key"]


def test_divergence_is_recorded_not_raised(data, tmp_path):
    out = runner.run({"kind": "ffn_torch", "dataset": "mnist", "eta": 1e4, "epochs": 2}, "smoke", data, tmp_path,
                     progress=False)
    assert out["diverged"] and out["diverged_epoch"] == 1 and "loss" in out["diverged_reason"]
    assert len(out["metrics"]) == 1
    json.dumps(out)
    calm = runner.run({"kind": "network_tau", "dataset": "mnist", "eta": 0.01}, "smoke", data, tmp_path,
                      progress=False)
    assert not calm["diverged"] and calm["diverged_reason"] is None


def test_substitute_recorded_in_output(data, tmp_path):
    out = runner.run({"kind": "perceptron", "dataset": "octmnist"}, "smoke", data, tmp_path, progress=False)
    d = out["dataset"]
    assert d["requested"] == "octmnist" and d["substitute"] and d["name"].startswith("substitute:")
    assert d["n_classes"] == 4 and "not found" in d["substitute_reason"]


def test_run_many_with_user_executor_and_local_pool(data, tmp_path):
    configs = [{"kind": "logreg_numpy", "dataset": "mnist", "eta": e, "epochs": 1} for e in (0.01, 0.001)]
    with cf.ThreadPoolExecutor(2) as pool:
        outs = runner.run_many(configs, "smoke", executor=pool, data_dir=data, cache_dir=tmp_path)
    assert [o["config"]["eta"] for o in outs] == [0.01, 0.001]
    with pytest.raises(ValueError, match="bogus"):
        runner.run_many([{"kind": "logreg_numpy", "bogus": 1}], "smoke", data_dir=data, cache_dir=tmp_path)
    pooled = runner.run_many(configs[:1], "smoke", executor=runner.local_executor(1), data_dir=data,
                             cache_dir=tmp_path)
    assert pooled[0]["cache_hit"] and pooled[0]["metrics"] == outs[0]["metrics"]
