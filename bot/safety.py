"""Neutralising user text that the bot repeats, so a question can never ping a crowd.

Adapters escape platform markup first; this module removes what is dangerous on every platform
(plain-text mass mentions), so even a platform that parses `@here` in bot text stays quiet.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_MASS = re.compile(r"@(everyone|here|channel|all)", re.IGNORECASE)  # no \b: "@everyone_" pings too


def defuse_mass_mentions(text: str) -> str:
    """`@everyone` → `@\u200beveryone`: reads the same, notifies nobody."""
    return _MASS.sub(lambda m: "@" + ZWSP + m.group(1), text)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL refuses it), lone surrogates (UTF-8 too)


def storable(text: str) -> str:
    """Text every database and platform accepts: a lone surrogate (a JSON `\\ud800` escape) becomes
    U+FFFD and NUL is dropped; everything else is kept as typed."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters with an ellipsis, for titles and previews."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


MAX_ID_DIGITS = 18  # fits a 64-bit database integer


def as_id(value: object) -> int | None:
    """A database id typed by a member or round-tripped in a button: plain ASCII digits that fit a
    64-bit integer, else None. (`"²".isdigit()` is true and `int("²")` raises; a huge number overflows
    the database driver.)"""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**MAX_ID_DIGITS else None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        return None
    return int(text)
