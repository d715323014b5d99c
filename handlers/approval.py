"""Approve / Deny from the section head's phone (SOP steps 4-5); keyed by visit id.

Approve is a top-level button. Deny needs the reason typed afterwards, which is one
person talking, so it is a small ConversationHandler of its own (persisted, like the
officer's form, so a restart between the tap and the reason loses nothing).
"""

from __future__ import annotations

import enum
import warnings

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
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
from bot.core.policy import Act, decides_for, may, registered
from bot.core.roles import StaffMember
from bot.core.visits import Visit, VisitStatus
from bot.flows import workflow
from bot.flows.delivery import approval_keyboard
from bot.texts import approval as approval_texts
from bot.texts import common as common_texts
from bot.texts import planning as plan_texts
from bot.texts import staff as staff_texts
from bot.texts import watchlist as watchlist_texts
from handlers import scan
from handlers.edits import answer_tap, drop_buttons, unless_unchanged
from handlers.reasons import CANCEL_COMMAND, asks_to_cancel, typed_reason
from handlers.registration import FORM_COMMANDS


class DenyStep(enum.IntEnum):
    REASON = 0


def _approver(
    update: Update, context: BotContext, visit: Visit | None = None
) -> StaffMember | None:
    """Who may decide (on ``visit``): an approver, or a delegate standing in for one, then
    named "<delegate> a.n. <approver>"; None for anyone else."""
    user = update.effective_user
    member = context.services.member(user.id if user else None)
    principal = context.services.acting_for(member.user_id) if member else None
    if not may(member, Act.DECIDE, visit, acting_for=principal):
        return None
    behalf = decides_for(member, principal, visit)
    if behalf is None:
        return member
    return StaffMember(
        member.user_id, staff_texts.on_behalf(member.name, behalf.name), member.roles
    )


async def _refuse(update: Update, context: BotContext, visit: Visit | None) -> None:
    """Not allowed to decide: say why; a try on one's own request is audited (four eyes)."""
    query = update.callback_query
    assert query is not None
    services = context.services
    member = services.member(query.from_user.id)
    principal = services.acting_for(member.user_id) if member else None
    # Someone who could decide any other request, but registered this one.
    if may(member, Act.DECIDE, acting_for=principal) and registered(member, visit):
        assert visit is not None
        await services.storage.audit.record(
            services.now(), member.user_id, "decision_refused_own_request", visit.id
        )
        answer_tap(query, approval_texts.OWN_REQUEST, show_alert=True)
        return
    answer_tap(query, common_texts.ONLY_APPROVER, show_alert=True)


def _principal(
    context: BotContext, approver: StaffMember, visit: Visit | None
) -> StaffMember | None:
    """Whose behalf a delegate decides on; stored with the decision (visits.decided_for)."""
    return decides_for(approver, context.services.acting_for(approver.user_id), visit)


async def approve(update: Update, context: BotContext) -> None:
    """Tap on Setujui: the first decision wins, everyone's card shows who decided. On a
    request whose NIK is on the watchlist, the card first asks for the second tap."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.parse_as(query.data, VisitTap)
    # Read first: the policy rules on the visit itself too (who registered it, say).
    visit = await context.services.storage.visits.get(tap.visit_id) if tap else None
    approver = _approver(update, context, visit)
    if approver is None:
        await _refuse(update, context, visit)
        return
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    principal = _principal(context, approver, visit)
    result = await workflow.approve(
        context.services,
        tap.visit_id,
        approver,
        principal,
        despite_watchlist=tap.action == callbacks.APPROVE_BARRED,
    )
    if result.outcome == workflow.Outcome.CONFIRM:
        # A double tap edits the card to what it already shows: not an error.
        await unless_unchanged(
            query.edit_message_reply_markup(approval_keyboard(tap.visit_id, barred=True))
        )
        if query.message is not None:  # decided while the edit was on its way: drawn again
            chat = query.message.chat.id
            await workflow.second_step_shown(context.services, tap.visit_id, chat, query.id)
        answer_tap(query, watchlist_texts.CONFIRM_FIRST, show_alert=True)
        return
    planned = result.visit is not None and result.visit.planned
    await _answer(
        update,
        context,
        result,
        plan_texts.APPROVED_AHEAD_TOAST if planned else approval_texts.APPROVED_TOAST,
    )


async def deny(update: Update, context: BotContext) -> DenyStep | int:
    """Tap on Tolak: ask for the reason first; nothing is decided until it arrives."""
    query = update.callback_query
    assert query is not None and query.message is not None
    tap = callbacks.parse_as(query.data, VisitTap)
    visit = await context.services.storage.visits.get(tap.visit_id) if tap else None
    if _approver(update, context, visit) is None:
        await _refuse(update, context, visit)
        return ConversationHandler.END
    if visit is None or visit.status != VisitStatus.PENDING:
        await _answer(update, context, workflow.Result(workflow.Outcome.NOT_ALLOWED, visit), "")
        return ConversationHandler.END
    if context.user_state.get("deny_visit") == visit.id and "deny_prompt" in context.user_state:
        # Tolak twice on one card (a double tap, or again later): its prompt is there.
        answer_tap(query, approval_texts.DENY_REASON_ASKED)
        return DenyStep.REASON
    context.user_state["deny_visit"] = visit.id
    answer_tap(query)
    await _close_prompt(context, query.message.chat.id)  # Tolak on another card: one live
    abort = InlineKeyboardButton(
        approval_texts.BTN_DENY_ABORT, callback_data=VisitTap(callbacks.DENY_ABORT, visit.id).data
    )
    prompt = await query.message.chat.send_message(
        approval_texts.ask_deny_reason(visit.reference),
        reply_markup=InlineKeyboardMarkup([[abort]]),
    )
    context.user_state["deny_prompt"] = prompt.message_id
    return DenyStep.REASON


async def _close_prompt(context: BotContext, chat_id: int) -> None:
    """The reason prompt's "cancel the denial" button goes once the denial is done."""
    prompt = context.user_state.pop("deny_prompt", None)
    if prompt is not None:
        await drop_buttons(context.bot, chat_id, prompt)


async def deny_reason(update: Update, context: BotContext) -> DenyStep | int:
    """The reason typed after Tolak: decide now (unless someone else already did)."""
    message = update.effective_message
    assert message is not None
    visit_id = context.user_state.get("deny_visit")
    visit = await context.services.storage.visits.get(visit_id) if visit_id else None
    # Checked again on the visit: roles or a delegation may have changed since the tap.
    approver = _approver(update, context, visit)
    if approver is None or visit_id is None:
        # The role (or the delegation) went while the reason was awaited: nothing is
        # decided, and the person is told, not left waiting under a live prompt.
        context.user_state.pop("deny_visit", None)
        chat = update.effective_chat
        if chat is not None:
            await _close_prompt(context, chat.id)
        await message.reply_text(common_texts.ONLY_APPROVER)
        return ConversationHandler.END
    reason = await typed_reason(
        message,
        too_long=approval_texts.DENY_REASON_TOO_LONG,
        not_text=approval_texts.DENY_REASON_TEXT,
    )
    if reason is None:
        return DenyStep.REASON
    context.user_state.pop("deny_visit", None)
    principal = _principal(context, approver, visit)
    result = await workflow.deny(context.services, visit_id, approver, reason, principal)
    await _close_prompt(context, message.chat_id)
    if result.outcome == workflow.Outcome.DONE:
        await message.reply_text(approval_texts.DENIED_TOAST)
    elif result.visit is not None:
        decider = context.services.name_of(result.visit.decided_by)
        await message.reply_text(approval_texts.already_decided(result.visit, decider))
    return ConversationHandler.END


async def interrupted(update: Update, context: BotContext) -> int:
    """/batal, another command or a form button while the reason is awaited: the denial
    stops here and the request stays pending, so a later message meant for something else
    (the next form's answer, a chat line) can never be taken for a reason."""
    visit_id = context.user_state.pop("deny_visit", None)
    visit = await context.services.storage.visits.get(visit_id) if visit_id else None
    chat = update.effective_chat
    if chat is not None:
        await _close_prompt(context, chat.id)
    text = approval_texts.deny_interrupted(
        visit.reference if visit is not None else "", by_batal=asks_to_cancel(update)
    )
    if update.callback_query is not None:
        answer_tap(update.callback_query, text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    return ConversationHandler.END


async def not_a_reason(update: Update, context: BotContext) -> DenyStep:
    """A photo, sticker or file where the reason is expected. From a section head who
    escorts too, a photo is a badge photographed at the door: read as a scan (the prompt
    waits on)."""
    message = update.effective_message
    assert message is not None
    user = update.effective_user
    member = context.services.member(user.id if user else None)
    image = message.photo or (
        message.document is not None and (message.document.mime_type or "").startswith("image/")
    )
    if image and may(member, Act.RECORD_DOOR):
        await scan.badge_photo(update, context)
        return DenyStep.REASON
    await message.reply_text(approval_texts.DENY_REASON_TEXT)
    return DenyStep.REASON


async def deny_abort(update: Update, context: BotContext) -> int:
    """Changed one's mind after Tolak: the request stays pending, unless someone decided it
    meanwhile; then the prompt only loses its button, and the tap says how it was decided."""
    query = update.callback_query
    assert query is not None
    context.user_state.pop("deny_visit", None)
    context.user_state.pop("deny_prompt", None)
    tap = callbacks.parse_as(query.data, VisitTap)
    visit = await context.services.storage.visits.get(tap.visit_id) if tap else None
    if visit is not None and visit.status != VisitStatus.PENDING:
        decider = context.services.name_of(visit.decided_by)
        answer_tap(query, approval_texts.already_decided(visit, decider), show_alert=True)
        await _drop_tapped(context, query)
        return ConversationHandler.END
    answer_tap(query)
    await unless_unchanged(query.edit_message_text(approval_texts.DENY_ABORTED))
    return ConversationHandler.END


async def approve_in_prompt(update: Update, context: BotContext) -> DenyStep | int | None:
    """Setujui while a reason prompt is open: the approval is the decision, so the prompt
    of that request closes; a tap on another request's card leaves it waiting."""
    await approve(update, context)
    tap = callbacks.parse_as(
        update.callback_query.data if update.callback_query else None, VisitTap
    )
    waiting = context.user_state.get("deny_visit")
    if tap is None or tap.visit_id != waiting:
        return None  # the conversation stays where it was
    visit = await context.services.storage.visits.get(tap.visit_id)
    if visit is not None and visit.status == VisitStatus.PENDING:
        return None  # not decided (refused): the prompt still waits for its reason
    context.user_state.pop("deny_visit", None)
    assert update.effective_chat is not None
    await _close_prompt(context, update.effective_chat.id)
    return ConversationHandler.END


async def stale_abort(update: Update, context: BotContext) -> None:
    """'Batal menolak' from a reason prompt that is already answered: the button goes."""
    query = update.callback_query
    if query is not None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        await _drop_tapped(context, query)


async def _drop_tapped(context: BotContext, query: CallbackQuery) -> None:
    if query.message is not None:
        await drop_buttons(context.bot, query.message.chat.id, query.message.message_id)


async def _answer(
    update: Update, context: BotContext, result: workflow.Result, success: str
) -> None:
    query = update.callback_query
    assert query is not None
    if result.outcome == workflow.Outcome.DONE:
        answer_tap(query, success)
    elif result.visit is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
    else:
        # A late tap (a second approver, a slow phone): the card update is already queued.
        decider = context.services.name_of(result.visit.decided_by)
        answer_tap(query, approval_texts.already_decided(result.visit, decider), show_alert=True)


def build() -> list[Handler]:
    """Top-level handlers: approvals come from other people's chats, not the officer's."""
    with warnings.catch_warnings():
        # per_message=False is deliberate: the reason is the next thing this approver types.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        deny_conversation = ConversationHandler(
            entry_points=[CallbackQueryHandler(deny, pattern=callbacks.pattern(callbacks.DENY))],
            states={
                DenyStep.REASON: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, deny_reason),
                    # /batal ends it; so does starting a form (one person may hold both
                    # roles: the form's answers must not be taken for a reason). Any other
                    # command (a badge scanned, /menunggu) passes and the prompt waits.
                    MessageHandler(CANCEL_COMMAND, interrupted),
                    CommandHandler(list(FORM_COMMANDS), interrupted),
                    MessageHandler(~filters.COMMAND, not_a_reason),
                    CallbackQueryHandler(
                        interrupted, pattern=callbacks.pattern(callbacks.REGISTRATION)
                    ),
                ]
            },
            fallbacks=[
                CallbackQueryHandler(deny_abort, pattern=callbacks.pattern(callbacks.DENY_ABORT)),
                CallbackQueryHandler(
                    approve_in_prompt, pattern=callbacks.pattern(callbacks.APPROVE)
                ),
            ],
            name="deny_reason",
            persistent=True,
            allow_reentry=True,
        )
    # The conversation first: while a reason prompt is open, Setujui is its fallback (which
    # closes the prompt); otherwise the conversation passes it on to the plain handler.
    return [
        deny_conversation,
        CallbackQueryHandler(approve, pattern=callbacks.pattern(callbacks.APPROVE)),
        CallbackQueryHandler(approve, pattern=callbacks.pattern(callbacks.APPROVE_BARRED)),
        CallbackQueryHandler(stale_abort, pattern=callbacks.pattern(callbacks.DENY_ABORT)),
    ]
