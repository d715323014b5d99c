"""Editing a message that may already show what the edit would write.

Telegram refuses an edit to identical content ("message is not modified",
https://core.telegram.org/bots/api#editmessagetext returns 400 for it), which is what a
double tap on a button produces: the second tap finds the message already edited. That
is not an error to show anyone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from bot.texts import common as common_texts

log = logging.getLogger(__name__)
_answering: set[asyncio.Task[None]] = set()


def answer_tap(query: CallbackQuery, text: str | None = None, *, show_alert: bool = False) -> None:
    """Answer a tap (end its spinner, with ``text`` as a toast or an alert) without waiting
    for Telegram's reply: the edit or message that follows goes out at the same time, so a
    tap costs one round trip to Telegram instead of two. Called where the answer is due
    (after the write it reports), so what it says is already true.

    A failed answer only leaves the spinner to time out on the phone: logged, never shown as
    an error. Telegram refuses an answer after about 15 s ("query is too old": a tap that
    waited while the bot restarted or was busy); an alert, which may be all the tap shows
    (who decided, that the button is stale), then comes as a reply to the tapped message."""
    task = asyncio.get_running_loop().create_task(_answer(query, text, show_alert))
    _answering.add(task)
    task.add_done_callback(_answering.discard)


async def _answer(query: CallbackQuery, text: str | None, show_alert: bool) -> None:
    try:
        if await query.answer(text, show_alert=show_alert) or not (show_alert and text):
            return
        # Too late to answer (bot/app/request.py): the alert's words as a reply instead.
        message = query.message
        reply = (
            ReplyParameters(message.message_id, allow_sending_without_reply=True)
            if message is not None
            else None
        )
        chat = message.chat.id if message is not None else query.from_user.id
        await query.get_bot().send_message(
            chat, common_texts.late_alert(text), reply_parameters=reply
        )
    except TelegramError as exc:
        log.info("a tap was not answered (%s)", type(exc).__name__)


def show_typing(bot: Bot, chat_id: int) -> None:
    """Telegram's "typing…" under the bot's name, without waiting for it, for an answer that
    takes a few round trips (the KTP photo: getFile, the download, the reader). Telegram
    recommends it over a "please wait" message (sendChatAction) and shows it for up to 5 s or
    until the bot's next message, so the officer sees at once that the photo arrived. A
    failure is logged, never shown."""
    task = asyncio.get_running_loop().create_task(_typing(bot, chat_id))
    _answering.add(task)
    task.add_done_callback(_answering.discard)


async def _typing(bot: Bot, chat_id: int) -> None:
    try:
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as exc:
        log.info("typing was not shown (%s)", type(exc).__name__)


async def answers_sent(timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait for the taps' answers (and "typing…") still on their way (the bot is stopping)."""
    if _answering:
        await asyncio.wait(list(_answering), timeout=timeout)


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
