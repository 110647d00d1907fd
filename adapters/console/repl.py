"""`iben-bot console`: a REPL over ConsoleSession, reading stdin without blocking the event loop."""

from __future__ import annotations

import asyncio
import sys

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime
from bot.demo import demo_members


async def load_demo(runtime: Runtime) -> int:
    return await runtime.services.members.upsert_many(demo_members(), runtime.services.clock.now())


async def run_console(runtime: Runtime, *, demo: bool) -> None:
    port = ConsolePort()
    runtime.attach(port)
    session = ConsoleSession(runtime, port)
    t = session.t
    if demo:
        count = await load_demo(runtime)
        print(t.gettext("Loaded {count} sample members.").format(count=count))
    print(
        t.gettext(
            "iben-bot console. You are '{user}'. Try /help, /whois-examiner biology or /ask <question>; "
            "'quit' leaves."
        ).format(user=session.actor.user_id)
    )
    loop = asyncio.get_running_loop()
    while True:
        try:
            line = await loop.run_in_executor(None, _read_line)
        except (EOFError, KeyboardInterrupt):
            break
        if line is None or not await session.handle_line(line):
            break


def _read_line() -> str | None:
    if sys.stdin.isatty():
        sys.stdout.write("> ")
        sys.stdout.flush()
    line = sys.stdin.readline()
    return None if line == "" else line
