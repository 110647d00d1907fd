"""Meet-ups on Slack through the real Bolt app: signed slash commands, a group DM per group
(conversations.open with every member), the intro and its .ics in that DM, the follow-up buttons
(block_actions), all against the local fake Web API with an injected clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from icalendar import Calendar

from adapters.runtime import Runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import block_action_body, sign, slash_command_body
from tests.meetup_people import WEDNESDAY_ROUND, pool
from tests.worlds import slack_world

SECRET = "meetup-secret"
IDS = {"ana": "UANA", "ben": "UBEN", "chloe": "UCHLOE", "dev": "UDEV", "eve": "UEVE", "zoe": "UZOE"}


class World:
    def __init__(self, fake: FakeSlackAPI, runtime: Runtime, url: str, http: aiohttp.ClientSession) -> None:
        self.fake, self.runtime, self.url, self.http = fake, runtime, url, http
        self.n = 0

    async def post(self, body: str) -> int:
        async with self.http.post(self.url, data=body, headers=sign(SECRET, body, int(time.time()))) as r:
            return r.status

    async def command(self, text: str, *, user: str) -> dict[str, Any]:
        self.n += 1
        before = len(self.fake.responses)
        body = slash_command_body(
            "/meetups",
            text,
            user_id=user,
            channel_id="CGEN",
            response_url=self.fake.response_url(f"r{self.n}"),
            trigger_id=f"trig-{self.n}",
        )
        assert await self.post(body) == 200
        return (await self.fake.wait_for_responses(before + 1))[before]

    async def press(self, message: dict[str, Any], label: str, *, user: str) -> dict[str, Any]:
        buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
        button = next(b for b in buttons if b["text"]["text"] == label)
        self.n += 1
        before = len(self.fake.responses)
        body = block_action_body(
            button["action_id"],
            button["value"],
            user_id=user,
            channel_id=message["channel"],
            response_url=self.fake.response_url(f"b{self.n}"),
            trigger_id=f"btn-{self.n}",
            message_ts=message["ts"],
        )
        assert await self.post(body) == 200
        return (await self.fake.wait_for_responses(before + 1))[before]

    async def run_due(self) -> int:
        scheduler = self.runtime.scheduler
        assert isinstance(scheduler, ManualScheduler)
        return await scheduler.run_due(self.runtime.services.clock.now())


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    users = {**{u: "en-GB" for u in IDS.values()}, "UBOSS": "en-GB"}
    started = slack_world(
        sqlite_url, clock, secret=SECRET, users=users, channels={"announcements": "CANN"}, admins=["UBOSS"]
    )
    async with started as (fake, runtime, url, http):
        await runtime.services.members.upsert_many(pool("slack", IDS), clock.now())
        yield World(fake, runtime, url, http)


async def test_a_round_on_slack_opens_group_dms_with_intro_ics_and_follow_up_buttons(
    world: World, clock: ManualClock
) -> None:
    for key, user in IDS.items():
        joined = await world.command("join every 1 weeks groups of 3" if key == "ben" else "join", user=user)
        assert joined["response_type"] == "ephemeral"
    refused = await world.command("schedule every week on wednesday at 15:00 Europe/London", user="UANA")
    assert refused["text"] == "Only network admins can use /meetups schedule."
    scheduled = await world.command("schedule every week on wednesday at 15:00 Europe/London", user="UBOSS")
    assert "First round: <!date^" in scheduled["text"]

    clock.set(WEDNESDAY_ROUND - timedelta(hours=24))
    await world.run_due()
    announcement = [m for m in world.fake.messages if m["channel"] == "CANN"][-1]
    assert f"<!date^{int(WEDNESDAY_ROUND.timestamp())}^" in announcement["text"]

    clock.set(WEDNESDAY_ROUND)
    await world.run_due()
    opened = [set(str(c["users"]).split(",")) for c in world.fake.calls_to("conversations.open")]
    groups = [users for users in opened if len(users) >= 2]
    assert len(groups) == 2
    assert any({"UANA", "UBEN"} <= g for g in groups) and any({"UCHLOE", "UDEV"} <= g for g in groups)
    group_channels = {m["channel"] for m in world.fake.messages if str(m["channel"]).startswith("G")}
    assert len(group_channels) == 2
    intros = [m for m in world.fake.messages if m["channel"] in group_channels]
    english = next(
        m for m in intros if m["text"].startswith("☕ Your job-alike meet-up") and "<@UANA>" in m["text"]
    )
    assert "<@UBEN>" in english["text"] and english["text"].count("<!date^") == 3
    uploads = [u for u in world.fake.uploads.values() if u["channel"] in group_channels]
    assert len(uploads) == 2 and all(u["filename"] == "meetup.ics" for u in uploads)
    assert len(Calendar.from_ical(uploads[0]["data"]).walk("VEVENT")) == 3
    sitout = [m for m in world.fake.messages if m["channel"].startswith("D") and "sits out" not in m["text"]]
    assert any("Nobody in this round shares at least an hour" in m["text"] for m in sitout)

    clock.set(WEDNESDAY_ROUND + timedelta(days=7))
    await world.run_due()
    followup = next(
        m
        for m in world.fake.messages
        if m["channel"] == english["channel"] and m["text"].startswith("Did you meet?")
    )
    answer = await world.press(followup, "Yes, we met", user="UBEN")
    assert answer["text"] == "Wonderful, thank you! Glad you met." and answer["response_type"] == "ephemeral"
    stranger = await world.press(followup, "Yes, we met", user="UDEV")
    assert stranger["text"] == "This button is not for you."
    stats = await world.command("stats", user="UBOSS")
    assert "Met: 100% of groups that answered (1 of 1)" in stats["text"]
