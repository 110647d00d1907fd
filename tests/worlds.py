"""The real Slack and Discord adapters wired to their local fakes, for feature tests: a fresh runtime
on SQLite with a manual clock and scheduler, the adapter started, everything torn down after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from adapters.discord.adapter import DiscordAdapter
from adapters.runtime import Runtime, build_runtime
from adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from bot.clock import ManualClock
from bot.scheduling import ManualScheduler
from tests.conftest import make_config
from tests.fakes.discord_server import GUILD_ID, FakeDiscord
from tests.fakes.slack_api import FakeSlackAPI
from tests.test_discord_e2e import restored_endpoints


async def run_due(runtime: Runtime) -> int:
    """Run the scheduled jobs due at the runtime's (manual) clock."""
    scheduler = runtime.scheduler
    assert isinstance(scheduler, ManualScheduler)
    return await scheduler.run_due(runtime.services.clock.now())


@asynccontextmanager
async def discord_world(
    db_url: str, clock: ManualClock, *, users: Mapping[int, str], channels: dict[str, int], admins: list[int]
) -> AsyncIterator[tuple[FakeDiscord, Runtime]]:
    async with FakeDiscord() as fake:
        for user_id, name in users.items():
            fake.add_user(user_id, name)
        discord = {"enabled": True, "token": "fake-bot-token", "guild_ids": [GUILD_ID], "channels": channels}
        discord.update(api_base_url=fake.api_base_url, gateway_url=fake.gateway_url)
        config = make_config(db_url, discord=discord, admins={"discord": [str(a) for a in admins]})
        runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
        with restored_endpoints():
            adapter = DiscordAdapter(runtime, guild_ready_timeout=0.05)
            await adapter.start(ready_within=10)
            try:
                yield fake, runtime
            finally:
                await adapter.close()
                await runtime.close()


@asynccontextmanager
async def slack_world(
    db_url: str,
    clock: ManualClock,
    *,
    secret: str,
    users: Mapping[str, str],
    channels: dict[str, str],
    admins: list[str],
    **sections: Any,
) -> AsyncIterator[tuple[FakeSlackAPI, Runtime, str, aiohttp.ClientSession]]:
    """Yields the fake Web API, the runtime, the bot's events URL and an HTTP session to sign with."""
    async with FakeSlackAPI() as fake:
        for user_id, locale in users.items():
            fake.add_user(user_id, user_id.lower(), tz="Europe/London", locale=locale)
        config = make_config(
            db_url,
            slack={"enabled": True, "mode": "http", "bot_token": "xoxb-t", "signing_secret": secret,
                   "api_base_url": fake.base_url, "channels": channels},
            admins={"slack": admins},
            **sections,
        )  # fmt: skip
        runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
        runner, port = await SlackAdapter(runtime).start_http("127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                yield fake, runtime, f"http://127.0.0.1:{port}{EVENTS_PATH}", http
        finally:
            await runner.cleanup()
            await runtime.close()
