"""Signed reply tokens in plus addresses: `support+<token>@example.com` names one conversation.

Mail we send can carry such a Reply-To; a reply to it joins the right thread even when the mail client
dropped In-Reply-To and References. The token is the thread id plus an HMAC, so nobody can forge one
that names another customer's thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta

_TOKEN = re.compile(r"^([a-z2-7]{1,13})\.([a-z2-7]{16})$")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _mac(body: str, secret: bytes) -> str:
    return _b32(hmac.new(secret, b"inboxcrm-reply:" + body.encode(), hashlib.sha256).digest()[:10])


def reply_token(thread_id: int, secret: bytes) -> str:
    """The token for `thread_id`: `<id in base32>.<16-character signature>`."""
    body = _b32(thread_id.to_bytes(8, "big").lstrip(b"\0") or b"\0")
    return f"{body}.{_mac(body, secret)}"


def reply_address(shared_address: str, thread_id: int, secret: bytes) -> str:
    """`support@example.com` → `support+<token>@example.com`."""
    local, _, domain = shared_address.partition("@")
    return f"{local}+{reply_token(thread_id, secret)}@{domain}"


def thread_of_token(token: str, secret: bytes) -> int | None:
    """The thread id a token names, or None when it is malformed or its signature is wrong."""
    found = _TOKEN.match(token.lower())
    if not found:
        return None
    body, mac = found.groups()
    if not hmac.compare_digest(mac, _mac(body, secret)):
        return None
    padded = body.upper() + "=" * (-len(body) % 8)
    try:
        return int.from_bytes(base64.b32decode(padded), "big")
    except ValueError:
        return None


def base_address(email: str) -> str:
    """`support+anything@example.com` → `support@example.com` (the address a plus address delivers to)."""
    local, at, domain = email.partition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}" if "+" in local else email


def thread_in_recipients(recipients: list[str], shared: frozenset[str], secret: bytes) -> int | None:
    """The thread named by a valid token in a plus address of one of our `shared` addresses."""
    for email in recipients:
        local = email.partition("@")[0]
        if "+" in local and base_address(email) in shared:
            thread_id = thread_of_token(local.split("+", 1)[1], secret)
            if thread_id is not None:
                return thread_id
    return None


# Relay addresses: agents answer a ticket by replying to the notification inboxcrm sent them, whose Reply-To is
# `support+r.<ticket>.<expiry>.<signature>@…` (reply to the customer) or `support+n.…` (an internal note).
# The expiry (a day number) is signed with the ticket, so an old notification stops working after a while
# and nobody can make an address for a ticket they were never notified about.

RELAY_REPLY = "r"
RELAY_NOTE = "n"
_RELAY = re.compile(r"^([rn])\.([a-z2-7]{1,13})\.([a-z2-7]{1,8})\.([a-z2-7]{16})$")
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class RelayTarget:
    """A valid relay address: the ticket it names and whether the reply is a `note`."""

    ticket_id: int
    note: bool
    address: str


@dataclass(frozen=True, slots=True)
class RelayRefused:
    """An address that looks like a relay address but must not be used: `reason` says why, for the sender."""

    address: str
    reason: str


def _number(value: int) -> str:
    return _b32(value.to_bytes(8, "big").lstrip(b"\0") or b"\0")


def _from_number(text: str) -> int | None:
    try:
        return int.from_bytes(base64.b32decode(text.upper() + "=" * (-len(text) % 8)), "big")
    except ValueError:
        return None


def relay_address(shared_address: str, ticket_id: int, note: bool, expires: date, secret: bytes) -> str:
    """The address an agent replies to for `ticket_id` (a note address when `note`), valid through `expires`."""
    purpose = RELAY_NOTE if note else RELAY_REPLY
    body = f"{purpose}.{_number(ticket_id)}.{_number((expires - _EPOCH).days)}"
    local, _, domain = shared_address.partition("@")
    return f"{local}+{body}.{_mac(body, secret)}@{domain}"


def relay_in_recipients(
    recipients: list[str], shared: frozenset[str], secret: bytes, today: date
) -> RelayTarget | RelayRefused | None:
    """The relay address among `recipients` (plus addresses of our `shared` addresses): a target when its
    signature is right and it has not expired, a refusal saying why otherwise, None when there is none. A valid
    one wins over refused ones."""
    refused: RelayRefused | None = None
    for email in recipients:
        local = email.partition("@")[0]
        if "+" not in local or base_address(email) not in shared:
            continue
        found = _RELAY.match(local.split("+", 1)[1].lower())
        if not found:
            continue
        purpose, ticket, expiry, mac = found.groups()
        body = f"{purpose}.{ticket}.{expiry}"
        ticket_id, day = _from_number(ticket), _from_number(expiry)
        if not hmac.compare_digest(mac, _mac(body, secret)) or ticket_id is None or day is None:
            refused = refused or RelayRefused(
                email, "the reply address is not one inboxcrm made (its signature does not match)"
            )
            continue
        expires = _EPOCH + timedelta(days=min(day, (date.max - _EPOCH).days))
        if expires < today:
            refused = refused or RelayRefused(
                email,
                f"the reply address expired on {expires.isoformat()}; reply to the latest notification for this "
                "ticket instead",
            )
            continue
        return RelayTarget(ticket_id, purpose == RELAY_NOTE, email)
    return refused
