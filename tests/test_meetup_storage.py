"""Meet-up storage on SQLite and PostgreSQL: one round per platform and time, recent pairs, avoid
lists both ways, stats, and a forgotten member's meet-up data going with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.meetups import MeetupRepository, NewGroup
from storage.members import MemberInput, MemberRepository

T0 = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


async def _members(db: Database, count: int) -> list[int]:
    repo = MemberRepository(db)
    return [
        await repo.upsert(MemberInput(name=f"M{i}", identities={"console": f"m{i}"}), T0)
        for i in range(count)
    ]


async def test_a_round_is_stored_once_and_found_again(db: Database) -> None:
    a, b, c, d, e = await _members(db, 5)
    repo = MeetupRepository(db)
    groups = [NewGroup((a, b), 26, 2), NewGroup((c, d, e), 30, 1)]
    first, created = await repo.record_round(
        "console", T0, ran_at=T0, seed=7, eligible=5, groups=groups, sitouts=[]
    )
    again, created_again = await repo.record_round(
        "console", T0, ran_at=T0, seed=7, eligible=5, groups=[NewGroup((a, c), 1, 1)], sitouts=[]
    )
    assert created and not created_again and again.id == first.id
    stored = await repo.groups(first.id)
    assert [g.member_ids for g in stored] == [(a, b), (c, d, e)]
    assert await repo.recent_pairs("console", 6) == {
        frozenset((a, b)),
        frozenset((c, d)),
        frozenset((c, e)),
        frozenset((d, e)),
    }
    assert await repo.recent_pairs("slack", 6) == set()
    assert (await repo.last_matched([a, e]))[a] == T0


async def test_recent_pairs_cover_only_the_last_rounds(db: Database) -> None:
    a, b, c = await _members(db, 3)
    repo = MeetupRepository(db)
    for week, pair in enumerate([(a, b), (a, c), (b, c)]):
        await repo.record_round(
            "console", T0 + timedelta(weeks=week), ran_at=T0, seed=1, eligible=3,
            groups=[NewGroup(pair, 1, 1)], sitouts=[],
        )  # fmt: skip
    assert await repo.recent_pairs("console", 2) == {frozenset((a, c)), frozenset((b, c))}
    assert await repo.recent_pairs("console", 0) == set()


async def test_avoid_lists_apply_both_ways_and_stats_count_answers(db: Database) -> None:
    a, b, c, d = await _members(db, 4)
    repo = MeetupRepository(db)
    assert await repo.avoid(a, b) and not await repo.avoid(a, b)
    assert await repo.all_avoids() == {a: {b}, b: {a}}
    record, _ = await repo.record_round(
        "console", T0, ran_at=T0, seed=1, eligible=5,
        groups=[NewGroup((a, c), 1, 2), NewGroup((b, d), 1, 1)], sitouts=[(d, "no_overlap")],
    )  # fmt: skip
    first, second = await repo.groups(record.id)
    assert await repo.record_met(first.id, a, "yes", T0)
    assert not await repo.record_met(first.id, b, "yes", T0)  # not in that group
    assert await repo.record_met(second.id, b, "no", T0)
    stats = await repo.stats("console", T0 - timedelta(days=1))
    assert (stats.rounds, stats.eligible, stats.matched, stats.groups) == (1, 5, 4, 2)
    assert (stats.groups_answered, stats.groups_met, stats.cross_region_groups) == (2, 1, 1)


async def test_forgetting_a_member_removes_their_meetup_data(db: Database) -> None:
    a, b = await _members(db, 2)
    repo = MeetupRepository(db)
    await repo.join(a, "console", 2, 3, T0)
    await repo.avoid(a, b)
    await repo.record_round(
        "console", T0, ran_at=T0, seed=1, eligible=2, groups=[NewGroup((a, b), 1, 1)], sitouts=[]
    )
    await MemberRepository(db).delete(a)
    assert await repo.get(a) is None and await repo.all_avoids() == {}
    assert await repo.recent_pairs("console", 6) == set()
