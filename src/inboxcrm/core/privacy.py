"""Customer data: what an export and an erasure need from the store, and the salted key an erased address
leaves on the suppression list.

After an erasure the plain address is gone from the database, yet no campaign may mail it again: the
suppression list keeps `erased:<hex HMAC-SHA256>` of the normalised address instead, keyed with the
installation's secret. Whoever holds the secret can test a given address against the list; nobody can read
the addresses back from it. Rotating the secret forgets every erased address (they become mailable again).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from inboxcrm.core.addresses import normalise_email

ERASED_PREFIX = "erased:"
# Keeps this MAC apart from every other one signed with the same secret (reply and unsubscribe tokens).
_PURPOSE = b"inboxcrm-erased-address:v1:"


def erased_key(email: str, secret: bytes) -> str:
    """The suppression-list key of an erased address: `erased:` + 64 lower-case hex digits of
    HMAC-SHA256(secret, purpose prefix + normalised address). Case and surrounding spaces or angle brackets do
    not change it. Raises ValueError without a secret or an address."""
    if not secret:
        raise ValueError("an erased address is keyed with the installation's secret, and none is set")
    normalised = normalise_email(email) or email.strip().lower()
    if not normalised:
        raise ValueError("an erased key needs an address")
    digest = hmac.new(secret, _PURPOSE + normalised.encode("utf-8"), hashlib.sha256).hexdigest()
    return ERASED_PREFIX + digest


class PrivacyTransaction(Protocol):
    """What exporting and erasing a contact read and write, inside one transaction (see
    `adapters/db/privacy.py` for the exact contracts)."""

    def contact_addresses(self, contact_id: int, lock: bool = False) -> list[str] | None: ...
    def contact_export(self, contact_id: int) -> dict[str, Any] | None: ...
    def contact_raw_messages(self, contact_id: int) -> list[tuple[str, bytes]]: ...
    def erase_contact(self, contact_id: int) -> dict[str, int]: ...
    def suppress(self, email: str, reason: str, campaign: str | None, at: datetime) -> bool: ...
    def add_audit(self, actor: str, action: str, subject: str, detail: Mapping[str, Any], at: datetime) -> None: ...
