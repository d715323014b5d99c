"""The one global error handler: log it, tell the user, report it to the admins."""

from __future__ import annotations

import logging

from telegram import Update

from bot.app import errorgroups
from bot.app.context import BotContext
from bot.texts import common as common_texts

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log with the traceback (never the update itself: it may hold a NIK) and tell the user."""
    log.error("unhandled error while handling an update", exc_info=context.error)
    if context.error is not None:
        await report_to_admins(context, context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(common_texts.ERROR)
        except Exception:
            log.warning("could not tell the user about the error")


async def report_to_admins(context: BotContext, error: BaseException) -> None:
    """One chat message per error group per ErrorGroups.every, through the outbox; what the
    window held back follows when it has passed (errorgroups.report_held)."""
    services = context.services
    now = services.now()
    due = services.errors.note(error, now)
    if due is None or getattr(services, "storage", None) is None:
        return
    await errorgroups.report(services, due, now)
