"""Repository contracts, run on SQLite and on PostgreSQL from the same code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.deliveries import DeliveryLedger
from storage.members import MemberInput, MemberRepository
from storage.migrate import current_revision, head_revision
from storage.models import Base
from storage.qa_search import include_name
from storage.questions import NewQuestion, QuestionRepository

NOW = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)


async def test_migrations_reach_head_idempotently_and_match_the_models(db: Database) -> None:
    await db.upgrade()  # a second run changes nothing
    assert await current_revision(db.engine) == head_revision()

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upsert_links_identities_of_one_person_and_reimport_changes_nothing(db: Database) -> None:
    members = MemberRepository(db)
    first = await members.upsert(
        MemberInput(
            name="Ana Ruiz",
            email="Ana@Example.org",
            identities={"slack": "U1"},
            roles=["examiner"],
            subjects=["biology"],
            timezone="Europe/Madrid",
        ),
        NOW,
    )
    same = await members.upsert(
        MemberInput(
            name="Ana Ruiz",
            email="ana@example.org",
            identities={"discord": "42"},
            roles=["examiner"],
            subjects=["biology", "chemistry"],
            timezone="Europe/Madrid",
        ),
        NOW,
    )
    assert same == first
    assert await members.count() == 1
    card = await members.get_by_identity("discord", "42")
    assert card is not None and card.identities == {"slack": "U1", "discord": "42"}
    assert card.subjects == ("biology", "chemistry")
    again = await members.upsert(
        MemberInput(name="Ana Ruiz", email="ana@example.org", roles=["examiner"], subjects=["biology"]), NOW
    )
    assert again == first and await members.count() == 1


async def test_the_changelog_names_every_written_member_once_per_write(db: Database) -> None:
    members = MemberRepository(db)
    before = await members.version()
    a = await members.upsert(MemberInput(name="A", roles=["examiner"], subjects=["biology"]), NOW)
    b = await members.upsert(MemberInput(name="B", email="b@x.org"), NOW)
    await members.set_visibility(a, "hidden")
    version, changed = await members.changes_since(before)
    assert changed == {a, b} and version == before + 3
    await members.delete(b)
    assert (await members.changes_since(version))[1] == {b}
    assert await members.get(b) is None
    cards = await members.cards()
    assert [(c.name, c.visibility, c.roles, c.subjects) for c in cards] == [
        ("A", "hidden", ("examiner",), ("biology",))
    ]


async def test_questions_are_idempotent_per_source_event_and_keep_the_first_answer(db: Database) -> None:
    questions = QuestionRepository(db)
    new = NewQuestion("slack", "trigger-1", "U1", "Ana", "es", "How?", NOW)
    q, created = await questions.create(new)
    again, created_again = await questions.create(new)
    assert created and not created_again and again.id == q.id
    await questions.attach_thread(
        q.id, channel="C1", thread_ref="123.4", root_message_id="123.4", permalink="p"
    )
    found = await questions.by_thread("slack", "123.4")
    assert found is not None and found.created_at == NOW and found.created_at.tzinfo is not None
    assert await questions.record_answer(q.id, "U2", NOW + timedelta(minutes=3))
    assert not await questions.record_answer(q.id, "U3", NOW + timedelta(minutes=4))
    answered = await questions.get(q.id)
    assert answered is not None
    assert answered.first_answerer_user_id == "U2" and answered.first_answer_at == NOW + timedelta(minutes=3)


async def test_the_ledger_lets_exactly_one_claim_through_until_released(db: Database) -> None:
    ledger = DeliveryLedger(db)
    assert await ledger.claim("k", "test", NOW)
    assert not await ledger.claim("k", "test", NOW)
    await ledger.release("k")
    assert await ledger.claim("k", "test", NOW)
    await ledger.mark_sent("k", NOW)
    await ledger.release("k")  # a sent delivery is never released
    assert not await ledger.claim("k", "test", NOW)
    assert await ledger.sent_at("k") == NOW


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await DeliveryLedger(db).claim("naive", "test", datetime(2026, 1, 1))
