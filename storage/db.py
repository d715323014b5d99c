"""The access log in SQLite (WAL) through aiosqlite: one Storage, one repository per
aggregate, all on the same connection and write lock. Every SQL statement lives under
storage/; nothing here imports Telegram.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from storage.at_rest import finish_rebuild, seal_plain_columns, seal_visit_text
from storage.audit import (
    AuditLog,
    WrongAuditKey,
    check_audit_key_at_open,
    verify_audit_key,
)
from storage.base import Database, fetch_one, open_reader
from storage.conversations import Conversations
from storage.crypto import Cipher
from storage.deadlines import Deadlines
from storage.door import DoorNonces
from storage.duty import Duty
from storage.guests import GuestLinks
from storage.health import Health
from storage.keys import WrongKey, check_key_at_open, reindex_at_open, verify_key
from storage.migrations import HEAD, MIGRATIONS, SchemaTooNew, migrate, schema_version
from storage.outbox import Outbox
from storage.privacy import Privacy, encrypt_plain_niks
from storage.reports import Reports
from storage.rollcalls import RollCalls
from storage.staff import Staff
from storage.updates import IncomingUpdates
from storage.visits import Visits
from storage.watchlist import Watchlist

# Why a database is not opened: each says so in one line (the CLIs print it, the bot stops).
log = logging.getLogger(__name__)

REFUSALS: tuple[type[Exception], ...] = (SchemaTooNew, WrongKey, WrongAuditKey)


class SchemaMismatch(Exception):
    """A database written by an older or newer version of the program."""

    def __init__(self, found: int, expected: int) -> None:
        super().__init__(f"database schema {found}, this program's is {expected}")
        self.found, self.expected = found, expected


async def keys_fit_before_migrating(
    db: aiosqlite.Connection, cipher: Cipher, audit_key: bytes
) -> None:
    """The read-only part of the key checks, on the database as it is before migrating:
    WrongKey or WrongAuditKey for a key its check value (or an encrypted value) refuses.
    A schema too old for the checks' tables is checked after migrating, as before."""
    try:
        await verify_key(db, cipher)
        await verify_audit_key(db, audit_key)
    except sqlite3.OperationalError:
        return  # no meta table yet (a very old or a new, empty database)


class Storage:
    """The bot's database: ``storage.visits``, ``storage.audit``, ``storage.outbox``, ...,
    ``storage.updates`` (the durable intake of Telegram's updates)."""

    def __init__(
        self,
        connection: aiosqlite.Connection,
        cipher: Cipher,
        audit_key: bytes,
        reader: sqlite3.Connection | None = None,
    ) -> None:
        self.database = Database(connection, cipher, reader)
        self.outbox = Outbox(self.database)
        self.audit = AuditLog(self.database, self.outbox, audit_key)
        self.visits = Visits(self.database, self.audit, self.outbox)
        self.staff = Staff(self.database, self.audit)
        self.duty = Duty(self.database, self.audit)
        self.deadlines = Deadlines(self.database, self.outbox)
        self.privacy = Privacy(self.database, self.audit, self.outbox)
        self.reports = Reports(self.database)
        self.updates = IncomingUpdates(self.database)
        self.conversations = Conversations(self.database)
        self.health = Health(self.database)
        self.door = DoorNonces(self.database)
        self.rollcalls = RollCalls(self.database, self.audit, self.outbox)
        self.watchlist = Watchlist(self.database, self.audit, self.outbox)
        self.guests = GuestLinks(self.database, self.audit)

    @classmethod
    async def open(cls, path: Path | str, cipher: Cipher, audit_key: bytes) -> Storage:
        """Open, migrate and check the key (``audit_key`` keys the audit chain); raises one
        of REFUSALS (changing nothing) for a database newer than this program or a key that
        is not the data's."""
        path = Path(path)
        # The folder 0700 and the files 0600 (mkdir's mode is masked by the umask; the bot
        # sets 077 at start, bot/cli/main.py). `python -m bot run` refuses a data folder
        # others can read; `python -m bot check` reports it.
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute("PRAGMA foreign_keys=ON")
            # A newer database, or a key that is not the data's, is refused before the
            # migrations change anything: the previous release can still open it (a
            # rollback after an upgrade started with the wrong secrets file).
            if await schema_version(db) <= HEAD:
                await keys_fit_before_migrating(db, cipher, audit_key)
            await migrate(db)  # a newer database is refused before anything is set
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            # Deleted and anonymized personal data is overwritten, not left in free pages.
            await db.execute("PRAGMA secure_delete=ON")
            await check_key_at_open(db, cipher)
            await check_audit_key_at_open(db, audit_key)
            await encrypt_plain_niks(db, cipher)
            await seal_plain_columns(db, cipher)
            await seal_visit_text(db, cipher)
            await finish_rebuild(db)  # one a killed start left undone
            # The NIK index is keyed by the data key (storage/crypto.py): rebuilt once for a
            # database indexed under the signing secret or an earlier key.
            await reindex_at_open(db, cipher)
        except BaseException:
            await db.close()
            raise
        private_files(path)
        try:
            # Short reads by key skip the trip to aiosqlite's thread (Database.read).
            reader = open_reader(path)
        except BaseException:
            await db.close()
            raise
        storage = cls(db, cipher, audit_key, reader)
        # A chain from before the audit key is linked into the keyed one, never rewritten.
        await storage.audit.link_unkeyed(datetime.now(UTC))
        return storage

    @classmethod
    async def open_readonly(cls, path: Path | str, cipher: Cipher, audit_key: bytes) -> Storage:
        """For tools that only look (``python -m bot status``): nothing is created, migrated
        or written, so a running bot is never disturbed.
        ``path`` is absolute and the file exists (the caller checks); its schema must be this
        program's (else SchemaMismatch)."""
        path = Path(path)
        if not path.is_absolute():
            raise ValueError(f"{path} is not an absolute path")
        db = await aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout=5000")
            row = await fetch_one(db, "PRAGMA user_version")
        except BaseException:
            await db.close()
            raise
        version, expected = (int(row[0]) if row else 0), max(MIGRATIONS)
        if version != expected:
            await db.close()
            raise SchemaMismatch(version, expected)
        try:
            return cls(db, cipher, audit_key)
        except BaseException:
            await db.close()  # an open connection's thread would keep the process alive
            raise

    @property
    def cipher(self) -> Cipher:
        return self.database.cipher

    @property
    def connection(self) -> aiosqlite.Connection:
        """For tools that inspect the file (backup, status); repositories do the SQL."""
        return self.database.connection

    async def close(self) -> None:
        self.database.close_reader()
        await self.database.connection.close()


def private_files(path: Path) -> None:
    """The database holds personal data: its folder is the bot user's only (0700, as
    DESIGN.md asks, when the bot's user owns it), its files too (0600; files made by an
    older version, or under another umask, were 0644)."""
    folder = path.parent
    mode = folder.stat().st_mode & 0o777
    if mode & 0o077 and folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)
        # Said, not only done: loose modes may mean something is wrong with the install
        # (the bot itself refuses to start on such a folder; an admin command fixes it).
        log.warning("data folder %s was open to other users (mode %03o); made 0700", folder, mode)
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = name.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(name, 0o600)
                log.warning("%s was open to other users (mode %03o); made 0600", name, mode)
        except FileNotFoundError:
            continue
