"""Questions asked with /ask, keyed by their source event so a re-delivery cannot duplicate them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Question


@dataclass(frozen=True)
class NewQuestion:
    platform: str
    source_event_id: str
    asker_user_id: str
    asker_name: str
    asker_locale: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    platform: str
    asker_user_id: str
    asker_name: str
    asker_locale: str
    text: str
    channel: str | None
    thread_ref: str | None
    root_message_id: str | None
    permalink: str | None
    created_at: datetime
    first_answer_at: datetime | None
    first_answerer_user_id: str | None


def _record(q: Question) -> QuestionRecord:
    return QuestionRecord(
        id=q.id,
        platform=q.platform,
        asker_user_id=q.asker_user_id,
        asker_name=q.asker_name,
        asker_locale=q.asker_locale,
        text=q.text,
        channel=q.channel,
        thread_ref=q.thread_ref,
        root_message_id=q.root_message_id,
        permalink=q.permalink,
        created_at=q.created_at,
        first_answer_at=q.first_answer_at,
        first_answerer_user_id=q.first_answerer_user_id,
    )


class QuestionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewQuestion) -> tuple[QuestionRecord, bool]:
        """Insert, or return the question already stored for this event (created=False)."""
        try:
            async with self._db.sessions() as session, session.begin():
                q = Question(
                    platform=new.platform,
                    source_event_id=new.source_event_id,
                    asker_user_id=new.asker_user_id,
                    asker_name=new.asker_name,
                    asker_locale=new.asker_locale,
                    text=new.text,
                    created_at=new.created_at,
                )
                session.add(q)
                await session.flush()
                return _record(q), True
        except IntegrityError:
            existing = await self.by_source_event(new.platform, new.source_event_id)
            if existing is None:
                raise
            return existing, False

    async def by_source_event(self, platform: str, event_id: str) -> QuestionRecord | None:
        async with self._db.sessions() as session:
            stmt = select(Question).where(Question.platform == platform, Question.source_event_id == event_id)
            q = (await session.execute(stmt)).scalar_one_or_none()
            return _record(q) if q else None

    async def get(self, question_id: int) -> QuestionRecord | None:
        async with self._db.sessions() as session:
            q = await session.get(Question, question_id)
            return _record(q) if q else None

    async def attach_thread(
        self,
        question_id: int,
        *,
        channel: str,
        thread_ref: str | None,
        root_message_id: str,
        permalink: str | None,
    ) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                update(Question)
                .where(Question.id == question_id)
                .values(
                    channel=channel,
                    thread_ref=thread_ref,
                    root_message_id=root_message_id,
                    permalink=permalink,
                )
            )

    async def by_thread(self, platform: str, thread_ref: str) -> QuestionRecord | None:
        async with self._db.sessions() as session:
            stmt = select(Question).where(Question.platform == platform, Question.thread_ref == thread_ref)
            q = (await session.execute(stmt)).scalars().first()
            return _record(q) if q else None

    async def record_answer(self, question_id: int, user_id: str, at: datetime) -> bool:
        """Set the first answer once; True only for the reply that became the first answer."""
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(Question)
                .where(Question.id == question_id, Question.first_answer_at.is_(None))
                .values(first_answer_at=at, first_answerer_user_id=user_id)
            )
            return bool(getattr(result, "rowcount", 0))


async def first_answer_counts(db: Database, since: datetime) -> dict[tuple[str, str], int]:
    """How many questions each (platform, user id) answered first since `since`: helpfulness."""
    from sqlalchemy import func

    stmt = (
        select(Question.platform, Question.first_answerer_user_id, func.count())
        .where(Question.first_answer_at >= since, Question.first_answerer_user_id.is_not(None))
        .group_by(Question.platform, Question.first_answerer_user_id)
    )
    async with db.sessions() as session:
        return {(p, str(u)): int(n) for p, u, n in (await session.execute(stmt)).all()}


async def anonymise(db: Database, identities: list[tuple[str, str]]) -> int:
    """Keep the Q&A text, remove who asked and who answered (for /forget-me); returns rows touched."""
    touched = 0
    async with db.sessions() as session, session.begin():
        for platform, user_id in identities:
            asked = await session.execute(
                update(Question)
                .where(Question.platform == platform, Question.asker_user_id == user_id)
                .values(asker_user_id="", asker_name="")
            )
            answered = await session.execute(
                update(Question)
                .where(Question.platform == platform, Question.first_answerer_user_id == user_id)
                .values(first_answerer_user_id="")
            )
            touched += int(getattr(asked, "rowcount", 0)) + int(getattr(answered, "rowcount", 0))
    return touched
