"""Slack end to end: the real Bolt AsyncApp on 127.0.0.1, signed requests, a local fake Web API."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from adapters.runtime import Runtime, build_runtime
from adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from bot.clock import ManualClock
from bot.commands import all_commands
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from tests.conftest import make_config
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import (
    block_action_body,
    event_body,
    sign,
    slash_command_body,
    view_submission_body,
)

SECRET = "test-signing-secret"
QA = "CQA000001"


@dataclass
class SlackWorld:
    fake: FakeSlackAPI
    runtime: Runtime
    url: str
    http: aiohttp.ClientSession
    clock: ManualClock
    scheduler: ManualScheduler

    async def command(
        self,
        command: str,
        text: str,
        *,
        user: str = "UASK",
        trigger: str = "T-1",
        timestamp: int | None = None,
        secret: str = SECRET,
        retry: int | None = None,
    ) -> aiohttp.ClientResponse:
        body = slash_command_body(
            command,
            text,
            user_id=user,
            channel_id="CGENERAL",
            response_url=self.fake.response_url(trigger),
            trigger_id=trigger,
        )
        headers = sign(secret, body, timestamp if timestamp is not None else int(time.time()))
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self.http.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response


@pytest.fixture
async def slack(sqlite_url: str, clock: ManualClock) -> AsyncIterator[SlackWorld]:
    async with FakeSlackAPI() as fake:
        fake.add_user("UASK", "ana", tz="Europe/Madrid", locale="es-ES")
        fake.add_user("UKWAME", "kwame", tz="Africa/Accra", locale="en-US")
        fake.add_user("UHELP", "helper", tz="Asia/Tokyo", locale="en-US")
        config = make_config(
            sqlite_url,
            slack={
                "enabled": True,
                "mode": "http",
                "bot_token": "xoxb-test",
                "signing_secret": SECRET,
                "api_base_url": fake.base_url,
                "channels": {"qa": QA},
            },
        )
        scheduler = ManualScheduler()
        runtime = await build_runtime(config, clock=clock, scheduler=scheduler)
        adapter = SlackAdapter(runtime)
        runner, port = await adapter.start_http("127.0.0.1", 0)
        async with aiohttp.ClientSession() as http:
            yield SlackWorld(fake, runtime, f"http://127.0.0.1:{port}{EVENTS_PATH}", http, clock, scheduler)
        await runner.cleanup()
        await runtime.close()


async def test_ask_posts_a_thread_and_answers_the_asker_with_a_link(slack: SlackWorld) -> None:
    response = await slack.command("/ask", "¿Cómo moderan las muestras de IA? <!channel> @here")
    assert response.status == 200

    posted = (await slack.fake.wait_for_calls("chat.postMessage"))[0]
    assert posted["channel"] == QA
    assert "<@UASK>" in posted["text"]
    assert "¿Cómo moderan las muestras de IA?" in posted["text"]
    assert "<!channel>" not in posted["text"] and "&lt;!channel&gt;" in posted["text"]
    assert "@here" not in posted["text"]

    reply = (await slack.fake.wait_for_responses())[0]
    assert reply["response_type"] == "ephemeral"
    ts = posted.get("ts") or slack.fake.messages[0]["ts"]
    assert f"https://fake.slack.com/archives/{QA}/p{ts.replace('.', '')}" in reply["text"]
    assert "Su pregunta está publicada" in reply["text"]  # users.info said es-ES

    stored = await slack.runtime.services.questions.by_thread("slack", ts)
    assert stored is not None and stored.asker_user_id == "UASK"


async def test_a_retried_or_repeated_delivery_never_creates_a_second_thread(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.slack.adapter")
    await slack.command("/ask", "Same question", trigger="T-same")
    await slack.fake.wait_for_responses(1)
    retried = await slack.command("/ask", "Same question", trigger="T-same", retry=1)
    assert retried.status == 200  # acked, so Slack stops retrying
    async with asyncio.timeout(5):
        while "T-same arrived again" not in caplog.text:  # noqa: ASYNC110  (the listener's log line)
            await asyncio.sleep(0.01)
    await slack.command("/help", "", trigger="T-after")
    responses = await slack.fake.wait_for_responses(2)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    assert len(responses) == 2 and "/ask" in responses[1]["text"]  # the retry got no second answer


async def test_whois_examiner_lists_members_with_mentions_and_local_time(slack: SlackWorld) -> None:
    await slack.runtime.services.members.upsert(
        MemberInput(
            name="Kwame Mensah",
            identities={"slack": "UKWAME"},
            roles=["examiner"],
            subjects=["biology"],
            timezone="Africa/Accra",
            school="Accra Intl",
        ),
        slack.clock.now(),
    )
    await slack.command("/whois-examiner", "biology", user="UHELP", trigger="T-who")
    reply = (await slack.fake.wait_for_responses())[0]
    assert reply["text"].startswith("1 member matches Examiner · Biology:")
    assert "<@UKWAME>" in reply["text"]
    assert "1:00\u202fPM their time (Africa/Accra)" in reply["text"]  # 13:00 UTC on the manual clock


async def test_an_empty_ask_opens_a_form_whose_submission_posts(slack: SlackWorld) -> None:
    await slack.command("/ask", "   ", user="UHELP", trigger="T-empty")
    opened = (await slack.fake.wait_for_calls("views.open"))[0]
    assert opened["trigger_id"] == "T-empty" and opened["view"]["callback_id"] == "ask"
    assert slack.fake.calls_to("chat.postMessage") == []
    values = {
        "question": {"value": {"type": "plain_text_input", "value": "Lab safety rules for year 11?"}},
        "subject": {"value": {"type": "plain_text_input", "value": "chimie"}},
        "programme": {"value": {"type": "plain_text_input", "value": "Hogwarts"}},
        "language": {"value": {"type": "plain_text_input", "value": ""}},
    }
    body = view_submission_body("ask", values, user_id="UHELP", trigger_id="t2",
                                private_metadata=opened["view"]["private_metadata"])  # fmt: skip
    async with slack.http.post(slack.url, data=body, headers=sign(SECRET, body, int(time.time()))) as r:
        ack = json.loads(await r.text())
    assert ack["response_action"] == "errors" and "Hogwarts" in ack["errors"]["programme"]
    values["programme"]["value"]["value"] = "MYP"
    body = view_submission_body("ask", values, user_id="UHELP", trigger_id="t3",
                                private_metadata=opened["view"]["private_metadata"])  # fmt: skip
    async with slack.http.post(slack.url, data=body, headers=sign(SECRET, body, int(time.time()))) as r:
        assert r.status == 200 and await r.text() == ""
    posted = (await slack.fake.wait_for_calls("chat.postMessage"))[0]
    assert (
        posted["channel"] == QA
        and "Lab safety rules for year 11?" in posted["text"]
        and "Chemistry" in posted["text"]
    )
    note = (await slack.fake.wait_for_calls("chat.postEphemeral"))[0]
    assert note["user"] == "UHELP" and note["text"].startswith("Your question is posted")


@pytest.mark.parametrize(
    ("secret", "age_seconds"), [("wrong-secret", 0), (SECRET, 6 * 60)], ids=["forged", "stale"]
)
async def test_forged_or_stale_requests_get_401_and_post_nothing(
    slack: SlackWorld, secret: str, age_seconds: int
) -> None:
    response = await slack.command(
        "/ask", "hello", trigger="T-bad", secret=secret, timestamp=int(time.time()) - age_seconds
    )
    assert response.status == 401
    assert slack.fake.calls_to("chat.postMessage") == []
    assert slack.fake.responses == []


async def _event(slack: SlackWorld, event: dict[str, Any], event_id: str) -> None:
    body = event_body(event, event_id=event_id)
    async with slack.http.post(slack.url, data=body, headers=sign(SECRET, body, int(time.time()))) as r:
        assert r.status == 200


async def test_routing_answers_and_the_askers_check_mark_through_slack(slack: SlackWorld) -> None:
    for user in ("UBIO1", "UBIO2"):
        slack.fake.add_user(user, user.lower(), tz="Europe/Madrid")
        await slack.runtime.services.members.upsert(
            MemberInput(name=user, identities={"slack": user}, roles=["examiner"], subjects=["biology"],
                        timezone="Europe/Madrid"),
            slack.clock.now(),
        )  # fmt: skip
    await slack.command("/ask", "How do you moderate biology IA?", trigger="T-route")
    await slack.fake.wait_for_responses(1)
    root_ts = slack.fake.messages[0]["ts"]
    await slack.scheduler.run_due(slack.clock.now())  # wave 1
    dms = [c for c in slack.fake.calls_to("chat.postMessage") if str(c["channel"]).startswith("D")]
    opened = [str(c["users"]) for c in slack.fake.calls_to("conversations.open")]
    assert len(dms) == 2 and {"UBIO1", "UBIO2"} == {u for u in opened}
    assert (
        "asked a question about Biology" in dms[0]["text"]
        and f"p{root_ts.replace('.', '')}" in dms[0]["text"]
    )

    await _event(slack, {"type": "message", "channel": QA, "user": "UBIO1", "text": "Sample five scripts.",
                         "ts": "1800000000.000200", "thread_ts": root_ts}, "Ev-answer")  # fmt: skip
    await slack.runtime.dispatcher.wait_handled("message", 1)
    asker_dm = (await slack.fake.wait_for_calls("chat.postMessage", 4))[-1]
    assert asker_dm["text"].startswith("Su pregunta tiene su primera respuesta")  # the asker reads Spanish
    assert asker_dm["blocks"][-1]["elements"][0]["action_id"].startswith("qa.solve")

    await _event(slack, {"type": "reaction_added", "user": "UASK", "reaction": "white_check_mark",
                         "item": {"type": "message", "channel": QA, "ts": "1800000000.000200"},
                         "item_user": "UBIO1", "event_ts": "1800000001.0"}, "Ev-react")  # fmt: skip
    await slack.runtime.dispatcher.wait_handled("reaction", 1)
    thanks = slack.fake.calls_to("chat.postMessage")[-1]
    assert (
        thanks["thread_ts"] == root_ts and thanks["text"] == "✅ Solved. Thank you <@UBIO1> for the answer!"
    )
    question = await slack.runtime.services.questions.by_thread("slack", root_ts)
    assert question is not None and question.solved_at is not None
    slack.clock.advance(timedelta(minutes=10))
    before = len(slack.fake.calls_to("chat.postMessage"))
    await slack.scheduler.run_due(slack.clock.now())
    assert len(slack.fake.calls_to("chat.postMessage")) == before  # answered: no more waves


def test_the_manifest_declares_every_command_and_the_events_the_adapter_uses() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[1] / "adapters/slack/manifest.yml").read_text())

    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == {f"/{c.name}" for c in all_commands()}
    assert "message.channels" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"commands", "chat:write", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])


async def test_socket_mode_receives_commands_over_the_websocket_and_acks_them(
    sqlite_url: str, clock: ManualClock
) -> None:
    async with FakeSlackAPI() as fake:
        fake.add_user("UASK", "ana", tz="America/Bogota", locale="fr-FR")
        config = make_config(
            sqlite_url,
            slack={
                "enabled": True,
                "mode": "socket",
                "bot_token": "xoxb-test",
                "app_token": "xapp-test",
                "api_base_url": fake.base_url,
                "channels": {"qa": QA},
            },
        )
        runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
        serving = asyncio.create_task(SlackAdapter(runtime).serve_forever())
        try:
            await fake.wait_for_socket()
            envelope = await fake.socket_send(
                "slash_commands",
                {
                    "command": "/ask",
                    "text": "Qui corrige les EE de chimie ?",
                    "user_id": "UASK",
                    "user_name": "ana",
                    "channel_id": "CGENERAL",
                    "team_id": "T0001",
                    "trigger_id": "TS-1",
                    "response_url": fake.response_url("socket-1"),
                },
            )
            acks = await fake.wait_for_socket_acks(1)
            assert acks[0]["envelope_id"] == envelope
            posted = (await fake.wait_for_calls("chat.postMessage"))[0]
            assert posted["channel"] == QA and "Qui corrige les EE de chimie ?" in posted["text"]
            reply = (await fake.wait_for_responses())[0]
            assert reply["text"].startswith("Votre question est publiée")
            assert fake.calls_to("apps.connections.open")  # the app token opened the socket via api_base_url
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await runtime.close()


async def test_the_askers_dm_button_marks_the_question_solved(slack: SlackWorld) -> None:
    await slack.command("/ask", "Where do you find past papers?", trigger="T-btn")
    await slack.fake.wait_for_responses(1)
    root_ts = slack.fake.messages[0]["ts"]
    answer = {"type": "message", "channel": QA, "user": "UHELP", "text": "The Programme Resource Centre.",
              "ts": "1800000000.000300", "thread_ts": root_ts}  # fmt: skip
    await _event(slack, answer, "Ev-a")
    await slack.runtime.dispatcher.wait_handled("message", 1)
    dm = slack.fake.calls_to("chat.postMessage")[-1]
    button = dm["blocks"][-1]["elements"][0]
    assert button["text"]["text"] == "✅ Marcar como resuelta" and button["style"] == "primary"
    body = block_action_body(
        button["action_id"], button["value"], user_id="UASK", channel_id=str(dm["channel"]),
        response_url=slack.fake.response_url("solve"), trigger_id="trig-solve",
    )  # fmt: skip
    async with slack.http.post(slack.url, data=body, headers=sign(SECRET, body, int(time.time()))) as r:
        assert r.status == 200
    reply = (await slack.fake.wait_for_responses(2))[-1]
    assert reply["replace_original"] is True
    assert reply["text"] == "Marcada como resuelta; he dado las gracias a <@UHELP> en el hilo."
    thanks = slack.fake.calls_to("chat.postMessage")[-1]
    assert thanks["thread_ts"] == root_ts and "<@UHELP>" in thanks["text"]
