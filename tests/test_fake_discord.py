"""Self-test for the fake Discord: the real discord.py client must work against it end to end.

If these fail, adapter tests built on the fake would be testing the fake, not the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest
from discord import app_commands
from discord.http import Route

from tests.fakes.discord_server import (
    ANNOUNCEMENTS_CHANNEL_ID,
    APP_ID,
    BOT_USER_ID,
    GUILD_ID,
    QA_CHANNEL_ID,
    QA_FORUM_ID,
    QA_FORUM_TAGS,
    SECOND_CHANNEL_ID,
    SECOND_GUILD_ID,
    FakeDiscord,
    pointed_at,
)

TOKEN = "fake-bot-token"
ALICE = 5001
EPHEMERAL = 64


@dataclass
class Bot:
    """A logged-in, ready discord.py client plus what its handlers observed."""

    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    inbox: asyncio.Queue[discord.Message]


class VoteView(discord.ui.View):
    """A message-bound button, dispatched by discord.py via (message id, custom_id)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Vote", custom_id="vote")
    async def vote(
        self, interaction: discord.Interaction[discord.Client], button: discord.ui.Button[VoteView]
    ) -> None:
        await interaction.response.edit_message(content=f"Votes: 1 ({interaction.user.name})", view=None)


def build_client(inbox: asyncio.Queue[discord.Message], *, message_content: bool = True) -> Bot:
    """A client shaped like the production adapter: slash commands, threads, a message listener."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before on_ready.
    client = discord.Client(intents=intents, guild_ready_timeout=0.1)
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)

    @tree.command(name="ping", description="Answer privately")
    @app_commands.describe(text="Echoed back")
    async def ping(interaction: discord.Interaction[discord.Client], text: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(f"pong {text}", ephemeral=True)

    @tree.command(name="announce", description="Post an announcement with a discussion thread")
    async def announce(interaction: discord.Interaction[discord.Client], title: str) -> None:
        channel = interaction.client.get_channel(ANNOUNCEMENTS_CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        message = await channel.send(f"📣 {title}", allowed_mentions=discord.AllowedMentions.none())
        thread = await message.create_thread(name=title, auto_archive_duration=1440)
        await thread.send("Discuss here")
        await interaction.response.send_message(f"Posted in {thread.mention}", ephemeral=True)

    @tree.command(name="ask", description="Ask in the Q&A forum")
    async def ask(interaction: discord.Interaction[discord.Client], question: str) -> None:
        forum = interaction.client.get_channel(QA_FORUM_ID)
        assert isinstance(forum, discord.ForumChannel)
        tag = next(t for t in forum.available_tags if t.name == "Biology")
        created = await forum.create_thread(name=question[:100], content=question, applied_tags=[tag])
        await interaction.response.send_message(f"Asked in {created.thread.mention}", ephemeral=True)

    @tree.command(name="poll", description="Post a vote button with an attachment")
    async def poll(interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.defer(thinking=True)
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        view = VoteView()
        data = discord.File(io.BytesIO(b"a,b\n1,2\n"), filename="results.csv")
        await channel.send("Vote here", view=view, file=data)
        await interaction.edit_original_response(content="Poll posted")

    @client.event
    async def on_message(message: discord.Message) -> None:
        # Discord echoes the bot's own messages; real handlers must skip them too.
        if client.user is not None and message.author.id != client.user.id:
            inbox.put_nowait(message)

    return Bot(client=client, tree=tree, inbox=inbox)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        server.add_user(ALICE, "alice", global_name="Alice")
        with pointed_at(server):
            yield server
    # Everything the client and server started must be gone once both are closed.
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []


@contextlib.asynccontextmanager
async def run_client(bot: Bot) -> AsyncIterator[Bot]:
    """Log in, connect as a task, wait for on_ready; close cleanly afterwards."""
    await bot.client.login(TOKEN)
    task = asyncio.create_task(bot.client.connect(reconnect=False))
    try:
        async with asyncio.timeout(5):
            await bot.client.wait_until_ready()
        # A guild sync only sends guild-scoped commands; copy the global ones like a dev-guild setup.
        guild = discord.Object(GUILD_ID)
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)
        yield bot
    finally:
        await bot.client.close()
        await task  # returns normally after a 1000 close; raises if the connection broke


@pytest.fixture
async def bot(fake: FakeDiscord, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Bot]:
    async with run_client(build_client(asyncio.Queue())) as ready:
        yield ready
    # discord.py logs (rather than raises) exceptions from commands, views and event handlers.
    errors = [r for r in caplog.records if r.name.startswith("discord") and r.levelno >= logging.ERROR]
    assert errors == []


async def next_message(inbox: asyncio.Queue[discord.Message]) -> discord.Message:
    async with asyncio.timeout(5):
        return await inbox.get()


async def test_login_gateway_and_sync(fake: FakeDiscord, bot: Bot) -> None:
    paths = [(r.method, r.path) for r in fake.requests]
    assert ("GET", "/users/@me") in paths
    assert ("GET", "/oauth2/applications/@me") in paths
    assert fake.synced_scope == f"guild:{GUILD_ID}"
    assert {c["name"] for c in fake.commands} == {"ping", "announce", "ask", "poll"}
    assert bot.client.user is not None and bot.client.user.id == BOT_USER_ID
    assert bot.client.application_id == APP_ID

    guild = bot.client.get_guild(GUILD_ID)
    assert guild is not None and guild.me is not None
    assert isinstance(guild.get_channel(QA_CHANNEL_ID), discord.TextChannel)
    forum = guild.get_channel(QA_FORUM_ID)
    assert isinstance(forum, discord.ForumChannel)
    assert {t.name: t.id for t in forum.available_tags} == QA_FORUM_TAGS


async def test_deferred_ephemeral_command(fake: FakeDiscord, bot: Bot) -> None:
    interaction_id = await fake.send_interaction("ping", {"text": "hi"}, user_id=ALICE)
    await fake.wait_for(lambda f: len(f.followups) == 1)

    assert fake.interaction_callbacks == [
        {"interaction_id": interaction_id, "type": 5, "data": {"flags": EPHEMERAL}}
    ]
    followup = fake.followups[0]
    assert followup["content"] == "pong hi"
    assert followup["flags"] == EPHEMERAL
    # The recorded follow-up went to the interaction webhook and asked for the message back.
    webhook_calls = [r for r in fake.requests if r.path.startswith(f"/webhooks/{APP_ID}/")]
    assert webhook_calls[-1].method == "POST" and webhook_calls[-1].query["wait"] == "1"
    # Nothing public was posted.
    assert fake.messages == {}


async def test_post_thread_and_listen(fake: FakeDiscord, bot: Bot) -> None:
    thread_seen = asyncio.create_task(bot.client.wait_for("thread_create", timeout=5))
    await fake.send_interaction("announce", {"title": "Workshop"}, user_id=ALICE)
    await fake.wait_for(lambda f: len(f.interaction_callbacks) == 1)

    posted = fake.messages[ANNOUNCEMENTS_CHANNEL_ID]
    assert [m["content"] for m in posted] == ["📣 Workshop"]
    [post] = [r for r in fake.requests if r.path == f"/channels/{ANNOUNCEMENTS_CHANNEL_ID}/messages"]
    assert post.json["allowed_mentions"] == {"parse": []}
    [thread] = fake.threads
    assert thread["id"] == posted[0]["id"]  # Discord reuses the starter message id
    assert thread["parent_id"] == str(ANNOUNCEMENTS_CHANNEL_ID) and thread["type"] == 11
    thread_id = int(thread["id"])
    assert [m["content"] for m in fake.messages[thread_id]] == ["Discuss here"]
    callback = fake.interaction_callbacks[0]
    assert callback["type"] == 4
    assert callback["data"]["content"] == f"Posted in <#{thread_id}>"
    assert callback["data"]["flags"] == EPHEMERAL

    cached = await thread_seen
    assert isinstance(cached, discord.Thread) and cached.id == thread_id

    await fake.send_message(QA_CHANNEL_ID, "hello bot", author_id=ALICE)
    received = await next_message(bot.inbox)
    assert received.content == "hello bot"
    assert received.author.id == ALICE and isinstance(received.author, discord.Member)
    assert received.channel.id == QA_CHANNEL_ID

    await fake.send_message(thread_id, "a reply in the thread", author_id=ALICE)
    in_thread = await next_message(bot.inbox)
    assert isinstance(in_thread.channel, discord.Thread) and in_thread.channel.id == thread_id


async def test_forum_post(fake: FakeDiscord, bot: Bot) -> None:
    await fake.send_interaction("ask", {"question": "How do enzymes work?"}, user_id=ALICE)
    await fake.wait_for(lambda f: len(f.interaction_callbacks) == 1)

    [thread] = fake.threads
    assert thread["parent_id"] == str(QA_FORUM_ID)
    assert thread["applied_tags"] == [str(QA_FORUM_TAGS["Biology"])]
    assert thread["name"] == "How do enzymes work?"
    starter = fake.messages[int(thread["id"])][0]
    assert starter["content"] == "How do enzymes work?" and starter["id"] == thread["id"]
    assert fake.interaction_callbacks[0]["data"]["content"] == f"Asked in <#{thread['id']}>"


async def test_dm_member_lookup_and_unknown_route(fake: FakeDiscord, bot: Bot) -> None:
    member = await bot.client.get_guild(GUILD_ID).fetch_member(ALICE)  # type: ignore[union-attr]
    assert member.global_name == "Alice"
    user = await bot.client.fetch_user(ALICE)
    sent = await user.send("Your question got an answer")
    assert isinstance(sent.channel, discord.DMChannel)
    dm_id = int(fake.dm_channels[ALICE]["id"])
    assert [m["content"] for m in fake.messages[dm_id]] == ["Your question got an answer"]

    with pytest.raises(discord.NotFound):
        await bot.client.http.request(Route("GET", "/definitely/not/a/route"))
    assert fake.requests[-1].path == "/definitely/not/a/route"


async def test_button_edit_and_attachment(fake: FakeDiscord, bot: Bot) -> None:
    await fake.send_interaction("poll", user_id=ALICE)
    await fake.wait_for(lambda f: any(e.get("_edit") for e in f.followups))

    assert fake.interaction_callbacks[0]["type"] == 5 and fake.interaction_callbacks[0]["data"] == {}
    # discord.py puts "tts": False into every message body, edits included.
    assert fake.followups == [{"content": "Poll posted", "tts": False, "_edit": True}]
    [post] = fake.messages[QA_CHANNEL_ID]
    assert post["attachments"][0]["filename"] == "results.csv"
    assert [r.files for r in fake.requests if r.path == f"/channels/{QA_CHANNEL_ID}/messages"] == [
        ["results.csv"]
    ]
    assert post["components"][0]["components"][0]["custom_id"] == "vote"

    await fake.send_component("vote", user_id=ALICE, message_id=int(post["id"]))
    await fake.wait_for(lambda f: len(f.interaction_callbacks) == 2)
    assert fake.interaction_callbacks[1]["type"] == 7
    assert post["content"] == "Votes: 1 (alice)" and post["components"] == []


async def test_message_content_is_withheld_without_the_intent(fake: FakeDiscord) -> None:
    async with run_client(build_client(asyncio.Queue(), message_content=False)) as bot:
        await fake.send_message(QA_CHANNEL_ID, "secret words", author_id=ALICE)
        assert (await next_message(bot.inbox)).content == ""
        await fake.send_message(QA_CHANNEL_ID, f"<@{BOT_USER_ID}> hi", author_id=ALICE)
        assert (await next_message(bot.inbox)).content == f"<@{BOT_USER_ID}> hi"


async def test_an_auto_sharded_client_gets_each_guild_on_its_own_shard(fake: FakeDiscord) -> None:
    fake.shard_count = 2
    fake.add_guild(SECOND_GUILD_ID, "Second Network", channels={SECOND_CHANNEL_ID: "general"})
    # No shard_count: discord.py asks GET /gateway/bot how many shards to run, then connects them all.
    client = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.1)

    async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s between a process's IDENTIFYs (Discord's rate limit); not here."""

    client.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
    tree: app_commands.CommandTree[discord.AutoShardedClient] = app_commands.CommandTree(client)

    @tree.command(name="where", description="Say which guild asked")
    async def where(interaction: discord.Interaction[discord.AutoShardedClient]) -> None:
        await interaction.response.send_message(f"guild {interaction.guild_id}", ephemeral=True)

    await client.login(TOKEN)
    task = asyncio.create_task(client.connect(reconnect=False))
    try:
        async with asyncio.timeout(5):
            await client.wait_until_ready()
        for guild_id in (GUILD_ID, SECOND_GUILD_ID):
            tree.copy_global_to(guild=discord.Object(guild_id))
            await tree.sync(guild=discord.Object(guild_id))
        assert ("GET", "/gateway/bot") in [(r.method, r.path) for r in fake.requests]
        assert client.shard_count == 2 and sorted(client.shards) == [0, 1]
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        assert {g.id: g.shard_id for g in client.guilds} == {GUILD_ID: 0, SECOND_GUILD_ID: 1}
        assert [g["id"] for g in fake.events_for_shard(1, "GUILD_CREATE")] == [str(SECOND_GUILD_ID)]
        second = client.get_channel(SECOND_CHANNEL_ID)
        assert isinstance(second, discord.TextChannel) and second.guild.id == SECOND_GUILD_ID

        interaction_id = await fake.send_interaction("where", user_id=ALICE, channel_id=SECOND_CHANNEL_ID)
        await fake.wait_for(lambda f: bool(f.interaction_messages(interaction_id)))
        assert fake.interaction_messages(interaction_id)[0]["content"] == f"guild {SECOND_GUILD_ID}"
        assert fake.events_for_shard(0, "INTERACTION_CREATE") == []
        assert len(fake.events_for_shard(1, "INTERACTION_CREATE")) == 1

        dm = await (await client.fetch_user(ALICE)).send("hello")  # DM events go to shard 0 only
        await fake.wait_for(
            lambda f: any(d["id"] == str(dm.id) for d in f.events_for_shard(0, "MESSAGE_CREATE"))
        )
        assert all(d["id"] != str(dm.id) for d in fake.events_for_shard(1, "MESSAGE_CREATE"))
    finally:
        await client.close()
        await task
