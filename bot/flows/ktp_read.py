"""Reading the officer's KTP photo to prefill the form, without ever holding the form up.

The photo is fetched from Telegram into memory only (the encrypted copy is kept at submit,
bot/flows/ktp.py) and read in the KTP reader's own process (bot/ocr/process.py), so the
engine's ~100 MB are not the bot's and a crash in it is not the bot's either. The process
starts with the bot and again when an officer opens a form whose first question is the
photo (warm_up), so after IDLE_STOP seconds unused it is loading while the officer takes
the photo; failing that, on the photo, while it downloads. The whole of it, download included, has
READ_LIMIT seconds; a read still running then gets the process killed (a fresh one loads
for the next photo), and then, or on any failure, the form asks for the fields as it
always did. What was read is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from telegram import Bot
from telegram.error import TelegramError

from bot.core.ktp_text import KtpReading
from bot.flows import telegram_files
from bot.ocr.process import NotRead, ReaderCrashed, ReaderProcess, ReaderUnavailable

log = logging.getLogger(__name__)

READ_LIMIT = 3.0  # seconds, the bound: the officer waits no longer than this
IDLE_STOP = 600.0  # seconds without a photo, then the reader process stops
# One process: one loaded engine, and photos read one after another.
reader = ReaderProcess(IDLE_STOP)
_starting: set[asyncio.Task[None]] = set()


async def read(bot: Bot, file_id: str, today: date) -> KtpReading | None:
    """What the photo says, or None if it could not be read in time."""
    try:
        async with asyncio.timeout(READ_LIMIT):
            await reader.start()  # loads while the photo downloads
            data = await telegram_files.download(bot, file_id)
            return await reader.read(data, today)
    except TimeoutError:
        log.info("KTP photo not read within %.0f s; the form asks", READ_LIMIT)
    except TelegramError as exc:
        log.info("KTP photo not fetched for reading (%s); the form asks", type(exc).__name__)
    except ReaderUnavailable:
        pass  # said once, when the reader failed to load
    except ReaderCrashed:
        log.warning("KTP reader process failed on a photo; the form asks")
    except NotRead as exc:
        log.info("KTP photo not read (%s); the form asks", exc)
    except Exception as exc:  # the reader must never break the form
        log.warning("KTP photo not read (%s); the form asks", type(exc).__name__)
    return None


def warm_up() -> None:
    """Start the reader process now (or keep the running one for another IDLE_STOP), so
    the next photo finds its engine loaded (a cold start takes 1-3 s of the READ_LIMIT).
    Returns at once."""
    task = asyncio.get_running_loop().create_task(reader.start(), name="ktp-reader-warm-up")
    _starting.add(task)
    task.add_done_callback(_warmed)


def _warmed(task: asyncio.Task[None]) -> None:
    _starting.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("KTP reader process not started: %s", type(task.exception()).__name__)


async def stop() -> None:
    """Stop the reader process (the bot is stopping)."""
    if _starting:
        await asyncio.gather(*_starting, return_exceptions=True)
    await reader.stop()
