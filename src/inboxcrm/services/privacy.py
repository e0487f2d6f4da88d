"""Customer data: export everything about a contact, or erase the contact, each recorded in the audit log.

Erasure runs in one transaction: the contact and what is stored about it go (see
`adapters/db/privacy.py: PrivacyStatements.erase_contact` for what exactly, and what stays), each of its
addresses goes on the suppression list only as `erased:<salted hash>` (`core.privacy.erased_key`), so no
campaign mails it again while the plain address is gone from the database, and an audit row records who did
it with counts and the hashes, never the address. An audit row names the contact by id only.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from inboxcrm.core.privacy import PrivacyTransaction, erased_key
from inboxcrm.services.contacts import ContactNotFound

EXPORT_FORMAT = "inboxcrm-contact-export"
EXPORT_VERSION = 1


class PrivacyStore(Protocol):
    def transaction(self) -> AbstractContextManager[PrivacyTransaction]: ...


class ErasureNeedsSecret(RuntimeError):
    """Erasing needs the installation's secret ([security] secret_env): it keys the hash that keeps an erased
    address on the suppression list."""


@dataclass(frozen=True)
class Export:
    """What an export hands over: `data` (JSON values: `contact.json`) and `files` ((name, exact raw bytes) of
    every exported message, named `<message id>.eml` as its `file` entry in `data["messages"]` says)."""

    contact_id: int
    data: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)

    def json_bytes(self) -> bytes:
        """`contact.json`: UTF-8, indented, keys in a stable order."""
        return (json.dumps(self.data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")

    def zip_bytes(self) -> bytes:
        """A zip archive of `contact.json` and `messages/<name>` for each file (raw bytes stored as they are)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("contact.json", self.json_bytes())
            for name, raw in self.files:
                archive.writestr(f"messages/{name}", raw)
        return buffer.getvalue()


class Privacy:
    """Export and erasure of one contact's data. `secret` keys erased addresses (None: erasing is refused)."""

    def __init__(self, store: PrivacyStore, secret: bytes | None, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._secret = secret
        self._clock = clock

    def export(self, contact_id: int, actor: str) -> Export:
        """Everything stored about the contact and the raw bytes of its messages, read in one transaction that
        also writes the audit row (action "export"). Raises ContactNotFound."""
        now = self._clock()
        with self._store.transaction() as tx:
            data = tx.contact_export(contact_id)
            if data is None:
                raise ContactNotFound(f"no contact {contact_id}")
            files = tx.contact_raw_messages(contact_id)
            counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
            tx.add_audit(actor, "export", f"contact:{contact_id}", {"counts": counts, "files": len(files)}, now)
        document = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": now.isoformat(), **data}
        return Export(contact_id, document, files)

    def erase(self, contact_id: int, actor: str) -> dict[str, int]:
        """Erase the contact (one transaction): its data goes, each of its addresses stays on the suppression list
        as a salted hash (reason "erased"), and an audit row (action "erase") records the counts and the hashes.
        Returns the rows deleted per kind, plus `erased_keys` (hashes put on the suppression list). Raises
        ContactNotFound, or ErasureNeedsSecret when no secret is configured (nothing is changed then)."""
        if not self._secret:
            raise ErasureNeedsSecret(
                "erasing needs [security] secret_env: it keys the hash that keeps the address suppressed"
            )
        now = self._clock()
        with self._store.transaction() as tx:
            addresses = tx.contact_addresses(contact_id, lock=True)
            if addresses is None:
                raise ContactNotFound(f"no contact {contact_id}")
            counts = tx.erase_contact(contact_id)
            keys = sorted({erased_key(address, self._secret) for address in addresses})
            for key in keys:
                tx.suppress(key, "erased", None, now)
            counts["erased_keys"] = len(keys)
            tx.add_audit(actor, "erase", f"contact:{contact_id}", {"counts": counts, "suppressed": keys}, now)
        return counts
