"""How well the network keeps its promise of an answer within six minutes, for one period.

Counts are aggregated in SQL; the median and 90th percentile of the time to the first answer are
finished in Python, because SQLite has no percentile function and both backends must agree. Only
questions that were posted count: a draft (never posted, so no root message) could not be answered.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.db import Database
from storage.models import Identity, Member, Profile, Question

PROMISE_SECONDS = 6 * 60  # "an answer within six minutes, from all over the world"
TOP_HELPERS = 5


@dataclass(frozen=True)
class GroupStats:
    """One row of the report. `key` is a subject or language term id, or a region as members typed
    it; None means not given. Times are over answered questions only, in seconds."""

    key: str | None
    asked: int
    answered: int  # at least one answer
    solved: int
    on_time: int  # first answer within PROMISE_SECONDS
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def answered_share(self) -> float:
        return self.answered / self.asked if self.asked else 0.0

    @property
    def solved_share(self) -> float:
        return self.solved / self.asked if self.asked else 0.0

    @property
    def on_time_share(self) -> float:
        return self.on_time / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class Helper:
    """Someone who answered first. A member's identities are merged (their first answers on every
    platform add up); a platform user with no member entry has `member_id` and `name` None."""

    platform: str  # where most of their first answers were given
    user_id: str
    name: str | None
    first_answers: int
    member_id: int | None = None
    identities: dict[str, str] = field(default_factory=dict)  # platform -> user id (members only)


@dataclass(frozen=True)
class QAStats:
    since: datetime
    until: datetime
    overall: GroupStats
    by_subject: tuple[GroupStats, ...]  # most asked first, "not given" last
    by_region: tuple[GroupStats, ...]
    by_language: tuple[GroupStats, ...]
    helpers: tuple[Helper, ...]  # most first answers first, at most TOP_HELPERS


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), so p50 is the usual median."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class _Tally:
    asked: int = 0
    answered: int = 0
    solved: int = 0
    seconds: list[float] = field(default_factory=list)

    def row(self, key: str | None) -> GroupStats:
        ordered = sorted(self.seconds)
        return GroupStats(
            key=key,
            asked=self.asked,
            answered=self.answered,
            solved=self.solved,
            on_time=sum(1 for s in ordered if s <= PROMISE_SECONDS),
            median_seconds=percentile(ordered, 0.5),
            p90_seconds=percentile(ordered, 0.9),
        )


def _region_key(region: str | None) -> str | None:
    """Regions are typed by members: "Europe" and " europe" are one region."""
    clean = " ".join((region or "").split())
    return clean.casefold() if clean else None


def _rows(
    tallies: dict[str | None, _Tally], names: dict[str | None, str] | None = None
) -> tuple[GroupStats, ...]:
    """Most asked first, then by key; the "not given" row last, as it is the least actionable."""
    names = names or {}
    rows = [tally.row(names.get(key, key)) for key, tally in tallies.items()]
    return tuple(sorted(rows, key=lambda r: (r.key is None, -r.asked, (r.key or "").casefold(), r.key or "")))


async def qa_stats(db: Database, since: datetime, until: datetime) -> QAStats:
    """Questions posted in [since, until): asked, answered, solved, time to first answer, overall and
    by subject, asker's region and language; plus the top helpers by first answers given in the period.
    """
    q = Question
    asker = and_(Identity.platform == q.platform, Identity.user_id == q.asker_user_id)
    in_period: list[ColumnElement[bool]] = [
        q.created_at >= since,
        q.created_at < until,
        q.root_message_id.is_not(None),
    ]
    counts = (
        select(
            q.subject,
            q.language,
            Profile.region,
            func.count(),
            func.count(q.first_answer_at),
            func.count(q.solved_at),
        )
        .select_from(q)
        .outerjoin(Identity, asker)
        .outerjoin(Profile, Profile.member_id == Identity.member_id)
        .where(*in_period)
        .group_by(q.subject, q.language, Profile.region)
    )
    times = (
        select(q.subject, q.language, Profile.region, q.created_at, q.first_answer_at)
        .select_from(q)
        .outerjoin(Identity, asker)
        .outerjoin(Profile, Profile.member_id == Identity.member_id)
        .where(*in_period, q.first_answer_at.is_not(None))
    )
    overall = _Tally()
    subjects: dict[str | None, _Tally] = {}
    languages: dict[str | None, _Tally] = {}
    regions: dict[str | None, _Tally] = {}
    spellings: dict[str, Counter[str]] = {}  # region key -> how often each spelling was asked from
    async with db.sessions() as session:
        for subject, language, region, asked, answered, solved in (await session.execute(counts)).all():
            key = _region_key(region)
            if key is not None:
                spellings.setdefault(key, Counter())[" ".join(str(region).split())] += int(asked)
            for tally in (
                overall,
                subjects.setdefault(subject or None, _Tally()),
                languages.setdefault(language or None, _Tally()),
                regions.setdefault(key, _Tally()),
            ):
                tally.asked += int(asked)
                tally.answered += int(answered)
                tally.solved += int(solved)
        for subject, language, region, created_at, first_answer_at in (await session.execute(times)).all():
            if first_answer_at is None:
                continue
            seconds = max(0.0, (first_answer_at - created_at).total_seconds())  # clock skew is not speed
            # setdefault: a question posted between the two queries must not break the report.
            for tally in (
                overall,
                subjects.setdefault(subject or None, _Tally()),
                languages.setdefault(language or None, _Tally()),
                regions.setdefault(_region_key(region), _Tally()),
            ):
                tally.seconds.append(seconds)
        helpers = await _helpers(session, since, until)
    region_names: dict[str | None, str] = {
        key: min(counted.items(), key=lambda s: (-s[1], s[0]))[0] for key, counted in spellings.items()
    }
    return QAStats(
        since=since,
        until=until,
        overall=overall.row(None),
        by_subject=_rows(subjects),
        by_region=_rows(regions, region_names),
        by_language=_rows(languages),
        helpers=helpers,
    )


Who = int | tuple[str, str]  # a member id, or (platform, user id) for someone not in the directory


async def _helpers(session: AsyncSession, since: datetime, until: datetime) -> tuple[Helper, ...]:
    """First answers given in the period, merged per member. Hidden members are left out: they asked
    not to be listed, and a leaderboard is a listing. Anonymised answerers ("") are no one to thank."""
    q = Question
    stmt = (
        select(
            q.platform,
            q.first_answerer_user_id,
            Identity.member_id,
            Member.name,
            Member.visibility,
            func.count(),
        )
        .select_from(q)
        .outerjoin(
            Identity, and_(Identity.platform == q.platform, Identity.user_id == q.first_answerer_user_id)
        )
        .outerjoin(Member, Member.id == Identity.member_id)
        .where(
            q.first_answer_at >= since,
            q.first_answer_at < until,
            q.root_message_id.is_not(None),
            q.first_answerer_user_id.is_not(None),
            q.first_answerer_user_id != "",
        )
        .group_by(q.platform, q.first_answerer_user_id, Identity.member_id, Member.name, Member.visibility)
    )
    merged: dict[Who, list[tuple[str, str, int]]] = {}  # who -> (platform, user id, first answers)
    names: dict[Who, str | None] = {}
    for platform, user_id, member_id, name, visibility, count in (await session.execute(stmt)).all():
        if visibility == "hidden":
            continue
        who: Who = int(member_id) if member_id is not None else (str(platform), str(user_id))
        merged.setdefault(who, []).append((str(platform), str(user_id), int(count)))
        names[who] = name
    ranked = sorted(
        merged.items(),
        key=lambda item: (
            -sum(n for _, _, n in item[1]),
            (names[item[0]] or "").casefold(),
            str(item[0]),
        ),
    )[:TOP_HELPERS]
    member_ids = [who for who, _ in ranked if isinstance(who, int)]
    identities: dict[int, dict[str, str]] = {}
    if member_ids:
        rows = await session.execute(
            select(Identity.member_id, Identity.platform, Identity.user_id)
            .where(Identity.member_id.in_(member_ids))
            .order_by(Identity.id)
        )
        for member_id, platform, user_id in rows.all():
            identities.setdefault(member_id, {})[platform] = user_id
    return tuple(_helper(who, counts, names[who], identities) for who, counts in ranked)


def _helper(
    who: Who, counts: Iterable[tuple[str, str, int]], name: str | None, identities: dict[int, dict[str, str]]
) -> Helper:
    ordered = sorted(counts, key=lambda c: (-c[2], c[0], c[1]))
    platform, user_id, _ = ordered[0]
    member_id = who if isinstance(who, int) else None
    return Helper(
        platform=platform,
        user_id=user_id,
        name=name,
        first_answers=sum(n for _, _, n in ordered),
        member_id=member_id,
        identities=dict(identities.get(member_id, {})) if member_id is not None else {},
    )
