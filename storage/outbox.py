"""The outbox: messages the workflow depends on, recorded before they are sent.

Items are written in the same transaction as the transition that causes them, so a
crash can never leave a decision without its notice or a badge undelivered. A
unique key per item makes enqueueing idempotent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiosqlite

if TYPE_CHECKING:
    from storage.db import Storage

MIGRATION = """
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    chat_id         INTEGER NOT NULL,
    visit_id        INTEGER,
    payload         TEXT NOT NULL DEFAULT '{}',
    blob            BLOB,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    sent_at         REAL,
    message_id      INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox(status, id);
"""

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class OutboxItem:
    """One message to deliver. ``key`` may contain ``{visit}``, filled in on submit."""

    key: str
    kind: str
    chat_id: int
    visit_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    blob: bytes | None = None


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    key: str
    kind: str
    chat_id: int
    visit_id: int | None
    payload: dict[str, Any]
    blob: bytes | None
    attempts: int
    next_attempt_at: float


async def insert_items(
    db: aiosqlite.Connection, items: list[OutboxItem], now: float, visit_id: int | None = None
) -> None:
    """Enqueue inside the caller's transaction; an item already queued is left alone."""
    for item in items:
        vid = item.visit_id if item.visit_id is not None else visit_id
        await db.execute(
            "INSERT OR IGNORE INTO outbox (key, kind, chat_id, visit_id, payload, blob,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                item.key.format(visit=vid),
                item.kind,
                item.chat_id,
                vid,
                json.dumps(item.payload, ensure_ascii=False),
                item.blob,
                now,
            ),
        )


class OutboxStore:
    """Queries of the delivery worker."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def heads(self, limit: int = 100) -> list[QueuedMessage]:
        """The oldest pending item of each chat: a chat's messages go out in order."""
        async with self._storage.connection.execute(
            "SELECT id, key, kind, chat_id, visit_id, payload, blob, attempts, next_attempt_at"
            " FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox WHERE status = ?"
            " GROUP BY chat_id) ORDER BY id LIMIT ?",
            (PENDING, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            QueuedMessage(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8])
            for r in rows
        ]

    async def mark_sent(self, item_id: int, now: float, message_id: int | None) -> None:
        # Neither the text (names) nor the blob (a badge carries its token) is kept once
        # delivered: the access log is elsewhere, this is only the queue.
        async with self._storage.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = ?, sent_at = ?, message_id = ?, blob = NULL,"
                " payload = '{}',"
                " attempts = attempts + 1, last_error = NULL WHERE id = ?",
                (SENT, now, message_id, item_id),
            )

    async def mark_retry(self, item_id: int, next_attempt_at: float, error: str) -> None:
        async with self._storage.transaction() as db:
            await db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                " WHERE id = ?",
                (next_attempt_at, error[:300], item_id),
            )

    async def mark_failed(self, item_id: int, error: str) -> None:
        async with self._storage.transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,"
                " blob = NULL WHERE id = ?",
                (FAILED, error[:300], item_id),
            )

    async def is_pending(self, item_id: int) -> bool:
        async with self._storage.connection.execute(
            "SELECT 1 FROM outbox WHERE id = ? AND status = ?", (item_id, PENDING)
        ) as cur:
            return await cur.fetchone() is not None

    async def counts(self) -> dict[str, int]:
        async with self._storage.connection.execute(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status"
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def sent_message_id(self, key: str) -> int | None:
        async with self._storage.connection.execute(
            "SELECT message_id FROM outbox WHERE key = ? AND status = ?", (key, SENT)
        ) as cur:
            row = await cur.fetchone()
        return row[0] if row else None
