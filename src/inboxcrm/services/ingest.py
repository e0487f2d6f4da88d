"""Fetched messages → stored facts, exactly once.

The contract (see README "Never lose mail"):
- raw bytes are stored, keyed by place (mailbox, folder, UIDVALIDITY, UID) and by content hash, in the
  same transaction that advances the folder cursor and records what the message means;
- a message that cannot be understood is kept raw and quarantined with its reason; the batch goes on;
- the source is told to flag/move messages only after that transaction has committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from inboxcrm.core.admission import DEFAULT_NEW_CONTACTS_PER_MESSAGE
from inboxcrm.core.analysis import Analysis
from inboxcrm.core.classify import Kind
from inboxcrm.core.conversations import ThreadLinker, thread_keys, ticket_token
from inboxcrm.core.model import Address, Direction, MailboxProfile, Message, Team, TicketStatus
from inboxcrm.core.ports import (
    FetchedMessage,
    IngestTransaction,
    MailSource,
    NamedMailSource,
    NewEvent,
    NewMessage,
    NewThread,
    NewTicket,
    RawItem,
    Store,
    StoreUnavailable,
)
from inboxcrm.core.reading import Reading, read_many
from inboxcrm.core.reply_tokens import thread_in_recipients
from inboxcrm.core.rules import Decision
from inboxcrm.core.subjects import has_reply_prefix, normalise_subject
from inboxcrm.core.tickets import opens_ticket
from inboxcrm.core.understanding import Understanding, understand
from inboxcrm.services import places
from inboxcrm.services.outreach import Outreach
from inboxcrm.services.patience import Sleep, patiently
from inboxcrm.services.people import admitted
from inboxcrm.services.reading import Pending, Reader
from inboxcrm.services.routing import Assigner, Routing, as_record, contact_effects, decide
from inboxcrm.services.scoring import Scoring, score_messages
from inboxcrm.services.support import Desk, Support

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass
class IngestResult:
    """What one batch (or a whole sync) did. `fetched` = `stored` + `duplicates` + `quarantined`."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.fetched += other.fetched
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.errors.extend(other.errors)


@dataclass(frozen=True, slots=True)
class _Parsed:
    fetched: FetchedMessage
    content_hash: str
    message: Message | None
    analysis: Analysis | None
    problem: str | None


def _pair(batch: Sequence[FetchedMessage], readings: Sequence[Reading]) -> list[_Parsed]:
    return [_Parsed(f, r.content_hash, r.message, r.analysis, r.problem) for f, r in zip(batch, readings, strict=True)]


class IngestService:
    """Stores batches of fetched messages and understands them."""

    def __init__(
        self,
        store: Store,
        team: Team,
        clock: Clock,
        reader: Reader | None = None,
        reply_secret: bytes | None = None,
        routing: Callable[[], Routing | None] = lambda: None,
        scoring: Scoring | None = None,
        support: Support | None = None,
        outreach: Outreach | None = None,
        new_contacts_per_message: int = DEFAULT_NEW_CONTACTS_PER_MESSAGE,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._store = store
        self._sleep = sleep  # while the database is unavailable (see services/patience.py)
        self._contacts_cap = new_contacts_per_message
        self._support = support
        self._outreach = outreach
        self._team = team
        self._clock = clock
        self._reader = reader or Reader()
        self._reply_secret = reply_secret
        self._routing = routing  # asked per batch, so a reloaded rule set applies from the next batch
        self._scoring = scoring

    def sync_folder(
        self,
        source: MailSource | NamedMailSource,
        mailbox: MailboxProfile,
        folder: str,
        batch_size: int,
        progress: Callable[[int], object] | None = None,
    ) -> IngestResult:
        """Fetch everything new in `folder` since the stored cursor and ingest it batch by batch.

        `progress` is called with how far it got (the last UID done, or for file sources how many messages
        are stored): first before anything is read, then after each batch.
        """
        total = IngestResult()
        uidvalidity = source.uidvalidity(folder)
        done, batches = places.start(self._store, source, mailbox, folder, batch_size)
        if progress:
            progress(done)

        def store(batch: list[FetchedMessage], readings: Pending) -> None:
            nonlocal done
            total.add(self._store_batch(mailbox, folder, uidvalidity, _pair(batch, readings())))
            source.after_commit(folder, [item.uid for item in batch])
            if progress:
                done = done + len(batch) if batch[0].name else max(item.uid for item in batch)
                progress(done)

        # A pipeline: batch k is parsed (in worker processes when configured) while batch k+1 is fetched.
        waiting: tuple[list[FetchedMessage], Pending] | None = None
        for batch in batches:
            if not batch:
                continue
            submitted = (batch, self._reader.submit([item.raw for item in batch]))
            if waiting is not None:
                store(*waiting)
            waiting = submitted
        if waiting is not None:
            store(*waiting)
        return total

    def ingest_batch(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, batch: Sequence[FetchedMessage]
    ) -> IngestResult:
        """Store and understand `batch` in one transaction; on a database error, one message at a time."""
        if not batch:
            return IngestResult()
        readings = read_many([m.raw for m in batch], self._reader.max_bytes)
        return self._store_batch(mailbox, folder, uidvalidity, _pair(batch, readings))

    def _store_batch(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, parsed: Sequence[_Parsed]
    ) -> IngestResult:
        """The batch in one transaction; when the database refuses it, one message at a time, quarantining
        what it refuses. A database that is unavailable (locked, full, gone) refuses nothing: the same work
        is done again after a wait, and after a minute the error goes up (nothing was committed)."""
        where = f"mailbox {mailbox.name} folder {folder}"

        def store(some: Sequence[_Parsed]) -> IngestResult:
            return patiently(lambda: self._ingest(mailbox, folder, uidvalidity, some), self._sleep, where)

        try:
            return store(parsed)
        except StoreUnavailable:
            raise
        except Exception as exc:
            log.warning("%s: batch of %d failed (%s); retrying one message at a time", where, len(parsed), exc)
        total = IngestResult()
        for one in parsed:
            try:
                total.add(store([one]))
            except StoreUnavailable:
                raise
            except Exception as exc:
                reason = f"could not be stored as understood: {type(exc).__name__}: {exc}"
                log.error("%s: %s: %s", where, one.fetched.name or one.fetched.uid, reason)
                held = _Parsed(one.fetched, one.content_hash, None, None, reason[:2000])
                total.add(store([held]))
        return total

    def _ingest(
        self, mailbox: MailboxProfile, folder: str, uidvalidity: int, parsed: Sequence[_Parsed]
    ) -> IngestResult:
        now = self._clock()
        result = IngestResult()
        with self._store.transaction() as tx:
            cursor = tx.lock_cursor(mailbox.name, folder)
            new = places.new_in_batch(tx, mailbox.name, folder, cursor, uidvalidity, [p.fetched for p in parsed])
            parsed = [replace(p, fetched=fetched) for p, fetched in zip(parsed, new, strict=True) if fetched]
            if not parsed:
                return result
            items = {
                p.content_hash: RawItem(p.content_hash, p.message.message_id if p.message else None, p.fetched.raw)
                for p in parsed
            }
            raw_ids = tx.store_raw(list(items.values()), now)
            seen = [(p.fetched, raw_ids[p.content_hash]) for p in parsed]
            places.link(tx, mailbox.name, folder, uidvalidity, seen, now)
            done = tx.raws_with_messages(raw_ids.values()) | tx.raws_in_quarantine(raw_ids.values())
            understood: list[tuple[int, Message, Analysis | None]] = []
            for p in parsed:
                raw_id = raw_ids[p.content_hash]
                result.fetched += 1
                if raw_id in done:
                    result.duplicates += 1
                    continue
                done.add(raw_id)
                if p.message is None or p.problem is not None:
                    tx.quarantine(raw_id, mailbox.name, p.problem or "unreadable", now)
                    result.quarantined += 1
                    result.errors.append(f"{p.fetched.name or f'uid {p.fetched.uid}'}: {p.problem}")
                    continue
                understood.append((raw_id, p.message, p.analysis))
            record_messages(
                tx,
                mailbox,
                self._team,
                understood,
                now,
                self._reply_secret,
                self._routing(),
                self._scoring,
                self._support,
                self._outreach,
                self._contacts_cap,
            )
            result.stored += len(understood)
            last_uid = max(p.fetched.uid for p in parsed)
            if cursor is None or cursor.uidvalidity != uidvalidity or last_uid > cursor.last_uid:
                tx.set_cursor(mailbox.name, folder, uidvalidity, last_uid, now)
        return result


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
    contacts_cap: int = DEFAULT_NEW_CONTACTS_PER_MESSAGE,
) -> list[int]:
    """Turn parsed messages (with their stored raw ids) into contacts, threads, messages, tickets and
    timeline events, in bulk: a constant number of statements per batch (plus the support desk's work on
    agents' replies and new tickets). Returns the new message ids."""
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
    thread_of = _assign_threads(
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
    rows = [desk.observe(mailbox, row, tickets) for row in rows]
    seen_before: set[int] = set()
    last_outbound: dict[int, datetime] = {}
    if scoring is not None:
        seen_before = tx.contacts_with_messages({r.contact_id for r in rows if r.contact_id is not None})
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
                _summary(row),
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

    events: list[NewEvent] = (
        contact_effects(
            tx, rows, message_ids, decisions, routing.first_deal_stage, scoring.half_life if scoring else None
        )
        if routing is not None
        else []
    )
    if scoring is not None:
        events += score_messages(tx, scoring, rows, message_ids, set(opened_at), seen_before, last_outbound)
    for index, (row, message_id, meaning) in enumerate(zip(rows, message_ids, meanings, strict=True)):
        ready = prepared[index]
        if row.role == "refused" and ready is not None and ready.refusal is not None:
            desk.refused(tx, mailbox, row.message, ready.refusal, now)
        if row.ignored:
            continue  # kept, raw and parsed, but a rule said it is not worth anyone's attention
        summary = _summary(row)
        events.extend(
            NewEvent(
                contact_ids[p.email], row.sent_at, _event_kind(row), _event_summary(row, p.email), message_id=message_id
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
            events += desk.opened(tx, mailbox, row, message_id, ticket_id, now)
        elif row.thread_id in tickets and row.role is not None:
            events += desk.agent_wrote(tx, mailbox, row, message_id, tickets[row.thread_id][0], ready, now)
        elif row.thread_id in tickets and row.direction is Direction.INBOUND and not _automatic(row):
            # Auto-replies and bounces never count as the customer answering.
            events += desk.customer_wrote(tx, row, message_id, tickets[row.thread_id][0], now)
        if ruled is not None and ruled.auto_replies and row.direction is Direction.INBOUND:
            events += desk.rule_replies(tx, mailbox, row, ruled.auto_replies, now)
    if outreach is not None:
        enrolments = [
            (row.contact_id, name)
            for row, ruled in zip(rows, decisions, strict=True)
            if ruled is not None and row.contact_id is not None and not row.ignored
            for name in ruled.enrol
        ]
        events += outreach.after_messages(tx, rows, message_ids, enrolments, now)
    tx.add_events(events)
    return message_ids


def _automatic(row: NewMessage) -> bool:
    return row.analysis is not None and row.analysis.automatic


def _event_kind(row: NewMessage) -> str:
    kind = row.meaning.kind
    if kind is Kind.BOUNCE:
        return "bounce"
    if kind is Kind.AUTO_REPLY:
        return "auto_reply"
    return "message_in" if row.direction is Direction.INBOUND else "message_out"


def _event_summary(row: NewMessage, email: str) -> str:
    if row.meaning.kind is Kind.BOUNCE and row.analysis is not None:
        for bounced in row.analysis.bounce:
            if bounced.email == email:
                how = "hard" if bounced.hard else "soft"
                return f"Mail to {email} bounced ({how}, {bounced.status or 'no status'}): {bounced.diagnostic}"[:500]
    if row.meaning.forwarded_by is not None:
        return f"{_summary(row)} (forwarded by {row.meaning.forwarded_by.email})"
    return _summary(row)


def _summary(row: NewMessage) -> str:
    return row.message.subject or "(no subject)"


SUBJECT_WINDOW = timedelta(days=14)


def _assign_threads(
    tx: IngestTransaction,
    mailbox: MailboxProfile,
    items: Sequence[tuple[int, Message]],
    meanings: Sequence[Understanding],
    contact_ids: Mapping[str, int],
    reply_secret: bytes | None,
    forced: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Item index → thread id, JWZ-style (see core/conversations.py), with fallbacks for a message that
    names no known message: a signed reply token in a plus address of the shared address (trusted: it is
    signed), a ticket token in the subject, then the same normalised reply subject within
    `SUBJECT_WINDOW` — both only in threads the sender already takes part in, so an outsider who quotes a
    subject never joins someone else's ticket. New threads are created in one statement."""
    keys = [thread_keys(message) for _, message in items]
    known = tx.threads_for({key for group in keys for key in group})
    linker = ThreadLinker()
    fresh: dict[int, NewThread] = {}
    by_subject: dict[tuple[str, int], int] = {}  # threads of this batch, for the subject fallback
    assigned: dict[int, int] = {}
    latest: dict[int, datetime] = {}
    claimed: list[str] = []  # keys this batch ties to a thread for the first time
    for index, ((_, message), meaning) in enumerate(zip(items, meanings, strict=True)):
        hits = [known[key] for key in keys[index] if key in known]
        if forced and index in forced:
            hits = [forced[index]]  # an agent's reply through a ticket's relay address: that ticket's thread
        contact_id = contact_ids.get(meaning.contact.email) if meaning.contact else None
        subject_key = normalise_subject(message.subject)[:255]
        if not hits and reply_secret is not None:
            recipients = [a.email for a in message.to + message.cc]
            signed = thread_in_recipients(recipients, mailbox.addresses, reply_secret)
            if signed is not None and tx.thread_exists(signed):
                hits = [signed]
        if not hits and contact_id is not None:
            token = ticket_token(message.subject)
            found = tx.thread_of_ticket(token, contact_id) if token is not None else None
            if found is None and subject_key and has_reply_prefix(message.subject):
                found = by_subject.get((subject_key, contact_id)) or tx.thread_by_subject(
                    mailbox.name, subject_key, contact_id, meaning.sent_at - SUBJECT_WINDOW
                )
            if found is not None:
                hits = [found]
        if hits:
            thread_id = hits[0]
            for other in hits[1:]:
                thread_id = linker.join(thread_id, other)
            thread_id = linker.find(thread_id)
        else:
            thread_id = -(len(fresh) + 1)
            fresh[thread_id] = NewThread(message.subject, mailbox.name, meaning.sent_at, subject_key)
        for key in keys[index]:
            if key not in known:
                known[key] = thread_id
                claimed.append(key)
        if contact_id is not None and subject_key:
            by_subject.setdefault((subject_key, contact_id), thread_id)
        assigned[index] = thread_id
    roots = sorted({linker.find(t) for t in fresh if linker.find(t) < 0}, reverse=True)
    created = dict(zip(roots, tx.new_threads([fresh[r] for r in roots]), strict=True))

    def real(thread_id: int) -> int:
        root = linker.find(thread_id)
        return created[root] if root < 0 else root

    moves = linker.merged()
    if moves:
        tx.merge_threads(moves)
    tx.map_threads([(key, real(known[key])) for key in claimed])
    for index, (_, meaning) in enumerate(zip(items, meanings, strict=True)):
        thread_id = real(assigned[index])
        if thread_id not in latest or latest[thread_id] < meaning.sent_at:
            latest[thread_id] = meaning.sent_at
    tx.touch_threads({t: at for t, at in latest.items() if t not in created.values()})
    return {index: real(tid) for index, tid in assigned.items()}
