"""Signed unsubscribe tokens for the links and mailto addresses in campaign mail, and the RFC 8058 headers.

A token carries the address and the campaign themselves, signed, so an unsubscribe needs no database lookup
and nobody can unsubscribe an address they did not receive mail at. Layout before encoding:
`signature (16 bytes) + email + NUL + campaign` (UTF-8), in URL-safe base64 without padding. The signature is
HMAC-SHA256 over the rest, with a prefix that keeps it apart from every other token signed with the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

_PURPOSE = b"inboxcrm-unsubscribe:v1:"
_MAC_BYTES = 16  # 128 bits of HMAC-SHA256
_SEPARATOR = b"\x00"
# An address is at most 254 characters and a campaign name short; this bounds what a stranger can make us decode.
MAX_TOKEN_CHARS = 2048
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# URIs in the header are printable ASCII; "<" and ">" would end one early, a line break inject a header
_UNSAFE_IN_HEADER = re.compile(r"[^\x21-\x7e]|[<>]")


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _mac(body: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + body, hashlib.sha256).digest()[:_MAC_BYTES]


def unsubscribe_token(email: str, campaign: str, secret: bytes) -> str:
    """The token naming `email` in `campaign` (URL-safe, no padding). Raises ValueError on an empty email,
    campaign or secret, or a NUL character in either name."""
    if not email or not campaign or "\x00" in email or "\x00" in campaign:
        raise ValueError("an unsubscribe token needs an email and a campaign, without NUL characters")
    if not secret:
        raise ValueError("an unsubscribe token needs a secret")
    body = email.encode() + _SEPARATOR + campaign.encode()
    return _encode(_mac(body, secret) + body)


def read_unsubscribe_token(token: str, secret: bytes) -> tuple[str, str] | None:
    """(email, campaign) from a token `unsubscribe_token` made with `secret`; None for anything else. Never raises."""
    if not isinstance(token, str) or not secret or len(token) > MAX_TOKEN_CHARS or not _BASE64URL.fullmatch(token):
        return None
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    # Base64 leaves a few bits of the last character unused: only the one spelling we make is accepted, so
    # that changing any character of a token makes it invalid.
    if _encode(data) != token:
        return None
    mac, body = data[:_MAC_BYTES], data[_MAC_BYTES:]
    if len(mac) < _MAC_BYTES or not hmac.compare_digest(mac, _mac(body, secret)):
        return None
    email, separator, campaign = body.partition(_SEPARATOR)
    if not separator or not email or not campaign or _SEPARATOR in campaign:
        return None
    try:
        return email.decode(), campaign.decode()
    except UnicodeDecodeError:
        return None


def list_unsubscribe_headers(https_url: str, mailto: str) -> list[tuple[str, str]]:
    """The List-Unsubscribe header with both ways out (RFC 2369) and List-Unsubscribe-Post for one-click
    (RFC 8058). `mailto` may be a bare address. Raises ValueError on a URL that is not https, or on anything but
    printable ASCII without spaces and angle brackets (which would break the header)."""
    if not https_url.lower().startswith("https://") or len(https_url) <= len("https://"):
        raise ValueError(f"one-click unsubscribe needs an https URL, not {https_url!r}")
    if not mailto.lower().startswith("mailto:"):
        mailto = f"mailto:{mailto}"
    if "@" not in mailto:
        raise ValueError(f"not a mailto address: {mailto!r}")
    for value in (https_url, mailto):
        if _UNSAFE_IN_HEADER.search(value):
            raise ValueError(
                f"percent-encode {value!r}: only printable ASCII without spaces or angle brackets is allowed"
            )
    return [
        ("List-Unsubscribe", f"<{https_url}>, <{mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
