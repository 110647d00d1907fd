"""Reading what people type after /meetups: cadence, group size, pause length, the admin's schedule.

Slack and the console pass free text ("every 2 weeks, groups of 3"); Discord passes typed options.
Words are accepted in English, French and Spanish. Anything not understood is refused with the reason
(a `ParseError` code the handler translates), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CADENCES = (1, 2, 4)
SIZES = (2, 3, 4)
MAX_PAUSE_WEEKS = 26

WEEK_WORDS = {"week", "weeks", "wk", "wks", "w", "semaine", "semaines", "semana", "semanas"}
EVERY_WORDS = {"every", "each", "chaque", "toutes", "tous", "cada"}
SIZE_WORDS = {
    "size",
    "taille",
    "tamaño",
    "tamano",
    "of",
    "de",
    "groups",
    "group",
    "groupes",
    "groupe",
    "grupos",
}
NAMED_CADENCES = {
    "weekly": 1,
    "hebdomadaire": 1,
    "semanal": 1,
    "fortnightly": 2,
    "biweekly": 2,
    "quincenal": 2,
    "monthly": 4,
    "mensuel": 4,
    "mensuelle": 4,
    "mensual": 4,
}
FILLER = {
    "a",
    "an",
    "and",
    "in",
    "the",
    "with",
    "people",
    "persons",
    "les",
    "la",
    "le",
    "en",
    "et",
    "par",
    "personnes",
    "y",
    "con",
    "personas",
    "grupo",
    "on",
    "at",
    "el",
    "à",
    "a las",
}
WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "lundi": 0,
    "lunes": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "mardi": 1,
    "martes": 1,
    "wednesday": 2,
    "wed": 2,
    "mercredi": 2,
    "miércoles": 2,
    "miercoles": 2,
    "thursday": 3,
    "thu": 3,
    "thurs": 3,
    "jeudi": 3,
    "jueves": 3,
    "friday": 4,
    "fri": 4,
    "vendredi": 4,
    "viernes": 4,
    "saturday": 5,
    "sat": 5,
    "samedi": 5,
    "sábado": 5,
    "sabado": 5,
    "sunday": 6,
    "sun": 6,
    "dimanche": 6,
    "domingo": 6,
}
_TOKEN = re.compile(r"<[#@][^>]*>|[\w/+:.-]+", re.UNICODE)
_TIME = re.compile(r"^([0-9]{1,2})(?:[:h.]([0-9]{2}))?(am|pm|h)?$")
_CHANNEL = re.compile(r"^<#([A-Z0-9]+|\d+)(?:\|[^>]*)?>$")


class ParseError(ValueError):
    """`code` names the problem (the handler words it); `value` is the offending text."""

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.value = value


@dataclass(frozen=True)
class JoinOptions:
    cadence_weeks: int | None = None
    group_size: int | None = None


@dataclass(frozen=True)
class ScheduleOptions:
    cadence_weeks: int
    weekday: int
    at_minutes: int
    timezone: str | None
    channel: str | None


def _is_number(token: str) -> bool:
    """ASCII digits only: `"¹".isdigit()` is true, but it is no number anyone types here."""
    return token.isascii() and token.isdigit() and len(token) <= 6


def _tokens(text: str) -> list[str]:
    return [t.strip(".,;") for t in _TOKEN.findall(text.lower()) if t.strip(".,;")]


def _cadence(value: int, raw: str) -> int:
    if value not in CADENCES:
        raise ParseError("cadence", raw)
    return value


def parse_join(text: str) -> JoinOptions:
    """ "every 2 weeks, groups of 3", "2 3", "monthly", "cada 4 semanas tamaño 2" → options."""
    tokens = _tokens(text)
    cadence: int | None = None
    size: int | None = None
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in NAMED_CADENCES:
            cadence = NAMED_CADENCES[token]
        elif _is_number(token):
            value = int(token)
            if nxt in WEEK_WORDS or prev in EVERY_WORDS or prev in WEEK_WORDS:
                cadence = _cadence(value, token)
            elif prev in SIZE_WORDS or nxt in {"people", "personnes", "personas"}:
                if value not in SIZES:
                    raise ParseError("size", token)
                size = value
            elif cadence is None:
                cadence = _cadence(value, token)
            elif size is None:
                if value not in SIZES:
                    raise ParseError("size", token)
                size = value
            else:
                raise ParseError("word", token)
        elif token in WEEK_WORDS and prev in EVERY_WORDS | {"a", "each", "chaque", "cada", "la", "per"}:
            cadence = cadence or 1  # "every week", "chaque semaine"
        elif token in WEEK_WORDS | EVERY_WORDS | SIZE_WORDS | FILLER:
            continue
        else:
            raise ParseError("word", token)
    return JoinOptions(cadence, size)


def parse_weeks(text: str) -> int:
    """A pause length: "2", "2 weeks", "3 semaines" → weeks (1..MAX_PAUSE_WEEKS)."""
    tokens = [t for t in _tokens(text) if t not in WEEK_WORDS | FILLER | {"for", "pendant", "por", "durant"}]
    if len(tokens) != 1 or not _is_number(tokens[0]):
        raise ParseError("weeks", text.strip())
    weeks = int(tokens[0])
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise ParseError("weeks", tokens[0])
    return weeks


def parse_time(token: str) -> int | None:
    """ "15:00", "9h30", "3pm", "15h" → minutes after midnight; None if not a time."""
    m = _TIME.match(token)
    if not m:
        return None
    hour, minute, suffix = int(m[1]), int(m[2] or 0), m[3]
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif m[2] is None and suffix is None:
        return None  # a bare number is not a time
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute


def _zone(token: str, original: str) -> str | None:
    if token in ("utc", "gmt"):
        return "UTC"
    if "/" not in token:
        return None
    # Zone names are case-sensitive on disk: find the original spelling in the typed text.
    match = re.search(re.escape(token), original, re.IGNORECASE)
    name = match.group(0) if match else token
    for candidate in (name, "/".join(p.capitalize() for p in name.split("/"))):
        try:
            ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return candidate
    raise ParseError("zone", name)


def parse_schedule(text: str) -> ScheduleOptions:
    """ "every 2 weeks on tuesday at 15:00 Europe/London in <#C123>" → a schedule (weekday and time
    are required; cadence defaults to weekly, zone and channel to the caller's)."""
    tokens = _tokens(text)
    cadence, weekday, minutes, zone, channel = 1, None, None, None, None
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        channel_match = _CHANNEL.match(token.upper()) if token.startswith("<#") else None
        if channel_match:
            channel = channel_match.group(1)
        elif token.startswith("#") and len(token) > 1:
            channel = token[1:]
        elif token in WEEKDAYS:
            weekday = WEEKDAYS[token]
        elif token in NAMED_CADENCES:
            cadence = NAMED_CADENCES[token]
        elif _is_number(token) and (nxt in WEEK_WORDS or prev in EVERY_WORDS):
            cadence = _cadence(int(token), token)
        elif (found := parse_time(token)) is not None:
            minutes = found
        elif (found_zone := _zone(token, text)) is not None:
            zone = found_zone
        elif token in WEEK_WORDS | EVERY_WORDS | FILLER | {"at", "on", "à", "las", "el", "in", "dans"}:
            continue
        else:
            raise ParseError("word", token)
    if weekday is None:
        raise ParseError("weekday")
    if minutes is None:
        raise ParseError("time")
    return ScheduleOptions(cadence, weekday, minutes, zone, channel)
