"""What people type after /meetups, in English, French and Spanish: property tests for the parsers,
and the local-time arithmetic of the round schedule across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.meetups.parsing import (
    CADENCES,
    SIZES,
    WEEKDAYS,
    ParseError,
    parse_join,
    parse_schedule,
    parse_time,
    parse_weeks,
)
from bot.meetups.timing import following, next_occurrence, zone

JOIN_PHRASES = (
    "every {c} weeks, groups of {s}",
    "every {c} weeks group size {s}",
    "{c} {s}",
    "toutes les {c} semaines, groupes de {s}",
    "cada {c} semanas, grupos de {s}",
    "cada {c} semanas tamaño {s}",
)
DAYS = {
    0: ("monday", "lundi", "lunes"),
    2: ("wednesday", "mercredi", "miércoles"),
    4: ("friday", "vendredi", "viernes"),
}


@given(st.sampled_from(JOIN_PHRASES), st.sampled_from(CADENCES), st.sampled_from(SIZES))
def test_join_phrases_in_three_languages_give_cadence_and_size(phrase: str, cadence: int, size: int) -> None:
    options = parse_join(phrase.format(c=cadence, s=size))
    assert (options.cadence_weeks, options.group_size) == (cadence, size)


@pytest.mark.parametrize(
    ("text", "cadence", "size"),
    [
        ("", None, None),
        ("weekly", 1, None),
        ("monthly", 4, None),
        ("every week", 1, None),
        ("groups of 4", None, 4),
    ],
)
def test_join_words(text: str, cadence: int | None, size: int | None) -> None:
    assert (parse_join(text).cadence_weeks, parse_join(text).group_size) == (cadence, size)


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_any_text_is_understood_or_refused_with_a_reason(text: str) -> None:
    try:
        options = parse_join(text)
    except ParseError as exc:
        assert exc.code in {"cadence", "size", "word"}
    else:
        assert options.cadence_weeks in (None, *CADENCES) and options.group_size in (None, *SIZES)


@given(st.integers(-5, 60), st.sampled_from(("{n}", "{n} weeks", "{n} semaines", "{n} semanas")))
def test_pause_lengths(n: int, phrase: str) -> None:
    text = phrase.format(n=n)
    if 1 <= n <= 26:
        assert parse_weeks(text) == n
    else:
        with pytest.raises(ParseError):
            parse_weeks(text)


@given(st.integers(0, 23), st.integers(0, 59))
def test_clock_times(hour: int, minute: int) -> None:
    assert parse_time(f"{hour}:{minute:02d}") == hour * 60 + minute
    assert parse_time(f"{hour}h{minute:02d}") == hour * 60 + minute
    twelve = hour % 12 or 12
    assert parse_time(f"{twelve}{'am' if hour < 12 else 'pm'}") == hour * 60
    assert parse_time(str(hour)) is None  # a bare number is not a time


@given(
    st.sampled_from(CADENCES),
    st.sampled_from(sorted(DAYS)),
    st.integers(0, 2),
    st.integers(0, 23),
    st.sampled_from((0, 30)),
    st.sampled_from(("Europe/London", "America/New_York", "Australia/Sydney", "UTC")),
)
def test_schedules_in_three_languages(
    cadence: int, day: int, lang: int, hour: int, minute: int, tz: str
) -> None:
    word = DAYS[day][lang]
    every = ("every {c} weeks", "toutes les {c} semaines", "cada {c} semanas")[lang].format(c=cadence)
    options = parse_schedule(f"{every} on {word} at {hour:02d}:{minute:02d} {tz} in <#C0123ABC|meetups>")
    assert (options.cadence_weeks, options.weekday, options.at_minutes) == (cadence, day, hour * 60 + minute)
    assert options.timezone == tz and options.channel == "C0123ABC"
    assert WEEKDAYS[word] == day


def test_schedule_problems_are_named() -> None:
    for text, code in [
        ("every week at 10:00", "weekday"),
        ("on monday", "time"),
        ("on monday at 10:00 Mars/Olympus", "zone"),
        ("every 3 weeks on monday at 10:00", "cadence"),
        ("on monday at 10:00 please", "word"),
    ]:
        with pytest.raises(ParseError) as info:
            parse_schedule(text)
        assert info.value.code == code, text


@pytest.mark.parametrize(
    ("tz", "before", "after"),
    [
        ("Europe/London", datetime(2026, 3, 25, 14, 0, tzinfo=UTC), datetime(2026, 4, 1, 13, 0, tzinfo=UTC)),
        (
            "America/New_York",
            datetime(2026, 10, 28, 19, 0, tzinfo=UTC),
            datetime(2026, 11, 4, 20, 0, tzinfo=UTC),
        ),
        ("Australia/Sydney", datetime(2026, 4, 1, 3, 0, tzinfo=UTC), datetime(2026, 4, 8, 4, 0, tzinfo=UTC)),
    ],
)
def test_rounds_keep_local_wall_clock_time_across_dst(tz: str, before: datetime, after: datetime) -> None:
    local = before.astimezone(zone(tz))
    minutes = local.hour * 60 + local.minute
    assert following(before, 1, minutes, tz) == after
    assert after.astimezone(zone(tz)).hour == local.hour


def test_next_occurrence_is_strictly_after() -> None:
    tuesday_15 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert next_occurrence(1, 15 * 60, "UTC", tuesday_15) == datetime(2026, 3, 17, 15, 0, tzinfo=UTC)
    assert next_occurrence(2, 15 * 60, "Europe/London", tuesday_15) == datetime(
        2026, 3, 11, 15, 0, tzinfo=UTC
    )
