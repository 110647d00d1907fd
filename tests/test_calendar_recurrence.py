"""Community calendar recurrence: phrases (EN/FR/ES), dates, starts, and series expansion across DST."""

from __future__ import annotations

import contextlib
import itertools
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.calendar.recurrence import (
    Occurrence,
    ParseError,
    Series,
    next_occurrence,
    occurrence_ids,
    occurrences,
    parse_dates,
    parse_repeat,
    parse_start,
)

LONDON = ZoneInfo("Europe/London")
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------------
# parse_repeat

PHRASES = [
    # English
    ("weekly", "FREQ=WEEKLY"),
    ("every week", "FREQ=WEEKLY"),
    ("Once a week", "FREQ=WEEKLY"),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
    ("every two weeks", "FREQ=WEEKLY;INTERVAL=2"),
    ("every other week", "FREQ=WEEKLY;INTERVAL=2"),
    ("every second week", "FREQ=WEEKLY;INTERVAL=2"),
    ("fortnightly", "FREQ=WEEKLY;INTERVAL=2"),
    ("bi-weekly", "FREQ=WEEKLY;INTERVAL=2"),
    ("every 4 weeks on Tuesday", "FREQ=WEEKLY;INTERVAL=4;BYDAY=TU"),
    ("every Tuesday", "FREQ=WEEKLY;BYDAY=TU"),
    ("on Thursdays and Mondays", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("every other Wednesday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
    ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("Monday to Friday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("Mon-Wed", "FREQ=WEEKLY;BYDAY=MO,TU,WE"),
    ("weekends", "FREQ=WEEKLY;BYDAY=SA,SU"),
    ("daily", "FREQ=DAILY"),
    ("every day", "FREQ=DAILY"),
    ("every 3 days", "FREQ=DAILY;INTERVAL=3"),
    ("monthly", "FREQ=MONTHLY"),
    ("every month", "FREQ=MONTHLY"),
    ("every other month", "FREQ=MONTHLY;INTERVAL=2"),
    ("quarterly", "FREQ=MONTHLY;INTERVAL=3"),
    ("monthly on the second Wednesday", "FREQ=MONTHLY;BYDAY=2WE"),
    ("the second Wednesday of every month", "FREQ=MONTHLY;BYDAY=2WE"),
    ("every second Wednesday of the month", "FREQ=MONTHLY;BYDAY=2WE"),
    ("monthly on the last Friday", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("the first and third Monday of the month", "FREQ=MONTHLY;BYDAY=1MO,3MO"),
    ("every 2 months on the 2nd Tuesday", "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU"),
    ("the second to last Thursday of the month", "FREQ=MONTHLY;BYDAY=-2TH"),
    ("every month on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("the 15th of every month", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("monthly on the 1st and 15th", "FREQ=MONTHLY;BYMONTHDAY=1,15"),
    ("the last day of the month", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("yearly", "FREQ=YEARLY"),
    ("every year", "FREQ=YEARLY"),
    ("weekly until 2027-06-30", "FREQ=WEEKLY;UNTIL=20270630T235959"),
    ("monthly on the second Wednesday until June 30, 2027", "FREQ=MONTHLY;BYDAY=2WE;UNTIL=20270630T235959"),
    ("until 2027-06-30, every Tuesday", "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T235959"),
    ("weekly for 10 times", "FREQ=WEEKLY;COUNT=10"),
    ("every 2 weeks, 6 sessions", "FREQ=WEEKLY;INTERVAL=2;COUNT=6"),
    ("every Tuesday, ten times", "FREQ=WEEKLY;BYDAY=TU;COUNT=10"),
    # French
    ("hebdomadaire", "FREQ=WEEKLY"),
    ("chaque semaine", "FREQ=WEEKLY"),
    ("une fois par semaine", "FREQ=WEEKLY"),
    ("toutes les 4 semaines", "FREQ=WEEKLY;INTERVAL=4"),
    ("toutes les deux semaines", "FREQ=WEEKLY;INTERVAL=2"),
    ("une semaine sur deux", "FREQ=WEEKLY;INTERVAL=2"),
    ("tous les quinze jours", "FREQ=WEEKLY;INTERVAL=2"),
    ("tous les mardis", "FREQ=WEEKLY;BYDAY=TU"),
    ("un mercredi sur deux", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
    ("du lundi au vendredi", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("en semaine", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("tous les jours", "FREQ=DAILY"),
    ("quotidien", "FREQ=DAILY"),
    ("mensuel", "FREQ=MONTHLY"),
    ("tous les mois", "FREQ=MONTHLY"),
    ("chaque mois le deuxième mercredi", "FREQ=MONTHLY;BYDAY=2WE"),
    ("le deuxième mercredi de chaque mois", "FREQ=MONTHLY;BYDAY=2WE"),
    ("tous les deuxièmes mercredis du mois", "FREQ=MONTHLY;BYDAY=2WE"),
    ("le 1er et le 3e mardi du mois", "FREQ=MONTHLY;BYDAY=1TU,3TU"),
    ("le dernier vendredi du mois", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("l'avant-dernier vendredi du mois", "FREQ=MONTHLY;BYDAY=-2FR"),
    ("le 15 de chaque mois", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("trimestriel", "FREQ=MONTHLY;INTERVAL=3"),
    ("tous les ans", "FREQ=YEARLY"),
    ("chaque semaine jusqu'au 30 juin 2027", "FREQ=WEEKLY;UNTIL=20270630T235959"),
    ("toutes les 2 semaines, 8 fois", "FREQ=WEEKLY;INTERVAL=2;COUNT=8"),
    # Spanish
    ("semanal", "FREQ=WEEKLY"),
    ("cada semana", "FREQ=WEEKLY"),
    ("una vez por semana", "FREQ=WEEKLY"),
    ("cada 4 semanas", "FREQ=WEEKLY;INTERVAL=4"),
    ("cada dos semanas", "FREQ=WEEKLY;INTERVAL=2"),
    ("quincenal", "FREQ=WEEKLY;INTERVAL=2"),
    ("cada quince días", "FREQ=WEEKLY;INTERVAL=2"),
    ("cada once semanas", "FREQ=WEEKLY;INTERVAL=11"),
    ("todos los martes", "FREQ=WEEKLY;BYDAY=TU"),
    ("de lunes a viernes", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("días laborables", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("diario", "FREQ=DAILY"),
    ("todos los días", "FREQ=DAILY"),
    ("mensual", "FREQ=MONTHLY"),
    ("una vez al mes", "FREQ=MONTHLY"),
    ("el segundo miércoles de cada mes", "FREQ=MONTHLY;BYDAY=2WE"),
    ("el último viernes de cada mes", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("el día 15 de cada mes", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("el último día de cada mes", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("anual", "FREQ=YEARLY"),
    ("cada semana hasta el 30 de junio de 2027", "FREQ=WEEKLY;UNTIL=20270630T235959"),
    ("cada mes, 12 veces", "FREQ=MONTHLY;COUNT=12"),
    # raw rules
    ("FREQ=MONTHLY;BYDAY=2WE", "FREQ=MONTHLY;BYDAY=2WE"),
    ("RRULE:FREQ=WEEKLY;INTERVAL=4;BYDAY=TU", "FREQ=WEEKLY;INTERVAL=4;BYDAY=TU"),
    ("rrule:freq=monthly; bymonthday=-1;", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    (
        "FREQ=YEARLY;BYMONTH=9;BYDAY=1WE;UNTIL=20300101T000000Z",
        "FREQ=YEARLY;BYMONTH=9;BYDAY=1WE;UNTIL=20300101T000000Z",
    ),
]


@pytest.mark.parametrize(("phrase", "rule"), PHRASES)
def test_parse_repeat_phrases(phrase: str, rule: str) -> None:
    assert parse_repeat(phrase) == rule


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "  ",
        "once",
        "Once",
        "none",
        "no",
        "one-off",
        "does not repeat",
        "une fois",
        "jamais",
        "una vez",
        "nunca",
    ],
)
def test_parse_repeat_one_off(phrase: str) -> None:
    assert parse_repeat(phrase) is None


@pytest.mark.parametrize(
    ("phrase", "code", "value"),
    [
        ("every blue moon", "word", "blue"),
        ("twice a month", "word", "twice"),
        ("hourly", "word", "hourly"),
        ("deux fois par mois", "word", "fois"),
        ("every 0 weeks", "number", "0"),
        ("every 1000 weeks", "number", "1000"),
        ("monthly on the 6th Monday", "number", "6th"),
        ("monthly on the 32nd", "number", "32nd"),
        ("weekly, 0 times", "number", "0"),
        ("every", "rule", "every"),
        ("weekly on the second Wednesday", "rule", "weekly on the second Wednesday"),
        ("every 2 weeks on the 15th", "rule", "every 2 weeks on the 15th"),
        ("monthly on Tuesday", "rule", "monthly on Tuesday"),
        ("weekly until 2027-06-30 for 3 times", "rule", "weekly until 2027-06-30 for 3 times"),
        ("weekly until 2027-02-30", "date", "2027-02-30"),
        ("weekly until someday", "date", "someday"),
        ("FREQ=HOURLY", "rule", "FREQ=HOURLY"),
        ("FREQ=WEEKLY;BYHOUR=9", "rule", "FREQ=WEEKLY;BYHOUR=9"),
        ("FREQ=WEEKLY;BYDAY=XX", "rule", "FREQ=WEEKLY;BYDAY=XX"),
        ("FREQ=WEEKLY;BYDAY=2TU", "rule", "FREQ=WEEKLY;BYDAY=2TU"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "rule", "FREQ=MONTHLY;BYMONTHDAY=0"),
        ("FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO", "rule", "FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO"),
        ("FREQ=DAILY;INTERVAL=0", "number", "0"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "rule", "FREQ=DAILY;COUNT=3;UNTIL=20270101"),
        ("FREQ=DAILY;FREQ=WEEKLY", "rule", "FREQ=DAILY;FREQ=WEEKLY"),
        ("RRULE:FREQ=DAILY;UNTIL=20271340", "rule", "RRULE:FREQ=DAILY;UNTIL=20271340"),
        ("INTERVAL=2;FREQ=WÉEKLY", "rule", "INTERVAL=2;FREQ=WÉEKLY"),
    ],
)
def test_parse_repeat_refuses(phrase: str, code: str, value: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_repeat(phrase)
    assert (caught.value.code, caught.value.value) == (code, value)


@given(st.text())
@PROPERTY
def test_parse_repeat_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_repeat(text)


VOCABULARY = sorted(
    {word for phrase, _ in PHRASES[:-4] for word in phrase.replace(",", " ").split()}
    | {"and", "et", "y", "to", "sur", "-", "last", "15th", "31", "2", "0", "the", "of", "FREQ=WEEKLY", "once"}
)


@given(st.lists(st.sampled_from(VOCABULARY), max_size=7).map(" ".join))
@PROPERTY
def test_parse_repeat_word_salad_gives_usable_rules_or_parse_errors(phrase: str) -> None:
    """Any mix of known words either is refused with a ParseError or gives a rule a Series accepts."""
    try:
        rule = parse_repeat(phrase)
    except ParseError:
        return
    series = Series(datetime(2026, 1, 7, 15), "Europe/London", 60, rule)
    found = occurrences(series, utc(2026, 1, 1), utc(2026, 4, 1))
    assert all(o.start.astimezone(LONDON).time() == time(15) for o in found)


# ---------------------------------------------------------------------------------------------------------
# parse_dates

SEED = (
    "August 29, 2024; September 19, 2024; October 17, 2024; November 21, 2024; December 19, 2024; "
    "January 23, 2025; February 20, 2025; March 20, 2025; April 16, 2025"
)
SEED_DATES = (
    date(2024, 8, 29),
    date(2024, 9, 19),
    date(2024, 10, 17),
    date(2024, 11, 21),
    date(2024, 12, 19),
    date(2025, 1, 23),
    date(2025, 2, 20),
    date(2025, 3, 20),
    date(2025, 4, 16),
)


def test_parse_dates_seed_list() -> None:
    assert parse_dates(SEED) == SEED_DATES


@pytest.mark.parametrize(
    "text",
    [
        SEED.replace(";", ","),  # commas between dates AND inside them
        SEED.replace("; ", "\n"),
        "\n".join(f"- {d:%d %B %Y}" for d in reversed(SEED_DATES)),  # bullets, unsorted
        "29 août 2024; 19 septembre 2024; 17 octobre 2024; 21 novembre 2024; 19 décembre 2024; "
        "23 janvier 2025; 20 février 2025; 20 mars 2025; 16 avril 2025",
        "29 de agosto de 2024, 19 de septiembre de 2024, 17 de octubre de 2024, 21 de noviembre de 2024, "
        "19 de diciembre de 2024, 23 de enero de 2025, 20 de febrero de 2025, 20 de marzo de 2025, "
        "16 de abril de 2025",
        ", ".join(d.isoformat() for d in SEED_DATES),
        "; ".join(f"{d:%d/%m/%Y}" for d in SEED_DATES),
        "Thursday, August 29, 2024; 19th September 2024; 17 Oct 2024; 2024-11-21; 19.12.2024; "
        "jeudi 23 janvier 2025; 20 feb 2025; el 20 de marzo de 2025; 16/04/2025; 2024-08-29",  # + duplicate
    ],
)
def test_parse_dates_forms(text: str) -> None:
    assert parse_dates(text) == SEED_DATES


def test_parse_dates_empty_and_first_of_month() -> None:
    assert parse_dates("") == ()
    assert parse_dates("le 1er septembre 2024; 1.º de octubre de 2024; 1st November 2024") == (
        date(2024, 9, 1),
        date(2024, 10, 1),
        date(2024, 11, 1),
    )


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("August 29, 2024; Septembre 31, 2024", "Septembre 31, 2024"),
        ("2024-08-29, 2024-02-30", "2024-02-30"),
        ("August 29, 2O24", "August 29, 2O24"),
        ("Friday, August 29, 2024", "Friday, August 29"),  # 29 August 2024 was a Thursday
        ("29/08/24", "29/08/24"),
        ("next Tuesday", "next Tuesday"),
    ],
)
def test_parse_dates_refuses_first_bad_piece(text: str, piece: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_dates(text)
    assert (caught.value.code, caught.value.value) == ("date", piece)


EN_MONTHS = [date(2000, month, 1).strftime("%B") for month in range(1, 13)]
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin"]
FR_MONTHS += ["juillet", "août", "septembre", "octobre", "novembre", "décembre"]
ES_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio"]
ES_MONTHS += ["julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]
DATE_FORMATS = [
    lambda d: d.isoformat(),
    lambda d: f"{d:%d/%m/%Y}",
    lambda d: f"{EN_MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day} {EN_MONTHS[d.month - 1][:3]} {d.year}",
    lambda d: f"{d.day} {FR_MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day} de {ES_MONTHS[d.month - 1]} de {d.year}",
]


@given(
    st.lists(
        st.tuples(st.dates(date(1990, 1, 1), date(2100, 12, 31)), st.sampled_from(DATE_FORMATS)),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["; ", ", ", "\n", " ; ", ",\n"]),
)
@PROPERTY
def test_parse_dates_round_trips(dated: list[tuple[date, object]], separator: str) -> None:
    text = separator.join(fmt(d) for d, fmt in dated)  # type: ignore[operator]
    assert parse_dates(text) == tuple(sorted({d for d, _ in dated}))


@given(st.text())
@PROPERTY
def test_parse_dates_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_dates(text)


# ---------------------------------------------------------------------------------------------------------
# parse_start

NINE_SEPT = datetime(2026, 9, 9, 15, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-09 15:00 Europe/London", (NINE_SEPT, "Europe/London")),
        ("2026-09-09T15:00", (NINE_SEPT, None)),
        ("2026-09-09 3pm", (NINE_SEPT, None)),
        ("2026-09-09 3 p.m. America/New_York", (NINE_SEPT, "America/New_York")),
        ("9 Sept 2026 15:00", (NINE_SEPT, None)),
        ("September 9, 2026 at 3:30 pm", (datetime(2026, 9, 9, 15, 30), None)),
        ("Wednesday 9 September 2026 15:00 UTC", (NINE_SEPT, "UTC")),
        ("9 septembre 2026 15h00 Europe/Paris", (NINE_SEPT, "Europe/Paris")),
        ("le 9 septembre 2026 à 15h", (NINE_SEPT, None)),
        ("9 de septiembre de 2026 15:00", (NINE_SEPT, None)),
        ("9 de septiembre de 2026 a las 15:00 America/Mexico_City", (NINE_SEPT, "America/Mexico_City")),
        ("09/09/2026 15:00 New York", (NINE_SEPT, "America/New_York")),
        ("europe/london 2026-09-09 15:00", (NINE_SEPT, "Europe/London")),
        ("2026-09-09 noon São Paulo", (datetime(2026, 9, 9, 12), "America/Sao_Paulo")),
        ("2026-09-09 12am Asia/Kolkata", (datetime(2026, 9, 9, 0), "Asia/Kolkata")),
        ("2026-09-09 12:30pm Australia/Adelaide", (datetime(2026, 9, 9, 12, 30), "Australia/Adelaide")),
    ],
)
def test_parse_start_forms(text: str, expected: tuple[datetime, str | None]) -> None:
    assert parse_start(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "value"),
    [
        ("2026-09-09 15:00 Mars/Olympus", "zone", "Mars/Olympus"),
        ("2026-09-09 15:00 Londres", "zone", "Londres"),
        ("2026-09-09", "time", "2026-09-09"),
        ("2026-09-09 25:00", "time", "25:00"),
        ("2026-09-09 13pm", "time", "13pm"),
        ("2026-09-09 15:00 16:00", "time", "16:00"),
        ("15:00", "date", ""),
        ("2026-02-30 15:00", "date", "2026-02-30"),
        ("", "date", ""),
    ],
)
def test_parse_start_refuses(text: str, code: str, value: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_start(text)
    assert (caught.value.code, caught.value.value) == (code, value)


START_FORMATS = [
    lambda d: f"{d:%Y-%m-%d %H:%M}",
    lambda d: f"{d:%Y-%m-%dT%H:%M}",
    lambda d: f"{d.day} {EN_MONTHS[d.month - 1]} {d.year} {d:%H:%M}",
    lambda d: f"{EN_MONTHS[d.month - 1]} {d.day}, {d.year} at {(d.hour - 1) % 12 + 1}:{d:%M}{d:%p}",
    lambda d: f"le {d.day} {FR_MONTHS[d.month - 1]} {d.year} à {d.hour}h{d:%M}",
    lambda d: f"{d.day} de {ES_MONTHS[d.month - 1]} de {d.year} a las {d:%H:%M}",
]
ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Africa/Johannesburg",
]


@given(
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    st.sampled_from(START_FORMATS),
    st.sampled_from([None, *ZONES]),
)
@PROPERTY
def test_parse_start_round_trips(moment: datetime, fmt: object, zone: str | None) -> None:
    text = fmt(moment)  # type: ignore[operator]
    assert parse_start(f"{text} {zone}" if zone else text) == (moment, zone)


@given(st.text())
@PROPERTY
def test_parse_start_raises_only_parse_errors(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_start(text)


# ---------------------------------------------------------------------------------------------------------
# Series: daylight-saving time


def local_times(found: list[Occurrence], zone: str) -> set[time]:
    return {o.start.astimezone(ZoneInfo(zone)).time() for o in found}


def test_london_second_wednesday_keeps_15_00_all_year() -> None:
    rule = parse_repeat("monthly on the second Wednesday")
    series = Series(datetime(2026, 1, 1, 15), "Europe/London", 90, rule)
    found = occurrences(series, utc(2026, 1, 1), utc(2027, 1, 1))
    days = [(1, 14), (2, 11), (3, 11), (4, 8), (5, 13), (6, 10), (7, 8), (8, 12), (9, 9), (10, 14), (11, 11)]
    assert [o.start.date() for o in found] == [date(2026, month, day) for month, day in [*days, (12, 9)]]
    assert local_times(found, "Europe/London") == {time(15)}
    # GMT before 29 March and after 25 October 2026, BST in between
    assert [o.start.hour for o in found] == [15, 15, 15, 14, 14, 14, 14, 14, 14, 14, 15, 15]
    assert all(o.end - o.start == timedelta(minutes=90) and not o.moved for o in found)
    assert all(o.original == o.start and o.start.tzinfo is UTC for o in found)


def test_london_weekly_around_the_transitions() -> None:
    series = Series(datetime(2026, 3, 18, 15), "Europe/London", 60, "FREQ=WEEKLY")
    march = occurrences(series, utc(2026, 3, 18), utc(2026, 4, 2))
    assert [o.start for o in march] == [utc(2026, 3, 18, 15), utc(2026, 3, 25, 15), utc(2026, 4, 1, 14)]
    october = occurrences(series, utc(2026, 10, 14), utc(2026, 11, 1))
    assert [o.start for o in october] == [utc(2026, 10, 14, 14), utc(2026, 10, 21, 14), utc(2026, 10, 28, 15)]


def test_new_york_weekly_across_march_and_november() -> None:
    series = Series(datetime(2026, 3, 1, 10), "America/New_York", 60, parse_repeat("every Sunday"))
    spring = occurrences(series, utc(2026, 3, 1), utc(2026, 3, 16))
    assert [o.start for o in spring] == [utc(2026, 3, 1, 15), utc(2026, 3, 8, 14), utc(2026, 3, 15, 14)]
    autumn = occurrences(series, utc(2026, 10, 25), utc(2026, 11, 9))
    assert [o.start for o in autumn] == [utc(2026, 10, 25, 14), utc(2026, 11, 1, 15), utc(2026, 11, 8, 15)]
    assert local_times(spring + autumn, "America/New_York") == {time(10)}


def test_sydney_weekly_across_april_and_october() -> None:
    series = Series(datetime(2026, 3, 22, 9), "Australia/Sydney", 60, parse_repeat("tous les dimanches"))
    april = occurrences(series, utc(2026, 3, 28), utc(2026, 4, 12))
    # AEDT (+11) until 5 April 2026, AEST (+10) after
    assert [o.start for o in april] == [utc(2026, 3, 28, 22), utc(2026, 4, 4, 23), utc(2026, 4, 11, 23)]
    october = occurrences(series, utc(2026, 9, 26), utc(2026, 10, 11))
    assert [o.start for o in october] == [utc(2026, 9, 26, 23), utc(2026, 10, 3, 22), utc(2026, 10, 10, 22)]
    assert local_times(april + october, "Australia/Sydney") == {time(9)}


def test_gap_time_moves_forward_and_ambiguous_time_is_the_first() -> None:
    series = Series(datetime(2026, 3, 22, 1, 30), "Europe/London", 30, "FREQ=WEEKLY")
    spring = occurrences(series, utc(2026, 3, 20), utc(2026, 4, 6))
    # 01:30 on 29 March does not exist in London: it becomes 02:30 BST (01:30 UTC)
    assert [o.start for o in spring] == [
        utc(2026, 3, 22, 1, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 4, 5, 0, 30),
    ]
    autumn = occurrences(series, utc(2026, 10, 17), utc(2026, 11, 2))
    # 01:30 on 25 October happens twice: the first (BST, 00:30 UTC) is taken
    assert [o.start for o in autumn] == [
        utc(2026, 10, 18, 0, 30),
        utc(2026, 10, 25, 0, 30),
        utc(2026, 11, 1, 1, 30),
    ]


# ---------------------------------------------------------------------------------------------------------
# Series: cancellations, reschedules, explicit dates, one-offs, windows

MONTHLY = Series(datetime(2026, 1, 14, 15), "Europe/London", 60, "FREQ=MONTHLY;BYDAY=2WE")


def test_cancelled_occurrence_disappears_everywhere() -> None:
    feb, march = utc(2026, 2, 11, 15), utc(2026, 3, 11, 15)
    series = Series(MONTHLY.start, MONTHLY.timezone, 60, MONTHLY.rrule, cancelled=frozenset({feb}))
    found = occurrences(series, utc(2026, 1, 1), utc(2026, 4, 1))
    assert [o.start for o in found] == [utc(2026, 1, 14, 15), march]
    assert occurrence_ids(series, utc(2026, 1, 1), utc(2026, 4, 1)) == [utc(2026, 1, 14, 15), march]
    next_one = next_occurrence(series, utc(2026, 1, 15))
    assert next_one is not None and next_one.start == march


def test_moved_occurrence_appears_at_its_new_time_only() -> None:
    feb = utc(2026, 2, 11, 15)
    new = utc(2026, 4, 2, 9)  # after the March one, in another window
    series = Series(MONTHLY.start, MONTHLY.timezone, 45, MONTHLY.rrule, moved={feb: new})
    february = occurrences(series, utc(2026, 2, 1), utc(2026, 3, 1))
    assert february == []
    spring = occurrences(series, utc(2026, 3, 1), utc(2026, 5, 1))
    assert spring == [
        Occurrence(utc(2026, 3, 11, 15), utc(2026, 3, 11, 15), utc(2026, 3, 11, 15, 45), False),
        Occurrence(feb, new, new + timedelta(minutes=45), True),
        Occurrence(utc(2026, 4, 8, 14), utc(2026, 4, 8, 14), utc(2026, 4, 8, 14, 45), False),
    ]
    # its identity stays the original start
    assert occurrence_ids(series, utc(2026, 3, 1), utc(2026, 5, 1))[1] == feb
    # moved earlier, to before the window's other occurrences
    early = Series(MONTHLY.start, MONTHLY.timezone, 45, MONTHLY.rrule, moved={feb: utc(2026, 1, 20, 8)})
    found = next_occurrence(early, utc(2026, 1, 15))
    assert found is not None and (found.original, found.start) == (feb, utc(2026, 1, 20, 8))


def test_moved_and_cancelled_edge_cases() -> None:
    feb, march = utc(2026, 2, 11, 15), utc(2026, 3, 11, 15)
    stale = utc(2026, 2, 12, 15)  # not an occurrence of the rule
    series = Series(
        MONTHLY.start,
        MONTHLY.timezone,
        60,
        MONTHLY.rrule,
        cancelled=frozenset({march}),
        moved={march: utc(2026, 2, 20, 15), stale: utc(2026, 2, 21, 15), feb: feb},
    )
    found = occurrences(series, utc(2026, 2, 1), utc(2026, 4, 1))
    # cancellation wins over a reschedule; stale entries are ignored; moving to the same time is no move
    assert found == [Occurrence(feb, feb, feb + timedelta(hours=1), False)]


def test_explicit_dates_series() -> None:
    series = Series(datetime(2024, 8, 29, 15), "Europe/London", 60, dates=parse_dates(SEED))
    found = occurrences(series, utc(2024, 1, 1), utc(2026, 1, 1))
    assert [o.start.date() for o in found] == list(SEED_DATES)
    assert local_times(found, "Europe/London") == {time(15)}
    assert [o.start.hour for o in found] == [14, 14, 14, 15, 15, 15, 15, 15, 14]
    assert next_occurrence(series, utc(2025, 4, 16, 14, 0, 1)) is None


def test_one_off() -> None:
    series = Series(datetime(2026, 9, 9, 15), "Europe/Paris", 120)
    only = Occurrence(utc(2026, 9, 9, 13), utc(2026, 9, 9, 13), utc(2026, 9, 9, 15), False)
    assert occurrences(series, utc(2026, 1, 1), utc(2027, 1, 1)) == [only]
    assert next_occurrence(series, utc(2026, 9, 9, 13)) == only
    assert next_occurrence(series, utc(2026, 9, 9, 13, 0, 1)) is None


def test_window_is_half_open_and_limited() -> None:
    series = Series(datetime(2026, 1, 5, 9), "UTC", 30, "FREQ=DAILY")
    assert [o.start for o in occurrences(series, utc(2026, 1, 5, 9), utc(2026, 1, 7, 9))] == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 6, 9),
    ]
    assert occurrences(series, utc(2026, 1, 7, 9), utc(2026, 1, 7, 9)) == []
    assert [o.start for o in occurrences(series, utc(2026, 1, 1), utc(2027, 1, 1), limit=3)] == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 6, 9),
        utc(2026, 1, 7, 9),
    ]
    # the limit also counts rescheduled occurrences
    moved = Series(series.start, "UTC", 30, "FREQ=DAILY", moved={utc(2026, 1, 9, 9): utc(2026, 1, 5, 10)})
    assert [o.start for o in occurrences(moved, utc(2026, 1, 1), utc(2027, 1, 1), limit=2)] == [
        utc(2026, 1, 5, 9),
        utc(2026, 1, 5, 10),
    ]
    # a window in another zone means the same instants
    paris = ZoneInfo("Europe/Paris")
    assert occurrences(
        series, datetime(2026, 1, 5, 10, tzinfo=paris), datetime(2026, 1, 6, 11, tzinfo=paris)
    )[0].start == utc(2026, 1, 5, 9)
    with pytest.raises(ValueError):
        occurrences(series, datetime(2026, 1, 1), utc(2026, 2, 1))


def test_count_and_until() -> None:
    counted = Series(
        datetime(2026, 1, 6, 18), "America/Los_Angeles", 60, parse_repeat("every Tuesday, 3 times")
    )
    assert len(occurrences(counted, utc(2020, 1, 1), utc(2030, 1, 1))) == 3
    assert occurrences(counted, utc(2026, 1, 19), utc(2030, 1, 1))[0].start.date() == date(2026, 1, 21)
    assert next_occurrence(counted, utc(2026, 1, 21, 2, 0, 1)) is None
    until = Series(
        datetime(2026, 1, 6, 18), "America/Los_Angeles", 60, parse_repeat("weekly until 2026-01-20")
    )
    # the until day is included, in local time (18:00 on 20 January is 02:00 UTC on the 21st)
    assert [o.start for o in occurrences(until, utc(2020, 1, 1), utc(2030, 1, 1))] == [
        utc(2026, 1, 7, 2),
        utc(2026, 1, 14, 2),
        utc(2026, 1, 21, 2),
    ]


def test_series_starting_off_rule_begins_at_first_match() -> None:
    series = Series(datetime(2026, 9, 7, 15), "Europe/London", 60, "FREQ=WEEKLY;BYDAY=TU")  # a Monday
    assert next_occurrence(series, utc(2026, 1, 1)) == Occurrence(
        utc(2026, 9, 8, 14), utc(2026, 9, 8, 14), utc(2026, 9, 8, 15), False
    )


def test_open_ended_rule_far_in_the_future_is_fast_and_exact() -> None:
    rule = "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1FR"
    series = Series(datetime(2021, 1, 29, 19, 45), "Asia/Kathmandu", 60, rule)
    started = clock.perf_counter()
    found = occurrences(series, utc(2090, 1, 1), utc(2095, 1, 1))
    assert clock.perf_counter() - started < 0.5
    assert [o.start for o in found] == reference(
        rule, series.start, "Asia/Kathmandu", utc(2090, 1, 1), utc(2095, 1, 1)
    )
    assert len(found) == 12


def test_month_end_and_leap_day_starts_far_in_the_future() -> None:
    """Skipping ahead must not turn "the 31st" into "the 30th" (or 29 February into the 28th)."""
    monthly = Series(datetime(2026, 1, 31, 12), "America/New_York", 60, "FREQ=MONTHLY")
    found = occurrences(monthly, utc(2031, 6, 15), utc(2032, 6, 15))  # skips ahead to 30 April 2031
    assert [o.start.date() for o in found] == [
        date(2031, 7, 31),
        date(2031, 8, 31),
        date(2031, 10, 31),
        date(2031, 12, 31),
        date(2032, 1, 31),
        date(2032, 3, 31),
        date(2032, 5, 31),
    ]
    yearly = Series(datetime(2024, 2, 29, 12), "UTC", 60, parse_repeat("yearly"))
    assert [o.start for o in occurrences(yearly, utc(2041, 1, 1), utc(2049, 1, 1))] == [
        utc(2044, 2, 29, 12),
        utc(2048, 2, 29, 12),
    ]


def test_rule_that_never_matches_has_no_occurrences() -> None:
    series = Series(datetime(2026, 1, 1, 12), "UTC", 60, "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30")
    assert next_occurrence(series, utc(2026, 1, 1)) is None
    assert occurrences(series, utc(2026, 1, 1), utc(2100, 1, 1)) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": datetime(2026, 1, 1, tzinfo=UTC)},
        {"timezone": "Mars/Olympus"},
        {"timezone": "../etc/passwd"},
        {"duration_minutes": -1},
        {"rrule": "FREQ=SOMETIMES"},
        {"cancelled": frozenset({datetime(2026, 1, 1)})},
    ],
)
def test_series_refuses_bad_values(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"start": datetime(2026, 1, 1, 12), "timezone": "UTC", "duration_minutes": 60}
    with pytest.raises(ValueError):
        Series(**(values | kwargs))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Property tests


def reference(rule: str, start: datetime, zone: str, after: datetime, before: datetime) -> list[datetime]:
    """Straightforward expansion from the series' start (no fast-forward), for comparison."""
    tz = ZoneInfo(zone)
    horizon = before.astimezone(tz).replace(tzinfo=None) + timedelta(days=2)
    result = []
    for local in rrulestr(f"{rule};WKST=MO", dtstart=start):
        if local > horizon:
            break
        moment = local.replace(tzinfo=tz).astimezone(UTC)
        if after <= moment < before:
            result.append(moment)
    return sorted(set(result))


DAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    """FREQ/INTERVAL/BYDAY as parse_repeat writes them, and now and then a raw BYMONTHDAY, BYSETPOS,
    BYMONTH or COUNT (every rule drawn has occurrences)."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, {"DAILY": 3, "WEEKLY": 5, "MONTHLY": 13, "YEARLY": 2}[freq]))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    shape = draw(st.integers(0, 3))
    if freq in ("DAILY", "WEEKLY") and shape:
        days = draw(st.lists(st.sampled_from(DAY_CODES), min_size=1, max_size=7, unique=True))
        parts.append("BYDAY=" + ",".join(days))
    elif freq == "MONTHLY" and shape == 1:
        days = draw(
            st.lists(
                st.tuples(st.sampled_from([1, 2, 3, 4, -1]), st.sampled_from(DAY_CODES)),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        parts.append("BYDAY=" + ",".join(f"{n}{code}" for n, code in days))
    elif freq == "MONTHLY" and shape == 2:
        parts.append(f"BYMONTHDAY={draw(st.sampled_from(['1', '15', '28', '-1', '1,15', '10,-1']))}")
    elif freq == "MONTHLY" and shape == 3:
        days = draw(st.lists(st.sampled_from(DAY_CODES), min_size=1, max_size=5, unique=True))
        parts.append(f"BYDAY={','.join(days)};BYSETPOS={draw(st.sampled_from([1, 2, -1]))}")
    elif freq == "YEARLY" and shape:
        parts.append(
            f"BYMONTH={draw(st.integers(1, 12))};BYDAY={draw(st.sampled_from(['1MO', '-1FR', '2WE']))}"
        )
    if draw(st.integers(0, 9)) == 0:
        parts.append(f"COUNT={draw(st.integers(1, 30))}")
    return ";".join(parts)


local_starts = st.builds(
    datetime.combine,
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.builds(time, st.sampled_from([0, *range(4, 24)]), st.integers(0, 59)),
)


@given(
    rule=rules(),
    zone=st.sampled_from(ZONES),
    start=local_starts,
    offset_days=st.integers(-30, 4000),
    length_days=st.integers(1, 400),
    cancel=st.sets(st.integers(0, 50), max_size=5),
)
@PROPERTY
def test_expansion_keeps_wall_time_and_order(
    rule: str, zone: str, start: datetime, offset_days: int, length_days: int, cancel: set[int]
) -> None:
    after = start.replace(tzinfo=UTC) + timedelta(days=offset_days)
    before = after + timedelta(days=length_days)
    series = Series(start, zone, 60, rule)
    found = occurrences(series, after, before, limit=10_000)
    starts = [o.start for o in found]
    assert local_times(found, zone) <= {start.time()}
    assert all(a < b for a, b in itertools.pairwise(starts))
    assert all(after <= s < before and s.tzinfo is UTC for s in starts)
    assert starts == reference(rule, start, zone, after, before)

    cancelled = frozenset(starts[i] for i in cancel if i < len(starts))
    without = Series(start, zone, 60, rule, cancelled=cancelled)
    remaining = occurrences(without, after, before, limit=10_000)
    assert not cancelled & {o.start for o in remaining}
    assert [o.start for o in remaining] == [s for s in starts if s not in cancelled]


@given(
    rule=rules(),
    zone=st.sampled_from(ZONES),
    start=local_starts,
    offset_days=st.integers(0, 3000),
    cut_days=st.integers(0, 200),
)
@PROPERTY
def test_windows_split_consistently(
    rule: str, zone: str, start: datetime, offset_days: int, cut_days: int
) -> None:
    series = Series(start, zone, 30, rule)
    after = start.replace(tzinfo=UTC) + timedelta(days=offset_days)
    middle = after + timedelta(days=cut_days, hours=7)
    before = middle + timedelta(days=200)
    whole = occurrences(series, after, before, limit=10_000)
    assert whole == occurrences(series, after, middle, limit=10_000) + occurrences(
        series, middle, before, limit=10_000
    )
    following = next_occurrence(series, middle)
    later = [o for o in whole if o.start >= middle]
    if later:
        assert following == later[0]
