"""Core replies and forms as Slack Block Kit."""

from __future__ import annotations

import json
from typing import Any

from bot.port import Button, ButtonStyle, Form, Reply

SECTION_LIMIT = 3000
ACTION_SEPARATOR = "#"


def _sections(text: str) -> list[dict[str, Any]]:
    """Section blocks carry at most 3,000 characters: split on lines."""
    chunks, current = [], ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT and current:
            chunks.append(current)
            current = line[:SECTION_LIMIT]
        else:
            current = candidate[:SECTION_LIMIT]
    chunks.append(current or " ")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def _button(button: Button, index: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
        "action_id": f"{button.action}{ACTION_SEPARATOR}{index}",  # unique within the block
        "value": button.value[:2000],
    }
    if button.style is not ButtonStyle.DEFAULT:
        element["style"] = button.style.value
    return element


def reply_blocks(reply: Reply) -> list[dict[str, Any]] | None:
    if not reply.buttons:
        return None
    return [
        *_sections(reply.text),
        {"type": "actions", "elements": [_button(b, i) for i, b in enumerate(reply.buttons)]},
    ]


def action_name(action_id: str) -> str:
    return action_id.rsplit(ACTION_SEPARATOR, 1)[0]


def form_view(form: Form, metadata: dict[str, str]) -> dict[str, Any]:
    """A modal whose block ids are the field names, so errors map back onto fields."""
    blocks = []
    for field in form.fields:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": field.multiline,
            "max_length": field.max_length,
        }
        if field.value:
            element["initial_value"] = field.value
        if field.placeholder:
            element["placeholder"] = {"type": "plain_text", "text": field.placeholder[:150]}
        blocks.append(
            {
                "type": "input",
                "block_id": field.name,
                "optional": not field.required,
                "label": {"type": "plain_text", "text": field.label[:2000]},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "private_metadata": json.dumps({**metadata, "context": form.context}),
        "title": {"type": "plain_text", "text": form.title[:24]},
        "submit": {"type": "plain_text", "text": form.submit_label[:24]},
        "blocks": blocks,
    }


def form_values(view: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state", {}).get("values") or {}).items():
        for action in actions.values():
            values[block_id] = str(action.get("value") or "")
    return values
