"""World Café sessions: the session and its seating plan, participants, tablecloths (one thread per
table per round) and the notes written on them while open.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _session_fk() -> sa.ForeignKey:
    return sa.ForeignKey("cafe_sessions.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "cafe_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("host_user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("starts_at", UtcDateTime()),
        sa.Column("current_round", sa.Integer(), nullable=False),
        sa.Column("round_ends_at", UtcDateTime()),
        sa.Column("paused_seconds_left", sa.Integer()),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("seating", sa.Text(), nullable=False),
        sa.Column("announcement", sa.String(128)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "cafe_participants",
        sa.Column("session_id", sa.Integer(), _session_fk(), primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("table_host", sa.Boolean(), nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "cafe_tables",
        sa.Column("session_id", sa.Integer(), _session_fk(), primary_key=True),
        sa.Column("round_index", sa.Integer(), primary_key=True),
        sa.Column("table_index", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("thread", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("closed_at", UtcDateTime()),
    )
    op.create_index("ix_cafe_tables_thread", "cafe_tables", ["thread"])
    op.create_table(
        "cafe_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), _session_fk(), nullable=False),
        sa.Column("round_index", sa.Integer(), nullable=False),
        sa.Column("table_index", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", "message_id", name="uq_cafe_note_message"),
    )
    op.create_index("ix_cafe_notes_session_id", "cafe_notes", ["session_id"])


def downgrade() -> None:
    for table in ("cafe_notes", "cafe_tables", "cafe_participants", "cafe_sessions"):
        op.drop_table(table)
