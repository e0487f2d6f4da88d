"""message locations by name (Maildir unique names, mbox offset and hash); raw_id may be null

Revision ID: 0011
Revises: 0015
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0015"
branch_labels = None
depends_on = None

RAW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("message_locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=500), nullable=True))
        batch_op.create_index("uq_message_locations_name", ["mailbox", "folder", "name"], unique=True)
        # a named message the backlog leaves out is remembered by name only
        batch_op.alter_column("raw_id", existing_type=RAW_ID, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM message_locations WHERE raw_id IS NULL")
    with op.batch_alter_table("message_locations", schema=None) as batch_op:
        batch_op.alter_column("raw_id", existing_type=RAW_ID, nullable=False)
        batch_op.drop_index("uq_message_locations_name")
        batch_op.drop_column("name")
