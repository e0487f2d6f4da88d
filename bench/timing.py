"""Shared by the benchmarks (run as scripts, so this folder is on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeat: int, run: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    """The fastest of `repeat` runs, in seconds: the least disturbed by whatever else the machine did.
    `clock=time.process_time` counts only this process's CPU time, for pure computation on a shared machine
    (wall time also counts the time other processes had the CPU)."""
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        run()
        best = min(best, clock() - start)
    return best
