"""When rounds happen and when groups could meet, in local wall-clock time (DST-correct via zoneinfo).

A round scheduled "every 2 weeks on Tuesday at 15:00 Europe/London" stays at 15:00 in London across
daylight-saving changes, so the UTC instant moves. Suggested meeting slots must fall inside every
member's working hours on one of their working days (Monday to Friday in their own zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLOT_STEP = timedelta(minutes=30)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(UTC)


def next_occurrence(weekday: int, at_minutes: int, tz_name: str, after: datetime) -> datetime:
    """The first `weekday` at `at_minutes` local time strictly after `after`, in UTC."""
    tz = zone(tz_name)
    start = after.astimezone(tz).date()
    for offset in range(15):
        day = start + timedelta(days=offset)
        if day.weekday() == weekday and (candidate := _at(day, at_minutes, tz)) > after:
            return candidate
    raise AssertionError("a weekday recurs within a fortnight")


def following(previous: datetime, cadence_weeks: int, at_minutes: int, tz_name: str) -> datetime:
    """The round after `previous`: the same local time, `cadence_weeks` later on the calendar."""
    tz = zone(tz_name)
    return _at(previous.astimezone(tz).date() + timedelta(weeks=cadence_weeks), at_minutes, tz)


@dataclass(frozen=True)
class Hours:
    """A member's working day: zone and local minutes after midnight (end < start crosses midnight)."""

    timezone: str | None
    start: int
    end: int


def _inside(hours: Hours, when: datetime, length: timedelta, *, weekdays_only: bool) -> bool:
    local = when.astimezone(zone(hours.timezone))
    if weekdays_only and local.weekday() >= 5:
        return False
    first = local.hour * 60 + local.minute
    last = first + int(length.total_seconds() // 60)
    if hours.start <= hours.end:
        return hours.start <= first and last <= hours.end
    # A window across midnight: either the evening part or the morning part holds the whole slot.
    return (first >= hours.start and last <= 24 * 60 + hours.end) or last <= hours.end


def suggest_slots(
    people: Sequence[Hours],
    after: datetime,
    *,
    count: int = 3,
    length: timedelta = timedelta(minutes=30),
    horizon_days: int = 14,
) -> list[datetime]:
    """Up to `count` slot starts (UTC), on different days, inside everyone's working hours.

    Starts at least 12 hours after `after` (time to read the invitation) on the half hour; working
    days first, any day if that finds too few."""
    first = after + timedelta(hours=12)
    first = first.replace(minute=0 if first.minute == 0 else 30, second=0, microsecond=0)
    if first < after + timedelta(hours=12):
        first += SLOT_STEP
    for weekdays_only in (True, False):
        slots: list[datetime] = []
        when = first
        end = first + timedelta(days=horizon_days)
        while when < end and len(slots) < count:
            if all(_inside(h, when, length, weekdays_only=weekdays_only) for h in people):
                slots.append(when)
                when = datetime.combine(when.date() + timedelta(days=1), time(0), tzinfo=UTC)
                continue
            when += SLOT_STEP
        if len(slots) == count or not weekdays_only:
            return slots
    return []
