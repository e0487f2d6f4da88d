"""held replies: the collision guard

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "held_replies",
        sa.Column("id", Id, nullable=False),
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("message_id", Id, nullable=False),
        sa.Column("raw_id", Id, nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=False),
        sa.Column("mailbox", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("notice_message_id", sa.String(length=300), nullable=True),
        sa.Column("held_at", TS, nullable=False),
        sa.Column("drop_at", TS, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_held_replies_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_held_replies_message_id_messages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["raw_id"], ["raw_messages.id"], name=op.f("fk_held_replies_raw_id_raw_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_replies")),
        sa.UniqueConstraint("message_id", name=op.f("uq_held_replies_message_id")),
    )
    with op.batch_alter_table("held_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_replies_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_replies_notice_message_id"), ["notice_message_id"], unique=False)
        batch_op.create_index("ix_held_replies_due", ["status", "drop_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("held_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_held_replies_due")
        batch_op.drop_index(batch_op.f("ix_held_replies_notice_message_id"))
        batch_op.drop_index(batch_op.f("ix_held_replies_ticket_id"))
    op.drop_table("held_replies")
