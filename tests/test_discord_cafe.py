"""A World Café on Discord through the real discord.py client: /cafe sub-commands, the join button,
a thread per table, notes from gateway messages in those threads (only while open), the harvest file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.runtime import Runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.fakes.discord_server import ANNOUNCEMENTS_CHANNEL_ID, FakeDiscord
from tests.worlds import discord_world

PEOPLE = [9001, 9002, 9003, 9004]
BOSS = 9010


class World:
    def __init__(self, fake: FakeDiscord, runtime: Runtime) -> None:
        self.fake, self.runtime = fake, runtime

    async def cafe(self, sub: str, options: dict[str, str | int], *, user: int) -> dict[str, Any]:
        before = len(self.fake.followups)
        await self.fake.send_interaction("cafe", options, user_id=user, subcommand=sub)
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]

    async def press_join(self, *, user: int) -> dict[str, Any]:
        message = self.fake.message_with_component("iben:cafe.join:")
        custom_id = message["components"][0]["components"][0]["custom_id"]
        before = len(self.fake.followups)
        await self.fake.send_component(
            custom_id, user_id=user, channel_id=int(message["channel_id"]), message_id=int(message["id"])
        )
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    users = {user: f"user{user}" for user in [*PEOPLE, BOSS]}
    channels = {"announcements": ANNOUNCEMENTS_CHANNEL_ID}
    async with discord_world(sqlite_url, clock, users=users, channels=channels, admins=[BOSS]) as (
        fake,
        runtime,
    ):
        yield World(fake, runtime)


async def test_a_cafe_on_discord(world: World, clock: ManualClock) -> None:
    started = await world.cafe("start", {"template": "coordinators-2025-03"}, user=BOSS)
    assert started["content"].startswith(f"Café #1 is open in <#{ANNOUNCEMENTS_CHANNEL_ID}>.")
    for user in PEOPLE:
        assert (await world.press_join(user=user))["content"].startswith("Welcome!")
    assert (await world.cafe("next", {}, user=BOSS))["content"] == "Round 1 has started."

    tables = [t for t in world.fake.threads if t["name"].startswith("Table")]
    assert len(tables) == 1 and tables[0]["name"] == "Table 1 · round 1"
    thread_id = int(tables[0]["id"])
    handled = world.runtime.dispatcher.handled["message"]
    await world.fake.send_message(thread_id, "Shared planning time matters.", author_id=PEOPLE[0])
    await world.runtime.dispatcher.wait_handled("message", handled + 1)

    clock.advance(timedelta(minutes=5))
    scheduler = world.runtime.scheduler
    assert isinstance(scheduler, ManualScheduler)
    await scheduler.run_due(clock.now())
    assert any("tablecloth is closed" in m["content"] for m in world.fake.messages[thread_id])
    await world.fake.send_message(thread_id, "After the bell.", author_id=PEOPLE[1])
    await world.runtime.dispatcher.wait_handled("message", handled + 2)
    assert await world.runtime.services.cafes.note_count(1) == 1

    status = await world.cafe("status", {}, user=PEOPLE[0])
    assert "Round 2 of 4." in status["content"] and "You are at table 1." in status["content"]
    assert (await world.cafe("end", {}, user=BOSS))["content"] == "The café has ended; the harvest is posted."
    harvest = [
        m for m in world.fake.messages[ANNOUNCEMENTS_CHANNEL_ID] if m["content"].startswith("🍰 Harvest")
    ]
    assert len(harvest) == 1 and harvest[0]["attachments"][0]["filename"] == "cafe-1-harvest.md"
    data = world.fake.attachment_data[harvest[0]["attachments"][0]["id"]]
    assert b"Shared planning time matters." in data and b"After the bell." not in data
