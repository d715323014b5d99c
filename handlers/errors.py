"""The one global error handler."""

from __future__ import annotations

import logging

from telegram import Update

from bot.app.context import BotContext
from bot.texts import common as common_texts

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log with the traceback (never the update itself: it may hold a NIK) and tell the user."""
    log.error("unhandled error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(common_texts.ERROR)
        except Exception:
            log.warning("could not tell the user about the error")
