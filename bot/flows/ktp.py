"""KTP photos at rest: downloaded from Telegram at submit, Fernet-encrypted, files 0600.

``<data_dir>/ktp/<visit_id>.ktp`` (folder 0700); the database records the path relative
to the data folder. Approval cards keep sending the photo by Telegram's file id, so
nothing is uploaded again. A failed download leaves the visit as it is and is retried
by the hourly privacy sweep (bot/flows/privacy.py) while the retention period lasts.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Bot
from telegram.error import TelegramError

from bot.app.services import Services
from bot.flows import telegram_files
from storage.crypto import Cipher
from storage.keys import write_private

log = logging.getLogger(__name__)

FOLDER = "ktp"


def relative_path(visit_id: int) -> str:
    return f"{FOLDER}/{visit_id}.ktp"


async def keep(services: Services, bot: Bot, visit_id: int, file_id: str) -> bool:
    """Download the officer's KTP photo and store it encrypted; False if it must wait."""
    try:
        data = await telegram_files.download(bot, file_id)  # the reader's link, if recent
    except TelegramError as exc:
        # The visit is stored already; only the copy waits for the next sweep.
        log.warning("KTP of visit %s not downloaded, will retry: %s", visit_id, exc)
        await services.storage.privacy.ktp_failed(visit_id, services.now())
        return False
    relative = relative_path(visit_id)
    path = services.config.data_dir / relative
    token = services.storage.cipher.encrypt(data)
    try:
        await asyncio.to_thread(write_private, path, token)
    except OSError as exc:
        log.error("KTP of visit %s not written, will retry: %s", visit_id, exc)
        await services.storage.privacy.ktp_failed(visit_id, services.now())
        return False
    if not await services.storage.privacy.ktp_stored(visit_id, relative, services.now()):
        path.unlink(missing_ok=True)  # erased or purged while downloading
        return False
    return True


def read(cipher: Cipher, data_dir: Path, relative: str) -> bytes:
    """The photo as the officer sent it (raises InvalidToken if the file was altered)."""
    return cipher.decrypt((data_dir / relative).read_bytes())


def delete(data_dir: Path, relative: str | None) -> None:
    if relative:
        (data_dir / relative).unlink(missing_ok=True)


def orphans(data_dir: Path, kept: set[str], older_than: float) -> list[Path]:
    """Files in the KTP folder the database does not keep (a crash between write and record).

    Only files older than ``older_than`` (a timestamp) count, so a download being
    recorded right now is left alone.
    """
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return []
    return [
        path
        for path in folder.iterdir()
        if path.is_file()
        and f"{FOLDER}/{path.name}" not in kept
        and path.stat().st_mtime < older_than
    ]
