"""Discord end to end: the real discord.py client logs in to a local fake REST + gateway and serves
interactions; the assertions are what a member would see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.adapter import DiscordAdapter
from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from tests.conftest import make_config
from tests.fakes.discord_server import GUILD_ID, QA_CHANNEL_ID, QA_FORUM_ID, FakeDiscord

ASKER, HELPER, EXAMINER = 5001, 5002, 5003
EPHEMERAL = 64


@contextmanager
def restored_endpoints() -> Iterator[None]:
    """discord.py keeps its endpoints in class attributes: put them back after each test."""
    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@dataclass
class DiscordWorld:
    fake: FakeDiscord
    runtime: Runtime
    adapter: DiscordAdapter
    clock: ManualClock
    scheduler: ManualScheduler

    async def interact(
        self,
        name: str,
        options: dict[str, str | int],
        *,
        user: int = ASKER,
        locale: str = "en-US",
        followups: int | None = None,
    ) -> dict[str, Any]:
        """Run a slash command and return its (last) follow-up, as the member sees it."""
        before = len(self.fake.followups)
        await self.fake.send_interaction(name, options, user_id=user, locale=locale)
        want = before + (followups or 1)
        await self.fake.wait_for(lambda f: len(f.followups) >= want)
        return self.fake.followups[want - 1]

    async def interact_in(self, channel_id: int, name: str, options: dict[str, str | int]) -> dict[str, Any]:
        """A slash command run inside a thread (its channel id is the thread's)."""
        before = len(self.fake.followups)
        await self.fake.send_interaction(name, options, user_id=ASKER, channel_id=channel_id)
        await self.fake.wait_for(lambda f: len(f.followups) > before)
        return self.fake.followups[before]


async def _world(sqlite_url: str, clock: ManualClock, qa: int) -> AsyncIterator[DiscordWorld]:
    async with FakeDiscord() as fake:
        for uid, name in ((ASKER, "ana"), (HELPER, "mei"), (EXAMINER, "kwame")):
            fake.add_user(uid, name)
        config = make_config(
            sqlite_url,
            discord={
                "enabled": True,
                "token": "fake-bot-token",
                "guild_ids": [GUILD_ID],
                "api_base_url": fake.api_base_url,
                "gateway_url": fake.gateway_url,
                "channels": {"qa": qa},
            },
        )
        scheduler = ManualScheduler()
        runtime = await build_runtime(config, clock=clock, scheduler=scheduler)
        with restored_endpoints():
            Route.BASE = "http://127.0.0.1:9/nowhere"  # only the config can lead the adapter to the fake
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("ws://127.0.0.1:9/nowhere")
            adapter = DiscordAdapter(runtime, guild_ready_timeout=0.05)
            await adapter.start(ready_within=10)
            try:
                yield DiscordWorld(fake, runtime, adapter, clock, scheduler)
            finally:
                await adapter.close()
                await runtime.close()


@pytest.fixture
async def discord_world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[DiscordWorld]:
    async for world in _world(sqlite_url, clock, QA_CHANNEL_ID):
        yield world


async def test_commands_are_synced_to_the_guild_with_typed_localized_options(
    discord_world: DiscordWorld,
) -> None:
    fake = discord_world.fake
    assert fake.synced_scope == f"guild:{GUILD_ID}"
    by_name = {c["name"]: c for c in fake.commands}
    assert set(by_name) == {
        "ask",
        "solved",
        "qa-stats",
        "qa-search",
        "whois-examiner",
        "whois",
        "profile",
        "meetups",
        "events",
        "cafe",
        "forget-me",
        "school-report",
        "help",
    }
    question = by_name["ask"]["options"][0]
    assert (question["name"], question["type"], question["required"], question["max_length"]) == (
        "question",
        3,
        True,
        3000,
    )
    assert by_name["ask"]["description"] == "Ask the network a question"
    assert by_name["ask"]["description_localizations"]["fr"] == "Poser une question au réseau"
    assert by_name["ask"]["description_localizations"]["es-ES"] == "Hacer una pregunta a la red"


async def test_ask_defers_posts_a_thread_and_follows_up_privately_with_the_link(
    discord_world: DiscordWorld,
) -> None:
    fake = discord_world.fake
    reply = await discord_world.interact(
        "ask", {"question": "How do you run IA moderation? @everyone <@&77>"}
    )

    callback = fake.interaction_callbacks[-1]
    assert callback["type"] == 5 and callback["data"]["flags"] == EPHEMERAL  # deferred, thinking, private
    root = fake.messages[QA_CHANNEL_ID][0]
    assert root["content"].startswith(f"Question from <@{ASKER}>:")
    assert "@everyone" not in root["content"] and "<@&77>" not in root["content"]
    thread = fake.threads[-1]
    assert thread["parent_id"] == str(QA_CHANNEL_ID) and thread["name"].startswith(
        "How do you run IA moderation?"
    )

    assert reply["flags"] == EPHEMERAL
    assert reply["content"].startswith("Your question is posted in the Q&A channel.")
    assert f"https://discord.com/channels/{GUILD_ID}/{QA_CHANNEL_ID}/{root['id']}" in reply["content"]
    assert reply["allowed_mentions"] == {"parse": []}

    stored = await discord_world.runtime.services.questions.by_thread("discord", str(thread["id"]))
    assert stored is not None and stored.asker_user_id == str(ASKER)


async def test_spanish_client_gets_spanish_answers(discord_world: DiscordWorld) -> None:
    reply = await discord_world.interact("help", {}, locale="es-ES")
    assert reply["content"].startswith("Conecto a educadores del IB")


async def test_whois_examiner_mentions_members_and_shows_their_local_time(
    discord_world: DiscordWorld,
) -> None:
    await discord_world.runtime.services.members.upsert(
        MemberInput(
            name="Kwame Mensah",
            identities={"discord": str(EXAMINER)},
            roles=["examiner"],
            subjects=["biology"],
            timezone="Asia/Tokyo",
        ),
        discord_world.clock.now(),
    )
    reply = await discord_world.interact("whois-examiner", {"subject": "biology"}, user=HELPER)
    assert reply["content"].splitlines()[0] == "1 member matches Examiner · Biology:"
    assert f"<@{EXAMINER}>" in reply["content"]
    assert "10:00\u202fPM their time (Asia/Tokyo)" in reply["content"]


async def test_routing_thread_answers_and_solving_through_discord(discord_world: DiscordWorld) -> None:
    fake, runtime = discord_world.fake, discord_world.runtime
    await runtime.services.members.upsert(
        MemberInput(name="Mei", identities={"discord": str(HELPER)}, roles=["examiner"],
                    subjects=["chemistry"],
                    timezone="Europe/Madrid"),
        discord_world.clock.now(),
    )  # fmt: skip
    await discord_world.interact("ask", {"question": "Titration tips?", "subject": "chemistry"})
    thread_id = int(fake.threads[-1]["id"])
    assert fake.messages[QA_CHANNEL_ID][0]["content"].startswith(f"Question from <@{ASKER}>: Chemistry")
    await discord_world.scheduler.run_due(discord_world.clock.now())  # wave 1
    await fake.wait_for(lambda f: any(r.path == "/users/@me/channels" for r in f.requests))
    dm_channel = next(r for r in fake.requests if r.path == "/users/@me/channels")
    assert str(dm_channel.json["recipient_id"]) == str(HELPER)
    ping = next(m for ch, ms in fake.messages.items() if ch not in (QA_CHANNEL_ID, thread_id) for m in ms)
    assert "asked a question about Chemistry" in ping["content"]

    answer_id = await fake.send_message(thread_id, "Use a white tile under the flask.", author_id=HELPER)
    await runtime.dispatcher.wait_handled("message", 1)
    question = await runtime.services.questions.by_thread("discord", str(thread_id))
    assert question is not None and question.first_answerer_user_id == str(HELPER)
    asker_note = [m for ms in fake.messages.values() for m in ms if "first answer" in m["content"]]
    assert (
        asker_note
        and asker_note[0]["components"][0]["components"][0]["custom_id"] == f"iben:qa.solve:{question.id}"
    )

    await fake.send_reaction(thread_id, answer_id, "✅", user_id=HELPER)  # not the asker: ignored
    await runtime.dispatcher.wait_handled("reaction", 1)
    assert (await runtime.services.questions.get(question.id)).solved_at is None  # type: ignore[union-attr]
    await fake.send_reaction(thread_id, answer_id, "✅", user_id=ASKER)
    await runtime.dispatcher.wait_handled("reaction", 2)
    assert fake.messages[thread_id][-1]["content"] == f"✅ Solved. Thank you <@{HELPER}> for the answer!"

    again = await discord_world.interact_in(thread_id, "solved", {})
    assert again["content"] == "This question was already marked solved."


@pytest.fixture
async def forum_world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[DiscordWorld]:
    async for world in _world(sqlite_url, clock, QA_FORUM_ID):
        yield world


async def test_a_forum_qa_channel_gets_a_forum_post(forum_world: DiscordWorld) -> None:
    reply = await forum_world.interact("ask", {"question": "Forum-style question?"})
    post = forum_world.fake.threads[-1]
    assert post["parent_id"] == str(QA_FORUM_ID) and post["name"] == "Forum-style question?"
    starter = forum_world.fake.messages[int(post["id"])][0]
    assert starter["content"].startswith(f"Question from <@{ASKER}>:")
    assert f"https://discord.com/channels/{GUILD_ID}/{post['id']}" in reply["content"]
