"""Retention (UU 27/2022): KTP photos deleted after 30 days, records anonymized after 365."""

from __future__ import annotations

import asyncio
import os

from bot.app.config import Config
from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.flows import privacy
from simulator import BotApiSimulator
from storage import privacy as store
from storage.db import Storage
from tests.conftest import APPROVER, FakeClock
from tests.e2e.test_e2e_ktp import kept_ktp
from tests.flows import NIK_WOMAN, Visitor, approve, register


def stop_sweep(app: object, *also: str) -> None:
    """The tests call the purge themselves, at the FakeClock's time; `also`: other jobs
    (by name) that must not run on a clock the test moves by days."""
    for job in app.job_queue.jobs():  # type: ignore[attr-defined]
        if job.name in ("sweep_job", *also):
            job.schedule_removal()


async def purges(services: Services) -> list[str]:
    return [e.detail for e in await services.storage.audit.events() if e.action == privacy.PURGE]


async def test_ktp_then_record_are_purged_on_time(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    # The expiry sweep's first run (one second after start) could otherwise land after a
    # clock.advance below and expire the approved visit before the purge withdraws it.
    stop_sweep(app, "_expiry_sweep")
    await register(sim)
    await approve(sim)
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    ktp_file = await kept_ktp(services, visit.id)
    assert ktp_file.exists()
    storage = services.storage

    clock.advance(days=29)
    first = await privacy.purge_if_due(storage, config, clock())
    assert first is not None and first.ktp_deleted == 0 and ktp_file.exists()

    clock.advance(days=2)  # 31 days after the visit
    done = await privacy.purge_if_due(storage, config, clock())
    assert done is not None and (done.ktp_deleted, done.visits_anonymized) == (1, 0)
    assert not ktp_file.exists()
    assert await storage.privacy.ktp_path(visit.id) is None
    kept = await storage.visits.get(visit.id)
    assert kept is not None and kept.name == Visitor().name and kept.ktp_file_id == ""
    # Once a day: a second call the same day does nothing.
    assert await privacy.purge_if_due(storage, config, clock()) is None

    clock.advance(days=335)  # 366 days
    done = await privacy.purge_if_due(storage, config, clock())
    assert done is not None and (done.visits_anonymized, done.visitors_deleted) == (1, 1)
    gone = await storage.visits.get(visit.id)
    assert gone is not None
    assert (gone.name, gone.nik, gone.phone) == (store.ANONYMOUS, "", "")
    # Still approved (no sweep ran on this clock): withdrawn, so its badge admits nobody.
    assert (gone.status, gone.decided_by) == (VisitStatus.CANCELLED, APPROVER)
    assert gone.submitted_at == visit.submitted_at and gone.decided_at == visit.decided_at
    assert await storage.visits.find_visitor(NIK_WOMAN) is None

    # Every purge is audited with counts, by nobody in particular, with no personal data.
    details = await purges(services)
    assert details == [
        "ktp_deleted=0 visits_anonymized=0 visitors_deleted=0",
        "ktp_deleted=1 visits_anonymized=0 visitors_deleted=0",
        "visits_cancelled=1 ktp_deleted=0 visits_anonymized=1 visitors_deleted=1",
    ]


async def test_purge_runs_at_start_and_its_schedule_lives_in_the_database(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    for _ in range(100):  # the sweep's first run is two seconds after start
        if await purges(services):
            break
        await asyncio.sleep(0.05)
    assert await purges(services) == ["ktp_deleted=0 visits_anonymized=0 visitors_deleted=0"]
    # A restart (another connection to the same file) knows today's purge is done ...
    again = await Storage.open(config.database_path, services.storage.cipher, config.audit_key)
    try:
        assert await privacy.purge_if_due(again, config, clock()) is None
        clock.advance(days=1)
        # ... and catches up on a missed day.
        assert await privacy.purge_if_due(again, config, clock()) is not None
    finally:
        await again.close()


async def test_purge_removes_ktp_files_the_database_does_not_keep(
    app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    stop_sweep(app)
    folder = config.data_dir / "ktp"
    folder.mkdir(parents=True)
    stray = folder / "77.ktp"  # written, then the bot died before recording it
    stray.write_bytes(b"ciphertext")
    fresh = folder / "78.ktp"  # being recorded right now
    fresh.write_bytes(b"ciphertext")
    old = stray.stat().st_mtime - 2 * privacy.ORPHAN_GRACE_SECONDS
    os.utime(stray, (old, old))
    await privacy.purge(services.storage, config, clock())
    assert not stray.exists() and fresh.exists()
