"""/batalkan: an officer withdraws a request not yet used (pending, or approved and not entered).

/batalkan lists the open requests as buttons, /batalkan KRS-2026-00042 picks one directly; then
the reason is typed. That is one person talking, so it is a small ConversationHandler of its
own, persisted like the deny reason, registered before the officer's form: a form open in the
same chat is left as it was and shown again once the cancel is done.
"""

from __future__ import annotations

import enum
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import VisitTap
from bot.core.policy import Act, may
from bot.core.roles import StaffMember
from bot.core.visits import Action, Visit, allows
from bot.flows import workflow
from bot.texts import cancel as cancel_texts
from bot.texts import common as common_texts
from handlers import registration
from handlers.edits import answer_tap, drop_buttons, unless_unchanged
from handlers.reasons import asks_to_cancel, typed_reason

# A chat list stays short on a cheap phone; the rest are reached by typing their reference.
LIST_MAX = 20
_VISIT = "cancel_visit"  # user_data: the request whose reason is awaited
_PROMPT = "cancel_prompt"  # user_data: the reason prompt's message, whose button goes after


class CancelStep(enum.IntEnum):
    REASON = 0


def _officer(update: Update, context: BotContext) -> StaffMember | None:
    user = update.effective_user
    member = context.services.member(user.id if user else None)
    return member if may(member, Act.CANCEL) else None


async def start(update: Update, context: BotContext) -> CancelStep | int:
    """/batalkan [reference]: the list of open requests, or straight to the reason."""
    message = update.effective_message
    assert message is not None
    context.user_state.pop(_VISIT, None)
    if _officer(update, context) is None:
        await message.reply_text(common_texts.ONLY_OFFICER)
        return ConversationHandler.END
    services = context.services
    if context.args:
        typed = " ".join(context.args)
        visit = await workflow.find_request(services, typed)
        if visit is None:
            await message.reply_text(cancel_texts.unknown_reference(typed))
        elif not allows(Action.CANCEL, visit.status):
            await message.reply_text(cancel_texts.not_open(visit))
        else:
            return await _ask_reason(update, context, visit)
        return ConversationHandler.END
    visits = await workflow.open_requests(services)
    if not visits:
        await message.reply_text(cancel_texts.NOTHING_OPEN)
        return ConversationHandler.END
    rows = [
        [InlineKeyboardButton(cancel_texts.button(v), callback_data=_tap(callbacks.CANCEL, v))]
        for v in visits[:LIST_MAX]
    ]
    await message.reply_text(
        cancel_texts.choose(len(visits), len(rows)), reply_markup=InlineKeyboardMarkup(rows)
    )
    return ConversationHandler.END


async def pick(update: Update, context: BotContext) -> CancelStep | None:
    """A request tapped in the list: ask why. A refused tap leaves any open prompt alone."""
    query = update.callback_query
    assert query is not None
    if _officer(update, context) is None:
        answer_tap(query, common_texts.ONLY_OFFICER, show_alert=True)
        return None
    tap = callbacks.parse_as(query.data, VisitTap)
    visit = await context.services.storage.visits.get(tap.visit_id) if tap else None
    if visit is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return None
    if context.user_state.get(_VISIT) == visit.id:
        answer_tap(query, cancel_texts.CHOSEN_AGAIN)  # a double tap: one prompt is enough
        return CancelStep.REASON
    if not allows(Action.CANCEL, visit.status):
        answer_tap(query, cancel_texts.not_open(visit), show_alert=True)
        return None
    answer_tap(query)
    if query.message is not None:  # answered: the list's buttons go, the prompt is live
        await drop_buttons(context.bot, query.message.chat.id, query.message.message_id)
    return await _ask_reason(update, context, visit)


async def _ask_reason(update: Update, context: BotContext, visit: Visit) -> CancelStep:
    assert update.effective_chat is not None
    await _close_prompt(context, update.effective_chat.id)  # one prompt is live
    context.user_state[_VISIT] = visit.id
    abort = InlineKeyboardButton(
        cancel_texts.BTN_ABORT, callback_data=_tap(callbacks.CANCEL_ABORT, visit)
    )
    prompt = await update.effective_chat.send_message(
        cancel_texts.ask_reason(visit), reply_markup=InlineKeyboardMarkup([[abort]])
    )
    context.user_state[_PROMPT] = prompt.message_id
    return CancelStep.REASON


async def _close_prompt(context: BotContext, chat_id: int | None) -> None:
    """The reason prompt's "Tidak jadi" goes once the cancel is done or abandoned."""
    prompt = context.user_state.pop(_PROMPT, None)
    if prompt is not None and chat_id is not None:
        await drop_buttons(context.bot, chat_id, prompt)


async def reason(update: Update, context: BotContext) -> CancelStep | int:
    """The reason: cancel now (unless the visitor entered or someone else was faster)."""
    message = update.effective_message
    assert message is not None
    officer = _officer(update, context)
    visit_id = context.user_state.get(_VISIT)
    if officer is None:  # no longer an officer since the tap
        context.user_state.pop(_VISIT, None)
        await _close_prompt(context, message.chat_id)
        await message.reply_text(common_texts.ONLY_OFFICER)
        return ConversationHandler.END
    if visit_id is None:
        return ConversationHandler.END
    text = await typed_reason(
        message, too_long=cancel_texts.REASON_TOO_LONG, not_text=cancel_texts.REASON_TEXT
    )
    if text is None:
        return CancelStep.REASON
    context.user_state.pop(_VISIT, None)
    result = await workflow.cancel(context.services, visit_id, officer, text)
    await _close_prompt(context, message.chat_id)
    if result.outcome == workflow.Outcome.DONE and result.visit is not None:
        await message.reply_text(cancel_texts.done(result.visit))
        await _form_again(update, context)
    elif result.visit is not None:
        await message.reply_text(cancel_texts.not_open(result.visit))
    return ConversationHandler.END


async def not_a_reason(update: Update, context: BotContext) -> CancelStep:
    """A photo, sticker or file where the reason is expected."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(cancel_texts.REASON_TEXT)
    return CancelStep.REASON


async def interrupted(update: Update, context: BotContext) -> int:
    """Another command, or a form button, while the reason is awaited: the cancel stops here,
    so a later answer meant for the form can never be taken for a reason."""
    visit_id = context.user_state.pop(_VISIT, None)
    visit = await context.services.storage.visits.get(visit_id) if visit_id else None
    await _close_prompt(context, update.effective_chat.id if update.effective_chat else None)
    text = cancel_texts.interrupted(
        visit.reference if visit else "", by_batal=asks_to_cancel(update)
    )
    if update.callback_query is not None:
        answer_tap(update.callback_query, text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    return ConversationHandler.END


async def abort(update: Update, context: BotContext) -> int:
    """Tidak jadi: the request stays as it was."""
    query = update.callback_query
    assert query is not None
    context.user_state.pop(_VISIT, None)
    context.user_state.pop(_PROMPT, None)  # edited below: its button goes with the edit
    tap = callbacks.parse_as(query.data, VisitTap)
    visit = await context.services.storage.visits.get(tap.visit_id) if tap else None
    answer_tap(query)
    if visit is not None:
        await unless_unchanged(query.edit_message_text(cancel_texts.aborted(visit)))
    elif query.message is not None:
        await drop_buttons(context.bot, query.message.chat.id, query.message.message_id)
    return ConversationHandler.END


async def stale_abort(update: Update, context: BotContext) -> None:
    """'Tidak jadi' under a prompt already answered: the button goes."""
    query = update.callback_query
    if query is not None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        if query.message is not None:
            await drop_buttons(context.bot, query.message.chat.id, query.message.message_id)


async def _form_again(update: Update, context: BotContext) -> None:
    """The officer had a form open: show where it stands, so they carry on from there."""
    draft = context.user_state.get("draft")
    if not draft or "step" not in draft or update.effective_chat is None:
        return
    services = context.services
    text, markup = registration.question(services, services.form.current(draft), draft)
    await update.effective_chat.send_message(cancel_texts.FORM_STILL_OPEN)
    await update.effective_chat.send_message(text, reply_markup=markup)


def _tap(action: str, visit: Visit) -> str:
    return VisitTap(action, visit.id).data


def build() -> list[Handler]:
    """The cancel conversation (before the form's), and the stale 'Tidak jadi' after it."""
    with warnings.catch_warnings():
        # per_message=False is deliberate: the reason is the next thing this officer types.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[
                CommandHandler("batalkan", start),
                CallbackQueryHandler(pick, pattern=callbacks.pattern(callbacks.CANCEL)),
            ],
            states={
                CancelStep.REASON: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, reason),
                    MessageHandler(filters.COMMAND, interrupted),
                    MessageHandler(filters.ALL, not_a_reason),
                    CallbackQueryHandler(
                        interrupted, pattern=callbacks.pattern(callbacks.REGISTRATION)
                    ),
                ]
            },
            fallbacks=[
                CallbackQueryHandler(abort, pattern=callbacks.pattern(callbacks.CANCEL_ABORT))
            ],
            name="cancel_reason",
            persistent=True,
            allow_reentry=True,
        )
    return [
        conversation,
        CallbackQueryHandler(stale_abort, pattern=callbacks.pattern(callbacks.CANCEL_ABORT)),
    ]
