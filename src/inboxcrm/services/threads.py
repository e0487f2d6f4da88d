"""Which thread each message of a batch joins (JWZ-style, see core/conversations.py), with the fallbacks for a
message that names no known message; new threads are created in one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from inboxcrm.core.conversations import ThreadLinker, thread_keys, ticket_token
from inboxcrm.core.model import MailboxProfile, Message
from inboxcrm.core.ports import IngestTransaction, NewThread
from inboxcrm.core.reply_tokens import thread_in_recipients
from inboxcrm.core.subjects import has_reply_prefix, normalise_subject
from inboxcrm.core.understanding import Understanding

SUBJECT_WINDOW = timedelta(days=14)


def assign_threads(
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
