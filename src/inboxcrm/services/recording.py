"""Stored messages → what they mean: contacts, threads, messages, tickets, rule decisions, scores, the desk's
and campaigns' reactions, and timeline events, in bulk (a constant number of statements per batch, plus
the desk's work per ticket). Called by `services.ingest` inside the transaction that stores the mail, and by
`services.quarantine` once a quarantined message is understood after all. Who may become a contact is decided
first (services/people.py: Cc only from known conversations, at most `contacts_cap` new contacts per message)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from inboxcrm.core.admission import DEFAULT_NEW_CONTACTS_PER_MESSAGE
from inboxcrm.core.analysis import Analysis
from inboxcrm.core.classify import Kind
from inboxcrm.core.model import Address, Direction, MailboxProfile, Message, Team, TicketStatus
from inboxcrm.core.ports import (
    IngestTransaction,
    NewEvent,
    NewMessage,
    NewTicket,
)
from inboxcrm.core.rules import Decision
from inboxcrm.core.search_text import IndexedText
from inboxcrm.core.tickets import opens_ticket
from inboxcrm.core.understanding import understand
from inboxcrm.services.desk import UNVERIFIED, Desk, Support
from inboxcrm.services.desk.book import TicketBook
from inboxcrm.services.desk.notifications import Notices
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.people import admitted
from inboxcrm.services.routing import Assigner, Routing, as_record, contact_effects, decide
from inboxcrm.services.scoring import ScoreLedger, Scoring, score_messages
from inboxcrm.services.search import record_stored
from inboxcrm.services.threads import assign_threads
from inboxcrm.services.timeline import event_kind, event_summary, subject_line


def record_messages(
    tx: IngestTransaction,
    mailbox: MailboxProfile,
    team: Team,
    items: Sequence[tuple[int, Message, Analysis | None]],
    now: datetime,
    reply_secret: bytes | None = None,
    routing: Routing | None = None,
    scoring: Scoring | None = None,
    support: Support | None = None,
    outreach: Outreach | None = None,
    live: bool = True,
    contacts_cap: int = DEFAULT_NEW_CONTACTS_PER_MESSAGE,
    indexed: Mapping[int, IndexedText] | None = None,
) -> list[int]:
    """Turn parsed messages (with their stored raw ids) into contacts, threads, messages, tickets and
    timeline events, in bulk: a constant number of statements per batch (plus the support desk's work on
    agents' replies and new tickets). Returns the new message ids. `indexed`: search terms already made for
    some messages, by raw id.

    History (`live` False) is replayed at its own times but causes no mail: no acknowledgement, auto-reply,
    notification, relay or campaign enrolment, and it re-opens nothing now (see services/desk/history.py)."""
    if not items:
        return []
    desk = support or Support(Desk(agents=(), mailboxes={}, secret=None))
    meanings = [understand(message, mailbox, team, now, analysis) for _, message, analysis in items]
    meanings = admitted(tx, mailbox, team, [m for _, m, _ in items], meanings, reply_secret, contacts_cap)
    prepared = desk.prepare(tx, mailbox, [(message, analysis) for _, message, analysis in items], now)
    people: dict[str, Address] = {}
    for meaning in meanings:
        for person in meaning.participants:
            people.setdefault(person.email, person)
    contact_ids = tx.ensure_contacts(list(people.values()), now)

    forced = {i: p.thread_id for i, p in enumerate(prepared) if p is not None and p.thread_id is not None}
    thread_of = assign_threads(
        tx, mailbox, [(raw_id, message) for raw_id, message, _ in items], meanings, contact_ids, reply_secret, forced
    )
    rows = [
        NewMessage(
            raw_id,
            thread_of[i],
            contact_ids.get(meaning.contact.email) if meaning.contact else None,
            mailbox.name,
            message,
            meaning,
            analysis,
            now,
        )
        for i, ((raw_id, message, analysis), meaning) in enumerate(zip(items, meanings, strict=True))
    ]
    for i, ready in enumerate(prepared):
        if ready is not None:
            # an agent's relayed reply belongs to the ticket's customer; our own mail come back is kept, not used
            contact_id = ready.contact_id if ready.ticket is not None else rows[i].contact_id
            rows[i] = replace(rows[i], role=ready.role, ignored=ready.ignored, contact_id=contact_id)
    decisions: list[Decision | None] = [None] * len(rows)
    if routing is not None:
        decisions = list(decide(tx, routing, mailbox, rows))
        rows = [
            replace(row, decision=as_record(d), ignored=row.ignored or d.ignore) if d is not None else row
            for row, d in zip(rows, decisions, strict=True)
        ]
    tickets = tx.tickets_for_threads({row.thread_id for row in rows})
    new_thread_ids = set(thread_of.values()) - set(tickets)
    openers: dict[int, int] = {}  # thread id → index of the row that opens its ticket
    for index, row in enumerate(rows):
        starts = row.thread_id in new_thread_ids and row.thread_id not in openers
        wanted = opens_ticket(mailbox.kind, row.direction, starts)
        ruled = decisions[index]
        if ruled is not None and ruled.open_ticket is not None:
            # a rule may open a ticket on any mailbox, or keep one closed; only a new inbound conversation
            wanted = ruled.open_ticket and starts and row.direction is Direction.INBOUND
        if row.thread_id not in tickets and wanted and not _automatic(row) and not row.ignored:
            openers[row.thread_id] = index
        new_thread_ids.discard(row.thread_id)
    assigner = Assigner(tx, routing) if routing is not None else None
    new_tickets = []
    for i in openers.values():
        ruled = decisions[i]
        queue = (ruled.queue if ruled else None) or mailbox.name
        assignee = assigner.assign(queue, ruled.assignee) if assigner and ruled else None
        priority = (ruled.priority if ruled else None) or "normal"
        row = rows[i]
        due = desk.desk.due_for(priority, row.sent_at)
        new_tickets.append(
            NewTicket(
                row.thread_id,
                mailbox.name,
                row.contact_id,
                subject_line(row),
                row.sent_at,
                queue,
                priority,
                assignee,
                due.first_response,
                due.resolution,
            )
        )
    opened = tx.open_tickets(new_tickets)
    opened_at = dict(zip(openers.values(), opened, strict=True))
    # an agent's reply that comes in the same batch as the ticket's first message is seen too
    on_ticket = {**tickets, **{rows[i].thread_id: (t, TicketStatus.NEW) for i, t in opened_at.items()}}
    rows = [desk.observe(mailbox, row, on_ticket) for row in rows]
    rows = desk.authenticate(tx, mailbox, rows, prepared, on_ticket, live, now)  # forged agent mail: never obeyed
    seen_before: set[int] = set()
    last_outbound: dict[int, datetime] = {}
    if scoring is not None or not live:
        seen_before = tx.contacts_with_messages(set(contact_ids.values()))
    if scoring is not None:
        last_outbound = tx.last_outbound_at({r.thread_id for r in rows})
    message_ids = tx.add_messages(rows)
    tx.mark_undeliverable(
        sorted(
            {
                b.email
                for row in rows
                if row.analysis and row.meaning.kind is Kind.BOUNCE
                for b in row.analysis.bounce
                if b.hard
            }
        )
    )

    events: list[NewEvent] = []
    if routing is not None or scoring is not None:
        # scores and stages of the whole batch worked out in memory, written with one statement per table
        ledger = ScoreLedger(
            tx, scoring.half_life if scoring else None, {r.contact_id for r in rows if r.contact_id is not None}
        )
        if routing is not None:
            events += contact_effects(tx, rows, message_ids, decisions, ledger, routing.first_deal_stage)
        if scoring is not None:
            events += score_messages(ledger, scoring, rows, message_ids, set(opened_at), seen_before, last_outbound)
        ledger.flush()
    # The batch's tickets in one query, kept as they are now: the desk updates what a customer's reply
    # changes, and a ticket anything else acts on is read again afterwards.
    # History reads and writes them through a book: once each per batch, however many messages it holds.
    batch_tickets = [ticket_id for ticket_id, _ in tickets.values()] + list(opened)
    current = tx.tickets_by_id(batch_tickets)
    book = TicketBook(tx, {} if live else current)
    notices = Notices()
    from_history = set(opened) if live else tx.history_tickets(t for t, _ in tickets.values()) | set(opened)
    for index, (row, message_id, meaning) in enumerate(zip(rows, message_ids, meanings, strict=True)):
        ready = prepared[index]
        if live and row.role == "refused" and ready is not None and ready.refusal is not None:
            desk.refused(tx, mailbox, row.message, ready.refusal, now)
        if row.ignored:
            continue  # kept, raw and parsed, but a rule said it is not worth anyone's attention
        summary = subject_line(row)
        events.extend(
            NewEvent(
                contact_ids[p.email], row.sent_at, event_kind(row), event_summary(row, p.email), message_id=message_id
            )
            for p in meaning.participants
        )
        ruled = decisions[index]
        if index in opened_at:
            ticket_id = opened_at[index]
            tickets[row.thread_id] = (ticket_id, TicketStatus.NEW)
            if row.contact_id is not None:
                events.append(
                    NewEvent(
                        row.contact_id,
                        row.sent_at,
                        "ticket_opened",
                        f"Ticket #{ticket_id} opened: {summary}",
                        ticket_id=ticket_id,
                    )
                )
            if live:
                events += desk.opened(tx, mailbox, row, message_id, ticket_id, now, current, notices)
        elif row.thread_id in tickets and row.role not in (None, UNVERIFIED):
            ticket_id = tickets[row.thread_id][0]
            current.pop(ticket_id, None)
            events += (
                desk.agent_wrote(tx, mailbox, row, message_id, ticket_id, ready, now)
                if live
                else desk.agent_wrote_before(tx, row, message_id, ticket_id, ready, ticket_id in from_history, book)
            )
        elif row.thread_id in tickets and row.direction is Direction.INBOUND and not _automatic(row):
            # Auto-replies and bounces never count as the customer answering.
            ticket_id = tickets[row.thread_id][0]
            events += (
                desk.customer_wrote(tx, row, message_id, ticket_id, now, current, notices)
                if live
                else desk.customer_wrote_before(row, ticket_id, ticket_id in from_history, book)
            )
        if live and ruled is not None and ruled.auto_replies and row.direction is Direction.INBOUND:
            events += desk.rule_replies(tx, mailbox, row, ruled.auto_replies, now)
    desk.send_notices(tx, notices, now)  # one per ticket and agent, however many messages it got
    touched = {tickets[row.thread_id][0] for row in rows if row.thread_id in tickets and not row.ignored}
    involved = {
        contact_ids[p.email] for row, m in zip(rows, meanings, strict=True) if not row.ignored for p in m.participants
    }
    if live:
        tx.end_history(touched, involved)  # live mail: from now on these tickets and contacts are live
    else:
        events += desk.settle(book, touched & from_history, now)
        tx.mark_history(opened, involved - seen_before)
    if outreach is not None:
        enrolments = [
            (row.contact_id, name)
            for row, ruled in zip(rows, decisions, strict=True)
            if live and ruled is not None and row.contact_id is not None and not row.ignored
            for name in ruled.enrol
        ]
        events += outreach.after_messages(tx, rows, message_ids, enrolments, now, history=not live)
    made = indexed or {}
    terms = {m: made[raw_id] for (raw_id, _, _), m in zip(items, message_ids, strict=True) if raw_id in made}
    events += record_stored(tx, message_ids, contact_ids.values(), now, terms)  # search index, new contacts
    tx.add_events(events)
    return message_ids


def _automatic(row: NewMessage) -> bool:
    return row.analysis is not None and row.analysis.automatic
