"""Point discord.py at the configured REST and gateway URLs (Discord, a compatible server, a test server).

discord.py reads both from class attributes, so this is the one place that touches them.
"""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def point_at(api_base_url: str, gateway_url: str) -> None:
    Route.BASE = api_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
