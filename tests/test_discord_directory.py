"""The directory on Discord: sub-commands, a modal (send_modal, submit), paging and confirmation
buttons, and the admin report's file, through the real discord.py client against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from tests.conftest import make_config
from tests.fakes.discord_server import GUILD_ID, QA_CHANNEL_ID, FakeDiscord
from tests.test_discord_e2e import restored_endpoints

ANA, BOSS = 6001, 6002


class World:
    def __init__(self, fake: FakeDiscord, runtime: Runtime) -> None:
        self.fake, self.runtime = fake, runtime

    async def interact(
        self, name: str, options: dict[str, str | int], *, user: int = ANA, subcommand: str | None = None
    ) -> dict[str, Any]:
        before = len(self.fake.followups)
        await self.fake.send_interaction(name, options, user_id=user, subcommand=subcommand)
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]

    async def press(self, custom_id_prefix: str, *, user: int = ANA) -> dict[str, Any]:
        message = self.fake.message_with_component(custom_id_prefix)
        custom_id = next(
            c["custom_id"] for row in message["components"] for c in row["components"]
            if c["custom_id"].startswith(custom_id_prefix)
        )  # fmt: skip
        before = len(self.fake.followups)
        await self.fake.send_component(custom_id, user_id=user, message_id=int(message["id"]))
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with FakeDiscord() as fake:
        fake.add_user(ANA, "ana")
        fake.add_user(BOSS, "boss")
        config = make_config(
            sqlite_url,
            discord={"enabled": True, "token": "fake-bot-token", "guild_ids": [GUILD_ID],
                     "api_base_url": fake.api_base_url, "gateway_url": fake.gateway_url,
                     "channels": {"qa": QA_CHANNEL_ID}},
            admins={"discord": [str(BOSS)]},
        )  # fmt: skip
        runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
        with restored_endpoints():
            adapter = DiscordAdapter(runtime, guild_ready_timeout=0.05)
            await adapter.start(ready_within=10)
            try:
                yield World(fake, runtime)
            finally:
                await adapter.close()
                await runtime.close()


async def test_profile_is_a_group_of_sub_commands(world: World) -> None:
    profile = next(c for c in world.fake.commands if c["name"] == "profile")
    subs = {o["name"]: o for o in profile["options"]}
    assert set(subs) == {"view", "edit", "set", "hide", "show"} and all(o["type"] == 1 for o in subs.values())
    assert subs["set"]["options"][0]["name"] == "fields"
    whois = next(c for c in world.fake.commands if c["name"] == "whois-examiner")
    assert [(o["name"], o["required"]) for o in whois["options"]] == [
        ("subject", True), ("programme", False), ("language", False),
    ]  # fmt: skip


async def test_profile_set_then_view(world: World) -> None:
    saved = await world.interact(
        "profile", {"fields": "role=examinador subject=biología tz=madrid"}, subcommand="set"
    )
    assert saved["content"].startswith("Saved. Your profile now reads:")
    view = await world.interact("profile", {}, subcommand="view")
    assert "Roles: Examiner" in view["content"] and "Europe/Madrid" in view["content"]


async def test_profile_edit_opens_a_modal_and_its_submission_saves(world: World) -> None:
    await world.interact("profile", {"fields": "subject=Physics"}, subcommand="set")
    await world.fake.send_interaction("profile", {}, user_id=ANA, subcommand="edit")
    await world.fake.wait_for(lambda f: any(c["type"] == 9 for c in f.interaction_callbacks))
    modal = next(c for c in world.fake.interaction_callbacks if c["type"] == 9)["data"]
    assert modal["custom_id"] == "iben:form:profile"
    inputs = {c["custom_id"]: c for row in modal["components"] for c in row["components"]}
    assert set(inputs) == {"roles", "subjects", "programmes", "languages", "where"}
    assert inputs["subjects"]["value"] == "Physics"

    before = len(world.fake.followups)
    values = {"roles": "examiner", "subjects": "Astrology", "programmes": "", "languages": "", "where": ""}
    await world.fake.send_modal_submit("iben:form:profile", values, user_id=ANA)
    await world.fake.wait_for(lambda f: len(f.followups) > before)
    refused = world.fake.followups[before]
    assert refused["content"].startswith("Nothing was saved:") and "Astrology" in refused["content"]

    # Discord closes a modal on submit: the member runs /profile edit again to retry.
    await world.fake.send_interaction("profile", {}, user_id=ANA, subcommand="edit")
    await world.fake.wait_for(lambda f: sum(c["type"] == 9 for c in f.interaction_callbacks) == 2)
    values.update(subjects="Chemistry, Physics", where="Asia/Tokyo 09:00-17:00")
    await world.fake.send_modal_submit("iben:form:profile", values, user_id=ANA)
    await world.fake.wait_for(lambda f: len(f.followups) > before + 1)
    assert world.fake.followups[before + 1]["content"].startswith("Saved.")
    card = await world.runtime.services.members.get_by_identity("discord", str(ANA))
    assert card is not None and card.subjects == ("chemistry", "physics") and card.timezone == "Asia/Tokyo"


async def test_paging_buttons_edit_the_results_message(world: World) -> None:
    now = world.runtime.services.clock.now()
    for i in range(11):
        await world.runtime.services.members.upsert(
            MemberInput(name=f"Economist {i:02d}", roles=["examiner"], subjects=["economics"]), now
        )
    first = await world.interact("whois", {"query": "examiner economics"})
    assert first["content"].startswith("11 members match Examiner · Economics (page 1 of 2):")
    edited = await world.press("iben:whois.page:")
    assert edited.get("_edit") is True
    assert edited["content"].startswith("11 members match Examiner · Economics (page 2 of 2):")
    assert [c["label"] for row in edited["components"] for c in row["components"]] == ["◀ Previous"]


async def test_forget_me_buttons(world: World) -> None:
    await world.interact("profile", {"fields": "subject=History"}, subcommand="set")
    await world.interact("forget-me", {})
    intruder = await world.press("iben:forget.confirm:", user=BOSS)
    assert intruder["content"] == "This button is not for you."
    done = await world.press("iben:forget.confirm:")
    assert done["content"].startswith("Done: your data has been deleted.")
    assert await world.runtime.services.members.get_by_identity("discord", str(ANA)) is None


async def test_school_report_attaches_the_chart(world: World) -> None:
    await world.runtime.services.members.upsert(
        MemberInput(name="K", identities={"discord": "7"}, school="Lagos Prep"),
        world.runtime.services.clock.now(),
    )
    refused = await world.interact("school-report", {})
    assert refused["content"] == "Only network admins can use /school-report."
    report = await world.interact("school-report", {}, user=BOSS)
    assert "Lagos Prep" in report["content"] and report["flags"] == 64
    assert report["_files"] == ["school-report.png"]


async def test_hide_and_show_through_discord(world: World) -> None:
    await world.interact("profile", {"fields": "role=examiner subject=music"}, subcommand="set")
    assert f"<@{ANA}>" in (await world.interact("whois-examiner", {"subject": "music"}, user=BOSS))["content"]
    hide = await world.interact("profile", {}, subcommand="hide")
    assert hide["content"].startswith("Done: you no longer appear")
    gone = await world.interact("whois-examiner", {"subject": "music", "programme": "DP"}, user=BOSS)
    assert gone["content"].startswith("Nobody in the directory matches Examiner · Music")
    await world.interact("profile", {}, subcommand="show")
    assert f"<@{ANA}>" in (await world.interact("whois", {"query": "music examiner"}, user=BOSS))["content"]
