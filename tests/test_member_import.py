"""Member import/export on SQLite and PostgreSQL: the CLI bodies, bulk upsert, conflicts, round trips."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.members_cli import export_members, import_members
from bot.catalog import Catalogue
from bot.config import Config
from storage.bulk import IdentityConflict, ImportResult, bulk_upsert, export_cards, find_conflicts
from storage.db import Database
from storage.member_csv import COLUMNS, parse_members_csv
from storage.members import MemberInput, MemberRepository
from tests.conftest import make_config

NOW = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "data" / "members.example.csv"
EXAMPLE_ROWS = sum(1 for line in EXAMPLE.read_text(encoding="utf-8").splitlines()[1:] if line.strip())
HEADER = ",".join(COLUMNS)


@pytest.fixture
def config(database_url: str) -> Config:
    return make_config(database_url)


@pytest.fixture
def sqlite_config(sqlite_url: str) -> Config:
    """For CLI paths that end before any database work: one backend is enough."""
    return make_config(sqlite_url)


class Run:
    """One CLI call's exit code and output lines."""

    def __init__(self, code: int, out: io.StringIO, err: io.StringIO) -> None:
        self.code = code
        self.out = out.getvalue().splitlines()
        self.err = err.getvalue().splitlines()


async def run_import(config: Config, path: Path, *, skip_bad: bool = False, progress: bool = False) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = await import_members(config, path, skip_bad=skip_bad, out=out, err=err, show_progress=progress)
    return Run(code, out, err)


async def run_export(config: Config, path: Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = await export_members(config, path, out=out, err=err)
    return Run(code, out, err)


def write_csv(tmp_path: Path, *lines: str, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


async def test_the_example_imports_and_importing_it_again_changes_nothing(
    db: Database, config: Config
) -> None:
    members = MemberRepository(db)
    first = await run_import(config, EXAMPLE)
    assert (first.code, first.err) == (0, [])
    assert first.out == [f"Imported {EXAMPLE_ROWS} members: {EXAMPLE_ROWS} new, 0 updated, 0 unchanged."]
    assert await members.count() == EXAMPLE_ROWS
    version, changed = await members.changes_since(0)
    assert len(changed) == EXAMPLE_ROWS and version >= EXAMPLE_ROWS  # one changelog row per member

    again = await run_import(config, EXAMPLE)
    assert (again.code, again.err) == (0, [])
    assert again.out == [f"Imported {EXAMPLE_ROWS} members: 0 new, 0 updated, {EXAMPLE_ROWS} unchanged."]
    assert await members.version() == version  # nothing written, not even the changelog

    ana = next(c for c in await export_cards(db) if c.name == "Ana Ruiz")
    assert ana.subjects == ("biology",) and ana.roles == ("examiner", "workshop-leader")
    assert ana.identities == {"slack": "U024ABCDE"} and ana.timezone == "Europe/Madrid"


async def test_bad_rows_import_nothing_and_every_problem_is_listed(
    db: Database, config: Config, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "ana@example.org,Ana Ruiz,U024ABC,,examiner,DP,Biology,es,Europe/Madrid,,,,yes,listed",
        "bob@example.org,Bob,,,examiner,DP,Biolgy,en,Europe/Madird,,,,maybe,listed",
        ",Nobody,,,,,,,,,,,,",
        "cy@example.org,Cy,,,,,,,,,,,,",
    )
    run = await run_import(config, path)
    assert run.code == 1 and run.out == []
    assert run.err == [
        f"iben-bot: {path} has 4 problems:",
        "  row 3, subjects: unknown subject 'Biolgy' (did you mean Biology?)",
        "  row 3, timezone: 'Europe/Madird' is not an IANA time zone (did you mean 'Europe/Madrid'?)",
        "  row 3, open_to_questions: expected yes or no, got 'maybe'",
        "  row 4: needs an email, a slack_id or a discord_id to identify the member",
        "nothing was imported; fix the rows above or pass --skip-bad",
    ]
    assert await MemberRepository(db).count() == 0

    skipping = await run_import(config, path, skip_bad=True)
    assert skipping.code == 0
    assert skipping.out == ["Imported 2 members: 2 new, 0 updated, 0 unchanged; 2 rows skipped."]
    assert skipping.err[-1] == "skipped 2 rows with problems (listed above)"
    assert sorted(c.name for c in await export_cards(db)) == ["Ana Ruiz", "Cy"]


async def test_a_long_problem_list_is_capped(sqlite_config: Config, tmp_path: Path) -> None:
    lines = [f"p{i}@example.org,P{i},,,,,,,Mars/Base,,,,," for i in range(250)]
    run = await run_import(sqlite_config, write_csv(tmp_path, *lines))
    assert run.code == 1
    assert len(run.err) == 1 + 200 + 2 and run.err[-2] == "  … and 50 more"


async def test_rows_update_the_member_they_match_by_email_or_platform_id(
    db: Database, config: Config, tmp_path: Path
) -> None:
    members = MemberRepository(db)
    ana_id = await members.upsert(
        MemberInput(
            name="Ana",
            email="Ana@Example.org",
            identities={"slack": "U1"},
            roles=["examiner"],
            locale="fr",
            work_start=9 * 60,
            bio="Biology examiner since 2010",
        ),
        NOW,
    )
    bob_id = await members.upsert(MemberInput(name="Bob", identities={"discord": "381726354091827364"}), NOW)
    version = await members.version()
    path = write_csv(
        tmp_path,
        "ana@example.org,Ana Ruiz,,,examiner;moderator,DP,Biology,es,Europe/Madrid,,Colegio X,,no,listed",
        "bob@example.org,Bob Stone,U2,381726354091827364,,,,,,,,,,hidden",
    )
    run = await run_import(config, path)
    assert run.out == ["Imported 2 members: 0 new, 2 updated, 0 unchanged."]
    assert await members.count() == 2
    ana, bob = await members.get(ana_id), await members.get(bob_id)
    assert ana is not None and bob is not None
    assert (ana.name, ana.email, ana.identities) == ("Ana Ruiz", "ana@example.org", {"slack": "U1"})
    assert set(ana.roles) == {"examiner", "moderator"} and ana.school == "Colegio X"
    assert ana.open_to_questions is False
    # The CSV has no locale, hours or bio: importing it keeps what the member set in the bot.
    assert (ana.locale, ana.work_start, ana.bio) == ("fr", 9 * 60, "Biology examiner since 2010")
    assert bob.email == "bob@example.org" and bob.visibility == "hidden"
    assert bob.identities == {"discord": "381726354091827364", "slack": "U2"}
    assert (await members.changes_since(version))[1] == {ana_id, bob_id}


async def test_an_account_linked_to_someone_else_is_a_conflict_and_nothing_is_imported(
    db: Database, config: Config, tmp_path: Path
) -> None:
    members = MemberRepository(db)
    await members.upsert(
        MemberInput(name="Ana Ruiz", email="ana@example.org", identities={"slack": "U1"}), NOW
    )
    await members.upsert(MemberInput(name="Bob", email="bob@example.org", identities={"slack": "U2"}), NOW)
    path = write_csv(
        tmp_path,
        "new@example.org,New,,,,,,,,,,,,",
        "ana@example.org,Ana Ruiz,U2,,,,,,,,,,,",
    )
    run = await run_import(config, path)
    assert run.code == 1
    assert (
        "  row 3, slack_id: 'U2' is already linked to Bob (bob@example.org), "
        "but this row's email matches Ana Ruiz (ana@example.org)"
    ) in run.err
    assert await members.count() == 2

    rows, _ = parse_members_csv(path.read_bytes(), Catalogue.default())
    assert [(p.row, p.column) for p in await find_conflicts(db, rows)] == [(3, "slack_id")]
    with pytest.raises(IdentityConflict):
        await bulk_upsert(db, [r.member for r in rows], NOW)
    assert await members.count() == 2  # the batch rolled back as a whole


async def test_export_then_reimport_round_trips_exactly(db: Database, config: Config, tmp_path: Path) -> None:
    await run_import(config, EXAMPLE)
    console_only = await MemberRepository(db).upsert(
        MemberInput(name="You", identities={"console": "you"}), NOW
    )
    before = await export_cards(db)

    exported = tmp_path / "export.csv"
    run = await run_export(config, exported)
    assert run.code == 0
    assert run.out == [f"Exported {EXAMPLE_ROWS} members to {exported}"]
    assert run.err == [
        "left out 1 member known only on the console (no email, Slack or Discord id to import them back by)"
    ]
    assert exported.read_text(encoding="utf-8").splitlines()[0] == HEADER

    again = await run_import(config, exported)
    assert again.out == [f"Imported {EXAMPLE_ROWS} members: 0 new, 0 updated, {EXAMPLE_ROWS} unchanged."]
    assert await export_cards(db) == before

    second = tmp_path / "second.csv"
    await run_export(config, second)
    assert second.read_bytes() == exported.read_bytes()
    assert console_only in {c.member_id for c in before}


async def test_bulk_upsert_batches_report_progress_and_link_rows_across_batches(db: Database) -> None:
    rows = [
        MemberInput(name="A", email="a@example.org", identities={"slack": "UA"}, subjects=["biology"]),
        MemberInput(name="B", identities={"discord": "381726354091827364"}),
        MemberInput(name="A2", identities={"slack": "UA"}, subjects=["chemistry", "biology"]),  # A again
        MemberInput(name="C", email="c@example.org"),
        MemberInput(name="C", email="c@example.org"),  # C again, identical
    ]
    seen: list[int] = []
    result = await bulk_upsert(db, rows, NOW, progress=seen.append, batch_size=2)
    assert seen == [2, 4, 5]
    assert result == ImportResult(created=3, updated=1, unchanged=1)
    cards = {c.email: c for c in await export_cards(db)}
    assert cards["a@example.org"].name == "A2" and cards["a@example.org"].subjects == ("chemistry", "biology")
    assert await MemberRepository(db).count() == 3

    same_batch = await bulk_upsert(db, rows, NOW, batch_size=1000)
    assert same_batch.created == 0 and await MemberRepository(db).count() == 3


async def test_an_email_given_up_in_a_batch_can_be_taken_by_a_new_member(db: Database) -> None:
    members = MemberRepository(db)
    await members.upsert(
        MemberInput(name="Ana", email="ana@old.example.org", identities={"slack": "UA"}), NOW
    )
    rows = [
        MemberInput(name="Ana", email="ana@new.example.org", identities={"slack": "UA"}),
        MemberInput(name="Other Ana", email="ana@old.example.org"),
    ]
    assert await bulk_upsert(db, rows, NOW) == ImportResult(created=1, updated=1, unchanged=0)
    assert sorted(c.email or "" for c in await export_cards(db)) == [
        "ana@new.example.org",
        "ana@old.example.org",
    ]


async def test_cli_reports_unreadable_and_empty_files(sqlite_config: Config, tmp_path: Path) -> None:
    config = sqlite_config
    missing = await run_import(config, tmp_path / "nope.csv")
    assert missing.code == 2 and len(missing.err) == 1 and "nope.csv" in missing.err[0]

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "\nb@example.org,Béa,,,,,,,,,,,,\n").encode("latin-1"))
    undecodable = await run_import(config, latin1)
    assert undecodable.code == 1 and "not UTF-8" in undecodable.err[1]

    header_only = await run_import(config, write_csv(tmp_path))
    assert header_only.code == 0 and header_only.out[0].startswith("Imported 0 members")

    cannot_write = await run_export(config, tmp_path / "no-such-dir" / "out.csv")
    assert cannot_write.code == 2 and len(cannot_write.err) == 1


async def test_cli_draws_a_progress_bar_when_asked(db: Database, config: Config, tmp_path: Path) -> None:
    run = await run_import(config, EXAMPLE, progress=True)
    assert run.code == 0 and "Importing" in "\n".join(run.err)
    assert run.out[0].startswith(f"Imported {EXAMPLE_ROWS} members")


async def test_skip_bad_with_only_bad_rows_imports_nothing_and_succeeds(
    sqlite_config: Config, tmp_path: Path
) -> None:
    run = await run_import(sqlite_config, write_csv(tmp_path, ",Nobody,,,,,,,,,,,,"), skip_bad=True)
    assert run.code == 0
    assert run.out == ["Imported 0 members: 0 new, 0 updated, 0 unchanged; 1 row skipped."]


async def test_a_member_deleted_during_an_import_is_created_again(sqlite_url: str) -> None:
    """The owner index is loaded once; a member removed meanwhile (/forget-me) must not break a batch."""
    import sqlite3

    db = Database(sqlite_url)
    await db.upgrade()
    try:
        ana = await MemberRepository(db).upsert(MemberInput(name="Ana", email="ana@example.org"), NOW)

        def forget_ana(done: int) -> None:
            if done == 1:
                with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
                    for table in ("profile_tags", "identities", "profiles"):
                        conn.execute(f"DELETE FROM {table} WHERE member_id = ?", (ana,))
                    conn.execute("DELETE FROM members WHERE id = ?", (ana,))

        rows = [
            MemberInput(name="Bob", email="bob@example.org"),
            MemberInput(name="Ana R", email="ana@example.org"),
        ]
        result = await bulk_upsert(db, rows, NOW, batch_size=1, progress=forget_ana)
        assert result == ImportResult(created=2, updated=0, unchanged=0)
        assert sorted(c.name for c in await export_cards(db)) == ["Ana R", "Bob"]
    finally:
        await db.dispose()
