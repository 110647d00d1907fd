"""The /profile text form: splitting `key=value` text, hours, zones (example and property tests)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import Translator
from bot.profile_fields import format_hours, parse_hours, resolve_zone, split_fields, validate

T = Translator("en")


def test_values_run_until_the_next_key_so_quotes_are_optional() -> None:
    fields, unknown = split_fields(
        'subject=Biology school=Colegio del Sur role="workshop leader" tz=Europe/Madrid'
    )
    assert fields == {
        "subjects": "Biology",
        "school": "Colegio del Sur",
        "roles": "workshop leader",
        "timezone": "Europe/Madrid",
    }
    assert unknown == []


def test_unknown_keys_are_reported_not_dropped() -> None:
    fields, unknown = split_fields("colour=blue subject=Physics")
    assert fields == {"subjects": "Physics"} and unknown == ["colour"]


keys = st.sampled_from(["subject", "role", "school", "region", "bio", "tz", "hours", "department"])
safe_value = st.text(
    alphabet=string.ascii_letters + string.digits + " /:-,.", min_size=1, max_size=30
).filter(lambda v: "=" not in v and v.strip() and not v.strip().startswith(("'", '"')))


@given(st.dictionaries(keys, safe_value, min_size=1, max_size=6))
def test_any_fields_written_out_split_back_to_the_same_values(pairs: dict[str, str]) -> None:
    # A value's last word must not look like a key (`x=`), which our alphabet guarantees.
    text = " ".join(f"{k}={v}" for k, v in pairs.items())
    fields, unknown = split_fields(text)
    assert unknown == []
    from bot.profile_fields import KEYS

    assert fields == {KEYS[k]: v.strip() for k, v in pairs.items()}


@given(st.text(max_size=300))
def test_splitting_never_raises(text: str) -> None:
    split_fields(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:00-18:00", (480, 1080)),
        ("8-18", (480, 1080)),
        ("22:00-06:00", (1320, 360)),
        ("9:30 – 17:15", (570, 1035)),
    ],
)
def test_working_hours_parse(text: str, expected: tuple[int, int]) -> None:
    assert parse_hours(text) == expected
    assert parse_hours(format_hours(*expected)) == expected


@pytest.mark.parametrize("text", ["8", "25-26", "08:00-08:00", "nine to five", "8:61-9"])
def test_bad_working_hours_are_refused(text: str) -> None:
    assert parse_hours(text) is None


@given(st.integers(0, 1439), st.integers(1, 1440))
def test_hours_round_trip(start: int, end: int) -> None:
    if start != end:
        assert parse_hours(format_hours(start, end)) == (start, end)


def test_zones_resolve_from_what_people_type() -> None:
    assert resolve_zone("Europe/Madrid") == ("Europe/Madrid", [])
    assert resolve_zone("madrid") == ("Europe/Madrid", [])
    assert resolve_zone("america/new york") == ("America/New_York", [])
    zone, suggestions = resolve_zone("Europe/Madird")
    assert zone is None and "Europe/Madrid" in suggestions


def test_validation_names_each_bad_field_and_keeps_good_values_out_of_the_way() -> None:
    changes = validate(
        {"timezone": "Mars/Olympus", "hours": "all day", "open": "maybe", "school": "x" * 300}, T
    )
    assert set(changes.errors) == {"timezone", "hours", "open", "school"}
    assert "is not a time zone" in changes.errors["timezone"]
    assert changes.errors["hours"] == "Write working hours like 08:00-18:00."
    good = validate({"timezone": "tokyo", "hours": "9-17", "open": "oui", "school": "Tokyo Intl"}, T)
    assert good.errors == {}
    assert good.values == {
        "timezone": "Asia/Tokyo",
        "work_start": 540,
        "work_end": 1020,
        "open_to_questions": True,
        "school": "Tokyo Intl",
    }
