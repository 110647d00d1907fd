"""Discord sharding: two `iben-bot run` processes, each holding one of two shards, share one database
and one (fake) Discord. Each gets only its own guild's events; either can post anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.port import DiscordPort
from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.config import Config, ConfigError
from bot.port import Button, MessageRef
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from tests.conftest import make_config
from tests.fakes.discord_server import (
    APP_ID,
    GUILD_ID,
    QA_CHANNEL_ID,
    QA_FORUM_ID,
    QA_FORUM_TAGS,
    SECOND_CHANNEL_ID,
    SECOND_GUILD_ID,
    FakeDiscord,
    shard_of,
)
from tests.test_discord_e2e import restored_endpoints

SHARDS = 2
ASKER, HELPER, EXAMINER = 5001, 5002, 5003


@dataclass
class Process:
    """One `iben-bot run`: its runtime (on the shared database) and its Discord adapter."""

    runtime: Runtime
    adapter: DiscordAdapter

    @property
    def port(self) -> DiscordPort:
        return self.adapter.port

    def commands_handled(self) -> int:
        return self.runtime.dispatcher.handled["command"]


@dataclass
class Cluster:
    fake: FakeDiscord
    shard0: Process
    shard1: Process


def _config(db_url: str, fake: FakeDiscord | None = None, **discord_settings: Any) -> Config:
    discord_section: dict[str, Any] = {"enabled": True, "token": "fake-bot-token", **discord_settings}
    if fake is not None:
        discord_section.update(api_base_url=fake.api_base_url, gateway_url=fake.gateway_url)
    return make_config(db_url, discord=discord_section)


@pytest.fixture
async def cluster(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Cluster]:
    assert shard_of(GUILD_ID, SHARDS) == 0 and shard_of(SECOND_GUILD_ID, SHARDS) == 1
    async with FakeDiscord(shard_count=SHARDS) as fake, AsyncExitStack() as stack:
        fake.add_guild(SECOND_GUILD_ID, "Second Network", channels={SECOND_CHANNEL_ID: "general"})
        for uid, name in ((ASKER, "ana"), (HELPER, "mei"), (EXAMINER, "kwame")):
            fake.add_user(uid, name)
        stack.enter_context(restored_endpoints())
        processes: list[Process] = []
        for shard in range(SHARDS):
            config = _config(
                sqlite_url,
                fake,
                guild_ids=[GUILD_ID, SECOND_GUILD_ID],
                channels={"qa": QA_CHANNEL_ID},
                shard_count=SHARDS,
                shard_ids=[shard],
            )
            runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
            stack.push_async_callback(runtime.close)
            adapter = DiscordAdapter(runtime, guild_ready_timeout=0.05)
            stack.push_async_callback(adapter.close)
            processes.append(Process(runtime, adapter))
        for process in processes:
            await process.adapter.start(ready_within=10)
        yield Cluster(fake, *processes)


async def test_each_process_identifies_with_its_own_shard_and_gets_only_its_guild(cluster: Cluster) -> None:
    fake = cluster.fake
    assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, SHARDS), (1, SHARDS)]
    assert isinstance(cluster.shard0.adapter.client, discord.AutoShardedClient)
    assert [g["id"] for g in fake.events_for_shard(0, "GUILD_CREATE")] == [str(GUILD_ID)]
    assert [g["id"] for g in fake.events_for_shard(1, "GUILD_CREATE")] == [str(SECOND_GUILD_ID)]
    shard0, shard1 = cluster.shard0.adapter.client, cluster.shard1.adapter.client
    assert [g.id for g in shard0.guilds] == [GUILD_ID] and [g.id for g in shard1.guilds] == [SECOND_GUILD_ID]

    # Application commands are registered once for the bot, by the process holding shard 0.
    assert cluster.shard0.adapter.syncs_commands and not cluster.shard1.adapter.syncs_commands
    syncs = sorted(r.path for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands"))
    assert syncs == [
        f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands",
        f"/applications/{APP_ID}/guilds/{SECOND_GUILD_ID}/commands",
    ]


async def test_an_interaction_is_answered_once_by_the_process_holding_its_guild(
    cluster: Cluster, clock: ManualClock
) -> None:
    fake = cluster.fake
    await cluster.shard1.runtime.services.members.upsert(
        MemberInput(
            name="Kwame Mensah",
            identities={"discord": str(EXAMINER)},
            roles=["examiner"],
            subjects=["biology"],
            timezone="Asia/Tokyo",
        ),
        clock.now(),
    )  # one database: either process sees it

    for channel_id, holder, other in (
        (QA_CHANNEL_ID, cluster.shard0, cluster.shard1),
        (SECOND_CHANNEL_ID, cluster.shard1, cluster.shard0),
    ):
        before = (holder.commands_handled(), other.commands_handled())
        interaction = await fake.send_interaction(
            "whois-examiner", {"subject": "biology"}, user_id=ASKER, channel_id=channel_id
        )
        await fake.wait_for(lambda f, iid=interaction: bool(f.interaction_messages(iid)))
        [answer] = fake.interaction_messages(interaction)
        assert answer["content"].splitlines()[0] == "1 member matches Examiner · Biology:"
        assert f"<@{EXAMINER}>" in answer["content"]
        assert [c["interaction_id"] for c in fake.interaction_callbacks].count(interaction) == 1
        assert (holder.commands_handled(), other.commands_handled()) == (before[0] + 1, before[1])

    delivered = {
        shard: [int(d["channel_id"]) for d in fake.events_for_shard(shard, "INTERACTION_CREATE")]
        for shard in range(SHARDS)
    }
    assert delivered == {0: [QA_CHANNEL_ID], 1: [SECOND_CHANNEL_ID]}


async def test_the_process_holding_only_shard_1_posts_into_the_shard_0_guild(cluster: Cluster) -> None:
    """Scheduled work runs in whichever process leads: its port must reach guilds it does not cache."""
    fake, port = cluster.fake, cluster.shard1.port
    assert cluster.shard1.adapter.client.get_channel(QA_CHANNEL_ID) is None

    posted = await port.post(str(QA_CHANNEL_ID), "Reminder: the meet-up starts in one hour.")
    assert fake.messages[QA_CHANNEL_ID][-1]["content"] == "Reminder: the meet-up starts in one hour."
    assert posted.link == f"https://discord.com/channels/{GUILD_ID}/{QA_CHANNEL_ID}/{posted.message_id}"
    again = await port.post(str(QA_CHANNEL_ID), "A second reminder.")
    assert again.link == f"https://discord.com/channels/{GUILD_ID}/{QA_CHANNEL_ID}/{again.message_id}"
    lookups = [r for r in fake.requests if r.method == "GET" and r.path == f"/channels/{QA_CHANNEL_ID}"]
    assert len(lookups) == 1  # the channel is looked up once, then written to directly

    thread = await port.open_thread(str(QA_CHANNEL_ID), "This week's café round", title="Café round")
    assert thread.thread is not None and fake.threads[-1]["guild_id"] == str(GUILD_ID)
    reply = await port.reply_in_thread(thread, "Tables are out.")
    assert fake.messages[int(thread.thread)][-1]["content"] == "Tables are out."
    assert reply.link == f"https://discord.com/channels/{GUILD_ID}/{thread.thread}/{reply.message_id}"
    await port.send(thread, "Pick one:", buttons=[Button("Join", "cafe.join", "1")])
    assert fake.messages[int(thread.thread)][-1]["components"][0]["components"][0]["custom_id"] == (
        "iben:cafe.join:1"
    )
    await port.react(MessageRef(port.platform, str(QA_CHANNEL_ID), posted.message_id), "✅")
    assert fake.reactions[-1] == {
        "channel_id": QA_CHANNEL_ID,
        "message_id": int(posted.message_id),
        "emoji": "✅",
        "added": True,
    }

    forum_post = await port.open_thread(str(QA_FORUM_ID), "Enzymes?", title="Enzymes?", tags=["Biology"])
    assert fake.threads[-1]["applied_tags"] == [str(QA_FORUM_TAGS["Biology"])]
    assert forum_post.link == f"https://discord.com/channels/{GUILD_ID}/{forum_post.thread}"

    group = await port.open_group(
        [str(ASKER), str(HELPER)], "Meet your table.", title="Table 1", channel=str(QA_CHANNEL_ID)
    )
    assert group.thread is not None
    assert fake.threads[-1]["type"] == 12 and fake.thread_members[int(group.thread)] == [ASKER, HELPER]
    assert fake.messages[int(group.thread)][-1]["content"] == "Meet your table."

    dm = await port.dm(str(ASKER), "Your meet-up is tomorrow.")
    dm_channel = int(fake.dm_channels[ASKER]["id"])
    assert dm.channel == str(dm_channel) and fake.messages[dm_channel][-1]["content"] == (
        "Your meet-up is tomorrow."
    )
    user = await port.lookup_user(str(HELPER))
    assert user is not None and user.display_name == "mei"

    # The gateway echoes and THREAD_CREATEs went to the process holding the guild, not to this one.
    assert fake.events_for_shard(1, "THREAD_CREATE") == []
    assert len(fake.events_for_shard(0, "THREAD_CREATE")) == 3
    assert all(m["guild_id"] == str(SECOND_GUILD_ID) for m in fake.events_for_shard(1, "MESSAGE_CREATE"))


async def test_sharded_and_unsharded_clients_are_built_from_the_settings(sqlite_url: str) -> None:
    with restored_endpoints():
        plain = DiscordAdapter(await build_runtime(_config(sqlite_url)))
        assert type(plain.client) is discord.Client
        assert plain.shards is None and plain.syncs_commands

        every = DiscordAdapter(await build_runtime(_config(sqlite_url, shard_count=3)))
        assert isinstance(every.client, discord.AutoShardedClient)
        assert (every.client.shard_count, every.client.shard_ids) == (3, [0, 1, 2])
        assert every.syncs_commands

        some = DiscordAdapter(await build_runtime(_config(sqlite_url, shard_count=3, shard_ids=[1, 2])))
        assert isinstance(some.client, discord.AutoShardedClient)
        assert (some.client.shard_count, some.client.shard_ids) == (3, [1, 2])
        assert not some.syncs_commands and some.shards_text() == "holding shards 1, 2 of 3"
        for adapter in (plain, every, some):
            await adapter.runtime.close()


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"shard_ids": [0]}, "test: [discord] shard_ids: needs shard_count (how many shards in all)"),
        (
            {"shard_count": 2, "shard_ids": [0, 2]},
            "test: [discord] shard_ids: every shard number must be below 2",
        ),
    ],
)
def test_shard_ids_need_a_shard_count_above_them(
    sqlite_url: str, settings: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _config(sqlite_url, **settings)
    assert problem in info.value.problems
