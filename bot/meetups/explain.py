"""Why two people were matched, in the reader's language: what they share, and what differs in a
way worth meeting for (another school, another region)."""

from __future__ import annotations

from bot.catalog import Catalogue
from bot.i18n import Translator
from storage.members import MemberCard


def _names(kind: str, ids: set[str], locale: str) -> str:
    catalogue = Catalogue.default()
    names = []
    for term_id in sorted(ids):
        term = catalogue.get(kind, term_id)  # type: ignore[arg-type]
        names.append(term.name(locale) if term else term_id)
    return ", ".join(names)


def why_matched(t: Translator, me: MemberCard, other: MemberCard) -> list[str]:
    """Short phrases, strongest reason first; empty when nothing in particular links them."""
    loc = t.locale
    roles = set(me.roles) & set(other.roles)
    subjects = set(me.subjects) & set(other.subjects)
    programmes = set(me.programmes) & set(other.programmes)
    reasons: list[str] = []
    if roles and subjects:
        reasons.append(
            t.gettext("same role ({roles}) and subject ({subjects})").format(
                roles=_names("role", roles, loc), subjects=_names("subject", subjects, loc)
            )
        )
    elif roles and programmes:
        reasons.append(
            t.gettext("same role ({roles}) in the same programme ({programmes})").format(
                roles=_names("role", roles, loc), programmes=_names("programme", programmes, loc)
            )
        )
    elif roles:
        reasons.append(t.gettext("same role ({roles})").format(roles=_names("role", roles, loc)))
    elif subjects:
        reasons.append(
            t.gettext("same subject ({subjects})").format(subjects=_names("subject", subjects, loc))
        )
    if me.region and other.region and me.region != other.region:
        reasons.append(t.gettext("another region ({region})").format(region=other.region))
    elif me.school and other.school and me.school != other.school:
        reasons.append(t.gettext("another school"))
    languages = set(me.languages) & set(other.languages)
    if languages:
        reasons.append(
            t.gettext("you share {languages}").format(languages=_names("language", languages, loc))
        )
    return reasons
