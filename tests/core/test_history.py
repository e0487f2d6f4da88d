"""History and live mail without a database: the backlog setting, how history tickets end up, and first
responses found later."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from inboxcrm.core.history import Backlog, HistoryMark, answered_in_history, as_of, reopenable
from inboxcrm.core.model import TicketStatus
from inboxcrm.core.tickets import Ticket, agent_replied, new_breaches, with_breaches

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
FOUR_DAYS = timedelta(days=4)


def ticket(**changes: object) -> Ticket:
    base = Ticket(
        id=7,
        thread_id=3,
        mailbox="support",
        subject="Printer",
        status=TicketStatus.NEW,
        priority="normal",
        queue="support",
        assignee=None,
        contact_id=1,
        created_at=datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "keep"),
    [
        ("all", None),
        ("ALL", None),
        ("none", timedelta(0)),
        ("90d", timedelta(days=90)),
        ("12w", timedelta(weeks=12)),
        ("36h", timedelta(hours=36)),
    ],
)
def test_backlog_settings(text: str, keep: timedelta | None) -> None:
    assert Backlog.parse(text).keep == keep


@pytest.mark.parametrize("text", ["", "some", "90", "90 days", "-3d", "1y"])
def test_a_bad_backlog_setting_says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match='expected "all", "none" or a span such as "90d"'):
        Backlog.parse(text)


def test_what_a_history_mark_keeps() -> None:
    mark = HistoryMark(until_uid=120, since=NOW - timedelta(days=90), total=120, read=0, connected_at=NOW)
    assert mark.is_history(120) and not mark.is_history(121)
    assert mark.keeps(NOW - timedelta(days=89)) and not mark.keeps(NOW - timedelta(days=91))
    assert mark.keeps(None)  # a message without a date is kept: better stored than lost
    assert Backlog.parse("none").since(NOW) == NOW and Backlog.parse("all").since(NOW) is None


def test_an_answer_in_history_solves_the_ticket_at_that_time_unless_a_command_said_otherwise() -> None:
    at = datetime(2026, 10, 1, 11, 0, tzinfo=UTC)
    solved, changes = answered_in_history(ticket(status=TicketStatus.OPEN), at, status_ordered=False)
    assert (solved.status, solved.solved_at) == (TicketStatus.SOLVED, at) and len(changes) == 1
    assert answered_in_history(ticket(status=TicketStatus.OPEN), at, status_ordered=True)[0].status is TicketStatus.OPEN
    pending = ticket(status=TicketStatus.PENDING)
    assert answered_in_history(pending, at, status_ordered=False) == (pending, [])


def test_as_of_closes_a_solved_ticket_close_solved_after_later_at_that_time() -> None:
    solved_at = datetime(2026, 10, 1, 11, 0, tzinfo=UTC)
    closed, changes = as_of(ticket(status=TicketStatus.SOLVED, solved_at=solved_at), NOW, FOUR_DAYS)
    assert closed.status is TicketStatus.CLOSED
    assert [(at, c.kind) for at, c in changes] == [(solved_at + FOUR_DAYS, "status")]
    recent = ticket(status=TicketStatus.SOLVED, solved_at=NOW - timedelta(days=1))
    assert as_of(recent, NOW, FOUR_DAYS) == (recent, [])


def test_as_of_ends_a_snooze_that_ended_and_records_missed_targets_when_they_were_missed() -> None:
    until = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    due = datetime(2026, 10, 1, 13, 0, tzinfo=UTC)
    woke, changes = as_of(
        ticket(status=TicketStatus.PENDING, snoozed_until=until, first_response_due=due), NOW, FOUR_DAYS
    )
    assert woke.status is TicketStatus.OPEN and woke.snoozed_until is None
    assert woke.first_response_breached_at == due
    assert sorted((at, c.kind) for at, c in changes) == [(due, "sla_breached"), (until, "status")]


def test_a_customer_writing_later_finds_a_ticket_the_clock_closed_solved_again_but_spam_stays_closed() -> None:
    solved_at = datetime(2026, 10, 1, 11, 0, tzinfo=UTC)
    closed = ticket(status=TicketStatus.CLOSED, solved_at=solved_at)
    assert reopenable(closed, solved_at + timedelta(days=30)).status is TicketStatus.SOLVED
    assert reopenable(closed, solved_at - timedelta(hours=1)) == closed  # written before it was solved
    spam = replace(closed, tags=frozenset({"spam"}))
    assert reopenable(spam, solved_at + timedelta(days=1)) == spam


def test_a_reply_found_later_that_was_earlier_becomes_the_first_response_and_takes_back_its_breach() -> None:
    due = datetime(2026, 10, 1, 13, 0, tzinfo=UTC)
    late = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    answered, _ = agent_replied(ticket(first_response_due=due), late)
    answered = with_breaches(answered, new_breaches(answered, late))
    assert answered.first_response_breached_at == late
    early = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    backfilled, changes = agent_replied(answered, early)
    assert backfilled.first_response_at == early and backfilled.first_response_breached_at is None
    assert changes == []  # the first response was recorded already: no second event
    assert agent_replied(backfilled, late)[0].first_response_at == early  # a later reply changes nothing
