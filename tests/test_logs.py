"""The log at INFO says what happened to mail, not that a scheduler ticked."""

from __future__ import annotations

import logging

from inboxcrm.logs import configure_logging


def test_scheduler_ticks_are_quiet_at_info_but_failures_show() -> None:
    configure_logging("INFO", "text")
    scheduler = logging.getLogger("apscheduler.executors.default")
    assert not scheduler.isEnabledFor(logging.INFO)
    assert scheduler.isEnabledFor(logging.WARNING)
    assert logging.getLogger("inboxcrm.services.ingest").isEnabledFor(logging.INFO)
    configure_logging("DEBUG", "text")
    assert not scheduler.isEnabledFor(logging.INFO)  # quiet even at DEBUG: ticks are not our story
