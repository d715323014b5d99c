"""/darurat and the "Aman" buttons: the evacuation roll call (bot/flows/rollcall.py)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import RollCallTap
from bot.core.policy import Act, may
from bot.core.rollcall import MarkOutcome
from bot.flows import rollcall
from bot.texts import common as common_texts
from bot.texts import rollcall as rollcall_texts
from handlers.edits import answer_tap


async def start(update: Update, context: BotContext) -> None:
    """/darurat: every staff member gets the roll call at once (no confirmation: see the
    flow); while one runs, the person is pointed to it."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    services = context.services
    member = services.member(user.id)
    if not may(member, Act.ROLL_CALL):
        await message.reply_text(common_texts.NOT_ALLOWED)
        return
    roll, began = await rollcall.start(services, member)
    if not began:
        starter = services.name_of(roll.started_by)
        await message.reply_text(
            rollcall_texts.already_running(roll, starter, services.config.timezone)
        )


async def mark(update: Update, context: BotContext) -> None:
    """ "Aman" under a roll call: that visitor is outside. Any staff member may tap it; the
    mark records who. Every copy of the message is edited through the outbox."""
    query = update.callback_query
    assert query is not None
    services = context.services
    member = services.member(query.from_user.id)
    if not may(member, Act.ROLL_CALL):
        answer_tap(query, common_texts.NOT_ALLOWED, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, RollCallTap)
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    outcome, roll = await rollcall.mark(services, tap.roll_call_id, tap.visit_id, member)
    visit = await services.storage.visits.get(tap.visit_id)
    entry = roll.entry(tap.visit_id) if roll is not None else None
    if outcome in (MarkOutcome.MARKED, MarkOutcome.ENDED):
        answer_tap(query, rollcall_texts.marked(outcome, visit))
    elif outcome is MarkOutcome.ALREADY and entry is not None:
        by = services.name_of(entry.marked_by)
        tz = services.config.timezone
        answer_tap(query, rollcall_texts.already_marked(visit, by, entry.safe_at, tz))
    elif outcome is MarkOutcome.CLOSED:
        answer_tap(query, rollcall_texts.CLOSED, show_alert=True)
    else:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)


def build() -> list[Handler]:
    return [
        CommandHandler("darurat", start),
        CallbackQueryHandler(mark, pattern=callbacks.pattern(callbacks.ROLL_CALL_SAFE)),
    ]
