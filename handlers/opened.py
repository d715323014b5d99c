"""Notes the first update from each staff member: from then on the bot can write to them.

Telegram refuses to deliver to someone who never wrote to the bot ("chat not found"); /staf
shows who that still is, so an admin can ask them to press Start before a card is lost.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import TypeHandler

from bot.app.context import BotContext, Handler
from bot.flows import reachable

log = logging.getLogger(__name__)


async def note_opened(update: Update, context: BotContext) -> None:
    """Any update from staff; a dict lookup, and one write the first time only. The first
    time, what Telegram refused to them before ("chat not found") is sent again if it still
    needs them (bot/flows/reachable.py)."""
    user = update.effective_user
    services = context.services
    first = user is not None and services.member(user.id) is not None
    if first and user is not None and await services.note_opened(user.id):
        try:
            await reachable.returned(services, user.id)
        except Exception:  # their update goes on; an unblock (Mulai Ulang) tries again
            log.exception("sending again what failed to %s", user.id)


def build() -> Handler:
    return TypeHandler(Update, note_opened)
