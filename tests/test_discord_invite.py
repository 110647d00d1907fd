"""`iben-bot discord-invite`: the URL carries the exact scopes and permissions the features need."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import discord
import pytest

from adapters.cli import main
from adapters.discord.invite import application_id, invite_url


def fake_token(app_id: int) -> str:
    return base64.b64encode(str(app_id).encode()).decode().rstrip("=") + ".GhIjKl.secret-part"


def test_the_invite_names_the_application_scopes_and_permissions() -> None:
    url = urlparse(invite_url(fake_token(123456789012345678)))
    query = parse_qs(url.query)
    assert url.netloc == "discord.com" and url.path == "/oauth2/authorize"
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    assert perms.send_messages and perms.send_messages_in_threads and perms.create_public_threads
    assert perms.read_message_history and perms.add_reactions and perms.attach_files
    assert not perms.administrator and not perms.mention_everyone and not perms.manage_guild


def test_a_plain_id_works_and_garbage_is_refused() -> None:
    assert application_id("42") == 42
    with pytest.raises(ValueError, match="--client-id"):
        application_id("not-a-token")


def test_the_cli_prints_the_url_or_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discord-invite", "--client-id", "777"]) == 0
    assert "client_id=777" in capsys.readouterr().out
    assert main(["discord-invite", "--client-id", "bogus"]) == 2
    assert capsys.readouterr().err.startswith("iben-bot: cannot tell the application id")
