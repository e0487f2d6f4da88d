"""SQL for contacts and companies (see `core.ports`): finding or creating them, tags, scores, stages, deals, merging.

A mixin of `SqlTransaction`; a merged contact keeps every address it was known by as an alias.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.statements import Statements, aware, chunks
from inboxcrm.core.addresses import company_domain, company_name
from inboxcrm.core.model import Address
from inboxcrm.core.ports import (
    ContactState,
)
from inboxcrm.core.scoring import decayed


class ContactStatements(Statements):
    """Contacts, their companies, tags, scores, lifecycle stages and deals."""

    move_contact_references: Any  # the customer record's (MergeStatements)

    def ensure_contacts(self, addresses: Sequence[Address], now: datetime) -> dict[str, int]:
        if not addresses:
            return {}
        domains = sorted({d for a in addresses if (d := company_domain(a.email))})
        if domains:
            self.connection.execute(
                self._insert_ignore(t.companies),
                [{"domain": d, "name": company_name(d), "created_at": now} for d in domains],
            )
        company_ids: dict[str, int] = self._lookup(t.companies.c.domain, t.companies.c.id, domains)
        emails = [a.email for a in addresses]
        existing: dict[str, tuple[int, str]] = {}
        # A merged contact keeps every address it was known by: those resolve to the surviving contact.
        for chunk in chunks(emails):
            rows = self.connection.execute(
                select(t.contact_aliases.c.email, t.contacts.c.id, t.contacts.c.name)
                .join(t.contacts, t.contacts.c.id == t.contact_aliases.c.contact_id)
                .where(t.contact_aliases.c.email.in_(chunk))
            )
            existing.update({row.email: (row.id, row.name) for row in rows})
        for chunk in chunks([e for e in emails if e not in existing]):
            rows = self.connection.execute(
                select(t.contacts.c.email, t.contacts.c.id, t.contacts.c.name).where(t.contacts.c.email.in_(chunk))
            )
            existing.update({row.email: (row.id, row.name) for row in rows})
        new = [a for a in addresses if a.email not in existing]
        if new:
            self.connection.execute(
                self._insert_ignore(t.contacts),
                [
                    {
                        "email": a.email,
                        "name": a.name[:255],
                        "undeliverable": False,
                        "company_id": company_ids.get(company_domain(a.email) or ""),
                        "created_at": now,
                    }
                    for a in new
                ],
            )
            for chunk in chunks([a.email for a in new]):
                rows = self.connection.execute(
                    select(t.contacts.c.email, t.contacts.c.id, t.contacts.c.name).where(t.contacts.c.email.in_(chunk))
                )
                existing.update({row.email: (row.id, row.name) for row in rows})
        for address in addresses:
            contact_id, name = existing[address.email]
            if not name and address.name:  # learn a name we did not have
                self.connection.execute(
                    update(t.contacts).where(t.contacts.c.id == contact_id).values(name=address.name[:255])
                )
                existing[address.email] = (contact_id, address.name)
        return {email: ids[0] for email, ids in existing.items()}

    def mark_undeliverable(self, emails: Sequence[str]) -> None:
        if emails:
            self.connection.execute(
                update(t.contacts).where(t.contacts.c.email.in_(list(emails))).values(undeliverable=True)
            )

    def contact_states(self, contact_ids: Iterable[int]) -> dict[int, ContactState]:
        wanted = list(set(contact_ids))
        tags: dict[int, set[str]] = {i: set() for i in wanted}
        found: dict[int, ContactState] = {}
        for chunk in chunks(wanted):
            for row in self.connection.execute(
                select(t.contact_tags.c.contact_id, t.contact_tags.c.tag).where(t.contact_tags.c.contact_id.in_(chunk))
            ):
                tags[row.contact_id].add(row.tag)
            for contact in self.connection.execute(
                select(t.contacts.c.id, t.contacts.c.score, t.contacts.c.stage).where(t.contacts.c.id.in_(chunk))
            ):
                found[contact.id] = ContactState(frozenset(tags[contact.id]), float(contact.score), contact.stage)
        return found

    def contact_id_for(self, email: str) -> int | None:
        """The contact an address belongs to, directly or as an alias of a merged contact."""
        found = self.connection.execute(select(t.contacts.c.id).where(t.contacts.c.email == email)).scalar()
        if found is None:
            found = self.connection.execute(
                select(t.contact_aliases.c.contact_id).where(t.contact_aliases.c.email == email)
            ).scalar()
        return int(found) if found is not None else None

    def contact_address(self, contact_id: int) -> Address | None:
        row = self.connection.execute(
            select(t.contacts.c.email, t.contacts.c.name).where(t.contacts.c.id == contact_id)
        ).first()
        return Address(row.email, row.name) if row else None

    def wrote_before(self, contact_id: int, before: datetime) -> bool:
        """Whether a message from or to the contact was stored before `before` (an earlier fetch)."""
        m = t.messages.c
        query = select(m.id).where(m.contact_id == contact_id, m.received_at < before).limit(1)
        return self.connection.execute(query).first() is not None

    def contacts_with_messages(self, contact_ids: Iterable[int]) -> set[int]:
        return self._ids_present(t.messages.c.contact_id, contact_ids)

    def change_tags(self, contact_id: int, added: Iterable[str], removed: Iterable[str]) -> None:
        gone = list(removed)
        if gone:
            self.connection.execute(
                t.contact_tags.delete().where(t.contact_tags.c.contact_id == contact_id, t.contact_tags.c.tag.in_(gone))
            )
        self.change_many_tags([(contact_id, tag) for tag in added], ())

    def change_many_tags(self, added: Iterable[tuple[int, str]], removed: Iterable[tuple[int, str]]) -> None:
        """Remove, then add, tags of several contacts ((contact id, tag) pairs): one statement each."""
        gone = [{"who": contact, "what": tag} for contact, tag in removed]
        if gone:
            c = t.contact_tags.c
            self.connection.execute(
                t.contact_tags.delete().where(c.contact_id == bindparam("who"), c.tag == bindparam("what")), gone
            )
        new = [{"contact_id": contact, "tag": tag} for contact, tag in added]
        if new:
            self.connection.execute(self._insert_ignore(t.contact_tags), new)

    def add_score_changes(
        self,
        contact_id: int,
        at: datetime,
        changes: Sequence[tuple[float, str]],
        message_id: int | None,
        half_life: timedelta | None = None,
    ) -> float:
        """Record the points (kept as history) and return the contact's new score, decayed up to `at`."""
        self.connection.execute(
            insert(t.score_changes),
            [
                {"contact_id": contact_id, "at": at, "points": points, "reason": reason, "message_id": message_id}
                for points, reason in changes
            ],
        )
        row = self.connection.execute(
            select(t.contacts.c.score, t.contacts.c.score_at).where(t.contacts.c.id == contact_id)
        ).one()
        since = aware(row.score_at) if row.score_at is not None else at
        score = decayed(float(row.score), since, max(at, since), half_life) + sum(p for p, _ in changes)
        self.connection.execute(
            update(t.contacts).where(t.contacts.c.id == contact_id).values(score=score, score_at=max(at, since))
        )
        return score

    def contact_scores(self, contact_ids: Iterable[int]) -> dict[int, tuple[float, datetime | None, str | None]]:
        """Score, when it was last brought up to date, and stage of each contact (one query per 500)."""
        c = t.contacts
        found: dict[int, tuple[float, datetime | None, str | None]] = {}
        for chunk in chunks(sorted(set(contact_ids))):
            query = select(c.c.id, c.c.score, c.c.score_at, c.c.stage).where(c.c.id.in_(chunk))
            for row in self.connection.execute(query):
                at = aware(row.score_at) if row.score_at is not None else None
                found[row.id] = (float(row.score), at, row.stage)
        return found

    def write_scores(
        self,
        changes: Sequence[tuple[int, datetime, float, str, int | None]],
        scores: Mapping[int, tuple[float, datetime]],
        stages: Mapping[int, str],
    ) -> None:
        """Score history rows, new scores and new stages, one statement each."""
        if changes:
            self.connection.execute(
                insert(t.score_changes),
                [
                    {"contact_id": contact, "at": at, "points": points, "reason": reason, "message_id": message}
                    for contact, at, points, reason, message in changes
                ],
            )
        if scores:
            self.connection.execute(
                update(t.contacts)
                .where(t.contacts.c.id == bindparam("cid"))
                .values(score=bindparam("new_score"), score_at=bindparam("new_at")),
                [{"cid": cid, "new_score": score, "new_at": at} for cid, (score, at) in sorted(scores.items())],
            )
        if stages:
            self.connection.execute(
                update(t.contacts).where(t.contacts.c.id == bindparam("cid")).values(stage=bindparam("new_stage")),
                [{"cid": cid, "new_stage": stage} for cid, stage in sorted(stages.items())],
            )

    def decay_scores(self, now: datetime, half_life: timedelta) -> int:
        """Bring every non-zero score up to `now`; returns how many contacts changed."""
        rows = self.connection.execute(
            select(t.contacts.c.id, t.contacts.c.score, t.contacts.c.score_at).where(
                t.contacts.c.score != 0, t.contacts.c.score_at.is_not(None), t.contacts.c.score_at < now
            )
        ).all()
        if rows:
            self.connection.execute(
                update(t.contacts)
                .where(t.contacts.c.id == bindparam("cid"))
                .values(score=bindparam("new_score"), score_at=bindparam("new_at")),
                [
                    {
                        "cid": r.id,
                        "new_score": decayed(float(r.score), aware(r.score_at), now, half_life),
                        "new_at": now,
                    }
                    for r in rows
                ],
            )
        return len(rows)

    def set_stage(self, contact_id: int, stage: str) -> str | None:
        previous = self.connection.execute(select(t.contacts.c.stage).where(t.contacts.c.id == contact_id)).scalar()
        if previous != stage:
            self.connection.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(stage=stage))
        return str(previous) if previous is not None else None

    def upsert_deal(
        self, contact_id: int, name: str, value: float | None, stage: str, at: datetime
    ) -> tuple[int, str | None]:
        """Open the deal `name` on the contact's company (or on the contact, for free mail) or move it.
        Returns the deal id and its previous stage (None when it was just opened)."""
        company_id = self.connection.execute(
            select(t.contacts.c.company_id).where(t.contacts.c.id == contact_id)
        ).scalar()
        owner = t.deals.c.company_id == company_id if company_id is not None else t.deals.c.contact_id == contact_id
        found = self.connection.execute(
            select(t.deals.c.id, t.deals.c.stage).where(owner, t.deals.c.name == name)
        ).first()
        if found is None:
            deal_id = self._insert_ids(
                t.deals,
                [{"company_id": company_id, "contact_id": contact_id, "name": name, "value": value, "stage": stage,
                  "created_at": at, "updated_at": at}],
            )[0]  # fmt: skip
            return deal_id, None
        changes: dict[str, Any] = {"stage": stage, "updated_at": at}
        if value is not None:
            changes["value"] = value
        self.connection.execute(update(t.deals).where(t.deals.c.id == found.id).values(**changes))
        return int(found.id), str(found.stage)

    def merge_contacts(self, keep_id: int, other_id: int, now: datetime) -> None:
        """Fold contact `other_id` into `keep_id`: everything referencing it and its addresses move over."""
        other = self.connection.execute(select(t.contacts).where(t.contacts.c.id == other_id)).first()
        keep = self.connection.execute(select(t.contacts).where(t.contacts.c.id == keep_id)).first()
        if other is None or keep is None:
            raise LookupError(f"no contact {other_id if other is None else keep_id}")
        aliases = [
            other.email,
            *self.connection.execute(
                select(t.contact_aliases.c.email).where(t.contact_aliases.c.contact_id == other_id)
            ).scalars(),
        ]
        self.connection.execute(t.contact_aliases.delete().where(t.contact_aliases.c.contact_id == other_id))
        self.move_contact_references(other_id, keep_id)  # every table, from the schema's foreign keys
        self.connection.execute(t.contacts.delete().where(t.contacts.c.id == other_id))
        self.connection.execute(
            insert(t.contact_aliases), [{"email": e, "contact_id": keep_id, "created_at": now} for e in aliases]
        )
        self.connection.execute(
            update(t.contacts)
            .where(t.contacts.c.id == keep_id)
            .values(
                name=keep.name or other.name,
                company_id=keep.company_id or other.company_id,
                undeliverable=keep.undeliverable and other.undeliverable,
                stage=keep.stage or other.stage,
                score=float(keep.score) + float(other.score),
            )
        )
