"""The daily automatic backup: a verified, encrypted file in ``backup.folder``, the oldest
beyond ``backup.keep`` deleted, and an audit event either way (``backup_done`` is what
``python -m bot status`` reports as the last backup)."""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import metadata
from pathlib import Path

from bot.app.context import BotContext
from bot.app.services import Services
from storage import backup
from storage.keys import WrongKey
from storage.migrations import SchemaTooNew

log = logging.getLogger(__name__)

DONE, FAILED = "backup_done", "backup_failed"


def app_version() -> str:
    """The installed version, recorded in each backup's manifest."""
    try:
        return metadata.version("akses-ruang-server")
    except metadata.PackageNotFoundError:
        return "unknown"


async def make(services: Services) -> Path | None:
    """One backup now; its path, or None when it failed (logged and audited)."""
    config = services.config
    folder = config.backup.folder
    assert folder is not None
    now = services.now()
    out = folder / f"akses-{now.astimezone(config.timezone):%Y%m%d-%H%M%S}{backup.SUFFIX}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        manifest = await backup.create(
            config.database_path,
            config.data_dir,
            services.storage.cipher,
            out,
            app_version(),
            now,
            audit_key=config.audit_key,
        )
    except (backup.BackupError, OSError, SchemaTooNew, WrongKey) as exc:
        log.error("daily backup to %s failed: %s", folder, exc)
        await services.storage.audit.record(now, None, FAILED, detail=str(exc)[:300])
        return None
    removed = backup.prune(folder, config.backup.keep)
    facts = manifest.facts
    detail = (
        f"file={out.name} bytes={out.stat().st_size} visits={facts.visits}"
        f" audit_head={facts.audit_head} removed={len(removed)}"
    )
    await services.storage.audit.record(now, None, DONE, detail=detail)
    log.info("daily backup written: %s (%d older removed)", out, len(removed))
    return out


async def catch_up(context: BotContext) -> None:
    """At start: when the last good backup is more than a day old (the bot was down at
    backup time, or it never ran), one is made now."""
    services = context.services
    last = await services.storage.audit.last_at(DONE)
    if last is None or services.now() - last > timedelta(days=1):
        await make(services)


async def daily_job(context: BotContext) -> None:
    """The JobQueue's callback (bot/app/build.py schedules it at backup.time)."""
    await make(context.services)
