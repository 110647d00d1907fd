"""Meet-ups on Discord through the real discord.py client: /meetups sub-commands with typed
options, a private thread per group (bots cannot open group DMs) with each member added, the intro
and its .ics in the thread, and the follow-up buttons, against the local fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from icalendar import Calendar

from adapters.runtime import Runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.fakes.discord_server import ANNOUNCEMENTS_CHANNEL_ID, FakeDiscord
from tests.meetup_people import WEDNESDAY_ROUND, pool
from tests.worlds import discord_world

IDS = {"ana": 7001, "ben": 7002, "chloe": 7003, "dev": 7004, "eve": 7005, "zoe": 7006}
BOSS = 7010


class World:
    def __init__(self, fake: FakeDiscord, runtime: Runtime) -> None:
        self.fake, self.runtime = fake, runtime

    async def meetups(self, sub: str, options: dict[str, str | int], *, user: int) -> dict[str, Any]:
        before = len(self.fake.followups)
        await self.fake.send_interaction("meetups", options, user_id=user, subcommand=sub)
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]

    async def press(self, message: dict[str, Any], label: str, *, user: int) -> dict[str, Any]:
        custom_id = next(
            c["custom_id"] for row in message["components"] for c in row["components"] if c["label"] == label
        )
        before = len(self.fake.followups)
        await self.fake.send_component(
            custom_id, user_id=user, channel_id=int(message["channel_id"]), message_id=int(message["id"])
        )
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]

    async def run_due(self) -> int:
        scheduler = self.runtime.scheduler
        assert isinstance(scheduler, ManualScheduler)
        return await scheduler.run_due(self.runtime.services.clock.now())


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    users = {**{v: k for k, v in IDS.items()}, BOSS: "boss"}
    channels = {"announcements": ANNOUNCEMENTS_CHANNEL_ID}
    async with discord_world(sqlite_url, clock, users=users, channels=channels, admins=[BOSS]) as (
        fake,
        runtime,
    ):
        await runtime.services.members.upsert_many(
            pool("discord", {k: str(v) for k, v in IDS.items()}), clock.now()
        )
        yield World(fake, runtime)


async def test_meetups_is_a_group_with_typed_options(world: World) -> None:
    command = next(c for c in world.fake.commands if c["name"] == "meetups")
    subs = {o["name"]: o for o in command["options"]}
    assert {"join", "pause", "leave", "status", "avoid", "unavoid", "schedule", "stats"} <= set(subs)
    join = {o["name"]: o["type"] for o in subs["join"]["options"]}
    assert join == {"every": 4, "size": 4}  # integers


async def test_a_round_on_discord_opens_private_threads_with_intro_ics_and_buttons(
    world: World, clock: ManualClock
) -> None:
    for key, user in IDS.items():
        options: dict[str, str | int] = {"every": 1, "size": 3} if key == "ben" else {}
        joined = await world.meetups("join", options, user=user)
        assert joined["content"].startswith("You're in!")
    bad = await world.meetups("join", {"every": 3}, user=IDS["ana"])
    assert bad["content"] == "Meet-ups run every 1, 2 or 4 weeks, not '3'."
    scheduled = await world.meetups(
        "schedule", {"when": "every week on wednesday at 15:00 Europe/London"}, user=BOSS
    )
    assert f"<t:{int(WEDNESDAY_ROUND.timestamp())}:f>" in scheduled["content"]

    clock.set(WEDNESDAY_ROUND)
    await world.run_due()
    private = [t for t in world.fake.threads if t["type"] == 12]
    assert len(private) == 2 and all(int(t["parent_id"]) == ANNOUNCEMENTS_CHANNEL_ID for t in private)
    members = [set(world.fake.thread_members[int(t["id"])]) for t in private]
    assert any({IDS["ana"], IDS["ben"]} <= m for m in members)
    assert any({IDS["chloe"], IDS["dev"]} <= m for m in members)
    ana_thread = next(t for t, m in zip(private, members, strict=True) if IDS["ana"] in m)
    posted = world.fake.messages[int(ana_thread["id"])]
    english = next(m for m in posted if m["content"].startswith("☕ Your job-alike meet-up"))
    assert f"<@{IDS['ben']}>" in english["content"] and english["content"].count("<t:") == 3
    ics = [a for m in posted for a in m.get("attachments", []) if a["filename"] == "meetup.ics"]
    assert len(ics) == 1
    assert len(Calendar.from_ical(world.fake.attachment_data[ics[0]["id"]]).walk("VEVENT")) == 3

    clock.set(WEDNESDAY_ROUND + timedelta(days=7))
    await world.run_due()
    followup = next(
        m for m in world.fake.messages[int(ana_thread["id"])] if m["content"].startswith("Did you")
    )
    answer = await world.press(followup, "Yes, we met", user=IDS["ben"])
    assert answer["content"] == "Wonderful, thank you! Glad you met."
    status = await world.meetups("status", {}, user=IDS["ben"])
    assert "same role (Examiner) and subject (Biology)" in status["content"]
