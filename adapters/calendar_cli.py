"""`iben-bot export-ics FILE`: the community calendar as an .ics file any calendar app imports."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from adapters.runtime import build_runtime
from bot.config import Config
from bot.handlers.events import export_ics
from bot.scheduling import ManualScheduler


async def export_ics_file(
    config: Config,
    path: Path,
    *,
    platform: str | None,
    channel: str | None,
    days: int,
    out: TextIO,
    err: TextIO,
) -> int:
    if not 1 <= days <= 3650:
        print("iben-bot: --days must be between 1 and 3650", file=err)
        return 2
    runtime = await build_runtime(config, scheduler=ManualScheduler())  # reads only: no jobs run
    try:
        data = await export_ics(runtime.services, platform, channel, runtime.services.clock.now(), days)
    finally:
        await runtime.close()
    count = data.count(b"BEGIN:VEVENT")
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        return 0
    try:
        await asyncio.to_thread(path.write_bytes, data)
    except OSError as exc:
        print(f"iben-bot: cannot write {path}: {exc.strerror or exc}", file=err)
        return 2
    print(f"Exported {count} meeting{'s' if count != 1 else ''} to {path}", file=out)
    return 0
