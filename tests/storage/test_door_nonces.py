"""Door nonces in SQLite: one tap, by the escort who scanned, for that visit and step, in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.tokens import DOOR_NONCE_LENGTH, new_door_nonce
from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(minutes=5)


async def test_a_nonce_is_good_once_for_its_visit_escort_and_step(tmp_path: Path) -> None:
    store = await Storage.open(tmp_path / "a.db", Cipher(KEY), AUDIT_KEY)
    nonce = new_door_nonce()
    assert len(nonce) == DOOR_NONCE_LENGTH
    await store.door.issue(nonce, 7, 3001, "din", "qr", NOW, UNTIL)
    assert await store.door.find(nonce, 8, 3001, "din", NOW) is None  # another visit
    assert await store.door.find(nonce, 7, 3002, "din", NOW) is None  # another escort
    assert await store.door.find(nonce, 7, 3001, "dout", NOW) is None  # another step
    assert await store.door.find(new_door_nonce(), 7, 3001, "din", NOW) is None  # a guess
    door_pass = await store.door.find(nonce, 7, 3001, "din", NOW)
    assert door_pass is not None and door_pass.via == "qr"
    assert await store.door.spend(door_pass, NOW)
    assert not await store.door.spend(door_pass, NOW)  # a second tap racing the first
    assert await store.door.find(nonce, 7, 3001, "din", NOW) is None  # used
    await store.close()


async def test_a_nonce_expires_and_survives_a_restart(tmp_path: Path) -> None:
    path, cipher = tmp_path / "a.db", Cipher(KEY)
    store = await Storage.open(path, cipher, AUDIT_KEY)
    late, fresh = new_door_nonce(), new_door_nonce()
    await store.door.issue(late, 7, 3001, "din", "code", NOW, UNTIL)
    await store.door.issue(fresh, 7, 3001, "din", "photo", NOW, UNTIL)
    await store.close()
    store = await Storage.open(path, cipher, AUDIT_KEY)  # the bot restarted between scan and tap
    assert await store.door.find(late, 7, 3001, "din", UNTIL) is None  # five minutes on
    door_pass = await store.door.find(fresh, 7, 3001, "din", UNTIL - timedelta(seconds=1))
    assert door_pass is not None and door_pass.via == "photo"
    await store.close()
