"""A small meet-up pool shared by the console, Slack and Discord scenario tests.

Ana and Ben are Biology examiners in different regions (the best pair); Chloé and Dev are Physics
examiners (the other best pair); Eve fits nobody especially and makes a group of three; Zoe works
00:00-01:00 UTC, so nobody shares an hour with her and she sits out with that reason.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.members import MemberInput

WEDNESDAY_ROUND = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # 15:00 in London (GMT in March)


def pool(platform: str, ids: dict[str, str]) -> list[MemberInput]:
    """The people, reachable on `platform` under the given user ids (keys: ana, ben, chloe, dev, eve, zoe)."""

    def person(key: str, name: str, **fields: object) -> MemberInput:
        return MemberInput(name=name, email=f"{key}@example.org", identities={platform: ids[key]}, **fields)  # type: ignore[arg-type]

    return [
        person(
            "ana",
            "Ana Ruiz",
            roles=("examiner",),
            programmes=("dp",),
            subjects=("biology",),
            languages=("es", "en"),
            timezone="Europe/Madrid",
            region="Europe",
            school="Colegio Alameda",
            locale="es",
            work_start=9 * 60,
            work_end=17 * 60,
        ),
        person(
            "ben",
            "Ben Carter",
            roles=("examiner",),
            programmes=("dp",),
            subjects=("biology",),
            languages=("en",),
            timezone="America/New_York",
            region="Americas",
            school="Hudson Academy",
            locale="en",
            work_start=9 * 60,
            work_end=17 * 60,
        ),
        person(
            "chloe",
            "Chloé Martin",
            roles=("examiner",),
            programmes=("dp",),
            subjects=("physics",),
            languages=("fr", "en"),
            timezone="Europe/Paris",
            region="Europe",
            school="Lycée Lumière",
            locale="fr",
            work_start=9 * 60,
            work_end=17 * 60,
        ),
        person(
            "dev",
            "Dev Patel",
            roles=("examiner",),
            programmes=("dp",),
            subjects=("physics",),
            languages=("en", "hi"),
            timezone="Asia/Kolkata",
            region="Asia-Pacific",
            school="Mumbai World School",
            locale="en",
            work_start=9 * 60,
            work_end=17 * 60,
        ),
        person(
            "eve",
            "Eve Adams",
            roles=("workshop-leader",),
            programmes=("pyp",),
            subjects=("visual-arts",),
            languages=("en",),
            timezone="Europe/London",
            region="Europe",
            school="Thames School",
            locale="en",
            work_start=9 * 60,
            work_end=17 * 60,
        ),
        person(
            "zoe",
            "Zoe Night",
            roles=("examiner",),
            programmes=("dp",),
            subjects=("biology",),
            languages=("en",),
            timezone="UTC",
            region="Europe",
            school="Night School",
            locale="en",
            work_start=0,
            work_end=60,
        ),
    ]
