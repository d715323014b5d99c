"""The watchlist's rows (storage/watchlist.py): a barred NIK is found by its keyed hash only,
the NIK and the reason are never stored in the clear, and a data key rotation re-keys the
hashes (storage/keys.py), so a barred NIK stays barred under the new key."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storage import keys
from storage.crypto import Cipher, generate_key
from storage.db import Storage
from storage.keys import WrongKey
from storage.watchlist import BLOCKED, LIFTED
from tests.conftest import AUDIT_KEY, KEY
from tests.storage.test_storage import DRAFT, NOW

NEW_KEY = generate_key().encode()
NIK = DRAFT.nik
REASON = "Merusak rak server pada kunjungan 3 November"


def _rows(path: Path) -> list[tuple[str, ...]]:
    raw = sqlite3.connect(path)
    try:
        return list(raw.execute("SELECT nik_hash, nik_enc, reason FROM watchlist ORDER BY id"))
    finally:
        raw.close()


async def test_block_find_lift_and_block_again(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    try:
        watchlist = storage.watchlist
        blocked = await watchlist.block(NIK, REASON, 2001, NOW)
        assert blocked is not None
        entry, flagged = blocked
        assert entry.nik == NIK and entry.reason == REASON and flagged == []
        assert await watchlist.block(NIK, "lagi", 2002, NOW) is None  # one live entry per NIK
        found = await watchlist.find(NIK)
        assert found is not None and (found.id, found.reason, found.blocked_by) == (
            entry.id,
            REASON,
            2001,
        )
        assert await watchlist.find("3508010102850001") is None
        later = NOW + timedelta(hours=1)
        lifted = await watchlist.lift(NIK, 2002, later)
        assert lifted is not None and (lifted.lifted_by, lifted.lifted_at) == (2002, later)
        assert await watchlist.lift(NIK, 2002, later) is None
        assert await watchlist.find(NIK) is None and await watchlist.live() == []
        blocked = await watchlist.block(NIK, "Baru", 2001, later)
        assert blocked is not None
        again = blocked[0]
        assert [e.id for e in await watchlist.live()] == [again.id]
        changed = await watchlist.changed_between(NOW, later + timedelta(seconds=1))
        assert [e.id for e in changed] == [entry.id, again.id]
        events = [(e.action, e.detail) for e in await storage.audit.events()]
        assert events == [
            (BLOCKED, str(entry.id)),
            (LIFTED, str(entry.id)),
            (BLOCKED, str(again.id)),
        ]
    finally:
        await storage.close()
    # Nothing readable at rest: the hash is keyed, the NIK and the reason are Fernet tokens.
    wal = path.with_name(path.name + "-wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert NIK.encode() not in raw and b"rak server" not in raw
    for digest, nik_enc, reason in _rows(path):
        assert digest == Cipher(KEY).nik_hash(NIK)
        assert Cipher(KEY).decrypt_text(nik_enc) == NIK
        assert Cipher(KEY).decrypt_text(reason) in (REASON, "Baru")


async def test_a_key_rotation_rekeys_the_watchlist(tmp_path: Path) -> None:
    path = tmp_path / "data" / "akses.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    await storage.watchlist.block(NIK, REASON, 2001, NOW)
    await storage.watchlist.block("3508010102850001", "Kedua", 2001, NOW)
    await storage.watchlist.lift("3508010102850001", 2001, NOW)
    await storage.close()
    before = _rows(path)

    storage = await Storage.open(path, Cipher(NEW_KEY, KEY), AUDIT_KEY)
    counts = await keys.rotate_database(storage.database)
    await storage.close()
    assert counts["watchlist.nik_enc"] == 2 and counts["watchlist.reason"] == 2

    after = _rows(path)
    new = Cipher(NEW_KEY)
    assert [row[0] for row in after] == [new.nik_hash(NIK), new.nik_hash("3508010102850001")]
    assert all(old[0] != now[0] for old, now in zip(before, after, strict=True))
    with pytest.raises(WrongKey):
        await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    storage = await Storage.open(path, new, AUDIT_KEY)
    try:
        found = await storage.watchlist.find(NIK)  # still barred under the new key
        assert found is not None and found.reason == REASON
        assert await storage.watchlist.find("3508010102850001") is None  # lifted stays lifted
        # A request for the barred NIK is still marked after the rotation.
        visit = await storage.visits.submit(DRAFT, 1001, NOW, watchlisted=found.id)
        assert visit.watchlisted
    finally:
        await storage.close()
