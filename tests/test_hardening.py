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


def test_killed_runs_leave_no_corrupt_entry_and_resume_to_the_same_numbers(tmp_path):
    reference = json.loads(_spawn(tmp_path / "ref", epochs=2).communicate(timeout=300)[0])
    survivors = 0
    for delay in (0.5, 1.5, 2.5, 3.5):                        # kill at different moments
        p = _spawn(tmp_path / "killed", epochs=2)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        survivors += 1
        for f in (tmp_path / "killed").glob("*.json"):       # whatever is there parses completely
            json.loads(f.read_text())
    final = json.loads(_spawn(tmp_path / "killed", epochs=2).communicate(timeout=300)[0])
    assert _strip_times(final["metrics"]) == _strip_times(reference["metrics"])
    assert survivors == 4 and not list((tmp_path / "killed").glob("*.tmp"))
