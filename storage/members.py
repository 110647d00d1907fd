"""The member directory: people with their identities, profile and tags (catalogue term ids).

Every write also appends to the directory changelog, so in-memory indexes in any process can catch
up by reloading only the members that changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.db import Database
from storage.models import DirectoryChange, Identity, Member, Profile, ProfileTag

TAG_KINDS = ("role", "programme", "subject", "language")
DEFAULT_WORK_START = 8 * 60
DEFAULT_WORK_END = 20 * 60


@dataclass(frozen=True)
class MemberInput:
    """Everything known about a person; email or an identity identifies them. Tags are term ids."""

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
    work_start: int = DEFAULT_WORK_START
    work_end: int = DEFAULT_WORK_END
    bio: str | None = None


@dataclass(frozen=True)
class MemberCard:
    """A read-only view of a member for display, ranking and export."""

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
    department: str | None
    locale: str | None
    open_to_questions: bool
    visibility: str
    work_start: int = DEFAULT_WORK_START
    work_end: int = DEFAULT_WORK_END
    bio: str | None = None

    def as_input(self) -> MemberInput:
        """The card as an editable input (profile edits replace fields on this)."""
        return MemberInput(
            name=self.name,
            email=self.email,
            identities=dict(self.identities),
            roles=self.roles,
            programmes=self.programmes,
            subjects=self.subjects,
            languages=self.languages,
            timezone=self.timezone,
            region=self.region,
            school=self.school,
            department=self.department,
            locale=self.locale,
            open_to_questions=self.open_to_questions,
            visibility=self.visibility,
            work_start=self.work_start,
            work_end=self.work_end,
            bio=self.bio,
        )


def card_from_rows(
    m: Member, p: Profile | None, tags: Iterable[tuple[str, str]], ids: dict[str, str]
) -> MemberCard:
    """Assemble a card from loaded rows; tags are (kind, term) in insertion order."""
    by_kind: dict[str, list[str]] = {k: [] for k in TAG_KINDS}
    for kind, term in tags:
        by_kind.setdefault(kind, []).append(term)
    return MemberCard(
        member_id=m.id,
        name=m.name,
        email=m.email,
        identities=ids,
        roles=tuple(by_kind["role"]),
        programmes=tuple(by_kind["programme"]),
        subjects=tuple(by_kind["subject"]),
        languages=tuple(by_kind["language"]),
        timezone=p.timezone if p else None,
        region=p.region if p else None,
        school=p.school if p else None,
        department=p.department if p else None,
        locale=p.locale if p else None,
        open_to_questions=p.open_to_questions if p else False,
        visibility=m.visibility,
        work_start=p.work_start if p else DEFAULT_WORK_START,
        work_end=p.work_end if p else DEFAULT_WORK_END,
        bio=p.bio if p else None,
    )


def _card(m: Member) -> MemberCard:
    tags = [(t.kind, t.term) for t in sorted(m.tags, key=lambda t: t.id)]
    return card_from_rows(m, m.profile, tags, {i.platform: i.user_id for i in m.identities})


_LOAD = (selectinload(Member.tags), selectinload(Member.profile), selectinload(Member.identities))


async def record_change(session: AsyncSession, member_ids: Iterable[int]) -> None:
    """Append to the changelog inside the caller's transaction."""
    rows = [{"member_id": mid} for mid in member_ids]
    if rows:
        await session.execute(insert(DirectoryChange), rows)


class MemberRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        return self._db

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
            await session.flush()  # the member has an id now
            await self._write_tags(session, member.id, self._wanted_tags(data))
            await record_change(session, [member.id])
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
        stmt = select(Member).where(or_(*clauses)).limit(1)
        result = await session.execute(
            stmt.options(selectinload(Member.profile), selectinload(Member.identities))
        )
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
        p.work_start, p.work_end, p.bio = data.work_start, data.work_end, data.bio
        p.updated_at = now

    @staticmethod
    async def _write_tags(session: AsyncSession, member_id: int, wanted: list[tuple[str, str]]) -> None:
        """Rewrite tags in the order given (a member's first subject is their main one), only if changed."""
        stmt = select(ProfileTag.kind, ProfileTag.term).where(ProfileTag.member_id == member_id)
        current = [tuple(row) for row in (await session.execute(stmt.order_by(ProfileTag.id))).all()]
        if current == wanted:
            return
        await session.execute(delete(ProfileTag).where(ProfileTag.member_id == member_id))
        if wanted:
            rows = [{"member_id": member_id, "kind": k, "term": v} for k, v in wanted]
            await session.execute(insert(ProfileTag), rows)

    @staticmethod
    def _wanted_tags(data: MemberInput) -> list[tuple[str, str]]:
        wanted: list[tuple[str, str]] = []
        for kind, values in zip(
            TAG_KINDS, (data.roles, data.programmes, data.subjects, data.languages), strict=True
        ):
            for value in values:
                if value and (kind, value) not in wanted:
                    wanted.append((kind, value))
        return wanted

    async def get(self, member_id: int) -> MemberCard | None:
        async with self._db.sessions() as session:
            stmt = select(Member).where(Member.id == member_id).options(*_LOAD)
            member = (await session.execute(stmt)).scalar_one_or_none()
            return _card(member) if member else None

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

    async def set_visibility(self, member_id: int, visibility: str) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(update(Member).where(Member.id == member_id).values(visibility=visibility))
            await record_change(session, [member_id])

    async def delete(self, member_id: int) -> None:
        """Remove a member with identities, profile and tags (the changelog tells caches)."""
        async with self._db.sessions() as session, session.begin():
            await session.execute(delete(ProfileTag).where(ProfileTag.member_id == member_id))
            await session.execute(delete(Identity).where(Identity.member_id == member_id))
            await session.execute(delete(Profile).where(Profile.member_id == member_id))
            await session.execute(delete(Member).where(Member.id == member_id))
            await record_change(session, [member_id])

    async def cards(self, member_ids: Sequence[int] | None = None) -> list[MemberCard]:
        """Cards for the given members (all when None): three Core queries, no ORM objects, so a
        100,000-member directory loads in seconds."""
        m, p = Member.__table__, Profile.__table__
        stmt = select(
            m.c.id, m.c.name, m.c.email, m.c.visibility, p.c.timezone, p.c.region, p.c.school, p.c.department,
            p.c.locale, p.c.open_to_questions, p.c.work_start, p.c.work_end, p.c.bio,
        ).select_from(m.outerjoin(p, p.c.member_id == m.c.id))  # fmt: skip
        tag_stmt = select(ProfileTag.member_id, ProfileTag.kind, ProfileTag.term).order_by(ProfileTag.id)
        id_stmt = select(Identity.member_id, Identity.platform, Identity.user_id)
        if member_ids is not None:
            stmt = stmt.where(m.c.id.in_(member_ids))
            tag_stmt = tag_stmt.where(ProfileTag.member_id.in_(member_ids))
            id_stmt = id_stmt.where(Identity.member_id.in_(member_ids))
        async with self._db.sessions() as session:
            rows = (await session.execute(stmt.order_by(m.c.id))).all()
            tags: dict[int, dict[str, list[str]]] = {}
            for mid, kind, term in (await session.execute(tag_stmt)).all():
                tags.setdefault(mid, {}).setdefault(kind, []).append(term)
            idents: dict[int, dict[str, str]] = {}
            for mid, platform, user_id in (await session.execute(id_stmt)).all():
                idents.setdefault(mid, {})[platform] = user_id
        empty: dict[str, list[str]] = {}
        out = []
        for r in rows:
            t = tags.get(r.id, empty)
            out.append(
                MemberCard(
                    member_id=r.id, name=r.name, email=r.email, identities=idents.get(r.id, {}),
                    roles=tuple(t.get("role", ())), programmes=tuple(t.get("programme", ())),
                    subjects=tuple(t.get("subject", ())), languages=tuple(t.get("language", ())),
                    timezone=r.timezone, region=r.region, school=r.school, department=r.department,
                    locale=r.locale, open_to_questions=bool(r.open_to_questions), visibility=r.visibility,
                    work_start=r.work_start if r.work_start is not None else DEFAULT_WORK_START,
                    work_end=r.work_end if r.work_end is not None else DEFAULT_WORK_END, bio=r.bio,
                )
            )  # fmt: skip
        return out

    async def changes_since(self, version: int) -> tuple[int, set[int]]:
        """(newest version, member ids changed after `version`)."""
        async with self._db.sessions() as session:
            rows = (
                await session.execute(
                    select(DirectoryChange.version, DirectoryChange.member_id).where(
                        DirectoryChange.version > version
                    )
                )
            ).all()
        if not rows:
            return version, set()
        return max(v for v, _ in rows), {mid for _, mid in rows}

    async def version(self) -> int:
        async with self._db.sessions() as session:
            return int(
                (
                    await session.execute(select(func.coalesce(func.max(DirectoryChange.version), 0)))
                ).scalar_one()
            )

    async def count(self) -> int:
        async with self._db.sessions() as session:
            return int((await session.execute(select(func.count(Member.id)))).scalar_one())

    async def upsert_many(self, rows: Iterable[MemberInput], now: datetime) -> int:
        n = 0
        for row in rows:
            await self.upsert(row, now)
            n += 1
        return n
