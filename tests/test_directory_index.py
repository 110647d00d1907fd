"""Property tests: after any sequence of profile writes and deletions, the incrementally maintained
index ranks exactly as a brute-force reference computed from scratch."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.directory import DirectoryIndex, DirectoryQuery
from storage.members import MemberCard

NOW = datetime(2026, 7, 1, 13, 37, tzinfo=UTC)
ROLES = ("examiner", "moderator", "workshop-leader")
SUBJECTS = ("biology", "physics", "history")
PROGRAMMES = ("dp", "myp")
LANGUAGES = ("en", "es", "fr")
ZONES = (None, "Europe/Madrid", "Asia/Tokyo", "America/New_York", "Bogus/Zone")
NAMES = ("Ana", "ana", "Bea", "Zoe", "Émile", "Omar")


def card(member_id: int, draw: st.DrawFn) -> MemberCard:
    pick = lambda values: tuple(draw(st.lists(st.sampled_from(values), max_size=2, unique=True)))  # noqa: E731
    start = draw(st.integers(0, 1439))
    return MemberCard(
        member_id=member_id,
        name=draw(st.sampled_from(NAMES)),
        email=None,
        identities={"console": f"u{member_id}"},
        roles=pick(ROLES),
        programmes=pick(PROGRAMMES),
        subjects=pick(SUBJECTS),
        languages=pick(LANGUAGES),
        timezone=draw(st.sampled_from(ZONES)),
        region=None,
        school=None,
        department=None,
        locale=None,
        open_to_questions=draw(st.booleans()),
        visibility=draw(st.sampled_from(("listed", "listed", "hidden"))),
        work_start=start,
        work_end=(start + draw(st.integers(1, 1439))) % 1440 or 1,
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[MemberCard], list[tuple[set[int], list[MemberCard]]]]:
    first = [card(i, draw) for i in range(draw(st.integers(0, 8)))]
    steps = []
    next_id = len(first)
    for _ in range(draw(st.integers(0, 6))):
        ids = draw(st.sets(st.integers(0, next_id + 2), max_size=4))
        cards = [card(i, draw) for i in sorted(ids) if draw(st.booleans())]  # the others were deleted
        next_id = max([next_id, *(i + 1 for i in ids)])
        steps.append((ids, cards))
    return first, steps


def in_hours(c: MemberCard) -> bool:
    if c.timezone not in ("Europe/Madrid", "Asia/Tokyo", "America/New_York"):
        return False
    local = NOW.astimezone(ZoneInfo(c.timezone))
    minute = local.hour * 60 + local.minute
    s, e = c.work_start, c.work_end
    return s <= minute < e if s <= e else (minute >= s or minute < e)


def reference(cards: dict[int, MemberCard], q: DirectoryQuery) -> list[int]:
    family = q.role_family or q.roles
    out = []
    for c in cards.values():
        if c.visibility != "listed":
            continue
        if family or q.subjects:
            if family and not set(c.roles) & set(family):
                continue
            if q.subjects and not set(c.subjects) & set(q.subjects):
                continue
        else:
            if q.programmes and not set(c.programmes) & set(q.programmes):
                continue
            if q.languages and not set(c.languages) & set(q.languages):
                continue
        exact = (not q.roles or bool(set(c.roles) & set(q.roles))) and (
            not q.subjects or bool(set(c.subjects) & set(q.subjects))
        )
        key = (
            exact,
            min(3, len(set(c.programmes) & set(q.programmes))),
            min(3, len(set(c.languages) & set(q.languages))),
            c.open_to_questions,
            in_hours(c),
        )
        out.append((key, (c.name.casefold(), c.member_id)))
    out.sort(key=lambda item: item[1])
    out.sort(key=lambda item: item[0], reverse=True)
    return [name_id[1] for _, name_id in out]


queries = st.builds(
    DirectoryQuery,
    roles=st.lists(st.sampled_from(ROLES), max_size=1, unique=True).map(tuple),
    role_family=st.just(()),
    subjects=st.lists(st.sampled_from(SUBJECTS), max_size=2, unique=True).map(tuple),
    programmes=st.lists(st.sampled_from(PROGRAMMES), max_size=2, unique=True).map(tuple),
    languages=st.lists(st.sampled_from(LANGUAGES), max_size=2, unique=True).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(histories(), st.lists(queries, min_size=1, max_size=4))
def test_incremental_index_matches_a_from_scratch_reference(history, qs: list[DirectoryQuery]) -> None:  # type: ignore[no-untyped-def]
    first, steps = history
    index = DirectoryIndex(members=None, db=None)  # type: ignore[arg-type]  # no I/O: fed directly
    index._load(first)
    truth = {c.member_id: c for c in first}
    for changed, cards in steps:
        index._apply(changed, cards)
        for member_id in changed:
            truth.pop(member_id, None)
        truth.update({c.member_id: c for c in cards})
    for q in qs:
        result = index.search(q, NOW, limit=100)
        expected = [] if q.empty else reference(truth, q)
        assert [c.member_id for c in result.cards] == expected
        assert result.total == len(expected)
        # Paging walks the same order.
        if len(expected) > 2:
            paged = [
                c.member_id
                for off in range(0, len(expected), 2)
                for c in index.search(q, NOW, offset=off, limit=2).cards
            ]
            assert paged == expected
