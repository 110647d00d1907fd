"""Recurring calendar events: reading what admins type (English, French, Spanish) and expanding a series.

A series keeps its LOCAL wall-clock time: rules are RFC 5545 RRULE bodies expanded by dateutil on naive
local datetimes, and each occurrence is then placed in its IANA zone with zoneinfo, so 15:00 in London
stays 15:00 in London on both sides of a daylight-saving change. Every instant this module returns is a
timezone-aware UTC datetime.

Parsing refuses what it does not understand with a `ParseError` (a code the caller translates, and the
offending text); it never guesses and never raises anything else.

Everything here is pure: no I/O, no clock, no database.
"""

from __future__ import annotations

import calendar
import dataclasses
import functools
import heapq
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "Occurrence",
    "ParseError",
    "Series",
    "next_occurrence",
    "occurrence_ids",
    "occurrences",
    "parse_dates",
    "parse_repeat",
    "parse_start",
]

MAX_INTERVAL = 999
MAX_COUNT = 10_000
MIN_YEAR = 1900
MAX_YEAR = 2200

# Local-time margin around a query window: an occurrence whose wall-clock time falls in a spring-forward
# gap is moved forward by the gap (at most a day, Samoa 2011), so its UTC instant can sit after its
# naive local time.
_MARGIN = timedelta(days=2)
_EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class ParseError(ValueError):
    """`code` names the problem (the caller translates it); `value` is the offending text.

    Codes: "date", "time", "zone" (parse_start, parse_dates, an "until" date), "word" (a word
    parse_repeat does not know), "number" (a count, interval or day out of range), "rule" (an invalid raw
    RRULE, or a phrase that is contradictory or says nothing about how often).
    """

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(f"{code}: {value!r}" if value else code)
        self.code = code
        self.value = value


# ---------------------------------------------------------------------------------------------------------
# Text helpers


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFKD", char)[:1] or char
    return base.casefold()[:1] or base


def _fold(text: str) -> str:
    """Lower-case, accents stripped, ONE character per character: spans found in the folded text are
    spans of the original, so errors can quote what the person typed."""
    return "".join(_fold_char(char) for char in text)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# Words: runs of letters/digits; "1.º" and "2.ª" stay one word; dashes are kept (weekday ranges).
_WORDS = re.compile(r"[0-9]+\.?[oa°](?![^\W_])|[^\W_]+|[-–—]")
_DASHES = frozenset("-–—")

_MONTHS: dict[str, int] = {
    **dict.fromkeys(("january", "jan", "janvier", "janv", "enero", "ene"), 1),
    **dict.fromkeys(("february", "feb", "fevrier", "fevr", "fev", "febrero"), 2),
    **dict.fromkeys(("march", "mar", "mars", "marzo"), 3),
    **dict.fromkeys(("april", "apr", "avril", "avr", "abril", "abr"), 4),
    **dict.fromkeys(("may", "mai", "mayo"), 5),
    **dict.fromkeys(("june", "jun", "juin", "junio"), 6),
    **dict.fromkeys(("july", "jul", "juillet", "juil", "julio"), 7),
    **dict.fromkeys(("august", "aug", "aout", "agosto", "ago"), 8),
    **dict.fromkeys(("september", "sep", "sept", "septembre", "septiembre", "setiembre"), 9),
    **dict.fromkeys(("october", "oct", "octobre", "octubre"), 10),
    **dict.fromkeys(("november", "nov", "novembre", "noviembre"), 11),
    **dict.fromkeys(("december", "dec", "decembre", "diciembre", "dic"), 12),
}

# Weekday names a date may carry ("Thursday, August 29, 2024"); checked against the date.
_DATE_WEEKDAYS: dict[str, int] = {
    **dict.fromkeys(("monday", "mon", "lundi", "lunes"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues", "mardi", "martes"), 1),
    **dict.fromkeys(("wednesday", "wed", "mercredi", "miercoles"), 2),
    **dict.fromkeys(("thursday", "thu", "thur", "thurs", "jeudi", "jueves"), 3),
    **dict.fromkeys(("friday", "fri", "vendredi", "viernes"), 4),
    **dict.fromkeys(("saturday", "sat", "samedi", "sabado"), 5),
    **dict.fromkeys(("sunday", "sun", "dimanche", "domingo"), 6),
}

_DATE_FILLERS = frozenset(
    {"the", "of", "on", "and", "le", "la", "l", "du", "et", "de", "del", "el", "y", "o", "a"}
)
# Extra words allowed around a start's date and time: "à 15h00", "a las 15:00", "at 3pm", "15:00 h".
_START_FILLERS = frozenset({"at", "las", "h", "hr", "hrs", "heure", "heures", "hora", "horas"})

_ISO_DATE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
_DMY_DATE = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")
_DAY = re.compile(r"([0-9]{1,2})\.?(?:st|nd|rd|th|er|re|ere|e|eme|o|a|°)?")
_YEAR = re.compile(r"[0-9]{4}")


def _parse_date(text: str, *, fillers: frozenset[str] = _DATE_FILLERS) -> date:
    """One calendar date; ParseError("date", text) when it is not exactly one valid date."""
    shown = text.strip()
    folded = _fold(shown).strip(" \t-*•·.,;")
    year = month = day = weekday = None
    if match := _ISO_DATE.fullmatch(folded):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    elif match := _DMY_DATE.fullmatch(folded):
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    else:
        for word in _WORDS.findall(folded):
            if word in fillers or word in _DASHES:
                continue
            if month is None and word in _MONTHS:
                month = _MONTHS[word]
            elif year is None and _YEAR.fullmatch(word):
                year = int(word)
            elif day is None and (found := _DAY.fullmatch(word)):
                day = int(found[1])
            elif weekday is None and word in _DATE_WEEKDAYS:
                weekday = _DATE_WEEKDAYS[word]
            else:
                raise ParseError("date", shown)
    if year is None or month is None or day is None or not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError("date", shown)
    try:
        result = date(year, month, day)
    except ValueError:
        raise ParseError("date", shown) from None
    if weekday is not None and result.weekday() != weekday:
        raise ParseError("date", shown)
    return result


# ---------------------------------------------------------------------------------------------------------
# parse_dates

_DATE_LIST_SEPARATORS = re.compile(r"[;\n\r\x0b\x0c\x85\u2028\u2029]+")
_HAS_YEAR = re.compile(r"(?<![0-9])[0-9]{4}(?![0-9])")


def parse_dates(text: str) -> tuple[date, ...]:
    """An explicit list of dates, sorted and unique.

    Dates are separated by ";", newlines, or "," (commas inside "August 29, 2024" are understood: a
    piece that is not a date on its own is joined with the next one or two). Each date is ISO
    ("2024-08-29"), day-first numeric ("29/08/2024", "29.08.2024"), or written out in English, French
    or Spanish ("August 29, 2024", "29th August 2024", "Thursday, August 29, 2024", "29 août 2024",
    "le 1er septembre 2024", "29 de agosto de 2024"); a weekday name, if given, must match. Leading
    list bullets ("-", "*", "•") are ignored. Empty text gives (). ParseError("date", piece) on the
    first piece that is not a date.
    """
    found: set[date] = set()
    for line in _DATE_LIST_SEPARATORS.split(_nfc(text)):
        parts = line.split(",")
        index = 0
        while index < len(parts):
            if not parts[index].strip(" \t-*•·"):
                index += 1
                continue
            for width in range(1, min(3, len(parts) - index) + 1):
                try:
                    found.add(_parse_date(",".join(parts[index : index + width])))
                except ParseError:
                    continue
                index += width
                break
            else:
                shown = parts[index]
                if not _HAS_YEAR.search(shown) and index + 1 < len(parts):
                    shown += "," + parts[index + 1]
                raise ParseError("date", shown.strip())
    return tuple(sorted(found))


# ---------------------------------------------------------------------------------------------------------
# parse_start

_TIME = re.compile(
    r"(?<![0-9/.:\-])(?P<hour>[0-9]{1,2})"
    r"(?:\s*(?P<sep>:|h(?![a-z]))\s*(?P<minute>[0-9]{2})?(?::(?P<second>[0-9]{2}))?)?"
    r"(?:\s*(?P<ampm>[ap])\.?\s?m(?![a-z])\.?)?"
    r"(?![0-9])"
)
_NAMED_TIMES = re.compile(r"(?<![^\W_])(noon|midday|midi|mediodia|midnight|minuit|medianoche)(?![^\W_])")
_ISO_T = re.compile(r"(?<=[0-9])[tT](?=[0-9])")
_ZONE_PUNCTUATION = "()[]{},;."


@functools.cache
def _zone_names() -> tuple[dict[str, str], dict[str, str]]:
    """(folded full name -> IANA name, folded city -> IANA name); a city in several zones resolves to
    the most specific name ("Buenos_Aires" -> "America/Argentina/Buenos_Aires")."""
    names = sorted(available_timezones() - {"Factory", "localtime", "posixrules"})
    full = {_fold(name): name for name in names}
    cities: dict[str, str] = {}
    for name in sorted(names, key=lambda n: (-n.count("/"), n)):
        if "/" in name:
            cities.setdefault(_fold(name.rsplit("/", 1)[1]), name)
    return full, cities


def _lookup_zone(candidate: str) -> str | None:
    key = _fold(candidate.strip(_ZONE_PUNCTUATION))
    if not key:
        return None
    full, cities = _zone_names()
    return full.get(key) or cities.get(key)


def _known_start_word(word: str) -> bool:
    return (
        word in _MONTHS
        or word in _DATE_WEEKDAYS
        or word in _DATE_FILLERS
        or word in _START_FILLERS
        or word in {"am", "pm", "noon", "midday", "midi", "mediodia", "midnight", "minuit", "medianoche"}
    )


def _split_zone(text: str) -> tuple[str, str | None]:
    """(text without the zone, IANA zone or None)."""
    tokens = list(re.finditer(r"\S+", text))
    for width in (3, 2, 1):
        if len(tokens) <= width:
            continue
        for chosen in (tokens[-width:], tokens[:width]):
            zone = _lookup_zone("_".join(t[0].strip(_ZONE_PUNCTUATION) for t in chosen))
            if zone is not None:
                start, end = chosen[0].start(), chosen[-1].end()
                return text[:start] + " " * (end - start) + text[end:], zone
    for token in tokens:
        word = token[0].strip(_ZONE_PUNCTUATION)
        if "/" in word and any(char.isalpha() for char in word):
            zone = _lookup_zone(word)
            if zone is None:
                raise ParseError("zone", word)
            return text[: token.start()] + " " * len(token[0]) + text[token.end() :], zone
    if tokens:
        last = tokens[-1][0].strip(_ZONE_PUNCTUATION)
        if last.isalpha() and not _known_start_word(_fold(last)):
            raise ParseError("zone", last)
    return text, None


def parse_start(text: str) -> tuple[datetime, str | None]:
    """A start date and time, with an optional IANA zone → (naive local datetime, zone name or None).

    "2026-09-09 15:00 Europe/London", "2026-09-09T15:00", "2026-09-09 3pm", "9 Sept 2026 15:00",
    "September 9, 2026 at 3:30 p.m.", "9 septembre 2026 15h00 Europe/Paris", "le 9 septembre 2026 à
    15h", "9 de septiembre de 2026 a las 15:00", "09/09/2026 15:00" (day first), "... noon"/"midi"/
    "mediodía". The zone may come first or last, as a full IANA name in any case ("europe/london") or a
    zone's city ("London", "New York", "São Paulo"); the zone returned is the canonical IANA name.

    Codes: "date" (missing or invalid date), "time" (missing, invalid or several times), "zone"
    (unknown zone).
    """
    original = _nfc(text).strip()
    if not original:
        raise ParseError("date", "")
    rest, zone = _split_zone(original)
    rest = _ISO_T.sub(" ", rest)
    folded = _fold(rest)
    times: list[tuple[int, int, time]] = []
    for match in _TIME.finditer(folded):
        sep, ampm = match["sep"], match["ampm"]
        if not ampm and (sep is None or (sep == ":" and match["minute"] is None)):
            continue
        hour, minute = int(match["hour"]), int(match["minute"] or 0)
        second = int(match["second"] or 0)
        if ampm:
            if not 1 <= hour <= 12:
                raise ParseError("time", rest[match.start() : match.end()].strip())
            hour = hour % 12 + (12 if ampm == "p" else 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ParseError("time", rest[match.start() : match.end()].strip())
        times.append((match.start(), match.end(), time(hour, minute, second)))
    for match in _NAMED_TIMES.finditer(folded):
        noon = match[1] in {"noon", "midday", "midi", "mediodia"}
        times.append((match.start(), match.end(), time(12 if noon else 0)))
    if not times:
        raise ParseError("time", original)
    if len(times) > 1:
        times.sort()
        raise ParseError("time", rest[times[1][0] : times[1][1]].strip())
    start, end, at = times[0]
    day = _parse_date(
        " ".join(f"{rest[:start]} {rest[end:]}".split()), fillers=_DATE_FILLERS | _START_FILLERS
    )
    return datetime.combine(day, at), zone


# ---------------------------------------------------------------------------------------------------------
# parse_repeat

DAILY, WEEKLY, MONTHLY, YEARLY = "DAILY", "WEEKLY", "MONTHLY", "YEARLY"
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WORKDAYS = (0, 1, 2, 3, 4)
_WEEKEND = (5, 6)

_WEEKDAY_WORDS: dict[str, int] = {
    **dict.fromkeys(("monday", "mondays", "mon", "lundi", "lundis", "lun", "lunes"), 0),
    **dict.fromkeys(("tuesday", "tuesdays", "tue", "tues", "mardi", "mardis", "mar", "martes"), 1),
    **dict.fromkeys(
        ("wednesday", "wednesdays", "wed", "mercredi", "mercredis", "mer", "miercoles", "mie"), 2
    ),
    **dict.fromkeys(
        ("thursday", "thursdays", "thu", "thur", "thurs", "jeudi", "jeudis", "jeu", "jueves", "jue"), 3
    ),
    **dict.fromkeys(("friday", "fridays", "fri", "vendredi", "vendredis", "ven", "viernes", "vie"), 4),
    **dict.fromkeys(
        ("saturday", "saturdays", "sat", "samedi", "samedis", "sam", "sabado", "sabados", "sab"), 5
    ),
    **dict.fromkeys(
        ("sunday", "sundays", "sun", "dimanche", "dimanches", "dim", "domingo", "domingos", "dom"), 6
    ),
}
_UNITS: dict[str, str] = {
    **dict.fromkeys(("day", "days", "jour", "jours", "dia", "dias"), DAILY),
    **dict.fromkeys(("week", "weeks", "semaine", "semaines", "semana", "semanas"), WEEKLY),
    **dict.fromkeys(("month", "months", "mois", "mes", "meses"), MONTHLY),
    **dict.fromkeys(("year", "years", "ans", "annee", "annees", "ano", "anos"), YEARLY),
}
_FR_ES_DAYS = frozenset({"jour", "jours", "dia", "dias"})
_ADJECTIVES: dict[str, tuple[str, int | None]] = {
    **dict.fromkeys(
        (
            "daily",
            "everyday",
            "quotidien",
            "quotidienne",
            "quotidiennement",
            "journalier",
            "journaliere",
            "diario",
            "diaria",
            "diariamente",
        ),
        (DAILY, None),
    ),
    **dict.fromkeys(
        ("weekly", "hebdomadaire", "hebdomadairement", "hebdo", "semanal", "semanalmente"), (WEEKLY, None)
    ),
    **dict.fromkeys(
        ("monthly", "mensuel", "mensuelle", "mensuellement", "mensual", "mensualmente"), (MONTHLY, None)
    ),
    **dict.fromkeys(
        (
            "yearly",
            "annually",
            "annual",
            "annuel",
            "annuelle",
            "annuellement",
            "anual",
            "anualmente",
        ),
        (YEARLY, None),
    ),
    **dict.fromkeys(("fortnightly", "biweekly", "quincenal", "quincenalmente"), (WEEKLY, 2)),
    **dict.fromkeys(("bimestriel", "bimestrielle", "bimestral", "bimestralmente"), (MONTHLY, 2)),
    **dict.fromkeys(
        (
            "quarterly",
            "trimestriel",
            "trimestrielle",
            "trimestriellement",
            "trimestral",
            "trimestralmente",
        ),
        (MONTHLY, 3),
    ),
    **dict.fromkeys(
        (
            "semiannual",
            "semiannually",
            "semestriel",
            "semestrielle",
            "semestral",
            "semestralmente",
        ),
        (MONTHLY, 6),
    ),
}
_DAY_SETS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(("weekday", "weekdays", "workday", "workdays"), _WORKDAYS),
    **dict.fromkeys(("weekend", "weekends"), _WEEKEND),
}
_ORDINALS: dict[str, int] = {
    **dict.fromkeys(("first", "premier", "premiere", "primer", "primero", "primera"), 1),
    **dict.fromkeys(("second", "deuxieme", "seconde", "segundo", "segunda"), 2),
    **dict.fromkeys(("third", "troisieme", "tercer", "tercero", "tercera"), 3),
    **dict.fromkeys(("fourth", "quatrieme", "cuarto", "cuarta"), 4),
    **dict.fromkeys(("fifth", "cinquieme", "quinto", "quinta"), 5),
    **dict.fromkeys(("last", "dernier", "derniere", "ultimo", "ultima"), -1),
    **dict.fromkeys(("penultimate", "penultieme", "penultimo", "penultima"), -2),
}
_NUMBERS: dict[str, int] = {
    **{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9},
    **{"ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15},
    **{"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9},
    **{"dix": 10, "onze": 11, "douze": 12, "quinze": 15},
    **{"uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8},
    **{"nueve": 9, "diez": 10, "doce": 12, "quince": 15},
}
_ORDINAL_SUFFIX = re.compile(r"([0-9]{1,3})\.?(?:st|nd|rd|th|er|re|ere|e|eme|o|a|°)")
_OTHER = frozenset({"other", "alternate", "alternating"})
_CONNECTORS = frozenset({"to", "through", "thru", "au", "a", "al", "-", "–", "—"})
_FILLERS = frozenset(
    {
        *("on", "the", "of", "in", "at", "an", "every", "each", "all", "per", "and", "once"),
        *("repeat", "repeats", "repeating", "recurring", "recurs"),
        *("le", "la", "les", "l", "du", "de", "des", "d", "en", "aux", "chaque", "tous", "toutes"),
        *("tout", "toute", "par", "et", "se", "repete"),
        *("el", "los", "las", "lo", "del", "cada", "todos", "todas", "todo", "toda", "por", "y", "e"),
        *("repite",),
    }
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, ord, unit, freq, wd, days, other, sur, conn, skip
    text: str  # what the person typed
    num: int = 0
    freq: str = ""
    interval: int | None = None
    days: tuple[int, ...] = ()
    fr_es_day: bool = False
    gap: bool = False  # a filler came before it ("le 15 de chaque mois", not "toutes les 15 semaines")


_PHRASES: dict[tuple[str, ...], _Tok] = {
    ("bi", "weekly"): _Tok("freq", "", freq=WEEKLY, interval=2),
    ("half", "yearly"): _Tok("freq", "", freq=MONTHLY, interval=6),
    ("semi", "annually"): _Tok("freq", "", freq=MONTHLY, interval=6),
    ("semi", "annual"): _Tok("freq", "", freq=MONTHLY, interval=6),
    ("second", "to", "last"): _Tok("ord", "", num=-2),
    ("second", "last"): _Tok("ord", "", num=-2),
    ("next", "to", "last"): _Tok("ord", "", num=-2),
    ("avant", "dernier"): _Tok("ord", "", num=-2),
    ("avant", "derniere"): _Tok("ord", "", num=-2),
    ("une", "fois"): _Tok("skip", ""),
    ("una", "vez"): _Tok("skip", ""),
    ("one", "time"): _Tok("skip", ""),
    **{
        words: _Tok("days", "", days=_WEEKEND)
        for words in (("week", "end"), ("week", "ends"), ("fin", "de", "semana"), ("fines", "de", "semana"))
    },
    **{
        words: _Tok("days", "", days=_WORKDAYS)
        for words in (
            ("jours", "ouvrables"),
            ("jour", "ouvrable"),
            ("jours", "ouvres"),
            ("jour", "ouvre"),
            ("jours", "de", "semaine"),
            ("jour", "de", "semaine"),
            ("en", "semaine"),
            ("dias", "laborables"),
            ("dia", "laborable"),
            ("dias", "habiles"),
            ("dia", "habil"),
            ("entre", "semana"),
            ("dias", "de", "semana"),
            ("dia", "de", "semana"),
            ("working", "days"),
            ("working", "day"),
            ("business", "days"),
            ("business", "day"),
            ("week", "days"),
        )
    },
}
# "bi-weekly", "avant-dernier", "week-end": the same two words joined by a dash
_PHRASES |= {(words[0], "-", words[1]): token for words, token in _PHRASES.items() if len(words) == 2}
_LONGEST_PHRASE = max(len(words) for words in _PHRASES)

_ONE_OFF = frozenset(
    {
        *("", "once", "one off", "oneoff", "one time", "single", "none", "no", "never", "no repeat"),
        *("does not repeat", "doesn t repeat", "do not repeat", "don t repeat", "not recurring"),
        *("une fois", "une seule fois", "aucune", "aucun", "non", "jamais", "ne se repete pas"),
        *("pas de repetition", "sans repetition", "ponctuel", "ponctuelle"),
        *("una vez", "una sola vez", "ninguna", "ninguno", "nunca", "no se repite", "sin repeticion"),
    }
)

_COUNT_NOUNS = (
    r"times|occurrences?|sessions?|meetings?|fois|s[ée]ances?|reprises|rencontres|r[ée]unions"
    r"|veces|ocurrencias|sesiones|reuniones|encuentros"
)
_COUNT_RE = re.compile(
    r"(?:(?<![^\W_])(?:for|pour|pendant|durante|por)\s+)?"
    r"(?<![^\W_])(?P<n>[0-9]+|" + "|".join(sorted((*_NUMBERS, "once"), key=len, reverse=True)) + r")"
    r"\s+(?:" + _COUNT_NOUNS + r")(?![^\W_])"
    r"(?!\s+(?:a|an|per|each|every|par|chaque|por|al|cada|tous|toutes|todos|todas|in|dans|en)(?![^\W_]))",
    re.IGNORECASE,
)
_UNTIL_RE = re.compile(
    r"(?<![^\W_])(?:until|till|til|up\s+to|ending(?:\s+on)?|ends?\s+on"
    r"|jusqu\s*['’]\s*(?:au|aux|à|a|en|le)?|hasta(?:\s+el)?)(?![^\W_])(?P<date>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_RAW_HINT = re.compile(r"(?:^|[\s;:])freq\s*=", re.IGNORECASE)


def parse_repeat(text: str) -> str | None:
    """A recurrence phrase → an RFC 5545 RRULE body (no "RRULE:" prefix), or None for a one-off.

    One-off: "", "once", "none", "no", "never", "one-off", "does not repeat", "une fois", "aucune",
    "jamais", "ne se répète pas", "una vez", "ninguna", "nunca", "no se repite".

    How often: "daily"/"every day"/"tous les jours"/"cada día"/"diario"; "weekly"/"every week"/"chaque
    semaine"/"semanal"; "monthly"/"every month"/"tous les mois"/"mensuel"/"cada mes"/"mensual";
    "yearly"/"annually"/"every year"/"chaque année"/"anual"; "every N days/weeks/months/years"
    (digits or words: "every two weeks", "toutes les 4 semaines", "cada dos semanas", "une semaine sur
    deux"); "every other week"/"every second week"; "fortnightly"/"biweekly"/"quincenal"/"tous les
    quinze jours"/"cada quince días" (every 2 weeks; "tous les huit jours" is weekly); "quarterly"/
    "trimestriel"/"trimestral" (every 3 months); "bimestriel"/"bimestral" (2 months); "semiannually"/
    "semestriel"/"semestral" (6 months); "once a week"/"une fois par mois"/"una vez al mes".

    Which days: weekdays ("every Tuesday", "on Tuesdays and Thursdays", "tous les mardis", "todos los
    martes", "every 4 weeks on Tuesday"), ranges ("Monday to Friday", "du lundi au vendredi", "de lunes
    a viernes"), "every weekday"/"en semaine"/"jours ouvrables"/"días laborables", "weekends"; "every
    other Wednesday"/"un mercredi sur deux" (every 2 weeks); the nth weekday of the month ("monthly on
    the second Wednesday" → BYDAY=2WE, "the first and third Monday", "the last Friday" → BYDAY=-1FR,
    "le deuxième mercredi de chaque mois", "el segundo miércoles de cada mes", "penultimate",
    "avant-dernier", "penúltimo"); a day of the month ("every month on the 15th", "le 15 de chaque mois",
    "el día 15 de cada mes", "the last day of the month" → BYMONTHDAY=-1). An ordinal before a weekday
    always means its place in the month, so "every second Wednesday" is monthly (say "every other
    Wednesday" for alternate weeks).

    Ending: "until <date>"/"jusqu'au <date>"/"hasta el <date>" → UNTIL=<date>T235959 (LOCAL wall clock,
    the whole day included); "for N times"/"N times"/"N occurrences"/"N fois"/"N veces" → COUNT=N.

    A raw rule "FREQ=MONTHLY;BYDAY=2WE" or "RRULE:FREQ=..." is validated and returned upper-cased:
    FREQ DAILY/WEEKLY/MONTHLY/YEARLY with INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH,
    BYYEARDAY, BYWEEKNO, BYSETPOS, WKST (the time of day always comes from the series' start, so
    BYHOUR/BYMINUTE/BYSECOND and sub-daily frequencies are refused).

    Output is canonical: FREQ, INTERVAL (omitted when 1), BYDAY (sorted Monday first), BYMONTHDAY,
    COUNT, UNTIL. Raises only ParseError: "word" (unknown word), "number" (interval 1–999, count
    1–10000, day of month, weekday position 1–5/last), "date" (until date), "rule" (invalid raw rule,
    contradictions like "weekly on the second Wednesday" or both until and a count, or no frequency).
    """
    original = _nfc(text).strip()
    if _RAW_HINT.search(original):
        return _validate_raw(original)
    words = [word for word in _WORDS.findall(_fold(original)) if word not in _DASHES]
    if " ".join(words) in _ONE_OFF:
        if words or not original.strip(" \t-–—.;,"):
            return None
        raise ParseError("word", original)

    count: int | None = None
    if match := _COUNT_RE.search(original):
        count = _number_value(match["n"])
        if count is None or not 1 <= count <= MAX_COUNT:
            raise ParseError("number", match["n"])
        original = original[: match.start()] + " " + original[match.end() :]
    until: date | None = None
    if match := _UNTIL_RE.search(original):
        until, rest = _leading_date(match["date"])
        original = original[: match.start()] + " " + rest
    if count is not None and until is not None:
        raise ParseError("rule", text.strip())

    parts = _PhraseReader(_tokens(original)).read(text.strip())
    if count is not None:
        parts.append(f"COUNT={count}")
    if until is not None:
        parts.append(f"UNTIL={until:%Y%m%d}T235959")
    return ";".join(parts)


def _leading_date(text: str) -> tuple[date, str]:
    """The longest run of words at the start of `text` that is a date, and what follows it
    ("30 juin 2027 chaque semaine" -> (2027-06-30, " chaque semaine"))."""
    ends = [match.end() for match in re.finditer(r"\S+", text)]
    for end in reversed(ends):
        try:
            return _parse_date(text[:end]), text[end:]
        except ParseError:
            continue
    raise ParseError("date", text.strip())


def _number_value(word: str) -> int | None:
    folded = _fold(word)
    if folded.isascii() and folded.isdigit():
        return int(folded) if len(folded) <= 6 else MAX_COUNT * 10
    if folded == "once":
        return 11
    return _NUMBERS.get(folded)


def _tokens(text: str) -> list[_Tok]:
    folded = _fold(text)
    spans = [(m.start(), m.end()) for m in _WORDS.finditer(folded)]
    words = [folded[a:b] for a, b in spans]
    shown = [text[a:b] for a, b in spans]
    result: list[_Tok] = []
    index = 0
    while index < len(words):
        for width in range(min(_LONGEST_PHRASE, len(words) - index), 1, -1):
            phrase = _PHRASES.get(tuple(words[index : index + width]))
            if phrase is not None:
                joined = text[spans[index][0] : spans[index + width - 1][1]]
                result.append(dataclasses.replace(phrase, text=joined))
                index += width
                break
        else:
            following = words[index + 1] if index + 1 < len(words) else ""
            previous = words[index - 1] if index else ""
            result.append(_classify(words[index], shown[index], following, previous))
            index += 1
    return result


def _classify(word: str, shown: str, following: str, previous: str) -> _Tok:
    if word.isascii() and word.isdigit():
        if len(word) > 6:
            raise ParseError("number", shown)
        return _Tok("num", shown, num=int(word))
    if word == "once":  # Spanish eleven ("cada once semanas"), else English "once a week"
        return _Tok("num", shown, num=11) if following in _UNITS else _Tok("skip", shown)
    if word == "an":  # French year ("une fois par an", "tous les ans"), else the English article
        return (
            _Tok("unit", shown, freq=YEARLY)
            if previous in {"par", "chaque", "un", "1"}
            else _Tok("skip", shown)
        )
    if word in _NUMBERS:
        return _Tok("num", shown, num=_NUMBERS[word])
    if found := _ORDINAL_SUFFIX.fullmatch(word):
        return _Tok("ord", shown, num=int(found[1]))
    for candidate in (word, word.removesuffix("s")):
        if candidate in _ORDINALS:
            return _Tok("ord", shown, num=_ORDINALS[candidate])
    if word in _WEEKDAY_WORDS:
        return _Tok("wd", shown, days=(_WEEKDAY_WORDS[word],))
    if word in _UNITS:
        return _Tok("unit", shown, freq=_UNITS[word], fr_es_day=word in _FR_ES_DAYS)
    if word in _ADJECTIVES:
        freq, interval = _ADJECTIVES[word]
        return _Tok("freq", shown, freq=freq, interval=interval)
    if word in _DAY_SETS:
        return _Tok("days", shown, days=_DAY_SETS[word])
    if word in _OTHER:
        return _Tok("other", shown)
    if word == "sur":
        return _Tok("sur", shown)
    if word in _CONNECTORS:
        return _Tok("conn", shown)
    if word in _FILLERS:
        return _Tok("skip", shown)
    raise ParseError("word", shown)


class _PhraseReader:
    """Reads the significant tokens of a phrase left to right into FREQ/INTERVAL/BYDAY/BYMONTHDAY."""

    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = self._ranges(tokens)
        self.freq: str | None = None
        self.interval: int | None = None
        self.bydays: set[tuple[int | None, int]] = set()
        self.monthdays: set[int] = set()
        self.bare_number = False  # a day of the month given as a plain number ("le 15")
        self.text = ""

    @staticmethod
    def _ranges(tokens: list[_Tok]) -> list[_Tok]:
        """Join "Monday to Friday" / "du lundi au vendredi" / "Mon-Fri" into one set of days; drop
        connectors and fillers."""
        result: list[_Tok] = []
        index = 0
        gap = False
        while index < len(tokens):
            token = tokens[index]
            if (
                token.kind == "wd"
                and index + 2 < len(tokens)
                and tokens[index + 1].kind == "conn"
                and tokens[index + 2].kind == "wd"
            ):
                first, last = token.days[0], tokens[index + 2].days[0]
                span = (last - first) % 7
                days = tuple((first + i) % 7 for i in range(span + 1))
                result.append(_Tok("days", token.text, days=days, gap=gap))
                gap = False
                index += 3
                continue
            if token.kind in {"conn", "skip"}:
                gap = True
            else:
                result.append(dataclasses.replace(token, gap=gap))
                gap = False
            index += 1
        return result

    def _fail(self) -> ParseError:
        return ParseError("rule", self.text)

    def _set(self, freq: str, interval: int | None = None, shown: str = "") -> None:
        if self.freq is not None and self.freq != freq:
            raise self._fail()
        if interval is not None:
            if not 1 <= interval <= MAX_INTERVAL:
                raise ParseError("number", shown or str(interval))
            if self.interval is not None and self.interval != interval:
                raise self._fail()
            self.interval = interval
        self.freq = freq

    def _peek(self, index: int, kind: str) -> bool:
        return index < len(self.tokens) and self.tokens[index].kind == kind

    def _adjacent(self, index: int, kind: str) -> bool:
        return self._peek(index, kind) and not self.tokens[index].gap

    def _monthday(self, token: _Tok) -> None:
        if not (1 <= token.num <= 31 or token.num in (-1, -2)):
            raise ParseError("number", token.text)
        self.monthdays.add(token.num)

    def read(self, text: str) -> list[str]:
        self.text = text
        tokens = self.tokens
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            if token.kind == "num":
                index = self._after_number(token, index)
            elif token.kind == "ord":
                ordinals = [token]
                while self._peek(index, "ord"):
                    ordinals.append(tokens[index])
                    index += 1
                index = self._after_ordinals(ordinals, index)
            elif token.kind == "unit":
                if token.freq == DAILY and self._peek(index, "num"):  # "el día 15", "on day 15"
                    self._monthday(tokens[index])
                    index += 1
                elif self._peek(index, "sur") and self._peek(index + 1, "num"):  # "semaine sur deux"
                    self._set(token.freq, tokens[index + 1].num, tokens[index + 1].text)
                    index += 2
                else:
                    self._set(token.freq)
            elif token.kind == "freq":
                self._set(token.freq, token.interval, token.text)
            elif token.kind == "wd":
                self.bydays.add((None, token.days[0]))
                if self._peek(index, "sur") and self._peek(index + 1, "num"):  # "un mardi sur deux"
                    self._set(WEEKLY, tokens[index + 1].num, tokens[index + 1].text)
                    index += 2
            elif token.kind == "days":
                self.bydays.update((None, day) for day in token.days)
            elif token.kind == "other":
                if self._peek(index, "unit"):
                    self._set(tokens[index].freq, 2)
                    index += 1
                elif self._peek(index, "wd"):
                    self._set(WEEKLY, 2)
                else:
                    raise self._fail()
            else:  # a stray "sur"
                raise ParseError("word", token.text)
        return self._rule()

    def _after_number(self, token: _Tok, index: int) -> int:
        tokens = self.tokens
        if self._adjacent(index, "unit"):  # "every 2 weeks", "une semaine sur deux"
            unit = tokens[index]
            index += 1
            if self._peek(index, "sur") and self._peek(index + 1, "num"):  # "une semaine sur deux"
                if token.num != 1:
                    raise self._fail()
                self._set(unit.freq, tokens[index + 1].num, tokens[index + 1].text)
                return index + 2
            if unit.freq == DAILY and unit.fr_es_day and token.num in (8, 15):  # "tous les quinze jours"
                self._set(WEEKLY, 1 if token.num == 8 else 2)
            else:
                self._set(unit.freq, token.num, token.text)
            return index
        if token.num == 1 and self._peek(index, "wd"):  # "un mardi sur deux"
            if not (self._peek(index + 1, "sur") and self._peek(index + 2, "num")):
                raise self._fail()
            return index
        self._monthday(token)  # "le 15 de chaque mois"
        self.bare_number = True
        return index

    def _after_ordinals(self, ordinals: list[_Tok], index: int) -> int:
        tokens = self.tokens
        if self._peek(index, "wd"):  # "the first and third Monday"
            weekday = tokens[index].days[0]
            for ordinal in ordinals:
                if not (1 <= ordinal.num <= 5 or ordinal.num in (-1, -2)):
                    raise ParseError("number", ordinal.text)
                self.bydays.add((ordinal.num, weekday))
            self._set(MONTHLY)
            return index + 1
        if self._adjacent(index, "unit"):
            unit = tokens[index]
            if unit.freq == DAILY:  # "the last day", "the 15th day"
                for ordinal in ordinals:
                    self._monthday(ordinal)
            elif len(ordinals) == 1 and ordinals[0].num >= 1:  # "every second week"
                self._set(unit.freq, ordinals[0].num, ordinals[0].text)
            else:
                raise self._fail()
            return index + 1
        for ordinal in ordinals:  # "on the 15th", "on the 1st and 15th"
            self._monthday(ordinal)
        return index

    def _rule(self) -> list[str]:
        nth = {day for day in self.bydays if day[0] is not None}
        plain = self.bydays - nth
        freq = self.freq
        if freq is None:
            if self.bare_number:  # "15" alone says nothing about how often
                raise self._fail()
            if nth or self.monthdays:
                freq = MONTHLY
            elif plain:
                freq = WEEKLY
            else:
                raise self._fail()
        if freq in (DAILY, WEEKLY) and (nth or self.monthdays):
            raise self._fail()
        if freq == MONTHLY and (plain or (nth and self.monthdays)):
            raise self._fail()
        if freq == YEARLY and (self.bydays or self.monthdays):
            raise self._fail()
        parts = [f"FREQ={freq}"]
        if self.interval not in (None, 1):
            parts.append(f"INTERVAL={self.interval}")
        if self.bydays:
            ordered = sorted(self.bydays, key=lambda d: (d[1], (d[0] or 0) < 0, d[0] or 0))
            parts.append("BYDAY=" + ",".join(f"{n or ''}{_DAY_CODES[day]}" for n, day in ordered))
        if self.monthdays:
            parts.append(
                "BYMONTHDAY=" + ",".join(str(d) for d in sorted(self.monthdays, key=lambda d: (d < 0, d)))
            )
        return parts


# ---------------------------------------------------------------------------------------------------------
# Raw RRULE bodies

_RAW_KEYS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYYEARDAY", "BYWEEKNO"}
    | {"BYSETPOS", "WKST"}
)
_RAW_CHARS = re.compile(r"[A-Z0-9=;,+\-]+")
_UNTIL_VALUE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:T([0-9]{2})([0-9]{2})([0-9]{2})(Z?))?")
_BYDAY_VALUE = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_INT_LIST = re.compile(r"[+-]?[0-9]{1,3}(?:,[+-]?[0-9]{1,3})*")
_INT_RANGES = {"BYMONTHDAY": (31, True), "BYMONTH": (12, False), "BYYEARDAY": (366, True)}
_INT_RANGES |= {"BYWEEKNO": (53, True), "BYSETPOS": (366, True)}


def _validate_raw(text: str) -> str:
    """A raw RRULE body (optionally "RRULE:"-prefixed) → its canonical upper-case body."""
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:]
    body = re.sub(r"\s+", "", body).rstrip(";")
    if not body.isascii() or not _RAW_CHARS.fullmatch(body.upper()):
        raise ParseError("rule", text)
    return _canonical_raw(body.upper(), text)


@functools.lru_cache(maxsize=1024)
def _rule_parts(body: str) -> tuple[tuple[str, str], ...]:
    """The validated parts of an RRULE body, in order; ParseError("rule") when invalid."""
    canonical = _validate_raw(body)
    return tuple((key, value) for key, _, value in (part.partition("=") for part in canonical.split(";")))


def _canonical_raw(body: str, shown: str) -> str:
    parts: dict[str, str] = {}
    for part in body.split(";"):
        key, equals, value = part.partition("=")
        if not equals or key not in _RAW_KEYS or key in parts or not value:
            raise ParseError("rule", shown)
        parts[key] = value
    freq = parts.get("FREQ")
    if freq not in (DAILY, WEEKLY, MONTHLY, YEARLY):
        raise ParseError("rule", shown)
    if "COUNT" in parts and "UNTIL" in parts:
        raise ParseError("rule", shown)
    for key, (lowest, highest) in {"INTERVAL": (1, MAX_INTERVAL), "COUNT": (1, MAX_COUNT)}.items():
        if key in parts:
            value = parts[key]
            if not (value.isdigit() and len(value) <= 6 and lowest <= int(value) <= highest):
                raise ParseError("number" if value.isdigit() else "rule", value)
    if "UNTIL" in parts:
        _until_local(parts["UNTIL"], None, shown)
    for key, (limit, negative) in _INT_RANGES.items():
        if key in parts:
            if not _INT_LIST.fullmatch(parts[key]):
                raise ParseError("rule", shown)
            for number in map(int, parts[key].split(",")):
                if number == 0 or abs(number) > limit or (number < 0 and not negative):
                    raise ParseError("rule", shown)
    if "BYDAY" in parts:
        for item in parts["BYDAY"].split(","):
            found = _BYDAY_VALUE.fullmatch(item)
            if not found:
                raise ParseError("rule", shown)
            if found[1] is not None:
                position = int(found[1])
                if freq not in (MONTHLY, YEARLY) or position == 0 or abs(position) > 53:
                    raise ParseError("rule", shown)
    if "WKST" in parts and parts["WKST"] not in _DAY_CODES:
        raise ParseError("rule", shown)
    canonical = ";".join(f"{key}={value}" for key, value in parts.items())
    try:
        _make_rule(dict(parts), datetime(2000, 1, 3, 12, 0), None)
    except ParseError:
        raise
    except Exception:  # dateutil refuses it in its own words
        raise ParseError("rule", shown) from None
    return canonical


def _until_local(value: str, zone: ZoneInfo | None, shown: str) -> datetime:
    """An UNTIL value as a naive LOCAL datetime: "...Z" converted to the zone, a bare date → its last
    second (the whole day included)."""
    found = _UNTIL_VALUE.fullmatch(value)
    if not found:
        raise ParseError("rule", shown)
    try:
        year, month, day = int(found[1]), int(found[2]), int(found[3])
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(year)
        if found[4] is None:
            return datetime(year, month, day, 23, 59, 59)
        moment = datetime(year, month, day, int(found[4]), int(found[5]), int(found[6]))
    except ValueError:
        raise ParseError("rule", shown) from None
    if found[7] and zone is not None:
        try:
            return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
        except OverflowError:
            return moment
    return moment


def _with_defaults(parts: dict[str, str], start: datetime) -> dict[str, str]:
    """Make explicit what dateutil would take from DTSTART, so DTSTART can be moved (fast-forwarded)
    without changing the rule: the day of the month (MONTHLY, YEARLY), the month (YEARLY), and RFC
    5545's Monday week start instead of dateutil's process-wide default."""
    parts = dict(parts)
    parts.setdefault("WKST", "MO")
    if not any(key in parts for key in ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")):
        if parts["FREQ"] == YEARLY:
            parts.setdefault("BYMONTH", str(start.month))
            parts["BYMONTHDAY"] = str(start.day)
        elif parts["FREQ"] == MONTHLY:
            parts["BYMONTHDAY"] = str(start.day)
        elif parts["FREQ"] == WEEKLY:
            parts["BYDAY"] = _DAY_CODES[start.weekday()]
    return parts


def _make_rule(parts: dict[str, str], dtstart: datetime, zone: ZoneInfo | None) -> Iterable[datetime]:
    if "UNTIL" in parts:
        parts = dict(parts, UNTIL=f"{_until_local(parts['UNTIL'], zone, parts['UNTIL']):%Y%m%dT%H%M%S}")
    body = ";".join(f"{key}={value}" for key, value in parts.items())
    rule: Iterable[datetime] = rrulestr(body, dtstart=dtstart)
    return rule


def _shift_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last))


def _fast_forward(freq: str, interval: int, start: datetime, target: datetime) -> datetime:
    """A later DTSTART in the same phase of the rule (a whole number of intervals after `start`) whose
    first, possibly partial, period ends before `target`; `start` itself when there is no such one."""
    if target <= start:
        return start
    if freq in (DAILY, WEEKLY):
        step = interval * (7 if freq == WEEKLY else 1)
        periods = max(0, ((target - start).days - 8) // step)
        return start + timedelta(days=periods * step)
    if freq == MONTHLY:
        months = (target.year - start.year) * 12 + target.month - start.month - 2
        return _shift_months(start, max(0, months // interval) * interval)
    years = target.year - start.year - 2
    return _shift_months(start, max(0, years // interval) * interval * 12)


@functools.lru_cache(maxsize=1024)
def _never_matches(body: str, start: datetime) -> bool:
    """Whether the rule has no occurrence at all from `start` (dateutil would otherwise search up to year
    9999 on every query). The Gregorian calendar repeats every 400 years, and 400·INTERVAL years is a
    whole number of the rule's periods, so the rule is checked from a start moved that far ahead: one
    full cycle before year 9999 is enough, and cheap."""
    parts = _with_defaults(dict(_rule_parts(body)), start)
    parts.pop("COUNT", None)
    parts.pop("UNTIL", None)
    cycle = 400 * int(parts.get("INTERVAL", "1"))
    probe = start
    room = datetime.max.year - 1 - start.year - cycle
    if room >= cycle:
        probe = start.replace(year=start.year + room // cycle * cycle)
    return next(iter(_make_rule(parts, probe, None)), None) is None


# ---------------------------------------------------------------------------------------------------------
# Series and their occurrences


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


def _localise(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in `zone` → UTC. fold=0: a time in a spring-forward gap moves forward by
    the gap; an ambiguous autumn time is its first occurrence (still daylight-saving time)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Series:
    """An event's schedule. `start` is the naive LOCAL wall-clock start in `timezone`; its time of day
    is every occurrence's time of day.

    - `rrule` (an RRULE body, see parse_repeat): occurrences are the rule's dates from `start` on, as
      dateutil expands them. Note: when `start` itself does not match the rule it is not an occurrence
      (unlike RFC 5545's DTSTART), e.g. start on a Monday with "every Tuesday" begins the next day.
    - `dates`: explicit dates, each at `start`'s time of day (the date of `start` is then not an
      occurrence unless listed). With a rule too, both are used (like RDATE).
    - neither: a one-off at `start`.

    `cancelled` and `moved` are keyed by an occurrence's ORIGINAL UTC start (its identity); entries that
    are not occurrences of the series (e.g. left over from an edited rule) are ignored. A cancelled
    occurrence stays cancelled even if it is also in `moved`.

    Construction checks everything occurrences() relies on and raises ValueError (ParseError for a bad
    rule): a naive start, a known zone, years 1900–2200, duration >= 0, aware cancelled/moved times.
    """

    start: datetime
    timezone: str
    duration_minutes: int
    rrule: str | None = None
    dates: tuple[date, ...] = ()
    cancelled: frozenset[datetime] = frozenset()
    moved: Mapping[datetime, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None:
            raise ValueError("Series.start must be a naive local wall-clock datetime")
        for day in (self.start, *self.dates):
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise ValueError(f"Series dates must be between {MIN_YEAR} and {MAX_YEAR}")
        _zone(self.timezone)
        if self.duration_minutes < 0:
            raise ValueError("Series.duration_minutes must not be negative")
        if self.rrule:
            _rule_parts(self.rrule)
        for moment in (*self.cancelled, *self.moved.keys(), *self.moved.values()):
            _as_utc(moment, "cancelled and moved times")


@dataclass(frozen=True)
class Occurrence:
    original: datetime  # UTC start the schedule gives (the occurrence's identity, stable across reschedules)
    start: datetime  # UTC actual start (== original unless moved)
    end: datetime  # start + duration
    moved: bool


def _rule_starts(
    rrule: str, local_start: datetime, zone: ZoneInfo, after: datetime, before: datetime
) -> Iterator[datetime]:
    """The rule's UTC starts in [after, before), ascending."""
    start = local_start.replace(microsecond=0)
    if _never_matches(rrule, start):
        return
    parts = _with_defaults(dict(_rule_parts(rrule)), start)
    low = after.astimezone(zone).replace(tzinfo=None) - _MARGIN
    high = before.astimezone(zone).replace(tzinfo=None) + _MARGIN
    dtstart = start
    if "COUNT" not in parts:
        dtstart = _fast_forward(parts["FREQ"], int(parts.get("INTERVAL", "1")), start, low)
    for local in _make_rule(parts, dtstart, zone):
        if local > high:
            return
        if local >= low:
            moment = _localise(local, zone)
            if after <= moment < before:
                yield moment


def _scheduled(series: Series, after: datetime, before: datetime) -> Iterator[datetime]:
    """Every ORIGINAL UTC start in [after, before), ascending and unique, cancellations included."""
    after, before = max(after, _EARLIEST), min(before, _LATEST)
    if after >= before:
        return
    zone = _zone(series.timezone)
    at = series.start.replace(microsecond=0).time()
    sources: list[Iterable[datetime]] = []
    if series.dates:
        listed = (_localise(datetime.combine(day, at), zone) for day in series.dates)
        sources.append(sorted(moment for moment in listed if after <= moment < before))
    if series.rrule:
        sources.append(_rule_starts(series.rrule, series.start, zone, after, before))
    if not sources:
        moment = _localise(series.start.replace(microsecond=0), zone)
        sources.append([moment] if after <= moment < before else [])
    previous: datetime | None = None
    for moment in heapq.merge(*sources):
        if moment != previous:
            yield moment
            previous = moment


def _is_scheduled(series: Series, original: datetime) -> bool:
    return original in _scheduled(series, original, original + timedelta(microseconds=1))


def occurrences(series: Series, after: datetime, before: datetime, *, limit: int = 500) -> list[Occurrence]:
    """Occurrences whose ACTUAL start is in [after, before) (aware datetimes), sorted by start, at most
    `limit` (the earliest). Cancelled ones are left out; a moved one appears at its new time when that
    is in the window, and no longer at its original time."""
    after, before = _as_utc(after, "after"), _as_utc(before, "before")
    if limit <= 0 or after >= before:
        return []
    duration = timedelta(minutes=series.duration_minutes)
    cancelled = {_as_utc(moment, "cancelled") for moment in series.cancelled}
    moved = {_as_utc(old, "moved"): _as_utc(new, "moved") for old, new in series.moved.items()}
    found: list[Occurrence] = []
    for original in _scheduled(series, after, before):
        if original in cancelled or original in moved:
            continue
        found.append(Occurrence(original, original, original + duration, False))
        if len(found) >= limit:
            break
    for original, new in moved.items():
        if original not in cancelled and after <= new < before and _is_scheduled(series, original):
            found.append(Occurrence(original, new, new + duration, new != original))
    found.sort(key=lambda occurrence: (occurrence.start, occurrence.original))
    return found[:limit]


def next_occurrence(series: Series, after: datetime) -> Occurrence | None:
    """The first occurrence starting at or after `after`, or None when the series is over."""
    found = occurrences(series, after, _LATEST, limit=1)
    return found[0] if found else None


def occurrence_ids(series: Series, after: datetime, before: datetime, *, limit: int = 500) -> list[datetime]:
    """The ORIGINAL UTC starts (identities, for cancel/reschedule lookups) of the occurrences in the
    window, in the order of `occurrences`; cancelled ones excluded."""
    return [occurrence.original for occurrence in occurrences(series, after, before, limit=limit)]
