"""Who may do what, and which requests are Slack's: every admin-only command refused to a member with
nothing changed, no member editing another's profile, and forged, stale or replayed Slack requests
refused with 401 before any listener runs.

Already covered elsewhere, so not repeated here: the refusal wording of /school-report on the console,
Slack and Discord (test_directory_scenarios, test_slack_directory, test_discord_directory), of
/events add (test_event_scenarios, test_discord_events), /meetups schedule (test_meetup_scenarios,
test_slack_meetups) and /cafe start and /cafe next (test_cafe_scenarios); a slash command signed with
the wrong secret or six minutes ago (test_slack_e2e::test_forged_or_stale_requests_get_401_and_post_
nothing); and a retried delivery inside the five minutes never running twice (test_slack_e2e::test_a_
retried_or_repeated_delivery_never_creates_a_second_thread). What follows adds the state checks, the
sub-commands and forms those tests do not reach, and every other way to forge a request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.commands import Permission, all_commands
from bot.events import Actor, ButtonEvent, CommandEvent, Conversation, FormSubmitEvent, Platform
from bot.handlers import cafe as cafe_handler
from bot.handlers import events as events_handler
from bot.handlers import meetups as meetups_handler
from bot.port import Reply
from bot.scheduling import ManualScheduler
from storage.members import MemberCard, MemberInput
from storage.models import Base
from tests.conftest import START as START_TIME
from tests.conftest import make_config
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import block_action_body, event_body, sign, slash_command_body
from tests.worlds import slack_world

ADMIN, MEMBER, ASKER, HELPER = "boss", "mallory", "ana", "bea"
TEMPLATE = "coordinators-2024-04"

# -- (a) admin-only commands ------------------------------------------------------------------------


@dataclass
class World:
    runtime: Runtime
    session: ConsoleSession
    question_id: int

    def be(self, who: str) -> None:
        self.session.actor = Actor(Platform.CONSOLE, who, who.title(), "en", "Europe/London")

    async def run(self, who: str, name: str, text: str) -> Reply:
        self.be(who)
        return await self.session.command(name, text)

    async def snapshot(self) -> dict[str, Any]:
        """Everything a command could change: every table, the scheduled jobs, the messages."""
        state: dict[str, Any] = {}
        async with self.runtime.db.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = (await conn.execute(select(table))).all()
                state[table.name] = sorted(repr(tuple(row)) for row in rows)
        scheduler = self.runtime.scheduler
        assert isinstance(scheduler, ManualScheduler)
        state["jobs"] = sorted((j.key, j.kind, j.run_at) for j in scheduler.jobs.values())
        state["messages"] = [(m.channel, m.text) for m in self.session.port.messages]
        return state


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    """An event, a meet-up schedule, an open café with a participant, and an answered question: every
    admin-only command has something it could change."""
    runtime = await build_runtime(
        make_config(sqlite_url, admins={"console": [ADMIN]}), clock=clock, scheduler=ManualScheduler()
    )
    port = ConsolePort()
    runtime.attach(port)
    session = ConsoleSession(runtime, port, out=lambda _: None)
    w = World(runtime, session, 0)
    created = await w.run(
        ADMIN, "events", "add title=Coordinators start=2026-09-09 15:00 Europe/London repeat=monthly "
        "on the second Wednesday",
    )  # fmt: skip
    assert created.text.startswith("Created event #1"), created.text
    scheduled = await w.run(ADMIN, "meetups", "schedule every 2 weeks on tuesday at 15:00 Europe/London")
    assert scheduled.text.startswith("Meet-up rounds:"), scheduled.text
    assert (await w.run(ADMIN, "cafe", f"start {TEMPLATE}")).text.startswith("Café #1 is open")
    assert (await w.run(ASKER, "cafe", "join")).text.startswith("Welcome!")
    asked = await w.run(ASKER, "ask", "How do you moderate IA samples?")
    assert asked.text.startswith("Your question is posted"), asked.text
    root = port.in_channel("qa")[0]
    w.be(HELPER)
    await session.message("Moderate five scripts per teacher.", thread=root.message_id)
    question = await runtime.services.questions.by_thread("console", root.message_id)
    assert question is not None and question.first_answerer_user_id == HELPER
    w.question_id = question.id
    yield w
    await runtime.close()


ONLY_ADMINS = "Only network admins can use /{}."
ONLY_HOST = "Only the café's host or an admin can use /cafe {}."
# (command, text, what the member is told, whether an admin running it changes something)
ADMIN_ONLY: list[tuple[str, str, str, bool]] = [
    ("school-report", "", ONLY_ADMINS.format("school-report"), False),
    ("events", "add title=Mine start=2026-10-01 10:00 UTC", ONLY_ADMINS.format("events add"), True),
    ("events", "edit 1 title=Taken over", ONLY_ADMINS.format("events edit"), True),
    ("events", "cancel 1", ONLY_ADMINS.format("events cancel"), True),
    ("events", "move 1 2026-10-14 to 2026-10-21 16:00", ONLY_ADMINS.format("events move"), True),
    ("meetups", "schedule off", ONLY_ADMINS.format("meetups schedule"), True),
    ("meetups", "stats 30", ONLY_ADMINS.format("meetups stats"), False),
    ("cafe", f"start {TEMPLATE} in #general", ONLY_ADMINS.format("cafe start"), True),
    ("cafe", "next", ONLY_HOST.format("next"), True),
    ("cafe", "pause", ONLY_HOST.format("pause"), False),  # only a running café pauses
    ("cafe", "resume", ONLY_HOST.format("resume"), False),  # only a paused one resumes
    ("cafe", "end", ONLY_HOST.format("end"), True),
    ("solved", "{question}", "Only the person who asked can mark this question solved.", True),
]


def test_every_admin_only_command_in_the_code_has_a_case_here() -> None:
    """A new admin-only command or sub-command must be added to ADMIN_ONLY (and so be tested)."""
    gated = {c.name for c in all_commands() if c.permission is Permission.ADMIN}
    gated |= {f"events {s}" for s in events_handler.ADMIN_SUBCOMMANDS}
    gated |= {f"meetups {s}" for s in meetups_handler.ADMIN_SUBCOMMANDS}
    gated |= {"cafe start"} | {f"cafe {s}" for s in cafe_handler.HOST_COMMANDS}
    covered = {
        f"{name} {text.split()[0]}" if text and name != "solved" else name for name, text, *_ in ADMIN_ONLY
    }
    assert gated <= covered, gated - covered


@pytest.mark.parametrize(
    ("name", "text", "refusal", "mutates"),
    ADMIN_ONLY,
    ids=[f"{n} {t.split(' ')[0]}" for n, t, *_ in ADMIN_ONLY],
)
async def test_a_member_is_refused_every_admin_only_command_and_nothing_changes(
    world: World, name: str, text: str, refusal: str, mutates: bool
) -> None:
    text = text.format(question=world.question_id)
    before = await world.snapshot()
    reply = await world.run(MEMBER, name, text)
    assert reply.text == refusal
    assert await world.snapshot() == before
    if mutates:  # the same command from an admin does change things: the refusal is what kept them
        allowed = await world.run(ADMIN, name, text)
        assert allowed.text != refusal
        assert await world.snapshot() != before, allowed.text


async def test_a_member_cannot_open_or_submit_the_event_form(world: World) -> None:
    world.be(MEMBER)
    conversation = Conversation(Platform.CONSOLE, "console", "general")
    opening = CommandEvent(
        world.session.actor, conversation, "events", {"subcommand": "add"}, "e-open", START_TIME
    )
    assert await world.runtime.dispatcher.form_for(opening, world.session.port) is None
    editing = CommandEvent(
        world.session.actor, conversation, "events", {"subcommand": "edit", "event": 1}, "e-edit", START_TIME
    )
    assert await world.runtime.dispatcher.form_for(editing, world.session.port) is None
    before = await world.snapshot()
    for context in ("", "1"):  # a new event, and event #1 (as if the member had the admin's modal)
        submitted = FormSubmitEvent(
            world.session.actor, conversation, "event",
            {"title": "Taken over", "start": "2026-10-01 10:00 UTC", "duration": "60"},
            context, f"form-{context}", START_TIME,
        )  # fmt: skip
        result = await world.runtime.dispatcher.form_submit(submitted, world.session.port)
        assert isinstance(result, Reply) and result.text == ONLY_ADMINS.format("events add")
    assert await world.snapshot() == before


# -- (b) nobody edits another member's profile -------------------------------------------------------


@dataclass
class Directory:
    runtime: Runtime
    session: ConsoleSession
    bea_id: int

    async def bea(self) -> MemberCard:
        card = await self.runtime.services.members.get(self.bea_id)
        assert card is not None
        return card

    async def mallory(self) -> MemberCard | None:
        return await self.runtime.services.members.get_by_identity("console", MEMBER)


@pytest.fixture
async def directory(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Directory]:
    runtime = await build_runtime(make_config(sqlite_url), clock=clock, scheduler=ManualScheduler())
    port = ConsolePort()
    runtime.attach(port)
    bea_id = await runtime.services.members.upsert(
        MemberInput(
            name="Bea Martín",
            email="bea@example.org",
            identities={"console": HELPER, "slack": "UBEA", "discord": "4242"},
            roles=["examiner"],
            subjects=["biology"],
            timezone="Europe/Madrid",
            school="Colegio Alameda",
            bio="Biology examiner",
        ),
        clock.now(),
    )
    session = ConsoleSession(runtime, port, out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, MEMBER, "Mallory", "en", "Europe/London")
    yield Directory(runtime, session, bea_id)
    await runtime.close()


# Every way a member could name someone else after /profile: a mention, a name, an id, an email, a
# platform identity, a key that is not a profile field, or the other person's name as their own.
NAMING_SOMEONE_ELSE = [
    "set <@UBEA> subject=Chemistry",
    "set @bea subject=Chemistry",
    "set bea subject=Chemistry",
    "set Bea Martín subject=Chemistry",
    "set user=bea subject=Chemistry",
    "set member=1 subject=Chemistry",
    "set member_id=1 bio=Taken over",
    "set id=1 name=Taken over",
    "set email=bea@example.org subject=Chemistry",
    "set identities=console:bea subject=Chemistry",
    "set console=bea subject=Chemistry",
    "set slack=UBEA subject=Chemistry",
    "set name=Bea Martín",
    "set name=Bea Martín email=bea@example.org",
    "hide bea",
    "hide <@UBEA>",
    "show @bea",
    "edit bea",
    "view bea",
    "bea set subject=Chemistry",
]


@pytest.mark.parametrize("text", NAMING_SOMEONE_ELSE)
async def test_a_member_cannot_change_another_members_profile(directory: Directory, text: str) -> None:
    before = await directory.bea()
    reply = await directory.session.command("profile", text)
    assert "Bea" not in reply.text or "Saved" in reply.text  # never shown as if Bea's entry changed
    assert await directory.bea() == before
    mine = await directory.mallory()
    if mine is not None:  # whatever was saved went to the member's own, new entry
        assert mine.member_id != directory.bea_id and mine.identities == {"console": MEMBER}
        assert mine.email is None


async def test_the_same_user_id_on_another_platform_is_another_member(directory: Directory) -> None:
    before = await directory.bea()
    directory.session.actor = Actor(Platform.CONSOLE, "UBEA", "Not Bea", "en", "Europe/London")
    reply = await directory.session.command("profile", "set subject=Chemistry bio=I am Bea now")
    assert reply.text.startswith("Saved.")
    assert await directory.bea() == before  # Bea's Slack identity "UBEA" is not the console's "UBEA"
    impostor = await directory.runtime.services.members.get_by_identity("console", "UBEA")
    assert impostor is not None and impostor.member_id != directory.bea_id


async def test_the_profile_form_only_ever_saves_the_submitters_own_entry(directory: Directory) -> None:
    before = await directory.bea()
    submitted = FormSubmitEvent(
        directory.session.actor,
        Conversation(Platform.CONSOLE, "console", "general"),
        "profile",
        {"subjects": "Chemistry", "member_id": str(directory.bea_id), "name": "Bea Martín", "email": "x"},
        str(directory.bea_id),  # the context a forged modal could carry
        "form-1",
        START_TIME,
    )
    result = await directory.runtime.dispatcher.form_submit(submitted, directory.session.port)
    assert isinstance(result, Reply) and result.text.startswith("Saved.")
    assert await directory.bea() == before
    mine = await directory.mallory()
    assert mine is not None and mine.subjects == ("chemistry",) and mine.member_id != directory.bea_id
    assert mine.identities == {"console": MEMBER} and mine.email is None  # a name is just a name


async def test_a_forged_forget_me_button_cannot_delete_another_member(directory: Directory) -> None:
    press = ButtonEvent(
        directory.session.actor,
        Conversation(Platform.CONSOLE, "console", "general"),
        "forget.confirm",
        HELPER,  # the value /forget-me puts on Bea's own button
        None,
        "press-1",
        START_TIME,
    )
    reply = await directory.runtime.dispatcher.button(press, directory.session.port)
    assert reply.text == "This button is not for you."
    assert (await directory.bea()).name == "Bea Martín"


# -- (c, d, e) Slack request signatures --------------------------------------------------------------

SECRET = "security-signing-secret"
QA = "CQA"


@dataclass
class Slack:
    fake: FakeSlackAPI
    runtime: Runtime
    url: str
    http: aiohttp.ClientSession

    async def send(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    def untouched(self) -> None:
        """No listener ran: nobody was looked up, nothing posted, no response_url called."""
        assert [c.method for c in self.fake.calls if c.method != "auth.test"] == []
        assert self.fake.responses == []
        assert sum(self.runtime.dispatcher.handled.values()) == 0


@pytest.fixture
async def slack(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Slack]:
    async with slack_world(
        sqlite_url, clock, secret=SECRET, users={"UANA": "en-US"}, channels={"qa": QA}, admins=[]
    ) as (fake, runtime, url, http):
        yield Slack(fake, runtime, url, http)


def _command(fake: FakeSlackAPI) -> str:
    return slash_command_body(
        "/ask", "Who moderates DP biology?", user_id="UANA", channel_id="CGEN",
        response_url=fake.response_url("ask"), trigger_id=f"T-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip


def _event(fake: FakeSlackAPI) -> str:
    message = {"type": "message", "channel": QA, "user": "UANA", "text": "An answer",
               "ts": "1800000000.000100", "thread_ts": "1800000000.000001"}  # fmt: skip
    return event_body(message, event_id=f"Ev-{uuid.uuid4().hex[:8]}")


def _action(fake: FakeSlackAPI) -> str:
    return block_action_body(
        "iben:forget.confirm", "UANA", user_id="UANA", channel_id="CGEN",
        response_url=fake.response_url("act"), trigger_id="T-act",
    )  # fmt: skip


KINDS: dict[str, Callable[[FakeSlackAPI], str]] = {"command": _command, "event": _event, "action": _action}
REFUSED = (401, '{"error": "invalid request"}')


def _signature(secret: str, timestamp: str, body: str) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("age", [5 * 60 + 1, 3600, 30 * 86400, -(5 * 60 + 1)], ids=str)
async def test_a_request_signed_more_than_five_minutes_away_is_refused_before_any_listener(
    slack: Slack, kind: str, age: int
) -> None:
    body = KINDS[kind](slack.fake)
    assert await slack.send(body, sign(SECRET, body, int(time.time()) - age)) == REFUSED
    slack.untouched()


def _forgeries(body: str) -> dict[str, tuple[str, dict[str, str]]]:
    """(body sent, headers) for each way to get the signature wrong."""
    now = str(int(time.time()))
    good = sign(SECRET, body, int(now))
    tampered = body.replace("UANA", "UBOSS") if "UANA" in body else body + "&x=1"
    without = {k: v for k, v in good.items() if k != "X-Slack-Signature"}
    return {
        "wrong-secret": (body, sign("not-the-secret", body, int(now))),
        "tampered-body": (tampered, good),
        "signature-of-another-body": (
            body,
            {**good, "X-Slack-Signature": _signature(SECRET, now, body + " ")},
        ),
        "no-signature": (body, without),
        "no-timestamp": (body, {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"}),
        "no-headers": (body, {"Content-Type": good["Content-Type"]}),
        "empty-signature": (body, {**good, "X-Slack-Signature": ""}),
        "other-version": (body, {**good, "X-Slack-Signature": "v1=" + good["X-Slack-Signature"][3:]}),
        "timestamp-changed": (body, {**good, "X-Slack-Request-Timestamp": str(int(now) + 1)}),
        "timestamp-not-a-number": (body, {**good, "X-Slack-Request-Timestamp": "soon"}),
    }


FORGED = [
    pytest.param(kind, forgery, id=f"{kind}-{forgery}") for kind in KINDS for forgery in _forgeries("x")
]


@pytest.mark.parametrize(("kind", "forgery"), FORGED)
async def test_a_forged_signature_is_refused_with_401_before_any_listener(
    slack: Slack, kind: str, forgery: str
) -> None:
    body, headers = _forgeries(KINDS[kind](slack.fake))[forgery]
    assert await slack.send(body, headers) == REFUSED
    slack.untouched()


async def test_a_valid_request_replayed_after_five_minutes_is_refused(
    slack: Slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _command(slack.fake)
    headers = sign(SECRET, body)
    assert await slack.send(body, headers) == (200, "")
    await slack.fake.wait_for_responses(1)
    await slack.runtime.dispatcher.wait_handled("command", 1)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1  # the question, posted once

    real = time.time()
    monkeypatch.setattr("slack_sdk.signature.time", lambda: real + 5 * 60 + 1)  # Slack's clock moved on
    assert await slack.send(body, headers) == REFUSED  # the exact same bytes and headers
    assert len(slack.fake.calls_to("chat.postMessage")) == 1 and len(slack.fake.responses) == 1
    assert slack.runtime.dispatcher.handled["command"] == 1
