"""What every repository shares: one connection, one write lock, one way to write.

Each aggregate's SQL lives in its own module (storage/visits.py, staff.py, ...); they all
hold the same :class:`Database`, so a write in one can never collide with another's
transaction and a transition can append to the audit log and the outbox atomically.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.crypto import Cipher

# A read left open on this shared connection (another coroutine between execute and fetch)
# pins an old snapshot; when another connection has committed since, SQLite refuses the
# write lock at once, without a busy wait
# (https://www.sqlite.org/rescode.html#busy_snapshot). That read ends in milliseconds.
_BEGIN_RETRIES = (0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
T = TypeVar("T")


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


async def when_free(call: Callable[[], Awaitable[T]]) -> T:
    """``call()``, retried briefly while another connection holds the write lock (see
    _BEGIN_RETRIES); any other error at once."""
    for delay in _BEGIN_RETRIES:
        try:
            return await call()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(delay)
    return await call()


async def begin(db: aiosqlite.Connection) -> None:
    """BEGIN IMMEDIATE, retried briefly while another connection holds the write lock."""
    await when_free(lambda: db.execute("BEGIN IMMEDIATE"))


Statement = tuple[str, Sequence[Any]]


def _write_all(connection: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    """In aiosqlite's thread: BEGIN IMMEDIATE (retried as :func:`begin`), the statements,
    COMMIT; rolled back if any of them fails."""
    for delay in (*_BEGIN_RETRIES, None):
        try:
            connection.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or delay is None:
                raise
            time.sleep(delay)  # this thread only: the event loop goes on
    try:
        for sql, parameters in statements:
            connection.execute(sql, parameters)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def open_reader(path: Path) -> sqlite3.Connection:
    """The read-only connection of :meth:`Database.read`, opened on the event loop's thread
    (the only one that may use it). It never waits for a lock: a busy reader gives way."""
    reader = sqlite3.connect(path, isolation_level=None, timeout=0)
    reader.row_factory = sqlite3.Row
    reader.execute("PRAGMA query_only=ON")
    return reader


class Database:
    """One connection; writes are serialised so each transaction stays atomic."""

    def __init__(
        self,
        connection: aiosqlite.Connection,
        cipher: Cipher,
        reader: sqlite3.Connection | None = None,
    ) -> None:
        self.connection = connection
        self.cipher = cipher
        self._write_lock = asyncio.Lock()
        self._reader = reader
        self._reader_thread = threading.get_ident()

    async def read(
        self, sql: str, parameters: Sequence[Any] = (), *, committed: bool = False
    ) -> list[sqlite3.Row]:
        """A short read by key (a visit, an outbox item, a chat's next messages) at once, on
        the event loop's thread, through a read-only connection of its own: about 2 µs of
        SQLite instead of a trip to aiosqlite's thread (50-80 µs of CPU, and a wait behind
        every trip queued before it). It sees what is committed, as a read on the shared
        connection does when no transaction is open; while one is open there (this
        coroutine's or another's, whose uncommitted rows the shared connection would show),
        or when the reader is busy, the read goes through aiosqlite as before. Only for
        queries that use an index and return a few rows: the event loop waits for them.

        ``committed``: only what is committed, even while another coroutine's transaction
        is open (the outbox worker must never send a message whose transaction may still
        roll back): the reader, or else the shared connection once the write lock is free
        (no transaction open). Never for a read inside the caller's own transaction."""
        reader = self._reader
        if (
            reader is not None
            and (committed or not self.connection.in_transaction)
            and threading.get_ident() == self._reader_thread
        ):
            try:
                return reader.execute(sql, parameters).fetchall()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
        if committed:
            async with self._write_lock:
                return await fetch_all(self.connection, sql, parameters)
        return await fetch_all(self.connection, sql, parameters)

    async def read_one(
        self, sql: str, parameters: Sequence[Any] = (), *, committed: bool = False
    ) -> sqlite3.Row | None:
        """:meth:`read`'s first row, or None."""
        return next(iter(await self.read(sql, parameters, committed=committed)), None)

    def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def write(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """One statement that is a whole transaction by itself; returns the rows it changed.

        The connection is in autocommit mode, so under the write lock (no other coroutine's
        transaction is open) the statement commits on its own: one trip to the database
        thread instead of three (BEGIN, the statement, COMMIT). The outbox marks every
        message it sends this way."""
        async with self._write_lock:
            cursor = await when_free(lambda: self.connection.execute(sql, parameters))
            return cursor.rowcount

    async def write_returning(self, sql: str, parameters: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """:meth:`write` for a statement with a RETURNING clause: its rows, in the same trip
        (the statement commits once they are all read)."""
        async with self._write_lock:
            return list(await when_free(lambda: self.connection.execute_fetchall(sql, parameters)))

    async def write_all(self, statements: Sequence[Statement]) -> None:
        """Statements that need nothing from each other's results, as one transaction in one
        trip to the database thread (BEGIN, each statement and COMMIT are a trip each through
        :meth:`transaction`, about 50-80 µs of CPU apiece). The persisted conversation and
        the updates it marks done are written this way after every update."""
        if not statements:
            return
        async with self._write_lock:
            # aiosqlite runs its own methods through ``_execute`` (a function queued to its
            # thread); a function of ours that runs several statements is the same call.
            # tests/storage/test_write.py fails if a new aiosqlite changes it.
            connection = self.connection
            run: Callable[..., Awaitable[None]] = connection._execute
            await run(_write_all, connection._conn, statements)

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
