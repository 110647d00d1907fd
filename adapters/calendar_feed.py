"""The calendar feed over HTTP: `GET /calendar/<platform>/<channel>.ics`, every meeting posted in that
channel for the next year, for calendar apps to subscribe to. Served wherever the bot listens on HTTP
(Slack's HTTP mode today)."""

from __future__ import annotations

import re

from aiohttp import web

from adapters.runtime import Runtime
from bot.events import Platform
from bot.handlers.events import export_ics

FEED_PATH = "/calendar/{platform}/{channel}.ics"
_CHANNEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def calendar_routes(runtime: Runtime) -> list[web.RouteDef]:
    async def feed(request: web.Request) -> web.Response:
        platform, channel = request.match_info["platform"], request.match_info["channel"]
        if platform not in {p.value for p in Platform} or not _CHANNEL.match(channel):
            raise web.HTTPNotFound()
        data = await export_ics(runtime.services, platform, channel, runtime.services.clock.now())
        return web.Response(
            body=data,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Cache-Control": "max-age=300"},
        )

    return [web.get(FEED_PATH, feed)]
