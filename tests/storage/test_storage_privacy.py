"""Citizens' data in storage: NIK hashed and encrypted, migration 3, anonymization, the chain."""

from __future__ import annotations

import sqlite3
import tracemalloc
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import visits as lifecycle
from bot.core.visits import EquipmentCheck, VisitStatus
from storage import audit
from storage import privacy as store
from storage.crypto import Cipher, InvalidToken
from storage.db import Storage
from storage.keys import WrongKey
from storage.migrations import MIGRATIONS
from tests.conftest import AUDIT_KEY, KEY
from tests.storage.test_storage import CIPHER, DRAFT, NOW, approve, deny

OTHER_KEY = b"b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI="


def file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "t.sqlite3"


@pytest.fixture
async def store_(path: Path):  # type: ignore[no-untyped-def]
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    yield storage
    await storage.close()


async def test_nik_is_hashed_and_encrypted_never_in_the_file(store_: Storage, path: Path) -> None:
    visit = await store_.visits.submit(DRAFT, 1001, NOW)
    assert visit.nik == DRAFT.nik  # decrypted for the rest of the code
    found = await store_.visits.find_visitor(DRAFT.nik)
    assert found is not None and found.nik == DRAFT.nik
    raw = sqlite3.connect(path)
    nik_hash, nik_enc = raw.execute("SELECT nik_hash, nik_enc FROM visitors").fetchone()
    raw.close()
    assert nik_hash == Cipher(KEY).nik_hash(DRAFT.nik) and len(nik_hash) == 64
    assert CIPHER.decrypt_text(nik_enc) == DRAFT.nik
    data = file_bytes(path)
    assert b"pending" in data  # the file is readable (the status): the person is not in it
    for personal in (DRAFT.nik, DRAFT.name, DRAFT.organisation, DRAFT.phone):
        assert personal.encode() not in data


async def test_the_wrong_key_is_refused_at_open(path: Path) -> None:
    """The key check value refuses a wrong key before anything is read (it used to open
    and then fail on every read)."""
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    await storage.visits.submit(DRAFT, 1001, NOW)
    await storage.close()
    before = file_bytes(path)
    with pytest.raises(WrongKey, match="does not match the database"):
        await Storage.open(path, Cipher(OTHER_KEY), AUDIT_KEY)
    assert file_bytes(path) == before
    with pytest.raises(InvalidToken):  # and the key really cannot read the data
        raw = sqlite3.connect(path)
        (token,) = raw.execute("SELECT nik_enc FROM visitors").fetchone()
        raw.close()
        Cipher(OTHER_KEY).decrypt_text(token)


def make_version_2(path: Path) -> None:
    """A database as the bot left it before migration 3: the NIK in clear."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    for number in (1, 2):
        step = MIGRATIONS[number]
        raw.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {number};\nCOMMIT;")
    ts = NOW.isoformat()
    raw.execute(
        "INSERT INTO visitors (nik, name, organisation, phone, created_at, updated_at)"
        " VALUES (?, 'Ayu Lestari', 'PT Lama', '0812', ?, ?)",
        (DRAFT.nik, ts, ts),
    )
    raw.execute(
        "INSERT INTO visits (visitor_id, status, purpose, duration_minutes, ktp_file_id,"
        " officer_id, started_at, submitted_at) VALUES (1, 'done', 'Servis', 30, 'f', 1001, ?, ?)",
        (ts, ts),
    )
    raw.close()
    assert DRAFT.nik.encode() in file_bytes(path)


async def test_migration_3_encrypts_existing_niks_once(path: Path) -> None:
    make_version_2(path)
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        visit = await storage.visits.get(1)
        assert visit is not None and visit.nik == DRAFT.nik and visit.name == "Ayu Lestari"
        assert (await storage.visits.find_visitor(DRAFT.nik)) is not None
    finally:
        await storage.close()
    raw = sqlite3.connect(path)
    before = raw.execute("SELECT nik_hash, nik_enc FROM visitors").fetchone()
    raw.close()
    assert DRAFT.nik.encode() not in file_bytes(path)  # overwritten, not left in free space
    again = await Storage.open(path, CIPHER, AUDIT_KEY)  # idempotent: nothing left to convert
    await again.close()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT nik_hash, nik_enc FROM visitors").fetchone() == before
    raw.close()


async def test_anonymizing_an_old_visit_keeps_a_returning_visitors_new_one(
    store_: Storage, path: Path
) -> None:
    old = await store_.visits.submit(DRAFT, 1001, NOW)
    assert await approve(store_, old, 2001)
    later = NOW + timedelta(days=200)
    new = await store_.visits.submit(replace(DRAFT, phone="0899"), 1001, later)

    done = await store_.privacy.forget(later, "privacy_purge", visits=[old.id])
    assert (done.visits_anonymized, done.visitors_deleted) == (1, 0)
    gone = await store_.visits.get(old.id)
    assert gone is not None
    assert (gone.name, gone.nik, gone.phone) == (store.ANONYMOUS, "", "")
    # The log keeps what the access log needs: times, status, staff, organisation.
    assert (gone.status, gone.submitted_at, gone.decided_by) == (VisitStatus.APPROVED, NOW, 2001)
    assert gone.organisation == DRAFT.organisation and gone.ktp_file_id == ""
    kept = await store_.visits.get(new.id)
    assert kept is not None and kept.nik == DRAFT.nik and kept.phone == "0899"

    done = await store_.privacy.forget(later, "privacy_purge", visits=[new.id])
    assert (done.visits_anonymized, done.visitors_deleted) == (1, 1)
    assert await store_.visits.find_visitor(DRAFT.nik) is None
    data = file_bytes(path)
    assert DRAFT.name.encode() not in data and b"0899" not in data
    (event,) = [e for e in await store_.audit.events() if e.action == "privacy_purge"][-1:]
    assert event.detail == "ktp_deleted=1 visits_anonymized=1 visitors_deleted=1"


async def test_verify_walks_the_chain(store_: Storage, path: Path) -> None:
    visit = await store_.visits.submit(DRAFT, 1001, NOW)
    await store_.audit.record(NOW, 9001, "stranger_refused")
    await deny(store_, visit, 2001, "tidak terjadwal")
    report = await audit.verify(path, AUDIT_KEY)
    assert report.ok and report.count == 3
    assert report.head == (await store_.audit.events())[-1].hash


def lengthen(path: Path, events: int) -> str:
    """Append ``events`` keyed events straight to the chain (as a busy year leaves it);
    the new head."""
    raw = sqlite3.connect(path)
    last_id, prev = raw.execute("SELECT id, hash FROM audit_events ORDER BY id DESC").fetchone()
    rows = []
    for event_id in range(last_id + 1, last_id + events + 1):
        fields = (NOW.isoformat(), 2001, "visit_approved", event_id, "pending", "approved")
        fields += (f"detail of event {event_id} " + "x" * 80,)
        prev_hash, prev = prev, audit.keyed_hash(AUDIT_KEY, prev, fields)
        rows.append((event_id, *fields, prev_hash, prev))
    raw.executemany(f"INSERT INTO audit_events VALUES ({', '.join('?' * 10)})", rows)
    raw.commit()
    raw.close()
    return str(prev)


async def test_verify_reads_a_long_chain_a_row_at_a_time(store_: Storage, path: Path) -> None:
    """The walk holds one row, not the log: 30,000 events (27 MB as rows in a list)
    verify with well under 4 MB of Python allocations (tracemalloc's peak)."""
    await store_.audit.record(NOW, 9001, "stranger_refused")
    head = lengthen(path, 30_000)
    tracemalloc.start()
    try:
        report = await audit.verify(path, AUDIT_KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and report.count == 30_001 and report.head == head
    assert peak < 4 << 20, peak


def tamper(path: Path, *statements: str) -> None:
    """What an attacker with the file can do: drop the append-only triggers, then edit."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("DROP TRIGGER audit_no_delete")
    for sql in statements:
        raw.execute(sql)
    raw.close()


async def test_verify_finds_an_edited_row(store_: Storage, path: Path) -> None:
    visit = await store_.visits.submit(DRAFT, 1001, NOW)
    await deny(store_, visit, 2001, "tidak terjadwal")
    await store_.audit.record(NOW, 9001, "stranger_refused")
    tamper(path, "UPDATE audit_events SET actor_id = 2002 WHERE id = 2")
    report = await audit.verify(path, AUDIT_KEY)
    assert (report.ok, report.broken_at, report.count) == (False, 2, 1)
    assert "edited" in report.problem and "actor_id=2002" in report.problem


async def test_verify_finds_a_rehashed_row_and_a_deleted_row(store_: Storage, path: Path) -> None:
    visit = await store_.visits.submit(DRAFT, 1001, NOW)
    await deny(store_, visit, 2001, "tidak terjadwal")
    await store_.audit.record(NOW, 9001, "stranger_refused")
    tamper(path, "UPDATE audit_events SET hash = 'f' || substr(hash, 2) WHERE id = 1")
    report = await audit.verify(path, AUDIT_KEY)
    assert report.broken_at == 1 and "edited" in report.problem

    other = path.with_name("other.sqlite3")
    second = await Storage.open(other, CIPHER, AUDIT_KEY)
    visit = await second.visits.submit(DRAFT, 1001, NOW)
    await deny(second, visit, 2001, "tidak terjadwal")
    await second.audit.record(NOW, 9001, "stranger_refused")
    await second.close()
    tamper(other, "DELETE FROM audit_events WHERE id = 2")
    report = await audit.verify(other, AUDIT_KEY)
    assert report.broken_at == 3 and "removed" in report.problem


async def test_the_assignment_letter_is_exported_and_goes_with_the_name(
    store_: Storage,
) -> None:
    """A letter number is in a person's export; when the visit is anonymized it goes with
    the name, since it is typed as written on the letter, often with the bearer's name
    ("090/7/ST a.n. Ayu Lestari")."""
    visit = await store_.visits.submit(replace(DRAFT, assignment_letter="090/7/ST"), 1001, NOW)
    person = await store_.privacy.person([visit.visitor_id])
    assert [v["assignment_letter"] for v in person.visits] == ["090/7/ST"]
    assert person.visitors[0]["name"] == DRAFT.name
    await store_.privacy.forget(NOW, "privacy_purge", visits=[visit.id])
    gone = await store_.visits.get(visit.id)
    assert gone is not None and (gone.name, gone.assignment_letter) == (store.ANONYMOUS, "")


async def test_anonymizing_removes_the_reasons_typed_about_the_visitor(
    store_: Storage, path: Path
) -> None:
    """A deny or cancel reason is free text about the person; it goes with the name."""
    denied = await store_.visits.submit(DRAFT, 1001, NOW)
    assert await deny(store_, denied, 2001, "Foto KTP milik Siti Rahmawati, bukan pengunjung")
    cancelled = await store_.visits.submit(replace(DRAFT, nik="3508010102850001"), 1001, NOW)
    assert await store_.visits.apply(
        lifecycle.cancel(cancelled, 1001, NOW, "Pak Joko Susilo batal datang, sakit")
    )
    later = NOW + timedelta(days=400)
    await store_.privacy.forget(later, "privacy_purge", visits=[denied.id, cancelled.id])
    for visit_id in (denied.id, cancelled.id):
        gone = await store_.visits.get(visit_id)
        assert gone is not None and gone.deny_reason is None and gone.cancel_reason is None
    assert (await store_.visits.get(denied.id)).status == VisitStatus.DENIED  # type: ignore[union-attr]
    data = file_bytes(path)
    assert b"Siti Rahmawati" not in data and b"Joko Susilo" not in data


async def test_anonymizing_removes_the_equipment_note_and_keeps_the_check(
    store_: Storage, path: Path
) -> None:
    """The escort's discrepancy note is free text too (it may name people); whether the
    equipment matched stays in the log."""
    visit = await store_.visits.submit(DRAFT, 1001, NOW)  # DRAFT lists a laptop
    approved = await approve(store_, visit, 2001)
    assert approved is not None
    inside = await store_.visits.apply(lifecycle.enter(approved, 3001, NOW))
    assert inside is not None
    note = "Laptop milik Bambang Prasetyo tertinggal di rak"
    assert await store_.visits.apply(
        lifecycle.exit_(inside, 3001, NOW, EquipmentCheck.DIFFERS, note)
    )
    person = await store_.privacy.person([visit.visitor_id])
    assert [v["equipment_note"] for v in person.visits] == [note]  # exported decrypted
    await store_.privacy.forget(NOW + timedelta(days=400), "privacy_purge", visits=[visit.id])
    gone = await store_.visits.get(visit.id)
    assert gone is not None
    assert (gone.equipment_check, gone.equipment_note) == (EquipmentCheck.DIFFERS, None)
    assert b"Bambang Prasetyo" not in file_bytes(path)
