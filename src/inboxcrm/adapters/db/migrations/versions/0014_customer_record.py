"""the customer record: custom fields, business events, webhook deliveries, full-text search

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from inboxcrm.adapters.db.search_schema import create_search_tables, drop_search_tables

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contact_fields",
        sa.Column("contact_id", Id, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_fields_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", "name", name=op.f("pk_contact_fields")),
    )
    op.create_index("ix_contact_fields_name_value", "contact_fields", ["name", "value"], unique=False)
    op.create_table(
        "business_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("contact_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_business_events_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_events")),
        sa.UniqueConstraint("external_id", name=op.f("uq_business_events_external_id")),
    )
    op.create_index(op.f("ix_business_events_contact_id"), "business_events", ["contact_id"], unique=False)
    op.create_index("ix_business_events_kind_at", "business_events", ["kind", "at"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", Id, nullable=False),
        sa.Column("webhook", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("contact_id", Id, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_webhook_deliveries_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_webhook_deliveries_delivery_id")),
    )
    op.create_index(op.f("ix_webhook_deliveries_contact_id"), "webhook_deliveries", ["contact_id"], unique=False)
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "search_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("built_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_index")),
    )
    # The engines' own index structures (FTS5 virtual tables, tsvector + GIN): not in tables.py, which
    # describes what both databases share. The index starts empty: `inboxcrm search --rebuild` fills it
    # with the mail stored before this version; new mail is indexed as it is stored.
    create_search_tables(op.get_bind())


def downgrade() -> None:
    drop_search_tables(op.get_bind())
    op.drop_table("search_index")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_contact_id"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_business_events_kind_at", table_name="business_events")
    op.drop_index(op.f("ix_business_events_contact_id"), table_name="business_events")
    op.drop_table("business_events")
    op.drop_index("ix_contact_fields_name_value", table_name="contact_fields")
    op.drop_table("contact_fields")
