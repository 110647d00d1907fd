"""World Café storage: sessions with their seating plan, participants, tablecloths and notes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import CafeNote, CafeParticipant, CafeSession, CafeTable

Seating = list[list[list[str]]]  # rounds[r][table] = user ids


@dataclass(frozen=True)
class SessionRecord:
    id: int
    platform: str
    channel: str
    template_id: str
    locale: str
    host_user_id: str
    status: str
    starts_at: datetime | None
    current_round: int
    round_ends_at: datetime | None
    paused_seconds_left: int | None
    seed: int
    seating: Seating
    announcement: str | None


@dataclass(frozen=True)
class Participant:
    user_id: str
    display_name: str
    locale: str
    table_host: bool


@dataclass(frozen=True)
class TableRecord:
    session_id: int
    round_index: int
    table_index: int
    channel: str
    thread: str
    message_id: str
    closed_at: datetime | None


@dataclass(frozen=True)
class Note:
    round_index: int
    table_index: int
    user_id: str
    display_name: str
    text: str
    created_at: datetime


def _session(row: CafeSession) -> SessionRecord:
    return SessionRecord(
        row.id,
        row.platform,
        row.channel,
        row.template_id,
        row.locale,
        row.host_user_id,
        row.status,
        row.starts_at,
        row.current_round,
        row.round_ends_at,
        row.paused_seconds_left,
        row.seed,
        json.loads(row.seating or "[]"),
        row.announcement,
    )


def _table(row: CafeTable) -> TableRecord:
    return TableRecord(
        row.session_id,
        row.round_index,
        row.table_index,
        row.channel,
        row.thread,
        row.message_id,
        row.closed_at,
    )


class CafeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, **values: Any) -> SessionRecord:
        async with self._db.sessions() as session, session.begin():
            row = CafeSession(current_round=-1, seating="[]", **values)
            session.add(row)
            await session.flush()
            return _session(row)

    async def get(self, session_id: int) -> SessionRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(CafeSession, session_id)
            return _session(row) if row else None

    async def current(self, platform: str, channel: str | None = None) -> SessionRecord | None:
        """The newest session on this platform (in this channel) that has not ended."""
        async with self._db.sessions() as session:
            stmt = select(CafeSession).where(CafeSession.platform == platform, CafeSession.status != "ended")
            if channel is not None:
                stmt = stmt.where(CafeSession.channel == channel)
            row = (await session.execute(stmt.order_by(CafeSession.id.desc()).limit(1))).scalar_one_or_none()
            return _session(row) if row else None

    async def update(self, session_id: int, *, expect_round: int | None = None, **values: Any) -> bool:
        """Change a session; with `expect_round`, only if it is still in that round (so two runs of the
        same transition, a retry or a second leader, cannot both advance it)."""
        if "seating" in values:
            values["seating"] = json.dumps(values["seating"])
        async with self._db.sessions() as session, session.begin():
            stmt = update(CafeSession).where(CafeSession.id == session_id)
            if expect_round is not None:
                stmt = stmt.where(CafeSession.current_round == expect_round)
            result = await session.execute(stmt.values(**values))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def join(self, session_id: int, person: Participant, at: datetime) -> bool:
        """True when new; a second join only updates the host flag."""
        async with self._db.sessions() as session, session.begin():
            row = await session.get(CafeParticipant, (session_id, person.user_id))
            if row is not None:
                row.table_host = row.table_host or person.table_host
                return False
            session.add(
                CafeParticipant(
                    session_id=session_id,
                    user_id=person.user_id,
                    display_name=person.display_name,
                    locale=person.locale,
                    table_host=person.table_host,
                    joined_at=at,
                )
            )
            return True

    async def participants(self, session_id: int) -> list[Participant]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(CafeParticipant)
                .where(CafeParticipant.session_id == session_id)
                .order_by(CafeParticipant.joined_at, CafeParticipant.user_id)
            )
            return [Participant(r.user_id, r.display_name, r.locale, r.table_host) for r in rows.scalars()]

    async def add_table(self, record: TableRecord) -> bool:
        try:
            async with self._db.sessions() as session, session.begin():
                session.add(
                    CafeTable(
                        session_id=record.session_id,
                        round_index=record.round_index,
                        table_index=record.table_index,
                        channel=record.channel,
                        thread=record.thread,
                        message_id=record.message_id,
                    )
                )
            return True
        except IntegrityError:
            return False

    async def tables(self, session_id: int, round_index: int | None = None) -> list[TableRecord]:
        async with self._db.sessions() as session:
            stmt = select(CafeTable).where(CafeTable.session_id == session_id)
            if round_index is not None:
                stmt = stmt.where(CafeTable.round_index == round_index)
            rows = await session.execute(stmt.order_by(CafeTable.round_index, CafeTable.table_index))
            return [_table(r) for r in rows.scalars()]

    async def table_by_thread(self, platform: str, thread: str) -> tuple[SessionRecord, TableRecord] | None:
        async with self._db.sessions() as session:
            row = (
                await session.execute(
                    select(CafeSession, CafeTable)
                    .join(CafeTable, CafeTable.session_id == CafeSession.id)
                    .where(CafeTable.thread == thread, CafeSession.platform == platform)
                )
            ).first()
            return (_session(row[0]), _table(row[1])) if row else None

    async def close_tables(self, session_id: int, round_index: int, at: datetime) -> list[TableRecord]:
        """Close the round's open tablecloths; returns those this call closed."""
        async with self._db.sessions() as session, session.begin():
            rows = list(
                (
                    await session.execute(
                        select(CafeTable).where(
                            CafeTable.session_id == session_id,
                            CafeTable.round_index == round_index,
                            CafeTable.closed_at.is_(None),
                        )
                    )
                ).scalars()
            )
            for row in rows:
                row.closed_at = at
            return [_table(r) for r in rows]

    async def add_note(self, session_id: int, table: TableRecord, user_id: str, name: str, message_id: str,
                       text: str, at: datetime) -> bool:  # fmt: skip
        try:
            async with self._db.sessions() as session, session.begin():
                session.add(
                    CafeNote(
                        session_id=session_id,
                        round_index=table.round_index,
                        table_index=table.table_index,
                        user_id=user_id,
                        display_name=name,
                        message_id=message_id,
                        text=text,
                        created_at=at,
                    )
                )
            return True
        except IntegrityError:
            return False

    async def notes(self, session_id: int) -> list[Note]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(CafeNote)
                .where(CafeNote.session_id == session_id)
                .order_by(CafeNote.round_index, CafeNote.table_index, CafeNote.created_at, CafeNote.id)
            )
            return [
                Note(r.round_index, r.table_index, r.user_id, r.display_name, r.text, r.created_at)
                for r in rows.scalars()
            ]

    async def note_count(self, session_id: int) -> int:
        async with self._db.sessions() as session:
            stmt = select(func.count()).where(CafeNote.session_id == session_id)
            return int((await session.execute(stmt)).scalar_one())
