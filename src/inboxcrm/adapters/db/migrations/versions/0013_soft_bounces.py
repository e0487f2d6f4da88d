"""soft bounces, counted towards suppression

Revision ID: 0013
Revises: 0014
Create Date: 2026-12-03 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "soft_bounces",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soft_bounces")),
    )
    with op.batch_alter_table("soft_bounces", schema=None) as batch_op:
        batch_op.create_index("ix_soft_bounces_email_at", ["email", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("soft_bounces", schema=None) as batch_op:
        batch_op.drop_index("ix_soft_bounces_email_at")
    op.drop_table("soft_bounces")
