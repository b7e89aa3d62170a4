"""The experiment runner: configuration, cache, checkpoints, progress, divergence, executors.

Run one experiment::

    from numerics.runner import run
    out = run({"kind": "ffn_torch", "batch_size": 1024}, profile="quick")
    out["final"]["test_accuracy"], out["dataset"]["name"], out["diverged"]

Run several through a ``concurrent.futures.Executor`` (a local process pool by default)::

    outs = run_many([{"kind": "logreg_numpy", "eta": e} for e in (0.01, 0.001)], profile="quick")

The output is a plain JSON-able dict (see :func:`run`). Results are cached under the cache key
(configuration + budget + data fingerprint + code version); a run interrupted after epoch ``k``
resumes from its checkpoint and produces the same numbers as an uninterrupted run.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as _dt
import math
import multiprocessing
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from numerics import datasets
from numerics.engine import config as _config
from numerics.engine import learners, profiles, store, workers

ABSOLUTE_LOSS_LIMIT = 1e6          # classification losses above this count as divergence
TIME_FIELDS = ("wall_time", "eval_time")


def resolve(config: dict) -> dict:
    """The full configuration (defaults + strict overrides); ``ValueError`` names a bad key."""
    return _config.resolve(config)


def kinds() -> list[str]:
    return sorted(_config.DEFAULTS)


def defaults(kind: str) -> dict:
    """The default configuration of ``kind`` (one source of defaults)."""
    return resolve({"kind": kind})


def _threads(cfg: dict) -> int:
    """Per-example and small-batch loops run fastest on one thread; larger batches use all we may."""
    available = int(os.environ.get("DLCHECK_THREADS") or os.cpu_count() or 1)
    small = cfg["kind"] in ("perceptron", "logreg_numpy", "linreg_numpy") or cfg.get("batch_size", 1) <= 16
    return 1 if small else available


@contextlib.contextmanager
def _thread_limit(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limiter = contextlib.nullcontext()
    try:
        with limiter:
            yield
    finally:
        torch.set_num_threads(before)


def _divergence(loss: float | None, initial: float | None, cfg: dict, task: str) -> str | None:
    """The reason a run diverged, or None: a non-finite loss, or one exploding past the limits."""
    if loss is None:
        return None
    if not math.isfinite(loss):
        return f"loss is {loss}"
    if task == "classification" and loss > ABSOLUTE_LOSS_LIMIT:
        return f"loss {loss:.4g} > {ABSOLUTE_LOSS_LIMIT:g}"
    if initial is not None and math.isfinite(initial) and initial > 0 and loss > cfg["divergence_factor"] * initial:
        return f"loss {loss:.4g} > {cfg['divergence_factor']:g} x initial loss {initial:.4g}"
    return None


def _row(learner, cfg: dict, sizes: dict, epoch: int, updates: int, wall: float) -> dict:
    """One epoch's metrics: train/val/test loss and accuracy (as asked), times, updates, extras."""
    t0 = time.perf_counter()
    row = {"epoch": epoch, "updates": updates, "wall_time": wall}
    wanted = [("train", cfg["eval_train"]), ("val", True), ("test", cfg["eval_test"])]
    for split, asked in wanted:
        if asked and sizes[split] > 0:
            for name, value in learner.evaluate(split).items():
                row[f"{split}_{name}"] = value
    row.update(learner.extras())
    row["eval_time"] = time.perf_counter() - t0
    return row


def _monitored(row: dict) -> float | None:
    return next((row[k] for k in ("train_loss", "val_loss", "test_loss") if row.get(k) is not None), None)


def _plan(config: dict, profile: str, data_dir, cache_dir):
    """Resolved configuration, the data subset that runs, its budget, versions, cache key and folder."""
    cfg = resolve(config)
    full = datasets.load(cfg["dataset"], data_dir)
    bud = profiles.budget(profile, cfg, full.sizes())
    ds = full.subsample(bud["n"], seed=cfg["seed"])
    vers = store.versions()
    key = store.cache_key(cfg, bud, ds.fingerprint(), vers["code"], vers)
    return cfg, ds, bud, vers, key, store.cache_dir(cache_dir)


def cached(config: dict, profile: str = "quick", data_dir: str | os.PathLike | None = None,
           cache_dir: str | os.PathLike | None = None) -> dict | None:
    """The cached output of ``config`` under ``profile`` (the key :func:`run` would use), or None."""
    *_, key, folder = _plan(config, profile, data_dir, cache_dir)
    hit = store.read_json(folder / f"{key}.json")
    return None if hit is None else {**hit, "cache_hit": True}


def run(config: dict, profile: str = "quick", data_dir: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None, progress: bool = True, force: bool = False,
        on_epoch: Callable[[int, dict], None] | None = None) -> dict:
    """Run (or fetch from the cache) one experiment; returns a JSON-able dict.

    Keys: ``config`` (resolved), ``profile``, ``budget`` (the data/epochs that ran), ``dataset``
    (provenance: requested and actual name, substitute and why, sizes, shapes, fingerprint),
    ``seed``, ``initial`` (metrics before training), ``metrics`` (one dict per epoch: train/val/test
    loss and accuracy as asked, ``wall_time``, ``eval_time``, ``updates`` and extras), ``final``
    (the last epoch's dict), ``diverged``, ``diverged_reason``, ``diverged_epoch``, ``timings``,
    ``versions``, ``cache_key``, ``created``; plus ``cache_hit`` (not stored).

    ``on_epoch(epoch, row)`` is called after each epoch's checkpoint is written (tests use it to
    simulate an interruption). ``force`` ignores a cached result (but still resumes a checkpoint).
    """
    started = time.perf_counter()
    cfg, ds, bud, vers, key, folder = _plan(config, profile, data_dir, cache_dir)
    result_path, ckpt_path = folder / f"{key}.json", folder / f"{key}.ckpt"
    cached = None if force else store.read_json(result_path)
    if cached is not None:
        return {**cached, "cache_hit": True}

    with store.locked(folder / f"{key}.lock"):
        cached = None if force else store.read_json(result_path)   # another process may have finished it
        if cached is not None:
            return {**cached, "cache_hit": True}
        with _thread_limit(_threads(cfg)):
            out = _train(cfg, ds, bud, ckpt_path, progress, on_epoch)
        out.update({"config": cfg, "profile": profile, "budget": bud, "dataset": ds.provenance(),
                    "seed": cfg["seed"], "versions": {**vers, "threads": _threads(cfg)}, "cache_key": key,
                    "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
        out["timings"]["total_s"] = time.perf_counter() - started
        store.write_json(result_path, out)
        ckpt_path.unlink(missing_ok=True)
    return {**out, "cache_hit": False}


def _train(cfg: dict, ds: datasets.Dataset, bud: dict, ckpt_path: Path, progress: bool,
           on_epoch: Callable | None) -> dict:
    """The epoch loop with checkpoint/resume and divergence detection."""
    n_features = ds.X("train").shape[1]
    learner = learners.build(cfg, ds.splits, n_features, ds.n_classes)
    sizes = ds.sizes()
    ckpt = store.read_pickle(ckpt_path)
    if ckpt is not None:
        learner.load_state(ckpt["state"])
        rows, initial, resumed = ckpt["metrics"], ckpt["initial"], ckpt["epoch"]
    else:
        initial, rows, resumed = _row(learner, cfg, sizes, 0, 0, 0.0), [], 0
    initial_loss = _monitored(initial)
    diverged = None
    for row in rows:                                    # a checkpoint never holds a diverged epoch
        assert _divergence(_monitored(row), initial_loss, cfg, ds.task) is None
    bar = tqdm(range(resumed + 1, bud["epochs"] + 1), total=bud["epochs"], initial=resumed, file=sys.stderr,
               disable=not progress, desc=f"{cfg['kind']}:{ds.name}", leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        updates = learner.train_epoch()
        row = _row(learner, cfg, sizes, epoch, updates, time.perf_counter() - t0)
        rows.append(row)
        bar.set_postfix({k: f"{row[k]:.4g}" for k in ("train_loss", "val_accuracy")
                         if isinstance(row.get(k), float)})
        reason = _divergence(_monitored(row), initial_loss, cfg, ds.task)
        if reason is not None:
            diverged = (epoch, reason)
            break
        store.write_pickle(ckpt_path, {"epoch": epoch, "state": learner.state(), "metrics": rows,
                                       "initial": initial})
        if on_epoch is not None:
            on_epoch(epoch, row)
    bar.close()
    return {"initial": initial, "metrics": rows, "final": rows[-1] if rows else {},
            "diverged": diverged is not None, "diverged_epoch": diverged[0] if diverged else None,
            "diverged_reason": diverged[1] if diverged else None,
            "timings": {"train_s": sum(r["wall_time"] for r in rows), "eval_s": sum(r["eval_time"] for r in rows),
                        "resumed_from_epoch": resumed}}


def local_executor(max_workers: int | None = None) -> cf.ProcessPoolExecutor:
    """A spawn-based process pool of ``max_workers`` (default: the cores), each limited to
    ``cores // max_workers`` threads (at least 1), so the pool never oversubscribes the machine."""
    cores = os.cpu_count() or 1
    max_workers = max_workers or cores
    threads = max(1, cores // max_workers)
    return cf.ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=workers.init_worker, initargs=(threads,))


def run_many(configs: list[dict], profile: str = "quick", executor: cf.Executor | None = None,
             data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
             progress: bool = False, force: bool = False) -> list[dict]:
    """Run ``configs`` through ``executor`` (any ``concurrent.futures.Executor``, e.g. a Dask client's
    ``get_executor()``; default: :func:`local_executor`). Configurations are resolved first, so a bad
    one fails before anything runs. Returns the outputs in the order of ``configs``."""
    for c in configs:
        resolve(c)
    data_dir = str(datasets.data_dir(data_dir).resolve())
    cache_dir = str(store.cache_dir(cache_dir).resolve())
    job = partial(run, profile=profile, data_dir=data_dir, cache_dir=cache_dir, progress=progress, force=force)
    own = executor is None
    executor = executor or local_executor()
    try:
        futures = [executor.submit(job, c) for c in configs]
        return [f.result() for f in futures]
    finally:
        if own:
            executor.shutdown()
