"""The data steps of the migrations that encrypt columns already holding plaintext.

SQL cannot encrypt, so such a migration only marks the database; Storage.open then calls
its step here, which encrypts the rows written before it and removes the mark, all in one
transaction. Then the file is rewritten (VACUUM) and the WAL emptied, so no page image of
the plaintext stays behind. The columns are written out here, frozen like a migration's
SQL: a column added to storage.crypto.DATA_KEY_COLUMNS later needs a step of its own.

- :func:`seal_plain_columns` (migration 14, the ``data_key_backfill`` table): names,
  organisations, phones, the assignment letter, the KTP file id, the reasons and queued
  messages.
- :func:`seal_visit_text` (migration 24, the ``visit_text_backfill`` row of ``meta``): the
  visit's purpose and equipment. A row, not a table: every table but ``meta`` is data to
  the upgrade test's databases (tests/fixtures/schema_versions.py), which fills them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import aiosqlite

from bot.core.nik import mask_niks_in
from storage.base import fetch_all, fetch_one
from storage.crypto import Cipher, InvalidToken
from storage.privacy import compact_wal

MARK = "data_key_backfill"
_VISITOR_COLUMNS = ("name", "organisation", "phone")
_VISIT_COLUMNS = ("assignment_letter", "ktp_file_id", "deny_reason", "cancel_reason")

TEXT_MARK = "visit_text_backfill"  # meta.name
VACUUM_MARK = "rebuild_after_backfill"  # meta.name: a data step's rebuild not yet done
_VISIT_TEXT_COLUMNS = ("purpose", "equipment")


async def seal_plain_columns(db: aiosqlite.Connection, cipher: Cipher) -> int:
    """Encrypt what migration 14 marked; the number of rows rewritten (0 if not marked)."""

    async def step() -> int:
        count = await _seal(db, "visitors", _VISITOR_COLUMNS, cipher)
        count += await _seal(db, "visits", _VISIT_COLUMNS, cipher)
        return count + await _seal_outbox(db, cipher)

    marked = f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{MARK}'"
    return await _marked_step(db, marked, f"DROP TABLE {MARK}", step)


async def seal_visit_text(db: aiosqlite.Connection, cipher: Cipher) -> int:
    """Encrypt the purpose and equipment migration 24 marked; the rows rewritten (0 if not
    marked).

    A cell that already decrypts is left as it is (each cell is encrypted once, whoever
    wrote it). An anonymized visit's purpose gets what anonymizing does since this step:
    its NIKs masked (storage/privacy.py)."""
    return await _marked_step(
        db,
        f"SELECT 1 FROM meta WHERE name = '{TEXT_MARK}'",
        f"DELETE FROM meta WHERE name = '{TEXT_MARK}'",
        lambda: _seal_visit_text(db, cipher),
    )


async def _marked_step(
    db: aiosqlite.Connection, marked: str, unmark: str, step: Callable[[], Awaitable[int]]
) -> int:
    """If ``marked`` finds the mark: ``step`` and ``unmark`` in one transaction, then the
    file rebuilt and the WAL emptied if the step rewrote anything. The rebuild is marked
    in the same transaction (``VACUUM_MARK``), so a process killed before it finished
    leaves the next open to do it (:func:`finish_rebuild`): the step's mark is gone by then,
    and the plaintext's old page images with it only once the file is rebuilt."""
    if await fetch_one(db, marked) is None:
        return 0
    await db.execute("BEGIN IMMEDIATE")
    try:
        count = await step()
        await db.execute(unmark)
        if count:
            await db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, '1')", (VACUUM_MARK,)
            )
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    await finish_rebuild(db)
    return count


async def finish_rebuild(db: aiosqlite.Connection) -> bool:
    """Rebuild the file (VACUUM) and empty the WAL if a data step marked it so, then remove
    the mark; True if it did. Freed and rewritten pages may still hold the plaintext a step
    encrypted. Idempotent: killed midway, the next open does it again."""
    if await fetch_one(db, "SELECT 1 FROM meta WHERE name = ?", (VACUUM_MARK,)) is None:
        return False
    await db.execute("VACUUM")
    await db.execute("DELETE FROM meta WHERE name = ?", (VACUUM_MARK,))
    await compact_wal(db)
    return True


async def _seal_visit_text(db: aiosqlite.Connection, cipher: Cipher) -> int:
    columns = _VISIT_TEXT_COLUMNS
    rows = list(await fetch_all(db, f"SELECT id, anonymized_at, {', '.join(columns)} FROM visits"))
    count = 0
    for row in rows:
        opened = {c: _opened(row[c], cipher) for c in columns}
        text: dict[str, str] = {c: row[c] if v is None else v for c, v in opened.items()}
        if row["anonymized_at"] is not None:
            text["purpose"] = mask_niks_in(text["purpose"])
        if opened == text:
            continue  # encrypted already, and nothing to mask
        await db.execute(
            f"UPDATE visits SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
            (*(cipher.seal(text[c]) for c in columns), row["id"]),
        )
        count += 1
    return count


def _opened(cell: str, cipher: Cipher) -> str | None:
    """The text of a cell encrypted already (or empty), None for plaintext."""
    try:
        return cipher.unseal(cell)
    except InvalidToken:
        return None


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
