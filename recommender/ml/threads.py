"""How many CPU threads a training may use: the cores this process may actually run on."""

import os
from contextlib import contextmanager
from pathlib import Path

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
