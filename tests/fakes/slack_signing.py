"""Build inbound Slack requests (slash commands, events, interactivity) and sign them.

Bolt rejects unsigned requests and requests whose timestamp is more than five minutes from
``time.time()``, so tests must sign with a current timestamp (the default) to reach the bot's
handlers through the real verification middleware.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "block_action_body",
    "event_body",
    "interactive_body",
    "sign",
    "slash_command_body",
    "view_submission_body",
]

API_APP_ID = "A0001"
# Deprecated verification token Slack still includes; bolt ignores it but real payloads carry it.
VERIFICATION_TOKEN = "fake-verification-token"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: ``v0=`` HMAC-SHA256 of ``v0:{ts}:{body}``.

    ``timestamp`` defaults to now because bolt refuses stale requests (replay protection).
    Content-Type follows the body: JSON for event envelopes, form encoding otherwise.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    basestring = f"v0:{ts}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    content_type = (
        "application/json" if body.lstrip().startswith("{") else "application/x-www-form-urlencoded"
    )
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }


def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str,
    channel_id: str,
    team_id: str = "T0001",
    response_url: str,
    trigger_id: str,
    user_name: str = "user",
    channel_name: str = "general",
) -> str:
    """Form-encoded body with the fields Slack sends for a slash command."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def event_body(
    event: dict[str, Any],
    *,
    team_id: str = "T0001",
    event_id: str,
    bot_user_id: str = "UBOT",
    event_time: int | None = None,
) -> str:
    """JSON ``event_callback`` envelope around ``event`` as the Events API delivers it."""
    if event_time is None:
        event_ts = event.get("event_ts") or event.get("ts")
        event_time = int(float(event_ts)) if event_ts else 1_700_000_000
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    """Interactivity requests are form-encoded with the JSON in a single ``payload`` field."""
    return urlencode({"payload": json.dumps(payload)})


def block_action_body(
    action_id: str,
    value: str | None = None,
    *,
    user_id: str,
    channel_id: str | None,
    response_url: str | None,
    trigger_id: str,
    block_id: str = "b0",
    team_id: str = "T0001",
    user_name: str = "user",
    message_ts: str | None = None,
    selected_option: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
) -> str:
    """``block_actions`` payload for a button (``value``) or static select (``selected_option``).

    With ``view`` and no channel it models an action inside a modal or App Home, which Slack sends
    without a channel or response_url.
    """
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": "static_select" if selected_option is not None else "button",
        "action_ts": "1700000000.000001",
    }
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option

    payload: dict[str, Any] = {
        "type": "block_actions",
        "token": VERIFICATION_TOKEN,
        "api_app_id": API_APP_ID,
        "team": {"id": team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "trigger_id": trigger_id,
        "actions": [action],
        "state": {"values": {}},
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "general"}
        ts = message_ts or "1700000000.000100"
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["message"] = {"type": "message", "ts": ts, "text": ""}
    if view is not None:
        payload["view"] = view
        if channel_id is None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0001")}
    if response_url is not None:
        payload["response_url"] = response_url
    return interactive_body(payload)


def view_submission_body(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    user_id: str,
    trigger_id: str,
    team_id: str = "T0001",
    user_name: str = "user",
    private_metadata: str = "",
    view_id: str = "V0001",
) -> str:
    """``view_submission`` payload; ``values`` is ``state.values`` (block_id -> action_id -> value)."""
    return interactive_body(
        {
            "type": "view_submission",
            "token": VERIFICATION_TOKEN,
            "api_app_id": API_APP_ID,
            "team": {"id": team_id, "domain": "fake"},
            "enterprise": None,
            "is_enterprise_install": False,
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
            "trigger_id": trigger_id,
            "view": {
                "id": view_id,
                "team_id": team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": "1700000000.abcdef",
            },
            "response_urls": [],
        }
    )
