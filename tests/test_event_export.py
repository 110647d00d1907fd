"""`iben-bot export-ics`: the calendar file parses back with every meeting of the coming year, in UTC,
without cancelled dates; bad arguments get one clear line."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from icalendar import Calendar

from adapters.calendar_cli import export_ics_file
from storage.db import Database
from storage.events import EventInput, EventRepository
from tests.conftest import make_config


async def test_export_writes_a_calendar_any_app_imports(sqlite_url: str, tmp_path: Path) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    repo = EventRepository(db)
    now = datetime.now(UTC)
    start = now.replace(tzinfo=None, microsecond=0, second=0)
    event = await repo.create(
        EventInput(
            platform="slack",
            channel="CANN",
            title="Coordinators chat; DP, MYP",
            timezone="America/New_York",
            start_local=start,
            duration_minutes=45,
            rrule="FREQ=WEEKLY",
            description="Bring a question",
        ),
        now,
    )
    await repo.create(
        EventInput(
            platform="discord",
            channel="42",
            title="Other",
            timezone="UTC",
            start_local=start,
            duration_minutes=30,
        ),
        now,
    )
    await db.dispose()
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "cal.ics"
    code = await export_ics_file(
        make_config(sqlite_url), path, platform="slack", channel=None, days=28, out=out, err=err
    )
    assert code == 0 and err.getvalue() == ""
    events = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert out.getvalue().strip() == f"Exported {len(events)} meetings to {path}"
    assert 3 <= len(events) <= 5 and {str(e["summary"]) for e in events} == {"Coordinators chat; DP, MYP"}
    first = events[0]
    assert first.decoded("dtstart").tzinfo is not None and str(first["uid"]).startswith(f"event-{event.id}-")
    assert (first.decoded("dtend") - first.decoded("dtstart")).total_seconds() == 45 * 60

    bad = await export_ics_file(
        make_config(sqlite_url), path, platform=None, channel=None, days=0, out=out, err=err
    )
    assert bad == 2 and err.getvalue() == "iben-bot: --days must be between 1 and 3650\n"
