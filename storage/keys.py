"""The data key and what it protects: the key check at open, the NIK index, re-encryption.

``ENCRYPTED`` lists every column encrypted with the data key and ``ENCRYPTED_FILES`` every
file: ``python -m bot keys rotate`` re-encrypts exactly these, so a column that starts
being encrypted is added here and nothing else changes.

The ``meta`` table (migration "facts about the database itself") holds ``key_check``, the
check value of the data key the data is written with (storage/crypto.py), and
``nik_index``, the check value of the key the ``nik_hash`` column was computed with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import aiosqlite

from storage.base import Database, begin, fetch_all, fetch_one
from storage.crypto import DATA_KEY_COLUMNS, DATA_KEY_FILES, Cipher, InvalidToken


@dataclass(frozen=True)
class Encrypted:
    """A column holding Fernet tokens as text, and the column that names its row."""

    table: str
    column: str
    row_key: str


# The column that names a row, for each table holding encrypted cells.
_ROW_KEYS = {
    "visitors": "id",
    "visits": "id",
    "outbox": "id",
    "user_state": "user_id",
    "incoming_updates": "update_id",
    "watchlist": "id",
}
# Every column encrypted with the data key: storage/crypto.py's one list, and the durable
# intake's stored updates (storage/updates.py).
ENCRYPTED: tuple[Encrypted, ...] = tuple(
    Encrypted(table, column, _ROW_KEYS[table])
    for table, columns in (*DATA_KEY_COLUMNS.items(), ("incoming_updates", ("payload",)))
    for column in columns
)
# Columns encrypted since the first versions that stored anything: a database from before
# the key check value is tested on one of these (the others may still be plaintext there,
# sealed at open by storage/at_rest.py).
_SAMPLED = (Encrypted("visitors", "nik_enc", "id"), Encrypted("user_state", "data", "user_id"))
# Every file encrypted with the data key, as globs under the data folder.
ENCRYPTED_FILES: tuple[str, ...] = DATA_KEY_FILES  # KTP photos (bot/flows/ktp.py)


class WrongKey(Exception):
    """The configured data key is not the one the database was written with."""

    def __init__(self, stored: str | None, configured: str) -> None:
        found = f"database key check {stored}, " if stored else ""
        super().__init__(
            "the encryption key does not match the database "
            f"({found}configured key check {configured}): set security.encryption_key "
            "(or AKSES_ENCRYPTION_KEY) to the key this data was written with; nothing was changed"
        )


async def _has_table(db: aiosqlite.Connection, table: str) -> bool:
    return (
        await fetch_one(
            db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        )
        is not None
    )


class UnreadableFile(Exception):
    """A file that none of the keys decrypts."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} is encrypted with neither key: run again with the key it was written"
            " with in the config"
        )


async def get_meta(db: aiosqlite.Connection, name: str) -> str | None:
    if not await _has_table(db, "meta"):  # a database older than the table
        return None
    row = await fetch_one(db, "SELECT value FROM meta WHERE name = ?", (name,))
    return str(row[0]) if row else None


async def _set_meta(db: aiosqlite.Connection, name: str, value: str) -> None:
    await db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))


async def _sample(db: aiosqlite.Connection) -> str | None:
    """Any one value encrypted with the data key, or None in a database without one."""
    for item in _SAMPLED:
        if not await _has_table(db, item.table):
            continue
        row = await fetch_one(
            db,
            f"SELECT {item.column} FROM {item.table}"
            f" WHERE {item.column} IS NOT NULL AND {item.column} != '' LIMIT 1",
        )
        if row is not None:
            return str(row[0])
    return None


async def stored_key_check(db: aiosqlite.Connection) -> str | None:
    return await get_meta(db, "key_check")


async def verify_key(db: aiosqlite.Connection, cipher: Cipher) -> None:
    """Raise WrongKey unless ``cipher`` reads this database (read only: changes nothing)."""
    stored = await stored_key_check(db)
    if stored is not None:
        if not cipher.accepts(stored):
            raise WrongKey(stored, cipher.key_check)
        return
    # A database from before the check value was kept: try one encrypted value.
    sample = await _sample(db)
    if sample is not None:
        try:
            cipher.decrypt(sample.encode())
        except InvalidToken:
            raise WrongKey(None, cipher.key_check) from None


async def check_key_at_open(db: aiosqlite.Connection, cipher: Cipher) -> None:
    """Refuse a wrong key before anything is read or written; record the check value once."""
    await verify_key(db, cipher)
    if await stored_key_check(db) is None:
        await begin(db)
        try:
            await db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('key_check', ?)",
                (cipher.key_check,),
            )
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")


async def _reindex(db: aiosqlite.Connection, cipher: Cipher) -> int:
    """Recompute nik_hash with the current lookup key, inside the caller's transaction.

    Rows of one person under two hashes (the old index was keyed by the badge signing
    secret, so a change of that secret registered returning visitors afresh) become one:
    the most recently updated row keeps the person's details, and the other rows' visits
    move to it.
    """
    rows = list(
        await fetch_all(
            db,
            "SELECT id, nik_enc FROM visitors WHERE nik_enc IS NOT NULL"
            " ORDER BY updated_at DESC, id DESC",
        )
    )
    kept: dict[str, int] = {}
    for row in rows:
        digest = cipher.nik_hash(cipher.decrypt_text(row[1]))
        if digest in kept:
            await db.execute(
                "UPDATE visits SET visitor_id = ? WHERE visitor_id = ?", (kept[digest], row[0])
            )
            await db.execute("DELETE FROM visitors WHERE id = ?", (row[0],))
        else:
            kept[digest] = row[0]
    for digest, visitor_id in kept.items():
        await db.execute("UPDATE visitors SET nik_hash = ? WHERE id = ?", (digest, visitor_id))
    await _reindex_watchlist(db, cipher)
    await _set_meta(db, "nik_index", cipher.key_check)
    return len(kept)


async def _reindex_watchlist(db: aiosqlite.Connection, cipher: Cipher) -> None:
    """The watchlist's NIK hashes under the current lookup key (a database from before the
    watchlist has no such table)."""
    if not await _has_table(db, "watchlist"):
        return
    rows = list(await fetch_all(db, "SELECT id, nik_enc FROM watchlist"))
    # Two steps, so no row ever holds a hash another row still holds under the old key
    # (the live-entry index is unique).
    for row in rows:
        await db.execute("UPDATE watchlist SET nik_hash = ? WHERE id = ?", (f"-{row[0]}", row[0]))
    for row in rows:
        digest = cipher.nik_hash(cipher.decrypt_text(row[1]))
        await db.execute("UPDATE watchlist SET nik_hash = ? WHERE id = ?", (digest, row[0]))


async def reindex_at_open(db: aiosqlite.Connection, cipher: Cipher) -> int:
    """Once per data key (and once for databases indexed by the signing secret): the
    nik_hash column is recomputed in one transaction. Returns the rows re-indexed."""
    if await get_meta(db, "nik_index") == cipher.key_check:
        return 0
    await begin(db)
    try:
        count = await _reindex(db, cipher)
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    return count


@dataclass(frozen=True)
class Rotated:
    values: dict[str, int]  # "table.column" -> values re-encrypted
    files: int

    def describe(self) -> str:
        parts = [f"{n} in {name}" for name, n in self.values.items()]
        return ", ".join([*parts, f"{self.files} file(s)"])


async def rotate_database(database: Database) -> dict[str, int]:
    """Re-encrypt every ENCRYPTED value with the cipher's first key, re-index the NIK hashes
    and record the new key check: one transaction, so it happens entirely or not at all."""
    cipher = database.cipher
    counts: dict[str, int] = {}
    async with database.transaction() as db:
        for item in ENCRYPTED:
            rows = list(
                await fetch_all(
                    db,
                    f"SELECT {item.row_key}, {item.column} FROM {item.table}"
                    f" WHERE {item.column} IS NOT NULL AND {item.column} != ''",
                )
            )
            filled = [(key, token) for key, token in rows if token]  # empty: no value
            for key, token in filled:
                # A text column holds the token as text, a BLOB column (the outbox's badge
                # image) as bytes: each is written back as it was.
                rotated: str | bytes = (
                    cipher.rotate(token)
                    if isinstance(token, bytes)
                    else cipher.rotate(token.encode()).decode()
                )
                await db.execute(
                    f"UPDATE {item.table} SET {item.column} = ? WHERE {item.row_key} = ?",
                    (rotated, key),
                )
            counts[f"{item.table}.{item.column}"] = len(filled)
        await _reindex(db, cipher)
        await _set_meta(db, "key_check", cipher.key_check)
    return counts


def encrypted_files(data_dir: Path) -> list[Path]:
    return sorted(p for pattern in ENCRYPTED_FILES for p in data_dir.glob(pattern) if p.is_file())


def rotate_files(data_dir: Path, cipher: Cipher) -> int:
    """Re-encrypt every ENCRYPTED_FILES file: each written to a temporary name and renamed,
    so a file is always whole, under the old key or the new one."""
    files = encrypted_files(data_dir)
    for path in files:
        try:
            token = cipher.rotate(path.read_bytes())
        except InvalidToken:
            raise UnreadableFile(path) from None
        write_private(path, token)
    return len(files)


def write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the bot's user only (file 0600, folder 0700): for a
    file in one of the bot's own folders (the KTP folder, a staging folder)."""
    with private_file(path, own_folder=True) as out:
        out.write(data)


@contextmanager
def private_file(path: Path, *, own_folder: bool) -> Iterator[BinaryIO]:
    """:func:`write_private` for a file written as it is made: the file to write to (0600),
    under a temporary name that becomes ``path`` (flushed and fsync'd) when the block ends,
    and is removed when it raises.

    ``own_folder``: the folder is one the bot keeps for itself (its data folder and those
    in it, its backup folder): it is made if missing and kept 0700. False for a folder
    someone named (``backup --out``, ``export --out``): it must exist, and its mode (a
    shared folder's, /tmp's sticky bit) is left as it is; only the file is private."""
    if own_folder:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)  # mkdir's mode is masked by the umask and ignored if it exists
    temporary = path.with_name(path.name + ".tmp")
    try:
        # No following a link planted under the temporary name (a shared folder, /tmp).
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.fchmod(fd, 0o600)  # the file may have existed with other bits
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
