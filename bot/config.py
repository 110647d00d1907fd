"""Configuration: TOML file + environment secrets, validated into frozen dataclasses.

Every problem becomes one line naming the file, the key and what is wrong, so a bad config stops
start-up with a readable list instead of a traceback. Keys are a contract (see README).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import SUPPORTED_LOCALES

CONFIG_ENV = "IBEN_BOT_CONFIG"
DEFAULT_DATABASE_URL = "sqlite:///iben-bot.db"


class ConfigError(Exception):
    """All problems found in one config, each a ready-to-print line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BotSettings:
    default_locale: str = "en"
    default_timezone: str = "UTC"
    log_level: str = "INFO"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class SlackSettings:
    enabled: bool = False
    mode: str = "socket"
    bot_token: str = ""
    app_token: str = ""
    signing_secret: str = ""
    host: str = "127.0.0.1"
    port: int = 3000
    api_base_url: str = "https://slack.com/api/"
    channels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DiscordSettings:
    enabled: bool = False
    token: str = ""
    guild_ids: tuple[int, ...] = ()
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    shard_count: int = 0  # 0: one connection, no sharding; n: the bot runs as n shards in all
    shard_ids: tuple[int, ...] = ()  # the shards this process holds (empty: all of them)
    channels: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QASettings:
    unanswered_check_minutes: int = 10  # the window of each routing wave
    wave_size: int = 5  # members notified per wave
    max_waves: int = 4  # the last one posts in the announcements channel (or bumps the thread)
    daily_pings: int = 3  # at most this many question DMs per member per 24 h
    start_soon_minutes: int = 60  # later waves include members whose working day starts this soon
    nudge_hours: int = 24  # an answered but unsolved question nudges its asker once after this long


@dataclass(frozen=True)
class MeetupSettings:
    recent_rounds: int = 6  # nobody is matched again with someone met in this many last rounds
    followup_days: int = 7  # "Did you meet?" this many days after the invitation
    min_overlap_minutes: int = 60  # every group shares at least this much working time a day
    announce_hours_before: int = 24  # the "next round, pause if you need to" announcement
    slot_minutes: int = 30  # length of the suggested meeting slots


@dataclass(frozen=True)
class EventSettings:
    reminders: tuple[int, ...] = (1440, 60)  # minutes before each occurrence (events may override)
    grace_minutes: int = 120  # a reminder missed while down is sent late within this window, else skipped
    late_after_seconds: int = 60  # a reminder this much behind its time is marked "(late)"
    plan_days: int = 35  # reminders are put on the scheduler this far ahead (a daily job extends it)
    list_days: int = 120  # /events shows occurrences this far ahead


@dataclass(frozen=True)
class CafeSettings:
    templates_dir: str = ""  # the admins' own café templates (TOML), next to the built-in ones
    reminder_minutes: int = 15  # a scheduled café is announced again this long before it starts


@dataclass(frozen=True)
class ClusterSettings:
    instance_name: str = ""  # how this process names itself in logs and metrics (default host:pid)
    leader_lock_id: int = 0x1BE_B07  # the PostgreSQL advisory lock key the scheduler leader holds
    leader_poll_seconds: float = 1.0  # how often a follower tries to take over (and the leader checks in)


@dataclass(frozen=True)
class HealthSettings:
    enabled: bool = False  # its own HTTP server; Slack's HTTP mode always serves /healthz and /metrics
    host: str = "127.0.0.1"
    port: int = 9100


@dataclass(frozen=True)
class ConsoleSettings:
    user_id: str = "you"
    display_name: str = "You"
    locale: str = ""
    timezone: str = ""


@dataclass(frozen=True)
class Config:
    source: str = "built-in defaults"
    bot: BotSettings = field(default_factory=BotSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    qa: QASettings = field(default_factory=QASettings)
    meetups: MeetupSettings = field(default_factory=MeetupSettings)
    events: EventSettings = field(default_factory=EventSettings)
    cafe: CafeSettings = field(default_factory=CafeSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    admins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    schools: dict[str, int] = field(default_factory=dict)  # school name -> staff head-count

    def is_admin(self, platform: str, user_id: str) -> bool:
        return user_id in self.admins.get(platform, ())


Check = Callable[[Any], str | None]  # returns a problem description, or None when fine


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"expected true or false, got {v!r}"


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) else f"expected a string, got {v!r}"


def _int_range(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"expected a whole number from {lo} to {hi}, got {v!r}"

    return check


def _one_of(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else f"expected one of {', '.join(map(repr, choices))}, got {v!r}"

    return check


def _url(*schemes: str) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, str) and v.split(":", 1)[0] in schemes and "://" in v:
            return None
        return f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}, got {v!r}"

    return check


def _database_url(v: Any) -> str | None:
    if isinstance(v, str) and (v.startswith("sqlite") or v.startswith("postgresql")) and ":" in v:
        return None
    return f"expected sqlite:///FILE or postgresql+asyncpg://USER@HOST/DB, got {v!r}"


def _timezone(v: Any) -> str | None:
    if v == "":
        return None
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return f"expected an IANA time zone such as 'Europe/Madrid', got {v!r}"
    return None


def _locale(v: Any) -> str | None:
    return (
        None
        if v in (*SUPPORTED_LOCALES, "")
        else f"expected one of {', '.join(SUPPORTED_LOCALES)}, got {v!r}"
    )


def _minutes_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, int) and 1 <= x <= 60 * 24 * 30 for x in v):
        return "expected a list of minutes before the start, e.g. [1440, 60]"
    return None


def _id_list(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, str | int) and not isinstance(x, bool) for x in v)
    return None if ok else f"expected a list of user ids, got {v!r}"


def _guild_ids(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    return None if ok else f"expected a list of numeric guild ids, got {v!r}"


def _shard_ids(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v)
    return None if ok else f"expected a list of shard numbers (0, 1, ...), got {v!r}"


def _seconds(lo: float, hi: float) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"expected a number of seconds from {lo} to {hi}, got {v!r}"

    return check


SCHEMA: dict[str, dict[str, Check]] = {
    "bot": {
        "default_locale": _locale,
        "default_timezone": _timezone,
        "log_level": _one_of("DEBUG", "INFO", "WARNING", "ERROR"),
    },
    "database": {"url": _database_url},
    "slack": {
        "enabled": _is_bool,
        "mode": _one_of("socket", "http"),
        "bot_token": _is_str,
        "app_token": _is_str,
        "signing_secret": _is_str,
        "host": _is_str,
        "port": _int_range(1, 65535),
        "api_base_url": _url("http", "https"),
        "channels": lambda v: None,  # checked as a table below
    },
    "discord": {
        "enabled": _is_bool,
        "token": _is_str,
        "guild_ids": _guild_ids,
        "api_base_url": _url("http", "https"),
        "gateway_url": _url("ws", "wss"),
        "shard_count": _int_range(0, 1000),
        "shard_ids": _shard_ids,
        "channels": lambda v: None,
    },
    "qa": {
        "unanswered_check_minutes": _int_range(1, 7 * 24 * 60),
        "wave_size": _int_range(1, 50),
        "max_waves": _int_range(1, 10),
        "daily_pings": _int_range(1, 100),
        "start_soon_minutes": _int_range(0, 12 * 60),
        "nudge_hours": _int_range(1, 24 * 14),
    },
    "meetups": {
        "recent_rounds": _int_range(0, 52),
        "followup_days": _int_range(1, 60),
        "min_overlap_minutes": _int_range(15, 8 * 60),
        "announce_hours_before": _int_range(1, 7 * 24),
        "slot_minutes": _int_range(15, 120),
    },
    "events": {
        "reminders": _minutes_list,
        "grace_minutes": _int_range(0, 7 * 24 * 60),
        "late_after_seconds": _int_range(1, 3600),
        "plan_days": _int_range(2, 366),
        "list_days": _int_range(1, 730),
    },
    "cafe": {"templates_dir": _is_str, "reminder_minutes": _int_range(1, 24 * 60)},
    "cluster": {
        "instance_name": _is_str,
        "leader_lock_id": _int_range(-(2**63), 2**63 - 1),
        "leader_poll_seconds": _seconds(0.05, 60),
    },
    "health": {"enabled": _is_bool, "host": _is_str, "port": _int_range(1, 65535)},
    "console": {"user_id": _is_str, "display_name": _is_str, "locale": _locale, "timezone": _timezone},
    "admins": {"slack": _id_list, "discord": _id_list, "console": _id_list},
    "schools": {},  # free keys: school name = staff count, checked below
}

ENV_SECRETS = {
    ("slack", "bot_token"): "SLACK_BOT_TOKEN",
    ("slack", "app_token"): "SLACK_APP_TOKEN",
    ("slack", "signing_secret"): "SLACK_SIGNING_SECRET",
    ("discord", "token"): "DISCORD_TOKEN",
    ("database", "url"): "IBEN_BOT_DATABASE_URL",
}


def resolve_path(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """`--config PATH`, else $IBEN_BOT_CONFIG, else ./config.toml if present, else None (defaults)."""
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    local = Path("config.toml")
    return local if local.is_file() else None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and build the config; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        p = Path(path)
        source = str(p)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"{p}: file not found"]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{p}: not valid TOML: {exc}"]) from None
    return build_config(raw, source=source, env=env)


def build_config(raw: dict[str, Any], *, source: str, env: Mapping[str, str]) -> Config:
    problems: list[str] = []
    for section, value in raw.items():
        if section not in SCHEMA:
            problems.append(f"{source}: [{section}]: unknown section{_suggest(section, SCHEMA)}")
        elif not isinstance(value, dict):
            problems.append(f"{source}: {section}: expected a [{section}] table")
    sections: dict[str, dict[str, Any]] = {}
    for section, checks in SCHEMA.items():
        values = raw.get(section, {})
        values = dict(values) if isinstance(values, dict) else {}
        for key, value in values.items():
            if section == "schools":
                problem = _int_range(1, 100_000)(value)
                if problem:
                    problems.append(f"{source}: [schools] {key!r}: staff count {problem}")
                continue
            if key not in checks:
                problems.append(f"{source}: [{section}] {key}: unknown key{_suggest(key, checks)}")
                continue
            problem = checks[key](value)
            if problem:
                problems.append(f"{source}: [{section}] {key}: {problem}")
        for (sec, key), var in ENV_SECRETS.items():
            if sec == section and not values.get(key) and env.get(var):
                values[key] = env[var]
        sections[section] = {k: v for k, v in values.items() if k in checks or section == "schools"}

    slack_channels = _channels(sections["slack"].pop("channels", {}), "slack", source, str, problems)
    discord_channels = _channels(sections["discord"].pop("channels", {}), "discord", source, int, problems)
    _check_enabled(sections, source, problems)
    if problems:
        raise ConfigError(problems)

    discord_section = dict(sections["discord"])
    if "guild_ids" in discord_section:
        discord_section["guild_ids"] = tuple(discord_section["guild_ids"])
    if "shard_ids" in discord_section:
        discord_section["shard_ids"] = tuple(discord_section["shard_ids"])
    return Config(
        source=source,
        bot=BotSettings(**sections["bot"]),
        database=DatabaseSettings(**sections["database"]),
        slack=SlackSettings(**sections["slack"], channels=slack_channels),
        discord=DiscordSettings(**discord_section, channels=discord_channels),
        qa=QASettings(**sections["qa"]),
        meetups=MeetupSettings(**sections["meetups"]),
        events=_events(sections["events"]),
        cafe=CafeSettings(**sections["cafe"]),
        cluster=ClusterSettings(**sections["cluster"]),
        health=HealthSettings(**sections["health"]),
        console=ConsoleSettings(**sections["console"]),
        admins={k: tuple(str(x) for x in v) for k, v in sections["admins"].items()},
        schools={str(k): int(v) for k, v in sections["schools"].items()},
    )


def _events(values: dict[str, Any]) -> EventSettings:
    if "reminders" in values:
        values = {**values, "reminders": tuple(sorted(set(values["reminders"]), reverse=True))}
    return EventSettings(**values)


def _channels(value: Any, platform: str, source: str, kind: type, problems: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.append(f"{source}: [{platform}.channels]: expected a table of name = channel id")
        return {}
    out: dict[str, Any] = {}
    for name, channel in value.items():
        if name not in ("qa", "announcements"):
            problems.append(
                f"{source}: [{platform}.channels] {name}: unknown channel name (expected qa or announcements)"
            )
        elif not isinstance(channel, kind) or isinstance(channel, bool):
            wanted = "a channel id string like 'C0123456789'" if kind is str else "a numeric channel id"
            problems.append(f"{source}: [{platform}.channels] {name}: expected {wanted}, got {channel!r}")
        elif channel:
            out[name] = channel
    return out


def _check_enabled(sections: dict[str, dict[str, Any]], source: str, problems: list[str]) -> None:
    slack = sections["slack"]
    if slack.get("enabled"):
        if not slack.get("bot_token"):
            problems.append(
                f"{source}: [slack] bot_token: required when Slack is enabled (or set SLACK_BOT_TOKEN)"
            )
        if slack.get("mode", "socket") == "socket" and not slack.get("app_token"):
            problems.append(
                f"{source}: [slack] app_token: required in socket mode "
                '(or set SLACK_APP_TOKEN, or mode = "http")'
            )
        if slack.get("mode") == "http" and not slack.get("signing_secret"):
            problems.append(
                f"{source}: [slack] signing_secret: required in http mode (or set SLACK_SIGNING_SECRET)"
            )
    discord = sections["discord"]
    if discord.get("enabled") and not discord.get("token"):
        problems.append(f"{source}: [discord] token: required when Discord is enabled (or set DISCORD_TOKEN)")
    count, ids = discord.get("shard_count", 0), discord.get("shard_ids", [])
    if isinstance(ids, list) and ids and isinstance(count, int):
        if count == 0:
            problems.append(f"{source}: [discord] shard_ids: needs shard_count (how many shards in all)")
        elif any(isinstance(i, int) and i >= count for i in ids):
            problems.append(f"{source}: [discord] shard_ids: every shard number must be below {count}")


def _suggest(word: str, known: Mapping[str, Any]) -> str:
    close = get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
