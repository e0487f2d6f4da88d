"""Who in a message may become a contact: one stranger's message must not create thousands.

- Cc recipients become contacts only from mail we wrote, or from mail to us in a conversation we already
  know (it names one of our threads in In-Reply-To/References or a signed reply address): a stranger's
  first message with a huge Cc adds nobody but the stranger.
- At most `cap` new contacts per message (the sender or customer first); people who already are contacts
  are always linked.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace

from inboxcrm.core.model import Direction, MailboxProfile, Message, Team
from inboxcrm.core.understanding import Understanding, is_ours

DEFAULT_NEW_CONTACTS_PER_MESSAGE = 20


def welcome(
    message: Message, meaning: Understanding, mailbox: MailboxProfile, team: Team, in_known_thread: bool
) -> Understanding:
    """`meaning` without the Cc recipients of mail that is not ours and not to us in a known conversation."""
    to_us = any(is_ours(a.email, mailbox, team) for a in message.to + message.cc)
    if meaning.direction is Direction.OUTBOUND or (to_us and in_known_thread):
        return meaning
    named = {a.email for a in ((message.from_,) if message.from_ else ()) + message.reply_to + message.to}
    first = meaning.contact.email if meaning.contact else None
    kept = tuple(p for p in meaning.participants if p.email == first or p.email in named)
    return meaning if len(kept) == len(meaning.participants) else replace(meaning, participants=kept)


def capped(meaning: Understanding, known: Set[str], cap: int = DEFAULT_NEW_CONTACTS_PER_MESSAGE) -> Understanding:
    """`meaning` with at most `cap` participants who are not contacts yet (the customer always, first)."""
    first = meaning.contact.email if meaning.contact else None
    new = 1 if first is not None and first not in known else 0
    kept = []
    for person in meaning.participants:
        if person.email != first and person.email not in known:
            if new >= cap:
                continue
            new += 1
        kept.append(person)
    return meaning if len(kept) == len(meaning.participants) else replace(meaning, participants=tuple(kept))
