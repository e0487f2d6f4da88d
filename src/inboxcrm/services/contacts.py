"""Changing contacts: merging two records of the same person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from inboxcrm.core.addresses import normalise_email
from inboxcrm.core.ports import NewEvent, Store


class ContactNotFound(LookupError):
    """No contact with that id or address."""


class ContactService:
    """Merging keeps every alias address: mail from any of them is filed under the merged contact."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def resolve(self, id_or_email: str) -> int:
        """A contact id from `42` or from an address (or an alias of a merged contact)."""
        if id_or_email.isdigit():
            return int(id_or_email)
        email = normalise_email(id_or_email)
        with self._store.transaction() as tx:
            found = tx.contact_id_for(email) if email else None
        if found is None:
            raise ContactNotFound(f"no contact with the address {id_or_email!r}")
        return found

    def merge(self, keep_id: int, other_id: int) -> None:
        """Fold `other_id` into `keep_id`, in one transaction: every row referencing it moves (see
        `adapters/db/merge.py`: tags united, the kept contact's field values win, scores add up). Both must
        exist and differ."""
        if keep_id == other_id:
            raise ValueError("a contact cannot be merged into itself")
        now = self._clock()
        with self._store.transaction() as tx:
            try:
                tx.merge_contacts(keep_id, other_id, now)
            except LookupError as exc:
                raise ContactNotFound(str(exc)) from exc
            tx.index_contacts([keep_id])  # its search entry now holds the merged contact's addresses too
            tx.add_events([NewEvent(keep_id, now, "contacts_merged", f"Merged contact #{other_id} into this one")])
