"""Doing the same database work again while the database is unavailable (locked, disk full, connection
lost), instead of treating good work as bad: no quarantine, no mail sent twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from inboxcrm.core.ports import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], object]


def patiently(work: Callable[[], T], sleep: Sleep, what: str, patience: float = 60.0) -> T:
    """`work()`, done again after 1, 2, 4 … (up to 30) seconds each time it raises `StoreUnavailable`, for
    about `patience` seconds in all; then the last `StoreUnavailable` is raised (nothing was committed)."""
    waited, delay = 0.0, 1.0
    while True:
        try:
            return work()
        except StoreUnavailable as exc:
            if waited >= patience:
                log.error("%s: the database is still unavailable after %.0fs (%s); stopping here", what, waited, exc)
                raise
            log.warning("%s: the database is unavailable (%s); trying again in %.0fs", what, exc, delay)
            sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)
