"""The baseline: a bare python-telegram-bot that answers each update with one Bot API call.

Same update concurrency as the real bot (the same PerChatUpdateProcessor and connection
pool, see bot/app/build.py), no storage, no conversation, no rendering. A message gets one
sendMessage; a button tap gets one answerCallbackQuery, because a tap answered any other
way leaves the person's button spinning. The reply carries one inline button so the
harness has something to tap next, as people tap the real bot's buttons.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from bot.app.config import Config
from bot.app.processor import PerChatUpdateProcessor
from bot.app.request import AiohttpRequest

REPLY = "ok"
BUTTON = "lanjut"
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton(BUTTON, callback_data="next")]])


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One call per update, nothing else."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    elif update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, REPLY, reply_markup=KEYBOARD)


def build_baseline(config: Config, concurrency: int = 64, client: str = "httpx") -> Application:  # type: ignore[type-arg]
    """The bare bot; `client` "httpx" is PTB's default HTTPXRequest (the reference
    baseline), "aiohttp" the bot's own client (bot/app/request.py), for the CPU ratio
    on the same client."""
    request: BaseRequest
    updates_request: BaseRequest
    if client == "aiohttp":
        request = AiohttpRequest(connection_pool_size=32, read_timeout=10, write_timeout=20)
        updates_request = AiohttpRequest(read_timeout=30)
    else:
        request = HTTPXRequest(connection_pool_size=32, read_timeout=10, write_timeout=20)
        updates_request = HTTPXRequest(read_timeout=30)
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .concurrent_updates(PerChatUpdateProcessor(concurrency))
        .request(request)
        .get_updates_request(updates_request)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url)
    app = builder.build()
    app.add_handler(TypeHandler(Update, answer))
    return app
