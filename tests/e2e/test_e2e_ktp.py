"""Citizens' data at rest through the real bot: the KTP photo encrypted, no NIK in clear."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.app.config import Config
from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.flows import privacy
from simulator import BotApiSimulator
from simulator.faults import Faults
from tests.conftest import APPROVER, OFFICER
from tests.flows import NIK_MAN, NIK_WOMAN, Visitor, ktp_image, register

# The conversation's draft (bot/app/persistence.py) is kept apart; see docs/privacy.md.
DRAFT_TABLES = {"user_state", "conversation_state"}


def stored_text(config: Config) -> str:
    """Every value of every table the access log owns, as one text to search."""
    raw = sqlite3.connect(config.database_path)
    try:
        tables = [
            row[0]
            for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] not in DRAFT_TABLES
        ]
        return "\n".join(
            repr(row) for table in tables for row in raw.execute(f"SELECT * FROM {table}")
        )
    finally:
        raw.close()


async def kept_ktp(services: Services, visit_id: int) -> Path:
    """The encrypted copy, written and recorded in the background just after the submit."""
    for _ in range(200):
        if await services.storage.privacy.ktp_path(visit_id):
            break
        await asyncio.sleep(0.025)
    return services.config.data_dir / "ktp" / f"{visit_id}.ktp"


async def only_visit(services: Services):  # type: ignore[no-untyped-def]
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    return visit


async def test_ktp_is_stored_encrypted_and_private_and_no_nik_in_clear(
    sim: BotApiSimulator, app: object, services: Services, config: Config
) -> None:
    await register(sim)
    visit = await only_visit(services)

    path = await kept_ktp(services, visit.id)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = path.read_bytes()
    assert not stored.startswith(b"\xff\xd8")  # not a JPEG: ciphertext
    assert services.storage.cipher.decrypt(stored) == ktp_image()  # the officer's exact bytes
    assert await services.storage.privacy.ktp_path(visit.id) == f"ktp/{visit.id}.ktp"

    # The section head's card still shows the photo, sent by Telegram's file id.
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    assert card.photo_bytes == ktp_image()

    # The rest of the code sees the NIK; no table of the access log holds it in clear
    # (the raw file bytes are checked in tests/storage/test_storage_privacy.py).
    assert visit.nik == NIK_WOMAN
    text = stored_text(config)
    for personal in (NIK_WOMAN, Visitor().name, Visitor().organisation, "081234567890"):
        assert personal not in text
    assert "pending" in text  # the search does see plain text where there is some (a status)


async def test_failed_download_keeps_the_visit_and_is_retried(
    sim: BotApiSimulator, app: object, services: Services, config: Config
) -> None:
    for job in app.job_queue.jobs():  # type: ignore[attr-defined]
        if job.name == "sweep_job":
            job.schedule_removal()  # the retry is called below, not left to the timer
    # Every download fails, however often the request layer retries it.
    sim.faults = Faults(rate=1.0, kinds={"500"}, methods={"getFile"})
    await register(sim)
    visit = await only_visit(services)
    # The request went out all the same.
    await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    for _ in range(200):  # the background download gives up after the request's retries
        if await _failed(services, visit.id):
            break
        await asyncio.sleep(0.025)
    assert not (config.data_dir / "ktp" / f"{visit.id}.ktp").exists()
    (waiting,) = await services.storage.privacy.ktp_records(stored=False)
    assert waiting.visit_id == visit.id

    sim.faults = Faults()
    assert await privacy.retry_ktp(services, app.bot) == 1  # type: ignore[attr-defined]
    path = config.data_dir / "ktp" / f"{visit.id}.ktp"
    assert services.storage.cipher.decrypt(path.read_bytes()) == ktp_image()
    assert await services.storage.privacy.ktp_records(stored=False) == []


async def test_returning_visitor_found_by_nik_hash(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim, Visitor(organisation="PT Lama"))
    known = await services.storage.visits.find_visitor(NIK_WOMAN)
    assert known is not None and known.nik == NIK_WOMAN and known.organisation == "PT Lama"
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    await officer.wait_for("NIK")
    await officer.send_text(NIK_WOMAN)
    offer = await officer.wait_for("pernah terdaftar")
    assert "PT Lama" in offer.text_or_caption


async def _failed(services: Services, visit_id: int) -> bool:
    async with services.storage.connection.execute(
        "SELECT ktp_failed_at FROM visits WHERE id = ?", (visit_id,)
    ) as cur:
        row = await cur.fetchone()
    return row is not None and row[0] is not None


async def test_the_photo_is_fetched_once_and_again_only_when_its_link_is_old(
    sim: BotApiSimulator, app: object, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: the reader's getFile answer serves the copy kept at submit while Telegram's
    link is valid (at least an hour); an older one is asked for again. Either way the kept
    copy is the officer's exact photo."""
    from bot.flows import telegram_files

    await sim.settle()
    before = sim.call_counts["getFile"]
    await register(sim)
    visit = await only_visit(services)
    path = await kept_ktp(services, visit.id)
    assert services.storage.cipher.decrypt(path.read_bytes()) == ktp_image()
    assert sim.call_counts["getFile"] - before == 1

    monkeypatch.setattr(telegram_files, "REUSE_FOR", 0.0)
    before = sim.call_counts["getFile"]
    await register(sim, Visitor(nik=NIK_MAN, name="Budi Santoso"))
    await sim.settle()
    (second,) = [
        v
        for v in await services.storage.visits.with_status(VisitStatus.PENDING)
        if v.id != visit.id
    ]
    path = await kept_ktp(services, second.id)
    assert services.storage.cipher.decrypt(path.read_bytes()) == ktp_image()
    assert sim.call_counts["getFile"] - before == 2
