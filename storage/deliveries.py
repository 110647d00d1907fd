"""The delivery ledger: scheduled work claims a unique key before it sends, so nothing goes out twice.

A claim records its owner (this process's instance key, storage/lease.py). A claim still unsent whose
owner has died (killed between claiming and marking) is "in doubt": the message may or may not have
reached the platform. The next run of the same work takes it over and sends it in verify mode (the
port first asks the platform whether a message with that key arrived: bot/delivery.py), so a crash
neither loses nor repeats it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.lease import Lease
from storage.models import Delivery

log = logging.getLogger(__name__)


class Claim(StrEnum):
    NEW = "new"  # nobody claimed it before: send
    IN_DOUBT = "in_doubt"  # claimed by a process that died before marking it: verify, then send


@dataclass(frozen=True)
class Claims:
    """What one `claim_many` got: keys to send, and which of them must be verified first."""

    new: frozenset[str] = field(default_factory=frozenset)
    in_doubt: frozenset[str] = field(default_factory=frozenset)

    def __contains__(self, key: object) -> bool:
        return key in self.new or key in self.in_doubt

    def get(self, key: str) -> Claim | None:
        if key in self.new:
            return Claim.NEW
        return Claim.IN_DOUBT if key in self.in_doubt else None


class DeliveryLedger:
    def __init__(self, db: Database, lease: Lease | None = None) -> None:
        self._db = db
        self._lease = lease or Lease(db, lock_id=0)

    @property
    def owner(self) -> int:
        return self._lease.instance_key

    async def claim(self, key: str, kind: str, at: datetime) -> Claim | None:
        """Claim.NEW for exactly one caller per key, whichever process or retry it is; Claim.IN_DOUBT
        when a dead process's unsent claim was taken over; None when it was sent or is being sent."""
        return (await self.claim_many([key], kind, at)).get(key)

    async def claim_many(self, keys: Sequence[str], kind: str, at: datetime) -> Claims:
        """Claim several keys in one statement, then take over the in-doubt ones among the rest."""
        if not keys:
            return Claims()
        unique = list(dict.fromkeys(keys))
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        stmt = (
            insert(Delivery)
            .values([{"key": k, "kind": kind, "claimed_at": at, "owner": self.owner} for k in unique])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Delivery.key)
        )
        async with self._db.sessions() as session, session.begin():
            new = frozenset((await session.execute(stmt)).scalars())
        rest = [k for k in unique if k not in new]
        return Claims(new, await self._take_over(rest, at) if rest else frozenset())

    async def _take_over(self, keys: Sequence[str], at: datetime) -> frozenset[str]:
        async with self._db.sessions() as session:
            stmt = select(Delivery.key, Delivery.owner).where(
                Delivery.key.in_(list(keys)), Delivery.sent_at.is_(None)
            )
            unsent: list[tuple[str, int | None]] = [(k, o) for k, o in await session.execute(stmt)]
        if not unsent:
            return frozenset()
        living = await self._lease.alive(owner for _, owner in unsent)
        taken: set[str] = set()
        for owner in {o for _, o in unsent if o not in living}:
            mine = [k for k, o in unsent if o == owner]
            async with self._db.sessions() as session, session.begin():
                owner_is = Delivery.owner.is_(None) if owner is None else Delivery.owner == owner
                result = await session.execute(
                    update(Delivery)
                    .where(Delivery.key.in_(mine), owner_is, Delivery.sent_at.is_(None))
                    .values(owner=self.owner, claimed_at=at)
                    .returning(Delivery.key)
                )
                taken.update(result.scalars())
        if taken:
            log.warning("took over %d deliveries left in doubt by a process that died", len(taken))
        return frozenset(taken)

    async def mark_sent_many(self, keys: Sequence[str], at: datetime) -> None:
        if not keys:
            return
        async with self._db.sessions() as session, session.begin():
            await session.execute(update(Delivery).where(Delivery.key.in_(list(keys))).values(sent_at=at))

    async def mark_sent(self, key: str, at: datetime) -> None:
        await self.mark_sent_many([key], at)

    async def release(self, key: str) -> None:
        """Undo a claim whose send failed, so the retry may claim it again."""
        async with self._db.sessions() as session, session.begin():
            await session.execute(delete(Delivery).where(Delivery.key == key, Delivery.sent_at.is_(None)))

    async def sent_at(self, key: str) -> datetime | None:
        async with self._db.sessions() as session:
            stmt = select(Delivery.sent_at).where(Delivery.key == key)
            return (await session.execute(stmt)).scalar_one_or_none()
