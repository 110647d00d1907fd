"""Monospace cells and chart fonts shared by the text reports (school report, Q&A stats)."""

from __future__ import annotations

import unicodedata
from functools import cache

FALLBACK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans", "Arial Unicode MS")


def width(text: str) -> int:
    """Columns a string takes in a monospace font (wide East Asian letters take two, accents none)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def shorten(text: str, limit: int) -> str:
    """Keep a column narrow: cut to `limit` columns, ending in an ellipsis."""
    if width(text) <= limit:
        return text
    while width(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def pad(text: str, columns: int, right: bool) -> str:
    fill = " " * (columns - width(text))
    return fill + text if right else text + fill


@cache
def font_families() -> tuple[str, ...]:
    """DejaVu (bundled with matplotlib) first, then any installed font that covers other scripts."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in FALLBACK_FONTS if name in installed))
