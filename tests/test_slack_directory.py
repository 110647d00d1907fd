"""The directory on Slack: modals (views.open, view_submission errors), paging and confirmation
buttons (block_actions), and the admin report's file upload, through the real Bolt app."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.runtime import Runtime, build_runtime
from adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from tests.conftest import make_config
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import block_action_body, sign, slash_command_body, view_submission_body

SECRET = "directory-secret"


class World:
    def __init__(self, fake: FakeSlackAPI, runtime: Runtime, url: str, http: aiohttp.ClientSession) -> None:
        self.fake, self.runtime, self.url, self.http = fake, runtime, url, http
        self.n = 0

    async def post(self, body: str) -> tuple[int, str]:
        async with self.http.post(
            self.url, data=body, headers=sign(SECRET, body, int(time.time()))
        ) as response:
            return response.status, await response.text()

    async def command(self, command: str, text: str, *, user: str = "UANA") -> dict[str, Any]:
        """Run a slash command; return the response_url body the user sees."""
        self.n += 1
        before = len(self.fake.responses)
        body = slash_command_body(
            command,
            text,
            user_id=user,
            channel_id="CGEN",
            response_url=self.fake.response_url(f"r{self.n}"),
            trigger_id=f"trig-{self.n}",
        )
        assert (await self.post(body))[0] == 200
        return (await self.fake.wait_for_responses(before + 1))[before]

    async def press(self, reply: dict[str, Any], label: str, *, user: str = "UANA") -> dict[str, Any]:
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
    async with FakeSlackAPI() as fake:
        fake.add_user("UANA", "ana", tz="Europe/Madrid", locale="en-US")
        fake.add_user("UBOSS", "boss", tz="Europe/London", locale="en-GB")
        config = make_config(
            sqlite_url,
            slack={"enabled": True, "mode": "http", "bot_token": "xoxb-t", "signing_secret": SECRET,
                   "api_base_url": fake.base_url, "channels": {"qa": "CQA"}},
            admins={"slack": ["UBOSS"]},
            schools={"Accra Intl": 10},
        )  # fmt: skip
        runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
        adapter = SlackAdapter(runtime)
        runner, port = await adapter.start_http("127.0.0.1", 0)
        async with aiohttp.ClientSession() as http:
            yield World(fake, runtime, f"http://127.0.0.1:{port}{EVENTS_PATH}", http)
        await runner.cleanup()
        await runtime.close()


async def test_profile_edit_opens_a_prefilled_modal_and_errors_stay_in_it(world: World) -> None:
    await world.runtime.services.members.upsert(
        MemberInput(name="Ana", identities={"slack": "UANA"}, roles=["examiner"], subjects=["biology"],
                    timezone="Europe/Madrid"),
        world.runtime.services.clock.now(),
    )  # fmt: skip
    body = slash_command_body("/profile", "edit", user_id="UANA", channel_id="CGEN",
                              response_url=world.fake.response_url("p"), trigger_id="trig-edit")  # fmt: skip
    assert (await world.post(body))[0] == 200
    opened = (await world.fake.wait_for_calls("views.open"))[0]
    assert opened["trigger_id"] == "trig-edit"
    view = opened["view"]
    assert view["callback_id"] == "profile" and view["type"] == "modal"
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert initial["roles"] == "Examiner" and initial["subjects"] == "Biology"
    assert initial["where"] == "Europe/Madrid 08:00-20:00"

    def state(**values: str) -> dict[str, dict[str, dict[str, Any]]]:
        merged = {**initial, **values}
        return {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in merged.items()}

    status, text = await world.post(
        view_submission_body(
            "profile",
            state(subjects="Astrology"),
            user_id="UANA",
            trigger_id="t2",
            private_metadata=view["private_metadata"],
        )
    )
    assert status == 200
    ack = json.loads(text)
    assert ack["response_action"] == "errors" and "Astrology" in ack["errors"]["subjects"]
    card = await world.runtime.services.members.get_by_identity("slack", "UANA")
    assert card is not None and card.subjects == ("biology",)  # nothing saved

    status, text = await world.post(
        view_submission_body(
            "profile",
            state(subjects="Biology, ESS", languages="es, en"),
            user_id="UANA",
            trigger_id="t3",
            private_metadata=view["private_metadata"],
        )
    )
    assert status == 200 and text == ""  # the modal closes
    note = (await world.fake.wait_for_calls("chat.postEphemeral"))[0]
    assert note["channel"] == "CGEN" and note["user"] == "UANA" and note["text"].startswith("Saved.")
    card = await world.runtime.services.members.get_by_identity("slack", "UANA")
    assert card is not None and card.subjects == ("biology", "ess") and card.languages == ("es", "en")


async def test_results_page_with_buttons_that_replace_the_message(world: World) -> None:
    now = world.runtime.services.clock.now()
    for i in range(12):
        await world.runtime.services.members.upsert(
            MemberInput(name=f"Historian {i:02d}", roles=["examiner"], subjects=["history"]), now
        )
    first = await world.command("/whois", "examiner history")
    assert first["text"].startswith("12 members match Examiner · History (page 1 of 2):")
    second = await world.press(first, "Next ▶")
    assert second["replace_original"] is True
    assert second["text"].startswith("12 members match Examiner · History (page 2 of 2):")
    assert "Historian 11" in second["text"] and "Historian 00" not in second["text"]
    assert [e["text"]["text"] for e in second["blocks"][-1]["elements"]] == ["◀ Previous"]


async def test_forget_me_confirmation_buttons(world: World) -> None:
    await world.runtime.services.members.upsert(
        MemberInput(name="Ana", identities={"slack": "UANA"}), world.runtime.services.clock.now()
    )
    ask = await world.command("/forget-me", "")
    styles = [e.get("style") for b in ask["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert styles == ["danger", None]
    intruder = await world.press(ask, "Delete my data", user="UBOSS")
    assert intruder["text"] == "This button is not for you."
    done = await world.press(ask, "Delete my data")
    assert done["replace_original"] is True and done["text"].startswith("Done: your data has been deleted.")
    assert await world.runtime.services.members.get_by_identity("slack", "UANA") is None


async def test_school_report_uploads_the_chart_to_the_admins_dm(world: World) -> None:
    await world.runtime.services.members.upsert(
        MemberInput(name="Kwame", identities={"slack": "UK"}, school="Accra Intl", department="Science",
                    subjects=["biology"]),
        world.runtime.services.clock.now(),
    )  # fmt: skip
    refused = await world.command("/school-report", "")
    assert refused["text"] == "Only network admins can use /school-report."
    report = await world.command("/school-report", "", user="UBOSS")
    assert (
        "Accra Intl" in report["text"] and "(I sent the file to you in a direct message.)" in report["text"]
    )
    (upload,) = world.fake.uploads.values()
    assert upload["filename"] == "school-report.png" and upload["data"].startswith(b"\x89PNG")
    dm = world.fake.calls_to("conversations.open")[-1]
    assert upload["channel"] is not None and "UBOSS" in str(dm["users"])


async def test_profile_set_hide_and_show_through_slack(world: World) -> None:
    saved = await world.command(
        "/profile", "set role=examinateur subject=biologie programme=PD tz=Europe/Madrid"
    )
    assert (
        saved["text"].startswith("Saved. Your profile now reads:") and saved["response_type"] == "ephemeral"
    )
    found = await world.command("/whois-examiner", "biology DP spanish", user="UBOSS")
    assert found["text"].startswith("1 member matches Examiner · Biology (DP · Spanish first):")
    assert "<@UANA>" in found["text"]
    assert (await world.command("/profile", "hide"))["text"].startswith("Done: you no longer appear")
    hidden = await world.command("/whois-examiner", "biology", user="UBOSS")
    assert hidden["text"].startswith("Nobody in the directory matches Examiner · Biology yet.")
    await world.command("/profile", "show")
    assert "<@UANA>" in (await world.command("/whois", "examiner biologie", user="UBOSS"))["text"]
    bad = await world.command("/profile", "set hours=sometimes")
    assert bad["text"] == "Nothing was saved:\n• hours: Write working hours like 08:00-18:00."
