"""How many CPU threads a training may use (the cores this process may actually run on), and helpers
that run a fit's one-core numpy and scipy work on them."""

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from threadpoolctl import threadpool_limits


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a container's CPU quota (cgroup v2's
    cpu.max; a cgroup v1 quota is not read)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, int(int(quota) / int(period))))


@contextmanager
def limited_threads(threads: int):
    """Run the block with at most `threads` BLAS/OpenMP and torch threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


# Up to this many columns a sparse product runs in one piece (a feed request scores one user); past it,
# in one block per thread, at most one per this many columns (the kernel's 500-user tuning at scale: 2).
PARALLEL_MIN_COLUMNS = 256


def sparse_times_dense(matrix: sp.spmatrix, dense: np.ndarray) -> np.ndarray:
    """`matrix @ dense` as an array, with `dense`'s columns split into one block per thread the block
    may use (`limited_threads`; torch's count). scipy's sparse product runs on one core and releases
    the GIL, so the blocks run at once; each column is computed exactly as in a single product."""
    n_blocks = min(torch.get_num_threads(), -(-dense.shape[1] // PARALLEL_MIN_COLUMNS))
    if n_blocks <= 1:
        return np.asarray(matrix @ dense)
    blocks = np.array_split(np.arange(dense.shape[1]), n_blocks)
    return np.hstack(ordered_map(lambda cols: np.asarray(matrix @ dense[:, cols[0] : cols[-1] + 1]), blocks))


def ordered_map(function, items: list) -> list:
    """`[function(item) for item in items]`, on as many threads as the block may use (`limited_threads`;
    torch's count) when there are several items. For work that releases the GIL (numpy's and
    scipy's compiled routines); the results come back in the items' order."""
    threads = min(torch.get_num_threads(), len(items))
    if threads <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(function, items))
