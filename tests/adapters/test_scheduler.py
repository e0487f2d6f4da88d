"""The daemon's ticks: each runs on its interval, and one that fails keeps running (and never stops the others)."""

from __future__ import annotations

import threading

from inboxcrm.adapters.scheduler import Tick, start


def test_a_failing_tick_keeps_running_and_does_not_stop_the_others() -> None:
    calls = {"failing": 0, "fine": 0}
    both_again = threading.Event()

    def failing() -> None:
        calls["failing"] += 1
        raise RuntimeError("the database is away")

    def fine() -> None:
        calls["fine"] += 1
        if calls["fine"] >= 3 and calls["failing"] >= 3:
            both_again.set()

    scheduler = start([Tick("failing", failing, 0.05), Tick("fine", fine, 0.05)])
    try:
        assert both_again.wait(timeout=30), calls
    finally:
        scheduler.shutdown(wait=True)
    assert calls["failing"] >= 3 and calls["fine"] >= 3
