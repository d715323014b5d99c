"""/aktif and /menunggu: who is inside now, and what is waiting for a decision."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.app.context import BotContext, Handler
from bot.core.policy import Act, may
from bot.core.visits import VisitStatus
from bot.texts import common as common_texts
from bot.texts import oversight as oversight_texts
from handlers.pages import reply_pages


def _allowed(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return may(context.services.member(user.id if user else None), Act.OVERSEE)


async def inside(update: Update, context: BotContext) -> None:
    """/aktif: every visitor inside the server room, with overstays flagged."""
    assert update.effective_message is not None
    if not _allowed(update, context):
        await update.effective_message.reply_text(common_texts.NOT_ALLOWED)
        return
    services = context.services
    visits = await services.storage.visits.with_status(VisitStatus.INSIDE)
    if not visits:
        await update.effective_message.reply_text(oversight_texts.NOBODY_INSIDE)
        return
    # Everyone who ever escorted, including staff added by invitation or since removed.
    names = {e: services.name_of(e) for v in visits if (e := v.entry_escort_id) is not None}
    await reply_pages(
        update.effective_message,
        oversight_texts.inside_list(visits, services.now(), names, services.config.timezone),
    )


async def pending(update: Update, context: BotContext) -> None:
    """/menunggu: requests waiting for the section head, against the decision standard."""
    assert update.effective_message is not None
    if not _allowed(update, context):
        await update.effective_message.reply_text(common_texts.NOT_ALLOWED)
        return
    services = context.services
    visits = await services.storage.visits.with_status(VisitStatus.PENDING)
    if not visits:
        await update.effective_message.reply_text(oversight_texts.NOTHING_PENDING)
        return
    await reply_pages(
        update.effective_message,
        oversight_texts.pending_list(
            visits, services.now(), services.config.standards.decision, services.config.timezone
        ),
    )


def build() -> list[Handler]:
    return [CommandHandler("aktif", inside), CommandHandler("menunggu", pending)]
