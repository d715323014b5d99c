"""Citizens' data over time (UU 27/2022): retention purge, KTP retries, export and erasure.

The sweep runs every hour (and at start): it retries KTP downloads that failed, and
runs the purge when the last purge recorded in the audit log is a day old or more, so a
restart or a day with the bot down loses nothing; the schedule lives in the database.
"""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta
from typing import Any

from bot.app.config import Config
from bot.app.context import BotContext
from bot.app.services import Services
from bot.core.nik import mask_nik
from bot.flows import ktp
from storage import privacy as store
from storage.db import Storage

SWEEP_INTERVAL = timedelta(hours=1)
PURGE_EVERY = timedelta(days=1)
PURGE = "privacy_purge"
EXPORT = "privacy_export"
ERASE = "privacy_erase"
ORPHAN_GRACE_SECONDS = 3600


async def sweep_job(context: BotContext) -> None:
    """The JobQueue's hourly call."""
    await retry_ktp(context.services, context.bot)
    await purge_if_due(context.services.storage, context.services.config, context.services.now())


async def retry_ktp(services: Services, bot: Any) -> int:
    """Download KTP photos that failed at submit, while their retention lasts."""
    cutoff = services.now() - timedelta(days=services.config.privacy.ktp_retention_days)
    done = 0
    for record in await store.ktp_records(services.storage, stored=False):
        if record.submitted_at >= cutoff:
            done += await ktp.keep(services, bot, record.visit_id, record.file_id)
    return done


async def purge_if_due(storage: Storage, config: Config, now: datetime) -> store.Forgotten | None:
    last = await store.last_event_at(storage, PURGE)
    if last is not None and now - last < PURGE_EVERY:
        return None
    return await purge(storage, config, now)


async def purge(storage: Storage, config: Config, now: datetime) -> store.Forgotten:
    """Delete KTP photos past ktp_retention_days; anonymize visits past record_retention_days."""
    ktp_before = now - timedelta(days=config.privacy.ktp_retention_days)
    record_before = now - timedelta(days=config.privacy.record_retention_days)
    kept = await store.ktp_records(storage)
    visits = await store.visits_submitted_before(storage, record_before)
    due = {r.visit_id for r in kept if r.submitted_at < ktp_before} | set(visits)
    for record in kept:
        if record.visit_id in due:
            ktp.delete(config.data_dir, record.path)
    still_kept = {r.path for r in kept if r.path and r.visit_id not in due}
    for path in ktp.orphans(config.data_dir, still_kept, time.time() - ORPHAN_GRACE_SECONDS):
        path.unlink(missing_ok=True)
    return await store.forget(storage, now, PURGE, ktp_of=sorted(due), visits=visits)


async def export(storage: Storage, config: Config, nik: str, now: datetime) -> dict[str, Any]:
    """Everything stored about the holder of ``nik``; the KTP photo inline as base64."""
    visitor_ids = await store.visitor_ids_for_nik(storage, nik)
    found = await store.person(storage, visitor_ids) if visitor_ids else None
    visits = found.visits if found else []
    for visit in visits:
        path = visit.get("ktp_path")
        image = ktp.read(storage.cipher, config.data_dir, path) if path else None
        visit["ktp_image_base64"] = base64.b64encode(image).decode() if image else None
        visit["ktp_image_type"] = "image/jpeg" if image else None
    await storage.record_event(
        now, None, EXPORT, detail=f"nik={mask_nik(nik)} visits={len(visits)}"
    )
    return {
        "exported_at": now.isoformat(),
        "office": config.office_name,
        "visitor": found.visitors[-1] if found else None,
        "earlier_visitor_records": found.visitors[:-1] if found else [],
        "visits": visits,
        "audit_events": found.events if found else [],
    }


async def erase(storage: Storage, config: Config, nik: str, now: datetime) -> store.Forgotten:
    """Delete the person's KTP photos and anonymize their visits; the log's times stay."""
    visits = await store.visit_ids_of(storage, await store.visitor_ids_for_nik(storage, nik))
    for visit_id in visits:
        ktp.delete(config.data_dir, await store.ktp_path(storage, visit_id))
    return await store.forget(storage, now, ERASE, visits=visits, detail=f"nik={mask_nik(nik)}")
