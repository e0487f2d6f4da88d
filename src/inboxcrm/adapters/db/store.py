"""SQLAlchemy implementation of the services' store ports, for SQLite and PostgreSQL.

Bulk statements throughout: an ingest batch of a few hundred messages costs a handful of round trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.access import AccessStatements
from inboxcrm.adapters.db.claims import ClaimStatements
from inboxcrm.adapters.db.errors import is_transient
from inboxcrm.adapters.db.outreach import OutreachStatements
from inboxcrm.adapters.db.people import PeopleStatements
from inboxcrm.adapters.db.places import PlaceStatements
from inboxcrm.adapters.db.privacy import PrivacyStatements
from inboxcrm.core.addresses import company_domain, company_name
from inboxcrm.core.model import Address, TicketStatus
from inboxcrm.core.ports import (
    ContactState,
    CustomerMessage,
    FolderCursor,
    NewEvent,
    NewMail,
    NewMessage,
    NewThread,
    NewTicket,
    QuarantinedRaw,
    QueuedMail,
    RawItem,
    StoreUnavailable,
)
from inboxcrm.core.scoring import decayed
from inboxcrm.core.tickets import Ticket

_CHUNK = 500  # keeps IN (...) lists under SQLite's and PostgreSQL's parameter limits


def make_engine(url: str, echo: bool = False, busy_timeout: float = 30) -> Engine:
    """An engine with the settings we rely on (SQLite: WAL, foreign keys, a busy timeout)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime we store is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _address_json(addresses: Sequence[Address]) -> list[dict[str, str]]:
    return [{"email": a.email, "name": a.name} for a in addresses]


def _analysis_columns(row: NewMessage) -> dict[str, Any]:
    a, meaning = row.analysis, row.meaning
    forwarded = meaning.forwarded_by is not None
    return {
        "kind": meaning.kind.value,
        "new_text": a.segments.new_text if a else None,
        "quoted_text": a.segments.quoted if a else None,
        "signature": a.segments.signature if a else None,
        "forwarded_text": a.segments.forwarded if a else None,
        "bounce": [{"email": b.email, "status": b.status, "hard": b.hard, "diagnostic": b.diagnostic} for b in a.bounce]
        if a and a.bounce
        else None,
        "original_from_email": meaning.contact.email if forwarded and meaning.contact else None,
        "forwarded_by": meaning.forwarded_by.email if meaning.forwarded_by else None,
        "forward_confidence": meaning.forward_confidence,
    }


class SqlTransaction(
    OutreachStatements, AccessStatements, PrivacyStatements, PlaceStatements, PeopleStatements, ClaimStatements
):
    """One open transaction on `connection` (see `services.ports.IngestTransaction`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._dialect = connection.dialect.name

    def _insert_ignore(self, table: Any) -> Any:
        """INSERT … ON CONFLICT DO NOTHING: several daemons may race to create the same row."""
        if self._dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()

    def _insert_ids(self, table: Any, values: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert `values` in one statement; the new ids, in the order of `values`."""
        if not values:
            return []
        result = self.connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
        return [int(i) for i in result.scalars()]

    # cursors
    def lock_cursor(self, mailbox: str, folder: str) -> FolderCursor | None:
        query = select(t.folder_cursors.c.uidvalidity, t.folder_cursors.c.last_uid).where(
            t.folder_cursors.c.mailbox == mailbox, t.folder_cursors.c.folder == folder
        )
        if self._dialect == "postgresql":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return FolderCursor(row.uidvalidity, row.last_uid) if row else None

    def set_cursor(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        values = {"uidvalidity": uidvalidity, "last_uid": last_uid, "updated_at": now}
        changed = self.connection.execute(
            update(t.folder_cursors)
            .where(t.folder_cursors.c.mailbox == mailbox, t.folder_cursors.c.folder == folder)
            .values(**values)
        ).rowcount
        if not changed:
            self.connection.execute(insert(t.folder_cursors).values(mailbox=mailbox, folder=folder, **values))

    # raw bytes
    def store_raw(self, items: Sequence[RawItem], now: datetime) -> dict[str, int]:
        hashes = [item.content_hash for item in items]
        found = self._raw_ids(hashes)
        missing = [item for item in items if item.content_hash not in found]
        if missing:
            self.connection.execute(
                self._insert_ignore(t.raw_messages),
                [
                    {
                        "content_hash": i.content_hash,
                        "message_id": i.message_id,
                        "size": len(i.raw),
                        "raw": i.raw,
                        "first_seen_at": now,
                    }
                    for i in missing
                ],
            )
            found.update(self._raw_ids([i.content_hash for i in missing]))
        return found

    def _raw_ids(self, hashes: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(hashes):
            rows = self.connection.execute(
                select(t.raw_messages.c.content_hash, t.raw_messages.c.id).where(
                    t.raw_messages.c.content_hash.in_(chunk)
                )
            )
            found.update({row.content_hash: row.id for row in rows})
        return found

    def link_locations(
        self, mailbox: str, folder: str, uidvalidity: int, places: Sequence[tuple[int, int]], now: datetime
    ) -> None:
        if places:
            self.connection.execute(
                self._insert_ignore(t.message_locations),
                [
                    {
                        "raw_id": raw_id,
                        "mailbox": mailbox,
                        "folder": folder,
                        "uidvalidity": uidvalidity,
                        "uid": uid,
                        "seen_at": now,
                    }
                    for uid, raw_id in places
                ],
            )

    def _ids_present(self, column: Any, ids: Iterable[int]) -> set[int]:
        wanted = list(set(ids))
        present: set[int] = set()
        for chunk in _chunks(wanted):
            present.update(self.connection.execute(select(column).where(column.in_(chunk))).scalars())
        return present

    def raws_with_messages(self, raw_ids: Iterable[int]) -> set[int]:
        return self._ids_present(t.messages.c.raw_id, raw_ids)

    def raws_in_quarantine(self, raw_ids: Iterable[int]) -> set[int]:
        return self._ids_present(t.quarantine.c.raw_id, raw_ids)

    # contacts and companies
    def ensure_contacts(self, addresses: Sequence[Address], now: datetime) -> dict[str, int]:
        if not addresses:
            return {}
        domains = sorted({d for a in addresses if (d := company_domain(a.email))})
        company_ids: dict[str, int] = {}
        if domains:
            self.connection.execute(
                self._insert_ignore(t.companies),
                [{"domain": d, "name": company_name(d), "created_at": now} for d in domains],
            )
            for chunk in _chunks(domains):
                rows = self.connection.execute(
                    select(t.companies.c.domain, t.companies.c.id).where(t.companies.c.domain.in_(chunk))
                )
                company_ids.update({row.domain: row.id for row in rows})
        emails = [a.email for a in addresses]
        existing: dict[str, tuple[int, str]] = {}
        # A merged contact keeps every address it was known by: those resolve to the surviving contact.
        for chunk in _chunks(emails):
            rows = self.connection.execute(
                select(t.contact_aliases.c.email, t.contacts.c.id, t.contacts.c.name)
                .join(t.contacts, t.contacts.c.id == t.contact_aliases.c.contact_id)
                .where(t.contact_aliases.c.email.in_(chunk))
            )
            existing.update({row.email: (row.id, row.name) for row in rows})
        for chunk in _chunks([e for e in emails if e not in existing]):
            rows = self.connection.execute(
                select(t.contacts.c.email, t.contacts.c.id, t.contacts.c.name).where(t.contacts.c.email.in_(chunk))
            )
            existing.update({row.email: (row.id, row.name) for row in rows})
        new = [a for a in addresses if a.email not in existing]
        if new:
            self.connection.execute(
                self._insert_ignore(t.contacts),
                [
                    {
                        "email": a.email,
                        "name": a.name[:255],
                        "undeliverable": False,
                        "company_id": company_ids.get(company_domain(a.email) or ""),
                        "created_at": now,
                    }
                    for a in new
                ],
            )
            for chunk in _chunks([a.email for a in new]):
                rows = self.connection.execute(
                    select(t.contacts.c.email, t.contacts.c.id, t.contacts.c.name).where(t.contacts.c.email.in_(chunk))
                )
                existing.update({row.email: (row.id, row.name) for row in rows})
        for address in addresses:
            contact_id, name = existing[address.email]
            if not name and address.name:  # learn a name we did not have
                self.connection.execute(
                    update(t.contacts).where(t.contacts.c.id == contact_id).values(name=address.name[:255])
                )
                existing[address.email] = (contact_id, address.name)
        return {email: ids[0] for email, ids in existing.items()}

    def mark_undeliverable(self, emails: Sequence[str]) -> None:
        if emails:
            self.connection.execute(
                update(t.contacts).where(t.contacts.c.email.in_(list(emails))).values(undeliverable=True)
            )

    def contact_states(self, contact_ids: Iterable[int]) -> dict[int, ContactState]:
        wanted = list(set(contact_ids))
        tags: dict[int, set[str]] = {i: set() for i in wanted}
        found: dict[int, ContactState] = {}
        for chunk in _chunks(wanted):
            for row in self.connection.execute(
                select(t.contact_tags.c.contact_id, t.contact_tags.c.tag).where(t.contact_tags.c.contact_id.in_(chunk))
            ):
                tags[row.contact_id].add(row.tag)
            for contact in self.connection.execute(
                select(t.contacts.c.id, t.contacts.c.score, t.contacts.c.stage).where(t.contacts.c.id.in_(chunk))
            ):
                found[contact.id] = ContactState(frozenset(tags[contact.id]), float(contact.score), contact.stage)
        return found

    def change_tags(self, contact_id: int, added: Iterable[str], removed: Iterable[str]) -> None:
        gone = list(removed)
        if gone:
            self.connection.execute(
                t.contact_tags.delete().where(t.contact_tags.c.contact_id == contact_id, t.contact_tags.c.tag.in_(gone))
            )
        new = [{"contact_id": contact_id, "tag": tag} for tag in added]
        if new:
            self.connection.execute(self._insert_ignore(t.contact_tags), new)

    def add_score_changes(
        self,
        contact_id: int,
        at: datetime,
        changes: Sequence[tuple[float, str]],
        message_id: int | None,
        half_life: timedelta | None = None,
    ) -> float:
        """Record the points (kept as history) and return the contact's new score, decayed up to `at`."""
        self.connection.execute(
            insert(t.score_changes),
            [
                {"contact_id": contact_id, "at": at, "points": points, "reason": reason, "message_id": message_id}
                for points, reason in changes
            ],
        )
        row = self.connection.execute(
            select(t.contacts.c.score, t.contacts.c.score_at).where(t.contacts.c.id == contact_id)
        ).one()
        since = aware(row.score_at) if row.score_at is not None else at
        score = decayed(float(row.score), since, max(at, since), half_life) + sum(p for p, _ in changes)
        self.connection.execute(
            update(t.contacts).where(t.contacts.c.id == contact_id).values(score=score, score_at=max(at, since))
        )
        return score

    def contacts_with_messages(self, contact_ids: Iterable[int]) -> set[int]:
        return self._ids_present(t.messages.c.contact_id, contact_ids)

    def last_outbound_at(self, thread_ids: Iterable[int]) -> dict[int, datetime]:
        wanted = list(set(thread_ids))
        found: dict[int, datetime] = {}
        for chunk in _chunks(wanted):
            rows = self.connection.execute(
                select(t.messages.c.thread_id, func.max(t.messages.c.sent_at))
                .where(t.messages.c.thread_id.in_(chunk), t.messages.c.direction == "out")
                .group_by(t.messages.c.thread_id)
            )
            found.update({row[0]: aware(row[1]) for row in rows})
        return found

    def decay_scores(self, now: datetime, half_life: timedelta) -> int:
        """Bring every non-zero score up to `now`; returns how many contacts changed."""
        rows = self.connection.execute(
            select(t.contacts.c.id, t.contacts.c.score, t.contacts.c.score_at).where(
                t.contacts.c.score != 0, t.contacts.c.score_at.is_not(None), t.contacts.c.score_at < now
            )
        ).all()
        if rows:
            self.connection.execute(
                update(t.contacts)
                .where(t.contacts.c.id == bindparam("cid"))
                .values(score=bindparam("new_score"), score_at=bindparam("new_at")),
                [
                    {
                        "cid": r.id,
                        "new_score": decayed(float(r.score), aware(r.score_at), now, half_life),
                        "new_at": now,
                    }
                    for r in rows
                ],
            )
        return len(rows)

    def set_stage(self, contact_id: int, stage: str) -> str | None:
        previous = self.connection.execute(select(t.contacts.c.stage).where(t.contacts.c.id == contact_id)).scalar()
        if previous != stage:
            self.connection.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(stage=stage))
        return str(previous) if previous is not None else None

    def open_ticket_load(self, agents: Sequence[str]) -> dict[str, int]:
        if not agents:
            return {}
        rows = self.connection.execute(
            select(t.tickets.c.assignee, func.count())
            .where(
                t.tickets.c.assignee.in_(list(agents)),
                t.tickets.c.status.in_([TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.PENDING.value]),
            )
            .group_by(t.tickets.c.assignee)
        )
        return {row[0]: int(row[1]) for row in rows}

    def upsert_deal(
        self, contact_id: int, name: str, value: float | None, stage: str, at: datetime
    ) -> tuple[int, str | None]:
        """Open the deal `name` on the contact's company (or on the contact, for free mail) or move it.
        Returns the deal id and its previous stage (None when it was just opened)."""
        company_id = self.connection.execute(
            select(t.contacts.c.company_id).where(t.contacts.c.id == contact_id)
        ).scalar()
        owner = t.deals.c.company_id == company_id if company_id is not None else t.deals.c.contact_id == contact_id
        found = self.connection.execute(
            select(t.deals.c.id, t.deals.c.stage).where(owner, t.deals.c.name == name)
        ).first()
        if found is None:
            deal_id = self._insert_ids(
                t.deals,
                [{"company_id": company_id, "contact_id": contact_id, "name": name, "value": value, "stage": stage,
                  "created_at": at, "updated_at": at}],
            )[0]  # fmt: skip
            return deal_id, None
        changes: dict[str, Any] = {"stage": stage, "updated_at": at}
        if value is not None:
            changes["value"] = value
        self.connection.execute(update(t.deals).where(t.deals.c.id == found.id).values(**changes))
        return int(found.id), str(found.stage)

    def contact_id_for(self, email: str) -> int | None:
        """The contact an address belongs to, directly or as an alias of a merged contact."""
        found = self.connection.execute(select(t.contacts.c.id).where(t.contacts.c.email == email)).scalar()
        if found is None:
            found = self.connection.execute(
                select(t.contact_aliases.c.contact_id).where(t.contact_aliases.c.email == email)
            ).scalar()
        return int(found) if found is not None else None

    def merge_contacts(self, keep_id: int, other_id: int, now: datetime) -> None:
        """Fold contact `other_id` into `keep_id`: its messages, tickets, timeline and addresses move over."""
        other = self.connection.execute(select(t.contacts).where(t.contacts.c.id == other_id)).first()
        keep = self.connection.execute(select(t.contacts).where(t.contacts.c.id == keep_id)).first()
        if other is None or keep is None:
            raise LookupError(f"no contact {other_id if other is None else keep_id}")
        aliases = [
            other.email,
            *self.connection.execute(
                select(t.contact_aliases.c.email).where(t.contact_aliases.c.contact_id == other_id)
            ).scalars(),
        ]
        self.connection.execute(t.contact_aliases.delete().where(t.contact_aliases.c.contact_id == other_id))
        for table in (t.messages, t.tickets, t.timeline_events):
            self.connection.execute(update(table).where(table.c.contact_id == other_id).values(contact_id=keep_id))
        self.connection.execute(t.contacts.delete().where(t.contacts.c.id == other_id))
        self.connection.execute(
            insert(t.contact_aliases), [{"email": e, "contact_id": keep_id, "created_at": now} for e in aliases]
        )
        self.connection.execute(
            update(t.contacts)
            .where(t.contacts.c.id == keep_id)
            .values(
                name=keep.name or other.name,
                company_id=keep.company_id or other.company_id,
                undeliverable=keep.undeliverable and other.undeliverable,
            )
        )

    # threads
    def threads_for(self, message_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(set(message_ids))
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            rows = self.connection.execute(
                select(t.thread_message_ids.c.message_id, t.thread_message_ids.c.thread_id).where(
                    t.thread_message_ids.c.message_id.in_(chunk)
                )
            )
            found.update({row.message_id: row.thread_id for row in rows})
        return found

    def new_threads(self, threads: Sequence[NewThread]) -> list[int]:
        return self._insert_ids(
            t.threads,
            [
                {
                    "subject": n.subject,
                    "subject_key": n.subject_key,
                    "mailbox": n.mailbox,
                    "created_at": n.at,
                    "last_message_at": n.at,
                }
                for n in threads
            ],
        )

    def map_threads(self, pairs: Sequence[tuple[str, int]]) -> None:
        if pairs:
            self.connection.execute(
                self._insert_ignore(t.thread_message_ids),
                [{"message_id": mid, "thread_id": thread_id} for mid, thread_id in pairs],
            )

    def touch_threads(self, last_message_at: Mapping[int, datetime]) -> None:
        if last_message_at:
            self.connection.execute(
                update(t.threads)
                .where(t.threads.c.id == bindparam("tid"), t.threads.c.last_message_at < bindparam("at"))
                .values(last_message_at=bindparam("at")),
                [{"tid": tid, "at": at} for tid, at in last_message_at.items()],
            )

    def merge_threads(self, moves: Mapping[int, int]) -> None:
        """Move everything of each thread in `moves` to the thread it maps to, then drop the empty thread."""
        for old, new in moves.items():
            for table in (t.messages, t.thread_message_ids, t.tickets):
                self.connection.execute(update(table).where(table.c.thread_id == old).values(thread_id=new))
            self.connection.execute(t.threads.delete().where(t.threads.c.id == old))

    def thread_exists(self, thread_id: int) -> bool:
        return self.connection.execute(select(t.threads.c.id).where(t.threads.c.id == thread_id)).first() is not None

    def _thread_has_contact(self, thread_id: Any, contact_id: int) -> Any:
        return (
            select(t.messages.c.id)
            .where(t.messages.c.thread_id == thread_id, t.messages.c.contact_id == contact_id)
            .exists()
        )

    def thread_of_ticket(self, ticket_id: int, contact_id: int) -> int | None:
        found = self.connection.execute(
            select(t.tickets.c.thread_id).where(
                t.tickets.c.id == ticket_id, self._thread_has_contact(t.tickets.c.thread_id, contact_id)
            )
        ).scalar()
        return int(found) if found is not None else None

    def thread_by_subject(self, mailbox: str, subject_key: str, contact_id: int, since: datetime) -> int | None:
        found = self.connection.execute(
            select(t.threads.c.id)
            .where(
                t.threads.c.subject_key == subject_key,
                t.threads.c.mailbox == mailbox,
                t.threads.c.last_message_at >= since,
                self._thread_has_contact(t.threads.c.id, contact_id),
            )
            .order_by(t.threads.c.last_message_at.desc())
            .limit(1)
        ).scalar()
        return int(found) if found is not None else None

    # messages
    def add_messages(self, rows: Sequence[NewMessage]) -> list[int]:
        if not rows:
            return []
        values = []
        for row in rows:
            m = row.message
            values.append(
                {
                    "raw_id": row.raw_id,
                    "thread_id": row.thread_id,
                    "contact_id": row.contact_id,
                    "mailbox": row.mailbox,
                    "direction": row.direction.value,
                    "message_id": m.message_id,
                    "in_reply_to": m.in_reply_to,
                    "references": list(m.references),
                    "subject": m.subject,
                    "from_email": m.from_.email if m.from_ else None,
                    "from_name": m.from_.name if m.from_ else "",
                    "to": _address_json(m.to),
                    "cc": _address_json(m.cc),
                    "sent_at": row.sent_at,
                    "received_at": row.received_at,
                    "text": m.text,
                    "html": m.html,
                    "attachments": [
                        {"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in m.attachments
                    ],
                    "headers": [[k, v] for k, v in m.headers],
                    "defects": list(m.defects),
                    **_analysis_columns(row),
                    "decision": dict(row.decision) if row.decision is not None else None,
                    "ignored": row.ignored,
                    "role": row.role,
                }
            )
        return self._insert_ids(t.messages, values)

    # tickets
    def tickets_for_threads(self, thread_ids: Iterable[int]) -> dict[int, tuple[int, TicketStatus]]:
        wanted = list(set(thread_ids))
        found: dict[int, tuple[int, TicketStatus]] = {}
        for chunk in _chunks(wanted):
            rows = self.connection.execute(
                select(t.tickets.c.thread_id, t.tickets.c.id, t.tickets.c.status)
                .where(t.tickets.c.thread_id.in_(chunk))
                .order_by(t.tickets.c.id)
            )
            # a thread may hold several tickets (after a merge): the newest one is the live one
            found.update({row.thread_id: (row.id, TicketStatus(row.status)) for row in rows})
        return found

    def open_tickets(self, tickets: Sequence[NewTicket]) -> list[int]:
        return self._insert_ids(
            t.tickets,
            [
                {
                    "thread_id": n.thread_id,
                    "mailbox": n.mailbox,
                    "contact_id": n.contact_id,
                    "subject": n.subject,
                    "status": TicketStatus.NEW.value,
                    "created_at": n.at,
                    "updated_at": n.at,
                    "queue": n.queue,
                    "priority": n.priority,
                    "assignee": n.assignee,
                    "first_response_due": n.first_response_due,
                    "resolution_due": n.resolution_due,
                }
                for n in tickets
            ],
        )

    def set_ticket_status(self, ticket_id: int, status: TicketStatus, at: datetime) -> None:
        self.connection.execute(
            update(t.tickets).where(t.tickets.c.id == ticket_id).values(status=status.value, updated_at=at)
        )

    # timeline
    def add_events(self, events: Sequence[NewEvent]) -> None:
        if events:
            self.connection.execute(
                insert(t.timeline_events),
                [
                    {
                        "contact_id": e.contact_id,
                        "at": e.at,
                        "kind": e.kind,
                        "summary": e.summary,
                        "message_id": e.message_id,
                        "ticket_id": e.ticket_id,
                    }
                    for e in events
                ],
            )

    # the support desk
    def _tickets(self, where: Any, limit: int | None = None, lock: bool = False) -> list[Ticket]:
        tk = t.tickets
        query = select(tk).where(where).order_by(tk.c.id)
        if limit is not None:
            query = query.limit(limit)
        if lock and self._dialect == "postgresql":
            # several daemons share the ticks: each takes tickets nobody else is working on
            query = query.with_for_update(skip_locked=True)
        rows = self.connection.execute(query).all()
        tags: dict[int, set[str]] = {}
        for chunk in _chunks([r.id for r in rows]):
            for tag_row in self.connection.execute(
                select(t.ticket_tags.c.ticket_id, t.ticket_tags.c.tag).where(t.ticket_tags.c.ticket_id.in_(chunk))
            ):
                tags.setdefault(tag_row.ticket_id, set()).add(tag_row.tag)

        def when(value: datetime | None) -> datetime | None:
            return aware(value) if value is not None else None

        return [
            Ticket(
                id=r.id,
                thread_id=r.thread_id,
                mailbox=r.mailbox,
                subject=r.subject,
                status=TicketStatus(r.status),
                priority=r.priority,
                queue=r.queue,
                assignee=r.assignee,
                contact_id=r.contact_id,
                created_at=aware(r.created_at),
                first_response_at=when(r.first_response_at),
                solved_at=when(r.solved_at),
                first_response_due=when(r.first_response_due),
                resolution_due=when(r.resolution_due),
                first_response_breached_at=when(r.first_response_breached_at),
                resolution_breached_at=when(r.resolution_breached_at),
                snoozed_until=when(r.snoozed_until),
                tags=frozenset(tags.get(r.id, ())),
            )
            for r in rows
        ]

    def ticket(self, ticket_id: int) -> Ticket | None:
        found = self._tickets(t.tickets.c.id == ticket_id)
        return found[0] if found else None

    def tickets_needing_attention(self, now: datetime, solved_before: datetime, limit: int) -> list[Ticket]:
        tk = t.tickets
        live = tk.c.status != TicketStatus.CLOSED.value
        return self._tickets(
            or_(
                (tk.c.status == TicketStatus.SOLVED.value) & (tk.c.solved_at <= solved_before),
                (tk.c.status == TicketStatus.PENDING.value) & (tk.c.snoozed_until <= now),
                live
                & tk.c.first_response_at.is_(None)
                & (tk.c.first_response_due <= now)
                & tk.c.first_response_breached_at.is_(None),
                live & tk.c.solved_at.is_(None) & (tk.c.resolution_due <= now) & tk.c.resolution_breached_at.is_(None),
            ),
            limit,
            lock=True,
        )

    def save_ticket(self, ticket: Ticket, at: datetime) -> None:
        self.connection.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket.id)
            .values(
                status=ticket.status.value,
                priority=ticket.priority,
                queue=ticket.queue,
                assignee=ticket.assignee,
                first_response_at=ticket.first_response_at,
                solved_at=ticket.solved_at,
                first_response_due=ticket.first_response_due,
                resolution_due=ticket.resolution_due,
                first_response_breached_at=ticket.first_response_breached_at,
                resolution_breached_at=ticket.resolution_breached_at,
                snoozed_until=ticket.snoozed_until,
                updated_at=at,
            )
        )
        tt = t.ticket_tags
        present = set(self.connection.execute(select(tt.c.tag).where(tt.c.ticket_id == ticket.id)).scalars())
        if present - ticket.tags:
            self.connection.execute(delete(tt).where(tt.c.ticket_id == ticket.id, tt.c.tag.in_(present - ticket.tags)))
        if ticket.tags - present:
            self.connection.execute(
                self._insert_ignore(tt), [{"ticket_id": ticket.id, "tag": tag} for tag in sorted(ticket.tags - present)]
            )

    def last_customer_message(self, thread_id: int) -> CustomerMessage | None:
        m = t.messages
        row = self.connection.execute(
            select(m.c.message_id, m.c.references, m.c.subject, m.c.from_email, m.c.from_name, m.c.headers)
            .add_columns(m.c.sent_at, m.c.new_text, m.c.text)
            .where(
                m.c.thread_id == thread_id,
                m.c.direction == "in",
                m.c.kind == "normal",
                m.c.ignored.is_(False),
                m.c.from_email.is_not(None),
            )
            .order_by(m.c.sent_at.desc(), m.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        reply_to = tuple(
            Address(a.strip().lower())
            for name, value in row.headers
            if name.lower() == "reply-to"
            for a in [parseaddr(value)[1]]
            if "@" in a
        )
        return CustomerMessage(
            row.message_id,
            tuple(row.references or ()),
            row.subject,
            Address(row.from_email, row.from_name),
            reply_to[:1],
            aware(row.sent_at),
            row.new_text if row.new_text is not None else row.text,
        )

    def contact_address(self, contact_id: int) -> Address | None:
        row = self.connection.execute(
            select(t.contacts.c.email, t.contacts.c.name).where(t.contacts.c.id == contact_id)
        ).first()
        return Address(row.email, row.name) if row else None

    def raw_message(self, raw_id: int) -> bytes | None:
        raw = self.connection.execute(select(t.raw_messages.c.raw).where(t.raw_messages.c.id == raw_id)).scalar()
        return bytes(raw) if raw is not None else None

    def queue_mail(self, mails: Sequence[NewMail]) -> list[str]:
        if not mails:
            return []
        statement = self._insert_ignore(t.outbox).returning(t.outbox.c.key)
        rows = [
            {
                "key": mail.key,
                "kind": mail.kind,
                "message_id": mail.message_id,
                "mailbox": mail.mailbox,
                "sender": mail.sender,
                "recipients": list(mail.recipients),
                "raw": mail.raw,
                "automatic": mail.automatic,
                "cause": mail.cause,
                "ticket_id": mail.ticket_id,
                "contact_id": mail.contact_id,
                "author": mail.author,
                "source_message_id": mail.source_message_id,
                "campaign": mail.campaign,
                "step": mail.step,
                "enrolment_id": mail.enrolment_id,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": mail.at,
                "created_at": mail.at,
            }
            for mail in mails
        ]
        return [str(key) for row in rows for key in self.connection.execute(statement, row).scalars()]

    def automatic_mail_count(self, cause: str, since: datetime) -> int:
        o = t.outbox
        return int(
            self.connection.execute(
                select(func.count()).where(o.c.cause == cause, o.c.automatic.is_(True), o.c.created_at >= since)
            ).scalar_one()
        )

    def claim_mail(
        self,
        now: datetime,
        claim_until: datetime,
        limit: int,
        campaign_allowance: Mapping[str, int] | None = None,
    ) -> list[QueuedMail]:
        """Due mail, claimed until `claim_until`: everything but campaign mail up to `limit`, and campaign mail
        only as `campaign_allowance` allows (campaign → how many now; None = no limits)."""
        o = t.outbox
        due = and_(
            o.c.status == "queued",
            o.c.next_attempt_at <= now,
            or_(o.c.claimed_until.is_(None), o.c.claimed_until < now),
        )
        picks = [(due if campaign_allowance is None else and_(due, o.c.campaign.is_(None)), limit)]
        for campaign, allowed in sorted((campaign_allowance or {}).items()):
            if allowed > 0:
                picks.append((and_(due, o.c.campaign == campaign), allowed))
        rows: list[Any] = []
        for condition, most in picks:
            room = min(most, limit - len(rows))
            if room <= 0:
                break
            query = select(o).where(condition).order_by(o.c.next_attempt_at, o.c.id).limit(room)
            if self._dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows += self.connection.execute(query).all()
        if rows:
            self.connection.execute(update(o).where(o.c.id.in_([r.id for r in rows])).values(claimed_until=claim_until))
        return [
            QueuedMail(
                r.id,
                r.key,
                r.kind,
                r.message_id,
                r.sender,
                tuple(r.recipients),
                r.raw,
                r.attempts,
                aware(r.created_at),
                r.mailbox,
                r.ticket_id,
                r.contact_id,
                r.author,
                r.campaign,
                r.step,
                r.enrolment_id,
            )
            for r in rows
        ]

    def mails_sent(self, mail_ids: Sequence[int], at: datetime) -> None:
        for chunk in _chunks(list(mail_ids)):
            self.connection.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(chunk))
                .values(
                    status="sent", sent_at=at, last_error=None, claimed_until=None, attempts=t.outbox.c.attempts + 1
                )
            )

    def mail_retry(self, mail_id: int, next_attempt_at: datetime, detail: str) -> None:
        self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == mail_id)
            .values(
                next_attempt_at=next_attempt_at,
                last_error=detail[:2000],
                claimed_until=None,
                attempts=t.outbox.c.attempts + 1,
            )
        )

    def mail_failed(self, mail_id: int, at: datetime, detail: str) -> None:
        self.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == mail_id)
            .values(status="failed", last_error=detail[:2000], claimed_until=None, attempts=t.outbox.c.attempts + 1)
        )

    def requeue_mail(self, key: str, now: datetime) -> bool:
        """Send a failed mail again (same bytes, same Message-ID); False when no failed mail has that key."""
        o = t.outbox
        done = self.connection.execute(
            update(o)
            .where(o.c.key == key, o.c.status == "failed")
            .values(status="queued", next_attempt_at=now, claimed_until=None, created_at=now)
        )
        return bool(done.rowcount)

    # quarantine
    def quarantine(self, raw_id: int, mailbox: str, error: str, now: datetime) -> None:
        self.connection.execute(
            insert(t.quarantine).values(raw_id=raw_id, mailbox=mailbox, error=error, attempts=1, created_at=now)
        )

    def open_quarantine(self, limit: int) -> list[QuarantinedRaw]:
        q = t.quarantine
        rows = self.connection.execute(
            select(q.c.id, q.c.raw_id, q.c.mailbox, q.c.error, q.c.attempts, q.c.created_at, t.raw_messages.c.raw)
            .join(t.raw_messages, t.raw_messages.c.id == q.c.raw_id)
            .where(q.c.resolved_at.is_(None))
            .order_by(q.c.id)
            .limit(limit)
        )
        return [
            QuarantinedRaw(r.id, r.raw_id, r.mailbox, r.error, r.attempts, aware(r.created_at), r.raw) for r in rows
        ]

    def resolve_quarantine(self, quarantine_id: int, now: datetime) -> None:
        self.connection.execute(update(t.quarantine).where(t.quarantine.c.id == quarantine_id).values(resolved_at=now))

    def retry_failed(self, quarantine_id: int, error: str) -> None:
        self.connection.execute(
            update(t.quarantine)
            .where(t.quarantine.c.id == quarantine_id)
            .values(error=error, attempts=t.quarantine.c.attempts + 1)
        )


class SqlStore:
    """Opens transactions on an engine (see `services.ports.Store`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """One transaction; a lock, a full disk or a lost connection is raised as `StoreUnavailable`."""
        try:
            with self.engine.begin() as connection:
                yield SqlTransaction(connection)
        except DBAPIError as exc:
            if is_transient(exc):
                raise StoreUnavailable(f"{type(exc.orig).__name__}: {exc.orig}") from exc
            raise
