"""The .ics attached to a meet-up invitation: each suggested slot as a tentative event, in UTC, so
any calendar app shows it in the reader's own zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event

PRODID = "-//IB Educator Network//iben-bot//EN"


def slots_calendar(
    slots: Sequence[datetime],
    *,
    length: timedelta,
    title: str,
    description: str,
    uid_prefix: str,
    stamp: datetime,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for number, start in enumerate(slots, 1):
        event = Event()
        event.add("uid", f"{uid_prefix}-{number}@iben-bot")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + length)
        event.add("summary", f"{title} ({number}/{len(slots)})")
        event.add("description", description)
        event.add("status", "TENTATIVE")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
