"""Files fetched from Telegram: one getFile per photo while its download link is valid.

The KTP photo is fetched twice: read for the form's prefill when it arrives
(bot/flows/ktp_read.py) and kept, encrypted, at submit (bot/flows/ktp.py). Telegram
guarantees a getFile link for at least an hour, so the second download reuses the first
answer when it is recent (issue 13: one Bot API call fewer per visit). Only the link is
kept, in memory, never the file; a link that fails is asked for again.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from telegram import Bot, File
from telegram.error import TelegramError

REUSE_FOR = 45 * 60.0  # seconds; Telegram: "valid for at least 1 hour"
KEPT = 256  # links remembered at most (a form's photo waits minutes, not hours)

# (the Bot API server's file address, file id): when the link was fetched, and the link.
_links: OrderedDict[tuple[str, str], tuple[float, File]] = OrderedDict()


def _recent(key: tuple[str, str]) -> File | None:
    entry = _links.get(key)
    if entry is None:
        return None
    fetched_at, telegram_file = entry
    if time.monotonic() - fetched_at > REUSE_FOR:
        del _links[key]
        return None
    return telegram_file


async def download(bot: Bot, file_id: str) -> bytes:
    """The file's bytes; getFile only when no recent link is known, or it failed."""
    key = (bot.base_file_url, file_id)
    known = _recent(key)
    if known is not None:
        try:
            return bytes(await known.download_as_bytearray())
        except TelegramError:
            _links.pop(key, None)  # expired early or moved: ask Telegram again
    telegram_file = await bot.get_file(file_id)
    _links[key] = (time.monotonic(), telegram_file)
    _links.move_to_end(key)
    while len(_links) > KEPT:
        _links.popitem(last=False)
    return bytes(await telegram_file.download_as_bytearray())
