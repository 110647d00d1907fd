"""A World Café on Slack through the real Bolt app: the admin's signed /cafe start, joining with the
announcement's button (block_actions), tablecloths as threads, notes from `message` events in those
threads (counted only while open), and the harvest uploaded as a Markdown file."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from adapters.runtime import Runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import block_action_body, event_body, sign, slash_command_body
from tests.worlds import slack_world

SECRET = "cafe-secret"
PEOPLE = ["UANA", "UBEN", "UCHLOE", "UDEV"]


class World:
    def __init__(self, fake: FakeSlackAPI, runtime: Runtime, url: str, http: aiohttp.ClientSession) -> None:
        self.fake, self.runtime, self.url, self.http = fake, runtime, url, http
        self.n = 0

    async def post(self, body: str) -> None:
        async with self.http.post(self.url, data=body, headers=sign(SECRET, body, int(time.time()))) as r:
            assert r.status == 200

    async def command(self, text: str, *, user: str) -> dict[str, Any]:
        self.n += 1
        before = len(self.fake.responses)
        await self.post(
            slash_command_body(
                "/cafe",
                text,
                user_id=user,
                channel_id="CGEN",
                response_url=self.fake.response_url(f"r{self.n}"),
                trigger_id=f"t{self.n}",
            )
        )
        return (await self.fake.wait_for_responses(before + 1))[before]

    async def press(self, message: dict[str, Any], *, user: str) -> dict[str, Any]:
        button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"])
        self.n += 1
        before = len(self.fake.responses)
        await self.post(
            block_action_body(
                button["action_id"],
                button["value"],
                user_id=user,
                channel_id=message["channel"],
                response_url=self.fake.response_url(f"b{self.n}"),
                trigger_id=f"b{self.n}",
                message_ts=message["ts"],
            )
        )
        return (await self.fake.wait_for_responses(before + 1))[before]

    async def say(self, user: str, text: str, thread_ts: str, ts: str) -> None:
        handled = self.runtime.dispatcher.handled["message"]
        event = {
            "type": "message",
            "channel": "CCAFE",
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
        }
        await self.post(event_body(event, event_id=f"Ev{ts}"))
        await self.runtime.dispatcher.wait_handled("message", handled + 1)


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    users = {u: "en-GB" for u in [*PEOPLE, "UBOSS"]}
    started = slack_world(
        sqlite_url, clock, secret=SECRET, users=users, channels={"announcements": "CANN"}, admins=["UBOSS"]
    )
    async with started as (fake, runtime, url, http):
        yield World(fake, runtime, url, http)


async def test_a_cafe_on_slack(world: World, clock: ManualClock) -> None:
    started = await world.command("start coordinators-2025-03 in <#CCAFE|cafe>", user="UBOSS")
    assert started["text"].startswith("Café #1 is open in <#CCAFE>.")
    announcement = next(m for m in world.fake.messages if m["channel"] == "CCAFE")
    for user in PEOPLE:
        joined = await world.press(announcement, user=user)
        assert joined["text"].startswith("Welcome!") and joined["response_type"] == "ephemeral"
    assert (await world.command("next", user="UBOSS"))["text"] == "Round 1 has started."

    tables = [m for m in world.fake.messages if m["channel"] == "CCAFE" and m["text"].startswith("🧺 Table")]
    assert len(tables) == 1 and all(f"<@{u}>" in tables[0]["text"] for u in PEOPLE)  # four a table
    await world.say("UANA", "We need time to plan together.", tables[0]["ts"], "1800000000.000100")
    clock.advance(timedelta(minutes=5))
    scheduler = world.runtime.scheduler
    assert isinstance(scheduler, ManualScheduler)
    await scheduler.run_due(clock.now())
    closed = [
        m for m in world.fake.messages if m.get("thread_ts") == tables[0]["ts"] and "closed" in m["text"]
    ]
    assert len(closed) == 1
    await world.say("UBEN", "Too late for round 1.", tables[0]["ts"], "1800000000.000200")
    assert await world.runtime.services.cafes.note_count(1) == 1

    ended = await world.command("end", user="UBOSS")
    assert ended["text"] == "The café has ended; the harvest is posted."
    harvest = [
        m for m in world.fake.messages if m["channel"] == "CCAFE" and m["text"].startswith("🍰 Harvest")
    ]
    assert len(harvest) == 1 and "1 contribution from 1 person." in harvest[0]["text"]
    upload = next(u for u in world.fake.uploads.values() if u["filename"] == "cafe-1-harvest.md")
    assert upload["channel"] == "CCAFE" and b"We need time to plan together." in upload["data"]
    assert b"Too late" not in upload["data"]
