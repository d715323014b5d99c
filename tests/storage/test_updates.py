"""The durable update intake on a real database: stored once, encrypted, reopened in
order, marked done atomically with the conversation state, given up after repeated
crashes, pruned."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
NIK = "3508015507900002"


def update(update_id: int, text: str = "Ayu Lestari") -> dict:
    chat = {"id": 1001, "type": "private", "first_name": "Sari"}
    message = {"message_id": update_id, "chat": chat, "text": text}
    return {"update_id": update_id, "message": message}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    yield storage
    await storage.close()


async def test_an_update_is_stored_once_encrypted_and_reopened_in_order(
    store: Storage, tmp_path: Path
) -> None:
    assert await store.updates.store(12, update(12, NIK), NOW)
    assert await store.updates.store(11, update(11), NOW)
    assert not await store.updates.store(12, update(12, NIK), NOW)  # delivered again
    raw = (tmp_path / "akses.sqlite3").read_bytes()
    wal = tmp_path / "akses.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert NIK.encode() not in raw and b"Ayu Lestari" not in raw
    reopened = await store.updates.reopen(3, NOW)
    assert [(u.update_id, u.attempts) for u in reopened] == [(11, 0), (12, 0)]
    assert reopened[1].data["message"]["text"] == NIK


async def test_a_batch_is_stored_in_one_write_once_encrypted(
    store: Storage, tmp_path: Path
) -> None:
    assert await store.updates.store(20, update(20), NOW)
    batch = [(20, update(20)), (21, update(21, NIK)), (22, update(22))]
    # One getUpdates answer: the update already here is not stored again.
    assert await store.updates.store_many(batch, NOW) == {21, 22}
    assert await store.updates.store_many(batch, NOW) == set()  # the same answer again
    assert await store.updates.store_many([], NOW) == set()
    raw = (tmp_path / "akses.sqlite3").read_bytes()
    wal = tmp_path / "akses.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert NIK.encode() not in raw and b"Ayu Lestari" not in raw
    reopened = await store.updates.reopen(3, NOW)
    assert [u.update_id for u in reopened] == [20, 21, 22]
    assert reopened[1].data == update(21, NIK)


async def test_done_goes_with_the_conversation_state_in_one_transaction(
    store: Storage, tmp_path: Path
) -> None:
    await store.updates.store(5, update(5), NOW)
    draft = {"draft": {"step": "organisation", "name": "Ayu Lestari"}}
    await store.conversations.save({1001: draft}, {("registration", (1001, 1001)): 0}, [5], NOW)
    assert await store.updates.open_count() == 0
    assert (await store.conversations.user_data())[1001] == draft
    with sqlite3.connect(tmp_path / "akses.sqlite3") as raw:
        row = raw.execute("SELECT payload, done_at FROM incoming_updates").fetchone()
    assert row[0] is None and row[1] is not None  # the data went with the handling

    # A write that fails leaves the update open and the earlier state as it was.
    await store.updates.store(6, update(6), NOW)
    with pytest.raises(sqlite3.Error):
        await store.conversations.save(
            {1001: {"draft": {"step": "phone"}}},
            {("registration", (1001, 1001)): object()},  # type: ignore[dict-item]  # unbindable
            [6],
            NOW,
        )
    assert await store.updates.open_count() == 1
    assert (await store.conversations.user_data())[1001] == draft


async def test_an_update_that_keeps_killing_the_bot_is_set_aside(store: Storage) -> None:
    await store.updates.store(7, update(7), NOW)
    for attempt in range(3):
        (again,) = await store.updates.reopen(3, NOW)
        assert again.attempts == attempt
    assert await store.updates.reopen(3, NOW) == []
    assert await store.updates.given_up() == [7]


async def test_handled_updates_are_pruned_after_a_day(store: Storage) -> None:
    await store.updates.store(8, update(8), NOW)
    await store.updates.store(9, update(9), NOW)
    await store.updates.mark_done([8], NOW)
    assert await store.updates.prune(NOW - timedelta(hours=1)) == 0
    assert await store.updates.prune(NOW + timedelta(seconds=1)) == 1
    assert await store.updates.open_count() == 1  # the open one stays, whatever its age
    assert await store.updates.store(8, update(8), NOW)  # forgotten: would be taken in again
