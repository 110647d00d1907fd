"""Database URL handling: the configured URL, turned into the async driver the bot uses."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def async_url(url: str) -> URL:
    """`sqlite:///x.db` → aiosqlite, `postgresql://` → asyncpg (what the bot's sessions use)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return u.set(drivername="sqlite+aiosqlite")
    if u.get_backend_name() == "postgresql":
        return u.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {u.get_backend_name()!r}: use sqlite or postgresql")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"
