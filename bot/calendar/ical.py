"""The community calendar as an iCalendar (.ics) feed: one VEVENT per expanded occurrence, in UTC.

Occurrences are expanded by `bot.calendar.recurrence` (in the event's own zone, so daylight-saving changes
are already applied), so the feed needs no RRULE and no VTIMEZONE: UTC times import the same way into
every common calendar app, which then shows them in the reader's own zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event, vText

PRODID = "-//IB Educator Network//iben-bot//EN"
STATUSES = frozenset({"CONFIRMED", "CANCELLED", "TENTATIVE"})


@dataclass(frozen=True)
class CalendarEntry:
    uid: str  # stable per occurrence, e.g. f"event-{event_id}-{original:%Y%m%dT%H%M%SZ}@iben-bot"
    title: str
    description: str
    start: datetime  # aware (written in UTC)
    end: datetime
    location: str = ""  # e.g. a channel link
    url: str = ""
    status: str = "CONFIRMED"  # or "CANCELLED" (or "TENTATIVE")
    sequence: int = 0  # bump when rescheduled so calendar apps update

    def __post_init__(self) -> None:
        if not self.uid:
            raise ValueError("CalendarEntry.uid must not be empty")
        for moment in (self.start, self.end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError("CalendarEntry start and end must be timezone-aware")
        if self.end < self.start:
            raise ValueError("CalendarEntry.end must not be before its start")
        if self.status not in STATUSES:
            raise ValueError(f"CalendarEntry.status must be one of {sorted(STATUSES)}")
        if self.sequence < 0:
            raise ValueError("CalendarEntry.sequence must not be negative")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Text as iCalendar carries it: line breaks as "\\n" (a "\\r\\n" or "\\r" becomes "\\n"), other
    control characters (forbidden in RFC 5545 TEXT) dropped; tabs kept."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def calendar_bytes(entries: Sequence[CalendarEntry], *, name: str, stamp: datetime) -> bytes:
    """A VCALENDAR (VERSION 2.0, CALSCALE GREGORIAN, METHOD PUBLISH, X-WR-CALNAME `name` on one line)
    with one VEVENT per entry: UID, DTSTAMP (`stamp`), DTSTART/DTEND in UTC ("...Z"), SUMMARY,
    DESCRIPTION, LOCATION and URL when set, STATUS, SEQUENCE. Text goes through `clean_text`, is escaped
    by icalendar, and lines are folded at 75 octets with CRLF endings."""
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError("stamp must be timezone-aware")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(" ".join(clean_text(name).split("\n"))))
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", _utc(stamp))
        event.add("dtstart", _utc(entry.start))
        event.add("dtend", _utc(entry.end))
        event.add("summary", clean_text(entry.title))
        event.add("description", clean_text(entry.description))
        if entry.location:
            event.add("location", clean_text(entry.location))
        if entry.url:
            event.add("url", clean_text(entry.url))
        event.add("status", entry.status)
        event.add("sequence", entry.sequence)
        calendar.add_component(event)
    return bytes(calendar.to_ical())
