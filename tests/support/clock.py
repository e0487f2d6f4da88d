"""The tests' clock: a wall clock (and a monotonic one) that moves only when the test moves it.

clock = Clock(datetime(2026, 11, 2, 10, 5, tzinfo=UTC))
app = bootstrap.build(settings, clock=clock)  # the app calls it for the time
clock.now += timedelta(hours=5)               # or clock.advance(5 * 3600), which moves `monotonic` too
"""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """Call it (or read `now`) for the wall time, which starts at `start`; set `now` or `advance` it by hand.
    `monotonic` (for what measures intervals, such as rate limits) starts at `seconds`."""

    def __init__(self, start: datetime, seconds: float = 1000.0) -> None:
        self.now = start
        self.seconds = seconds

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        """Both clocks `seconds` on."""
        self.now += timedelta(seconds=seconds)
        self.seconds += seconds
