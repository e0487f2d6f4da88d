"""SQL for customer data (see `core.privacy.PrivacyTransaction`): export everything about a contact, erase a
contact, and the audit log.

A mixin of `SqlTransaction`: it shares the transaction's connection. Statements select by contact id through
subqueries where they can, so a contact with many messages never hits the databases' parameter limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, and_, cast, delete, func, not_, or_, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, chunks


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands back naive datetimes; every datetime we store is UTC
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()
    return value  # JSON columns come back as JSON values already


def _record(row: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in row._mapping.items() if key not in leave_out}


def _mentions(column: Any, addresses: Sequence[str]) -> Any:
    """A coarse SQL filter: the JSON text of `column` contains one of `addresses` (checked exactly in Python)."""
    text = func.lower(cast(column, Text))
    return or_(*(text.contains(address, autoescape=True) for address in addresses))


def _participant(row: Any, addresses: set[str]) -> bool:
    named = [row.from_email, row.original_from_email]
    named += [a.get("email") for a in [*(row.to or []), *(row.cc or [])] if isinstance(a, dict)]
    return any(isinstance(e, str) and e.lower() in addresses for e in named)


class PrivacyStatements(Statements):
    forget_messages: Any  # the search index's (SearchStatements)
    forget_contacts: Any

    def contact_addresses(self, contact_id: int, lock: bool = False) -> list[str] | None:
        """The contact's address first, then its aliases (addresses of contacts merged into it); None when there
        is no such contact. `lock`: on PostgreSQL the contact row is held (FOR UPDATE) until the transaction
        ends, so a concurrent merge or ingest cannot add to what is being erased (they wait, then find it gone)."""
        query = select(t.contacts.c.email).where(t.contacts.c.id == contact_id)
        if lock and self._dialect == "postgresql":
            query = query.with_for_update()
        email = self.connection.execute(query).scalar()
        if email is None:
            return None
        a = t.contact_aliases
        aliases = self.connection.execute(select(a.c.email).where(a.c.contact_id == contact_id).order_by(a.c.email))
        return [str(email), *(str(e) for e in aliases.scalars())]

    # -- export ----------------------------------------------------------------------------------------------
    def _privacy_messages(self, contact_id: int, addresses: Sequence[str]) -> list[tuple[Any, str]]:
        """Messages filed under the contact ("contact"), then those of others that name one of its addresses in
        From, To or Cc, or as a forward's original author ("participant"); each with that relation."""
        m = t.messages
        wanted = {a.lower() for a in addresses}
        rows = self.connection.execute(
            select(m)
            .where(
                or_(
                    m.c.contact_id == contact_id,
                    func.lower(m.c.from_email).in_(sorted(wanted)),
                    func.lower(m.c.original_from_email).in_(sorted(wanted)),
                    _mentions(m.c.to, sorted(wanted)),
                    _mentions(m.c.cc, sorted(wanted)),
                )
            )
            .order_by(m.c.sent_at, m.c.id)
        )
        found = []
        for row in rows:
            if row.contact_id == contact_id:
                found.append((row, "contact"))
            elif _participant(row, wanted):  # the text filter may match a longer address that contains ours
                found.append((row, "participant"))
        return found

    def contact_export(self, contact_id: int) -> dict[str, Any] | None:
        """Everything stored about a contact, as JSON values (datetimes in ISO 8601, UTC); None when there is no
        such contact. Keys: contact, aliases, company, tags, score_history, timeline, tickets (with their tags),
        deals, enrolments, suppressions (of its addresses), outbox (mail to it or about its tickets: metadata,
        never the bytes), messages (filed under it, or naming it in From/To/Cc; parsed fields, each with
        `relation` "contact" or "participant" and `file`, its raw bytes' name in `contact_raw_messages`)."""
        c = t.contacts
        contact = self.connection.execute(select(c).where(c.c.id == contact_id)).first()
        if contact is None:
            return None
        addresses = self.contact_addresses(contact_id) or [contact.email]
        company = None
        if contact.company_id is not None:
            found = self.connection.execute(select(t.companies).where(t.companies.c.id == contact.company_id)).first()
            company = _record(found) if found is not None else None
        a, tag, sc, ev = t.contact_aliases, t.contact_tags, t.score_changes, t.timeline_events
        tk, tt, d, e, s = t.tickets, t.ticket_tags, t.deals, t.enrolments, t.suppressions
        tickets = [
            _record(r)
            for r in self.connection.execute(select(tk).where(tk.c.contact_id == contact_id).order_by(tk.c.id))
        ]
        ticket_tags: dict[int, list[str]] = {}
        for row in self.connection.execute(
            select(tt.c.ticket_id, tt.c.tag)
            .where(tt.c.ticket_id.in_(select(tk.c.id).where(tk.c.contact_id == contact_id)))
            .order_by(tt.c.tag)
        ):
            ticket_tags.setdefault(row.ticket_id, []).append(row.tag)
        for ticket in tickets:
            ticket["tags"] = ticket_tags.get(ticket["id"], [])

        def records(query: Any, leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
            return [_record(r, leave_out) for r in self.connection.execute(query)]

        messages = []
        for row, relation in self._privacy_messages(contact_id, addresses):
            record = _record(row, ("raw_id",))
            record.update(relation=relation, file=f"messages/{row.id}.eml")
            messages.append(record)
        return {
            "contact": _record(contact),
            "aliases": records(
                select(a.c.email, a.c.created_at).where(a.c.contact_id == contact_id).order_by(a.c.email)
            ),
            "company": company,
            "tags": list(
                self.connection.execute(select(tag.c.tag).where(tag.c.contact_id == contact_id).order_by(tag.c.tag))
                .scalars()
                .all()
            ),
            "score_history": records(select(sc).where(sc.c.contact_id == contact_id).order_by(sc.c.at, sc.c.id)),
            "timeline": records(select(ev).where(ev.c.contact_id == contact_id).order_by(ev.c.at, ev.c.id)),
            "tickets": tickets,
            "deals": records(select(d).where(d.c.contact_id == contact_id).order_by(d.c.id)),
            "enrolments": records(select(e).where(e.c.contact_id == contact_id).order_by(e.c.id)),
            "suppressions": records(select(s).where(s.c.email.in_(addresses)).order_by(s.c.email)),
            "soft_bounces": records(
                select(t.soft_bounces).where(t.soft_bounces.c.email.in_(addresses)).order_by(t.soft_bounces.c.id)
            ),
            "outbox": [_record(r, ("raw", "tied")) for r in self._privacy_outbox(contact_id, addresses)],
            "messages": messages,
        }

    def _privacy_outbox(self, contact_id: int, addresses: Sequence[str], erasing: bool = False) -> list[Any]:
        """Outbox rows to the contact (by contact id or by recipient address); when erasing, also those about its
        tickets or messages (notifications to agents quote the customer) and those its mail caused (`cause`
        holds the address, for the loop fuse)."""
        o, tk, m = t.outbox, t.tickets, t.messages
        wanted = sorted({a.lower() for a in addresses})
        tied = [o.c.contact_id == contact_id]
        if erasing:
            tied += [
                o.c.ticket_id.in_(select(tk.c.id).where(tk.c.contact_id == contact_id)),
                o.c.source_message_id.in_(select(m.c.id).where(m.c.contact_id == contact_id)),
                func.lower(o.c.cause).in_(wanted),
            ]
        query = (
            select(o, or_(*tied).label("tied")).where(or_(*tied, _mentions(o.c.recipients, wanted))).order_by(o.c.id)
        )
        found = []
        for row in self.connection.execute(query):
            # the text filter alone may match a longer address that contains ours: the recipients must name it
            if row.tied or any(isinstance(r, str) and r.lower() in wanted for r in row.recipients or []):
                found.append(row)
        return found

    def contact_raw_messages(self, contact_id: int) -> list[tuple[str, bytes]]:
        """The exact stored bytes of every message in `contact_export`'s `messages`, as (`<message row id>.eml`,
        bytes), in the same order; empty when there is no such contact."""
        addresses = self.contact_addresses(contact_id)
        if addresses is None:
            return []
        rows = self._privacy_messages(contact_id, addresses)
        raw_of: dict[int, bytes] = {}
        raw_ids = sorted({row.raw_id for row, _ in rows})
        r = t.raw_messages
        for chunk in chunks(raw_ids):
            for found in self.connection.execute(select(r.c.id, r.c.raw).where(r.c.id.in_(chunk))):
                raw_of[found.id] = bytes(found.raw)
        return [(f"{row.id}.eml", raw_of[row.raw_id]) for row, _ in rows if row.raw_id in raw_of]

    # -- erasure ---------------------------------------------------------------------------------------------
    def erase_contact(self, contact_id: int) -> dict[str, int]:
        """Delete the contact and what is stored about it; the number of rows deleted per kind. Raises
        LookupError when there is no such contact.

        Deleted: messages filed under it and their raw bytes (raw_messages rows no other message uses, with every
        place they were seen and their quarantine history), threads left without messages or tickets (with their
        message-id map), its timeline events and score changes, tags, aliases, enrolments, its tickets (their
        tags and every timeline event about them), outbox rows to it, about its tickets or messages, or caused by
        its mail (their bytes name it), deals of its own (without a company; a company's deal only loses the
        link), and suppression rows of its plain addresses. Then the contact row.

        Kept: messages of OTHER contacts that merely mention it (in To/Cc, a quote or the text) stay as they are,
        and so do threads that still hold someone else's messages. The company row stays. Suppression by a
        salted hash is the caller's job (see `services.privacy`); so is the mail left on the mail server, which
        an import of the same mailbox would bring back.

        Children go first: SQLite and PostgreSQL both check the foreign keys, and messages → threads and
        tickets → threads have no ON DELETE action."""
        addresses = self.contact_addresses(contact_id, lock=True)
        if addresses is None:
            raise LookupError(f"no contact {contact_id}")
        wanted = sorted({a.lower() for a in addresses})
        c, m, tk, ev, o = t.contacts, t.messages, t.tickets, t.timeline_events, t.outbox
        theirs = select(m.c.id).where(m.c.contact_id == contact_id)
        their_tickets = select(tk.c.id).where(tk.c.contact_id == contact_id)
        run = self.connection.execute
        counts: dict[str, int] = {}

        outbox_ids = sorted(row.id for row in self._privacy_outbox(contact_id, wanted, erasing=True))
        counts["outbox"] = sum(run(delete(o).where(o.c.id.in_(chunk))).rowcount for chunk in chunks(outbox_ids))
        counts["timeline_events"] = run(
            delete(ev).where(
                or_(ev.c.contact_id == contact_id, ev.c.message_id.in_(theirs), ev.c.ticket_id.in_(their_tickets))
            )
        ).rowcount
        sc = t.score_changes
        counts["score_changes"] = run(delete(sc).where(sc.c.contact_id == contact_id)).rowcount
        # another contact's score change may name one of these messages as its cause: it stays, unlinked
        run(update(sc).where(sc.c.message_id.in_(theirs)).values(message_id=None))
        run(delete(t.ticket_tags).where(t.ticket_tags.c.ticket_id.in_(their_tickets)))

        # what the messages leave behind, read before they go
        thread_ids = set(run(select(tk.c.thread_id).where(tk.c.contact_id == contact_id)).scalars())
        raw_ids: list[int] = []
        for row in run(select(m.c.raw_id, m.c.thread_id).where(m.c.contact_id == contact_id)):
            raw_ids.append(int(row.raw_id))
            thread_ids.add(int(row.thread_id))
        counts["tickets"] = run(delete(tk).where(tk.c.contact_id == contact_id)).rowcount
        self.forget_messages(run(theirs).scalars().all())  # their words leave the search index too
        self.forget_contacts([contact_id])
        counts["messages"] = run(delete(m).where(m.c.contact_id == contact_id)).rowcount

        r, loc, q = t.raw_messages, t.message_locations, t.quarantine
        counts["raw_messages"] = 0
        for chunk in chunks(sorted(set(raw_ids))):
            unused = and_(r.c.id.in_(chunk), not_(select(m.c.id).where(m.c.raw_id == r.c.id).exists()))
            gone = list(run(select(r.c.id).where(unused)).scalars())
            if gone:
                # a file source's name stays, without the message: a Maildir or mbox hands over every name not
                # stored yet, so forgetting it would read the erased mail in again, as new
                run(update(loc).where(loc.c.raw_id.in_(gone), loc.c.name.is_not(None)).values(raw_id=None))
                run(delete(loc).where(loc.c.raw_id.in_(gone)))
                run(delete(q).where(q.c.raw_id.in_(gone)))
                counts["raw_messages"] += run(delete(r).where(r.c.id.in_(gone))).rowcount

        th, tmi = t.threads, t.thread_message_ids
        counts["threads"] = 0
        for chunk in chunks(sorted(thread_ids)):
            empty = and_(
                th.c.id.in_(chunk),
                not_(select(m.c.id).where(m.c.thread_id == th.c.id).exists()),
                not_(select(tk.c.id).where(tk.c.thread_id == th.c.id).exists()),
            )
            gone = list(run(select(th.c.id).where(empty)).scalars())
            if gone:
                run(delete(tmi).where(tmi.c.thread_id.in_(gone)))
                counts["threads"] += run(delete(th).where(th.c.id.in_(gone))).rowcount

        e = t.enrolments
        counts["enrolments"] = run(delete(e).where(e.c.contact_id == contact_id)).rowcount
        counts["tags"] = run(delete(t.contact_tags).where(t.contact_tags.c.contact_id == contact_id)).rowcount
        a = t.contact_aliases
        counts["aliases"] = run(delete(a).where(a.c.contact_id == contact_id)).rowcount
        d = t.deals
        counts["deals"] = run(delete(d).where(d.c.contact_id == contact_id, d.c.company_id.is_(None))).rowcount
        run(update(d).where(d.c.contact_id == contact_id).values(contact_id=None))
        s = t.suppressions
        counts["suppressions"] = run(delete(s).where(func.lower(s.c.email).in_(wanted))).rowcount
        counts["soft_bounces"] = run(delete(t.soft_bounces).where(t.soft_bounces.c.email.in_(wanted))).rowcount
        counts["contacts"] = run(delete(c).where(c.c.id == contact_id)).rowcount
        return counts
