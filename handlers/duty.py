"""/piket: an escort's duty status with one button that toggles it, edited in place."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import DutyTap
from bot.core.policy import Act, may
from bot.flows import duty
from bot.texts import common as common_texts
from bot.texts import duty as duty_texts
from handlers.edits import answer_tap, unless_unchanged


def _toggle(on_duty: bool) -> InlineKeyboardMarkup:
    """The one button: the opposite of the state shown, carrying the state it asks for."""
    label = duty_texts.BTN_END if on_duty else duty_texts.BTN_START
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=DutyTap(on=not on_duty).data)]]
    )


async def show(update: Update, context: BotContext) -> None:
    """/piket: the escort's status, who else is on duty, and the toggle."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    member = context.services.member(user.id)
    if not may(member, Act.TAKE_DUTY):
        await message.reply_text(duty_texts.NOT_AN_ESCORT)
        return
    text, on_duty = duty.status(context.services, member)
    await message.reply_text(text, reply_markup=_toggle(on_duty))


async def toggle(update: Update, context: BotContext) -> None:
    """The toggle: the state it carries is applied once; a second tap finds it so already
    and only gets a note. The message shows the current state either way."""
    query = update.callback_query
    assert query is not None
    services = context.services
    member = services.member(query.from_user.id)
    if not may(member, Act.TAKE_DUTY):
        answer_tap(query, duty_texts.NOT_AN_ESCORT, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, DutyTap)
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    changed = await duty.toggle(services, member, tap.on)
    if changed:
        answer_tap(query, duty_texts.STARTED if tap.on else duty_texts.ENDED)
    else:
        answer_tap(query, duty_texts.ALREADY_ON if tap.on else duty_texts.ALREADY_OFF)
    text, on_duty = duty.status(services, member)
    await unless_unchanged(query.edit_message_text(text, reply_markup=_toggle(on_duty)))


def build() -> list[Handler]:
    return [
        CommandHandler("piket", show),
        CallbackQueryHandler(toggle, pattern=callbacks.pattern(callbacks.DUTY)),
    ]
