"""Waiting for something another thread or process does (a poller, a daemon, a server), with a bound."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], what: str, timeout: float = 60.0, *, every: float = 0.05) -> None:
    """Poll `predicate` every `every` seconds until it is true; the bound only turns a hang into a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
