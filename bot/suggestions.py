"""The one way the bot says it did not recognise a word, with the catalogue's closest terms."""

from __future__ import annotations

from collections.abc import Callable

from bot.catalog import Unknown
from bot.i18n import Translator


def unknown_word(word: Unknown, t: Translator, escape: Callable[[str], str] = str) -> str:
    """`I don't know 'biolgy'. Did you mean: Biology?` in the reader's language; the word is user text."""
    text = escape(word.text)
    if word.suggestions:
        names = ", ".join(s.name(t.locale) for s in word.suggestions)
        return t.gettext("I don't know '{word}'. Did you mean: {names}?").format(word=text, names=names)
    return t.gettext("I don't know '{word}'.").format(word=text)
