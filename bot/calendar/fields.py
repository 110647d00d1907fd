"""Event fields typed by admins: the `key=value` text form and the modal, validated all at once.

`title=Coordinators chat start=2026-09-09 15:00 Europe/London repeat=monthly on the second Wednesday
duration=60 channel=<#C123> reminders=24h,1h breakouts=DP; MYP; PYP description=…`. Any error rejects
the whole change, so nothing is half-saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.calendar.recurrence import ParseError, Series, parse_dates, parse_repeat, parse_start
from bot.i18n import Translator
from bot.profile_fields import split_fields as split_key_values

KEYS = {
    "title": "title", "titre": "title", "titulo": "title", "título": "title", "name": "title",
    "start": "start", "when": "start", "debut": "start", "début": "start", "inicio": "start",
    "repeat": "repeat", "recurrence": "repeat", "rule": "repeat", "dates": "repeat", "repetir": "repeat",
    "répéter": "repeat", "repeter": "repeat",
    "duration": "duration", "durée": "duration", "duree": "duration", "duracion": "duration",
    "duración": "duration", "minutes": "duration",
    "channel": "channel", "canal": "channel",
    "reminders": "reminders", "rappels": "reminders", "recordatorios": "reminders",
    "breakouts": "breakouts", "groups": "breakouts",
    "description": "description", "descripcion": "description", "descripción": "description",
}  # fmt: skip
_KEY_RE = re.compile(r"(?:^|\s)([^\W\d][\w]*)\s*=", re.UNICODE)
_CHANNEL_RE = re.compile(r"^<#([A-Z0-9]+|\d+)(?:\|[^>]*)?>$|^#?([\w-]+)$")
_DURATION_RE = re.compile(
    r"^\s*(?:(\d{1,2})\s*h(?:ours?|eures?|oras?)?)?\s*(?:(\d{1,4})\s*(?:m|min|mins|minutes?|minutos?)?)?\s*$"
)
MAX_DURATION = 24 * 60
MAX_REMINDER = 30 * 24 * 60


@dataclass
class EventDraft:
    """Validated values; unset ones keep what the event had (edits) or the defaults (new events)."""

    title: str | None = None
    start: datetime | None = None
    timezone: str | None = None
    rrule: str | None = None
    dates: tuple[date, ...] | None = None  # set (possibly empty) when `repeat` was given
    duration_minutes: int | None = None
    channel: str | None = None
    reminders: tuple[int, ...] | None = None
    breakouts: tuple[str, ...] | None = None
    description: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def split_fields(text: str) -> tuple[dict[str, str], list[str]]:
    """`title=Chat start=…` → {canonical key: value}; keys may carry accents (`durée=`)."""
    return split_key_values(text, KEYS, _KEY_RE)


def parse_duration(text: str) -> int | None:
    """ "60", "90 min", "1h30", "1 h 30", "2h" → minutes (1..24 h); None if not understood."""
    compact = text.strip().lower().replace(" ", "")
    m = re.fullmatch(r"(\d{1,2})h(\d{1,2})?(?:m|min)?", compact) or None
    if m:
        minutes = int(m[1]) * 60 + int(m[2] or 0)
    else:
        m2 = _DURATION_RE.match(text.lower())
        if not m2 or not (m2[1] or m2[2]):
            return None
        minutes = int(m2[1] or 0) * 60 + int(m2[2] or 0)
    return minutes if 1 <= minutes <= MAX_DURATION else None


def parse_reminders(text: str) -> tuple[int, ...] | None:
    """ "24h, 1h", "1440 60", "2d,30m", "none" → minutes before (sorted, largest first); None if bad."""
    if text.strip().lower() in ("none", "no", "aucun", "ninguno", "0"):
        return ()
    out: set[int] = set()
    for piece in re.split(r"[,;\s]+", text.strip().lower()):
        if not piece:
            continue
        m = re.fullmatch(r"(\d{1,5})(d|j|h|m|min)?", piece)
        if not m:
            return None
        minutes = int(m[1]) * {"d": 1440, "j": 1440, "h": 60}.get(m[2] or "m", 1)
        if not 1 <= minutes <= MAX_REMINDER:
            return None
        out.add(minutes)
    return tuple(sorted(out, reverse=True)) if out else None


def parse_channel(text: str) -> str | None:
    m = _CHANNEL_RE.match(text.strip())
    if not m:
        return None
    return m[1] or m[2]


def _error(t: Translator, exc: ParseError, escape: Callable[[str], str] = str) -> str:
    value = escape(exc.value)
    messages = {
        "date": t.gettext("'{value}' is not a date I can read; try 2026-09-09 or 9 September 2026."),
        "time": t.gettext("Give a time of day, e.g. 15:00."),
        "zone": t.gettext("'{value}' is not a time zone I know; use a name like Europe/Madrid."),
        "number": t.gettext("'{value}' is out of range."),
        "rule": t.gettext("I can't use the rule '{value}'; try 'monthly on the second Wednesday'."),
        "word": t.gettext("I did not understand '{value}'."),
    }
    return messages.get(exc.code, messages["word"]).format(value=value)


def validate(
    fields: dict[str, str], t: Translator, *, default_timezone: str, escape: Callable[[str], str] = str
) -> EventDraft:
    """Check every given field; errors are keyed by field name, translated, and quote typed text
    through `escape` (the port's, so a typed `<!channel>` comes back inert)."""
    draft = EventDraft()
    errors = draft.errors
    if "title" in fields:
        title = fields["title"].strip()
        if not title or len(title) > 200:
            errors["title"] = t.gettext("A title of 1 to 200 characters, please.")
        draft.title = title
    if "start" in fields:
        try:
            draft.start, zone = parse_start(fields["start"])
            draft.timezone = zone or default_timezone
        except ParseError as exc:
            errors["start"] = _error(t, exc, escape)
    if "repeat" in fields:
        text = fields["repeat"]
        try:
            draft.rrule, draft.dates = parse_repeat(text), ()
        except ParseError as rule_error:
            try:
                draft.rrule, draft.dates = None, parse_dates(text)
            except ParseError:
                errors["repeat"] = _error(t, rule_error, escape)
    if "duration" in fields:
        draft.duration_minutes = parse_duration(fields["duration"])
        if draft.duration_minutes is None:
            errors["duration"] = t.gettext("A duration such as 60, 90 min or 1h30 (at most 24 hours).")
    if "channel" in fields:
        draft.channel = parse_channel(fields["channel"])
        if draft.channel is None:
            errors["channel"] = t.gettext("Name the channel as #channel.")
    if "reminders" in fields:
        draft.reminders = parse_reminders(fields["reminders"])
        if draft.reminders is None:
            errors["reminders"] = t.gettext("Reminders such as 24h, 1h (or none).")
    if "breakouts" in fields:
        names = tuple(n.strip() for n in re.split(r"[;,]", fields["breakouts"]) if n.strip())
        if len(names) > 12 or any(len(n) > 60 for n in names):
            errors["breakouts"] = t.gettext("At most 12 breakout groups of up to 60 characters.")
        draft.breakouts = names
    if "description" in fields:
        if len(fields["description"]) > 2000:
            errors["description"] = t.gettext("Keep the description under 2,000 characters.")
        draft.description = fields["description"].strip()
    return draft


def check_series(
    series_start: datetime,
    zone: str,
    rrule: str | None,
    dates: tuple[date, ...],
    t: Translator,
    escape: Callable[[str], str] = str,
) -> str | None:
    """The combined schedule must make sense (e.g. a rule that never matches its start's year)."""
    try:
        Series(start=series_start, timezone=zone, duration_minutes=60, rrule=rrule, dates=dates)
    except ParseError as exc:
        return _error(t, exc, escape)
    except ValueError:
        return t.gettext("That start and repeat do not make a schedule; check the date.")
    return None
