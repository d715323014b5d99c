"""Approve / Deny from the section head's phone (SOP steps 4-5); keyed by visit id."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import texts, workflow
from bot.context import BotContext
from bot.core import callbacks
from bot.core.fields import REASON_MAX, FieldError, FieldProblem, clean_text
from bot.core.visits import VisitStatus


async def approve(update: Update, context: BotContext) -> None:
    """Tap on Setujui: the first decision wins, everyone's card shows who decided."""
    query = update.callback_query
    assert query is not None
    data = callbacks.parse(query.data)
    approver = context.services.member(query.from_user.id)
    if approver is None or not approver.has("approver"):
        await query.answer(texts.ONLY_APPROVER, show_alert=True)
        return
    if data is None or data.visit_id is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    result = await workflow.approve(context.services, context.bot, data.visit_id, approver)
    await _answer(update, context, result, texts.APPROVED_TOAST)


async def deny(update: Update, context: BotContext) -> None:
    """Tap on Tolak: ask for the reason first; nothing is decided until it arrives."""
    query = update.callback_query
    assert query is not None
    data = callbacks.parse(query.data)
    approver = context.services.member(query.from_user.id)
    if approver is None or not approver.has("approver"):
        await query.answer(texts.ONLY_APPROVER, show_alert=True)
        return
    visit = (
        await context.services.storage.get_visit(data.visit_id) if data and data.visit_id else None
    )
    if visit is None or visit.status != VisitStatus.PENDING:
        await _answer(update, context, workflow.Result(workflow.Outcome.NOT_ALLOWED, visit), "")
        return
    context.services.deny_pending[approver.user_id] = visit.id
    await query.answer()
    abort = InlineKeyboardButton(
        texts.BTN_DENY_ABORT, callback_data=callbacks.pack(callbacks.DENY_ABORT, visit.id)
    )
    await query.message.chat.send_message(  # type: ignore[union-attr]
        texts.ask_deny_reason(visit.reference), reply_markup=InlineKeyboardMarkup([[abort]])
    )


async def deny_reason(update: Update, context: BotContext) -> None:
    """The reason typed after Tolak: decide now (unless someone else already did)."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    approver = context.services.member(update.effective_user.id)
    if message.text is None:
        await message.reply_text(texts.DENY_REASON_TEXT)
        return
    try:
        reason = clean_text(message.text, REASON_MAX)
    except FieldError as exc:
        too_long = exc.problem == FieldProblem.TOO_LONG
        await message.reply_text(
            texts.DENY_REASON_TOO_LONG if too_long else texts.DENY_REASON_TEXT
        )
        return
    visit_id = context.services.deny_pending.pop(update.effective_user.id)
    assert approver is not None
    result = await workflow.deny(context.services, context.bot, visit_id, approver, reason)
    if result.outcome == workflow.Outcome.DONE:
        await message.reply_text(texts.DENIED_TOAST)
    elif result.visit is not None:
        await message.reply_text(texts.already_decided(result.visit))


async def deny_abort(update: Update, context: BotContext) -> None:
    """Changed one's mind after Tolak: the request stays pending."""
    query = update.callback_query
    assert query is not None
    context.services.deny_pending.pop(query.from_user.id, None)
    await query.answer()
    await query.edit_message_text(texts.DENY_ABORTED)


async def _answer(
    update: Update, context: BotContext, result: workflow.Result, success: str
) -> None:
    query = update.callback_query
    assert query is not None
    if result.outcome == workflow.Outcome.DONE:
        await query.answer(success)
    elif result.visit is None:
        await query.answer(texts.STALE_BUTTON, show_alert=True)
    else:
        await query.answer(texts.already_decided(result.visit), show_alert=True)
        # A late tap on a card that somehow still has buttons: bring it up to date.
        if result.visit.status != VisitStatus.PENDING:
            await workflow.refresh_cards(context.services, context.bot, result.visit)


class _AwaitingReason(filters.MessageFilter):
    """Messages from an approver who tapped Tolak and owes us the reason."""

    def __init__(self, pending: dict[int, int]) -> None:
        super().__init__(name="awaiting_deny_reason")
        self._pending = pending

    def filter(self, message: object) -> bool:
        user = getattr(message, "from_user", None)
        return user is not None and user.id in self._pending


def build(pending: dict[int, int]) -> list:  # type: ignore[type-arg]
    """Top-level handlers: approvals come from other people's chats, not the officer's."""
    return [
        CallbackQueryHandler(approve, pattern=callbacks.pattern(callbacks.APPROVE)),
        CallbackQueryHandler(deny, pattern=callbacks.pattern(callbacks.DENY)),
        CallbackQueryHandler(deny_abort, pattern=callbacks.pattern(callbacks.DENY_ABORT)),
        MessageHandler(_AwaitingReason(pending) & ~filters.COMMAND, deny_reason),
    ]
