"""`iben-bot discord-invite`: the exact OAuth2 URL (scopes and permissions) to add the bot to a server."""

from __future__ import annotations

import base64
import binascii

import discord

SCOPES = ("bot", "applications.commands")


def bot_permissions() -> discord.Permissions:
    """What the features need: post, thread, react, attach (.ics, charts), read thread history."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        create_private_threads=True,
        manage_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        add_reactions=True,
    )


def application_id(token_or_id: str) -> int:
    """An application id as given, or read from a bot token (its first part is the id in base64)."""
    value = token_or_id.strip()
    if value.isdigit():
        return int(value)
    first = value.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded.isdigit():
        raise ValueError(
            "cannot tell the application id: pass --client-id or set [discord] token / DISCORD_TOKEN"
        )
    return int(decoded)


def invite_url(token_or_id: str) -> str:
    return discord.utils.oauth_url(application_id(token_or_id), permissions=bot_permissions(), scopes=SCOPES)
