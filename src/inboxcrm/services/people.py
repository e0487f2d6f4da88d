"""Which participants of a batch may become contacts (see core/admission.py): the database facts it needs."""

from __future__ import annotations

from collections.abc import Sequence

from inboxcrm.core.admission import capped, welcome
from inboxcrm.core.conversations import thread_keys
from inboxcrm.core.model import MailboxProfile, Message, Team
from inboxcrm.core.ports import IngestTransaction
from inboxcrm.core.reply_tokens import thread_in_recipients
from inboxcrm.core.understanding import Understanding


def admitted(
    tx: IngestTransaction,
    mailbox: MailboxProfile,
    team: Team,
    messages: Sequence[Message],
    meanings: Sequence[Understanding],
    reply_secret: bytes | None,
    cap: int,
) -> list[Understanding]:
    """`meanings` with only the participants who may be contacts: Cc recipients only of our own mail or of
    mail to us in a known conversation, and at most `cap` new contacts per message."""
    earlier = [[key for key in thread_keys(m) if key != m.message_id] for m in messages]
    threads = tx.threads_for({key for keys in earlier for key in keys})
    welcomed = []
    for message, meaning, keys in zip(messages, meanings, earlier, strict=True):
        in_known_thread = any(key in threads for key in keys)
        if not in_known_thread and reply_secret is not None:
            recipients = [a.email for a in message.to + message.cc]
            signed = thread_in_recipients(recipients, mailbox.addresses, reply_secret)
            in_known_thread = signed is not None and tx.thread_exists(signed)
        welcomed.append(welcome(message, meaning, mailbox, team, in_known_thread))
    known = tx.known_addresses(sorted({p.email for meaning in welcomed for p in meaning.participants}))
    return [capped(meaning, known, cap) for meaning in welcomed]
