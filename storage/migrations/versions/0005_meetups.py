"""Meet-ups: members who joined, their "don't match me with" lists, the round schedule per platform,
rounds, groups with their conversations and "Did you meet?" answers, and who sat out and why.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _member_fk() -> sa.ForeignKey:
    return sa.ForeignKey("members.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "meetup_members",
        sa.Column("member_id", sa.Integer(), _member_fk(), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("cadence_weeks", sa.Integer(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("paused_until", UtcDateTime()),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "meetup_avoids",
        sa.Column("member_id", sa.Integer(), _member_fk(), primary_key=True),
        sa.Column("avoided_member_id", sa.Integer(), _member_fk(), primary_key=True),
    )
    op.create_table(
        "meetup_schedules",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("cadence_weeks", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("next_round_at", UtcDateTime()),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "meetup_rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("ran_at", UtcDateTime(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.UniqueConstraint("platform", "scheduled_for", name="uq_meetup_round"),
    )
    op.create_table(
        "meetup_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "round_id", sa.Integer(), sa.ForeignKey("meetup_rounds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("regions", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("thread", sa.String(128)),
        sa.Column("message_id", sa.String(128)),
    )
    op.create_index("ix_meetup_groups_round_id", "meetup_groups", ["round_id"])
    op.create_table(
        "meetup_group_members",
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("meetup_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_id", sa.Integer(), _member_fk(), primary_key=True),
        sa.Column("met", sa.String(10)),
        sa.Column("answered_at", UtcDateTime()),
    )
    op.create_index("ix_meetup_group_members_member_id", "meetup_group_members", ["member_id"])
    op.create_table(
        "meetup_sitouts",
        sa.Column(
            "round_id",
            sa.Integer(),
            sa.ForeignKey("meetup_rounds.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("member_id", sa.Integer(), _member_fk(), primary_key=True),
        sa.Column("reason", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "meetup_sitouts",
        "meetup_group_members",
        "meetup_groups",
        "meetup_rounds",
        "meetup_schedules",
        "meetup_avoids",
        "meetup_members",
    ):
        op.drop_table(table)
