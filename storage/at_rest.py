"""The data step of the migration that encrypts names, phones and queued messages.

SQL cannot encrypt, so that migration only creates the ``data_key_backfill`` table;
Storage.open then calls :func:`seal_plain_columns`, which encrypts the rows written before
it, clears delivered and failed outbox rows, and drops the table, all in one transaction.
Then the file is rewritten (VACUUM) and the WAL emptied, so no page image of the plaintext
stays behind. The columns are written out here, frozen like a migration's SQL: a column
added to storage.crypto.DATA_KEY_COLUMNS later needs a step of its own.
"""

from __future__ import annotations

import json

import aiosqlite

from storage.base import fetch_all
from storage.crypto import Cipher
from storage.privacy import compact_wal

MARK = "data_key_backfill"
_VISITOR_COLUMNS = ("name", "organisation", "phone")
_VISIT_COLUMNS = ("assignment_letter", "ktp_file_id", "deny_reason", "cancel_reason")


async def seal_plain_columns(db: aiosqlite.Connection, cipher: Cipher) -> int:
    """Encrypt what the migration marked; the number of rows rewritten (0 if not marked)."""
    async with db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MARK,)
    ) as cur:
        if await cur.fetchone() is None:
            return 0
    await db.execute("BEGIN IMMEDIATE")
    try:
        count = await _seal(db, "visitors", _VISITOR_COLUMNS, cipher)
        count += await _seal(db, "visits", _VISIT_COLUMNS, cipher)
        count += await _seal_outbox(db, cipher)
        await db.execute(f"DROP TABLE {MARK}")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    if count:
        # Freed and rewritten pages may still hold the plaintext: rebuild the file.
        await db.execute("VACUUM")
        await compact_wal(db)
    return count


async def _seal(
    db: aiosqlite.Connection, table: str, columns: tuple[str, ...], cipher: Cipher
) -> int:
    rows = list(await fetch_all(db, f"SELECT id, {', '.join(columns)} FROM {table}"))
    assignments = ", ".join(f"{c} = ?" for c in columns)
    for row in rows:
        await db.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?",
            (*(cipher.seal(row[c]) for c in columns), row["id"]),
        )
    return len(rows)


async def _seal_outbox(db: aiosqlite.Connection, cipher: Cipher) -> int:
    # Delivered and failed rows keep nothing (failed ones used to keep their text).
    cur = await db.execute(
        "UPDATE outbox SET payload = '', blob = NULL WHERE status != 'pending'"
        " AND (payload != '' OR blob IS NOT NULL)"
    )
    count = cur.rowcount
    rows = list(
        await fetch_all(db, "SELECT id, payload, blob FROM outbox WHERE status = 'pending'")
    )
    for row in rows:
        payload = json.loads(row["payload"])
        await db.execute(
            "UPDATE outbox SET payload = ?, blob = ? WHERE id = ?",
            (
                cipher.encrypt_text(json.dumps(payload, ensure_ascii=False)) if payload else "",
                cipher.encrypt(row["blob"]) if row["blob"] is not None else None,
                row["id"],
            ),
        )
    return count + len(rows)
