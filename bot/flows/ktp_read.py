"""Reading the officer's KTP photo to prefill the form, without ever holding the form up.

The photo is fetched from Telegram into memory only (the encrypted copy is kept at submit,
bot/flows/ktp.py) and read on one worker thread that keeps the engine loaded (bot/ocr/).
The whole of it, download included, has READ_LIMIT seconds; after that, or on any failure,
the form asks for the fields as it always did. What was read is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from telegram import Bot
from telegram.error import TelegramError

from bot.core.ktp_text import KtpReading
from bot.flows import telegram_files

log = logging.getLogger(__name__)

READ_LIMIT = 3.0  # seconds, the bound: the officer waits no longer than this
# One thread: one loaded engine (about 100 MB), and photos read one after another.
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ktp-reader")


def _read(data: bytes, today: date) -> KtpReading:
    from bot.ocr.reader import read_ktp  # OpenCV and Tesseract load on first use

    return read_ktp(data, today)


def _load() -> None:
    try:
        from bot.ocr import reader

        reader.load()
    except Exception as exc:  # no model on this machine: the form asks for every field
        log.warning("KTP reader unavailable, the form will ask for every field: %s", exc)


def warm_up() -> None:
    """Load the engine on its thread now, so the first photo after a start is not slowed by
    it (about a second). Returns at once."""
    _worker.submit(_load)


async def read(bot: Bot, file_id: str, today: date) -> KtpReading | None:
    """What the photo says, or None if it could not be read in time."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(READ_LIMIT):
            data = await telegram_files.download(bot, file_id)
            return await loop.run_in_executor(_worker, _read, data, today)
    except TimeoutError:
        log.info("KTP photo not read within %.0f s; the form asks", READ_LIMIT)
    except TelegramError as exc:
        log.info("KTP photo not fetched for reading (%s); the form asks", type(exc).__name__)
    except Exception as exc:  # the reader must never break the form
        log.warning("KTP photo not read (%s); the form asks", type(exc).__name__)
    return None
