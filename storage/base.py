"""What every repository shares: one connection, one write lock, one way to write.

Each aggregate's SQL lives in its own module (storage/visits.py, staff.py, ...); they all
hold the same :class:`Database`, so a write in one can never collide with another's
transaction and a transition can append to the audit log and the outbox atomically.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiosqlite

from storage.crypto import Cipher

# A read left open on this shared connection (another coroutine between execute and fetch)
# pins an old snapshot; when another connection has committed since, SQLite refuses the
# write lock at once, without a busy wait
# (https://www.sqlite.org/rescode.html#busy_snapshot). That read ends in milliseconds.
_BEGIN_RETRIES = (0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def ts(value: datetime | None) -> str | None:
    """A timestamp as stored (ISO text; the bot's clock is UTC)."""
    return value.isoformat() if value is not None else None


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


async def fetch_one(
    db: aiosqlite.Connection, sql: str, parameters: Sequence[Any] = ()
) -> aiosqlite.Row | None:
    """The first row of a query, or None: one trip to the database thread (a cursor held
    across ``async with`` takes three, and keeps the read open in between)."""
    rows = await db.execute_fetchall(sql, parameters)
    return next(iter(rows), None)


async def fetch_all(
    db: aiosqlite.Connection, sql: str, parameters: Sequence[Any] = ()
) -> list[aiosqlite.Row]:
    """Every row of a query, in one trip to the database thread."""
    return list(await db.execute_fetchall(sql, parameters))


async def begin(db: aiosqlite.Connection) -> None:
    """BEGIN IMMEDIATE, retried briefly while another connection holds the write lock."""
    for delay in _BEGIN_RETRIES:
        try:
            await db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(delay)
    await db.execute("BEGIN IMMEDIATE")


async def _execute_when_free(
    db: aiosqlite.Connection, sql: str, parameters: Sequence[Any]
) -> aiosqlite.Cursor:
    """One statement, retried briefly while another connection holds the write lock (as
    :func:`begin`)."""
    for delay in _BEGIN_RETRIES:
        try:
            return await db.execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(delay)
    return await db.execute(sql, parameters)


class Database:
    """One connection; writes are serialised so each transaction stays atomic."""

    def __init__(self, connection: aiosqlite.Connection, cipher: Cipher) -> None:
        self.connection = connection
        self.cipher = cipher
        self._write_lock = asyncio.Lock()

    async def write(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """One statement that is a whole transaction by itself; returns the rows it changed.

        The connection is in autocommit mode, so under the write lock (no other coroutine's
        transaction is open) the statement commits on its own: one trip to the database
        thread instead of three (BEGIN, the statement, COMMIT). The outbox marks every
        message it sends this way."""
        async with self._write_lock:
            cursor = await _execute_when_free(self.connection, sql, parameters)
            return cursor.rowcount

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await begin(self.connection)
            try:
                yield self.connection
                await self.connection.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself fails: never leave the shared connection inside
                # a half-done transaction that later statements would silently join.
                if self.connection.in_transaction:
                    await self.connection.execute("ROLLBACK")
                raise
