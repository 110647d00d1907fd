"""The calendar on Discord through the real discord.py client: /events sub-commands, the admin's
modal, `<t:…>` tokens, RSVP buttons, reminders in the channel and by DM, against the local fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.runtime import Runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.fakes.discord_server import ANNOUNCEMENTS_CHANNEL_ID, FakeDiscord
from tests.worlds import discord_world

ANA, BOSS = 8001, 8002
START = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


class World:
    def __init__(self, fake: FakeDiscord, runtime: Runtime) -> None:
        self.fake, self.runtime = fake, runtime

    async def events(self, sub: str, options: dict[str, str | int], *, user: int) -> dict[str, Any]:
        before = len(self.fake.followups)
        await self.fake.send_interaction("events", options, user_id=user, subcommand=sub)
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]

    async def press(self, message: dict[str, Any], label: str, *, user: int) -> dict[str, Any]:
        custom_id = next(
            c["custom_id"] for row in message["components"] for c in row["components"] if c["label"] == label
        )
        stored = self.fake.message_with_component(custom_id)
        before = len(self.fake.followups)
        await self.fake.send_component(custom_id, user_id=user, message_id=int(stored["id"]))
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    users = {ANA: "ana", BOSS: "boss"}
    channels = {"announcements": ANNOUNCEMENTS_CHANNEL_ID}
    async with discord_world(sqlite_url, clock, users=users, channels=channels, admins=[BOSS]) as (
        fake,
        runtime,
    ):
        yield World(fake, runtime)


async def test_create_in_a_modal_list_rsvp_and_remind_on_discord(world: World, clock: ManualClock) -> None:
    refused = await world.events("add", {}, user=ANA)
    assert refused["content"] == "Only network admins can use /events add."
    await world.fake.send_interaction("events", {}, user_id=BOSS, subcommand="add")
    await world.fake.wait_for(lambda f: any(c["type"] == 9 for c in f.interaction_callbacks))
    modal = next(c for c in world.fake.interaction_callbacks if c["type"] == 9)["data"]
    assert modal["custom_id"] == "iben:form:event"
    before = len(world.fake.followups)
    values = {"title": "Coordinators chat", "start": "2026-03-11 15:00 Europe/London",
              "repeat": "April 29, 2026; March 11, 2026", "duration": "60", "description": ""}  # fmt: skip
    await world.fake.send_modal_submit("iben:form:event", values, user_id=BOSS)
    await world.fake.wait_for(lambda f: len(f.followups) > before)
    assert world.fake.followups[before]["content"].startswith("Created event #1: Coordinators chat.")

    listing = await world.events("list", {}, user=ANA)
    assert f"<t:{int(START.timestamp())}:f>" in listing["content"]
    assert f"<#{ANNOUNCEMENTS_CHANNEL_ID}>" in listing["content"]
    assert "2: going" in [c["label"] for row in listing["components"] for c in row["components"]]
    answer = await world.press(listing, "1: going", user=ANA)
    assert answer["content"].startswith("You're going to Coordinators chat on <t:")
    mine = await world.events("mine", {}, user=ANA)
    assert mine["content"].startswith("Your events:")

    scheduler = world.runtime.scheduler
    assert isinstance(scheduler, ManualScheduler)
    clock.set(START - timedelta(hours=1))
    await scheduler.run_due(clock.now())  # the 24 h one is far behind: skipped; the 1 h one goes out
    channel = world.fake.messages.get(ANNOUNCEMENTS_CHANNEL_ID, [])
    assert [m["content"].split(" starts ")[0] for m in channel] == ["⏰ Coordinators chat"]
    assert "(in 1 hour)" in channel[0]["content"]
    dm_channel = world.fake.dm_channels[ANA]
    dms = world.fake.messages[int(dm_channel["id"])]
    assert any("You said you are going." in m["content"] for m in dms)

    moved = await world.events(
        "move", {"event": 1, "date": "2026-04-29", "to": "2026-04-30 15:00"}, user=BOSS
    )
    assert moved["content"].startswith("Moved Coordinators chat to <t:")
