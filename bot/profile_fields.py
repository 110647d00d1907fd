"""Profile fields typed by people: `key=value` text forms and modal values, validated all at once.

Both the text form (`/profile set subject=Biology tz=Europe/Madrid`) and the modals go through
`validate`, so every platform gives the same answers and nothing is half-saved: any error rejects the
whole change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.catalog import Catalogue
from bot.i18n import Translator
from bot.suggestions import unknown_word

KEYS: dict[str, str] = {
    "role": "roles", "roles": "roles",
    "programme": "programmes", "programmes": "programmes", "program": "programmes", "programs": "programmes",
    "subject": "subjects", "subjects": "subjects",
    "language": "languages", "languages": "languages", "lang": "languages",
    "tz": "timezone", "timezone": "timezone", "zone": "timezone",
    "hours": "hours", "working_hours": "hours",
    "school": "school", "region": "region", "department": "department", "dept": "department",
    "bio": "bio", "open": "open", "open_to_questions": "open", "name": "name",
    "where": "where",  # the modal's "time zone and hours" field
}  # fmt: skip
FIELD_KINDS = {"roles": "role", "programmes": "programme", "subjects": "subject", "languages": "language"}
YES = {"yes", "y", "true", "1", "oui", "si", "sí", "on"}
NO = {"no", "n", "false", "0", "non", "off"}
_KEY_RE = re.compile(r"(?:^|\s)([A-Za-z_]+)\s*=")
_HOURS_RE = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-–]\s*(\d{1,2})(?::(\d{2}))?\s*$")
LIMITS = {"school": 200, "region": 100, "department": 100, "bio": 500, "name": 200}


@dataclass(frozen=True)
class Changes:
    """Validated changes, as MemberInput field values; `errors` maps the field typed to a message."""

    values: dict[str, Any]
    errors: dict[str, str]


def split_fields(
    text: str, keys: Mapping[str, str] = KEYS, key_pattern: re.Pattern[str] = _KEY_RE
) -> tuple[dict[str, str], list[str]]:
    """`subject=Biology school=Colegio del Sur role="workshop leader"` → {key: value}; words after a
    value continue it, so quotes are optional. `keys` maps what people type to canonical names (the
    profile's by default; event fields pass their own). Returns the fields and any unknown keys."""
    fields: dict[str, str] = {}
    unknown: list[str] = []
    matches = list(key_pattern.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        key = match.group(1).lower()
        value = text[match.end() : end].strip().strip('"').strip("'").strip()
        canonical = keys.get(key)
        if canonical is None:
            unknown.append(key)
        else:
            fields[canonical] = value
    return fields, unknown


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def resolve_zone(text: str) -> tuple[str | None, list[str]]:
    """An IANA zone from what people type ("Europe/Madrid", "madrid", "america/new york")."""
    cleaned = text.strip().replace(" ", "_")
    if not cleaned:
        return None, []
    lowered = {z.lower(): z for z in _zones()}
    if cleaned.lower() in lowered:
        return lowered[cleaned.lower()], []
    city = [z for z in _zones() if z.lower().rsplit("/", 1)[-1] == cleaned.lower()]
    if len(city) == 1:
        return city[0], []
    close = difflib.get_close_matches(cleaned, _zones(), n=3, cutoff=0.6)
    return None, city[:3] or close


def parse_hours(text: str) -> tuple[int, int] | None:
    """`08:00-18:00`, `8-18` → minutes after local midnight; None when malformed."""
    match = _HOURS_RE.match(text)
    if not match:
        return None
    h1, m1, h2, m2 = (int(x) if x else 0 for x in match.groups())
    if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and 0 <= m1 < 60 and 0 <= m2 < 60):
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start > 1440 or end > 1440 or start == end:
        return None
    return start, end


def format_hours(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def validate(
    fields: dict[str, str],
    t: Translator,
    catalogue: Catalogue | None = None,
    escape: Callable[[str], str] = str,
) -> Changes:
    """Check every field; values are ready for MemberInput (term ids, minutes, booleans)."""
    cat = catalogue or Catalogue.default()
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in fields.items():
        raw = raw.strip()
        if key in FIELD_KINDS:
            terms, unknown = cat.resolve_many(FIELD_KINDS[key], raw)  # type: ignore[arg-type]
            if unknown:
                errors[key] = unknown_word(unknown[0], t, escape)
            else:
                values[key] = tuple(dict.fromkeys(term.id for term in terms))
        elif key == "timezone":
            _zone(raw, t, values, errors, key, escape)
        elif key == "hours":
            _hours(raw, t, values, errors, key)
        elif key == "where":
            zone_text, _, hours_text = raw.partition(" ")
            _zone(zone_text, t, values, errors, key, escape)
            if hours_text.strip() and key not in errors:
                _hours(hours_text, t, values, errors, key)
        elif key == "open":
            if raw.lower() in YES:
                values["open_to_questions"] = True
            elif raw.lower() in NO:
                values["open_to_questions"] = False
            else:
                errors[key] = t.gettext("Use yes or no.")
        elif key in LIMITS:
            if key == "name" and not raw:
                errors[key] = t.gettext("A name cannot be empty.")
            elif len(raw) > LIMITS[key]:
                errors[key] = t.gettext("Keep it under {limit} characters.").format(limit=LIMITS[key])
            else:
                values[key] = raw or None
    return Changes(values, errors)


def _zone(
    raw: str,
    t: Translator,
    values: dict[str, Any],
    errors: dict[str, str],
    key: str,
    escape: Callable[[str], str] = str,
) -> None:
    if not raw.strip():
        values["timezone"] = None  # an emptied field clears the zone
        return
    zone, suggestions = resolve_zone(raw)
    if zone is None:
        message = t.gettext("'{value}' is not a time zone. Use a name like Europe/Madrid.").format(
            value=escape(raw)
        )
        if suggestions:
            message += " " + t.gettext("Did you mean: {names}?").format(names=", ".join(suggestions))
        errors[key] = message
        return
    try:
        ZoneInfo(zone)
    except ZoneInfoNotFoundError:  # pragma: no cover - available_timezones lists only loadable zones
        errors[key] = t.gettext("'{value}' is not a time zone. Use a name like Europe/Madrid.").format(
            value=escape(raw)
        )
        return
    values["timezone"] = zone


def _hours(raw: str, t: Translator, values: dict[str, Any], errors: dict[str, str], key: str) -> None:
    hours = parse_hours(raw)
    if hours is None:
        errors[key] = t.gettext("Write working hours like 08:00-18:00.")
    else:
        values["work_start"], values["work_end"] = hours
