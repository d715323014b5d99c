"""A reason typed after a button (a denial, a cancel): cleaned like every typed field."""

from __future__ import annotations

from telegram import Message

from bot.core.fields import REASON_MAX, REASON_MIN_READABLE, FieldError, FieldProblem, clean_text


async def typed_reason(message: Message, *, too_long: str, not_text: str) -> str | None:
    """The cleaned reason; or None, once the person is told what is wrong with it."""
    try:
        return clean_text(message.text or "", REASON_MAX, min_readable=REASON_MIN_READABLE)
    except FieldError as exc:
        await message.reply_text(too_long if exc.problem == FieldProblem.TOO_LONG else not_text)
        return None
