"""Speed of our PyTorch trainer against the common DataLoader + autograd loop (not a test).

Run from the repository root: ``python -m bench.run`` (or ``python bench/run.py``). Prints one line per
comparison, ``NAME: ratio X.XX`` (baseline time / our time), then ``peak_fraction: X.XX`` (our achieved
training GFLOP/s at batch 1024 over a measured float32 matmul peak). Data: random float32 images of
MNIST's shape (784 features, 10 classes); network 784-200-200-10, SGD. Each timing is the median of
three runs over a fraction of an epoch (``--examples``), so the whole bench takes about a minute.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from numerics.train_torch import FeedforwardNetwork, StackedFFN, TorchLearner  # noqa: E402

SIZES = (784, 200, 200, 10)
CORES = os.cpu_count() or 1


def median_time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def baseline_epoch(X, y, batch_size: int, lr: float = 0.1) -> None:
    """The homework loop: a DataLoader over a TensorDataset, nn.Sequential, autograd, default threads."""
    torch.set_num_threads(CORES)
    model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for xb, yb in DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()


def our_epoch(X, y, batch_size: int, lr: float = 0.1) -> None:
    """Our loop: tensors in memory, index slicing, hand-written backward; 1 thread at small batch."""
    torch.set_num_threads(1 if batch_size <= 16 else CORES)
    model = FeedforwardNetwork(784, 10, [200, 200])
    learner = TorchLearner(model, torch.optim.SGD(model.parameters(), lr=lr), batch_size)
    learner.train_epoch(X, y, torch.Generator().manual_seed(0))


def stacked_sweep(X, y, batch_size: int, lrs) -> None:
    """All members in one model: its products are M times wider (one thread at batch 16, as our loop)."""
    torch.set_num_threads(1 if batch_size <= 16 else CORES)
    members = [FeedforwardNetwork(784, 10, [200, 200]) for _ in lrs]
    StackedFFN(members, list(lrs)).train_epoch(X, y, batch_size, torch.Generator().manual_seed(0))


_POOL_DATA: dict = {}


def _pool_init(examples: int) -> None:
    """Worker set-up (not timed): one thread, the same random data as the parent."""
    from numerics.engine.workers import init_worker
    init_worker(1)
    _POOL_DATA["Xy"] = bench_data(examples)


def _pool_run(batch_lr) -> None:
    our_epoch(*_POOL_DATA["Xy"], *batch_lr)


def _pool_ready(_) -> int:
    time.sleep(0.3)                                      # keeps one worker busy so the other starts too
    return os.getpid()


def process_sweep(pool, batch_size: int, lrs) -> None:
    """The runner's way: members spread over a spawn pool of single-thread workers (numerics.runner)."""
    list(pool.map(_pool_run, [(batch_size, lr) for lr in lrs]))


def bench_data(examples: int):
    g = torch.Generator().manual_seed(0)
    return torch.rand(examples, 784, generator=g), torch.randint(0, 10, (examples,), generator=g)


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """Float32 GFLOP/s of an n x n matmul on all cores (best of ``repeats``)."""
    torch.set_num_threads(CORES)
    A, B = torch.randn(n, n), torch.randn(n, n)
    A @ B
    best = min(median_time(lambda: A @ B, 1) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def training_flops_per_example(sizes=SIZES) -> float:
    """Forward 2P, weight gradients 2P, input gradients 2(P - first layer) multiply-adds x 2."""
    P = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return 2 * P + 2 * P + 2 * (P - sizes[0] * sizes[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000, help="examples per timed pass (60,000 = an epoch)")
    args = parser.parse_args()
    X, y = bench_data(args.examples)
    lrs = (1.0, 0.1, 0.01, 0.001)
    for batch in (16, 256):
        base = median_time(lambda: baseline_epoch(X, y, batch))
        ours = median_time(lambda: our_epoch(X, y, batch))
        print(f"batch_{batch}: ratio {base / ours:.2f}   (baseline {base:.2f} s, ours {ours:.2f} s, "
              f"{args.examples} examples)", flush=True)
    half = bench_data(args.examples // 2)
    sequential = median_time(lambda: [baseline_epoch(*half, 16, lr) for lr in lrs])
    sequential_ours = median_time(lambda: [our_epoch(*half, 16, lr) for lr in lrs])
    stacked = median_time(lambda: stacked_sweep(*half, 16, lrs))
    print(f"sweep_4lr_batch_16: ratio {sequential / stacked:.2f}   (4 sequential baseline runs {sequential:.2f} s, "
          f"one stacked model {stacked:.2f} s)", flush=True)
    print(f"sweep_4lr_batch_16_vs_our_sequential: ratio {sequential_ours / stacked:.2f}   "
          f"(4 sequential runs of our loop {sequential_ours:.2f} s)", flush=True)
    with cf.ProcessPoolExecutor(CORES, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_pool_init, initargs=(args.examples // 2,)) as pool:
        list(pool.map(_pool_ready, range(CORES)))
        spread = median_time(lambda: process_sweep(pool, 16, lrs))
    print(f"sweep_4lr_batch_16_processes: ratio {sequential / spread:.2f}   ({CORES} single-thread workers "
          f"{spread:.2f} s; the runner's local_executor)", flush=True)
    print(f"sweep_4lr_batch_16_processes_vs_our_sequential: ratio {sequential_ours / spread:.2f}   "
          f"(the parallelism alone)", flush=True)
    peak = matmul_peak()
    ours_1024 = median_time(lambda: our_epoch(X, y, 1024))
    achieved = training_flops_per_example() * args.examples / ours_1024 / 1e9
    print(f"peak_fraction: {achieved / peak:.2f}   (batch 1024: {achieved:.0f} GFLOP/s; "
          f"2048^2 matmul peak {peak:.0f} GFLOP/s, {CORES} threads)", flush=True)


if __name__ == "__main__":
    main()
