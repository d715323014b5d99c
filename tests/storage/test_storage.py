"""Storage on a real aiosqlite database: guarded transitions, audit chain, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.visits import VisitDraft, VisitStatus
from storage.crypto import Cipher
from storage.db import GENESIS_HASH, Storage, audit_hash
from storage.migrations import MIGRATIONS
from tests.conftest import KEY, SECRET

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
CIPHER = Cipher(KEY, SECRET)
DRAFT = VisitDraft(
    nik="3508015507900002",
    name="Ayu Lestari",
    organisation="PT Jaringan Nusantara",
    phone="081234567890",
    purpose="Pemeliharaan server",
    duration_minutes=30,
    equipment="Laptop",
    ktp_file_id="file-1",
    started_at=NOW - timedelta(minutes=12),
    form_done_at=NOW - timedelta(minutes=3),
)


@pytest.fixture
async def store(tmp_path: Path):
    storage = await Storage.open(tmp_path / "t.sqlite3", CIPHER)
    yield storage
    await storage.close()


async def test_submit_stores_visitor_and_pending_visit(store: Storage) -> None:
    visit = await store.submit_visit(DRAFT, 1001, NOW)
    assert visit.status == VisitStatus.PENDING
    assert visit.reference == f"KRS-2026-{visit.id:05d}"
    assert visit.form_done_at == NOW - timedelta(minutes=3) and visit.handover_at is None
    known = await store.find_visitor(DRAFT.nik)
    assert known is not None and known.name == "Ayu Lestari"
    # A returning visitor is the same row, updated.
    again = await store.submit_visit(
        VisitDraft(**{**DRAFT.__dict__, "organisation": "PT Baru"}), 1001, NOW
    )
    assert again.visitor_id == visit.visitor_id
    assert (await store.find_visitor(DRAFT.nik)).organisation == "PT Baru"  # type: ignore[union-attr]


async def test_two_approvers_at_once_yield_one_decision(store: Storage) -> None:
    visit = await store.submit_visit(DRAFT, 1001, NOW)
    results = await asyncio.gather(
        store.approve(visit.id, 2001, NOW, NOW + timedelta(hours=1), "t1", "c1"),
        store.deny(visit.id, 2002, NOW, "tidak terjadwal"),
        store.approve(visit.id, 2002, NOW, NOW + timedelta(hours=1), "t2", "c2"),
    )
    assert sum(results) == 1
    events = await store.audit_events(visit.id)
    assert [e.action for e in events].count("approve") + [e.action for e in events].count(
        "deny"
    ) == 1


async def test_transitions_are_guarded(store: Storage) -> None:
    visit = await store.submit_visit(DRAFT, 1001, NOW)
    assert not await store.enter(visit.id, 3001, NOW)  # not approved yet
    assert await store.approve(visit.id, 2001, NOW, NOW + timedelta(hours=1), "t", "c")
    assert not await store.exit(visit.id, 3001, NOW)  # not inside yet
    assert await store.enter(visit.id, 3001, NOW)
    assert not await store.enter(visit.id, 3001, NOW)  # double tap
    assert await store.exit(visit.id, 3001, NOW + timedelta(minutes=20))
    assert not await store.exit(visit.id, 3001, NOW + timedelta(minutes=21))
    done = await store.get_visit(visit.id)
    assert done is not None and done.status == VisitStatus.DONE
    assert done.time_inside(NOW) == timedelta(minutes=20)
    assert await store.badge_visit("token", "t") == visit.id


async def test_audit_events_are_chained_and_append_only(store: Storage, tmp_path: Path) -> None:
    visit = await store.submit_visit(DRAFT, 1001, NOW)
    await store.record_event(NOW, 9001, "stranger_refused")
    await store.deny(visit.id, 2001, NOW, "alasan")
    events = await store.audit_events()
    prev = GENESIS_HASH
    for event in events:
        fields = (
            event.at.isoformat(),
            event.actor_id,
            event.action,
            event.visit_id,
            event.from_status,
            event.to_status,
            event.detail,
        )
        assert event.prev_hash == prev
        assert event.hash == audit_hash(prev, fields)
        prev = event.hash
    raw = sqlite3.connect(tmp_path / "t.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE audit_events SET detail = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM audit_events")
    raw.close()


async def test_migrations_run_once_and_set_user_version(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    for _ in range(2):
        storage = await Storage.open(path, CIPHER)
        await storage.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == max(MIGRATIONS)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
