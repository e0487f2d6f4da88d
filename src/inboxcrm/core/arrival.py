"""Which shared mailbox a message file arrived on, read from the message itself (for `rules explain` on a
saved .eml): the delivery headers the receiving server added first, then To and Cc."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import getaddresses

from inboxcrm.core.model import MailboxProfile, Message
from inboxcrm.core.reply_tokens import base_address

# Headers a receiving server adds with the address it delivered to, most telling first.
DELIVERY_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-delivered-to")


def arrived_on(message: Message, mailboxes: Sequence[MailboxProfile]) -> tuple[MailboxProfile, str] | None:
    """The mailbox one of whose shared addresses (plus addresses included) the message was delivered or
    written to, and the header that says so; None when no header names one."""
    named: list[tuple[str, str]] = [
        (key, value) for wanted in DELIVERY_HEADERS for key, value in message.headers if key.lower() == wanted
    ]
    named += [("To", a.email) for a in message.to] + [("Cc", a.email) for a in message.cc]
    for header, value in named:
        for _, email in getaddresses([value]):
            address = base_address(email.strip().lower())
            for mailbox in mailboxes:
                if address in mailbox.addresses:
                    return mailbox, header
    return None
