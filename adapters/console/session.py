"""A console session: turns typed lines into core events and prints what members would see.

The REPL reads stdin into it; tests call `handle_line` directly and read the port, so both drive the
same dispatch path as Slack and Discord.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from adapters.console.port import ConsolePort, Posted
from adapters.runtime import Runtime
from bot.events import (
    Actor,
    ButtonEvent,
    CommandEvent,
    Conversation,
    ConversationKind,
    MessageEvent,
    Platform,
    ReactionEvent,
)
from bot.i18n import Translator
from bot.port import Button, Reply, UserInfo

Printer = Callable[[str], None]


class ConsoleSession:
    def __init__(
        self, runtime: Runtime, port: ConsolePort, *, out: Printer = print, files_dir: Path | None = None
    ) -> None:
        self.runtime = runtime
        self.port = port
        self.out = out
        self.files_dir = files_dir or Path(tempfile.gettempdir()) / "iben-bot-files"
        self.buttons: tuple[Button, ...] = ()
        self.saved_files: list[Path] = []
        cfg = runtime.config
        self.actor = Actor(
            Platform.CONSOLE,
            cfg.console.user_id,
            cfg.console.display_name,
            cfg.console.locale or cfg.bot.default_locale,
            cfg.console.timezone or cfg.bot.default_timezone,
        )
        port.users.setdefault(self.actor.user_id, UserInfo(self.actor.user_id, self.actor.display_name))
        port.on_post = self._show
        self.replies: list[Reply] = []

    @property
    def t(self) -> Translator:
        return Translator(self.actor.locale or "en")

    def _show(self, posted: Posted) -> None:
        if posted.audience:
            where = self.t.gettext("group {people}").format(people=", ".join(posted.audience))
        elif posted.ephemeral:
            where = self.t.gettext("only you")
        elif posted.to_user:
            where = self.t.gettext("DM to {user}").format(user=posted.to_user)
        elif posted.thread and posted.thread != posted.message_id:
            where = f"#{posted.channel} › {posted.thread}"
        else:
            where = f"#{posted.channel} {posted.message_id}"
        self.out(f"[{where}] {posted.text}")
        if posted.buttons:
            labels = "  ".join(f"[{i}] {b.label}" for i, b in enumerate(posted.buttons, 1))
            self.out(f"{labels}   (press {posted.message_id} N)")
        if posted.attachment is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / posted.attachment.filename
            path.write_bytes(posted.attachment.data)
            self.out(self.t.gettext("[file saved: {path}]").format(path=path))

    async def handle_line(self, line: str) -> bool:
        """Process one typed line; False means the user asked to quit."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        if word in ("quit", "exit", ":q"):
            return False
        if word.startswith("/"):
            self.show(await self.command(word[1:].lower(), rest))
            return True
        if word == "press" and rest.strip().isdigit():
            self.show(await self.press(int(rest.strip())))
            return True
        if word == "press" and len(rest.split()) == 2 and rest.split()[1].isdigit():
            message_id, number = rest.split()
            self.show(await self.press_on(message_id, int(number)))
            return True
        if word == "reply" and rest:
            thread, _, text = rest.partition(" ")
            await self.message(text, thread=thread)
            return True
        if word == "react" and len(rest.split()) == 2:
            message_id, emoji = rest.split()
            await self.react(message_id, emoji)
            return True
        if word == "as" and rest:
            self.actor = Actor(
                Platform.CONSOLE, rest.strip(), rest.strip(), self.actor.locale, self.actor.timezone
            )
            self.out(self.t.gettext("You are now {user}.").format(user=self.actor.user_id))
            return True
        self.out(
            self.t.gettext(
                "Type a command such as /help, /ask <question> or /whois-examiner biology; "
                "'reply <thread> <text>' answers in a thread, 'react <message> ✅' marks the solution, "
                "'as <name>' switches member, 'quit' leaves."
            )
        )
        return True

    def show(self, reply: Reply) -> None:
        """Print a reply as the console renders it: text, numbered buttons, saved attachments."""
        self.out(reply.text)
        if reply.buttons:
            self.out("  ".join(f"[{i}] {b.label}" for i, b in enumerate(reply.buttons, 1)) + "   (press N)")
        if reply.attachment is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / reply.attachment.filename
            path.write_bytes(reply.attachment.data)
            self.saved_files.append(path)
            self.out(self.t.gettext("[file saved: {path}]").format(path=path))

    async def press(self, number: int) -> Reply:
        """Press button `number` (1-based) of the last reply that had buttons."""
        if not 1 <= number <= len(self.buttons):
            return Reply(self.t.gettext("There is no button {number} to press.").format(number=number))
        button = self.buttons[number - 1]
        event = ButtonEvent(
            actor=self.actor,
            conversation=Conversation(Platform.CONSOLE, "console", "general"),
            action_id=button.action,
            value=button.value,
            message_id=None,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        return self._remember(await self.runtime.dispatcher.button(event, self.port))

    async def press_on(self, message_id: str, number: int) -> Reply:
        """Press button `number` of a message the bot posted (a DM, a group conversation)."""
        posted = self.port.message(message_id)
        if posted is None or not 1 <= number <= len(posted.buttons):
            return Reply(self.t.gettext("There is no button {number} to press.").format(number=number))
        button = posted.buttons[number - 1]
        event = ButtonEvent(
            actor=self.actor,
            conversation=Conversation(Platform.CONSOLE, "console", posted.channel),
            action_id=button.action,
            value=button.value,
            message_id=message_id,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        return self._remember(await self.runtime.dispatcher.button(event, self.port))

    def _remember(self, reply: Reply) -> Reply:
        self.replies.append(reply)
        self.buttons = reply.buttons
        return reply

    async def command(self, name: str, text: str) -> Reply:
        dispatcher = self.runtime.dispatcher
        spec = dispatcher.commands.get(name)
        args = spec.args_from_text(text) if spec else {}
        event = CommandEvent(
            actor=self.actor,
            conversation=Conversation(Platform.CONSOLE, "console", "general"),
            name=name,
            args=args,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        return self._remember(await dispatcher.command(event, self.port))

    async def react(self, message_id: str, emoji: str) -> None:
        """React to a message as the current member (✅ on an answer marks it as the solution)."""
        event = ReactionEvent(
            actor=self.actor,
            conversation=Conversation(Platform.CONSOLE, "console", "qa"),
            message_id=message_id,
            emoji=emoji,
            added=True,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        await self.runtime.dispatcher.reaction(event, self.port)

    async def message(self, text: str, *, thread: str | None = None, channel: str = "qa") -> None:
        """Post as the current member (into a thread when given), as people do between commands."""
        kind = ConversationKind.THREAD if thread else ConversationKind.CHANNEL
        posted = Posted(channel, text, f"u{uuid.uuid4().hex[:8]}", thread=thread)
        self.port.messages.append(posted)
        event = MessageEvent(
            actor=self.actor,
            conversation=Conversation(Platform.CONSOLE, "console", channel, thread, kind),
            text=text,
            message_id=posted.message_id,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        await self.runtime.dispatcher.message(event, self.port)
