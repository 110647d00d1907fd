"""A synthetic global directory (deterministic): realistic spreads of roles, subjects, programmes,
languages, time zones and working hours, as catalogue term ids. Benchmarks and simulations reuse it."""

from __future__ import annotations

import random

from bot.catalog import Catalogue
from storage.members import MemberInput

# Roles by rough share of network members (examiners dominate, heads of school are few).
ROLES = {
    "examiner": 40,
    "assistant-examiner": 8,
    "moderator": 8,
    "principal-examiner": 2,
    "team-leader": 3,
    "workshop-leader": 14,
    "school-visitor": 6,
    "curriculum-reviewer": 4,
    "curriculum-developer": 3,
    "consultant": 3,
    "programme-coordinator": 7,
    "head-of-school": 2,
}
PROGRAMMES = {"dp": 55, "myp": 25, "pyp": 15, "cp": 5}
# Time zones weighted by where IB schools are (Americas and Europe heavy, Asia-Pacific growing).
ZONES = {
    "America/New_York": 14,
    "America/Chicago": 6,
    "America/Los_Angeles": 6,
    "America/Mexico_City": 4,
    "America/Bogota": 2,
    "America/Lima": 2,
    "America/Sao_Paulo": 2,
    "America/Argentina/Buenos_Aires": 2,
    "America/Toronto": 4,
    "Europe/London": 6,
    "Europe/Madrid": 4,
    "Europe/Paris": 3,
    "Europe/Berlin": 3,
    "Europe/Zurich": 2,
    "Europe/Amsterdam": 2,
    "Africa/Lagos": 1,
    "Africa/Nairobi": 1,
    "Africa/Johannesburg": 1,
    "Asia/Dubai": 4,
    "Asia/Kolkata": 5,
    "Asia/Singapore": 3,
    "Asia/Hong_Kong": 3,
    "Asia/Shanghai": 4,
    "Asia/Tokyo": 3,
    "Asia/Seoul": 2,
    "Australia/Sydney": 5,
    "Pacific/Auckland": 1,
}
SECOND_LANGUAGES = {"es": 10, "fr": 7, "zh": 4, "de": 3, "ar": 2, "ja": 1, "pt": 2, "hi": 2, "ko": 1}
REGIONS = {
    "America": "Americas",
    "Europe": "Europe",
    "Africa": "Africa",
    "Asia": "Asia-Pacific",
    "Australia": "Asia-Pacific",
    "Pacific": "Asia-Pacific",
}
DEPARTMENTS = (
    "Science",
    "Mathematics",
    "Languages",
    "Humanities",
    "Arts",
    "Leadership",
    "Primary",
    "Technology",
)


def _pick(rng: random.Random, weights: dict[str, int], k: int = 1) -> list[str]:
    chosen: list[str] = []
    while len(chosen) < k:
        value = rng.choices(list(weights), list(weights.values()))[0]
        if value not in chosen:
            chosen.append(value)
    return chosen


def synthetic_members(count: int, seed: int = 7) -> list[MemberInput]:
    catalogue = Catalogue.default()
    subjects_by_programme = {
        p: [t.id for t in catalogue.terms("subject") if p in t.programmes] for p in PROGRAMMES
    }
    rng = random.Random(seed)
    schools = max(1, count // 25)
    out = []
    for i in range(count):
        programmes = _pick(rng, PROGRAMMES, 1 if rng.random() < 0.8 else 2)
        pool = subjects_by_programme[programmes[0]]
        zone = rng.choices(list(ZONES), list(ZONES.values()))[0]
        start = rng.choice((7, 8, 8, 8, 9, 9, 10)) * 60
        identities = {"slack": f"U{i:08d}"} if rng.random() < 0.6 else {"discord": str(10**17 + i)}
        out.append(
            MemberInput(
                name=f"Member {i:06d}",
                email=f"member{i}@example.org",
                identities=identities,
                roles=_pick(rng, ROLES, 1 if rng.random() < 0.75 else 2),
                programmes=programmes,
                subjects=rng.sample(pool, min(len(pool), rng.choice((1, 1, 2, 2, 3)))),
                languages=["en", *(_pick(rng, SECOND_LANGUAGES) if rng.random() < 0.45 else [])],
                timezone=zone,
                region=REGIONS[zone.split("/")[0]],
                school=f"School {rng.randrange(schools):05d}",
                department=rng.choice(DEPARTMENTS),
                open_to_questions=rng.random() < 0.85,
                visibility="listed" if rng.random() < 0.95 else "hidden",
                work_start=start,
                work_end=start + rng.choice((8, 9, 10, 11)) * 60,
            )
        )
    return out
