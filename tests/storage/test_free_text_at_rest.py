"""Free text typed about a visit at rest: the purpose and the equipment brought are encrypted
(migration 24, storage/at_rest.py ``seal_visit_text``), and the assignment letter and the
equipment go when the visit is anonymized (retention or ``privacy erase``); the purpose stays
in the log with its NIKs masked."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.app.config import Config
from bot.app.services import Services
from bot.core.nik import mask_nik
from bot.core.period import Period
from bot.core.visits import EquipmentCheck, Visit, VisitStatus
from bot.flows import privacy
from bot.reports.export import load_access_log, render
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from storage import privacy as store
from storage.at_rest import TEXT_MARK
from storage.db import Storage
from storage.migrations import MIGRATIONS
from tests.conftest import AUDIT_KEY, ESCORT, OFFICER, FakeClock
from tests.e2e.test_e2e_equipment import exit_card, inside
from tests.e2e.test_retention import stop_sweep
from tests.flows import NIK_WOMAN, Visitor, register
from tests.storage.test_storage import CIPHER, DRAFT, NOW

# Someone else's name and NIK, typed by the officer into the visit's free text.
OTHER_NAME = "Bagus Santoso"
OTHER_NIK = "3508012303880003"
LETTER = f"090/7/ST/XI/2026 a.n. {OTHER_NAME}"
PURPOSE = f"Serah terima laptop {OTHER_NAME} {OTHER_NIK}"
EQUIPMENT = f"Laptop milik {OTHER_NAME} NIK {OTHER_NIK}"
TYPED = Visitor(assignment_letter=LETTER, purpose=PURPOSE, equipment=EQUIPMENT)


def found_in(folder: Path, *values: str) -> list[str]:
    """Which values any file under ``folder`` holds, as SQLite may store text (UTF-8 or
    UTF-16): the database, its -wal and -shm, the KTP files."""
    data = b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
    return [
        value
        for value in values
        if any(value.encode(codec) in data for codec in ("utf-8", "utf-16-le", "utf-16-be"))
    ]


def cells(path: Path, visit_id: int) -> tuple[str, str, str]:
    """The visit's assignment letter, purpose and equipment cells as stored."""
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = raw.execute(
            "SELECT assignment_letter, purpose, equipment FROM visits WHERE id = ?", (visit_id,)
        ).fetchone()
    finally:
        raw.close()
    return row[0], row[1], row[2]


async def the_visit(services: Services) -> Visit:
    (visit,) = [
        v for status in VisitStatus for v in await services.storage.visits.with_status(status)
    ]
    return visit


async def test_a_name_and_nik_typed_into_purpose_and_equipment_are_not_in_the_files(
    sim: BotApiSimulator, app: object, services: Services, config: Config
) -> None:
    await register(sim, TYPED)
    await sim.settle(quiet=0.3)
    visit = await the_visit(services)
    # What the rest of the code reads is what the officer typed.
    assert (visit.purpose, visit.equipment, visit.assignment_letter) == (
        PURPOSE,
        EQUIPMENT,
        LETTER,
    )
    assert config.database_path.with_name(config.database_path.name + "-wal").exists()
    assert found_in(config.data_dir, OTHER_NAME, OTHER_NIK, "Serah terima") == []


async def test_retention_clears_the_letter_the_equipment_and_a_typed_purpose(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    stop_sweep(app, "_expiry_sweep")
    link = await inside(sim, TYPED)
    card = await exit_card(sim, link)
    await sim.user(ESCORT).tap("Perangkat sesuai", card)
    await sim.user(ESCORT).wait_for("KELUAR tercatat")
    visited = await the_visit(services)
    clock.advance(days=366)
    done = await privacy.purge(services.storage, config, clock())
    assert done.visits_anonymized == 1
    gone = await services.storage.visits.get(visited.id)
    assert gone is not None and gone.name == store.ANONYMOUS
    assert (gone.assignment_letter, gone.equipment) == ("", "")
    # Typed, not chosen from the buttons: it may name someone, so it goes with the name.
    assert gone.purpose == form_texts.PURPOSE_TYPED
    assert (gone.status, gone.equipment_check) == (VisitStatus.DONE, EquipmentCheck.MATCHES)
    letter, _purpose, equipment = cells(config.database_path, visited.id)
    assert (letter, equipment) == ("", "")  # cleared, not only encrypted
    # The log of that day still renders the anonymized visit, in every format.
    day = visited.submitted_at.astimezone(config.timezone).date()
    log = await load_access_log(services.storage, config, Period(day, day), clock())
    (row,) = log.rows
    assert row.name == store.ANONYMOUS and row.equipment == ""
    for fmt in ("csv", "pdf", "xlsx"):
        assert render(log, fmt)
    # And /riwayat (the anonymized name is a name like any other to search by).
    officer = sim.user(OFFICER)
    await officer.send_text("/riwayat dianonimkan")
    history = await officer.wait_for("Riwayat kunjungan")
    assert form_texts.PURPOSE_TYPED in history.text_or_caption
    assert (
        OTHER_NIK not in history.text_or_caption and "Laptop milik" not in history.text_or_caption
    )


async def test_erasure_clears_the_letter_and_equipment(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    await register(sim, TYPED)
    visit = await the_visit(services)
    done = await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    assert (done.visits_anonymized, done.visits_cancelled) == (1, 1)
    gone = await services.storage.visits.get(visit.id)
    assert gone is not None and gone.status == VisitStatus.CANCELLED
    assert (gone.name, gone.assignment_letter, gone.equipment) == (store.ANONYMOUS, "", "")
    assert gone.purpose == form_texts.PURPOSE_TYPED
    letter, _purpose, equipment = cells(config.database_path, visit.id)
    assert (letter, equipment) == ("", "")


async def test_a_visitor_erased_inside_is_still_checked_out_with_the_equipment(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """The escort checks the listed equipment at KELUAR: erasure keeps the list while the
    visitor is inside, and the next purge after the exit clears it."""
    stop_sweep(app, "_expiry_sweep")
    link = await inside(sim, TYPED)
    await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    visit = await the_visit(services)
    assert (visit.name, visit.status) == (store.ANONYMOUS, VisitStatus.INSIDE)
    assert (visit.assignment_letter, visit.equipment) == ("", EQUIPMENT)
    card = await exit_card(sim, link)
    assert "Periksa perangkat yang dibawa keluar" in card.text_or_caption
    await sim.user(ESCORT).tap("Perangkat sesuai", card)
    await sim.user(ESCORT).wait_for("KELUAR tercatat")
    clock.advance(days=1)
    await privacy.purge(services.storage, config, clock())
    left = await the_visit(services)
    assert (left.status, left.equipment, left.equipment_check) == (
        VisitStatus.DONE,
        "",
        EquipmentCheck.MATCHES,
    )
    assert cells(config.database_path, visit.id)[2] == ""


def release_23_schema(path: Path) -> sqlite3.Connection:
    """An empty database at release 23's schema, as its first open left it (migration 14's
    step done, the key's check value kept), open in autocommit mode."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    for number in range(1, 24):
        raw.executescript(
            f"BEGIN;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number};\nCOMMIT;"
        )
    raw.execute("DROP TABLE data_key_backfill")
    raw.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?)", (CIPHER.key_check,))
    return raw


def _version_23_database(path: Path) -> None:
    """A database as release 23 left it: names encrypted (migration 14's step ran at its
    first open), the purpose and equipment as typed, in clear; one visit anonymized."""
    raw = release_23_schema(path)
    ts = NOW.isoformat()
    raw.execute(
        "INSERT INTO visitors (id, nik_hash, nik_enc, name, organisation, phone, created_at,"
        " updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        (
            CIPHER.nik_hash(DRAFT.nik),
            CIPHER.encrypt_text(DRAFT.nik),
            CIPHER.seal(DRAFT.name),
            CIPHER.seal(DRAFT.organisation),
            CIPHER.seal(DRAFT.phone),
            ts,
            ts,
        ),
    )
    for visit_id, anonymized in ((1, None), (2, ts)):
        raw.execute(
            "INSERT INTO visits (id, visitor_id, status, purpose, duration_minutes, equipment,"
            " ktp_file_id, officer_id, started_at, submitted_at, anonymized_at)"
            " VALUES (?, 1, 'done', ?, 30, ?, '', 1001, ?, ?, ?)",
            (visit_id, PURPOSE, EQUIPMENT, ts, ts, anonymized),
        )
    raw.close()
    assert found_in(path.parent, OTHER_NAME, OTHER_NIK) == [OTHER_NAME, OTHER_NIK]


async def test_a_database_from_before_has_its_purpose_and_equipment_encrypted_at_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v23.sqlite3"
    _version_23_database(path)
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        kept = await storage.visits.get(1)
        assert kept is not None and (kept.purpose, kept.equipment) == (PURPOSE, EQUIPMENT)
        # Anonymized before: its purpose gets what anonymizing does now (NIK masked).
        old = await storage.visits.get(2)
        assert old is not None and old.purpose == PURPOSE.replace(OTHER_NIK, mask_nik(OTHER_NIK))
        assert old.equipment == EQUIPMENT  # cleared by the next purge, not by the upgrade
        await storage.privacy.forget(NOW + timedelta(days=1), privacy.PURGE)
        cleared = await storage.visits.get(2)
        assert cleared is not None and cleared.equipment == ""
        assert (await storage.visits.get(1)).equipment == EQUIPMENT  # type: ignore[union-attr]
    finally:
        await storage.close()
    # Rewritten, the file rebuilt and the WAL emptied: no page keeps the plaintext.
    assert found_in(tmp_path, OTHER_NAME, OTHER_NIK) == []
    raw = sqlite3.connect(path)
    sealed = raw.execute("SELECT purpose, equipment FROM visits WHERE id = 1").fetchone()
    marks = raw.execute("SELECT COUNT(*) FROM meta WHERE name = ?", (TEXT_MARK,)).fetchone()
    raw.close()
    assert CIPHER.unseal(sealed[0]) == PURPOSE and marks == (0,)
    # Opened again: nothing is encrypted twice.
    again = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        assert (await again.visits.get(1)).purpose == PURPOSE  # type: ignore[union-attr]
    finally:
        await again.close()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT purpose, equipment FROM visits WHERE id = 1").fetchone() == sealed
    raw.close()


async def test_a_purpose_chosen_from_the_buttons_stays_in_the_anonymized_log(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    await register(sim)  # "Pemeliharaan server", tapped
    visit = await the_visit(services)
    await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    gone = await services.storage.visits.get(visit.id)
    assert gone is not None and gone.purpose == "Pemeliharaan server"
