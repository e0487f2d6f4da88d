"""core.activity: a mail shown once on a timeline, and a ticket's messages and events in one list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inboxcrm.core.activity import Relayed, TicketEvent, one_per_thing, ticket_activity
from inboxcrm.core.views import MessageView, TimelineEntry

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def message(mid: int, minutes: int, role: str | None = None) -> MessageView:
    at = T0 + timedelta(minutes=minutes)
    return MessageView(mid, 1, "support", "in", f"<{mid}@x>", f"Subject {mid}", None, (), (), at, "text", (), role=role)


def entry(eid: int, kind: str, m: MessageView | None) -> TimelineEntry:
    return TimelineEntry(eid, m.sent_at if m else T0, kind, f"{kind} {eid}", m, None)


def test_a_mail_is_embedded_once_by_its_own_event_the_rest_refer_to_it() -> None:
    first, reply = message(1, 0), message(2, 5, role="agent_reply")
    entries = [
        entry(6, "score_changed", reply),
        entry(5, "message_in", reply),  # the agent's mail as it came in …
        entry(4, "message_out", reply),  # … and as the reply it is: this one shows it
        entry(3, "tags_changed", first),
        entry(2, "score_changed", first),
        entry(1, "message_in", first),
        entry(0, "stage_changed", None),
    ]
    shown = one_per_thing(entries)
    assert [s.entry.id for s in shown] == [6, 5, 4, 3, 2, 1, 0]
    assert [s.entry.id for s in shown if s.message is not None] == [4, 1]
    assert [(s.entry.id, s.refers_to.message_id) for s in shown if s.refers_to] == [(6, 2), (5, 2), (3, 1), (2, 1)]
    assert all(s.refers_to.listed for s in shown if s.refers_to)
    assert shown[-1].message is None and shown[-1].refers_to is None


def test_an_event_whose_mail_is_on_another_page_refers_to_it_without_a_link() -> None:
    (only,) = one_per_thing([entry(9, "score_changed", message(1, 0))])
    assert only.message is None and only.refers_to is not None and not only.refers_to.listed


def test_ticket_activity_interleaves_messages_and_events_oldest_first() -> None:
    first, reply = message(1, 0), message(2, 60, role="agent_reply")
    relayed = Relayed("Hi Carol", ("carol@x",), "sent", T0 + timedelta(minutes=61))
    events = [
        TicketEvent(1, T0, "ticket_opened", "opened"),
        TicketEvent(2, T0 + timedelta(minutes=30), "ticket_sla_breached", "missed"),
        TicketEvent(3, T0 + timedelta(minutes=60), "message_out", "ana replied", message_id=2),  # the message
        TicketEvent(4, T0 + timedelta(minutes=60), "ticket_assignee", "assigned to ana"),
        TicketEvent(5, T0 + timedelta(minutes=60), "ticket_assignee", "assigned to ana"),  # a second contact's copy
    ]
    items = ticket_activity([first, reply], events, {2: relayed})
    assert [(i.message.id if i.message else i.event.id if i.event else None) for i in items] == [1, 1, 2, 2, 4]
    assert [i.message is not None for i in items] == [True, False, False, True, False]
    assert items[3].relayed == relayed and items[0].relayed is None
