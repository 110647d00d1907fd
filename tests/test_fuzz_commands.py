"""Fuzzing every command through the core: whatever a member types or a platform sends as options, the
reply is a clear sentence, never a traceback or the dispatcher's crash apology, and user text never
comes back as a mass mention or live markup.

Each command is fuzzed twice (as Slack/console free text, and as Discord-style typed options), with
enough examples that the run totals at least 10,000 cases. The examples are derandomized so CI sees
the same cases every run; one runtime per test is reused across its examples, so the database fills
up as the fuzz goes (questions, events, cafés), which exercises the handlers' non-empty states too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.console.port import ConsolePort, Posted
from adapters.console.repl import load_demo
from adapters.runtime import Runtime, build_runtime
from adapters.slack.port import escape_mrkdwn
from bot.calendar.fields import KEYS as EVENT_KEYS
from bot.clock import ManualClock
from bot.commands import SUBCOMMAND, CommandSpec, Permission, all_actions, all_commands, all_forms
from bot.dispatch import CRASH_MESSAGE, MAX_INPUT_CHARS
from bot.events import Actor, ButtonEvent, CommandEvent, Conversation, FormSubmitEvent, Platform
from bot.i18n import Translator
from bot.port import FormErrors, Reply
from bot.profile_fields import KEYS as PROFILE_KEYS
from bot.scheduling import ManualScheduler
from storage.models import Base
from tests.conftest import START, make_config

COMMANDS = all_commands()
TOTAL_CASES = 10_000
# Examples per command: commands that take no input get a few hundred, those that parse the most
# (key=value fields, sub-commands with options) get more; the sum is at least 10,000.
FEW, MORE = 200, 1200
EXAMPLES = {
    c.name: FEW if not (c.options or c.subcommands) else MORE if c.name in ("profile", "events") else 0
    for c in COMMANDS
}
_REST = [n for n, k in EXAMPLES.items() if k == 0]
EXAMPLES |= {n: -(-(TOTAL_CASES - sum(EXAMPLES.values())) // len(_REST)) for n in _REST}
ADMIN, MEMBER = "boss", "you"

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,  # the same cases on every run and in CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# What a user would be notified by if the bot repeated it: Slack's `<!…>` specials, user/channel markup
# and the plain-text crowd pings Discord and Slack both honour (no \b: "@everyone_" pings too).
LIVE_MARKUP = re.compile(r"<[!@#]")
MASS = re.compile(r"@(everyone|here|channel|all)", re.IGNORECASE)
DANGEROUS = (
    "@everyone", "@here", "@channel", "@all", "@Everyone", "@everyone_", "<!channel>", "<!here>",
    "<!everyone>", "<!subteam^S1|team>", "<@U123>", "<@!42>", "<@&77>", "<#C1>", "<#C1|general>",
    "&lt;!channel&gt;", "<", ">", "&", "@",
)  # fmt: skip
JUNK = (
    "\x00", "\ud800", "x\udc80y", "\x1b[31m",
    "\r\n", "\t", "\u202e", "\u200b", "\ufeff", "🙂", "👩🏽‍🏫", "e\u0301",
    "²", "٣", "０１２", "Ⅻ", "-1", "0", "1e309", "nan", "inf", "NaN", "9" * 30, "-" + "9" * 25,
    "'", '"', "\\", "%s", "{0}", "{name}", "{}", "%(x)s", "$(reboot)", "' OR 1=1 --", "../../etc/passwd",
    "#", "#general", "<#C1>", "=", "==", "a=", "=b",
)  # fmt: skip
VOCABULARY = (
    # key=value forms (profile, events) with values that look right and values that are not
    "role=", "subject=", "programme=", "language=", "tz=", "hours=", "school=", "region=", "bio=",
    "open=", "name=", "title=", "start=", "repeat=", "duration=", "channel=", "reminders=",
    "breakouts=", "description=", "durée=", "titre=", "dates=",
    "examiner", "Biology", "biologie", "DP", "MYP", "Spanish", "Europe/Madrid", "Mars/Olympus_Mons",
    "madrid", "UTC", "08:00-18:00", "25:00-99:99", "8-8", "yes", "peut-être",
    "2026-09-09 15:00 Europe/London", "2026-02-30", "0001-01-01", "9999-12-31 23:59", "14 October 2026",
    "monthly on the second Wednesday", "monthly on the fifth Friday", "every 0 weeks", "daily",
    "FREQ=SECONDLY", "RRULE:FREQ=DAILY;COUNT=99999999", "1h30", "1h99", "99999", "24h,1h", "2d,30m",
    "none", "DP; MYP; PYP",
    # meet-ups, cafés and event moves
    "every", "2", "weeks", "groups", "of", "3", "4", "7", "people", "on", "tuesday", "at", "15:00",
    "3pm", "13pm", "24:00", "Europe/London", "off", "stop", "for", "semaines", "cada", "host", "hôte",
    "in", "#announcements", "to", "→", "tomorrow", "2026-10-21 16:00", "orientation", "fishbowl",
    "Europe/", "Mars/", "America/New_York", "<#C1|x>",
)  # fmt: skip

control_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co")),
    max_size=8,
)
huge_numbers = st.integers(min_value=-(10**40), max_value=10**40)
NUMBERS = ("9" * 30, "-" + "9" * 25, str(2**63), str(2**64), "-0", "0" * 20 + "1", "1e309", "1_000", "0x1F")
SEPARATORS = ("", "\n", "\t", "  ", "\u3000", ",")
VALUES = DANGEROUS * 4 + VOCABULARY + JUNK + NUMBERS  # mentions weighted: they are what must not leak


def _words(spec: CommandSpec) -> tuple[str, ...]:
    """The command's own sub-command and option words, so the fuzz reaches past the usage line."""
    subs = tuple(s.name for s in spec.subcommands)
    options = {o.name for o in spec.options} | {o.name for s in spec.subcommands for o in s.options}
    return subs + tuple(sorted(options)) + tuple(f"{o}=" for o in sorted(options))


def _keys(spec: CommandSpec) -> tuple[str, ...]:
    """The `key=` words of the commands that read fields that way (profile, events)."""
    return tuple(sorted({"profile": PROFILE_KEYS, "events": EVENT_KEYS}.get(spec.name, {})))


def text_strategy(spec: CommandSpec) -> st.SearchStrategy[str]:
    """A line as typed after the command: mostly one of its sub-commands first, then words (its own,
    plausible and broken values, mentions, junk, huge numbers, `key=value` pairs) and a tail of
    arbitrary unicode with control characters. Flat on purpose: few draws per case keep 10,000 fast."""
    word = st.sampled_from(_words(spec) * 4 + VALUES + SEPARATORS)
    keys = _keys(spec)
    pair = st.tuples(st.sampled_from(keys or ("x",)), st.sampled_from(VALUES)).map("=".join)
    piece = st.one_of(word, pair, pair) if keys else word
    leads = (*(s.name for s in spec.subcommands for _ in range(3 if s.options else 1)), "")
    return st.tuples(st.sampled_from(leads), st.lists(piece, max_size=5), control_text).map(
        lambda parts: " ".join([parts[0], *parts[1], parts[2]])
    )


def value_strategy(spec: CommandSpec) -> st.SearchStrategy[Any]:
    """An option value of any type a platform (or a buggy one) might send."""
    return st.one_of(
        st.sampled_from(VALUES),
        text_strategy(spec),
        text_strategy(spec),
        huge_numbers,
        st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
    )


def typed_args(spec: CommandSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Discord-style options: a known or unknown sub-command, each of its options present or not,
    with values of any type, and now and then a key nobody declared."""
    values = value_strategy(spec)
    junk_keys = {k: values for k in ("text", "fields", "event", "weeks")}

    def options(names: tuple[str, ...], fixed: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        optional = {n: values for n in names} | {k: v for k, v in junk_keys.items() if k not in names}
        return st.fixed_dictionaries({k: st.just(v) for k, v in fixed.items()}, optional=optional)

    if not spec.subcommands:
        return options(tuple(o.name for o in spec.options), {})
    known = [options(tuple(o.name for o in s.options), {SUBCOMMAND: s.name}) for s in spec.subcommands]
    unknown = control_text.map(lambda word: {SUBCOMMAND: word})
    return st.one_of(*known, unknown)


def args_strategy(spec: CommandSpec) -> st.SearchStrategy[dict[str, Any]]:
    """Half free text as Slack and the console split it, half typed options as Discord sends them."""
    return st.one_of(text_strategy(spec).map(spec.args_from_text), typed_args(spec))


class ErrorLog(logging.Handler):
    """Collects error records (a handler that raised logs its traceback here)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


class MarkupPort(ConsolePort):
    """The console, escaping user text the way Slack needs it: any `<!`, `<@` or `<#` left in what the
    bot says can only be user text that skipped `escape` (the console's own mentions are `@name`)."""

    def escape(self, text: str) -> str:
        return escape_mrkdwn(text)

    def link(self, url: str, label: str) -> str:
        return f"<{url}|{escape_mrkdwn(label)}>"


@dataclass
class FuzzWorld:
    runtime: Runtime
    port: MarkupPort

    @classmethod
    async def start(cls, tmp_path: Path) -> FuzzWorld:
        config = make_config(f"sqlite:///{tmp_path / 'fuzz.db'}", admins={"console": [ADMIN]})
        runtime = await build_runtime(config, clock=ManualClock(START), scheduler=ManualScheduler())
        port = MarkupPort()
        runtime.attach(port)
        await load_demo(runtime)
        return cls(runtime, port)

    async def run(self, name: str, args: dict[str, Any], *, user: str, locale: str) -> Reply:
        event = CommandEvent(
            actor=Actor(Platform.CONSOLE, user, user.title(), locale, "Europe/Madrid"),
            conversation=Conversation(Platform.CONSOLE, "console", "general"),
            name=name,
            args=args,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        return await self.runtime.dispatcher.command(event, self.port)

    def _actor(self, user: str, locale: str) -> Actor:
        return Actor(Platform.CONSOLE, user, user.title(), locale, "Europe/Madrid")

    async def press(self, action: str, value: str, *, user: str, locale: str) -> Reply:
        event = ButtonEvent(
            actor=self._actor(user, locale),
            conversation=Conversation(Platform.CONSOLE, "console", "general"),
            action_id=action,
            value=value,
            message_id=None,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        return await self.runtime.dispatcher.button(event, self.port)

    async def submit(
        self, form_id: str, values: dict[str, str], context: str, *, user: str, locale: str
    ) -> Reply:
        """A submitted form; field errors come back as the text Discord would show them in."""
        event = FormSubmitEvent(
            actor=self._actor(user, locale),
            conversation=Conversation(Platform.CONSOLE, "console", "general"),
            form_id=form_id,
            values=values,
            context=context,
            event_id=uuid.uuid4().hex,
            received_at=self.runtime.services.clock.now(),
        )
        result = await self.runtime.dispatcher.form_submit(event, self.port)
        if isinstance(result, FormErrors):
            return Reply("\n".join(f"• {field}: {message}" for field, message in result.errors.items()))
        return result


def problems(reply: Reply, posted: list[Posted], locale: str, errors: ErrorLog) -> list[str]:
    """What a member would see that breaks the rule; empty when the answer is clean."""
    found: list[str] = []
    if not reply.text.strip():
        found.append("empty reply")
    if reply.text == Translator(locale).gettext(CRASH_MESSAGE):
        found.append("the dispatcher's crash apology (a handler raised)")
    for record in errors.records:
        trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        found.append(f"logged error: {record.getMessage()}\n{trace}")
    for where, text in [("reply", reply.text), *((f"posted in {p.channel}", p.text) for p in posted)]:
        if "Traceback" in text or 'File "' in text:
            found.append(f"a traceback in the {where}")
        if LIVE_MARKUP.search(text):
            found.append(f"live markup in the {where}: {LIVE_MARKUP.search(text)!r}")
        if MASS.search(text):
            found.append(f"a mass mention in the {where}: {MASS.search(text)!r}")
    return found


def _no_chart(*args: Any, **kwargs: Any) -> bytes:
    return b"\x89PNG"


Call = Callable[[FuzzWorld, Any, str, str], Coroutine[Any, Any, Reply]]


@dataclass
class Shared:
    """One event loop and one runtime for every fuzz test of the module: built once (it costs more
    than a thousand cases), and its database fills as the fuzz goes, so /solved meets the questions
    /ask left, buttons meet real events and cafés, and each command sees more than an empty start."""

    runner: asyncio.Runner
    world: FuzzWorld


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    with asyncio.Runner() as runner:
        world = runner.run(FuzzWorld.start(tmp_path_factory.mktemp("fuzz")))
        try:
            yield Shared(runner, world)
        finally:
            runner.run(world.runtime.close())


def run_fuzz(shared: Shared, examples: int, inputs: st.SearchStrategy[Any], call: Call) -> int:
    """`examples` cases on the shared runtime; returns how many ran. Each case runs as a member or an
    admin, in English, French or Spanish."""
    ran = 0
    runner, world = shared.runner, shared.world

    @settings(FUZZ, max_examples=examples)
    @given(
        data=inputs,
        user=st.sampled_from((MEMBER, MEMBER, ADMIN)),
        locale=st.sampled_from(("en", "fr", "es")),
    )
    def case(data: Any, user: str, locale: str) -> None:
        nonlocal ran
        ran += 1
        before = len(world.port.messages)
        with error_log() as errors:
            reply = runner.run(call(world, data, user, locale))
        found = problems(reply, world.port.messages[before:], locale, errors)
        assert not found, f"{data!r} as {user} ({locale}) → {reply.text!r}: {found}"

    case()
    return ran


@pytest.fixture
def no_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts are matplotlib renders (~50 ms each) whose inputs never contain user text; a stub keeps
    the 10,000 cases fast. Their rendering is tested in test_qa_stats.py and test_school_report.py."""
    monkeypatch.setattr("bot.handlers.school.render_png", _no_chart)
    monkeypatch.setattr("bot.handlers.qa_stats.render_png", _no_chart)


@pytest.mark.usefixtures("no_charts")
@pytest.mark.parametrize("spec", COMMANDS, ids=[c.name for c in COMMANDS])
def test_every_command_answers_any_input_cleanly(spec: CommandSpec, shared: Shared) -> None:
    async def call(world: FuzzWorld, args: dict[str, Any], user: str, locale: str) -> Reply:
        return await world.run(spec.name, args, user=user, locale=locale)

    assert run_fuzz(shared, EXAMPLES[spec.name], args_strategy(spec), call) >= EXAMPLES[spec.name]


def test_the_fuzz_totals_at_least_ten_thousand_cases() -> None:
    assert set(EXAMPLES) == {c.name for c in COMMANDS}
    assert sum(EXAMPLES.values()) >= TOTAL_CASES


# -- buttons and forms: their values round-trip through the platform, so anyone can forge them -------

ACTIONS = all_actions()
FORMS = all_forms()
FORGED_VALUES = (
    "1", "0", "-1", "²", "１", "9" * 19, "9" * 40, "1|", "0|||", "9" * 30 + "|a|b|c|d", "x|a|b|c|d",
    "1|examiner|biology|dp|es|extra", "1:2", "1:2:going", "1:99999999999999:going", "1:-5:going",
    "²:1:going", "1:²:going", "1:1:maybe:x", "you", "boss", "1:yes", "²:yes", "9" * 30 + ":no",
)  # fmt: skip
button_values = st.one_of(st.sampled_from(FORGED_VALUES + VALUES), control_text, huge_numbers.map(str))
FORM_FIELDS = (
    *("question", "subject", "programme", "language", "roles", "subjects", "programmes", "languages"),
    *("where", "title", "start", "repeat", "duration", "description", "name", "x"),
)
form_value = st.one_of(st.sampled_from(VALUES + FORGED_VALUES), control_text)
form_inputs = st.tuples(
    st.fixed_dictionaries({}, optional=dict.fromkeys(FORM_FIELDS, form_value)),
    st.sampled_from(("", "1", "²", "9" * 30, "{}", "x")),
)
BUTTON_EXAMPLES, FORM_EXAMPLES = 50, 120


@pytest.mark.parametrize("action", [a.action for a in ACTIONS])
def test_every_button_answers_forged_values_cleanly(action: str, shared: Shared) -> None:
    async def call(world: FuzzWorld, value: str, user: str, locale: str) -> Reply:
        return await world.press(action, value, user=user, locale=locale)

    assert run_fuzz(shared, BUTTON_EXAMPLES, button_values, call) >= BUTTON_EXAMPLES


@pytest.mark.parametrize("form_id", [f.form_id for f in FORMS])
def test_every_form_answers_any_submission_cleanly(form_id: str, shared: Shared) -> None:
    async def call(world: FuzzWorld, data: tuple[dict[str, str], str], user: str, locale: str) -> Reply:
        values, context = data
        return await world.submit(form_id, values, context, user=user, locale=locale)

    assert run_fuzz(shared, FORM_EXAMPLES, form_inputs, call) >= FORM_EXAMPLES


# -- what the fuzz found, pinned -------------------------------------------------------------------

FOUND: list[tuple[str, str, Any, str]] = [
    # int() of a non-ASCII digit ("²".isdigit() is true) or of a number SQLite cannot hold: a crash
    ("command", "solved", {"question": "²"}, MEMBER),
    ("command", "solved", {"question": 2**63}, MEMBER),
    ("command", "solved", {"question": "9" * 30}, MEMBER),
    ("button", "qa.solve", "²", MEMBER),
    ("button", "ask.post", "9" * 30, MEMBER),
    ("button", "cafe.join", "²", MEMBER),
    ("button", "events.rsvp", "1:99999999999999:going", MEMBER),
    ("button", "events.rsvp", "1:²:going", MEMBER),
    ("button", "meetups.met", "²:yes", MEMBER),
    ("button", "whois.page", "x|a|b|c|d", MEMBER),
    ("button", "whois.page", "1|", MEMBER),
    # a time zone or date typed as a mention came back unescaped in the error
    ("command", "profile", {"subcommand": "set", "fields": "tz=<!channel>"}, MEMBER),
    ("command", "profile", {"subcommand": "set", "fields": "timezone=@everyone"}, MEMBER),
    ("command", "profile", {"subcommand": "set", "fields": "where=<!here> 08:00-18:00"}, MEMBER),
    (
        "command",
        "events",
        {"subcommand": "add", "fields": "title=x start=2026-09-09 15:00 Mars/<!here>"},
        ADMIN,
    ),
    ("command", "events", {"subcommand": "add", "fields": "title=x start=<@U123> repeat=<!channel>"}, ADMIN),
    ("form", "profile", ({"where": "@everyone"}, ""), MEMBER),
    # NUL and lone surrogates cannot be stored (SQLite's UTF-8, PostgreSQL's NUL): a crash on /ask
    ("command", "ask", {"question": "Lab \ud800 safety\x00?"}, MEMBER),
    ("command", "profile", {"subcommand": "set", "fields": "bio=\udfff\x00"}, MEMBER),
]


@pytest.mark.usefixtures("no_charts")
async def test_what_the_fuzz_found_stays_fixed(tmp_path: Path) -> None:
    world = await FuzzWorld.start(tmp_path)
    try:
        for kind, name, data, user in FOUND:
            with error_log() as errors:
                if kind == "command":
                    reply = await world.run(name, data, user=user, locale="en")
                elif kind == "button":
                    reply = await world.press(name, data, user=user, locale="en")
                else:
                    reply = await world.submit(name, *data, user=user, locale="en")
            assert not problems(reply, world.port.messages, "en", errors), (kind, name, data, reply.text)
        stored = await world.runtime.services.questions.get(1)
        assert stored is not None and stored.text == "Lab \ufffd safety?"  # kept, made storable
    finally:
        await world.runtime.close()


# -- 40 kB of text ------------------------------------------------------------------------------------

HUGE = 40_000


def _huge_texts(spec: CommandSpec) -> list[str]:
    """40 kB as one word, as many words, as many-byte characters, and after each sub-command."""
    filler = ("word " * (HUGE // 5))[:HUGE]
    texts = ["x" * HUGE, filler, "é" * (HUGE // 2), "🙂" * (HUGE // 4), "@everyone " * (HUGE // 10)]
    texts += [f"{s.name} {filler}" for s in spec.subcommands]
    texts += [f"{s.name} bio={filler} title={filler}" for s in spec.subcommands if s.options]
    return texts


async def _longest_stored(runtime: Runtime) -> tuple[int, str]:
    """The longest text value anywhere in the database, and where it is."""
    longest = (0, "")
    async with runtime.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                for column, value in zip(table.columns, row, strict=True):
                    if isinstance(value, str) and len(value) > longest[0]:
                        longest = (len(value), f"{table.name}.{column.name}")
    return longest


async def test_forty_kilobytes_of_text_get_a_clear_answer_and_are_not_stored(tmp_path: Path) -> None:
    world = await FuzzWorld.start(tmp_path)
    try:
        for spec in COMMANDS:
            for user in (MEMBER, ADMIN):
                for text in _huge_texts(spec):
                    args = spec.args_from_text(text)
                    with error_log() as errors:
                        reply = await world.run(spec.name, args, user=user, locale="en")
                    assert not problems(reply, world.port.messages, "en", errors), (spec.name, text[:40])
                    allowed = spec.permission is Permission.EVERYONE or user == ADMIN
                    if allowed and any(
                        isinstance(v, str) and len(v) > MAX_INPUT_CHARS for v in args.values()
                    ):
                        assert reply.text.startswith("That is ") and "Nothing was posted." in reply.text
                        assert len(reply.text) < 200  # the refusal does not echo the 40 kB back
        assert all(len(p.text) < MAX_INPUT_CHARS for p in world.port.messages)
        length, where = await _longest_stored(world.runtime)
        assert length < MAX_INPUT_CHARS, f"{length} characters stored in {where}"
    finally:
        await world.runtime.close()


async def test_forty_kilobytes_as_a_typed_option_are_refused_before_any_handler_runs(tmp_path: Path) -> None:
    world = await FuzzWorld.start(tmp_path)
    try:
        for spec in COMMANDS:
            cases = [{o.name: "y" * HUGE} for o in spec.options]
            cases += [{SUBCOMMAND: s.name, o.name: "y" * HUGE} for s in spec.subcommands for o in s.options]
            for args in cases:
                reply = await world.run(spec.name, args, user=ADMIN, locale="fr")
                assert reply.text == (
                    f"Cela fait {HUGE} caractères ; restez sous {MAX_INPUT_CHARS}, s'il vous plaît. "
                    "Rien n'a été publié."
                ), (spec.name, list(args), reply.text)
        assert world.port.messages == []
        assert (await _longest_stored(world.runtime))[0] < MAX_INPUT_CHARS
    finally:
        await world.runtime.close()
