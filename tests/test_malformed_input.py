"""Malformed requests through the real adapters: each is refused cleanly (a 4xx, or a 200 with a plain
sentence for the member), never a 500 or a traceback, nothing is posted to a channel, and the operator
gets a log line saying what arrived.

Slack: the real Bolt app over HTTP with signed requests (tests/worlds.py `slack_world`). Discord: the
real discord.py client against the local fake, with INTERACTION_CREATE payloads as a stale or broken
client could send them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import aiohttp
import pytest
from sqlalchemy import func, select

from adapters.runtime import Runtime
from bot.clock import ManualClock
from storage.models import Member
from tests.fakes.discord_server import QA_CHANNEL_ID, FakeDiscord
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import (
    block_action_body,
    event_body,
    interactive_body,
    sign,
    slash_command_body,
    view_submission_body,
)
from tests.worlds import discord_world, slack_world

SECRET = "malformed-input-secret"
USER = "UANA"
ADAPTER_LOG = "adapters.slack.adapter"
BOLT_LOG = "slack_bolt.AsyncApp"
POSTING = ("chat.postMessage", "chat.postEphemeral", "chat.update", "files.completeUploadExternal")


@dataclass
class Slack:
    fake: FakeSlackAPI
    runtime: Runtime
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: str | bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
        data = body.encode() if isinstance(body, str) else body
        if headers is None:
            assert isinstance(body, str)
            headers = sign(SECRET, body)
        async with self.http.post(self.url, data=data, headers=headers) as response:
            return response.status, await response.text()

    def posted(self) -> list[str]:
        """What reached a channel (or anyone) through the Web API or a response_url."""
        return [c.method for c in self.fake.calls if c.method in POSTING] + [
            f"response_url:{r.get('_url_id')}" for r in self.fake.responses
        ]


@pytest.fixture
async def slack(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Slack]:
    async with slack_world(
        sqlite_url, clock, secret=SECRET, users={USER: "en-US"}, channels={"qa": "CQA"}, admins=[]
    ) as (fake, runtime, url, http):
        yield Slack(fake, runtime, url, http)


def logged(caplog: pytest.LogCaptureFixture, logger: str, text: str) -> logging.LogRecord:
    """The one record a refusal must leave: from `logger`, a warning or worse, mentioning `text`."""
    found = [
        r
        for r in caplog.records
        if r.name == logger and r.levelno >= logging.WARNING and text in r.getMessage()
    ]
    assert found, f"no {logger} warning about {text!r}: {[(r.name, r.getMessage()) for r in caplog.records]}"
    return found[0]


def clean(status: int, text: str) -> None:
    assert status < 500, (status, text)
    assert "Traceback" not in text and 'File "' not in text


# -- Slack --------------------------------------------------------------------------------------------


async def test_invalid_utf8_in_a_signed_body_is_refused_with_400(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"command=%2Fask&text=caf\xe9 au lait\xff&user_id=" + USER.encode()
    ts = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={signature}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, text = await slack.post(body, headers)
    assert status == 400 and text == "The request body is not valid UTF-8."
    logged(caplog, ADAPTER_LOG, "not valid UTF-8")
    assert slack.posted() == []


async def test_a_slash_command_the_bot_does_not_have_gets_a_plain_answer(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    body = slash_command_body(
        "/frobnicate", "<!channel> now", user_id=USER, channel_id="CGEN",
        response_url=slack.fake.response_url("unknown"), trigger_id="T-unknown",
    )  # fmt: skip
    status, text = await slack.post(body)
    clean(status, text)
    (reply,) = await slack.fake.wait_for_responses(1)
    assert reply["text"] == "I don't know the command /frobnicate. Type /help to see what I can do."
    assert reply["response_type"] == "ephemeral"
    logged(caplog, ADAPTER_LOG, "/frobnicate")
    assert slack.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(urlencode({"payload": "{not json"}), id="payload-not-json"),
        pytest.param(urlencode({"payload": ""}), id="payload-empty"),
        pytest.param(urlencode({"payload": "[1, 2]"}), id="payload-a-list"),
        pytest.param(urlencode({"payload": '"block_actions"'}), id="payload-a-string"),
        pytest.param(
            interactive_body(
                {"type": "view_submission", "user": {"id": USER}, "view": {"callback_id": "ask"}}
            ),
            id="view-without-type",
        ),
        pytest.param('{"type": "event_callback", "event": ', id="envelope-not-json"),
        pytest.param(
            json.dumps({"type": "event_callback", "event_id": "Ev-0", "event": None}), id="null-event"
        ),
    ],
)
async def test_a_body_bolt_cannot_parse_is_refused_with_a_4xx(
    slack: Slack, caplog: pytest.LogCaptureFixture, body: str
) -> None:
    status, text = await slack.post(body)
    assert 400 <= status < 500, (status, text)
    clean(status, text)
    logged(caplog, ADAPTER_LOG, "Slack request refused")
    assert slack.posted() == []


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no-type"),
        pytest.param({"type": "block_actions", "user": {"id": USER}}, id="no-actions"),
        pytest.param({"type": "view_submission", "user": {"id": USER}}, id="no-view"),
        pytest.param({"type": "shortcut", "user": {"id": USER}}, id="unknown-type"),
    ],
)
async def test_interactivity_without_what_a_listener_needs_is_a_404_and_a_warning(
    slack: Slack, caplog: pytest.LogCaptureFixture, payload: dict[str, Any]
) -> None:
    status, text = await slack.post(interactive_body(payload))
    assert status == 404 and json.loads(text) == {"error": "unhandled request"}
    logged(caplog, BOLT_LOG, "Unhandled request")
    assert slack.posted() == [] and slack.runtime.dispatcher.handled["button"] == 0


async def test_a_button_press_without_a_user_is_ignored(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    action = {"action_id": "iben:forget.confirm", "value": USER, "type": "button", "action_ts": "1.2"}
    status, text = await slack.post(interactive_body({"type": "block_actions", "actions": [action]}))
    assert status == 200 and text == ""
    logged(caplog, ADAPTER_LOG, "pressed by no user")
    assert slack.posted() == [] and slack.runtime.dispatcher.handled["button"] == 0
    assert slack.fake.calls_to("users.info") == []


async def test_a_button_press_without_a_response_url_is_answered_by_dm(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    body = block_action_body(
        "whois.page", "not|a|page", user_id=USER, channel_id=None, response_url=None, trigger_id="T-b",
        view={"id": "V1", "type": "modal"},
    )  # fmt: skip
    status, text = await slack.post(body)
    assert status == 200 and text == ""
    (dm,) = await slack.fake.wait_for_calls("chat.postMessage")
    assert str(dm["channel"]).startswith("D")  # the presser's DM, no channel
    assert dm["text"] == "This button is no longer active. Please run the command again."
    logged(caplog, ADAPTER_LOG, "without a response_url")


async def _members(runtime: Runtime) -> int:
    async with runtime.db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(Member))).scalar_one())


async def test_a_form_submitted_by_no_user_closes_and_saves_nothing(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    values = {"subjects": {"value": {"type": "plain_text_input", "value": "Biology"}}}
    body = view_submission_body("profile", values, user_id=USER, trigger_id="T-v")
    payload = {**json.loads(parse_qs(body)["payload"][0]), "user": {}}
    status, text = await slack.post(interactive_body(payload))
    assert status == 200 and text == ""
    logged(caplog, ADAPTER_LOG, "submitted by no user")
    assert await _members(slack.runtime) == 0 and slack.posted() == []


async def test_a_form_whose_private_metadata_is_not_an_object_still_answers(slack: Slack) -> None:
    values = {"question": {"value": {"type": "plain_text_input", "value": ""}}}
    body = view_submission_body("ask", values, user_id=USER, trigger_id="T-m", private_metadata="[1, 2]")
    status, text = await slack.post(body)
    assert status == 200 and json.loads(text) == {
        "response_action": "errors",
        "errors": {"question": "Write your question here."},
    }
    assert slack.posted() == []


@pytest.mark.parametrize(
    "envelope",
    [
        pytest.param({"type": "event_callback", "team_id": "T0001", "event_id": "Ev-none"}, id="no-event"),
        pytest.param(
            json.loads(event_body({"text": "no type"}, event_id="Ev-notype")), id="event-without-type"
        ),
    ],
)
async def test_an_event_envelope_without_an_event_is_a_404_and_a_warning(
    slack: Slack, caplog: pytest.LogCaptureFixture, envelope: dict[str, Any]
) -> None:
    status, text = await slack.post(json.dumps(envelope))
    assert status == 404, (status, text)
    clean(status, text)
    logged(caplog, BOLT_LOG, "Unhandled request")
    assert slack.posted() == [] and slack.runtime.dispatcher.handled["message"] == 0


# -- Discord ------------------------------------------------------------------------------------------

ANA, BOSS = 5001, 5009
EPHEMERAL = 64
DISCORD_LOG = "adapters.discord.adapter"


@pytest.fixture
async def discord(sqlite_url: str, clock: ManualClock) -> AsyncIterator[FakeDiscord]:
    async with discord_world(
        sqlite_url, clock, users={ANA: "ana", BOSS: "boss"}, channels={"qa": QA_CHANNEL_ID}, admins=[BOSS]
    ) as (fake, _runtime):
        yield fake


def _command_id(fake: FakeDiscord, name: str) -> str:
    return next((str(c["id"]) for c in fake.commands if c["name"] == name), "424242")


async def interact(fake: FakeDiscord, name: str, options: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Send a raw chat-input INTERACTION_CREATE (as a stale or broken client might) and return what
    the member sees: an immediate message, or the follow-up after a deferral."""
    data: dict[str, Any] = {"id": _command_id(fake, name), "name": name, "type": 1}
    if options is not None:
        data["options"] = options
    callbacks, followups = len(fake.interaction_callbacks), len(fake.followups)
    await fake._dispatch_interaction(2, data, user_id=ANA, channel_id=QA_CHANNEL_ID, locale="en-US")
    await fake.wait_for(lambda f: len(f.interaction_callbacks) > callbacks)
    callback = fake.interaction_callbacks[callbacks]
    if callback["type"] == 4:  # answered at once
        return dict(callback["data"])
    await fake.wait_for(lambda f: len(f.followups) > followups)
    return fake.followups[followups]


def channel_posts(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [m for messages in fake.messages.values() for m in messages]


@pytest.mark.parametrize(
    ("name", "options", "shown"),
    [
        ("frobnicate", [], "I don't know the command /frobnicate. Type /help to see what I can do."),
        (
            "events",
            [{"name": "nuke", "type": 1, "options": []}],
            "I don't know the command /events nuke. Type /help to see what I can do.",
        ),
    ],
    ids=["unknown-command", "unknown-sub-command"],
)
async def test_an_unknown_discord_command_gets_a_plain_answer(
    discord: FakeDiscord,
    caplog: pytest.LogCaptureFixture,
    name: str,
    options: list[dict[str, Any]],
    shown: str,
) -> None:
    answer = await interact(discord, name, options)
    assert answer["content"] == shown and answer["flags"] == EPHEMERAL
    logged(caplog, DISCORD_LOG, "which this bot does not have")
    assert channel_posts(discord) == []


@pytest.mark.parametrize(
    ("name", "options"),
    [("ask", None), ("ask", []), ("events", []), ("meetups", [{"name": "pause", "type": 1}])],
    ids=["no-options-key", "required-option-missing", "no-sub-command", "sub-command-without-options"],
)
async def test_a_discord_command_missing_its_data_is_refused_plainly(
    discord: FakeDiscord, caplog: pytest.LogCaptureFixture, name: str, options: list[dict[str, Any]] | None
) -> None:
    answer = await interact(discord, name, options)
    assert answer["content"] == (
        "This command's options did not arrive as I expected, so nothing was done. "
        "Please run it again; if this keeps happening, restart Discord."
    )
    assert answer["flags"] == EPHEMERAL and answer["allowed_mentions"] == {"parse": []}
    logged(caplog, DISCORD_LOG, "options do not match")
    assert channel_posts(discord) == []


@pytest.mark.parametrize(
    ("name", "options", "shown"),
    [
        (
            "qa-stats",
            [{"name": "days", "type": 4, "value": 10**30}],
            "/qa-stats [days]: answered share and time to first answer, by subject, region and language",
        ),
        (
            "meetups",
            [{"name": "pause", "type": 1, "options": [{"name": "weeks", "type": 4, "value": "two"}]}],
            "You have not joined meet-ups. /meetups join signs you up.",
        ),
        (
            "cafe",
            [{"name": "join", "type": 1, "options": [{"name": "host", "type": 5, "value": "@everyone"}]}],
            "No café is open right now. Admins start one with /cafe start.",
        ),
        (
            "whois",
            [{"name": "query", "type": 3, "value": ["<@&1>", "@here"]}],
            "I don't know",
        ),
    ],
    ids=["integer-for-text", "text-for-integer", "text-for-boolean", "list-for-text"],
)
async def test_discord_options_of_the_wrong_type_get_a_plain_answer_and_a_warning(
    discord: FakeDiscord,
    caplog: pytest.LogCaptureFixture,
    name: str,
    options: list[dict[str, Any]],
    shown: str,
) -> None:
    answer = await interact(discord, name, options)
    assert answer["content"].startswith(shown), answer["content"]
    assert "@here" not in answer["content"] and "<@&1>" not in answer["content"]
    assert answer["flags"] == EPHEMERAL and answer["allowed_mentions"] == {"parse": []}
    logged(caplog, DISCORD_LOG, f"Discord sent /{name} option")
    assert channel_posts(discord) == []


async def test_a_discord_command_without_any_data_is_refused_plainly(
    discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    callbacks = len(discord.interaction_callbacks)
    await discord._dispatch_interaction(2, {}, user_id=ANA, channel_id=QA_CHANNEL_ID, locale="en-US")
    await discord.wait_for(lambda f: len(f.interaction_callbacks) > callbacks)
    answer = discord.interaction_callbacks[callbacks]
    assert answer["type"] == 4 and answer["data"]["content"].startswith(
        "This command's options did not arrive as I expected, so nothing was done."
    )
    logged(caplog, DISCORD_LOG, "without its data")
    assert channel_posts(discord) == []
