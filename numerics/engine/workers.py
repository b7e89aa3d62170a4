"""Process-pool worker set-up (kept free of numpy/torch imports at module level).

Each worker gets ``threads`` BLAS/OpenMP/torch threads so that ``workers x threads`` never exceeds
the cores: the environment variables are set before numpy is first imported in the worker.
"""
from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def init_worker(threads: int) -> None:
    """Pool initializer: cap every thread pool of this process at ``threads``."""
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    os.environ["DLCHECK_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)
