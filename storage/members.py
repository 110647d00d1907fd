"""The member directory: upsert people with their identities and profile, look them up by tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.db import Database
from storage.models import Identity, Member, Profile, ProfileTag

TAG_KINDS = ("role", "programme", "subject", "language")


def norm(value: str) -> str:
    """The lookup form of a tag: trimmed, single-spaced, case-folded."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class MemberInput:
    """Everything known about a person, as imported or edited; email or an identity identifies them."""

    name: str
    email: str | None = None
    identities: dict[str, str] = field(default_factory=dict)  # platform -> user id
    roles: Sequence[str] = ()
    programmes: Sequence[str] = ()
    subjects: Sequence[str] = ()
    languages: Sequence[str] = ()
    timezone: str | None = None
    region: str | None = None
    school: str | None = None
    department: str | None = None
    locale: str | None = None
    open_to_questions: bool = True
    visibility: str = "listed"


@dataclass(frozen=True)
class MemberCard:
    """A read-only view of a member for display and matching."""

    member_id: int
    name: str
    email: str | None
    identities: dict[str, str]
    roles: tuple[str, ...]
    programmes: tuple[str, ...]
    subjects: tuple[str, ...]
    languages: tuple[str, ...]
    timezone: str | None
    region: str | None
    school: str | None
    locale: str | None
    open_to_questions: bool
    visibility: str


def _card(m: Member) -> MemberCard:
    by_kind: dict[str, list[str]] = {k: [] for k in TAG_KINDS}
    for tag in sorted(m.tags, key=lambda t: t.id):
        by_kind.setdefault(tag.kind, []).append(tag.value)
    p = m.profile
    return MemberCard(
        member_id=m.id,
        name=m.name,
        email=m.email,
        identities={i.platform: i.user_id for i in m.identities},
        roles=tuple(by_kind["role"]),
        programmes=tuple(by_kind["programme"]),
        subjects=tuple(by_kind["subject"]),
        languages=tuple(by_kind["language"]),
        timezone=p.timezone if p else None,
        region=p.region if p else None,
        school=p.school if p else None,
        locale=p.locale if p else None,
        open_to_questions=p.open_to_questions if p else False,
        visibility=m.visibility,
    )


_LOAD = (selectinload(Member.tags), selectinload(Member.profile), selectinload(Member.identities))


class MemberRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, data: MemberInput, now: datetime) -> int:
        """Create or update one member (matched by email, then by any identity); returns its id."""
        async with self._db.sessions() as session, session.begin():
            member = await self._find(session, data)
            if member is None:
                member = Member(name=data.name, email=data.email, visibility=data.visibility, created_at=now)
                session.add(member)
            member.name = data.name
            member.email = data.email or member.email
            member.visibility = data.visibility
            self._set_identities(member, data.identities)
            self._set_profile(member, data, now)
            self._set_tags(member, data)
            await session.flush()
            return member.id

    async def _find(self, session: AsyncSession, data: MemberInput) -> Member | None:
        clauses = []
        if data.email:
            clauses.append(func.lower(Member.email) == data.email.lower())
        for platform, user_id in data.identities.items():
            clauses.append(
                Member.identities.any(and_(Identity.platform == platform, Identity.user_id == user_id))
            )
        if not clauses:
            return None
        result = await session.execute(select(Member).where(or_(*clauses)).options(*_LOAD).limit(1))
        return result.scalar_one_or_none()

    @staticmethod
    def _set_identities(member: Member, identities: dict[str, str]) -> None:
        current = {i.platform: i for i in member.identities}
        for platform, user_id in identities.items():
            if platform in current:
                current[platform].user_id = user_id
            else:
                member.identities.append(Identity(platform=platform, user_id=user_id))

    @staticmethod
    def _set_profile(member: Member, data: MemberInput, now: datetime) -> None:
        if member.profile is None:
            member.profile = Profile(updated_at=now)
        p = member.profile
        p.timezone, p.region, p.school = data.timezone, data.region, data.school
        p.department, p.locale, p.open_to_questions = data.department, data.locale, data.open_to_questions
        p.updated_at = now

    @staticmethod
    def _set_tags(member: Member, data: MemberInput) -> None:
        wanted: dict[tuple[str, str], str] = {}
        for kind, values in zip(
            TAG_KINDS, (data.roles, data.programmes, data.subjects, data.languages), strict=True
        ):
            for value in values:
                if value.strip():
                    wanted.setdefault((kind, norm(value)), " ".join(value.split()))
        keep = [t for t in member.tags if (t.kind, t.norm) in wanted]
        have = {(t.kind, t.norm) for t in keep}
        for tag in keep:
            tag.value = wanted[(tag.kind, tag.norm)]
        member.tags[:] = keep + [
            ProfileTag(kind=k, norm=n, value=v) for (k, n), v in wanted.items() if (k, n) not in have
        ]

    async def get_by_identity(self, platform: str, user_id: str) -> MemberCard | None:
        async with self._db.sessions() as session:
            stmt = (
                select(Member)
                .where(
                    Member.identities.any(and_(Identity.platform == platform, Identity.user_id == user_id))
                )
                .options(*_LOAD)
            )
            member = (await session.execute(stmt)).scalar_one_or_none()
            return _card(member) if member else None

    @staticmethod
    def _matching(role_like: str | None, subject: str | None) -> Select[Any]:
        stmt = select(Member).where(Member.visibility == "listed")
        if role_like:
            stmt = stmt.where(
                Member.tags.any(and_(ProfileTag.kind == "role", ProfileTag.norm.contains(norm(role_like))))
            )
        if subject:
            stmt = stmt.where(
                Member.tags.any(and_(ProfileTag.kind == "subject", ProfileTag.norm == norm(subject)))
            )
        return stmt

    async def find(
        self, *, role_like: str | None = None, subject: str | None = None, limit: int = 50
    ) -> list[MemberCard]:
        """Listed members with a role containing `role_like` and exactly `subject` (both case-insensitive)."""
        stmt = (
            self._matching(role_like, subject).order_by(Member.name, Member.id).limit(limit).options(*_LOAD)
        )
        async with self._db.sessions() as session:
            return [_card(m) for m in (await session.execute(stmt)).scalars()]

    async def count_matching(self, *, role_like: str | None = None, subject: str | None = None) -> int:
        stmt = select(func.count()).select_from(self._matching(role_like, subject).subquery())
        async with self._db.sessions() as session:
            return int((await session.execute(stmt)).scalar_one())

    async def distinct_values(self, kind: str) -> list[str]:
        """Every value of one tag kind among listed members (for "did you mean" and help)."""
        stmt = (
            select(ProfileTag.value)
            .join(Member)
            .where(ProfileTag.kind == kind, Member.visibility == "listed")
            .distinct()
            .order_by(ProfileTag.value)
        )
        async with self._db.sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def count(self) -> int:
        async with self._db.sessions() as session:
            return int((await session.execute(select(func.count(Member.id)))).scalar_one())

    async def upsert_many(self, rows: Iterable[MemberInput], now: datetime) -> int:
        n = 0
        for row in rows:
            await self.upsert(row, now)
            n += 1
        return n
