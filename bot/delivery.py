"""Exactly-once sends for scheduled work, on top of the delivery ledger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.context import Context


async def deliver_once(ctx: Context, key: str, kind: str, send: Callable[[], Awaitable[Any]]) -> bool:
    """Claim `key`, send, mark sent. False when someone already did; a failed send frees the key."""
    ledger = ctx.services.deliveries
    if not await ledger.claim(key, kind, ctx.clock.now()):
        return False
    try:
        await send()
    except BaseException:
        await ledger.release(key)
        raise
    await ledger.mark_sent(key, ctx.clock.now())
    return True
