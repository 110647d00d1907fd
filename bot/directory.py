"""The directory index: every listed member in memory, as numpy columns, for fast expert lookup.

`/whois` must answer in a few milliseconds at 100,000 profiles, so matching and ranking are vector
operations over boolean masks (one per catalogue term) instead of SQL per query. The index stays
fresh through the database's directory changelog: at most once per `refresh_seconds` it reloads only
the members changed since the version it holds (any process's writes, so several instances agree),
and at once after this process's own writes (`mark_dirty`).
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from storage.db import Database
from storage.members import MemberCard, MemberRepository
from storage.questions import first_answer_counts

HELPFUL_WINDOW = timedelta(days=90)
HELPFUL_REFRESH_SECONDS = 60.0
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
G = TypeVar("G", bound=np.generic)


@dataclass(frozen=True)
class DirectoryQuery:
    """What to look for, as catalogue term ids. `role_family` widens `roles` (examiner → moderator…)."""

    roles: tuple[str, ...] = ()
    role_family: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.roles or self.role_family or self.subjects or self.programmes or self.languages)


@dataclass(frozen=True)
class RouteQuery:
    """Who might answer a question now: on `platform` (they can be DMed there), open to questions,
    matching the subjects (else programmes, else languages), awake."""

    platform: str
    subjects: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    start_soon_minutes: int = 0  # also members whose working day starts within this many minutes


@dataclass(frozen=True)
class SearchResult:
    total: int
    cards: list[MemberCard]


class DirectoryIndex:
    def __init__(
        self,
        members: MemberRepository,
        db: Database,
        *,
        refresh_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._members = members
        self._db = db
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self.version = -1
        self._checked_at = -1e18
        self._helpful_at = -1e18
        self._dirty = True
        self._slots: dict[int, int] = {}
        self._cards: list[MemberCard | None] = []
        self._identity: dict[tuple[str, str], int] = {}
        self._zones: list[str] = ["UTC"]
        self._zone_ids: dict[str, int] = {"UTC": 0}
        self._offset_cache: tuple[int, npt.NDArray[np.int64]] | None = None
        self._size = 0
        self._capacity = 0
        self._valid: Bools = np.zeros(0, bool)
        self._has_zone: Bools = np.zeros(0, bool)
        self._open: Bools = np.zeros(0, bool)
        self._start: Ints = np.zeros(0, np.int64)
        self._end: Ints = np.zeros(0, np.int64)
        self._zone: Ints = np.zeros(0, np.int64)
        self._helpful: Ints = np.zeros(0, np.int64)
        self._name_rank: Ints = np.zeros(0, np.int64)
        self._masks: dict[tuple[str, str], Bools] = {}
        self._name_order: list[tuple[str, int]] = []  # (folded name, member id), sorted: rank = position
        self._name_key: dict[int, tuple[str, int]] = {}  # slot -> its key in _name_order
        self._bulk = False
        self._refreshing = asyncio.Lock()

    # ---------------------------------------------------------------- freshness

    def mark_dirty(self) -> None:
        """This process wrote to the directory: the next lookup catches up first."""
        self._dirty = True

    async def refresh(self, now: datetime) -> None:
        """Catch up with the members table; concurrent lookups wait for one refresh (a second
        caller must not search the index while the first is still loading it)."""
        async with self._refreshing:
            await self._refresh(now)

    async def _refresh(self, now: datetime) -> None:
        tick = self._monotonic()
        if self.version < 0:
            self.version = await self._members.version()
            self._load(await self._members.cards())
        elif self._dirty or tick - self._checked_at >= self._refresh_seconds:
            version, changed = await self._members.changes_since(self.version)
            if changed:
                self._apply(changed, await self._members.cards(sorted(changed)))
            self.version = version
        else:
            return
        self._dirty = False
        self._checked_at = tick
        if tick - self._helpful_at >= HELPFUL_REFRESH_SECONDS:
            await self._refresh_helpful(now)
            self._helpful_at = tick

    async def _refresh_helpful(self, now: datetime) -> None:
        counts = await first_answer_counts(self._db, now - HELPFUL_WINDOW)
        self._helpful[:] = 0
        for key, n in counts.items():
            member_id = self._identity.get(key)
            if member_id is not None and member_id in self._slots:
                self._helpful[self._slots[member_id]] += n

    # ---------------------------------------------------------------- storage of columns

    def _grow(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, self._capacity * 2, 1024)

        def grow(a: npt.NDArray[G]) -> npt.NDArray[G]:
            out: npt.NDArray[G] = np.zeros(capacity, a.dtype)
            out[: len(a)] = a
            return out

        self._valid, self._has_zone, self._open = grow(self._valid), grow(self._has_zone), grow(self._open)
        self._start, self._end, self._zone = grow(self._start), grow(self._end), grow(self._zone)
        self._helpful, self._name_rank = grow(self._helpful), grow(self._name_rank)
        self._masks = {k: grow(v) for k, v in self._masks.items()}
        self._capacity = capacity

    def _zone_id(self, name: str | None) -> int | None:
        if not name:
            return None
        if name not in self._zone_ids:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                return None
            self._zone_ids[name] = len(self._zones)
            self._zones.append(name)
            self._offset_cache = None
        return self._zone_ids[name]

    def _mask(self, kind: str, term: str) -> Bools:
        key = (kind, term)
        if key not in self._masks:
            self._masks[key] = np.zeros(self._capacity, bool)
        return self._masks[key]

    def _clear_slot(self, slot: int) -> None:
        old = self._cards[slot]
        if old is not None:
            for kind, terms in _tags(old):
                for term in terms:
                    self._masks[(kind, term)][slot] = False
            for platform, user_id in old.identities.items():
                self._identity.pop((platform, user_id), None)
        self._valid[slot] = False
        self._cards[slot] = None
        self._unrank(slot)

    def _put(self, card: MemberCard) -> None:
        slot = self._slots.get(card.member_id)
        if slot is None:
            slot = self._size
            self._size += 1
            self._grow(self._size)
            self._slots[card.member_id] = slot
            self._cards.append(None)
        else:
            self._clear_slot(slot)
        self._cards[slot] = card
        for platform, user_id in card.identities.items():
            self._identity[(platform, user_id)] = card.member_id
        self._valid[slot] = card.visibility == "listed"
        self._open[slot] = card.open_to_questions
        self._start[slot], self._end[slot] = card.work_start, card.work_end
        zone = self._zone_id(card.timezone)
        self._has_zone[slot] = zone is not None
        self._zone[slot] = zone or 0
        for kind, terms in _tags(card):
            for term in terms:
                self._mask(kind, term)[slot] = True
        if not self._bulk:
            self._rank(slot, (card.name.casefold(), card.member_id))

    # Names order ties. Ranks are positions in a sorted list, kept up to date one member at a time
    # (a bisect and one vector shift), so a profile edit never re-sorts 100,000 names.

    def _rank(self, slot: int, key: tuple[str, int]) -> None:
        pos = bisect.bisect_left(self._name_order, key)
        self._name_order.insert(pos, key)
        ranks = self._name_rank[: self._size]
        ranks[ranks >= pos] += 1
        ranks[slot] = pos
        self._name_key[slot] = key

    def _unrank(self, slot: int) -> None:
        key = self._name_key.pop(slot, None)
        if key is None:
            return
        pos = bisect.bisect_left(self._name_order, key)
        del self._name_order[pos]
        ranks = self._name_rank[: self._size]
        ranks[ranks > pos] -= 1

    def _load(self, cards: Sequence[MemberCard]) -> None:
        self._grow(len(cards))
        self._bulk = True
        try:
            for card in cards:
                self._put(card)
        finally:
            self._bulk = False
        keyed = sorted((c.name.casefold(), c.member_id, self._slots[c.member_id]) for c in cards)
        self._name_order = [(name, mid) for name, mid, _ in keyed]
        self._name_key = {slot: (name, mid) for name, mid, slot in keyed}
        self._name_rank[[slot for _, _, slot in keyed]] = np.arange(len(keyed))

    def _apply(self, changed: set[int], cards: Sequence[MemberCard]) -> None:
        found = {c.member_id for c in cards}
        for member_id in changed - found:  # deleted
            slot = self._slots.get(member_id)
            if slot is not None:
                self._clear_slot(slot)
        for card in cards:
            self._put(card)

    # ---------------------------------------------------------------- lookup

    def member_id_for(self, platform: str, user_id: str) -> int | None:
        return self._identity.get((platform, user_id))

    def _any(self, kind: str, terms: Sequence[str]) -> Bools:
        out = np.zeros(self._size, bool)
        for term in terms:
            mask = self._masks.get((kind, term))
            if mask is not None:
                out |= mask[: self._size]
        return out

    def _count(self, kind: str, terms: Sequence[str]) -> Ints:
        out = np.zeros(self._size, np.int64)
        for term in terms:
            mask = self._masks.get((kind, term))
            if mask is not None:
                out += mask[: self._size]
        return out

    def _local_minutes(self, now: datetime) -> Ints:
        """Per member: minutes after their local midnight now."""
        minute = now.hour * 60 + now.minute
        bucket = int(now.timestamp()) // 900  # offsets only change on quarter hours
        if (
            self._offset_cache is None
            or self._offset_cache[0] != bucket
            or len(self._offset_cache[1]) != len(self._zones)
        ):
            offsets = np.array(
                [
                    int((now.astimezone(ZoneInfo(z)).utcoffset() or timedelta()).total_seconds() // 60)
                    for z in self._zones
                ],
                np.int64,
            )
            self._offset_cache = (bucket, offsets)
        offsets = self._offset_cache[1]
        local: Ints = (minute + offsets[self._zone[: self._size]]) % 1440
        return local

    def in_working_hours(self, now: datetime) -> Bools:
        """Per member: is it inside their working hours now, in their own time zone?"""
        n = self._size
        local = self._local_minutes(now)
        start, end = self._start[:n], self._end[:n]
        inside = np.where(start <= end, (start <= local) & (local < end), (local >= start) | (local < end))
        result: Bools = inside & self._has_zone[:n]
        return result

    def search(
        self, query: DirectoryQuery, now: datetime, *, offset: int = 0, limit: int = 10
    ) -> SearchResult:
        """Listed members matching `query`, best first.

        Roles (with their family) and subjects filter; with neither, programmes and languages do.
        Order: exact role and subject, then programme matches, language matches, open to questions,
        inside working hours now, first answers in the last 90 days, then name.
        """
        n = self._size
        if n == 0 or query.empty:
            return SearchResult(0, [])
        keep = self._valid[:n].copy()
        family = query.role_family or query.roles
        if family or query.subjects:
            if family:
                keep &= self._any("role", family)
            if query.subjects:
                keep &= self._any("subject", query.subjects)
        else:
            if query.programmes:
                keep &= self._any("programme", query.programmes)
            if query.languages:
                keep &= self._any("language", query.languages)
        candidates = np.flatnonzero(keep)
        total = int(candidates.size)
        if total == 0 or offset >= total:
            return SearchResult(total, [])
        exact = np.ones(n, bool)
        if query.roles:
            exact &= self._any("role", query.roles)
        if query.subjects:
            exact &= self._any("subject", query.subjects)
        score = (
            (exact.astype(np.int64) << 20)
            | (np.minimum(self._count("programme", query.programmes), 3) << 18)
            | (np.minimum(self._count("language", query.languages), 3) << 16)
            | (self._open[:n].astype(np.int64) << 15)
            | (self.in_working_hours(now).astype(np.int64) << 14)
            | (np.minimum(self._helpful[:n], 255) << 6)
        )
        total_key = score[candidates] * (self._capacity + 1) + (self._capacity - self._name_rank[candidates])
        wanted = min(total, offset + limit)
        top = np.argpartition(-total_key, wanted - 1)[:wanted] if wanted < total else np.arange(total)
        ordered = top[np.argsort(-total_key[top], kind="stable")][offset:wanted]
        cards = [self._cards[int(candidates[i])] for i in ordered]
        return SearchResult(total, [c for c in cards if c is not None])

    def starting_within(self, now: datetime, minutes: int) -> Bools:
        """Per member: does their working day start within `minutes` from now?"""
        n = self._size
        until_start = (self._start[:n] - self._local_minutes(now)) % 1440
        result: Bools = (until_start > 0) & (until_start <= minutes) & self._has_zone[:n]
        return result

    def route(
        self, query: RouteQuery, now: datetime, *, exclude: Collection[int], limit: int
    ) -> list[MemberCard]:
        """The best `limit` members to notify: programme and language matches first, then those already
        at work over those about to start, then helpfulness, then name."""
        n = self._size
        if n == 0 or limit <= 0:
            return []
        keep = self._valid[:n] & self._open[:n] & self._any("platform", (query.platform,))
        if query.subjects:
            keep &= self._any("subject", query.subjects)
        elif query.programmes:
            keep &= self._any("programme", query.programmes)
        elif query.languages:
            keep &= self._any("language", query.languages)
        working = self.in_working_hours(now)
        awake = (
            working | self.starting_within(now, query.start_soon_minutes)
            if query.start_soon_minutes
            else working
        )
        keep &= awake
        for member_id in exclude:
            slot = self._slots.get(member_id)
            if slot is not None:
                keep[slot] = False
        candidates = np.flatnonzero(keep)
        if candidates.size == 0:
            return []
        score = (
            (np.minimum(self._count("programme", query.programmes), 3) << 18)
            | (np.minimum(self._count("language", query.languages), 3) << 16)
            | (working.astype(np.int64) << 15)
            | (np.minimum(self._helpful[:n], 255) << 6)
        )
        key = score[candidates] * (self._capacity + 1) + (self._capacity - self._name_rank[candidates])
        wanted = min(limit, int(candidates.size))
        top = (
            np.argpartition(-key, wanted - 1)[:wanted]
            if wanted < candidates.size
            else np.arange(candidates.size)
        )
        ordered = top[np.argsort(-key[top], kind="stable")]
        cards = [self._cards[int(candidates[i])] for i in ordered]
        return [c for c in cards if c is not None]

    def column_bytes(self) -> int:
        """Memory held by the numpy columns and term masks (the cards themselves are extra)."""
        arrays = (self._valid, self._has_zone, self._open, self._start, self._end, self._zone, self._helpful,
                  self._name_rank, *self._masks.values())  # fmt: skip
        return int(sum(a.nbytes for a in arrays))

    def __len__(self) -> int:
        return int(self._valid[: self._size].sum())


def _tags(card: MemberCard) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return (
        ("platform", tuple(card.identities)),
        ("role", card.roles),
        ("programme", card.programmes),
        ("subject", card.subjects),
        ("language", card.languages),
    )
