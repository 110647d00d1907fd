"""Translation layer: gettext catalogs (Babel) for English, French and Spanish.

Message ids are the English text. Catalogs ship as .po files and are compiled in memory at start-up,
so there is no build step and no binary file to keep in sync.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from io import BytesIO
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "fr", "es")
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (declared at import time)."""
    return message


def normalize_locale(value: str | None, default: str = DEFAULT_LOCALE) -> str:
    """`fr-FR`, `es_419`, `FR` → a supported language code, else the default."""
    if value:
        lang = value.replace("_", "-").split("-")[0].lower()
        if lang in SUPPORTED_LOCALES:
            return lang
    return default


def pick_locale(candidates: Iterable[str | None], default: str = DEFAULT_LOCALE) -> str:
    """The first candidate that is a supported language."""
    for candidate in candidates:
        if candidate and normalize_locale(candidate, "") in SUPPORTED_LOCALES:
            return normalize_locale(candidate)
    return normalize_locale(default)


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog for a language (English is the message ids themselves)."""
    lang = normalize_locale(locale)
    if lang == "en":
        return gettext.NullTranslations()
    po_path = resources.files("bot") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


class Translator:
    """Per-reader helper: translate, and format dates and times for one language."""

    def __init__(self, locale: str) -> None:
        self.locale = normalize_locale(locale)
        self._t = translations(self.locale)

    def gettext(self, message: str) -> str:
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def time_in(self, when: datetime, tz: str) -> str:
        """Clock time at `when` in zone `tz`, e.g. `14:05`, in this reader's conventions."""
        return format_time(when.astimezone(ZoneInfo(tz)), format="short", locale=Locale.parse(self.locale))

    def datetime_in(self, when: datetime, tz: str) -> str:
        """Date and time with the zone name, for fallbacks where no native token exists."""
        local = when.astimezone(ZoneInfo(tz))
        text = format_datetime(local, format="medium", locale=Locale.parse(self.locale))
        return f"{text} ({tz})"
