"""APScheduler ticks that only call services. Due times live in our own tables, never in a job store, so
several daemons can tick at once: the services claim their work (`FOR UPDATE SKIP LOCKED` on PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tick:
    """Call `job` every `seconds`; a run still going when the next is due is not started twice."""

    name: str
    job: Callable[[], object]
    seconds: float


def _guarded(tick: Tick) -> Callable[[], None]:
    def run() -> None:
        try:
            tick.job()
        except Exception:  # one failing tick must not stop the others, nor the next run of itself
            log.exception("%s failed; trying again in %gs", tick.name, tick.seconds)

    return run


def start(ticks: Sequence[Tick]) -> BackgroundScheduler:
    """A started background scheduler running `ticks`; call `.shutdown()` to stop it."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for tick in ticks:
        scheduler.add_job(
            _guarded(tick),
            "interval",
            seconds=tick.seconds,
            id=tick.name,
            name=tick.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.start()
    return scheduler
