"""Meet-up storage: who takes part and how often, the round schedule, rounds, groups and answers.

A round is unique per (platform, scheduled time): a replayed or retried round job finds the groups it
already formed instead of matching again, and the delivery ledger keeps each invitation single.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import (
    MeetupAvoid,
    MeetupGroup,
    MeetupGroupMember,
    MeetupMember,
    MeetupRound,
    MeetupSchedule,
    MeetupSitOut,
)


@dataclass(frozen=True)
class Participation:
    member_id: int
    platform: str
    cadence_weeks: int
    group_size: int
    paused_until: datetime | None
    joined_at: datetime


@dataclass(frozen=True)
class ScheduleRecord:
    platform: str
    cadence_weeks: int
    weekday: int
    at_minutes: int
    timezone: str
    channel: str | None
    next_round_at: datetime | None


@dataclass(frozen=True)
class GroupRecord:
    id: int
    round_id: int
    member_ids: tuple[int, ...]
    weight: int
    regions: int
    channel: str | None
    thread: str | None
    message_id: str | None


@dataclass(frozen=True)
class RoundRecord:
    id: int
    platform: str
    scheduled_for: datetime
    seed: int
    eligible: int


@dataclass(frozen=True)
class NewGroup:
    member_ids: tuple[int, ...]
    weight: int
    regions: int


@dataclass(frozen=True)
class MeetupStats:
    rounds: int
    eligible: int
    matched: int
    groups: int
    groups_answered: int
    groups_met: int
    cross_region_groups: int


def _participation(row: MeetupMember) -> Participation:
    return Participation(
        row.member_id, row.platform, row.cadence_weeks, row.group_size, row.paused_until, row.joined_at
    )


class MeetupRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- membership ---------------------------------------------------------------------------
    async def join(
        self, member_id: int, platform: str, cadence_weeks: int, group_size: int, at: datetime
    ) -> bool:
        """Join, or update settings and lift a pause; True when the member was not in yet."""
        async with self._db.sessions() as session, session.begin():
            row = await session.get(MeetupMember, member_id)
            if row is None:
                session.add(
                    MeetupMember(
                        member_id=member_id,
                        platform=platform,
                        cadence_weeks=cadence_weeks,
                        group_size=group_size,
                        paused_until=None,
                        joined_at=at,
                    )
                )
                return True
            row.platform, row.cadence_weeks, row.group_size, row.paused_until = (
                platform,
                cadence_weeks,
                group_size,
                None,
            )
            return False

    async def get(self, member_id: int) -> Participation | None:
        async with self._db.sessions() as session:
            row = await session.get(MeetupMember, member_id)
            return _participation(row) if row else None

    async def pause(self, member_id: int, until: datetime) -> bool:
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(MeetupMember).where(MeetupMember.member_id == member_id).values(paused_until=until)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def leave(self, member_id: int) -> bool:
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(delete(MeetupMember).where(MeetupMember.member_id == member_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def participants(self, platform: str) -> list[Participation]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(MeetupMember).where(MeetupMember.platform == platform).order_by(MeetupMember.member_id)
            )
            return [_participation(r) for r in rows.scalars()]

    async def count(self, platform: str, at: datetime) -> int:
        """Members who will be in the next round (joined here, not paused at `at`)."""
        async with self._db.sessions() as session:
            stmt = select(func.count()).where(
                MeetupMember.platform == platform,
                or_(MeetupMember.paused_until.is_(None), MeetupMember.paused_until <= at),
            )
            return int((await session.execute(stmt)).scalar_one())

    # -- "don't match me with" ----------------------------------------------------------------
    async def avoid(self, member_id: int, other_id: int) -> bool:
        try:
            async with self._db.sessions() as session, session.begin():
                session.add(MeetupAvoid(member_id=member_id, avoided_member_id=other_id))
            return True
        except IntegrityError:
            return False

    async def unavoid(self, member_id: int, other_id: int) -> bool:
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                delete(MeetupAvoid).where(
                    MeetupAvoid.member_id == member_id, MeetupAvoid.avoided_member_id == other_id
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def avoided_by(self, member_id: int) -> list[int]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(MeetupAvoid.avoided_member_id).where(MeetupAvoid.member_id == member_id)
            )
            return sorted(rows.scalars())

    async def all_avoids(self) -> dict[int, set[int]]:
        """Both directions: if A avoids B, neither is matched with the other."""
        out: dict[int, set[int]] = defaultdict(set)
        async with self._db.sessions() as session:
            for a, b in await session.execute(select(MeetupAvoid.member_id, MeetupAvoid.avoided_member_id)):
                out[a].add(b)
                out[b].add(a)
        return dict(out)

    # -- schedule -------------------------------------------------------------------------------
    async def schedule(self, platform: str) -> ScheduleRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(MeetupSchedule, platform)
            if row is None:
                return None
            return ScheduleRecord(
                row.platform,
                row.cadence_weeks,
                row.weekday,
                row.at_minutes,
                row.timezone,
                row.channel,
                row.next_round_at,
            )

    async def set_schedule(self, record: ScheduleRecord, at: datetime) -> None:
        async with self._db.sessions() as session, session.begin():
            row = await session.get(MeetupSchedule, record.platform)
            if row is None:
                row = MeetupSchedule(platform=record.platform)
                session.add(row)
            row.cadence_weeks, row.weekday, row.at_minutes = (
                record.cadence_weeks,
                record.weekday,
                record.at_minutes,
            )
            row.timezone, row.channel, row.next_round_at, row.updated_at = (
                record.timezone,
                record.channel,
                record.next_round_at,
                at,
            )

    async def delete_schedule(self, platform: str) -> bool:
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(delete(MeetupSchedule).where(MeetupSchedule.platform == platform))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_next_round(self, platform: str, when: datetime | None) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                update(MeetupSchedule).where(MeetupSchedule.platform == platform).values(next_round_at=when)
            )

    # -- rounds ---------------------------------------------------------------------------------
    async def round_at(self, platform: str, scheduled_for: datetime) -> RoundRecord | None:
        async with self._db.sessions() as session:
            row = (
                await session.execute(
                    select(MeetupRound).where(
                        MeetupRound.platform == platform, MeetupRound.scheduled_for == scheduled_for
                    )
                )
            ).scalar_one_or_none()
            return (
                RoundRecord(row.id, row.platform, row.scheduled_for, row.seed, row.eligible) if row else None
            )

    async def get_round(self, round_id: int) -> RoundRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(MeetupRound, round_id)
            return (
                RoundRecord(row.id, row.platform, row.scheduled_for, row.seed, row.eligible) if row else None
            )

    async def record_round(
        self,
        platform: str,
        scheduled_for: datetime,
        *,
        ran_at: datetime,
        seed: int,
        eligible: int,
        groups: Sequence[NewGroup],
        sitouts: Sequence[tuple[int, str]],
    ) -> tuple[RoundRecord, bool]:
        """Store a round with its groups in one transaction; (round, False) if it already existed."""
        try:
            async with self._db.sessions() as session, session.begin():
                row = MeetupRound(
                    platform=platform,
                    scheduled_for=scheduled_for,
                    ran_at=ran_at,
                    seed=seed,
                    eligible=eligible,
                )
                session.add(row)
                await session.flush()
                rows = [MeetupGroup(round_id=row.id, weight=g.weight, regions=g.regions) for g in groups]
                session.add_all(rows)
                await session.flush()  # one batched INSERT … RETURNING for every group's id
                session.add_all(
                    MeetupGroupMember(group_id=g.id, member_id=m)
                    for g, group in zip(rows, groups, strict=True)
                    for m in group.member_ids
                )
                session.add_all(
                    MeetupSitOut(round_id=row.id, member_id=m, reason=reason) for m, reason in sitouts
                )
                record = RoundRecord(row.id, platform, scheduled_for, seed, eligible)
            return record, True
        except IntegrityError:
            existing = await self.round_at(platform, scheduled_for)
            if existing is None:
                raise
            return existing, False

    async def groups(self, round_id: int) -> list[GroupRecord]:
        async with self._db.sessions() as session:
            groups = (
                await session.execute(
                    select(MeetupGroup).where(MeetupGroup.round_id == round_id).order_by(MeetupGroup.id)
                )
            ).scalars()
            return await self._with_members(session, list(groups))

    async def group(self, group_id: int) -> GroupRecord | None:
        async with self._db.sessions() as session:
            row = await session.get(MeetupGroup, group_id)
            if row is None:
                return None
            return (await self._with_members(session, [row]))[0]

    @staticmethod
    async def _with_members(session: AsyncSession, groups: list[MeetupGroup]) -> list[GroupRecord]:
        members: dict[int, list[int]] = defaultdict(list)
        if groups:
            rows = await session.execute(
                select(MeetupGroupMember.group_id, MeetupGroupMember.member_id)
                .where(MeetupGroupMember.group_id.in_([g.id for g in groups]))
                .order_by(MeetupGroupMember.member_id)
            )
            for group_id, member_id in rows:
                members[group_id].append(member_id)
        return [
            GroupRecord(
                g.id, g.round_id, tuple(members[g.id]), g.weight, g.regions, g.channel, g.thread, g.message_id
            )
            for g in groups
        ]

    async def sitouts(self, round_id: int) -> list[tuple[int, str]]:
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(MeetupSitOut.member_id, MeetupSitOut.reason)
                .where(MeetupSitOut.round_id == round_id)
                .order_by(MeetupSitOut.member_id)
            )
            return [(m, r) for m, r in rows]

    async def set_conversation(
        self, group_id: int, channel: str, thread: str | None, message_id: str
    ) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                update(MeetupGroup)
                .where(MeetupGroup.id == group_id)
                .values(channel=channel, thread=thread, message_id=message_id)
            )

    async def record_met(self, group_id: int, member_id: int, met: str, at: datetime) -> bool:
        """The member's answer to "Did you meet?" (the last one counts); False if not in the group."""
        async with self._db.sessions() as session, session.begin():
            result = await session.execute(
                update(MeetupGroupMember)
                .where(MeetupGroupMember.group_id == group_id, MeetupGroupMember.member_id == member_id)
                .values(met=met, answered_at=at)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def last_matched(self, member_ids: Sequence[int]) -> dict[int, datetime]:
        """When each member was last in a group (the round's scheduled time), for their cadence."""
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(MeetupGroupMember.member_id, func.max(MeetupRound.scheduled_for))
                .join(MeetupGroup, MeetupGroup.id == MeetupGroupMember.group_id)
                .join(MeetupRound, MeetupRound.id == MeetupGroup.round_id)
                .group_by(MeetupGroupMember.member_id)
            )
            wanted = set(member_ids)
            return {m: at for m, at in rows if m in wanted}

    async def recent_pairs(self, platform: str, rounds: int) -> set[frozenset[int]]:
        """Everyone who shared a group in the last `rounds` rounds on this platform."""
        if rounds <= 0:
            return set()
        async with self._db.sessions() as session:
            round_ids = list(
                (
                    await session.execute(
                        select(MeetupRound.id)
                        .where(MeetupRound.platform == platform)
                        .order_by(MeetupRound.scheduled_for.desc())
                        .limit(rounds)
                    )
                ).scalars()
            )
            if not round_ids:
                return set()
            rows = await session.execute(
                select(MeetupGroupMember.group_id, MeetupGroupMember.member_id)
                .join(MeetupGroup, MeetupGroup.id == MeetupGroupMember.group_id)
                .where(MeetupGroup.round_id.in_(round_ids))
            )
            by_group: dict[int, list[int]] = defaultdict(list)
            for group_id, member_id in rows:
                by_group[group_id].append(member_id)
        pairs: set[frozenset[int]] = set()
        for members in by_group.values():
            pairs.update(frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1 :])
        return pairs

    async def history(self, member_id: int, limit: int = 3) -> list[tuple[RoundRecord, GroupRecord]]:
        """The member's last groups, newest first."""
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(MeetupRound, MeetupGroup)
                    .join(MeetupGroup, MeetupGroup.round_id == MeetupRound.id)
                    .join(MeetupGroupMember, MeetupGroupMember.group_id == MeetupGroup.id)
                    .where(MeetupGroupMember.member_id == member_id)
                    .order_by(MeetupRound.scheduled_for.desc())
                    .limit(limit)
                )
            ).all()
            groups = await self._with_members(session, [g for _, g in rows])
            return [
                (RoundRecord(r.id, r.platform, r.scheduled_for, r.seed, r.eligible), g)
                for (r, _), g in zip(rows, groups, strict=True)
            ]

    async def last_sitout(self, member_id: int) -> tuple[RoundRecord, str] | None:
        async with self._db.sessions() as session:
            row = (
                await session.execute(
                    select(MeetupRound, MeetupSitOut.reason)
                    .join(MeetupSitOut, MeetupSitOut.round_id == MeetupRound.id)
                    .where(MeetupSitOut.member_id == member_id)
                    .order_by(MeetupRound.scheduled_for.desc())
                    .limit(1)
                )
            ).first()
            if row is None:
                return None
            r, reason = row
            return RoundRecord(r.id, r.platform, r.scheduled_for, r.seed, r.eligible), reason

    async def stats(self, platform: str, since: datetime) -> MeetupStats:
        async with self._db.sessions() as session:
            rounds = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(MeetupRound.eligible), 0)).where(
                        MeetupRound.platform == platform, MeetupRound.scheduled_for >= since
                    )
                )
            ).one()
            round_ids = select(MeetupRound.id).where(
                MeetupRound.platform == platform, MeetupRound.scheduled_for >= since
            )
            matched = (
                await session.execute(
                    select(func.count())
                    .select_from(MeetupGroupMember)
                    .join(MeetupGroup, MeetupGroup.id == MeetupGroupMember.group_id)
                    .where(MeetupGroup.round_id.in_(round_ids))
                )
            ).scalar_one()
            per_group = (
                await session.execute(
                    select(
                        MeetupGroup.id,
                        MeetupGroup.regions,
                        func.count(MeetupGroupMember.answered_at),
                        func.sum(case((MeetupGroupMember.met == "yes", 1), else_=0)),
                    )
                    .join(MeetupGroupMember, MeetupGroupMember.group_id == MeetupGroup.id)
                    .where(MeetupGroup.round_id.in_(round_ids))
                    .group_by(MeetupGroup.id, MeetupGroup.regions)
                )
            ).all()
        return MeetupStats(
            rounds=int(rounds[0]),
            eligible=int(rounds[1]),
            matched=int(matched),
            groups=len(per_group),
            groups_answered=sum(1 for _, _, answered, _ in per_group if answered),
            groups_met=sum(1 for _, _, _, yes in per_group if yes),
            cross_region_groups=sum(1 for _, regions, _, _ in per_group if regions > 1),
        )
