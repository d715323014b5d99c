"""A reason typed after a button (a denial, a cancel): cleaned like every typed field."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import filters

from bot.core.fields import REASON_MAX, REASON_MIN_READABLE, FieldError, FieldProblem, clean_text


async def typed_reason(message: Message, *, too_long: str, not_text: str) -> str | None:
    """The cleaned reason; or None, once the person is told what is wrong with it."""
    try:
        return clean_text(message.text or "", REASON_MAX, min_readable=REASON_MIN_READABLE)
    except FieldError as exc:
        await message.reply_text(too_long if exc.problem == FieldProblem.TOO_LONG else not_text)
        return None


# /batal, with or without the bot's name: the person's way out of whatever question the bot
# is waiting on (the form's, a reason's, a note's).
CANCEL_COMMAND = filters.Regex(r"(?i)^/batal(@\w+)?(\s|$)")


def asks_to_cancel(update: Update) -> bool:
    return bool(CANCEL_COMMAND.check_update(update))
