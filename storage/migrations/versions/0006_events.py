"""Community calendar: events (one-off, rule or date list at a local time), per-occurrence changes
(cancelled, moved) and RSVPs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _event_fk() -> sa.ForeignKey:
    return sa.ForeignKey("events.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("start_local", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(300)),
        sa.Column("dates", sa.Text()),
        sa.Column("breakouts", sa.Text(), nullable=False),
        sa.Column("reminders", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime()),
    )
    op.create_table(
        "event_changes",
        sa.Column("event_id", sa.Integer(), _event_fk(), primary_key=True),
        sa.Column("original", UtcDateTime(), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("new_start", UtcDateTime()),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "event_rsvps",
        sa.Column("event_id", sa.Integer(), _event_fk(), primary_key=True),
        sa.Column("original", UtcDateTime(), primary_key=True),
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("event_rsvps", "event_changes", "events"):
        op.drop_table(table)
