"""Notes the first update from each staff member: from then on the bot can write to them.

Telegram refuses to deliver to someone who never wrote to the bot ("chat not found"); /staf
shows who that still is, so an admin can ask them to press Start before a card is lost.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.app.context import BotContext, Handler


async def note_opened(update: Update, context: BotContext) -> None:
    """Any update from staff; a dict lookup, and one write the first time only."""
    user = update.effective_user
    services = context.services
    if user is not None and services.member(user.id) is not None:
        await services.note_opened(user.id)


def build() -> Handler:
    return TypeHandler(Update, note_opened)
