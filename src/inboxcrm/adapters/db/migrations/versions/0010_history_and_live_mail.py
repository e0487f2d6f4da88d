"""history and live mail: each folder's history mark, tickets and contacts known from history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("folder_cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("history_until", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("history_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("history_total", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("history_read", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_history", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_history", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("from_history")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("from_history")

    with op.batch_alter_table("folder_cursors", schema=None) as batch_op:
        batch_op.drop_column("connected_at")
        batch_op.drop_column("history_read")
        batch_op.drop_column("history_total")
        batch_op.drop_column("history_since")
        batch_op.drop_column("history_until")
