"""Questions asked with /ask, keyed by their source event so a re-delivery cannot duplicate them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Answer, Notification, Question


@dataclass(frozen=True)
class NewQuestion:
    platform: str
    source_event_id: str
    asker_user_id: str
    asker_name: str
    asker_locale: str
    text: str
    created_at: datetime
    subject: str | None = None
    programme: str | None = None
    language: str | None = None
    asker_timezone: str | None = None


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
    subject: str | None = None
    programme: str | None = None
    language: str | None = None
    asker_timezone: str | None = None
    solved_at: datetime | None = None
    solved_answer_id: int | None = None
    waves_sent: int = 0


@dataclass(frozen=True)
class AnswerRecord:
    id: int
    question_id: int
    platform: str
    user_id: str
    message_id: str
    text: str
    created_at: datetime


def _answer(a: Answer) -> AnswerRecord:
    return AnswerRecord(a.id, a.question_id, a.platform, a.user_id, a.message_id, a.text, a.created_at)


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
        subject=q.subject,
        programme=q.programme,
        language=q.language,
        asker_timezone=q.asker_timezone,
        solved_at=q.solved_at,
        solved_answer_id=q.solved_answer_id,
        waves_sent=q.waves_sent or 0,
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
                    subject=new.subject,
                    programme=new.programme,
                    language=new.language,
                    asker_timezone=new.asker_timezone,
                    waves_sent=0,
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

    async def add_answer(
        self, question_id: int, *, platform: str, user_id: str, message_id: str, text: str, at: datetime
    ) -> tuple[AnswerRecord | None, bool]:
        """Store a thread reply; returns (the answer, whether it became the first answer). A
        re-delivered message returns (None, False)."""
        try:
            async with self._db.sessions() as session, session.begin():
                answer = Answer(
                    question_id=question_id, platform=platform, user_id=user_id, message_id=message_id,
                    text=text, created_at=at,
                )  # fmt: skip
                session.add(answer)
                await session.flush()
                record = _answer(answer)
        except IntegrityError:
            return None, False
        first = await self.record_answer(question_id, user_id, at)
        return record, first

    async def answer_by_message(self, platform: str, message_id: str) -> AnswerRecord | None:
        async with self._db.sessions() as session:
            stmt = select(Answer).where(Answer.platform == platform, Answer.message_id == message_id)
            answer = (await session.execute(stmt)).scalars().first()
            return _answer(answer) if answer else None

    async def answers(self, question_id: int) -> list[AnswerRecord]:
        async with self._db.sessions() as session:
            stmt = (
                select(Answer).where(Answer.question_id == question_id).order_by(Answer.created_at, Answer.id)
            )
            return [_answer(a) for a in (await session.execute(stmt)).scalars()]

    async def mark_solved(self, question_id: int, answer_id: int | None, at: datetime) -> bool:
        """Mark solved once; True only for the call that did it."""
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(Question)
                .where(Question.id == question_id, Question.solved_at.is_(None))
                .values(solved_at=at, solved_answer_id=answer_id)
            )
            return bool(getattr(result, "rowcount", 0))

    async def set_waves_sent(self, question_id: int, waves: int) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(update(Question).where(Question.id == question_id).values(waves_sent=waves))

    async def record_notifications(
        self, question_id: int, member_ids: Sequence[int], wave: int, at: datetime
    ) -> None:
        """Remember who was pinged (the unique key keeps it to once per member and question)."""
        if not member_ids:
            return
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                insert(Notification),
                [
                    {"question_id": question_id, "member_id": m, "wave": wave, "sent_at": at}
                    for m in member_ids
                ],
            )

    async def notified(self, question_id: int) -> set[int]:
        async with self._db.sessions() as session:
            stmt = select(Notification.member_id).where(Notification.question_id == question_id)
            return set((await session.execute(stmt)).scalars())

    async def pings_since(self, since: datetime) -> dict[int, int]:
        """Pings per member since `since`, for the daily cap."""
        async with self._db.sessions() as session:
            stmt = (
                select(Notification.member_id, func.count())
                .where(Notification.sent_at >= since)
                .group_by(Notification.member_id)
            )
            return {int(m): int(n) for m, n in (await session.execute(stmt)).all()}

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
