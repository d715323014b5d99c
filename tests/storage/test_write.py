"""`Database.write`: a single-statement transaction in one trip to the database thread.

It must be as safe as `transaction()`: committed on its own, never inside another
coroutine's open transaction, and waiting (not failing) while another connection writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest

from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    await storage.database.connection.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    yield storage
    await storage.close()


def rows(path: Path) -> list[tuple[int, str]]:
    """What another connection (another process) sees: only what was committed."""
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT k, v FROM t ORDER BY k").fetchall()


async def test_a_write_is_committed_by_itself(store: Storage, tmp_path: Path) -> None:
    assert await store.database.write("INSERT INTO t VALUES (?, ?)", (1, "a")) == 1
    assert not store.database.connection.in_transaction
    assert rows(tmp_path / "akses.sqlite3") == [(1, "a")]
    assert await store.database.write("UPDATE t SET v = ? WHERE k = ?", ("b", 2)) == 0


async def test_a_write_waits_for_an_open_transaction_and_is_not_part_of_it(
    store: Storage, tmp_path: Path
) -> None:
    database = store.database
    inside, rolled_back = asyncio.Event(), asyncio.Event()

    async def failing_transaction() -> None:
        with pytest.raises(RuntimeError):
            async with database.transaction() as db:
                await db.execute("INSERT INTO t VALUES (1, 'rolled back')")
                inside.set()
                await asyncio.sleep(0.05)  # the write below is queued meanwhile
                raise RuntimeError("the transaction fails")
        rolled_back.set()

    task = asyncio.create_task(failing_transaction())
    await inside.wait()
    await database.write("INSERT INTO t VALUES (2, 'kept')")
    assert rolled_back.is_set()  # the write waited for the transaction to end
    await task
    assert rows(tmp_path / "akses.sqlite3") == [(2, "kept")]


# `Database.write_all`: statements that need nothing from each other's results, as one
# transaction in one trip to aiosqlite's thread (through its `_execute`: these tests fail if
# a new aiosqlite changes that).


async def test_write_all_commits_every_statement_together(store: Storage, tmp_path: Path) -> None:
    await store.database.write_all(
        [
            ("INSERT INTO t VALUES (?, ?)", (1, "a")),
            ("INSERT INTO t VALUES (?, ?)", (2, "b")),
            ("UPDATE t SET v = ? WHERE k = ?", ("c", 1)),
        ]
    )
    assert not store.database.connection.in_transaction
    assert rows(tmp_path / "akses.sqlite3") == [(1, "c"), (2, "b")]


async def test_write_all_leaves_nothing_when_one_statement_fails(
    store: Storage, tmp_path: Path
) -> None:
    await store.database.write("INSERT INTO t VALUES (1, 'before')")
    with pytest.raises(sqlite3.IntegrityError):
        await store.database.write_all(
            [
                ("INSERT INTO t VALUES (?, ?)", (2, "new")),
                ("UPDATE t SET v = ? WHERE k = ?", ("changed", 1)),
                ("INSERT INTO t VALUES (?, ?)", (1, "a duplicate key")),
            ]
        )
    assert not store.database.connection.in_transaction
    assert rows(tmp_path / "akses.sqlite3") == [(1, "before")]
    # ... and the connection goes on working.
    await store.database.write_all([("INSERT INTO t VALUES (?, ?)", (3, "after"))])
    assert rows(tmp_path / "akses.sqlite3") == [(1, "before"), (3, "after")]


async def test_write_all_waits_for_an_open_transaction_and_is_not_part_of_it(
    store: Storage, tmp_path: Path
) -> None:
    database = store.database
    inside = asyncio.Event()

    async def failing_transaction() -> None:
        with pytest.raises(RuntimeError):
            async with database.transaction() as db:
                await db.execute("INSERT INTO t VALUES (1, 'rolled back')")
                inside.set()
                await asyncio.sleep(0.05)
                raise RuntimeError("the transaction fails")

    task = asyncio.create_task(failing_transaction())
    await inside.wait()
    await database.write_all([("INSERT INTO t VALUES (2, 'kept')", ())])
    await task
    assert rows(tmp_path / "akses.sqlite3") == [(2, "kept")]


def _one_write(store: Storage, how: str) -> Awaitable[object]:
    sql = "INSERT INTO t VALUES (2, 'ours')"
    if how == "write":
        return store.database.write(sql)
    if how == "write_all":
        return store.database.write_all([(sql, ())])
    return store.database.write_returning(sql + " RETURNING k")


@pytest.mark.parametrize("how", ["write", "write_all", "write_returning"])
async def test_a_write_waits_while_another_connection_holds_the_write_lock(
    store: Storage, tmp_path: Path, how: str
) -> None:
    other = sqlite3.connect(tmp_path / "akses.sqlite3", isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1, 'other')")
    write = asyncio.ensure_future(_one_write(store, how))
    await asyncio.sleep(0.05)
    assert not write.done()
    other.execute("COMMIT")
    other.close()
    done = await write
    if how == "write":
        assert done == 1  # the rows it changed
    elif how == "write_returning":
        assert [tuple(row) for row in done] == [(2,)]  # type: ignore[attr-defined]
    assert rows(tmp_path / "akses.sqlite3") == [(1, "other"), (2, "ours")]
