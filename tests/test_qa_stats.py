"""/qa-stats: the promise of an answer within six minutes, measured on known data (both backends),
rendered as a table, helper lines and a chart, and through the console like a member would use it."""

from __future__ import annotations

import dataclasses
import functools
import io
from datetime import datetime, timedelta
from itertools import count

import pytest
from PIL import Image

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime
from bot.handlers.qa_stats import QA_STATS, parse_days
from bot.i18n import Translator
from bot.qa_stats import format_duration, render_helpers, render_png, render_table
from storage.db import Database
from storage.members import MemberInput, MemberRepository
from storage.qa_stats import GroupStats, Helper, QAStats, percentile, qa_stats
from storage.questions import NewQuestion, QuestionRepository
from tests.conftest import START

NOW = START
SINCE = NOW - timedelta(days=30)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_events = count(1)


async def ask(
    db: Database,
    *,
    at: datetime,
    asker: str,
    platform: str = "console",
    subject: str | None = None,
    language: str | None = None,
    answer_after: float | None = None,
    answerer: str = "",
    solved: bool = False,
    posted: bool = True,
) -> int:
    """One question, posted (unless a draft), optionally answered `answer_after` seconds later."""
    repo = QuestionRepository(db)
    n = next(_events)
    question, _ = await repo.create(
        NewQuestion(
            platform=platform, source_event_id=f"e{n}", asker_user_id=asker, asker_name=asker,
            asker_locale="en", text=f"Question {n}?", created_at=at, subject=subject, language=language,
        )
    )  # fmt: skip
    if posted:
        await repo.attach_thread(
            question.id, channel="qa", thread_ref=f"t{n}", root_message_id=f"m{n}", permalink=None
        )
    if answer_after is not None:
        answered_at = at + timedelta(seconds=answer_after)
        answer, _ = await repo.add_answer(
            question.id,
            platform=platform,
            user_id=answerer,
            message_id=f"a{n}",
            text="Answer",
            at=answered_at,
        )
        if solved and answer is not None:
            await repo.mark_solved(question.id, answer.id, answered_at + timedelta(minutes=1))
    return question.id


async def seed(db: Database) -> None:
    """Askers in Europe (two spellings), Africa and nowhere known; helpers on console and Slack."""
    members = MemberRepository(db)
    people = [
        MemberInput(name="Ana Ruiz", identities={"console": "ana", "slack": "U_ANA"}, region="Europe"),
        MemberInput(name="Kwame Mensah", identities={"console": "kwame", "slack": "U_KW"}, region="Africa"),
        MemberInput(name="Mei Chen", identities={"slack": "U_MEI"}, region="  europe "),
        MemberInput(name="Hidden Helper", identities={"console": "hid"}, visibility="hidden"),
    ]
    for person in people:
        await members.upsert(person, NOW)

    day = timedelta(days=1)
    bio = functools.partial(ask, db, subject="biology", language="en")
    chem = functools.partial(ask, db, subject="chemistry", language="fr")
    await bio(at=NOW - 1 * day, asker="ana", answer_after=60, answerer="kwame", solved=True)
    await bio(at=NOW - 2 * day, asker="ana", answer_after=120, answerer="kwame")
    await bio(at=NOW - 3 * day, asker="kwame", answer_after=180, answerer="ana")
    await bio(at=NOW - 4 * day, asker="U_MEI", platform="slack", answer_after=240, answerer="U_ANA")
    await bio(at=NOW - 5 * day, asker="U_X", platform="slack", answer_after=600, answerer="U_RAW")
    await bio(at=NOW - 6 * day, asker="ana")  # unanswered
    await chem(at=NOW - 2 * day, asker="kwame", answer_after=3600, answerer="hid", solved=True)
    await chem(at=NOW - 3 * day, asker="kwame")
    await ask(
        db, at=NOW - 3 * day, asker="U_MEI", platform="slack", answer_after=2 * 86400, answerer="U_KW"
    )  # no subject, no language
    await ask(db, at=SINCE, asker="nobody", subject="physics", language="es")  # the window includes its start
    # Outside the window or never posted: counted nowhere, except that a first answer given inside the
    # window counts for its helper.
    await bio(at=NOW, asker="ana")  # the window excludes its end
    await bio(at=SINCE - day, asker="ana", answer_after=10, answerer="kwame")
    await bio(at=SINCE - timedelta(hours=1), asker="ana", answer_after=7200, answerer="kwame")
    await bio(at=NOW - day, asker="ana", answer_after=5, answerer="kwame", posted=False)


def by_key(rows: tuple[GroupStats, ...]) -> dict[str | None, GroupStats]:
    return {row.key: row for row in rows}


def counts(row: GroupStats) -> tuple[int, int, int, int]:
    return row.asked, row.answered, row.solved, row.on_time


# --- the numbers (SQLite and PostgreSQL) ----------------------------------------------------------


async def test_counts_median_and_p90_overall_and_by_subject(db: Database) -> None:
    await seed(db)
    stats = await qa_stats(db, SINCE, NOW)
    assert (stats.since, stats.until) == (SINCE, NOW)
    # 10 posted questions in the window; 7 answered; unanswered ones count as asked, not in times.
    assert counts(stats.overall) == (10, 7, 2, 4)
    assert stats.overall.median_seconds == pytest.approx(240)  # of 60, 120, 180, 240, 600, 3600, 172800
    assert stats.overall.p90_seconds == pytest.approx(3600 + 0.4 * (172800 - 3600))
    assert stats.overall.answered_share == pytest.approx(0.7)

    assert [row.key for row in stats.by_subject] == ["biology", "chemistry", "physics", None]
    subjects = by_key(stats.by_subject)
    assert counts(subjects["biology"]) == (6, 5, 1, 4)
    assert subjects["biology"].median_seconds == pytest.approx(180)
    assert subjects["biology"].p90_seconds == pytest.approx(240 + 0.6 * 360)
    assert counts(subjects["chemistry"]) == (2, 1, 1, 0)
    assert subjects["chemistry"].median_seconds == subjects["chemistry"].p90_seconds == pytest.approx(3600)
    assert counts(subjects["physics"]) == (1, 0, 0, 0)
    assert subjects["physics"].median_seconds is None and subjects["physics"].p90_seconds is None
    assert subjects[None].median_seconds == pytest.approx(2 * 86400)


async def test_regions_come_from_the_askers_profile_and_languages_from_the_question(db: Database) -> None:
    await seed(db)
    stats = await qa_stats(db, SINCE, NOW)
    # "Europe" (3 questions) and "  europe " (2) are one region, shown in the commoner spelling.
    assert [row.key for row in stats.by_region] == ["Europe", "Africa", None]
    regions = by_key(stats.by_region)
    assert counts(regions["Europe"]) == (5, 4, 1, 3)
    assert regions["Europe"].median_seconds == pytest.approx(180)  # of 60, 120, 240, 172800
    assert regions["Europe"].p90_seconds == pytest.approx(240 + 0.7 * (172800 - 240))
    assert counts(regions["Africa"]) == (3, 2, 1, 1)
    assert regions["Africa"].median_seconds == pytest.approx(1890)
    assert counts(regions[None]) == (2, 1, 0, 0)  # askers with no member profile

    assert [row.key for row in stats.by_language] == ["en", "fr", "es", None]
    assert [row.asked for row in stats.by_language] == [6, 2, 1, 1]


async def test_top_helpers_merge_a_members_platforms_and_leave_out_hidden_members(db: Database) -> None:
    await seed(db)
    helpers = (await qa_stats(db, SINCE, NOW)).helpers
    assert [(h.name, h.platform, h.user_id, h.first_answers) for h in helpers] == [
        ("Kwame Mensah", "console", "kwame", 4),  # incl. a first answer in the window to an older question
        ("Ana Ruiz", "console", "ana", 2),  # one on the console, one on Slack
        (None, "slack", "U_RAW", 1),  # not in the directory
    ]
    assert helpers[1].identities == {"console": "ana", "slack": "U_ANA"}
    assert helpers[2].member_id is None and helpers[2].identities == {}


async def test_an_empty_period_and_drafts_count_nothing(db: Database) -> None:
    await ask(db, at=NOW - timedelta(days=1), asker="ana", subject="biology", answer_after=5, answerer="k",
              posted=False)  # fmt: skip
    stats = await qa_stats(db, SINCE, NOW)
    assert counts(stats.overall) == (0, 0, 0, 0) and stats.overall.median_seconds is None
    assert stats.by_subject == stats.by_region == stats.by_language == ()
    assert stats.helpers == ()


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.9) == pytest.approx(46.0)


# --- rendering ------------------------------------------------------------------------------------


def row(key: str | None, asked: int, answered: int, median: float | None, p90: float | None) -> GroupStats:
    return GroupStats(key, asked, answered, answered // 2, answered, median, p90)


def sample_stats(helpers: tuple[Helper, ...] = ()) -> QAStats:
    return QAStats(
        since=SINCE,
        until=NOW,
        overall=row(None, 12, 10, 300, 4800),
        by_subject=(
            row("biology", 6, 6, 180, 456),
            row("retired-term", 3, 2, 1200, 1500),
            row("chemistry", 2, 2, 5 * 86400, 6 * 86400),
            row(None, 1, 0, None, None),
        ),
        by_region=(
            row("Europe", 8, 7, 200, 400),
            row("@everyone `Asia`", 3, 3, 100, 120),
            row(None, 1, 0, None, None),
        ),
        by_language=(row("en", 10, 9, 250, 500), row("fr", 2, 1, 30, 30)),
        helpers=helpers,
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 s"),
        (40.4, "40 s"),
        (60, "1 min"),
        (240, "4 min"),
        (3569, "59 min"),
        (3599, "1 h"),
        (4800, "1 h 20 min"),
        (86399, "1 d"),
        (2 * 86400, "2 d"),
        (2 * 86400 + 3 * 3600 + 100, "2 d 3 h"),
    ],
)
def test_durations_are_compact(seconds: float | None, text: str) -> None:
    assert format_duration(seconds, Translator("en")) == text


def test_the_english_table_has_every_breakdown_with_names_shares_and_times() -> None:
    text = render_table(sample_stats(), Translator("en"), escape=lambda s: s.replace("@", "@\u200b"))
    lines = text.splitlines()
    assert lines[0] == "Questions asked in the last 30 days"
    header = next(line for line in lines if "Asked" in line)
    for label in ("Asked", "Answered", "Solved", "≤ 6 min", "Median", "p90"):
        assert label in header
    overall = next(line for line in lines if line.startswith("All questions"))
    assert overall.split()[2:5] == ["12", "83%", "42%"] and overall.endswith("5 min  1 h 20 min")
    for title in ("By subject", "By asker's region", "By language"):
        assert title in lines
    biology = next(line for line in lines if line.startswith("Biology"))
    assert biology.split()[1:] == ["6", "100%", "50%", "100%", "3", "min", "8", "min"]
    assert any(line.startswith("retired-term") for line in lines)  # an id the catalogue lost
    assert any(line.startswith("Chemistry") and line.split()[-4:] == ["5", "d", "6", "d"] for line in lines)
    assert any(line.startswith("—") and line.split()[-2:] == ["—", "—"] for line in lines)
    assert any(line.startswith("English") for line in lines) and any(
        line.startswith("French") for line in lines
    )
    # Member-typed text is escaped and cannot close the code block.
    assert "@\u200beveryone 'Asia'" in text and "`" not in text
    assert "Our promise: an answer within 6 minutes." in " ".join(text.split())
    assert max(len(line) for line in lines) == len(header)  # the note wraps to the table's width
    # Columns line up: every number ends where its header does.
    end = header.index("Asked") + len("Asked")
    assert all(line[end - 1].isdigit() for line in (overall, biology))


def test_long_breakdowns_are_cut_and_an_empty_period_says_so() -> None:
    many = tuple(row(f"region {i:02d}", 20 - i, 1, 60, 60) for i in range(11))
    stats = sample_stats()
    text = render_table(
        QAStats(stats.since, stats.until, stats.overall, stats.by_subject, many, stats.by_language, ()),
        Translator("en"),
    )
    assert "region 07" in text and "region 08" not in text and "… and 3 more" in text
    empty = QAStats(
        SINCE, SINCE + timedelta(days=1), GroupStats(None, 0, 0, 0, 0, None, None), (), (), (), ()
    )
    assert render_table(empty, Translator("en")) == "No questions were asked in the last 1 day."


def test_french_and_spanish_render_without_error() -> None:
    for locale in ("fr", "es"):
        text = render_table(sample_stats(), Translator(locale))
        assert "12" in text and "Biolog" in text
        assert render_helpers(sample_stats(), Translator(locale), platform="console", mention=str)
    assert "Biologie" in render_table(sample_stats(), Translator("fr"))


def test_helpers_are_mentioned_where_they_are_and_named_elsewhere() -> None:
    helpers = (
        Helper("slack", "U_ANA", "Ana Ruiz", 5, member_id=1, identities={"slack": "U_ANA", "console": "ana"}),
        Helper("slack", "U_MEI", "Mei *Chen*", 3, member_id=2, identities={"slack": "U_MEI"}),
        Helper("console", "zed", None, 1),
        Helper("slack", "U_RAW", None, 1),
    )
    text = render_helpers(
        sample_stats(helpers), Translator("en"), platform="console", mention=lambda u: f"<@{u}>",
        escape=lambda s: s.replace("*", "\\*"),
    )  # fmt: skip
    assert text.splitlines() == [
        "Top helpers (first answers):",
        "1. <@ana>: 5 first answers",  # their console identity, though they answered on Slack
        "2. Mei \\*Chen\\*: 3 first answers",
        "3. <@zed>: 1 first answer",
        "4. U_RAW on Slack: 1 first answer",
    ]
    assert render_helpers(sample_stats(), Translator("en"), platform="console", mention=str) == (
        "No first answers in this period yet."
    )


def test_the_chart_is_a_valid_png_and_the_same_bytes_every_time() -> None:
    first = render_png(sample_stats(), Translator("en"))
    assert first.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(first)) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width == 1000 and 300 <= height <= 1200
    assert render_png(sample_stats(), Translator("en")) == first
    assert render_png(sample_stats(), Translator("fr")).startswith(PNG_SIGNATURE)
    empty = QAStats(SINCE, NOW, GroupStats(None, 0, 0, 0, 0, None, None), (), (), (), ())
    assert render_png(empty, Translator("en")).startswith(PNG_SIGNATURE)
    instant = QAStats(SINCE, NOW, row(None, 2, 2, 0, 0.4), (row("biology", 2, 2, 0, 0.4),), (), (), ())
    assert render_png(instant, Translator("en")).startswith(PNG_SIGNATURE)  # faster than the axis


# --- the command ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "days"),
    [(None, 30), ("", 30), ("7", 7), (" 90 ", 90), (365, 365), ("1", 1), ("0", None), ("366", None),
     ("-5", None), ("7d", None), ("seven", None), ("٧", None), (True, None)],
)  # fmt: skip
def test_days_must_be_a_whole_number_from_1_to_365(value: object, days: int | None) -> None:
    assert parse_days(value) == days


@pytest.fixture
def session(runtime: Runtime) -> ConsoleSession:
    runtime.dispatcher.commands["qa-stats"] = QA_STATS
    port = ConsolePort()
    runtime.attach(port)
    return ConsoleSession(runtime, port, out=lambda _: None)


async def test_the_command_replies_with_a_table_helpers_and_a_chart(
    session: ConsoleSession, runtime: Runtime
) -> None:
    await seed(runtime.services.members.db)
    reply = await session.command("qa-stats", "")
    assert reply.text.startswith("```\nQuestions asked in the last 30 days\n")
    table, _, helpers = reply.text.rpartition("```\n")
    assert next(line for line in table.splitlines() if line.startswith("All questions")).split()[2:4] == [
        "10",
        "70%",
    ]
    assert helpers.splitlines()[1:] == [
        "1. @kwame: 4 first answers",
        "2. @ana: 2 first answers",
        "3. U_RAW on Slack: 1 first answer",
    ]
    assert reply.attachment is not None and reply.attachment.filename == "qa-stats.png"
    assert reply.attachment.data.startswith(PNG_SIGNATURE) and reply.attachment.title

    week = await session.command("qa-stats", "2")
    assert "Questions asked in the last 2 days" in week.text
    assert next(line for line in week.text.splitlines() if line.startswith("All questions")).split()[2] == "3"


async def test_the_command_explains_bad_days_and_an_empty_period(session: ConsoleSession) -> None:
    for bad in ("0", "366", "last week"):
        reply = await session.command("qa-stats", bad)
        assert reply.text.startswith("/qa-stats [days]:") and reply.attachment is None
    quiet = await session.command("qa-stats", "1")
    assert quiet.text.startswith("No questions were asked in the last 1 day") and quiet.attachment is None


async def test_the_command_speaks_french(session: ConsoleSession) -> None:
    await seed(session.runtime.services.members.db)
    session.actor = dataclasses.replace(session.actor, locale="fr")
    reply = await session.command("qa-stats", "30")
    assert "Biologie" in reply.text and reply.attachment is not None
