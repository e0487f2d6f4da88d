"""Measuring a command as its own process tree: wall seconds, CPU seconds of every process in the tree and
its peak memory (resident and proportional, summed over the tree), sampled from /proc every 0.1 s."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Figures:
    name: str
    seconds: float
    cpu: float
    peak_mb: float  # resident memory of the whole tree, summed over its processes (shared pages counted in each)
    messages: int
    note: str = ""
    peak_pss_mb: float = 0.0  # the same as proportional set size: shared pages split between the processes
    curve: list[tuple[float, float]] = field(default_factory=list)  # (seconds, tree RSS in MB), every 0.1 s


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _sample(root: int) -> tuple[dict[int, float], int, int]:
    """CPU seconds of each process of the tree under `root`, and the tree's resident and proportional bytes."""
    tree = _children()
    todo, cpu, rss, pss = [root], {}, 0, 0
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as f:
                resident = int(f.read().split()[1])
            with open(f"/proc/{pid}/smaps_rollup") as f:
                proportional = next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        rss += resident * PAGE
        pss += proportional * 1024
    return cpu, rss, pss


def measure(name: str, command: Sequence[str], messages: int, env: dict[str, str] | None = None) -> Figures:
    """Run `command`, sampling its process tree every 0.1 s; stdout is kept for the note."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, float] = {}
    peak = peak_pss = 0
    curve: list[tuple[float, float]] = []
    stop = threading.Event()

    def sampler() -> None:
        nonlocal peak, peak_pss
        while not stop.is_set():
            cpu, rss, pss = _sample(process.pid)
            seen.update(cpu)
            peak = max(peak, rss)
            peak_pss = max(peak_pss, pss)
            curve.append((time.perf_counter() - start, rss / 1e6))
            stop.wait(0.1)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    thread.join()
    if process.returncode != 0:
        raise SystemExit(f"{name} failed ({process.returncode}):\n{out}\n{err[-4000:]}")
    return Figures(
        name, seconds, sum(seen.values()), peak / 1e6, messages, out.strip(), curve=curve, peak_pss_mb=peak_pss / 1e6
    )
