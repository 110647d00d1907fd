"""/forget-me: delete a member's personal data after a confirmation; their Q&A text stays, anonymised."""

from __future__ import annotations

from bot.commands import ActionSpec, CommandSpec
from bot.context import Context
from bot.events import ButtonEvent, CommandEvent
from bot.i18n import N_
from bot.port import Button, ButtonStyle, Reply
from storage.questions import anonymise

CONFIRM = "forget.confirm"
CANCEL = "forget.cancel"


async def handle_forget_me(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    return Reply(
        t.gettext(
            "This deletes your directory profile, your linked accounts and your name from every question "
            "and answer (their text stays, anonymised). It cannot be undone. Delete your data?"
        ),
        buttons=(
            Button(t.gettext("Delete my data"), CONFIRM, event.actor.user_id, ButtonStyle.DANGER),
            Button(t.gettext("Cancel"), CANCEL, event.actor.user_id),
        ),
    )


async def handle_confirm(event: ButtonEvent, ctx: Context) -> Reply:
    t = ctx.t
    if event.value != event.actor.user_id:
        return Reply(t.gettext("This button is not for you."))
    platform = event.actor.platform.value
    card = await ctx.services.members.get_by_identity(platform, event.actor.user_id)
    identities = [(platform, event.actor.user_id)]
    if card is not None:
        identities = sorted(set(identities) | set(card.identities.items()))
        await ctx.services.members.delete(card.member_id)
        ctx.services.directory.mark_dirty()
    await anonymise(ctx.services.members.db, identities)
    return Reply(
        t.gettext("Done: your data has been deleted. Your questions and answers stay, anonymised."),
        replace=True,
    )


async def handle_cancel(event: ButtonEvent, ctx: Context) -> Reply:
    return Reply(ctx.t.gettext("Nothing was deleted."), replace=True)


FORGET_ME = CommandSpec(
    name="forget-me",
    description=N_("Delete your personal data from the bot"),
    usage=N_("/forget-me: delete your profile and personal data (asks first)"),
    handler=handle_forget_me,
)

FORGET_ACTIONS = (ActionSpec(CONFIRM, handle_confirm), ActionSpec(CANCEL, handle_cancel))
