"""The experiment cache: where results live, the cache key, atomic writes.

Every write goes to a temporary file in the destination's folder and is moved into place with
``os.replace``, so a reader sees either the old file or the new one, never half of one.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import platform
import tempfile
from pathlib import Path

ENGINE_ROOT = Path(__file__).resolve().parent.parent            # numerics/


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$DLCHECK_CACHE``, else ``./.cache/dlcheck/runs``."""
    return Path(path or os.environ.get("DLCHECK_CACHE") or ".cache/dlcheck/runs")


def code_version() -> str:
    """sha256 (16 hex) over the engine's source files: editing the engine invalidates the cache."""
    files = [ENGINE_ROOT / f for f in ("datasets.py", "train_numpy.py", "train_torch.py", "runner.py")]
    files += sorted((ENGINE_ROOT / "engine").glob("*.py"))
    h = hashlib.sha256()
    for f in files:
        if f.exists():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def versions() -> dict:
    import numpy
    import torch
    return {"python": platform.python_version(), "numpy": numpy.__version__, "torch": torch.__version__,
            "platform": platform.platform(), "code": code_version()}


def cache_key(config: dict, budget: dict, fingerprint: str, code: str, library_versions: dict) -> str:
    """sha256 of the resolved configuration, the budget, the data fingerprint and the code version."""
    blob = json.dumps({"config": config, "budget": budget, "data": fingerprint, "code": code,
                       "numpy": library_versions["numpy"], "torch": library_versions["torch"]},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj: dict) -> None:
    _atomic(Path(path), lambda f: f.write(json.dumps(obj, indent=1, sort_keys=True, allow_nan=True).encode()))


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_pickle(path: Path, obj) -> None:
    _atomic(Path(path), lambda f: pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL))


def read_pickle(path: Path):
    """The checkpoint (our own file, written by :func:`write_pickle`), or None."""
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (FileNotFoundError, EOFError, pickle.UnpicklingError):
        return None


@contextlib.contextmanager
def locked(path: Path):
    """Hold an exclusive advisory lock on ``path`` (created if needed) for the block.

    Two processes that would train the same run (two builds on one cache) take turns: the second
    finds the first's result in the cache instead of training again or sharing its checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
