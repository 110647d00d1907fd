"""The community calendar's .ics feed: what calendar apps read back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from bot.calendar.ical import PRODID, CalendarEntry, calendar_bytes
from bot.calendar.recurrence import Series, occurrences

STAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TRICKY = "Café : ¿qué tal?, ça va; «bien»\nnext line — 日本語 ✓"


def entry_uid(event_id: int, original: datetime) -> str:
    return f"event-{event_id}-{original:%Y%m%dT%H%M%SZ}@iben-bot"


def sample_entries() -> list[CalendarEntry]:
    """A monthly series expanded in London time, with one cancelled and one rescheduled occurrence."""
    feb, march = datetime(2026, 2, 11, 15, tzinfo=UTC), datetime(2026, 3, 11, 15, tzinfo=UTC)
    moved_to = datetime(2026, 3, 12, 17, 30, tzinfo=UTC)
    series = Series(
        datetime(2026, 1, 14, 15), "Europe/London", 60, "FREQ=MONTHLY;BYDAY=2WE", moved={march: moved_to}
    )
    found = occurrences(series, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    entries = [
        CalendarEntry(
            uid=entry_uid(7, o.original),
            title=TRICKY,
            description="Monthly World Café.\nBring a question; any language, any subject, " * 3,
            start=o.start,
            end=o.end,
            location="https://iben.slack.com/archives/C0123456789",
            url="https://example.org/events/7",
            status="CANCELLED" if o.original == feb else "CONFIRMED",
            sequence=1 if o.moved else 0,
        )
        for o in found
    ]
    # a plain one-off in another zone's time, no location or URL
    paris = ZoneInfo("Europe/Paris")
    entries.append(
        CalendarEntry(
            uid="event-8-20260601T160000Z@iben-bot",
            title="Plain",
            description="",
            start=datetime(2026, 6, 1, 18, tzinfo=paris),
            end=datetime(2026, 6, 1, 19, tzinfo=paris),
        )
    )
    return entries


def test_calendar_round_trips() -> None:
    entries = sample_entries()
    data = calendar_bytes(entries, name="IBEN — community calendar", stamp=STAMP)
    calendar = Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID == "-//IB Educator Network//iben-bot//EN"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "IBEN — community calendar"

    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(entries) == 5
    for event, entry in zip(events, entries, strict=True):
        assert str(event["UID"]) == entry.uid
        assert str(event["SUMMARY"]) == entry.title
        assert str(event["DESCRIPTION"]) == entry.description
        assert event.decoded("DTSTART") == entry.start
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert event.decoded("DTEND") == entry.end
        assert event.decoded("DTSTAMP") == STAMP
        assert str(event["STATUS"]) == entry.status
        assert int(event["SEQUENCE"]) == entry.sequence
        assert str(event.get("LOCATION", "")) == entry.location
        assert str(event.get("URL", "")) == entry.url

    by_uid = {str(event["UID"]): event for event in events}
    cancelled = by_uid[entry_uid(7, datetime(2026, 2, 11, 15, tzinfo=UTC))]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    moved = by_uid[entry_uid(7, datetime(2026, 3, 11, 15, tzinfo=UTC))]  # keeps its original identity
    assert (moved.decoded("DTSTART"), int(moved["SEQUENCE"])) == (
        datetime(2026, 3, 12, 17, 30, tzinfo=UTC),
        1,
    )
    april = by_uid[entry_uid(7, datetime(2026, 4, 8, 14, tzinfo=UTC))]  # 15:00 BST
    assert april.decoded("DTSTART") == datetime(2026, 4, 8, 14, tzinfo=UTC)
    assert "LOCATION" not in by_uid["event-8-20260601T160000Z@iben-bot"]
    assert by_uid["event-8-20260601T160000Z@iben-bot"].decoded("DTSTART") == datetime(
        2026, 6, 1, 16, tzinfo=UTC
    )


def test_raw_bytes_are_utc_crlf_and_folded() -> None:
    data = calendar_bytes(sample_entries(), name="IBEN", stamp=STAMP)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # long lines were folded ...
    for line in lines:
        line.decode("utf-8")  # ... without cutting a multi-byte character in two
    assert b"DTSTART:20260114T150000Z" in lines
    assert b"DTEND:20260114T160000Z" in lines
    assert b"DTSTAMP:20260102T030405Z" in lines
    assert b"X-WR-CALNAME:IBEN" in lines
    assert not any(b"TZID" in line or b"VTIMEZONE" in line for line in lines)
    assert lines.count(b"BEGIN:VEVENT") == 5


def test_empty_calendar() -> None:
    calendar = Calendar.from_ical(calendar_bytes([], name="Empty", stamp=STAMP))
    assert list(calendar.walk("VEVENT")) == []
    assert str(calendar["X-WR-CALNAME"]) == "Empty"


@pytest.mark.parametrize(
    "changes",
    [
        {"uid": ""},
        {"start": datetime(2026, 1, 1, 12)},
        {"end": datetime(2026, 1, 1, 11, tzinfo=UTC)},
        {"status": "MAYBE"},
        {"sequence": -1},
    ],
)
def test_entry_refuses_bad_values(changes: dict[str, object]) -> None:
    values: dict[str, object] = {
        "uid": "u@iben-bot",
        "title": "t",
        "description": "",
        "start": datetime(2026, 1, 1, 12, tzinfo=UTC),
        "end": datetime(2026, 1, 1, 13, tzinfo=UTC),
    }
    with pytest.raises(ValueError):
        CalendarEntry(**(values | changes))  # type: ignore[arg-type]


def test_stamp_must_be_aware() -> None:
    with pytest.raises(ValueError):
        calendar_bytes([], name="x", stamp=datetime(2026, 1, 1))


texts = st.lists(
    st.characters(blacklist_categories=("Cs",))
    | st.sampled_from(["\r\n", "\r", "\n", "\t", "\\n", ";", ","]),
    max_size=100,
).map("".join)


def unescape(text: str) -> str:
    """RFC 5545 TEXT unescaping."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def expected(text: str) -> str:
    """Line breaks become "\\n"; control characters other than tab and line feed are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in text if char in "\t\n" or not (ord(char) < 32 or ord(char) == 127))


@given(title=texts, description=texts, location=texts)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_round_trips(title: str, description: str, location: str) -> None:
    start = datetime(2026, 5, 6, 7, 8, tzinfo=UTC)
    entry = CalendarEntry(
        "x@iben-bot", title, description, start, start + timedelta(hours=1), location=location
    )
    data = calendar_bytes([entry], name=title, stamp=STAMP)
    assert max(len(line) for line in data.split(b"\r\n")) <= 75
    calendar = Calendar.from_ical(data)
    # icalendar does not unescape X- properties when reading: do it as a calendar app would
    assert unescape(str(calendar["X-WR-CALNAME"])) == expected(title).replace("\n", " ")
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == expected(title)
    assert str(event["DESCRIPTION"]) == expected(description)
    assert str(event.get("LOCATION", "")) == expected(location)
