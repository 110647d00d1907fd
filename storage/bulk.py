"""Bulk member import and export: thousands of rows a second on SQLite and PostgreSQL.

`MemberRepository.upsert` costs several round trips per member, far too slow for a 100,000-row
spreadsheet. Here each batch is planned in memory against an index of who owns which email and
platform id (loaded once), its stored state is fetched in four set queries, and only real
differences are written with Core executemany statements. Each batch is its own transaction, so a
long import never holds SQLite's write lock for long; every created or updated member gets its
directory changelog row in the batch that wrote it. Re-running an import is harmless: rows equal
to what is stored write nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import Database
from storage.member_csv import ParsedRow, RowProblem
from storage.members import TAG_KINDS, MemberCard, MemberInput, MemberRepository, record_change
from storage.models import Base

PROFILE_FIELDS: tuple[str, ...] = (
    "timezone",
    "region",
    "school",
    "department",
    "locale",
    "open_to_questions",
    "work_start",
    "work_end",
    "bio",
)
_TAG_ATTRS = dict(zip(TAG_KINDS, ("roles", "programmes", "subjects", "languages"), strict=True))

_members: Table = Base.metadata.tables["members"]
_identities: Table = Base.metadata.tables["identities"]
_profiles: Table = Base.metadata.tables["profiles"]
_tags: Table = Base.metadata.tables["profile_tags"]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class IdentityConflict(ValueError):
    """A row would take a Slack or Discord id that is linked to a different member."""


@dataclass
class _Index:
    """Who owns which email and platform id; kept current while rows are planned."""

    emails: dict[str, int] = field(default_factory=dict)  # lower-cased email -> member id
    ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (platform, user id) -> member id
    email_of: dict[int, str] = field(default_factory=dict)
    ids_of: dict[int, dict[str, str]] = field(default_factory=dict)
    name_of: dict[int, str] = field(default_factory=dict)
    next_new: int = -1  # members not yet inserted get negative placeholder ids

    def match(self, member: MemberInput) -> int | None:
        """By email (case-insensitive) first, then by any platform identity, like `upsert`."""
        if member.email:
            found = self.emails.get(member.email.lower())
            if found is not None:
                return found
        for platform, user_id in member.identities.items():
            found = self.ids.get((platform, user_id))
            if found is not None:
                return found
        return None

    def conflicts(self, member: MemberInput, target: int | None) -> list[tuple[str, str, int]]:
        """(platform, user id, owner) for each identity of the row owned by a member other than target."""
        out = []
        for platform, user_id in member.identities.items():
            owner = self.ids.get((platform, user_id))
            if owner is not None and owner != target:
                out.append((platform, user_id, owner))
        return out

    def apply(self, member: MemberInput, target: int | None) -> int:
        """Record the row's email and identities as the target's (a new placeholder id when None)."""
        if target is None:
            target = self.next_new
            self.next_new -= 1
        self.name_of[target] = member.name
        if member.email:
            old = self.email_of.get(target)
            if old is not None and self.emails.get(old.lower()) == target:
                del self.emails[old.lower()]
            self.email_of[target] = member.email
            self.emails[member.email.lower()] = target
        held = self.ids_of.setdefault(target, {})
        for platform, user_id in member.identities.items():
            old_id = held.get(platform)
            if old_id is not None and self.ids.get((platform, old_id)) == target:
                del self.ids[(platform, old_id)]
            held[platform] = user_id
            self.ids[(platform, user_id)] = target
        return target

    def rekey(self, old: int, new: int) -> None:
        """Swap a placeholder id for the inserted member's real one, so later batches match it."""
        email = self.email_of.pop(old, None)
        if email is not None:
            self.email_of[new] = email
            if self.emails.get(email.lower()) == old:
                self.emails[email.lower()] = new
        for platform, user_id in self.ids_of.get(old, {}).items():
            if self.ids.get((platform, user_id)) == old:
                self.ids[(platform, user_id)] = new
        if old in self.ids_of:
            self.ids_of[new] = self.ids_of.pop(old)
        if old in self.name_of:
            self.name_of[new] = self.name_of.pop(old)

    def describe(self, member_id: int) -> str:
        name = self.name_of.get(member_id, f"member {member_id}")
        email = self.email_of.get(member_id)
        return f"{name} ({email})" if email else name


async def _load_index(session: AsyncSession) -> _Index:
    index = _Index()
    for mid, name, email in await session.execute(select(_members.c.id, _members.c.name, _members.c.email)):
        index.name_of[mid] = name
        if email:
            index.email_of[mid] = email
            index.emails.setdefault(email.lower(), mid)
    stmt = select(_identities.c.member_id, _identities.c.platform, _identities.c.user_id)
    for mid, platform, user_id in await session.execute(stmt):
        index.ids[(platform, user_id)] = mid
        index.ids_of.setdefault(mid, {})[platform] = user_id
    return index


_COLUMN = {"slack": "slack_id", "discord": "discord_id"}  # CSV column of a platform id


async def find_conflicts(db: Database, rows: Sequence[ParsedRow]) -> list[RowProblem]:
    """Rows whose Slack or Discord id is linked to a different member than the row otherwise matches.

    Importing such a row would move an account from one person to another: a decision for a human,
    so it is reported instead. Rows are simulated in order, exactly as `bulk_upsert` applies them.
    """
    if not rows:
        return []
    async with db.sessions() as session:
        index = await _load_index(session)
    problems: list[RowProblem] = []
    for parsed in rows:
        member = parsed.member
        target = index.match(member)
        found = index.conflicts(member, target)
        for platform, user_id, owner in found:
            assert target is not None  # a row holding an owned identity always matches someone
            problems.append(
                RowProblem(
                    parsed.row,
                    _COLUMN.get(platform, platform),
                    f"{user_id!r} is already linked to {index.describe(owner)}, "
                    f"but this row's {_matched_by(member, index, target)} matches {index.describe(target)}",
                )
            )
        if not found:
            placed = index.apply(member, target)
            if target is None:
                index.name_of[placed] = f"{member.name} (row {parsed.row})"
    return problems


def _matched_by(member: MemberInput, index: _Index, target: int) -> str:
    if member.email and index.emails.get(member.email.lower()) == target:
        return "email"
    for platform, user_id in member.identities.items():
        if index.ids.get((platform, user_id)) == target:
            return _COLUMN.get(platform, platform)
    return "data"


@dataclass
class _State:
    """One member as stored (or as it will be); compared before and after the batch's rows."""

    member_id: int  # negative until inserted
    name: str
    email: str | None
    visibility: str
    identities: dict[str, str]
    tags: dict[str, list[str]]
    profile: dict[str, Any] | None

    def copy(self) -> _State:
        """A copy whose dicts and lists can change without touching this one (cheaper than deepcopy)."""
        return _State(
            self.member_id,
            self.name,
            self.email,
            self.visibility,
            dict(self.identities),
            {kind: list(terms) for kind, terms in self.tags.items()},
            dict(self.profile) if self.profile is not None else None,
        )


async def bulk_upsert(
    db: Database,
    rows: Sequence[MemberInput],
    now: datetime,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 1000,
    profile_fields: Collection[str] = PROFILE_FIELDS,
) -> ImportResult:
    """Create or update many members; rows identical to what is stored write nothing.

    Matching is `MemberRepository.upsert`'s: email (case-insensitive), then any identity. Like
    there, an empty email or a missing platform keeps what is stored. `profile_fields` names the
    profile fields the rows really carry: a CSV has no locale, hours or bio, so importing one must
    not reset them on existing members. Raises IdentityConflict (see `find_conflicts`).
    """
    unknown = set(profile_fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"unknown profile fields: {', '.join(sorted(unknown))}")
    fields = tuple(f for f in PROFILE_FIELDS if f in profile_fields)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not rows:
        return ImportResult(0, 0, 0)
    async with db.sessions() as session:
        index = await _load_index(session)
    created = updated = unchanged = 0
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        async with db.sessions() as session, session.begin():
            c, u, n = await _upsert_batch(session, index, batch, start, now, fields)
        created, updated, unchanged = created + c, updated + u, unchanged + n
        if progress is not None:
            progress(start + len(batch))
    return ImportResult(created, updated, unchanged)


async def _upsert_batch(
    session: AsyncSession,
    index: _Index,
    batch: Sequence[MemberInput],
    offset: int,
    now: datetime,
    fields: tuple[str, ...],
) -> tuple[int, int, int]:
    """Plan the batch in memory, load the members it touches, write only the differences.

    Returns (created, updated, unchanged); a second row for the same member counts as unchanged.
    """
    targets: list[int] = []
    for position, member in enumerate(batch, start=offset):
        target = index.match(member)
        found = index.conflicts(member, target)
        if found:
            platform, user_id, owner = found[0]
            raise IdentityConflict(
                f"row {position + 1}: {platform} id {user_id!r} belongs to {index.describe(owner)}; "
                "check the rows with find_conflicts() first"
            )
        targets.append(index.apply(member, target))

    conn = await session.connection()
    stored = await _load_states(conn, {t for t in targets if t > 0})
    vanished: dict[int, int] = {}  # deleted (e.g. by /forget-me) since the index was loaded -> placeholder
    for i, target in enumerate(targets):
        if target > 0 and target not in stored:
            if target not in vanished:
                vanished[target] = index.next_new
                index.next_new -= 1
                index.rekey(target, vanished[target])
            targets[i] = vanished[target]
    originals = {mid: state.copy() for mid, state in stored.items()}
    states: dict[int, _State] = {}  # in the order rows first touch them: the order of writes
    for target, member in zip(targets, batch, strict=True):
        state = states.get(target)
        if state is None:
            state = stored.get(target) or _State(target, member.name, None, member.visibility, {}, {}, None)
            states[target] = state
        _apply_row(state, member, fields)

    new = [s for s in states.values() if s.member_id < 0]
    changed = [s for s in states.values() if s.member_id > 0 and s != originals[s.member_id]]
    # Existing members first: an email or account they give up may be taken by a new member.
    await _write_changes(conn, changed, originals, now)
    await _insert_members(conn, new, index, now)
    await record_change(session, [s.member_id for s in (*changed, *new)])
    return len(new), len(changed), len(batch) - len(new) - len(changed)


def _apply_row(state: _State, member: MemberInput, fields: tuple[str, ...]) -> None:
    """What `MemberRepository.upsert` would do to this member, done to the in-memory state."""
    state.name = member.name
    state.email = member.email or state.email
    state.visibility = member.visibility
    state.identities.update(member.identities)
    for kind, attr in _TAG_ATTRS.items():
        wanted = list(dict.fromkeys(v for v in getattr(member, attr) if v))
        if set(wanted) != set(state.tags.get(kind, ())):
            state.tags[kind] = wanted  # order as given; an equal set keeps the stored order
    if state.profile is None:
        state.profile = {f: getattr(member, f) for f in PROFILE_FIELDS}
    else:
        for f in fields:
            state.profile[f] = getattr(member, f)


async def _load_states(conn: AsyncConnection, ids: set[int]) -> dict[int, _State]:
    """The stored state of these members in four set queries."""
    if not ids:
        return {}
    states: dict[int, _State] = {}
    wanted = sorted(ids)
    stmt = select(_members.c.id, _members.c.name, _members.c.email, _members.c.visibility)
    for mid, name, email, visibility in await conn.execute(stmt.where(_members.c.id.in_(wanted))):
        states[mid] = _State(mid, name, email, visibility, {}, {}, None)
    ident_stmt = select(_identities.c.member_id, _identities.c.platform, _identities.c.user_id)
    for mid, platform, user_id in await conn.execute(ident_stmt.where(_identities.c.member_id.in_(wanted))):
        states[mid].identities[platform] = user_id
    tag_stmt = select(_tags.c.member_id, _tags.c.kind, _tags.c.term).where(_tags.c.member_id.in_(wanted))
    for mid, kind, term in await conn.execute(tag_stmt.order_by(_tags.c.id)):
        states[mid].tags.setdefault(kind, []).append(term)
    profile_stmt = select(_profiles.c.member_id, *(_profiles.c[f] for f in PROFILE_FIELDS))
    for row in await conn.execute(profile_stmt.where(_profiles.c.member_id.in_(wanted))):
        states[row[0]].profile = dict(zip(PROFILE_FIELDS, row[1:], strict=True))
    return states


async def _insert_members(conn: AsyncConnection, new: list[_State], index: _Index, now: datetime) -> None:
    """Insert new members, learn their ids (RETURNING in parameter order), then their other rows."""
    if not new:
        return
    params = [{"name": s.name, "email": s.email, "visibility": s.visibility, "created_at": now} for s in new]
    ids = await _insert_returning_ids(conn, params)
    idents: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for state, member_id in zip(new, ids, strict=True):
        index.rekey(state.member_id, member_id)
        state.member_id = member_id
        idents += [{"member_id": member_id, "platform": p, "user_id": u} for p, u in state.identities.items()]
        profiles.append({"member_id": member_id, **(state.profile or {}), "updated_at": now})
        tags += _tag_rows(state)
    for table, rows in ((_identities, idents), (_profiles, profiles), (_tags, tags)):
        if rows:
            await conn.execute(table.insert(), rows)


async def _insert_returning_ids(conn: AsyncConnection, params: list[dict[str, Any]]) -> list[int]:
    """The new rows' ids, in parameter order.

    PostgreSQL does this in batched INSERT ... RETURNING statements. SQLAlchemy cannot promise the
    order of a batched RETURNING on SQLite and falls back to one statement per row (four times
    slower), so there the rows go in with one executemany and their ids are read back: the first
    insert took SQLite's single write lock, so the rows just inserted are the newest ones, numbered
    in order. Names and emails are checked against the parameters to be sure.
    """
    if conn.dialect.name != "sqlite":
        stmt = _members.insert().returning(_members.c.id, sort_by_parameter_order=True)
        return [row[0] for row in await conn.execute(stmt, params)]
    await conn.execute(_members.insert(), params)
    newest = select(_members.c.id, _members.c.name, _members.c.email).order_by(_members.c.id.desc())
    rows = list(reversed((await conn.execute(newest.limit(len(params)))).all()))
    if [(r.name, r.email) for r in rows] != [(p["name"], p["email"]) for p in params]:
        raise RuntimeError("new member ids could not be read back; nothing in this batch was saved")
    return [r.id for r in rows]


def _tag_rows(state: _State) -> list[dict[str, Any]]:
    return [
        {"member_id": state.member_id, "kind": kind, "term": term}
        for kind in TAG_KINDS
        for term in state.tags.get(kind, ())
    ]


async def _write_changes(
    conn: AsyncConnection, changed: list[_State], originals: dict[int, _State], now: datetime
) -> None:
    """One executemany per kind of difference across the batch.

    Emails and accounts can move between members of one batch (Ana gives up an address Bob then
    takes), so changed emails are cleared before being set and changed accounts are deleted before
    being inserted: the unique constraints never see a transient duplicate.
    """
    member_rows: list[dict[str, Any]] = []
    cleared_emails: list[int] = []
    ident_deletes: list[dict[str, Any]] = []
    ident_inserts: list[dict[str, Any]] = []
    profile_updates: list[dict[str, Any]] = []
    profile_inserts: list[dict[str, Any]] = []
    retag: list[_State] = []
    for s in changed:
        old = originals[s.member_id]
        if (s.name, s.email, s.visibility) != (old.name, old.email, old.visibility):
            member_rows.append(
                {"b_id": s.member_id, "b_name": s.name, "b_email": s.email, "b_vis": s.visibility}
            )
            if s.email != old.email and old.email is not None:
                cleared_emails.append(s.member_id)
        for platform, user_id in s.identities.items():
            before = old.identities.get(platform)
            if before != user_id:
                if before is not None:
                    ident_deletes.append({"b_mid": s.member_id, "b_platform": platform})
                ident_inserts.append({"member_id": s.member_id, "platform": platform, "user_id": user_id})
        if old.profile is None:
            profile_inserts.append({"member_id": s.member_id, **(s.profile or {}), "updated_at": now})
        elif s.profile != old.profile:
            assert s.profile is not None
            profile_updates.append(
                {"b_mid": s.member_id, "b_updated": now, **{f"b_{k}": v for k, v in s.profile.items()}}
            )
        if _tag_sets(s) != _tag_sets(old):
            retag.append(s)

    if cleared_emails:
        await conn.execute(_members.update().where(_members.c.id.in_(cleared_emails)).values(email=None))
    if member_rows:
        stmt = (
            _members.update()
            .where(_members.c.id == bindparam("b_id"))
            .values(name=bindparam("b_name"), email=bindparam("b_email"), visibility=bindparam("b_vis"))
        )
        await conn.execute(stmt, member_rows)
    if ident_deletes:
        same_account = and_(
            _identities.c.member_id == bindparam("b_mid"), _identities.c.platform == bindparam("b_platform")
        )
        await conn.execute(_identities.delete().where(same_account), ident_deletes)
    if ident_inserts:
        await conn.execute(_identities.insert(), ident_inserts)
    if profile_updates:
        values: dict[str, Any] = {f: bindparam(f"b_{f}") for f in PROFILE_FIELDS}
        stmt = (
            _profiles.update()
            .where(_profiles.c.member_id == bindparam("b_mid"))
            .values(**values, updated_at=bindparam("b_updated"))
        )
        await conn.execute(stmt, profile_updates)
    if profile_inserts:
        await conn.execute(_profiles.insert(), profile_inserts)
    if retag:
        await conn.execute(_tags.delete().where(_tags.c.member_id.in_([s.member_id for s in retag])))
        rows = [row for s in retag for row in _tag_rows(s)]
        if rows:
            await conn.execute(_tags.insert(), rows)


def _tag_sets(state: _State) -> dict[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in state.tags.items() if v}


async def export_cards(db: Database) -> list[MemberCard]:
    """Every member, members with an email first in email order, then the rest by name."""
    cards = await MemberRepository(db).cards()
    return sorted(
        cards, key=lambda c: (c.email is None, (c.email or "").lower(), c.name.lower(), c.member_id)
    )
