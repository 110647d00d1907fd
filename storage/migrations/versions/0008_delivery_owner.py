"""The process that claimed each delivery, so a claim left by a process that died can be taken over.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("owner", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_deliveries_unsent", "deliveries", ["owner"], sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_deliveries_unsent", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("owner")
