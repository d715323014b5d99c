"""Editing a message that may already show what the edit would write.

Telegram refuses an edit to identical content ("message is not modified",
https://core.telegram.org/bots/api#editmessagetext returns 400 for it), which is what a
double tap on a button produces: the second tap finds the message already edited. That
is not an error to show anyone.
"""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup
from telegram.error import BadRequest


async def unless_unchanged(edit: Awaitable[object]) -> bool:
    """Await an edit; False when Telegram says the message already looks like that."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise
        return False
    return True


async def claim(query: CallbackQuery) -> bool:
    """Take the buttons off the tapped message before acting on a one-shot button; False
    when they were off already: an earlier tap of the same button (a double tap, whose
    second callback Telegram delivers with the message as it was) is acting, or has acted.

    One chat's updates are handled one at a time (bot/app/processor.py), so the first tap
    always finds its buttons still there."""
    return await unless_unchanged(query.edit_message_reply_markup(None))


# An old question's keyboard may be gone already (not modified), or the message deleted by
# the person or too old to edit (Telegram allows bots to edit for 48 hours): none of that
# matters to someone who only needs the buttons off it.
_GONE = ("not modified", "message to edit not found", "message can't be edited")


async def drop_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the buttons off an earlier message, so only the current question has live ones."""
    try:
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as exc:
        if not any(reason in exc.message.lower() for reason in _GONE):
            raise


async def edit_body(bot: Bot, chat_id: int, message_id: int, text: str, *, photo: bool) -> bool:
    """Rewrite a message's words: the caption of a photo (the scan card under the KTP
    photo), the text otherwise; False when it already says that (a double tap)."""
    markup: InlineKeyboardMarkup | None = None  # the step is done: no button stays
    if photo:
        return await unless_unchanged(
            bot.edit_message_caption(chat_id, message_id, caption=text, reply_markup=markup)
        )
    return await unless_unchanged(
        bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
    )
