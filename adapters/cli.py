"""The `iben-bot` command line: run, console, db upgrade, discord-invite."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, load_config, resolve_path

ENABLE_HINT = (
    "No Slack or Discord is enabled, so the console starts. To connect a platform, copy "
    "config.example.toml to config.toml and set [slack] enabled = true or [discord] enabled = true."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iben-bot", description="The IB Educator Network bot.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--config", metavar="PATH", help="config file (default: $IBEN_BOT_CONFIG, ./config.toml)"
        )
        return p

    add("run", "start every adapter enabled in the config (the console when none is)")
    console = add("console", "chat with the bot in this terminal")
    console.add_argument("--demo", action="store_true", help="load a sample directory of members first")
    db = add("db", "database maintenance")
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply migrations")
    invite = add("discord-invite", "print the URL that adds the bot to a Discord server")
    invite.add_argument("--client-id", help="application id (default: read from the bot token)")
    imp = add("import-members", "add or update members from a CSV file (see bot/data/members.example.csv)")
    imp.add_argument("file", type=Path, help="the CSV file")
    imp.add_argument("--skip-bad", action="store_true", help="import the good rows even if some are bad")
    exp = add("export-members", "write every member to a CSV file (re-importable)")
    exp.add_argument("file", type=Path, help="where to write")
    ics = add("export-ics", "write the community calendar (every meeting of the next year) to an .ics file")
    ics.add_argument("file", type=Path, help="where to write (- for standard output)")
    ics.add_argument(
        "--platform", choices=["slack", "discord", "console"], help="only this platform's events"
    )
    ics.add_argument("--channel", help="only events posted in this channel")
    ics.add_argument("--days", type=int, default=365, help="how far ahead (default 365)")
    report = add("school-report", "members as a share of staff per school, against the 20-30%% critical mass")
    report.add_argument("--staff", type=Path, metavar="FILE.csv", help="school,staff counts to save and use")
    report.add_argument("--png", type=Path, metavar="FILE.png", help="also draw the chart to this file")
    report.add_argument("--school", help="one school only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(resolve_path(args.config, os.environ))
    except ConfigError as exc:
        print("iben-bot: the configuration has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.bot.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    if args.command == "discord-invite":
        from adapters.discord.invite import invite_url

        try:
            print(invite_url(args.client_id or config.discord.token))
        except ValueError as exc:
            print(f"iben-bot: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "db":
        return _run_async(_db_upgrade(config))
    if args.command in ("import-members", "export-members"):
        from adapters import members_cli

        if args.command == "import-members":
            return _run_async(
                members_cli.import_members(
                    config, args.file, skip_bad=args.skip_bad, out=sys.stdout, err=sys.stderr
                )
            )
        return _run_async(members_cli.export_members(config, args.file, out=sys.stdout, err=sys.stderr))
    if args.command == "export-ics":
        from adapters.calendar_cli import export_ics_file

        return _run_async(
            export_ics_file(
                config, args.file, platform=args.platform, channel=args.channel, days=args.days,
                out=sys.stdout, err=sys.stderr,
            )
        )  # fmt: skip
    if args.command == "school-report":
        from adapters.reports_cli import school_report

        return _run_async(
            school_report(
                config, staff_csv=args.staff, png=args.png, school=args.school, out=sys.stdout, err=sys.stderr
            )
        )
    if args.command == "console":
        return _run_async(_console(config, demo=args.demo))
    return _run_async(_run(config))


def _run_async(coro: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        return 130


async def _db_upgrade(config: Config) -> int:
    from storage.db import Database
    from storage.migrate import current_revision

    db = Database(config.database.url)
    try:
        await db.upgrade()
        print(f"database is at revision {await current_revision(db.engine)}")
    finally:
        await db.dispose()
    return 0


async def _console(config: Config, *, demo: bool) -> int:
    from adapters.console.repl import run_console
    from adapters.runtime import build_runtime

    runtime = await build_runtime(config)
    try:
        await runtime.start_scheduler()
        await run_console(runtime, demo=demo)
    finally:
        await runtime.close()
    return 0


async def _run(config: Config) -> int:
    from adapters.runtime import build_runtime

    runtime = await build_runtime(config)
    services: list[Coroutine[Any, Any, None]] = []
    if config.slack.enabled:
        from adapters.slack.adapter import SlackAdapter

        services.append(SlackAdapter(runtime).serve_forever())
    if config.discord.enabled:
        from adapters.discord.adapter import DiscordAdapter

        services.append(DiscordAdapter(runtime).serve_forever())
    if config.health.enabled:
        from adapters.metrics import serve_health

        services.append(serve_health(runtime, config.health.host, config.health.port))
    try:
        await runtime.start_scheduler()
        if not services:
            from adapters.console.repl import run_console

            print(ENABLE_HINT)
            await run_console(runtime, demo=False)
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        tasks = [asyncio.create_task(s) for s in services]
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in [*tasks, stopper]:
            task.cancel()
        await asyncio.gather(*tasks, stopper, return_exceptions=True)
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception():
                logging.getLogger(__name__).error("adapter stopped: %s", task.exception())
                return 1
        return 0
    finally:
        await runtime.close()


if __name__ == "__main__":
    raise SystemExit(main())
