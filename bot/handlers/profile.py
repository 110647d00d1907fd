"""/profile: view, edit (a modal), set (a text form), hide and show your directory entry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.catalog import Catalogue
from bot.commands import SUBCOMMAND, CommandSpec, FormSpec, OptionSpec, SubcommandSpec
from bot.context import Context
from bot.events import Actor, CommandEvent, FormSubmitEvent
from bot.handlers.whois import term_names
from bot.i18n import N_, Translator
from bot.port import Form, FormErrors, FormField, Reply
from bot.profile_fields import KEYS, format_hours, split_fields, validate
from storage.members import MemberCard, MemberInput

FORM_ID = "profile"


async def _card(ctx: Context, actor: Actor) -> MemberCard | None:
    return await ctx.services.members.get_by_identity(actor.platform.value, actor.user_id)


def render_profile(card: MemberCard, ctx: Context) -> str:
    t, cat, loc = ctx.t, Catalogue.default(), ctx.t.locale

    def names(kind: str, ids: tuple[str, ...]) -> str:
        return ", ".join(term_names(cat, kind, ids, loc)) or "—"

    zone = card.timezone or "—"
    if card.timezone:
        zone += " · " + t.gettext("now {time}").format(time=t.time_in(ctx.clock.now(), card.timezone))
    lines = [
        f"*{ctx.port.escape(card.name)}*",
        t.gettext("Roles: {value}").format(value=names("role", card.roles)),
        t.gettext("Subjects: {value}").format(value=names("subject", card.subjects)),
        t.gettext("Programmes: {value}").format(value=names("programme", card.programmes)),
        t.gettext("Languages: {value}").format(value=names("language", card.languages)),
        t.gettext("Time zone: {value}").format(value=zone),
        t.gettext("Working hours: {value}").format(value=format_hours(card.work_start, card.work_end)),
        t.gettext("School: {value}").format(
            value=ctx.port.escape(
                ", ".join(x for x in (card.school, card.department, card.region) if x) or "—"
            )
        ),
        t.gettext("Open to questions: {value}").format(
            value=t.gettext("yes") if card.open_to_questions else t.gettext("no")
        ),
        t.gettext("Listed in the directory: {value}").format(
            value=t.gettext("yes") if card.visibility == "listed" else t.gettext("no (hidden)")
        ),
    ]
    if card.bio:
        lines.append(ctx.port.escape(card.bio))
    return "\n".join(lines)


async def save(ctx: Context, actor: Actor, values: dict[str, Any]) -> MemberCard:
    """Apply validated values to the actor's entry (creating it with platform defaults if new)."""
    card = await _card(ctx, actor)
    base = (
        card.as_input()
        if card
        else MemberInput(
            name=actor.display_name,
            identities={actor.platform.value: actor.user_id},
            timezone=actor.timezone,
            locale=ctx.t.locale,
        )
    )
    member_id = await ctx.services.members.upsert(replace(base, **values), ctx.clock.now())
    ctx.services.directory.mark_dirty()
    saved = await ctx.services.members.get(member_id)
    assert saved is not None
    return saved


def _saved_reply(card: MemberCard, ctx: Context) -> Reply:
    text = ctx.t.gettext("Saved. Your profile now reads:") + "\n" + render_profile(card, ctx)
    if not card.timezone:
        text += "\n\n" + ctx.t.gettext(
            "I don't know your time zone yet, so nobody sees your local time. "
            "Tell me with /profile set tz=Europe/Madrid (your own zone)."
        )
    return Reply(text)


def _errors_text(errors: dict[str, str], t: Translator) -> str:
    lines = [t.gettext("Nothing was saved:")]
    lines += [f"• {field}: {message}" for field, message in errors.items()]
    return "\n".join(lines)


async def handle_profile(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    sub = event.args.get(SUBCOMMAND) or "view"
    card = await _card(ctx, event.actor)
    if sub == "view":
        if card is None:
            return Reply(t.gettext("You are not in the directory yet.") + "\n" + t.gettext(PROFILE.usage))
        return Reply(render_profile(card, ctx))
    if sub in ("hide", "show"):
        if card is None:
            return Reply(t.gettext("You are not in the directory yet.") + "\n" + t.gettext(PROFILE.usage))
        await ctx.services.members.set_visibility(card.member_id, "hidden" if sub == "hide" else "listed")
        ctx.services.directory.mark_dirty()
        if sub == "hide":
            return Reply(
                t.gettext("Done: you no longer appear in /whois results. /profile show brings you back.")
            )
        return Reply(t.gettext("Done: you appear in /whois results again."))
    if sub == "edit":  # reached only where no modal can be shown (the console)
        return Reply(t.gettext("Edit your profile with a text form, for example:") + "\n" + _example(card, t))
    fields, unknown = split_fields(str(event.args.get("fields", "")))
    errors = {k: t.gettext("unknown field; use one of: {keys}").format(keys=_key_list()) for k in unknown}
    if not fields and not errors:
        return Reply(t.gettext(PROFILE.usage))
    changes = validate(fields, t, escape=ctx.port.escape)
    errors.update(changes.errors)
    if errors:
        return Reply(_errors_text(errors, t))
    return _saved_reply(await save(ctx, event.actor, changes.values), ctx)


def _key_list() -> str:
    return ", ".join(sorted({"role", "subject", "programme", "language", "tz", "hours", "school", "region",
                             "department", "bio", "open", "name"}))  # fmt: skip


def _example(card: MemberCard | None, t: Translator) -> str:
    if card is None:
        return (
            "/profile set role=examiner subject=Biology programme=DP language=en,es "
            "tz=Europe/Madrid hours=08:00-18:00"
        )
    cat = Catalogue.default()
    return (
        "/profile set "
        + " ".join(
            f"{key}={','.join(term_names(cat, kind, ids, t.locale))}"
            for key, kind, ids in (
                ("role", "role", card.roles),
                ("subject", "subject", card.subjects),
                ("programme", "programme", card.programmes),
                ("language", "language", card.languages),
            )
            if ids
        )
        + (f" tz={card.timezone}" if card.timezone else "")
    )


async def open_form(event: CommandEvent, ctx: Context) -> Form | None:
    """`/profile edit` opens a modal prefilled with the current values."""
    if event.args.get(SUBCOMMAND) != "edit":
        return None
    t, cat = ctx.t, Catalogue.default()
    card = await _card(ctx, event.actor)

    def current(kind: str, ids: tuple[str, ...] | None) -> str:
        return ", ".join(term_names(cat, kind, ids, t.locale)) if ids else ""

    zone = (card.timezone if card else None) or event.actor.timezone or ""
    hours = format_hours(card.work_start, card.work_end) if card else "08:00-20:00"
    hints = {
        "roles": t.gettext("e.g. examiner, workshop leader"),
        "subjects": t.gettext("e.g. Biology, Theory of knowledge"),
        "programmes": "PYP, MYP, DP, CP",
        "languages": t.gettext("e.g. English, Spanish"),
    }
    labels = {
        "roles": t.gettext("Roles"),
        "subjects": t.gettext("Subjects"),
        "programmes": t.gettext("Programmes"),
        "languages": t.gettext("Languages"),
    }
    kinds = {"roles": "role", "subjects": "subject", "programmes": "programme", "languages": "language"}
    tags = [
        (name, labels[name], kind, getattr(card, name) if card else None, hints[name])
        for name, kind in kinds.items()
    ]
    fields = [FormField(name, label, current(kind, ids), hint) for name, label, kind, ids, hint in tags]
    where = f"{zone} {hours}".strip()
    fields.append(
        FormField("where", t.gettext("Time zone and working hours"), where, "Europe/Madrid 08:00-18:00")
    )
    return Form(FORM_ID, t.gettext("Your profile"), t.gettext("Save"), tuple(fields))


async def submit_form(event: FormSubmitEvent, ctx: Context) -> Reply | FormErrors:
    fields = {k: v for k, v in event.values.items() if k in KEYS.values()}
    changes = validate(fields, ctx.t, escape=ctx.port.escape)
    if changes.errors:
        return FormErrors(changes.errors)
    for key in ("roles", "subjects", "programmes", "languages"):
        changes.values.setdefault(key, ())  # a field emptied in the form means "none"
    return _saved_reply(await save(ctx, event.actor, changes.values), ctx)


PROFILE = CommandSpec(
    name="profile",
    description=N_("Show or edit your directory profile"),
    usage=N_(
        "/profile [view|edit|set|hide|show]: your directory entry. "
        "/profile set subject=Biology role=examiner tz=Europe/Madrid hours=08:00-18:00 changes fields; "
        "/profile hide takes you out of /whois, /profile show brings you back."
    ),
    handler=handle_profile,
    subcommands=(
        SubcommandSpec("view", N_("Show your profile")),
        SubcommandSpec("edit", N_("Edit your profile in a form")),
        SubcommandSpec(
            "set",
            N_("Change fields, e.g. subject=Biology tz=Europe/Madrid"),
            (
                OptionSpec(
                    "fields", N_("e.g. subject=Biology role=examiner tz=Europe/Madrid"), max_length=1000
                ),
            ),
        ),
        SubcommandSpec("hide", N_("Leave /whois results (your profile stays)")),
        SubcommandSpec("show", N_("Appear in /whois results again")),
    ),
    form=open_form,
)

PROFILE_FORM = FormSpec(FORM_ID, submit_form)
