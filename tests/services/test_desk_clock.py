"""The ticket clocks, on both databases: SLA due times from the priority targets, solved tickets closing by
themselves, snoozes ending, and SLA breaches on the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inboxcrm import bootstrap
from inboxcrm.core.reply_tokens import relay_address
from inboxcrm.services.desk import tick_tickets
from tests.services.desk_support import (
    SECRET,
    Clock,
    agent_reply,
    clock,
    customer_mail,
    desk,
    events,
    ingest,
    relay_of,
    ticket_row,
)

__all__ = ["clock", "desk"]  # the fixtures


def test_sla_due_times_come_from_the_priority_targets(desk: bootstrap.App) -> None:
    ingest(desk, customer_mail())
    row = ticket_row(desk)
    opened = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert row.first_response_due.replace(tzinfo=UTC) == opened + timedelta(hours=4)
    assert row.resolution_due.replace(tzinfo=UTC) == opened + timedelta(days=2)


def test_solved_tickets_close_by_themselves_and_snoozes_end(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    ingest(desk, customer_mail(subject="Second problem", message_id="c9@acme-corp.example"))
    relay1 = relay_address("support@northwind.example", 1, False, datetime(2027, 1, 1).date(), SECRET.encode())
    ingest(desk, agent_reply(relay1, "#close\nDone.", mid="x1"))
    relay2 = relay_address("support@northwind.example", 2, False, datetime(2027, 1, 1).date(), SECRET.encode())
    ingest(desk, agent_reply(relay2, "#snooze 2d", mid="x2"))
    clock.now += timedelta(days=3)
    tick_tickets(desk.store, desk.support, clock.now)
    assert ticket_row(desk, 1).status == "solved"  # 3 of 4 days
    assert ticket_row(desk, 2).status == "open"  # snooze over
    clock.now += timedelta(days=1, hours=1)
    tick_tickets(desk.store, desk.support, clock.now)
    assert ticket_row(desk, 1).status == "closed"
    # a customer reply does not reopen a closed ticket
    ingest(
        desk,
        customer_mail(
            subject="Re: Printer on fire [#1]", message_id="late@acme-corp.example", in_reply_to="c1@acme-corp.example"
        ),
    )
    assert ticket_row(desk, 1).status == "closed"


def test_sla_breaches_are_recorded_once_on_the_timeline(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 5 h later: the 4 h first-response target is missed
    tick_tickets(desk.store, desk.support, clock.now)
    tick_tickets(desk.store, desk.support, clock.now)
    breached = [s for k, s in events(desk) if k == "ticket_sla_breached"]
    assert len(breached) == 1 and "first response" in breached[0]
    assert ticket_row(desk).first_response_breached_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_a_late_first_response_is_a_breach_at_the_time_it_came(desk: bootstrap.App, clock: Clock) -> None:
    ingest(desk, customer_mail())
    late = agent_reply(relay_of(desk), "Sorry for the wait, Carol.")
    late = late.replace(b"Mon, 02 Nov 2026 11:00:00 +0000", b"Mon, 02 Nov 2026 16:00:00 +0000")
    clock.now = datetime(2026, 11, 2, 16, 1, tzinfo=UTC)
    ingest(desk, late)
    row = ticket_row(desk)
    assert row.first_response_breached_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
