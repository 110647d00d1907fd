"""Exactly-once sends for scheduled work, on top of the delivery ledger.

While a claimed send runs, its key is in a context variable that the ports read: Slack stores it in
the message's metadata, Discord sends it as the message nonce (Discord itself refuses a second message
with the same nonce). When the claim was taken over from a process that died mid-send ("in doubt"),
`verify` is set and the port first looks for a message carrying the key, so the crash costs neither a
message nor a repeat. Each message a send posts gets its own tag (`key#1`, `key#2`, ...), in order.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from bot.context import Context
from storage.deliveries import Claim

log = logging.getLogger(__name__)


@dataclass
class DeliveryTag:
    key: str
    verify: bool  # a process died holding this claim: look on the platform before sending again
    posts: int = field(default=0)

    def next_tag(self) -> str:
        """The tag of the next message this send posts (stable across a re-run of the same send)."""
        self.posts += 1
        return f"{self.key}#{self.posts}"


_CURRENT: ContextVar[DeliveryTag | None] = ContextVar("iben_delivery", default=None)


def current_delivery() -> DeliveryTag | None:
    return _CURRENT.get()


def nonce(tag: str) -> str:
    """A tag as a Discord nonce (at most 25 characters)."""
    return hashlib.blake2b(tag.encode(), digest_size=12).hexdigest()[:25]


@contextmanager
def tagged(key: str, *, verify: bool) -> Iterator[DeliveryTag]:
    tag = DeliveryTag(key, verify)
    token = _CURRENT.set(tag)
    try:
        yield tag
    finally:
        _CURRENT.reset(token)


async def deliver_once(ctx: Context, key: str, kind: str, send: Callable[[], Awaitable[Any]]) -> bool:
    """Claim `key`, send, mark sent. False when someone already did; a failed send frees the key."""
    ledger = ctx.services.deliveries
    claim = await ledger.claim(key, kind, ctx.clock.now())
    telemetry = ctx.services.telemetry
    if claim is None:
        telemetry.delivery(kind, "skipped")
        return False
    if claim is Claim.IN_DOUBT:
        log.warning("delivery %s was claimed by a process that died; verifying before sending", key)
    try:
        with tagged(key, verify=claim is Claim.IN_DOUBT):
            await send()
    except BaseException:
        await ledger.release(key)
        telemetry.delivery(kind, "failed")
        raise
    await ledger.mark_sent(key, ctx.clock.now())
    telemetry.delivery(kind, "recovered" if claim is Claim.IN_DOUBT else "sent")
    return True
