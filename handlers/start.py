"""/start without a badge, /bantuan, and the per-person command menu."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.app.context import BotContext, Handler
from bot.app.services import Services
from bot.core import callbacks
from bot.core.roles import Role
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from handlers.edits import answer_tap

log = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    """A role-aware welcome listing the commands this person can use."""
    assert update.effective_user is not None and update.effective_message is not None
    member = context.services.member(update.effective_user.id)
    assert member is not None
    await update.effective_message.reply_text(common_texts.welcome(member.name, member.roles))


async def help_(update: Update, context: BotContext) -> None:
    """/bantuan and Telegram's standard /help: how the procedure works in the bot, and this
    person's own commands."""
    assert update.effective_message is not None and update.effective_user is not None
    member = context.services.member(update.effective_user.id)
    roles = member.roles if member is not None else frozenset[Role]()
    await update.effective_message.reply_text(common_texts.help_for(roles))


async def unknown(update: Update, context: BotContext) -> None:
    """Staff wrote something no flow expects: a guide to their own commands."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    member = context.services.member(user.id)
    roles = member.roles if member is not None else frozenset[Role]()
    is_command = (message.text or "").startswith("/")
    await message.reply_text(common_texts.guide(roles, unknown_command=is_command))


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/batal with no form open (an open form's /batal is the conversation's own)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(form_texts.NOTHING_TO_CANCEL)


async def nothing_to_go_back(update: Update, context: BotContext) -> None:
    """/kembali with no form open (an open form's /kembali is the conversation's own)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(form_texts.NOTHING_TO_GO_BACK)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button from a finished conversation or an older bot version."""
    if update.callback_query is not None:
        answer_tap(update.callback_query, common_texts.STALE_BUTTON, show_alert=True)


async def publish_commands(services: Services, bot: Bot) -> None:
    """setMyCommands per staff chat, so each person's menu shows only their commands."""
    for member in services.staff_members():
        await set_commands_for(services, bot, member.user_id)


async def publish_description(bot: Bot) -> None:
    """What a person sees in an empty chat before pressing Start, and on the bot's profile."""
    try:
        await bot.set_my_description(common_texts.DESCRIPTION)
        await bot.set_my_short_description(common_texts.SHORT_DESCRIPTION)
    except TelegramError as exc:
        # Only cosmetic: the bot works without it, and the next start sets it again.
        log.warning("bot description not set: %s", exc)


async def set_commands_for(services: Services, bot: Bot, user_id: int) -> None:
    """One chat's menu, right after its roles change; former staff get none."""
    member = services.member(user_id)
    scope = BotCommandScopeChat(user_id)
    try:
        if member is None:
            await bot.delete_my_commands(scope=scope)
            return
        commands = [BotCommand(c, d) for c, d in common_texts.commands_for(member.roles)]
        await bot.set_my_commands(commands, scope=scope)
    except TelegramError as exc:
        # A person who never opened the bot has no chat yet; their menu comes later.
        log.info("command menu for %s not set: %s", user_id, exc)


def build_first() -> list[Handler]:
    return [
        CommandHandler("start", start, has_args=False),
        CommandHandler(["bantuan", "help"], help_),
    ]


def build_last() -> list[Handler]:
    """Catch-alls: registered after every flow."""
    return [
        CommandHandler("batal", nothing_to_cancel),
        CommandHandler("kembali", nothing_to_go_back),
        CallbackQueryHandler(stale_button, pattern=callbacks.pattern(callbacks.REGISTRATION)),
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.ALL, unknown),
    ]
