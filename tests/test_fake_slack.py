"""Self-test of the Slack fakes against the real slack_sdk / slack_bolt clients.

If these pass, failures in bot tests point at the bot, not at a fake that drifted from what
slack_sdk actually sends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from urllib.parse import parse_qs

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import (
    block_action_body,
    event_body,
    sign,
    slash_command_body,
    view_submission_body,
)

TOKEN = "xoxb-fake-token"
SECRET = "test-signing-secret"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI() as api:
        yield api


@pytest.fixture
def client(fake: FakeSlackAPI) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.base_url)


async def test_auth_test_identifies_the_bot(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["user_id"] == "UBOT"
    assert resp["team_id"] == "T0001"
    assert resp["bot_id"] == "B0001"
    assert fake.calls[0].method == "auth.test"
    assert fake.calls[0].token == TOKEN


async def test_post_message_round_trips_and_permalink(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = await client.chat_postMessage(channel="C1", text="hello", blocks=blocks)
    reply = await client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])

    assert first["channel"] == "C1"
    assert first["message"]["text"] == "hello"
    assert first["message"]["user"] == "UBOT"
    assert "thread_ts" not in first["message"]
    assert reply["message"]["thread_ts"] == first["ts"]
    assert float(reply["ts"]) > float(first["ts"])

    posted = fake.calls_to("chat.postMessage")
    assert posted[0] == {"channel": "C1", "text": "hello", "blocks": blocks}
    assert posted[1]["thread_ts"] == first["ts"]
    assert [m["text"] for m in fake.messages] == ["hello", "reply"]

    link = await client.chat_getPermalink(channel="C1", message_ts=first["ts"])
    assert link["permalink"] == f"https://fake.slack.com/archives/C1/p{first['ts'].replace('.', '')}"


async def test_form_encoded_blocks_are_decoded(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    blocks = [{"type": "divider"}]
    await client.api_call(
        "chat.postMessage", data={"channel": "C2", "text": "x", "blocks": json.dumps(blocks)}
    )
    assert fake.calls_to("chat.postMessage") == [{"channel": "C2", "text": "x", "blocks": blocks}]
    assert fake.calls[0].token == TOKEN


async def test_ephemeral_update_reaction_and_views(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert eph["message_ts"]
    posted = await client.chat_postMessage(channel="C1", text="old")
    await client.chat_update(channel="C1", ts=posted["ts"], text="new")
    assert fake.messages[0]["text"] == "new"
    await client.reactions_add(channel="C1", timestamp=posted["ts"], name="wave")
    assert fake.calls_to("reactions.add") == [{"channel": "C1", "timestamp": posted["ts"], "name": "wave"}]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    opened = await client.views_open(trigger_id="trig", view=view)
    assert opened["view"]["id"]
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert fake.calls_to("views.open")[0]["view"] == view
    assert fake.calls_to("views.publish")[0]["user_id"] == "U1"


async def test_users_info_locale_only_when_requested(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    fake.add_user("U1", "ana", tz="Europe/Madrid", locale="es-ES", email="ana@example.org")
    plain = await client.users_info(user="U1")
    assert "locale" not in plain["user"]
    assert plain["user"]["tz"] == "Europe/Madrid"
    assert plain["user"]["tz_offset"] in (3600, 7200)
    assert plain["user"]["profile"]["email"] == "ana@example.org"

    with_locale = await client.users_info(user="U1", include_locale=True)
    assert with_locale["user"]["locale"] == "es-ES"
    # slack_sdk turns booleans into "1"/"0" for query params.
    assert fake.calls_to("users.info")[1] == {"user": "U1", "include_locale": "1"}

    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="UNOPE")
    assert err.value.response["error"] == "user_not_found"


async def test_conversations_open_is_stable_and_info_defaults(client: AsyncWebClient) -> None:
    a = await client.conversations_open(users=["U2", "U1"])
    b = await client.conversations_open(users="U1,U2")
    c = await client.conversations_open(users="U3")
    assert a["channel"]["id"] == b["channel"]["id"]
    assert a["channel"]["id"].startswith("G")  # several people: a group DM (mpim)
    assert c["channel"]["id"].startswith("D")  # one person: a DM
    assert c["channel"]["id"] != a["channel"]["id"]
    info = await client.conversations_info(channel="C9")
    assert info["channel"] == {"id": "C9", "name": "channel-c9", "is_channel": True}


async def test_response_url_bodies_are_captured(fake: FakeSlackAPI) -> None:
    webhook = AsyncWebhookClient(fake.response_url("cmd-1"))
    resp = await webhook.send(text="only you can see this", response_type="ephemeral")
    assert resp.status_code == 200
    assert resp.body == "ok"
    got = await fake.wait_for_responses(1)
    assert got == [{"text": "only you can see this", "response_type": "ephemeral", "_url_id": "cmd-1"}]


async def test_fail_next_and_unknown_method(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    fake.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="CX", text="lost")
    assert err.value.response["error"] == "channel_not_found"
    ok = await client.chat_postMessage(channel="CX", text="found")
    assert ok["ok"] is True

    with pytest.raises(SlackApiError) as err:
        await client.api_call("bogus.method", params={"a": "1"})
    assert err.value.response["error"] == "unknown_method"
    assert fake.calls_to("bogus.method") == [{"a": "1"}]
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_wait_for_calls_times_out_with_context(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    # The waiter must be woken by a call that lands after it started waiting.
    pending = asyncio.create_task(client.chat_postMessage(channel="C1", text="one"))
    assert [c["text"] for c in await fake.wait_for_calls("chat.postMessage", 1)] == ["one"]
    await pending
    with pytest.raises(AssertionError, match=r"expected 2 call\(s\) to chat.postMessage.*got 1.*'one'"):
        await fake.wait_for_calls("chat.postMessage", 2, timeout=0.05)
    with pytest.raises(AssertionError, match=r"expected 1 response_url POST"):
        await fake.wait_for_responses(1, timeout=0.05)


def test_signatures_verify_and_wrong_secret_fails() -> None:
    body = slash_command_body(
        "/iben", "help", user_id="U1", channel_id="C1", response_url="http://x/r", trigger_id="t1"
    )
    headers = sign(SECRET, body, int(time.time()))
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("wrong-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body + "&x=1", headers)
    fields = parse_qs(body)
    assert fields["command"] == ["/iben"] and fields["text"] == ["help"]

    ev = event_body({"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.2"}, event_id="Ev1")
    ev_headers = sign(SECRET, ev)
    assert ev_headers["Content-Type"] == "application/json"
    assert SignatureVerifier(SECRET).is_valid_request(ev, ev_headers)
    assert json.loads(ev)["event"]["text"] == "hi"

    action = block_action_body(
        "rsvp", "yes", user_id="U1", channel_id="C1", response_url="http://x/r", trigger_id="t2"
    )
    payload = json.loads(parse_qs(action)["payload"][0])
    assert payload["actions"][0] == {
        "action_id": "rsvp",
        "block_id": "b0",
        "type": "button",
        "action_ts": "1700000000.000001",
        "value": "yes",
    }
    assert payload["user"]["id"] == "U1" and payload["channel"]["id"] == "C1"


async def test_bolt_end_to_end_through_fakes(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    """Signed requests pass bolt's verification and the listeners' calls land on the fake."""
    app = AsyncApp(signing_secret=SECRET, client=client)

    @app.command("/iben")
    async def on_command(
        ack: AsyncAck, respond: AsyncRespond, say: AsyncSay, command: dict[str, str]
    ) -> None:
        await ack()
        await respond(f"echo {command['text']}")
        await say("public")

    @app.action("rsvp")
    async def on_action(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond("thanks", replace_original=False)

    @app.view("signup")
    async def on_view(ack: AsyncAck) -> None:
        await ack(response_action="clear")

    async def dispatch(body: str, timestamp: int | None = None) -> BoltResponse:
        # AsyncBoltRequest wants dict[str, str | Sequence[str]]; dict invariance needs the copy.
        headers: dict[str, str | Sequence[str]] = {**sign(SECRET, body, timestamp)}
        return await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))

    body = slash_command_body(
        "/iben",
        "hola",
        user_id="U1",
        channel_id="C1",
        response_url=fake.response_url("cmd"),
        trigger_id="t1",
    )
    assert (await dispatch(body)).status == 200
    responses = await fake.wait_for_responses(1)
    assert responses[0]["text"] == "echo hola" and responses[0]["_url_id"] == "cmd"
    (posted,) = await fake.wait_for_calls("chat.postMessage")
    # Bolt's per-request client adds team_id to every call.
    assert posted == {"channel": "C1", "text": "public", "team_id": "T0001"}
    assert fake.calls[0].method == "auth.test"

    action = block_action_body(
        "rsvp", "yes", user_id="U1", channel_id="C1", response_url=fake.response_url("act"), trigger_id="t2"
    )
    assert (await dispatch(action)).status == 200
    responses = await fake.wait_for_responses(2)
    assert responses[1]["_url_id"] == "act" and responses[1]["replace_original"] is False

    submission = view_submission_body("signup", {}, user_id="U1", trigger_id="t3")
    resp = await dispatch(submission)
    assert resp.status == 200 and json.loads(resp.body) == {"response_action": "clear"}

    # Bolt refuses signatures older than five minutes, hence sign()'s "now" default.
    assert (await dispatch(body, int(time.time()) - 600)).status == 401
