"""Q&A: answers, routing notifications, the question's subject, programme, language and solution; and
the scheduled-jobs table the scheduler persists its work in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("subject", sa.String(64)))
        batch.add_column(sa.Column("programme", sa.String(16)))
        batch.add_column(sa.Column("language", sa.String(8)))
        batch.add_column(sa.Column("asker_timezone", sa.String(64)))
        batch.add_column(sa.Column("solved_at", UtcDateTime()))
        batch.add_column(sa.Column("solved_answer_id", sa.Integer()))
        batch.add_column(sa.Column("waves_sent", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "question_id", sa.Integer(), sa.ForeignKey("questions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("question_id", "message_id", name="uq_answer_message"),
    )
    op.create_index("ix_answers_question_id", "answers", ["question_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "question_id", sa.Integer(), sa.ForeignKey("questions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("question_id", "member_id", name="uq_notification_member"),
    )
    op.create_index("ix_notifications_question_id", "notifications", ["question_id"])
    op.create_index("ix_notifications_member_sent", "notifications", ["member_id", "sent_at"])

    op.create_table(
        "scheduled_jobs",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("run_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.create_index("ix_scheduled_jobs_run_at", "scheduled_jobs", ["run_at"])


def downgrade() -> None:
    op.drop_table("scheduled_jobs")
    op.drop_table("notifications")
    op.drop_table("answers")
    with op.batch_alter_table("questions") as batch:
        for column in ("waves_sent", "solved_answer_id", "solved_at", "asker_timezone"):
            batch.drop_column(column)
        for column in ("language", "programme", "subject"):
            batch.drop_column(column)
