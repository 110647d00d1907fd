"""Config: the contract keys load, secrets come from the environment, and every mistake is one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cli import main
from bot.config import ConfigError, load_config, resolve_path
from storage.migrate import head_revision

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_config_is_valid_and_matches_the_defaults() -> None:
    config = load_config(ROOT / "config.example.toml", env={})
    assert config.database.url == "sqlite:///iben-bot.db"
    assert config.slack.enabled is False and config.slack.mode == "socket"
    assert config.slack.api_base_url == "https://slack.com/api/"
    assert config.discord.api_base_url == "https://discord.com/api/v10"
    assert config.discord.gateway_url == "wss://gateway.discord.gg/"


def test_secrets_come_from_the_environment_when_the_file_leaves_them_empty(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[slack]\nenabled = true\nmode = "http"\n[discord]\nenabled = true\nguild_ids = [1]\n')
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DISCORD_TOKEN": "d"}
    config = load_config(path, env=env)
    assert (config.slack.bot_token, config.slack.signing_secret, config.discord.token) == ("xoxb-1", "s", "d")
    assert config.discord.guild_ids == (1,)


def test_every_problem_is_reported_with_file_key_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[slack]\nenabled = true\nport = "eighty"\nmode = "carrier-pigeon"\n'
        '[discord]\ngateway_url = "http://x"\ntokn = "x"\n[bot]\ndefault_timezone = "Mars/Olympus"\n'
        "[slack.channels]\nqa = 12\n[weird]\nx = 1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    problems = info.value.problems
    src = str(path)
    assert f"{src}: [slack] port: expected a whole number from 1 to 65535, got 'eighty'" in problems
    assert f"{src}: [slack] mode: expected one of 'socket', 'http', got 'carrier-pigeon'" in problems
    assert (
        f"{src}: [discord] gateway_url: expected a URL starting with ws:// or wss://, got 'http://x'"
        in problems
    )
    assert f"{src}: [discord] tokn: unknown key (did you mean 'token'?)" in problems
    assert any("Mars/Olympus" in p and "IANA time zone" in p for p in problems)
    assert any("[slack.channels] qa: expected a channel id string" in p for p in problems)
    assert f"{src}: [weird]: unknown section" in problems
    assert any("[slack] bot_token: required when Slack is enabled" in p for p in problems)


def test_missing_file_and_broken_toml_are_one_line_each(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[slack\nenabled = yes")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, env={})


def test_config_path_order_is_flag_then_env_then_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_path(None, {}) is None
    (tmp_path / "config.toml").write_text("")
    assert resolve_path(None, {}) == Path("config.toml")
    assert resolve_path(None, {"IBEN_BOT_CONFIG": "/x.toml"}) == Path("/x.toml")
    assert resolve_path("/flag.toml", {"IBEN_BOT_CONFIG": "/x.toml"}) == Path("/flag.toml")


def test_cli_stops_on_a_bad_config_with_readable_lines_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[database]\nurl = 42\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "the configuration has problems" in err and "[database] url: expected sqlite:///FILE" in err
    assert "Traceback" not in err


def test_db_upgrade_creates_and_migrates_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "new.db"}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "db", "upgrade", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"database is at revision {head_revision()}" in result.stdout
    assert (tmp_path / "new.db").exists()


def test_run_without_platforms_starts_the_console_on_sqlite_and_says_how_to_enable_them(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        input="/whois-examiner biology\nquit\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "No Slack or Discord is enabled, so the console starts." in result.stdout
    assert "Nobody in the directory matches Examiner · Biology yet." in result.stdout
    assert (tmp_path / "iben-bot.db").exists()
    assert "Traceback" not in result.stderr
