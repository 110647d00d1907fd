"""A send left in doubt by a crash is looked for on the platform (Slack) or refused by its nonce
(Discord) before it goes again; health and metrics on the Slack HTTP port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.port import SlackPort
from bot.clock import ManualClock
from bot.delivery import tagged
from bot.port import MessageRef
from tests.fakes.discord_server import ANNOUNCEMENTS_CHANNEL_ID
from tests.fakes.slack_api import FakeSlackAPI
from tests.test_slack_e2e import SlackWorld, slack  # noqa: F401  (the fixture)
from tests.worlds import discord_world


@pytest.fixture
async def slack_port() -> AsyncIterator[tuple[FakeSlackAPI, SlackPort]]:
    async with FakeSlackAPI() as fake:
        yield fake, SlackPort(AsyncWebClient(token="xoxb-t", base_url=fake.base_url))


async def test_each_message_of_a_send_carries_its_delivery_tag(
    slack_port: tuple[FakeSlackAPI, SlackPort],
) -> None:
    fake, port = slack_port
    with tagged("events.remind:1", verify=False):
        await port.post("C1", "Reminder")
        await port.dm("U1", "You are going")
    await port.post("C1", "Not scheduled work")
    tags = [(m.get("metadata") or {}).get("event_payload", {}).get("delivery") for m in fake.messages]
    assert tags == ["events.remind:1#1", "events.remind:1#2", None]


async def test_a_send_in_doubt_that_had_arrived_is_not_repeated(
    slack_port: tuple[FakeSlackAPI, SlackPort],
) -> None:
    fake, port = slack_port
    with tagged("k", verify=False):  # the process that died got this far
        first = await port.post("C1", "Reminder")
        thread = await port.open_thread("C2", "Question", title="Question")
    with tagged("k", verify=True):  # the leader after it re-runs the same send
        again = await port.post("C1", "Reminder")
        again_thread = await port.open_thread("C2", "Question", title="Question")
        reply = await port.reply_in_thread(thread, "Answer")  # never sent before: goes now
    assert again.message_id == first.message_id and again_thread.message_id == thread.message_id
    assert [m["text"] for m in fake.messages] == ["Reminder", "Question", "Answer"]
    with tagged("k", verify=True):  # and a third run finds everything, the thread reply included
        await port.post("C1", "Reminder")
        await port.open_thread("C2", "Question", title="Question")
        assert (await port.reply_in_thread(thread, "Answer")).message_id == reply.message_id
    assert len(fake.messages) == 3


async def test_a_dm_in_doubt_that_never_left_is_sent_once(slack_port: tuple[FakeSlackAPI, SlackPort]) -> None:
    fake, port = slack_port
    with tagged("dm-key", verify=True):
        await port.dm("U1", "You are going")
    with tagged("dm-key", verify=True):
        await port.dm("U1", "You are going")
    with tagged("other-key", verify=True):
        await port.send(MessageRef(port.platform, "C1", ""), "Something else")
    assert [m["text"] for m in fake.messages] == ["You are going", "Something else"]


async def test_healthz_and_metrics_on_the_slack_http_port(slack: SlackWorld) -> None:  # noqa: F811
    base = slack.url.removesuffix("/slack/events")
    async with slack.http.get(f"{base}/healthz") as response:
        assert response.status == 200
        health = await response.json()
    assert health["status"] == "ok" and health["database"] == "ok" and health["leader"] is True
    await slack.command("/whois-examiner", "biology", user="UHELP", trigger="T-m1")
    await slack.fake.wait_for_responses(1)
    await slack.command("/no-such-thing", "x", user="UHELP", trigger="T-m2")
    async with slack.http.get(f"{base}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert lines['iben_commands_total{command="whois-examiner",outcome="ok",platform="slack"}'] == "1.0"
    assert float(lines['iben_ack_seconds_count{platform="slack"}']) >= 2
    assert lines["iben_scheduler_leader"] == "1.0"


async def test_discord_sends_carry_a_nonce_so_a_repeat_after_a_crash_is_refused(
    sqlite_url: str, clock: ManualClock
) -> None:
    channels = {"announcements": ANNOUNCEMENTS_CHANNEL_ID}
    async with discord_world(sqlite_url, clock, users={7: "ana"}, channels=channels, admins=[]) as world:
        fake, runtime = world
        port = runtime.services.ports["discord"]
        for verify in (False, True):  # the process that died, then the leader after it
            with tagged("events.remind:9", verify=verify):
                await port.post(str(ANNOUNCEMENTS_CHANNEL_ID), "Reminder")
                await port.dm("7", "You are going")
        with tagged("events.remind:10", verify=False):
            await port.post(str(ANNOUNCEMENTS_CHANNEL_ID), "Another reminder")
        posted = [m["content"] for m in fake.messages[ANNOUNCEMENTS_CHANNEL_ID]]
        dms = [
            m["content"] for cid, ms in fake.messages.items() if cid != ANNOUNCEMENTS_CHANNEL_ID for m in ms
        ]
    assert posted == ["Reminder", "Another reminder"]
    assert dms == ["You are going"]
