"""The access log in SQLite (WAL) through aiosqlite: one Storage, one repository per
aggregate, all on the same connection and write lock. Every SQL statement lives under
storage/; nothing here imports Telegram.
"""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite

from storage.audit import AuditLog
from storage.base import Database
from storage.conversations import Conversations
from storage.crypto import Cipher
from storage.deadlines import Deadlines
from storage.keys import WrongKey, check_key_at_open, reindex_at_open
from storage.migrations import SchemaTooNew, migrate
from storage.outbox import Outbox
from storage.privacy import Privacy, encrypt_plain_niks
from storage.reports import Reports
from storage.staff import Staff
from storage.visits import Visits

# Why a database is not opened: each says so in one line (the CLIs print it, the bot stops).
REFUSALS: tuple[type[Exception], ...] = (SchemaTooNew, WrongKey)


class Storage:
    """The bot's database: ``storage.visits``, ``storage.audit``, ``storage.outbox``, ..."""

    def __init__(self, connection: aiosqlite.Connection, cipher: Cipher) -> None:
        self.database = Database(connection, cipher)
        self.outbox = Outbox(self.database)
        self.audit = AuditLog(self.database, self.outbox)
        self.visits = Visits(self.database, self.audit, self.outbox)
        self.staff = Staff(self.database, self.audit)
        self.deadlines = Deadlines(self.database, self.outbox)
        self.privacy = Privacy(self.database, self.audit)
        self.reports = Reports(self.database)
        self.conversations = Conversations(self.database)

    @classmethod
    async def open(cls, path: Path | str, cipher: Cipher) -> Storage:
        """Open, migrate and check the key; raises one of REFUSALS (changing nothing) for a
        database newer than this program or a key that is not the data's."""
        path = Path(path)
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute("PRAGMA foreign_keys=ON")
            await migrate(db)  # first: a newer database is refused before anything is set
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            # Deleted and anonymized personal data is overwritten, not left in free pages.
            await db.execute("PRAGMA secure_delete=ON")
            await check_key_at_open(db, cipher)
            await encrypt_plain_niks(db, cipher)
            # The NIK index is keyed by the data key (storage/crypto.py): rebuilt once for a
            # database indexed under the signing secret or an earlier key.
            await reindex_at_open(db, cipher)
        except BaseException:
            await db.close()
            raise
        _keep_private(path)
        return cls(db, cipher)

    @property
    def cipher(self) -> Cipher:
        return self.database.cipher

    @property
    def connection(self) -> aiosqlite.Connection:
        """For tools that inspect the file (backup, status); repositories do the SQL."""
        return self.database.connection

    async def close(self) -> None:
        await self.database.connection.close()


def _keep_private(path: Path) -> None:
    """The database holds personal data: its folder is the bot user's only (0700, as
    DESIGN.md asks), its files too (0600). `python -m bot check` reports what it cannot fix."""
    folder = path.parent
    if folder.stat().st_mode & 0o077 and folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)
    for suffix in ("", "-wal", "-shm"):
        file = Path(f"{path}{suffix}")
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)
