"""Two real instances on PostgreSQL, 1,000 reminder deliveries due over 45 seconds, the scheduler
leader SIGKILLed 20 times at random moments (and restarted): every delivery arrives exactly once.
The longer variant is `python -m bench.faults`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import drill

pytestmark = pytest.mark.postgres


@pytest.mark.timeout(240)
async def test_killing_the_leader_twenty_times_loses_and_repeats_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    result = await drill(tmp_path, postgres_url, events=100, going=9, window=45.0, kills=20)
    print(result.summary())
    assert result.expected == 1000
    assert result.lost == [], result.summary()
    assert result.duplicated == [], result.summary()
    assert result.delivered == 1000
    assert len(result.takeovers) == 20 and max(result.takeovers) < 10, result.summary()
