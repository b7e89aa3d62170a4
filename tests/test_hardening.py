"""Issue 7: interrupted runs and concurrent builds never corrupt the cache (subprocess tests)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = """
import json, sys
from numerics import runner
out = runner.run({"kind": "mlp_numpy", "hidden_sizes": [32], "epochs": %d}, profile="smoke", cache_dir=sys.argv[1],
                 progress=False)
print(json.dumps({"metrics": out["metrics"], "created": out["created"], "hit": out["cache_hit"]}, default=str))
"""


def _spawn(cache, epochs=2):
    return subprocess.Popen([sys.executable, "-c", RUN % epochs, str(cache)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _strip_times(metrics):
    return [{k: v for k, v in m.items() if k not in ("wall_time", "eval_time")} for m in metrics]


def test_two_processes_on_one_cache_train_once_and_agree(tmp_path):
    a, b = _spawn(tmp_path), _spawn(tmp_path)
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in (a, b)]
    assert _strip_times(outs[0]["metrics"]) == _strip_times(outs[1]["metrics"])
    assert sorted(o["hit"] for o in outs) == [False, True]  # the second read the first's result: one training
    assert outs[0]["created"] == outs[1]["created"]
    assert len(list(tmp_path.glob("*.json"))) == 1 and not list(tmp_path.glob("*.tmp"))


def kill_and_resume(tmp, kills: int, seed: int = 0) -> int:
    """Kill a training run at ``kills`` random moments, then let it finish: count the kills after which
    every cache entry still parsed, no temporary file was left, and the final numbers equal an
    uninterrupted run's."""
    import random

    tmp = Path(tmp)
    rng = random.Random(seed)
    reference = json.loads(_spawn(tmp / "ref", epochs=3).communicate(timeout=300)[0])
    survived = 0
    for _ in range(kills):
        p = _spawn(tmp / "killed", epochs=3)
        time.sleep(rng.uniform(0.3, 4.0))
        p.send_signal(signal.SIGKILL)
        p.wait()
        try:
            for f in (tmp / "killed").glob("*.json"):       # whatever is there parses completely
                json.loads(f.read_text())
            survived += 1
        except ValueError:
            pass
    final = json.loads(_spawn(tmp / "killed", epochs=3).communicate(timeout=300)[0])
    if _strip_times(final["metrics"]) != _strip_times(reference["metrics"]) or list((tmp / "killed").glob("*.tmp")):
        return 0
    return survived


def test_killed_runs_leave_no_corrupt_entry_and_resume_to_the_same_numbers(tmp_path):
    assert kill_and_resume(tmp_path, 3) == 3


def _npz(path, train_images, train_labels, val_n=20):
    import numpy as np

    rng = np.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, train_images=train_images, train_labels=train_labels,
             val_images=rng.integers(0, 255, (val_n, 28, 28)).astype(np.uint8), val_labels=rng.integers(0, 4, (val_n, 1)),
             test_images=rng.integers(0, 255, (20, 28, 28)).astype(np.uint8), test_labels=rng.integers(0, 4, (20, 1)))


def test_faulty_data_is_an_error_result_and_one_class_or_empty_validation_still_runs(tmp_path):
    """NaN inputs, bad labels or an empty training split: the problem's Result says so, nothing crashes;
    a one-class training set and an empty validation split train and are recorded."""
    import numpy as np

    from problems import api
    from problems.context import RunContext, using
    from problems.registry import get

    rng = np.random.default_rng(1)
    imgs = rng.random((60, 28, 28)).astype(np.float32)
    imgs[3, 4, 5] = np.nan
    _npz(tmp_path / "nan" / "octmnist.npz", imgs, rng.integers(0, 4, (60, 1)))
    _npz(tmp_path / "labels" / "octmnist.npz", rng.integers(0, 255, (60, 28, 28)).astype(np.uint8), np.full((60, 1), 7))
    _npz(tmp_path / "empty" / "octmnist.npz", np.zeros((0, 28, 28), np.uint8), np.zeros((0, 1), int))
    _npz(tmp_path / "one" / "octmnist.npz", rng.integers(0, 255, (60, 28, 28)).astype(np.uint8), np.zeros((60, 1), int))
    _npz(tmp_path / "noval" / "octmnist.npz", rng.integers(0, 255, (60, 28, 28)).astype(np.uint8),
         rng.integers(0, 4, (60, 1)), val_n=0)
    expected = {"nan": "non-finite input", "labels": "labels outside 0..3", "empty": "training split is empty"}
    for case, words in expected.items():
        with using(RunContext(profile="smoke", data_dir=str(tmp_path / case), cache_dir=str(tmp_path / "cache"))):
            r = api.run_problem(get("ist23.q1.1a"))
        assert r.status == "error" and words in r.error and "octmnist" in r.error, (case, r.error)
    for case in ("one", "noval"):
        with using(RunContext(profile="smoke", data_dir=str(tmp_path / case), cache_dir=str(tmp_path / "cache"))):
            r = api.run_problem(get("ist23.q1.1a"))
        assert r.status == "implemented" and "OCTMNIST;" in r.data["description"], (case, r.error)
