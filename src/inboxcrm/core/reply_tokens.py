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
