"""The gate: anyone who is not staff is refused here, before any other handler runs."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.app.context import BotContext, Handler
from bot.core.invites import START_RE
from bot.core.policy import Act, may
from bot.texts import common as common_texts

log = logging.getLogger(__name__)


async def refuse_strangers(update: Update, context: BotContext) -> None:
    """Staff pass through; a stranger gets their numeric id for the admin, and is logged."""
    user = update.effective_user
    if user is not None and may(context.services.member(user.id), Act.USE_BOT):
        return
    if user is not None and _opens_invitation(update):
        return  # handlers.staff checks the link itself
    if user is None:
        raise ApplicationHandlerStop
    # Only the numeric id is logged: what a stranger typed may be personal data.
    log.info("refused update from non-staff user %s", user.id)
    services = context.services
    await services.storage.audit.record(services.now(), user.id, "stranger_refused")
    if update.callback_query is not None:
        await update.callback_query.answer(common_texts.NOT_ALLOWED, show_alert=True)
    elif update.effective_chat is not None and update.effective_chat.type == "private":
        await update.effective_chat.send_message(common_texts.stranger(user.id))
    raise ApplicationHandlerStop


def _opens_invitation(update: Update) -> bool:
    """Exactly `/start inv_<secret>` in a private chat: the one thing a stranger may send."""
    message = update.message
    return (
        message is not None
        and message.chat.type == "private"
        and START_RE.match(message.text or "") is not None
    )


def build() -> Handler:
    return TypeHandler(Update, refuse_strangers)
