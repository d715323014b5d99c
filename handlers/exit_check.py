"""⚠️ Ada selisih at KELUAR: the escort types what differs, then the exit is recorded with it.

The note is the next thing this escort types, so it is a small ConversationHandler of its
own, persisted like the deny reason (a restart between the tap and the note loses nothing)
and registered before the officer's form. The button's nonce (storage/door.py) is checked
at the tap and again when the note arrives, and spent only when the exit is recorded: a note
typed after the scan's few minutes is refused, and the escort scans again.
"""

from __future__ import annotations

import enum
import warnings

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import DoorTap
from bot.core.policy import Act, may
from bot.core.visits import EquipmentCheck, VisitStatus
from bot.flows import exit_note, workflow
from bot.texts import common as common_texts
from bot.texts import door as door_texts
from handlers import scan
from handlers.edits import answer_tap, drop_buttons, edit_body, unless_unchanged
from handlers.reasons import CANCEL_COMMAND, typed_reason

_NOTE = "exit_note"  # user_data: {visit, nonce, card, photo} while the note is awaited


class NoteStep(enum.IntEnum):
    NOTE = 0


async def differs(update: Update, context: BotContext) -> NoteStep | None:
    """⚠️ Ada selisih tapped: ask for the note; nothing is recorded until it arrives. A
    refused tap leaves a note already awaited as it was."""
    query = update.callback_query
    assert query is not None and query.message is not None
    services = context.services
    escort = services.member(query.from_user.id)
    if not may(escort, Act.RECORD_DOOR):
        answer_tap(query, door_texts.ONLY_ESCORT, show_alert=True)
        return None
    assert escort is not None
    tap = callbacks.parse_as(query.data, DoorTap)
    if tap is None or tap.check != EquipmentCheck.DIFFERS:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return None
    waiting = context.user_state.get(_NOTE)
    if waiting is not None and (waiting["visit"], waiting["nonce"]) == (tap.visit_id, tap.nonce):
        answer_tap(query, door_texts.NOTE_AWAITED)  # a double tap: one prompt is enough
        return NoteStep.NOTE
    if await scan.redeem(services, escort, tap) is None:
        if await scan.recorded_already(query, escort, tap, services):
            return None
        await scan.refuse_tap(services, escort, tap.visit_id, tap.action)
        answer_tap(query, door_texts.SCAN_AGAIN, show_alert=True)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return None
    visit = await services.storage.visits.get(tap.visit_id)
    if visit is None or visit.status != VisitStatus.INSIDE:
        answer_tap(query, door_texts.stale_tap(visit), show_alert=True)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return None
    context.user_state[_NOTE] = {
        "visit": visit.id,
        "nonce": tap.nonce,
        "card": query.message.message_id,
        "photo": bool(getattr(query.message, "photo", None)),
    }
    answer_tap(query)
    # The card keeps both buttons: ✅ Perangkat sesuai still records the exit without a note.
    await query.message.chat.send_message(door_texts.ask_note(visit))
    return NoteStep.NOTE


async def note(update: Update, context: BotContext) -> NoteStep | int:
    """The note: KELUAR is recorded with the discrepancy (unless the scan's button died)."""
    message = update.effective_message
    assert message is not None
    services = context.services
    waiting = context.user_state.get(_NOTE)
    escort = services.member(update.effective_user.id if update.effective_user else None)
    if waiting is None:
        return ConversationHandler.END
    if not may(escort, Act.RECORD_DOOR):  # no longer an escort since the tap
        context.user_state.pop(_NOTE, None)
        await message.reply_text(door_texts.ONLY_ESCORT)
        return ConversationHandler.END
    assert escort is not None
    text = await typed_reason(
        message, too_long=door_texts.NOTE_TOO_LONG, not_text=door_texts.NOTE_TEXT
    )
    if text is None:
        return NoteStep.NOTE
    context.user_state.pop(_NOTE, None)
    visit = await services.storage.visits.get(waiting["visit"])
    # Another escort recorded KELUAR as matching while this one typed: the exit stands, the
    # note is kept and the section heads hear of it.
    late = visit is not None and exit_note.applies(visit, escort)
    if late and visit is not None and await exit_note.keep(services, visit, escort, text):
        recorder = services.name_of(visit.exit_escort_id or 0)
        await drop_buttons(context.bot, message.chat_id, waiting["card"])
        await message.reply_text(
            door_texts.note_after_exit(visit, recorder, services.config.timezone)
        )
        return ConversationHandler.END
    tap = DoorTap(callbacks.DOOR_EXIT_DIFF, waiting["visit"], waiting["nonce"])
    door_pass = await scan.redeem(services, escort, tap)
    if door_pass is None:  # the scan's minutes ran out, or the exit was recorded meanwhile
        await scan.refuse_tap(services, escort, tap.visit_id, tap.action)
        await message.reply_text(door_texts.NOTE_TOO_LATE)
        await drop_buttons(context.bot, message.chat_id, waiting["card"])
        return ConversationHandler.END
    result = await workflow.exit_(
        services,
        tap.visit_id,
        escort,
        via=door_pass.via,
        check=EquipmentCheck.DIFFERS,
        note=text,
    )
    if result.outcome != workflow.Outcome.DONE or result.visit is None:
        await message.reply_text(door_texts.stale_tap(result.visit))
        await drop_buttons(context.bot, message.chat_id, waiting["card"])
        return ConversationHandler.END
    await services.storage.door.spend(door_pass, services.now())
    exited = door_texts.exited(result.visit, escort.name, services.config.timezone)
    await edit_body(context.bot, message.chat_id, waiting["card"], exited, photo=waiting["photo"])
    await message.reply_text(door_texts.NOTE_SAVED)
    return ConversationHandler.END


async def cancelled(update: Update, context: BotContext) -> int:
    """/batal while the note is awaited: nothing is recorded, and the card's buttons go (the
    exit is recorded from a new scan). Other commands pass: a scan of another badge, say."""
    waiting = context.user_state.pop(_NOTE, None)
    message = update.effective_message
    if message is not None:
        if waiting is not None:
            await drop_buttons(context.bot, message.chat_id, waiting["card"])
        await message.reply_text(door_texts.NOTE_CANCELLED)
    return ConversationHandler.END


async def not_a_note(update: Update, context: BotContext) -> NoteStep:
    """A sticker, file or voice note where the note is expected."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(door_texts.NOTE_TEXT)
    return NoteStep.NOTE


async def matches_instead(update: Update, context: BotContext) -> int | None:
    """✅ Perangkat sesuai while a note is awaited: the exit is recorded without one; on the
    same visit's card that ends the wait, on another visit's card the wait goes on."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.parse_as(query.data, DoorTap)
    await scan.record(update, context)
    waiting = context.user_state.get(_NOTE)
    if waiting is not None and tap is not None and waiting["visit"] != tap.visit_id:
        return None
    context.user_state.pop(_NOTE, None)
    return ConversationHandler.END


def build() -> list[Handler]:
    """The note's conversation, registered before the officer's form (bot/app/build.py)."""
    with warnings.catch_warnings():
        # per_message=False is deliberate: the note is the next thing this escort types.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[
                CallbackQueryHandler(differs, pattern=callbacks.pattern(callbacks.DOOR_EXIT_DIFF))
            ],
            states={
                NoteStep.NOTE: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, note),
                    MessageHandler(CANCEL_COMMAND, cancelled),
                    # A photo is still a badge photo (handlers/scan.py); commands pass too.
                    MessageHandler(
                        ~filters.COMMAND & ~filters.PHOTO & ~filters.Document.IMAGE,
                        not_a_note,
                    ),
                ]
            },
            fallbacks=[
                CallbackQueryHandler(
                    matches_instead, pattern=callbacks.pattern(callbacks.DOOR_EXIT_OK)
                )
            ],
            name="exit_note",
            persistent=True,
            allow_reentry=True,
        )
    return [conversation]
