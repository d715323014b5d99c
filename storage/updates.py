"""The durable update intake: each update Telegram hands over, kept until it is handled.

An update is stored here before Telegram is told it arrived (the next getUpdates offset,
or the webhook's 200), so a crash between fetching and handling loses nothing: at start
the open rows are handled again, in update_id order. The raw update holds names, NIKs
and photos' file ids, so it is stored encrypted, and forgotten (payload NULL) once
handled; the id stays a while so a re-delivery of a handled update is recognised.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.base import Database, Statement, fetch_all, fetch_one, ts

_MARK_DONE = (
    "UPDATE incoming_updates SET done_at = ?, payload = NULL"
    " WHERE update_id = ? AND done_at IS NULL"
)


@dataclass(frozen=True)
class StoredUpdate:
    update_id: int
    data: dict[str, Any]
    attempts: int  # starts before this one that did not finish


class IncomingUpdates:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def store(self, update_id: int, data: dict[str, Any], now: datetime) -> bool:
        """Keep the update; False when it is already here (Telegram delivered it again)."""
        payload = self._database.cipher.encrypt_text(json.dumps(data, ensure_ascii=False))
        changed = await self._database.write(
            "INSERT OR IGNORE INTO incoming_updates (update_id, payload, received_at)"
            " VALUES (?, ?, ?)",
            (update_id, payload, ts(now)),
        )
        return changed == 1

    async def store_many(
        self, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime
    ) -> set[int]:
        """Keep a batch of updates (a getUpdates answer) in one write; the ids of those that
        were not here yet (the others Telegram delivered again)."""
        if not updates:
            return set()
        cipher, at = self._database.cipher, ts(now)
        values: list[Any] = []
        for update_id, data in updates:
            payload = cipher.encrypt_text(json.dumps(data, ensure_ascii=False))
            values += (update_id, payload, at)
        rows = await self._database.write_returning(
            "INSERT OR IGNORE INTO incoming_updates (update_id, payload, received_at) VALUES "
            + ", ".join(["(?, ?, ?)"] * len(updates))
            + " RETURNING update_id",
            values,
        )
        return {int(row[0]) for row in rows}

    async def reopen(self, max_attempts: int, now: datetime) -> list[StoredUpdate]:
        """The updates stored but not handled, oldest first, each counted as one more
        attempt; one that already took down `max_attempts` processes is given up."""
        async with self._database.transaction() as db:
            await db.execute(
                "UPDATE incoming_updates SET failed_at = ?, payload = NULL"
                " WHERE done_at IS NULL AND failed_at IS NULL AND attempts >= ?",
                (ts(now), max_attempts),
            )
            await db.execute(
                "UPDATE incoming_updates SET attempts = attempts + 1"
                " WHERE done_at IS NULL AND failed_at IS NULL"
            )
            rows = await fetch_all(
                db,
                "SELECT update_id, payload, attempts FROM incoming_updates"
                " WHERE done_at IS NULL AND failed_at IS NULL ORDER BY update_id",
            )
        cipher = self._database.cipher
        return [
            StoredUpdate(
                row["update_id"],
                json.loads(cipher.decrypt_text(row["payload"])),
                row["attempts"] - 1,
            )
            for row in rows
        ]

    async def given_up(self) -> list[int]:
        """Updates never handled because handling them kept killing the process."""
        return [
            row["update_id"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT update_id FROM incoming_updates WHERE failed_at IS NOT NULL"
                " ORDER BY update_id",
            )
        ]

    async def open_count(self) -> int:
        row = await fetch_one(
            self._database.connection,
            "SELECT COUNT(*) FROM incoming_updates WHERE done_at IS NULL AND failed_at IS NULL",
        )
        return int(row[0]) if row else 0

    async def mark_done(self, update_ids: Collection[int], now: datetime) -> None:
        await self._database.write_all(self.marked_done(update_ids, now))

    @staticmethod
    def marked_done(update_ids: Collection[int], now: datetime) -> list[Statement]:
        """The updates are handled; their data goes (statements for
        :meth:`Database.write_all`, in the caller's transaction)."""
        return [(_MARK_DONE, (ts(now), update_id)) for update_id in update_ids]

    async def prune(self, before: datetime) -> int:
        """Forget handled (and given-up) updates finished before `before`."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "DELETE FROM incoming_updates WHERE COALESCE(done_at, failed_at) < ?",
                (ts(before),),
            )
            return cur.rowcount
