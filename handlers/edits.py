"""Editing a message that may already show what the edit would write.

Telegram refuses an edit to identical content ("message is not modified",
https://core.telegram.org/bots/api#editmessagetext returns 400 for it), which is what a
double tap on a button produces: the second tap finds the message already edited. That
is not an error to show anyone.
"""

from __future__ import annotations

from collections.abc import Awaitable

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
