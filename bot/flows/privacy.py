"""Citizens' data over time (UU 27/2022): retention purge, KTP retries, export and erasure.

The sweep runs every hour (and at start): it retries KTP downloads that failed, and
runs the purge when the last purge recorded in the audit log is a day old or more, so a
restart or a day with the bot down loses nothing; the schedule lives in the database.
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.app.config import Config
from bot.app.context import BotContext
from bot.app.services import Services
from bot.core import visits as lifecycle
from bot.core.nik import mask_nik
from bot.core.visits import SYSTEM_ACTOR, Visit, VisitStatus
from bot.flows import ktp
from bot.flows.workflow import badge_voids, waiting_voids
from bot.texts import form as form_texts
from storage.db import Storage
from storage.outbox import OutboxItem
from storage.privacy import Forgotten, Purposes

SWEEP_INTERVAL = timedelta(hours=1)
PURGE_EVERY = timedelta(days=1)
PURGE = "privacy_purge"
EXPORT = "privacy_export"
ERASE = "privacy_erase"
# An anonymized visit keeps a purpose chosen from the form's buttons; a typed one may name
# someone ("Serah terima laptop <name>") and goes with the name.
PURPOSES = Purposes(frozenset(form_texts.PURPOSES), form_texts.PURPOSE_TYPED)
ORPHAN_GRACE_SECONDS = 3600


async def sweep_job(context: BotContext) -> None:
    """The JobQueue's hourly call."""
    await retry_ktp(context.services, context.bot)
    await purge_if_due(context.services.storage, context.services.config, context.services.now())


async def retry_ktp(services: Services, bot: Any) -> int:
    """Download KTP photos that failed at submit, while their retention lasts."""
    cutoff = services.now() - timedelta(days=services.config.privacy.ktp_retention_days)
    done = 0
    for record in await services.storage.privacy.ktp_records(stored=False):
        if record.submitted_at >= cutoff:
            done += await ktp.keep(services, bot, record.visit_id, record.file_id)
    return done


async def purge_if_due(storage: Storage, config: Config, now: datetime) -> Forgotten | None:
    last = await storage.audit.last_at(PURGE)
    if last is not None and now - last < PURGE_EVERY:
        return None
    return await purge(storage, config, now)


async def purge(storage: Storage, config: Config, now: datetime) -> Forgotten:
    """Delete KTP photos past ktp_retention_days; anonymize visits past record_retention_days."""
    ktp_before = now - timedelta(days=config.privacy.ktp_retention_days)
    record_before = now - timedelta(days=config.privacy.record_retention_days)
    kept = await storage.privacy.ktp_records()
    visits = await storage.privacy.visits_submitted_before(record_before)
    due = {r.visit_id for r in kept if r.submitted_at < ktp_before} | set(visits)
    for record in kept:
        if record.visit_id in due:
            ktp.delete(config.data_dir, record.path)
    still_kept = {r.path for r in kept if r.path and r.visit_id not in due}
    for path in ktp.orphans(config.data_dir, still_kept, time.time() - ORPHAN_GRACE_SECONDS):
        path.unlink(missing_ok=True)
    live = await live_visits(storage, visits)
    detail = f"visits_cancelled={len(live)}" if live else ""
    done = await storage.privacy.forget(
        now, PURGE, ktp_of=sorted(due), visits=visits, detail=detail, purposes=PURPOSES
    )
    ended = await end_live_visits(storage, visits, now, PURGE)
    return replace(done, visits_cancelled=ended)


# A withdrawal that loses to a decision landing at the same moment reads the visit again.
_WITHDRAW_ATTEMPTS = 5


async def live_visits(storage: Storage, visit_ids: list[int]) -> list[int]:
    """Which of ``visit_ids`` a withdrawal would end (pending, scheduled or approved)."""
    wanted = set(visit_ids)
    live = await storage.visits.with_status(
        VisitStatus.PENDING, VisitStatus.SCHEDULED, VisitStatus.APPROVED
    )
    return [
        v.id
        for v in live
        if v.id in wanted and lifecycle.allows(lifecycle.Action.CANCEL, v.status)
    ]


async def end_live_visits(storage: Storage, visit_ids: list[int], now: datetime, why: str) -> int:
    """A request of a person being forgotten is withdrawn: pending, nobody decides it;
    approved, its badge dies (the door refuses its QR and manual code). The approvers' cards
    and the officer's badge say so, rendered when sent, so they show the anonymized visit.

    A visitor inside the server room stays inside: the escort must still record the exit, and
    the badge only ever checks out from there.

    Called after the visits were anonymized (``forget``): the cards and badge captions are
    drawn when sent, so a send between the two writes can only show the anonymized visit,
    never the name being erased."""
    ended = 0
    for visit_id in await live_visits(storage, visit_ids):
        # A decision or an escalation landing between the read and the write (the approver
        # tapped at that moment) makes the write lose: read the visit again and withdraw it
        # from where it is now, or an erased person's request would stay approved.
        for _attempt in range(_WITHDRAW_ATTEMPTS):
            visit = await storage.visits.get(visit_id)
            if visit is None or not lifecycle.allows(lifecycle.Action.CANCEL, visit.status):
                break
            if await storage.visits.apply(
                lifecycle.cancel(visit, SYSTEM_ACTOR, now, ""),
                await _withdrawal_messages(storage, visit),
                detail=why,
            ):
                ended += 1
                break
    return ended


async def _withdrawal_messages(storage: Storage, visit: Visit) -> list[OutboxItem]:
    """The approvers' cards and, for an approved request, the officer's badge and the
    escorts' "a visitor waits", edited to say it was withdrawn."""
    # Every chat a card was queued for, not only those recorded as delivered: a card the
    # outbox is sending now was drawn before the anonymization (name, buttons) and is
    # recorded only once Telegram answers; its edit waits behind it in its chat.
    chats = {card.chat_id for card in await storage.visits.cards(visit.id)}
    chats |= (await storage.outbox.card_states(visit.id)).keys()
    messages = [
        OutboxItem(f"card_cancelled:{{visit}}:{chat}", "card_update", chat)
        for chat in sorted(chats)
    ]
    if visit.status == VisitStatus.APPROVED:
        messages += badge_voids(visit) + await waiting_voids(storage, visit)
    return messages


async def export(storage: Storage, config: Config, nik: str, now: datetime) -> dict[str, Any]:
    """Everything stored about the holder of ``nik``; the KTP photo inline as base64.

    A visit whose photo the database records but whose file is gone from the data folder
    (deleted by hand, a restore without it) is exported without the photo, marked
    ``ktp_image_missing``; the rest of the export is whole."""
    visitor_ids = await storage.privacy.visitor_ids_for_nik(nik)
    found = await storage.privacy.person(visitor_ids) if visitor_ids else None
    visits = found.visits if found else []
    for visit in visits:
        path = visit.get("ktp_path")
        try:
            image = ktp.read(storage.cipher, config.data_dir, path) if path else None
        except FileNotFoundError:
            image = None
        visit["ktp_image_base64"] = base64.b64encode(image).decode() if image else None
        visit["ktp_image_type"] = "image/jpeg" if image else None
        visit["ktp_image_missing"] = bool(path) and image is None
    await storage.audit.record(
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


async def erase(storage: Storage, config: Config, nik: str, now: datetime) -> Forgotten:
    """Withdraw the person's open requests, delete their KTP photos, anonymize their visits and
    clear their undelivered messages; the log's times stay."""
    visits = await storage.privacy.visit_ids_of(await storage.privacy.visitor_ids_for_nik(nik))
    live = await live_visits(storage, visits)
    for visit_id in visits:
        ktp.delete(config.data_dir, await storage.privacy.ktp_path(visit_id))
    detail = f"nik={mask_nik(nik)}" + (f" visits_cancelled={len(live)}" if live else "")
    done = await storage.privacy.forget(
        now, ERASE, visits=visits, detail=detail, purposes=PURPOSES
    )
    ended = await end_live_visits(storage, visits, now, ERASE)
    return replace(done, visits_cancelled=ended)
