"""Sending a list that may need more than one message (``common_texts.pages``)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Message


async def reply_pages(
    message: Message, pages: Sequence[str], reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """The pages sent in order as replies to ``message``; the buttons, if any, go under the
    last page, where the list ends."""
    for n, page in enumerate(pages, start=1):
        await message.reply_text(page, reply_markup=reply_markup if n == len(pages) else None)
