"""Catalogs: the template matches the source, French and Spanish translate every message and keep
every placeholder, so no reader ever sees an English fallback or a broken `{name}`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Translator, normalize_locale, pick_locale

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("bot/**.py", "python"), ("adapters/**.py", "python")]
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _ids(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


def test_the_template_lists_exactly_the_messages_in_the_source() -> None:
    extracted: set[object] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS):
        extracted.add(message if isinstance(message, str) else next(iter(message)))
    template = {m if isinstance(m, str) else m[0] for m in _ids(_read(ROOT / "bot/locale/messages.pot"))}
    assert extracted == template, "run `make messages` to refresh bot/locale"


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    template = _read(ROOT / "bot/locale/messages.pot")
    catalog = _read(ROOT / f"bot/locale/{lang}/LC_MESSAGES/messages.po", lang)
    assert _ids(catalog) >= _ids(template)
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert "fuzzy" not in message.flags, message.id
        assert all(strings), f"{lang}: untranslated {message.id!r}"
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == wanted, f"{lang}: placeholders differ in {s!r}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("fr-FR", "fr"),
        ("es_419", "es"),
        ("ES", "es"),
        ("en-GB", "en"),
        ("de-DE", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_platform_locales_map_to_a_shipped_language(raw: str | None, expected: str) -> None:
    assert normalize_locale(raw) == expected


def test_the_first_supported_candidate_wins_then_the_network_default() -> None:
    assert pick_locale(["pt-BR", "es-MX"], "fr") == "es"
    assert pick_locale(["pt-BR", None], "fr") == "fr"


def test_plural_forms_follow_each_language() -> None:
    one, many = "{count} member matches {what}", "{count} members match {what}"
    assert Translator("fr").ngettext(one, many, 1) == "{count} membre correspond à {what}"
    assert (
        Translator("fr").ngettext(one, many, 0) == "{count} membre correspond à {what}"
    )  # French: 0 is singular
    assert Translator("es").ngettext(one, many, 0) == "{count} miembros coinciden con {what}"
    assert Translator("es").ngettext(one, many, 3) == "{count} miembros coinciden con {what}"
