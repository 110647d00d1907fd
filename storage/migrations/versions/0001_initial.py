"""Initial schema: members, identities, profiles, tags, questions, deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("visibility", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("platform", "user_id", name="uq_identity_platform_user"),
    )
    op.create_index("ix_identities_member_id", "identities", ["member_id"])
    op.create_table(
        "profiles",
        sa.Column(
            "member_id", sa.Integer(), sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("timezone", sa.String(64)),
        sa.Column("region", sa.String(100)),
        sa.Column("school", sa.String(200)),
        sa.Column("department", sa.String(100)),
        sa.Column("locale", sa.String(10)),
        sa.Column("open_to_questions", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "profile_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("norm", sa.String(100), nullable=False),
        sa.UniqueConstraint("member_id", "kind", "norm", name="uq_profile_tag"),
    )
    op.create_index("ix_profile_tags_member_id", "profile_tags", ["member_id"])
    op.create_index("ix_profile_tags_kind_norm", "profile_tags", ["kind", "norm"])
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("source_event_id", sa.String(128), nullable=False),
        sa.Column("asker_user_id", sa.String(64), nullable=False),
        sa.Column("asker_name", sa.String(200), nullable=False),
        sa.Column("asker_locale", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("thread_ref", sa.String(128)),
        sa.Column("root_message_id", sa.String(128)),
        sa.Column("permalink", sa.String(500)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("first_answer_at", UtcDateTime()),
        sa.Column("first_answerer_user_id", sa.String(64)),
        sa.UniqueConstraint("platform", "source_event_id", name="uq_question_source_event"),
    )
    op.create_index("ix_questions_thread_ref", "questions", ["thread_ref"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime()),
    )


def downgrade() -> None:
    for table in ("deliveries", "questions", "profile_tags", "profiles", "identities", "members"):
        op.drop_table(table)
