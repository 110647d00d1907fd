"""Micro-batching: submissions in the same event-loop pass run as one batch, each item keeps its own
outcome, and a batch that fails as a whole fails every item (so each job retries)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.batching import MicroBatch


async def test_items_submitted_together_run_as_one_batch_with_their_own_outcomes() -> None:
    batches: list[list[int]] = []

    async def run(items: Sequence[int]) -> list[BaseException | None]:
        batches.append(list(items))
        return [ValueError(f"bad {i}") if i == 3 else None for i in items]

    batch: MicroBatch[int] = MicroBatch(run, limit=4)
    results = await asyncio.gather(*(batch.submit(i) for i in range(6)), return_exceptions=True)
    assert batches == [[0, 1, 2, 3], [4, 5]]  # one pass, split at the limit
    assert [type(r).__name__ if r else None for r in results] == [None, None, None, "ValueError", None, None]
    await batch.submit(9)  # a later submission gets a batch of its own
    assert batches[-1] == [9]


async def test_a_batch_that_fails_as_a_whole_fails_each_item() -> None:
    async def run(items: Sequence[int]) -> list[BaseException | None]:
        raise RuntimeError("database down")

    batch: MicroBatch[int] = MicroBatch(run)
    results = await asyncio.gather(batch.submit(1), batch.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError):
        await batch.submit(3)
