"""The delivery ledger: scheduled work claims a unique key before it sends, so nothing goes out twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Delivery


class DeliveryLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, key: str, kind: str, at: datetime) -> bool:
        """True for exactly one caller per key, whichever process or retry it is."""
        try:
            async with self._db.sessions() as session, session.begin():
                session.add(Delivery(key=key, kind=kind, claimed_at=at))
            return True
        except IntegrityError:
            return False

    async def claim_many(self, keys: Sequence[str], kind: str, at: datetime) -> set[str]:
        """Claim several keys in one statement; returns those this call claimed (the others were
        already claimed by someone)."""
        if not keys:
            return set()
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        stmt = (
            insert(Delivery)
            .values([{"key": k, "kind": kind, "claimed_at": at} for k in dict.fromkeys(keys)])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Delivery.key)
        )
        async with self._db.sessions() as session, session.begin():
            return set((await session.execute(stmt)).scalars())

    async def mark_sent_many(self, keys: Sequence[str], at: datetime) -> None:
        if not keys:
            return
        async with self._db.sessions() as session, session.begin():
            await session.execute(update(Delivery).where(Delivery.key.in_(list(keys))).values(sent_at=at))

    async def mark_sent(self, key: str, at: datetime) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(update(Delivery).where(Delivery.key == key).values(sent_at=at))

    async def release(self, key: str) -> None:
        """Undo a claim whose send failed, so the retry may claim it again."""
        async with self._db.sessions() as session, session.begin():
            await session.execute(delete(Delivery).where(Delivery.key == key, Delivery.sent_at.is_(None)))

    async def sent_at(self, key: str) -> datetime | None:
        async with self._db.sessions() as session:
            stmt = select(Delivery.sent_at).where(Delivery.key == key)
            return (await session.execute(stmt)).scalar_one_or_none()
