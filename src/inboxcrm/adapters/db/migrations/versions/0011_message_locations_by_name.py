"""message locations by name (Maildir unique names, mbox offset and hash)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=500), nullable=True))
        batch_op.create_index("uq_message_locations_name", ["mailbox", "folder", "name"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("message_locations", schema=None) as batch_op:
        batch_op.drop_index("uq_message_locations_name")
        batch_op.drop_column("name")
