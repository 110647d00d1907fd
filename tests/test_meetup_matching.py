"""The job-alike meet-up matcher (bot/meetups/matching.py): hand-made scenarios and properties over random
pools. Pure: no database, no network, no clock."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.meetups.matching import (
    Candidate,
    MatchResult,
    MatchSettings,
    Reason,
    daily_window_utc,
    match,
    overlap_minutes,
    pair_weight,
)

ON = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)  # New York already on summer time, London not yet


def member(
    member_id: int,
    *,
    roles: tuple[str, ...] = ("examiner",),
    subjects: tuple[str, ...] = ("biology",),
    programmes: tuple[str, ...] = ("dp",),
    languages: tuple[str, ...] = ("en",),
    school: str | None = None,
    region: str | None = "Europe",
    timezone: str = "Europe/London",
    hours: tuple[int, int] = (9, 17),
    max_group: int = 2,
    excluded: tuple[int, ...] = (),
) -> Candidate:
    return Candidate(
        member_id=member_id,
        roles=frozenset(roles),
        subjects=frozenset(subjects),
        programmes=frozenset(programmes),
        languages=frozenset(languages),
        school=school if school is not None else f"School {member_id}",
        region=region,
        timezone=timezone,
        work_start=hours[0] * 60,
        work_end=hours[1] * 60,
        max_group=max_group,
        excluded=frozenset(excluded),
    )


def grouped(result: MatchResult) -> set[frozenset[int]]:
    return {frozenset(g.member_ids) for g in result.groups}


def reasons(result: MatchResult) -> dict[int, Reason]:
    return {u.member_id: u.reason for u in result.unmatched}


# --- windows and weights ---------------------------------------------------------------------------------


def test_windows_follow_daylight_saving_in_each_zone() -> None:
    london, new_york = member(1), member(2, timezone="America/New_York", region="Americas")
    winter = datetime(2026, 1, 12, 12, tzinfo=UTC)
    gap = datetime(2026, 3, 10, 12, tzinfo=UTC)  # the US has moved its clocks, Europe not yet
    summer = datetime(2026, 3, 30, 12, tzinfo=UTC)
    assert daily_window_utc(london, winter) == (540, 1020)
    assert daily_window_utc(new_york, winter) == (840, 1320)
    assert daily_window_utc(new_york, gap) == (780, 1260)
    assert daily_window_utc(london, summer) == (480, 960)
    assert overlap_minutes([london, new_york], winter) == 180
    assert overlap_minutes([london, new_york], gap) == 240
    assert overlap_minutes([london, new_york], summer) == 180
    strict = MatchSettings(min_overlap_minutes=200)
    assert pair_weight(london, new_york, gap, settings=strict) is not None
    assert pair_weight(london, new_york, summer, settings=strict) is None
    assert reasons(match([london, new_york], on=summer, seed=1, settings=strict)) == {
        1: Reason.NO_OVERLAP,
        2: Reason.NO_OVERLAP,
    }


def test_overlap_on_a_circular_day() -> None:
    night = member(1, timezone="UTC", hours=(22, 6))  # crosses UTC midnight
    early = member(2, timezone="UTC", hours=(4, 12))
    late = member(3, timezone="Asia/Tokyo", hours=(7, 15))  # 22:00-06:00 UTC
    assert daily_window_utc(night, ON) == (1320, 1800)
    assert overlap_minutes([night, early], ON) == 120
    assert overlap_minutes([night, late], ON) == 480
    assert overlap_minutes([night, early, late], ON) == 120
    always = member(4, timezone="UTC", hours=(0, 24))
    assert overlap_minutes([always, late], ON) == 480
    assert overlap_minutes([], ON) == 0


def test_unknown_zone_is_utc() -> None:
    odd = member(1, timezone="Mars/Olympus_Mons")
    assert daily_window_utc(odd, ON) == (540, 1020)
    assert daily_window_utc(member(2, timezone="UTC"), ON) == (540, 1020)


def test_pair_weight_tiers_and_bonuses() -> None:
    a = member(1, roles=("examiner",), subjects=("biology",), programmes=("dp",), school="S", region="Europe")
    s = MatchSettings()
    same_school_region = dict(school="S", region="Europe")
    assert pair_weight(a, member(2, **same_school_region), ON) == s.role_subject
    other_subject = member(2, subjects=("physics",), **same_school_region)
    assert pair_weight(a, other_subject, ON) == s.role_programme
    other_programme = member(2, subjects=("physics",), programmes=("myp",), **same_school_region)
    assert pair_weight(a, other_programme, ON) == s.role_only
    no_role = member(2, roles=("moderator",), **same_school_region)
    assert pair_weight(a, no_role, ON) == s.base
    far = member(2, school="T", region="Americas", timezone="America/New_York")
    assert pair_weight(a, far, ON) == s.role_subject + s.other_school + s.other_region
    unknown = replace(member(2), school=None, region=None)
    assert pair_weight(a, unknown, ON) == s.role_subject  # unknown school or region: no bonus
    assert pair_weight(a, replace(unknown, school=""), ON) == s.role_subject


def test_pair_weight_hard_rules() -> None:
    a, b = member(1), member(2)
    assert pair_weight(a, a, ON) is None
    assert pair_weight(replace(a, excluded=frozenset({2})), b, ON) is None
    assert pair_weight(a, replace(b, excluded=frozenset({1})), ON) is None  # either way
    assert pair_weight(a, replace(b, languages=frozenset({"fr"})), ON) is None
    assert pair_weight(a, b, ON, recent=[frozenset({1, 2})]) is None
    assert pair_weight(a, b, ON, recent=[frozenset({1, 3})]) is not None


# --- scenarios -------------------------------------------------------------------------------------------


def test_job_alikes_are_preferred() -> None:
    pool = [
        member(1, roles=("examiner",), subjects=("biology",)),
        member(2, roles=("workshop-leader",), subjects=("physics",)),
        member(3, roles=("examiner",), subjects=("biology",)),
        member(4, roles=("workshop-leader",), subjects=("physics",)),
    ]
    for seed in range(5):
        result = match(pool, on=ON, seed=seed)
        assert grouped(result) == {frozenset({1, 3}), frozenset({2, 4})}
        assert result.unmatched == ()
        assert result.pair_weight_total == 2 * (MatchSettings().role_subject + MatchSettings().other_school)


def test_cross_region_bonus_wins_ties() -> None:
    europe = [member(1), member(2)]
    americas = [member(k, region="Americas", timezone="America/New_York") for k in (3, 4)]
    for seed in range(5):
        result = match(europe + americas, on=ON, seed=seed)
        assert all(len({m <= 2 for m in g}) == 2 for g in grouped(result)), grouped(result)


def test_three_compatible_make_one_group_of_three() -> None:
    for max_group in (2, 3):
        pool = [member(k, max_group=max_group) for k in (1, 2, 3)]
        result = match(pool, on=ON, seed=3)
        assert grouped(result) == {frozenset({1, 2, 3})}
        assert result.groups[0].member_ids == (1, 2, 3)
        assert result.groups[0].weight == 3 * (MatchSettings().role_subject + MatchSettings().other_school)
        assert result.unmatched == ()


def test_a_third_prefers_the_pair_that_accepts_three() -> None:
    pool = [
        member(1, roles=("examiner",), subjects=("biology",)),
        member(2, roles=("examiner",), subjects=("biology",)),
        member(3, roles=("moderator",), subjects=("physics",), max_group=3),
        member(4, roles=("moderator",), subjects=("physics",), max_group=3),
        member(5, roles=("leader",), subjects=("art",), max_group=3),  # adds as much to either pair
    ]
    for seed in range(5):
        result = match(pool, on=ON, seed=seed)
        sizes = sorted(len(g.member_ids) for g in result.groups)
        assert sizes == [2, 3]
        (three,) = [g for g in result.groups if len(g.member_ids) == 3]
        assert set(three.member_ids) == {3, 4, 5}


def test_pairs_that_accept_four_merge() -> None:
    pool = [member(k, max_group=4) for k in range(1, 5)]
    result = match(pool, on=ON, seed=1)
    assert grouped(result) == {frozenset({1, 2, 3, 4})}
    assert result.groups[0].weight == 6 * (MatchSettings().role_subject + MatchSettings().other_school)
    assert result.pairing_weight == 2 * (MatchSettings().role_subject + MatchSettings().other_school)
    # one member who only accepts pairs keeps everyone in pairs
    pool[0] = replace(pool[0], max_group=2)
    assert sorted(len(g.member_ids) for g in match(pool, on=ON, seed=1).groups) == [2, 2]


def test_exclusions_are_hard_both_ways() -> None:
    best = dict(roles=("examiner",), subjects=("biology",))
    poor = dict(roles=("moderator",), subjects=("art",))
    for excluded_by_first in (True, False):
        a = member(1, **best, excluded=(2,) if excluded_by_first else ())
        b = member(2, **best, excluded=() if excluded_by_first else (1,))
        pool = [a, b, member(3, **poor), member(4, **poor)]
        for seed in range(5):
            result = match(pool, on=ON, seed=seed)
            assert frozenset({1, 2}) not in grouped(result)
            assert all(not {1, 2} <= set(g.member_ids) for g in result.groups)
    result = match([member(1, excluded=(2,)), member(2)], on=ON, seed=1)
    assert reasons(result) == {1: Reason.EXCLUDED, 2: Reason.EXCLUDED}


def test_recent_partners_are_never_repeated() -> None:
    pool = [member(1), member(2), member(3), member(4)]
    recent = [frozenset({1, 2}), frozenset({3, 4})]
    for seed in range(5):
        result = match(pool, on=ON, seed=seed, recent=recent)
        assert not grouped(result) & set(recent)
        assert len(result.groups) == 2
    result = match(pool[:2], on=ON, seed=1, recent=recent)
    assert reasons(result) == {1: Reason.RECENT, 2: Reason.RECENT}


def test_reasons() -> None:
    assert reasons(match([member(1)], on=ON, seed=1)) == {1: Reason.ALONE}
    tokyo = member(2, timezone="Asia/Tokyo", region="Asia-Pacific")
    assert reasons(match([member(1), tokyo], on=ON, seed=1)) == {1: Reason.NO_OVERLAP, 2: Reason.NO_OVERLAP}
    french = member(2, languages=("fr",))
    assert reasons(match([member(1), french], on=ON, seed=1)) == {
        1: Reason.NO_LANGUAGE,
        2: Reason.NO_LANGUAGE,
    }
    # 3 overlaps only 1, who is better off with 2: the pair cannot take 3 (no overlap with 2)
    pool = [
        member(1, hours=(9, 17)),
        member(2, hours=(7, 11)),
        member(3, hours=(15, 23), roles=("moderator",)),
    ]
    result = match(pool, on=ON, seed=1)
    assert grouped(result) == {frozenset({1, 2})}
    assert reasons(result) == {3: Reason.ODD_ONE_OUT}
    assert match([], on=ON, seed=1) == MatchResult((), ())


def test_deterministic_for_a_seed() -> None:
    pool = [
        member(k, subjects=(("biology", "physics", "chemistry")[k % 3],), max_group=2 + k % 3)
        for k in range(1, 30)
    ]
    first = match(pool, on=ON, seed=42)
    assert match(pool, on=ON, seed=42) == first
    assert match(tuple(pool), on=ON, seed=42) == first
    assert {m for g in first.groups for m in g.member_ids} | {u.member_id for u in first.unmatched} == set(
        range(1, 30)
    )


def test_refused_inputs() -> None:
    with pytest.raises(ValueError, match="unique"):
        match([member(1), member(1)], on=ON, seed=1)
    with pytest.raises(ValueError, match="negative"):
        match([member(1), member(2)], on=ON, seed=1, settings=MatchSettings(base=-1))


# --- properties over random pools ------------------------------------------------------------------------

ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC", "Not/AZone")
ROLES = ("examiner", "moderator", "leader")
SUBJECTS = ("bio", "phy", "chem", "art")
PROGRAMMES = ("dp", "myp")
LANGUAGES = ("en", "es", "fr")
SCHOOLS, REGIONS = (None, "", "S1", "S2", "S3"), (None, "Europe", "Americas", "Asia")
LENGTHS = (0, 120, 240, 480, 600, 720, 1440)


def subset(terms: tuple[str, ...], bits: int) -> frozenset[str]:
    return frozenset(t for k, t in enumerate(terms) if bits >> k & 1)


# one member as small integers (cheap for hypothesis to draw and to shrink)
MEMBER = st.tuples(
    st.integers(0, 7),  # roles
    st.integers(0, 15),  # subjects
    st.integers(0, 3),  # programmes
    st.sampled_from((1, 1, 1, 3, 5, 2, 4, 6)),  # languages, mostly English
    st.integers(0, len(SCHOOLS) - 1),
    st.integers(0, len(REGIONS) - 1),
    st.integers(0, len(ZONES) - 1),
    st.integers(0, 47),  # start, in half hours
    st.integers(0, len(LENGTHS) - 1),
    st.integers(2, 4),  # max group
)


@st.composite
def pools(draw: st.DrawFn, max_size: int = 40) -> tuple[list[Candidate], list[frozenset[int]], MatchSettings]:
    rows = draw(st.lists(MEMBER, max_size=max_size))
    first = draw(st.integers(1, 10_000))
    ids = [first + 7 * k for k in range(len(rows))]
    pairs = st.tuples(st.integers(0, max(0, len(ids) - 1)), st.integers(0, max(0, len(ids) - 1)))
    excluded: dict[int, set[int]] = {}
    for a, b in draw(st.lists(pairs, max_size=len(ids) // 2)) if ids else []:
        excluded.setdefault(ids[a], set()).add(ids[b])  # may be oneself: ignored
    recent = [frozenset((ids[a], ids[b])) for a, b in draw(st.lists(pairs, max_size=len(ids)))] if ids else []
    out = []
    for member_id, (r, s, p, lang, school, region, zone, half_hours, length, group) in zip(
        ids, rows, strict=True
    ):
        start, end = half_hours * 30, (half_hours * 30 + LENGTHS[length]) % 1440
        if LENGTHS[length] == 1440:
            start, end = 0, 1440  # all day
        out.append(
            Candidate(
                member_id=member_id,
                roles=subset(ROLES, r),
                subjects=subset(SUBJECTS, s),
                programmes=subset(PROGRAMMES, p),
                languages=subset(LANGUAGES, lang),
                school=SCHOOLS[school],
                region=REGIONS[region],
                timezone=ZONES[zone],
                work_start=start,
                work_end=end,
                max_group=group,
                excluded=frozenset(excluded.get(member_id, ())),
            )
        )
    min_overlap = draw(st.sampled_from((60, 0, 120)))
    return out, recent, MatchSettings(min_overlap_minutes=min_overlap)


def check_result(
    pool: list[Candidate], recent: list[frozenset[int]], config: MatchSettings, result: MatchResult
) -> None:
    by_id = {c.member_id: c for c in pool}
    placed: list[int] = []
    size_two: list[tuple[Candidate, ...]] = []
    for group in result.groups:
        assert 2 <= len(group.member_ids) <= 4
        assert list(group.member_ids) == sorted(group.member_ids)
        people = tuple(by_id[m] for m in group.member_ids)
        weights = [
            pair_weight(a, b, ON, recent=recent, settings=config)
            for a, b in itertools.combinations(people, 2)
        ]
        assert None not in weights, group  # exclusions both ways, recent, language, pairwise overlap
        assert group.weight == sum(w for w in weights if w is not None)
        assert frozenset.intersection(*(c.languages for c in people))
        assert overlap_minutes(people, ON) >= config.min_overlap_minutes
        placed += group.member_ids
        if len(people) == 2:
            size_two.append(people)
    left = [u.member_id for u in result.unmatched]
    assert len(placed) == len(set(placed))  # nobody in two groups
    assert sorted(placed + left) == sorted(by_id)  # everyone placed or left out, exactly once
    assert result.pair_weight_total >= result.pairing_weight
    for u in left:
        me = by_id[u]
        for v in left:
            if v != u:  # nobody alone when a partner is free
                assert pair_weight(me, by_id[v], ON, recent=recent, settings=config) is None, (u, v)
        for a, b in size_two:  # nor when a pair could take them
            joinable = (
                pair_weight(me, a, ON, recent=recent, settings=config) is not None
                and pair_weight(me, b, ON, recent=recent, settings=config) is not None
                and me.languages & a.languages & b.languages
                and overlap_minutes([me, a, b], ON) >= config.min_overlap_minutes
            )
            assert not joinable, (u, a.member_id, b.member_id)
    for u in result.unmatched:
        others = [c for c in pool if c.member_id != u.member_id]
        me = by_id[u.member_id]
        overlapping = [c for c in others if overlap_minutes([me, c], ON) >= config.min_overlap_minutes]
        speaking = [c for c in overlapping if c.languages & me.languages]
        expected = (
            Reason.ALONE
            if not others
            else Reason.NO_OVERLAP
            if not overlapping
            else Reason.NO_LANGUAGE
            if not speaking
            else None
        )
        if expected is not None:
            assert u.reason == expected
        else:
            assert u.reason in (Reason.EXCLUDED, Reason.RECENT, Reason.ODD_ONE_OUT)


@settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools(), st.integers(0, 2**32))
def test_groups_are_valid_and_nobody_is_left_alone_when_avoidable(
    drawn: tuple[list[Candidate], list[frozenset[int]], MatchSettings], seed: int
) -> None:
    pool, recent, config = drawn
    result = match(pool, on=ON, seed=seed, recent=recent, settings=config)
    check_result(pool, recent, config, result)
    assert match(pool, on=ON, seed=seed, recent=set(recent), settings=config) == result  # deterministic


def optimum(pool: list[Candidate], recent: list[frozenset[int]], config: MatchSettings) -> int:
    graph = nx.Graph()
    for a, b in itertools.combinations(pool, 2):
        w = pair_weight(a, b, ON, recent=recent, settings=config)
        if w is not None:
            graph.add_edge(a.member_id, b.member_id, weight=w)
    return sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools(max_size=14), st.integers(0, 2**32))
def test_pairing_is_close_to_the_exact_optimum(
    drawn: tuple[list[Candidate], list[frozenset[int]], MatchSettings], seed: int
) -> None:
    pool, recent, config = drawn
    result = match(pool, on=ON, seed=seed, recent=recent, settings=config)
    # measured: the worst of 20,000 random pools was 0.92 of the optimum (nearly all are exact)
    assert result.pairing_weight >= 0.9 * optimum(pool, recent, config)
