"""A small sample directory so a newcomer's first `/whois-examiner biology` finds real-looking people."""

from __future__ import annotations

from bot.catalog import Catalogue, Kind
from storage.members import MemberInput

# name, roles, programmes, subjects, languages, time zone, region, school
_PEOPLE: list[tuple[str, str, str, str, str, str, str, str]] = [
    (
        "Ana Ruiz",
        "examiner;workshop leader",
        "DP",
        "Biology",
        "es;en",
        "Europe/Madrid",
        "Europe",
        "Colegio Alameda",
    ),
    (
        "Kwame Mensah",
        "examiner",
        "DP",
        "Biology;Chemistry",
        "en",
        "Africa/Accra",
        "Africa",
        "Accra Intl School",
    ),
    (
        "Mei Lin",
        "examiner;moderator",
        "DP",
        "Biology",
        "en;zh",
        "Asia/Shanghai",
        "Asia-Pacific",
        "Shanghai Academy",
    ),
    ("Lucas Moreau", "school visitor", "MYP", "Sciences", "fr;en", "Europe/Paris", "Europe", "Lycée Lumière"),
    (
        "Priya Nair",
        "examiner",
        "DP",
        "Mathematics: analysis and approaches",
        "en;hi",
        "Asia/Kolkata",
        "Asia-Pacific",
        "Mumbai World School",
    ),
    (
        "Sofía Herrera",
        "workshop leader",
        "PYP",
        "Language and literature",
        "es;en",
        "America/Bogota",
        "Americas",
        "Colegio Andino",
    ),
    (
        "John Carter",
        "principal examiner",
        "DP",
        "Physics",
        "en",
        "America/New_York",
        "Americas",
        "Hudson Prep",
    ),
    ("Aiko Tanaka", "examiner", "DP", "Chemistry", "ja;en", "Asia/Tokyo", "Asia-Pacific", "Tokyo Intl"),
    (
        "Camille Dubois",
        "curriculum reviewer",
        "DP",
        "French B",
        "fr;en",
        "Europe/Brussels",
        "Europe",
        "École Horizon",
    ),
    ("Mateo Rossi", "examiner", "DP", "History", "it;en", "Europe/Rome", "Europe", "Scuola Internazionale"),
    (
        "Fatima Zahra",
        "examiner;workshop leader",
        "MYP;DP",
        "Biology",
        "ar;fr;en",
        "Africa/Casablanca",
        "Africa",
        "École Atlas",
    ),
    ("Liam O'Connor", "programme coordinator", "DP", "", "en", "Europe/Dublin", "Europe", "Dublin Intl"),
    (
        "Isabella Costa",
        "examiner",
        "DP",
        "Visual arts",
        "pt;en;es",
        "America/Sao_Paulo",
        "Americas",
        "Escola Paulista",
    ),
    ("Noah Schmidt", "examiner", "DP", "Computer science", "de;en", "Europe/Berlin", "Europe", "Berlin Intl"),
    (
        "Olivia Brown",
        "workshop leader;consultant",
        "PYP",
        "",
        "en",
        "Australia/Sydney",
        "Asia-Pacific",
        "Harbour School",
    ),
    (
        "Diego Fernández",
        "examiner",
        "DP",
        "Spanish A",
        "es;en",
        "America/Mexico_City",
        "Americas",
        "Colegio Azteca",
    ),
    ("Hannah Kim", "examiner", "DP", "Economics", "ko;en", "Asia/Seoul", "Asia-Pacific", "Seoul Global"),
    (
        "Omar Haddad",
        "school visitor;workshop leader",
        "DP;CP",
        "",
        "ar;en",
        "Asia/Dubai",
        "Middle East",
        "Gulf Academy",
    ),
    ("Emma Johansson", "examiner", "MYP", "Design", "sv;en", "Europe/Stockholm", "Europe", "Nordic School"),
    (
        "Chen Wei",
        "examiner",
        "DP",
        "Mathematics: applications and interpretation",
        "zh;en",
        "Asia/Singapore",
        "Asia-Pacific",
        "Lion City School",
    ),
    ("Grace Okafor", "examiner", "DP", "English A", "en", "Africa/Lagos", "Africa", "Lagos Prep"),
    ("Pierre Lambert", "examiner", "DP", "Physics", "fr;en", "America/Montreal", "Americas", "Collège Laval"),
    (
        "Valentina López",
        "examiner",
        "DP",
        "Biology",
        "es",
        "America/Argentina/Buenos_Aires",
        "Americas",
        "Colegio del Sur",
    ),
    ("Tom Wilson", "head of school", "", "", "en", "Europe/London", "Europe", "Thames School"),
    (
        "Yuki Sato",
        "workshop leader",
        "MYP",
        "Mathematics",
        "ja;en",
        "Asia/Tokyo",
        "Asia-Pacific",
        "Osaka Intl",
    ),
    ("Amara Diallo", "curriculum developer", "PYP", "", "fr;en", "Africa/Dakar", "Africa", "École Baobab"),
    (
        "Sarah Cohen",
        "examiner",
        "DP",
        "Psychology",
        "he;en",
        "Asia/Jerusalem",
        "Middle East",
        "Carmel School",
    ),
    (
        "Rafael Gómez",
        "examiner;moderator",
        "DP",
        "Chemistry",
        "es;en",
        "America/Lima",
        "Americas",
        "Colegio Lima",
    ),
    (
        "Ingrid Berg",
        "examiner",
        "DP",
        "Environmental systems and societies",
        "no;en",
        "Europe/Oslo",
        "Europe",
        "Oslo Intl",
    ),
    (
        "Arjun Patel",
        "examiner",
        "DP",
        "Business management",
        "en;gu",
        "America/Chicago",
        "Americas",
        "Lakeview Academy",
    ),
    (
        "Nadia Petrova",
        "examiner",
        "DP",
        "Mathematics: analysis and approaches",
        "ru;en",
        "Europe/Helsinki",
        "Europe",
        "Baltic School",
    ),
    ("Ethan Clarke", "examiner", "DP", "Biology", "en", "Pacific/Auckland", "Asia-Pacific", "Kiwi College"),
]


def _ids(catalogue: Catalogue, kind: Kind, text: str) -> list[str]:
    terms, unknown = catalogue.resolve_many(kind, text)
    if unknown:
        raise ValueError(f"demo data: unknown {kind} {unknown[0].text!r}")
    return [t.id for t in terms]


def demo_members() -> list[MemberInput]:
    """The sample people, as catalogue terms; each is reachable on the console by first name (`ana`)."""
    catalogue = Catalogue.default()
    out = []
    for name, roles, programmes, subjects, languages, tz, region, school in _PEOPLE:
        handle = name.split()[0].lower().replace("í", "i").replace("é", "e")
        out.append(
            MemberInput(
                name=name,
                email=f"{handle}@example.org",
                identities={"console": handle},
                roles=_ids(catalogue, "role", roles),
                programmes=_ids(catalogue, "programme", programmes),
                subjects=_ids(catalogue, "subject", subjects),
                languages=_ids(catalogue, "language", languages),
                timezone=tz,
                region=region,
                school=school,
            )
        )
    return out
