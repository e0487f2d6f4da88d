"""customer satisfaction: one "How did we do?" survey per ticket and its answer

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "satisfaction",
        sa.Column("ticket_id", Id, nullable=False),
        sa.Column("asked_at", TS, nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", TS, nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("queue", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_satisfaction_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_satisfaction")),
    )
    op.create_index(op.f("ix_satisfaction_rated_at"), "satisfaction", ["rated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_satisfaction_rated_at"), table_name="satisfaction")
    op.drop_table("satisfaction")
