"""A merge moves everything that references the merged contact, in one transaction, on SQLite and PostgreSQL.
The tables are read from the schema's foreign keys: a table added later that references contacts fails this
test until the test gives the merged contact a row in it (and the merge, being generic, moves it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from inboxcrm import bootstrap
from inboxcrm.adapters.db import migrate
from inboxcrm.adapters.db import tables as t
from inboxcrm.adapters.db.merge import contact_references
from inboxcrm.core.business import business_event
from inboxcrm.core.model import Address, MailboxKind, MailboxProfile
from inboxcrm.core.ports import FetchedMessage, NewMail
from inboxcrm.core.record_ports import NewDelivery
from tests.conftest import make_settings
from tests.support.mail import mail

SUPPORT = MailboxProfile("support", MailboxKind.SUPPORT, frozenset({"support@northwind.example"}))
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
FIELDS = """
[[fields]]
name = "plan"
type = "choice"
choices = ["free", "pro"]

[[fields]]
name = "seats"
type = "number"
"""


def test_a_merge_moves_every_row_of_every_table_that_references_a_contact(tmp_path: Path, database_url: str) -> None:
    app = bootstrap.build(make_settings(tmp_path, database_url, FIELDS), clock=lambda: NOW)
    migrate.upgrade(app.engine)
    try:
        raw = mail(from_="Carol <carol@gmail.example>", message_id="m1@gmail.example")
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(1, raw)])
        keep = app.contacts.resolve("carol@gmail.example")
        with app.store.transaction() as tx:
            ids = tx.ensure_contacts([Address("carol@work.example", "Carol W"), Address("c@old.example")], NOW)
            other, third = ids["carol@work.example"], ids["c@old.example"]
        app.contacts.merge(other, third)  # `other` now has an alias, c@old.example
        raw = mail(from_="Carol W <carol@work.example>", message_id="m2@work.example", subject="Second")
        app.ingest.ingest_batch(SUPPORT, "INBOX", 1, [FetchedMessage(2, raw)])
        with app.store.transaction() as tx:
            tx.change_tags(keep, ["vip"], [])
            tx.change_tags(other, ["vip", "beta"], [])
            tx.add_score_changes(other, NOW, [(5.0, "test")], None)
            tx.upsert_deal(other, "Renewal", 1000.0, "qualified", NOW)
            tx.add_enrolment(other, "welcome", "api", NOW, NOW + timedelta(days=1))
            tx.queue_mail([NewMail("k1", "test", "<k1@x>", "s@x", ("carol@work.example",), b"x", False, NOW,
                                   contact_id=other)])  # fmt: skip
            tx.set_contact_fields(keep, {"plan": "pro"}, {})
            tx.set_contact_fields(other, {"plan": "free", "seats": "5"}, {"seats": 5.0})
            tx.add_business_event(other, business_event("order", NOW, "10", "EUR", "o-1"), "api", NOW)
            tx.queue_deliveries([NewDelivery("shop", "contact.created", "d-1", "{}", other, NOW)])

        references = contact_references()
        with app.engine.connect() as connection:
            missing = [
                f"{table.name}.{column.name}"
                for table, column in references
                if not connection.execute(select(func.count()).where(column == other)).scalar_one()
            ]
        assert missing == [], f"give the merged contact a row in {missing}, so that the merge test covers them"

        app.contacts.merge(keep, other)

        with app.engine.connect() as connection:
            for table, column in references:
                left = connection.execute(select(func.count()).where(column == other)).scalar_one()
                assert left == 0, f"{table.name}.{column.name} still references the merged contact"
                assert connection.execute(select(func.count()).where(column == keep)).scalar_one() > 0, table.name
            tags = connection.execute(select(t.contact_tags.c.tag).where(t.contact_tags.c.contact_id == keep))
            assert sorted(tags.scalars()) == ["beta", "vip"]
            aliases = connection.execute(
                select(t.contact_aliases.c.email).where(t.contact_aliases.c.contact_id == keep)
            )
            assert sorted(aliases.scalars()) == ["c@old.example", "carol@work.example"]
            assert connection.execute(select(t.contacts.c.id).where(t.contacts.c.id == other)).first() is None
        with app.store.transaction() as tx:
            # a field both had keeps the kept contact's value; one only the merged contact had comes along
            assert tx.contact_field_values([keep])[keep] == {"plan": "pro", "seats": "5"}
            assert tx.contact_id_for("c@old.example") == keep
        found = app.search.search("carol work").contact_ids
        assert found == (keep,)  # the merged contact left the search index; the kept one has its addresses
    finally:
        app.close()
