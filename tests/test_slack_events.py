"""The calendar on Slack through the real Bolt app: an admin creates a meeting in a modal (errors stay
in it), members list with `<!date^…>` tokens and RSVP with buttons, reminders reach the channel and
the DMs of those going, and the HTTP mode serves an .ics feed per channel."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from icalendar import Calendar

from adapters.runtime import Runtime
from adapters.slack.adapter import EVENTS_PATH
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import block_action_body, sign, slash_command_body, view_submission_body
from tests.worlds import slack_world

SECRET = "events-secret"
START = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


class World:
    def __init__(self, fake: FakeSlackAPI, runtime: Runtime, base: str, http: aiohttp.ClientSession) -> None:
        self.fake, self.runtime, self.base, self.http = fake, runtime, base, http
        self.n = 0

    async def post(self, body: str) -> tuple[int, str]:
        async with self.http.post(
            self.base + EVENTS_PATH, data=body, headers=sign(SECRET, body, int(time.time()))
        ) as r:
            return r.status, await r.text()

    async def command(self, text: str, *, user: str) -> dict[str, Any]:
        self.n += 1
        before = len(self.fake.responses)
        body = slash_command_body(
            "/events",
            text,
            user_id=user,
            channel_id="CGEN",
            response_url=self.fake.response_url(f"r{self.n}"),
            trigger_id=f"trig-{self.n}",
        )
        assert (await self.post(body))[0] == 200
        return (await self.fake.wait_for_responses(before + 1))[before]

    async def press(self, reply: dict[str, Any], label: str, *, user: str) -> dict[str, Any]:
        buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
        button = next(b for b in buttons if b["text"]["text"] == label)
        self.n += 1
        before = len(self.fake.responses)
        body = block_action_body(
            button["action_id"],
            button["value"],
            user_id=user,
            channel_id="CGEN",
            response_url=self.fake.response_url(f"b{self.n}"),
            trigger_id=f"btn-{self.n}",
        )
        assert (await self.post(body))[0] == 200
        return (await self.fake.wait_for_responses(before + 1))[before]


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    users = {"UANA": "en-US", "UBOSS": "en-GB"}
    started = slack_world(
        sqlite_url, clock, secret=SECRET, users=users, channels={"announcements": "CANN"}, admins=["UBOSS"]
    )
    async with started as (fake, runtime, url, http):
        yield World(fake, runtime, url.removesuffix(EVENTS_PATH), http)


async def test_create_list_rsvp_remind_and_feed_on_slack(world: World, clock: ManualClock) -> None:
    body = slash_command_body(
        "/events",
        "add",
        user_id="UBOSS",
        channel_id="CGEN",
        response_url=world.fake.response_url("add"),
        trigger_id="trig-add",
    )
    assert (await world.post(body))[0] == 200
    view = (await world.fake.wait_for_calls("views.open"))[0]["view"]
    assert view["callback_id"] == "event" and [b["block_id"] for b in view["blocks"]] == [
        "title",
        "start",
        "repeat",
        "duration",
        "description",
    ]

    def state(**values: str) -> dict[str, dict[str, dict[str, Any]]]:
        return {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}

    fields = {
        "title": "Coordinators chat",
        "start": "2026-03-11 15:00 Europe/London",
        "repeat": "monthly on the second Wednesday",
        "duration": "1h",
        "description": "DP, MYP & PYP",
    }
    status, text = await world.post(
        view_submission_body(
            "event",
            state(**{**fields, "start": "next-ish"}),
            user_id="UBOSS",
            trigger_id="t2",
            private_metadata=view["private_metadata"],
        )
    )
    assert status == 200 and json.loads(text)["response_action"] == "errors"
    assert await world.runtime.services.events.active() == []
    status, text = await world.post(
        view_submission_body(
            "event",
            state(**fields),
            user_id="UBOSS",
            trigger_id="t3",
            private_metadata=view["private_metadata"],
        )
    )
    assert status == 200 and text == ""
    note = (await world.fake.wait_for_calls("chat.postEphemeral"))[0]
    assert note["text"].startswith("Created event #1: Coordinators chat.")

    listing = await world.command("", user="UANA")
    assert f"<!date^{int(START.timestamp())}^" in listing["text"] and "<#CANN>" in listing["text"]
    going = await world.press(listing, "1: going", user="UANA")
    assert going["text"].startswith("You're going to Coordinators chat on <!date^")

    scheduler = world.runtime.scheduler
    assert isinstance(scheduler, ManualScheduler)
    for before in (timedelta(days=1), timedelta(hours=1)):
        clock.set(START - before)
        await scheduler.run_due(clock.now())
    channel = [m for m in world.fake.messages if m["channel"] == "CANN"]
    assert [m["text"].split(" starts ")[0] for m in channel] == [
        "⏰ Coordinators chat",
        "⏰ Coordinators chat",
    ]
    assert "(in 1 day)" in channel[0]["text"] and "(in 1 hour)" in channel[1]["text"]
    dms = [m for m in world.fake.messages if str(m["channel"]).startswith("D")]
    assert len(dms) == 2 and all("You said you are going." in m["text"] for m in dms)

    async with world.http.get(world.base + "/calendar/slack/CANN.ics") as response:
        assert response.status == 200 and response.content_type == "text/calendar"
        events = Calendar.from_ical(await response.read()).walk("VEVENT")
    assert len(events) == 13 and str(events[0]["summary"]) == "Coordinators chat"  # a year ahead, both ends
    async with world.http.get(world.base + "/calendar/slack/CNOPE.ics") as response:
        assert response.status == 200 and Calendar.from_ical(await response.read()).walk("VEVENT") == []
    async with world.http.get(world.base + "/calendar/slack/..%2Fsecrets.ics") as response:
        assert response.status == 404
