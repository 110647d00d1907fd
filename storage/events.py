"""Calendar storage: events, per-occurrence changes (cancelled, moved) and RSVPs.

An occurrence's identity is its ORIGINAL UTC start from the rule, so an RSVP or a reminder stays
attached to it when an admin moves it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import CalendarEvent, EventChange, EventRsvp

RSVP_STATUSES = ("going", "maybe", "no")


@dataclass(frozen=True)
class EventInput:
    platform: str
    channel: str
    title: str
    start_local: datetime  # naive local wall-clock time
    timezone: str
    duration_minutes: int
    description: str = ""
    rrule: str | None = None
    dates: tuple[date, ...] = ()
    breakouts: tuple[str, ...] = ()
    reminders: tuple[int, ...] = (1440, 60)
    created_by: str = ""


@dataclass(frozen=True)
class EventRecord:
    id: int
    platform: str
    channel: str
    title: str
    description: str
    start_local: datetime
    timezone: str
    duration_minutes: int
    rrule: str | None
    dates: tuple[date, ...]
    breakouts: tuple[str, ...]
    reminders: tuple[int, ...]
    created_by: str
    sequence: int
    cancelled_at: datetime | None
    cancelled: frozenset[datetime] = frozenset()
    moved: dict[datetime, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Rsvp:
    event_id: int
    original: datetime
    platform: str
    user_id: str
    status: str
    locale: str


def _record(row: CalendarEvent, changes: list[EventChange]) -> EventRecord:
    return EventRecord(
        id=row.id,
        platform=row.platform,
        channel=row.channel,
        title=row.title,
        description=row.description,
        start_local=datetime.fromisoformat(row.start_local),
        timezone=row.timezone,
        duration_minutes=row.duration_minutes,
        rrule=row.rrule,
        dates=tuple(date.fromisoformat(d) for d in json.loads(row.dates or "[]")),
        breakouts=tuple(json.loads(row.breakouts or "[]")),
        reminders=tuple(int(m) for m in row.reminders.split(",") if m.strip()),
        created_by=row.created_by,
        sequence=row.sequence,
        cancelled_at=row.cancelled_at,
        cancelled=frozenset(c.original for c in changes if c.status == "cancelled"),
        moved={c.original: c.new_start for c in changes if c.status == "moved" and c.new_start is not None},
    )


def _values(data: EventInput) -> dict[str, object]:
    return {
        "platform": data.platform,
        "channel": data.channel,
        "title": data.title,
        "description": data.description,
        "start_local": data.start_local.strftime("%Y-%m-%dT%H:%M"),
        "timezone": data.timezone,
        "duration_minutes": data.duration_minutes,
        "rrule": data.rrule,
        "dates": json.dumps([d.isoformat() for d in data.dates]) if data.dates else None,
        "breakouts": json.dumps(list(data.breakouts)),
        "reminders": ",".join(str(m) for m in data.reminders),
    }


class EventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, data: EventInput, at: datetime) -> EventRecord:
        async with self._db.sessions() as session, session.begin():
            row = CalendarEvent(
                **_values(data), created_by=data.created_by, created_at=at, updated_at=at, sequence=0
            )
            session.add(row)
            await session.flush()
            return _record(row, [])

    async def update(self, event_id: int, data: EventInput, at: datetime) -> EventRecord | None:
        async with self._db.sessions() as session, session.begin():
            row = await session.get(CalendarEvent, event_id)
            if row is None:
                return None
            for key, value in _values(data).items():
                setattr(row, key, value)
            row.updated_at, row.sequence = at, row.sequence + 1
        return await self.get(event_id)

    async def get(self, event_id: int) -> EventRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(CalendarEvent, event_id)
            if row is None:
                return None
            changes = list(
                (await session.execute(select(EventChange).where(EventChange.event_id == event_id))).scalars()
            )
            return _record(row, changes)

    async def get_many(self, event_ids: Sequence[int]) -> dict[int, EventRecord]:
        """Several events with their changes, in two queries."""
        ids = sorted(set(event_ids))
        if not ids:
            return {}
        async with self._db.sessions() as session:
            rows = list(
                (await session.execute(select(CalendarEvent).where(CalendarEvent.id.in_(ids)))).scalars()
            )
            changes: dict[int, list[EventChange]] = {}
            found = await session.execute(select(EventChange).where(EventChange.event_id.in_(ids)))
            for change in found.scalars():
                changes.setdefault(change.event_id, []).append(change)
            return {r.id: _record(r, changes.get(r.id, [])) for r in rows}

    async def going_many(
        self, occurrences: Sequence[tuple[int, datetime]]
    ) -> dict[tuple[int, datetime], list[Rsvp]]:
        """Everyone going, for several (event, occurrence) at once."""
        wanted = set(occurrences)
        out: dict[tuple[int, datetime], list[Rsvp]] = {o: [] for o in wanted}
        if not wanted:
            return out
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(EventRsvp)
                .where(EventRsvp.event_id.in_(sorted({e for e, _ in wanted})), EventRsvp.status == "going")
                .order_by(EventRsvp.answered_at)
            )
            for r in rows.scalars():
                if (r.event_id, r.original) in wanted:
                    out[(r.event_id, r.original)].append(
                        Rsvp(r.event_id, r.original, r.platform, r.user_id, r.status, r.locale)
                    )
        return out

    async def active(self, platform: str | None = None, channel: str | None = None) -> list[EventRecord]:
        """Events not cancelled as a whole, with their occurrence changes."""
        async with self._db.sessions() as session:
            stmt = (
                select(CalendarEvent).where(CalendarEvent.cancelled_at.is_(None)).order_by(CalendarEvent.id)
            )
            if platform is not None:
                stmt = stmt.where(CalendarEvent.platform == platform)
            if channel is not None:
                stmt = stmt.where(CalendarEvent.channel == channel)
            rows = list((await session.execute(stmt)).scalars())
            changes: dict[int, list[EventChange]] = {}
            if rows:
                found = await session.execute(
                    select(EventChange).where(EventChange.event_id.in_([r.id for r in rows]))
                )
                for change in found.scalars():
                    changes.setdefault(change.event_id, []).append(change)
            return [_record(r, changes.get(r.id, [])) for r in rows]

    async def cancel_series(self, event_id: int, at: datetime) -> bool:
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(CalendarEvent)
                .where(CalendarEvent.id == event_id, CalendarEvent.cancelled_at.is_(None))
                .values(cancelled_at=at, sequence=CalendarEvent.sequence + 1)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def change(
        self, event_id: int, original: datetime, status: str, new_start: datetime | None, at: datetime
    ) -> None:
        """Cancel or move one occurrence (a later change replaces an earlier one)."""
        async with self._db.sessions() as session, session.begin():
            existing = await session.get(EventChange, (event_id, original))
            if existing is None:
                session.add(
                    EventChange(
                        event_id=event_id,
                        original=original,
                        status=status,
                        new_start=new_start,
                        changed_at=at,
                    )
                )
            else:
                existing.status, existing.new_start, existing.changed_at = status, new_start, at
            await session.execute(
                update(CalendarEvent)
                .where(CalendarEvent.id == event_id)
                .values(sequence=CalendarEvent.sequence + 1, updated_at=at)
            )

    async def rsvp(self, item: Rsvp, at: datetime) -> None:
        """Insert or replace one person's answer for one occurrence."""
        values = {
            "event_id": item.event_id,
            "original": item.original,
            "platform": item.platform,
            "user_id": item.user_id,
            "status": item.status,
            "locale": item.locale,
            "answered_at": at,
        }
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        stmt = insert(EventRsvp).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["event_id", "original", "platform", "user_id"],
            set_={"status": item.status, "locale": item.locale, "answered_at": at},
        )
        async with self._db.sessions() as session, session.begin():
            await session.execute(stmt)

    async def rsvps(self, event_id: int, original: datetime, status: str | None = None) -> list[Rsvp]:
        async with self._db.sessions() as session:
            stmt = select(EventRsvp).where(EventRsvp.event_id == event_id, EventRsvp.original == original)
            if status is not None:
                stmt = stmt.where(EventRsvp.status == status)
            rows = (await session.execute(stmt.order_by(EventRsvp.answered_at))).scalars()
            return [Rsvp(r.event_id, r.original, r.platform, r.user_id, r.status, r.locale) for r in rows]

    async def going_after(self, event_id: int, since: datetime) -> list[Rsvp]:
        """Everyone going to an occurrence of this event from `since` on (for change notices)."""
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(EventRsvp)
                    .where(
                        EventRsvp.event_id == event_id,
                        EventRsvp.original >= since,
                        EventRsvp.status == "going",
                    )
                    .order_by(EventRsvp.original)
                )
            ).scalars()
            return [Rsvp(r.event_id, r.original, r.platform, r.user_id, r.status, r.locale) for r in rows]

    async def mine(self, platform: str, user_id: str, since: datetime) -> list[Rsvp]:
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(EventRsvp).where(
                        EventRsvp.platform == platform,
                        EventRsvp.user_id == user_id,
                        EventRsvp.original >= since,
                        EventRsvp.status.in_(("going", "maybe")),
                    )
                )
            ).scalars()
            return [Rsvp(r.event_id, r.original, r.platform, r.user_id, r.status, r.locale) for r in rows]

    async def delete_all(self) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(delete(CalendarEvent))
