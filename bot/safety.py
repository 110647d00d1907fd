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


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters with an ellipsis, for titles and previews."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"
