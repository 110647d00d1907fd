"""Directory: working hours and bio, tags as catalogue term ids, school staff counts, a directory changelog.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("work_start", sa.Integer(), nullable=False, server_default="480"))
        batch.add_column(sa.Column("work_end", sa.Integer(), nullable=False, server_default="1200"))
        batch.add_column(sa.Column("bio", sa.String(500)))

    # Tags written by 0001 hold free text: map each to its catalogue term, drop what does not resolve.
    from bot.catalog import Catalogue

    catalogue = Catalogue.default()
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, member_id, kind, value FROM profile_tags")).fetchall()
    seen: set[tuple[int, str, str]] = set()
    for tag_id, member_id, kind, value in rows:
        term = (
            catalogue.resolve(kind, value).term
            if kind in ("role", "programme", "subject", "language")
            else None
        )
        key = (member_id, kind, term.id if term else "")
        if term is None or key in seen:
            conn.execute(sa.text("DELETE FROM profile_tags WHERE id = :id"), {"id": tag_id})
        else:
            seen.add(key)
            conn.execute(
                sa.text("UPDATE profile_tags SET norm = :t WHERE id = :id"), {"t": term.id, "id": tag_id}
            )

    op.drop_index("ix_profile_tags_kind_norm", table_name="profile_tags")
    with op.batch_alter_table("profile_tags") as batch:
        batch.drop_constraint("uq_profile_tag", type_="unique")
        batch.drop_column("value")
        batch.alter_column("norm", new_column_name="term", existing_type=sa.String(100), type_=sa.String(64))
    with op.batch_alter_table("profile_tags") as batch:  # a second pass: SQLite's copy must see "term"
        batch.create_unique_constraint("uq_profile_tag", ["member_id", "kind", "term"])
    op.create_index("ix_profile_tags_kind_term", "profile_tags", ["kind", "term"])

    op.create_table(
        "school_staff",
        sa.Column("school", sa.String(200), primary_key=True),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "directory_changes",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("directory_changes")
    op.drop_table("school_staff")
    op.drop_index("ix_profile_tags_kind_term", table_name="profile_tags")
    with op.batch_alter_table("profile_tags") as batch:
        batch.drop_constraint("uq_profile_tag", type_="unique")
        batch.alter_column("term", new_column_name="norm", existing_type=sa.String(64), type_=sa.String(100))
        batch.add_column(sa.Column("value", sa.String(100), nullable=False, server_default=""))
        batch.create_unique_constraint("uq_profile_tag", ["member_id", "kind", "norm"])
    op.create_index("ix_profile_tags_kind_norm", "profile_tags", ["kind", "norm"])
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("bio")
        batch.drop_column("work_end")
        batch.drop_column("work_start")
