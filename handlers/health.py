"""Every update, before anything else looks at it: note that the bot is handling updates."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.app.context import BotContext
from bot.flows import health


async def on_update(update: Update, context: BotContext) -> None:
    """Record the heartbeat (at most once a minute); never stops the update."""
    await health.update_handled(context.services)


def build() -> TypeHandler[Update, BotContext, None]:
    return TypeHandler(Update, on_update)
