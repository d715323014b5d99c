"""/blokir NIK alasan, /buka_blokir NIK, /daftar_blokir: the section heads' watchlist.

Typed without its argument, /blokir and /buka_blokir ask for it (handlers/arguments.py).
A request for a barred NIK is marked where requests are created (bot/flows/workflow.py).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.app.context import BotContext, Handler
from bot.core import watchlist
from bot.core.nik import NikProblem
from bot.core.policy import Act, may
from bot.flows import workflow
from bot.texts import common as common_texts
from bot.texts import watchlist as watchlist_texts
from handlers.pages import reply_pages


def _approver(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return may(context.services.member(user.id if user else None), Act.WATCHLIST)


def _parsed(
    context: BotContext, *, needs_reason: bool
) -> watchlist.Request | watchlist.Problem | NikProblem:
    services = context.services
    today = services.now().astimezone(services.config.timezone).date()
    return watchlist.parse(list(context.args or []), today, needs_reason=needs_reason)


async def _request(
    update: Update, context: BotContext, ask: str, *, needs_reason: bool
) -> watchlist.Request | bool:
    """The command's NIK (and reason), or, once the person was told why not, whether it was
    the argument that could not be read (True: the wait for a typed answer goes on,
    handlers/arguments.py) rather than no section head or no argument (False)."""
    message = update.effective_message
    assert message is not None
    if not _approver(update, context):
        await message.reply_text(common_texts.ONLY_APPROVER)
        return False
    if not context.args:
        await message.reply_text(ask)
        return False
    parsed = _parsed(context, needs_reason=needs_reason)
    if not isinstance(parsed, watchlist.Request):
        await message.reply_text(watchlist_texts.refused(parsed))
        return True
    return parsed


async def block(update: Update, context: BotContext) -> bool | None:
    """/blokir NIK alasan: the NIK goes on the list, audited. True: the typed answer could
    not be read, and the bot keeps waiting for one."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    parsed = await _request(update, context, watchlist_texts.ASK_BLOCK, needs_reason=True)
    if not isinstance(parsed, watchlist.Request):
        return parsed
    services = context.services
    blocked = await services.storage.watchlist.block(
        parsed.nik, parsed.reason, user.id, services.now(), workflow.card_redraws(services)
    )
    if blocked is None:
        existing = await services.storage.watchlist.find(parsed.nik)
        assert existing is not None
        by = services.name_of(existing.blocked_by)
        tz = services.config.timezone
        await message.reply_text(watchlist_texts.already_blocked(existing, by, tz))
        return None
    entry, flagged = blocked
    services.delivery.kick()  # the flagged requests' cards
    await message.reply_text(watchlist_texts.now_barred(entry, len(flagged)))
    return None


async def unblock(update: Update, context: BotContext) -> bool | None:
    """/buka_blokir NIK: the NIK comes off the list, audited (the entry's history stays).
    True: the typed answer could not be read, and the bot keeps waiting for one."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    parsed = await _request(update, context, watchlist_texts.ASK_UNBLOCK, needs_reason=False)
    if not isinstance(parsed, watchlist.Request):
        return parsed
    services = context.services
    entry = await services.storage.watchlist.lift(parsed.nik, user.id, services.now())
    if entry is None:
        await message.reply_text(watchlist_texts.NOT_LISTED)
        return None
    await message.reply_text(watchlist_texts.now_lifted(entry))
    return None


async def listing(update: Update, context: BotContext) -> None:
    """/daftar_blokir: every barred NIK, masked, with the reason, who and when."""
    message = update.effective_message
    assert message is not None
    if not _approver(update, context):
        await message.reply_text(common_texts.ONLY_APPROVER)
        return
    services = context.services
    entries = [
        (entry, services.name_of(entry.blocked_by))
        for entry in await services.storage.watchlist.live()
    ]
    await reply_pages(message, watchlist_texts.listing(entries, services.config.timezone))


def build() -> list[Handler]:
    return [
        CommandHandler("blokir", block),
        CommandHandler("buka_blokir", unblock),
        CommandHandler("daftar_blokir", listing),
    ]
