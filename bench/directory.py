"""A synthetic member directory across roles, subjects, programmes and time zones (deterministic)."""

from __future__ import annotations

import random

from storage.members import MemberInput

ROLES = [
    "examiner",
    "principal examiner",
    "moderator",
    "workshop leader",
    "school visitor",
    "curriculum reviewer",
    "consultant",
    "programme coordinator",
]
SUBJECTS = [
    "Biology",
    "Chemistry",
    "Physics",
    "Mathematics: analysis and approaches",
    "History",
    "Economics",
    "English A",
    "Spanish B",
    "French B",
    "Visual arts",
    "Computer science",
    "Psychology",
    "Geography",
    "Theory of knowledge",
    "Design",
    "Music",
]
PROGRAMMES = ["PYP", "MYP", "DP", "CP"]
LANGUAGES = ["en", "fr", "es", "de", "zh", "ar", "ja", "pt"]
ZONES = [
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Madrid",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]


def synthetic_members(count: int, seed: int = 7) -> list[MemberInput]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        out.append(
            MemberInput(
                name=f"Member {i:06d}",
                email=f"member{i}@example.org",
                identities={"console": f"m{i}"},
                roles=rng.sample(ROLES, rng.randint(1, 2)),
                programmes=rng.sample(PROGRAMMES, rng.randint(1, 2)),
                subjects=rng.sample(SUBJECTS, rng.randint(1, 2)),
                languages=["en", *rng.sample(LANGUAGES[1:], rng.randint(0, 2))],
                timezone=rng.choice(ZONES),
                region="Somewhere",
                school=f"School {rng.randint(1, max(1, count // 20))}",
            )
        )
    return out
