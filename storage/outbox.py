"""The outbox: messages the workflow depends on, recorded before they are sent.

Items are written in the same transaction as the transition that causes them, so a
crash can never leave a decision without its notice or a badge undelivered. A
unique key per item makes enqueueing idempotent.

A message's payload (texts and captions name visitors; a badge's caption carries its manual
code) and its blob (the badge image carries the token) are encrypted with the data key as
they are queued and decrypted as the worker reads them, so the delivery code never sees
ciphertext. Both are cleared once the row is delivered, given up on, or its visit erased.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from bot.core.roles import Role
from storage.base import Database, Statement, fetch_all, fetch_one
from storage.crypto import Cipher, InvalidToken

PENDING, SENT, FAILED = "pending", "sent", "failed"
# Not sent because its recipient no longer holds the role it was for (issue 10): audited.
WITHHELD = "withheld"
CLEARED = ""  # the payload of a row whose content is gone (delivered, failed, erased)
# Kinds that store nothing about the visit: they edit a delivered message, rendered from the
# visit as it is when sent, so after an erasure they show the anonymized visit.
RENDERED_AT_SEND = ("card_update", "badge_void", "notice_void", "redraw")
# The kind of an item that redraws a delivered message showing a visit's KTP photo or the
# visitor's details, once the photo is deleted or the visit anonymized (storage/privacy.py).
REDRAW = "redraw"


@dataclass(frozen=True)
class OutboxItem:
    """One message to deliver. ``key`` may contain ``{visit}``, filled in on submit.

    ``for_role``: the role the recipient gets it as (the officer's badge, an approver's card);
    checked again when it is sent, so someone who lost the role since gets nothing."""

    key: str
    kind: str
    chat_id: int
    visit_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    blob: bytes | None = None
    for_role: Role | None = None


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
    for_role: Role | None = None  # None: queued before roles were recorded, or for anyone


_COLUMNS = "id, key, kind, chat_id, visit_id, payload, blob, attempts, next_attempt_at, for_role"


@dataclass(frozen=True)
class Waiting:
    """A lane's next pending item, as the delivery worker schedules it (no content).

    A lane is one chat's messages about one visit (or about no visit): they go out in the
    order they were queued; different lanes of a chat need not wait for each other."""

    id: int
    key: str
    chat_id: int
    visit_id: int | None
    next_attempt_at: float

    @property
    def lane(self) -> tuple[int, int | None]:
        return self.chat_id, self.visit_id


_WAITING_COLUMNS = "id, key, chat_id, visit_id, next_attempt_at"


def _waiting(row: aiosqlite.Row) -> Waiting:
    return Waiting(row["id"], row["key"], row["chat_id"], row["visit_id"], row["next_attempt_at"])


def _role(value: str | None) -> Role | None:
    try:
        return Role(value) if value is not None else None
    except ValueError:
        return None  # a role this version does not know: sent as before


def seal_payload(payload: dict[str, Any], cipher: Cipher) -> str:
    return cipher.encrypt_text(json.dumps(payload, ensure_ascii=False)) if payload else CLEARED


def _queued(row: aiosqlite.Row, cipher: Cipher) -> QueuedMessage:
    payload, blob = row["payload"], row["blob"]
    return QueuedMessage(
        id=row["id"],
        key=row["key"],
        kind=row["kind"],
        chat_id=row["chat_id"],
        visit_id=row["visit_id"],
        payload=json.loads(cipher.decrypt_text(payload)) if payload else {},
        blob=cipher.decrypt(blob) if blob is not None else None,
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        for_role=_role(row["for_role"]),
    )


# Each mark names the chat the item went to: a pending item handed to another officer while
# its send was on the wire (Staff.reassign_visit) is still owed to them, not done.
_MARK_SENT = (
    "UPDATE outbox SET status = ?, sent_at = ?, message_id = ?, blob = NULL,"
    " payload = ?, attempts = attempts + 1, last_error = NULL"
    " WHERE id = ? AND chat_id = ? AND status = 'pending'"
)


class Outbox:
    """The queue: enqueued by every repository's writes, drained by the delivery worker."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def enqueue(
        self,
        db: aiosqlite.Connection,
        items: Sequence[OutboxItem],
        now: datetime,
        visit_id: int | None = None,
    ) -> None:
        """Queue inside the caller's transaction; an item already queued is left alone."""
        cipher = self._database.cipher
        rows = []
        for item in items:
            vid = item.visit_id if item.visit_id is not None else visit_id
            rows.append(
                (
                    item.key.format(visit=vid),
                    item.kind,
                    item.chat_id,
                    vid,
                    seal_payload(item.payload, cipher),
                    cipher.encrypt(item.blob) if item.blob is not None else None,
                    now.timestamp(),
                    item.for_role.value if item.for_role is not None else None,
                )
            )
        if rows:  # one trip to the database thread for all of them
            await db.executemany(
                "INSERT OR IGNORE INTO outbox (key, kind, chat_id, visit_id, payload, blob,"
                " created_at, for_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    async def queue(self, items: Sequence[OutboxItem], now: datetime) -> None:
        """Queue in a transaction of its own (messages no transition causes, e.g. alerts)."""
        async with self._database.transaction() as db:
            await self.enqueue(db, items, now)

    async def waiting(self, limit: int = 100) -> list[Waiting]:
        """The oldest pending item of each lane (a chat and a visit, `Waiting`), without its
        content: a lane's messages go out in order. Nothing is decrypted here; the worker
        reads the few items it sends now with `pending` (a queue of many chats is looked at
        after every send)."""
        rows = await self._database.read(
            f"SELECT {_WAITING_COLUMNS} FROM outbox WHERE id IN"
            " (SELECT MIN(id) FROM outbox WHERE status = ? GROUP BY chat_id, visit_id)"
            " ORDER BY id LIMIT ?",
            (PENDING, limit),
            committed=True,
        )
        return [_waiting(row) for row in rows]

    async def newer(self, after_id: int, limit: int = 1000) -> list[Waiting]:
        """Pending items queued after ``after_id``, oldest first (the delivery worker adds the
        lanes it did not know)."""
        rows = await self._database.read(
            f"SELECT {_WAITING_COLUMNS} FROM outbox WHERE status = ? AND id > ? ORDER BY id"
            " LIMIT ?",
            (PENDING, after_id, limit),
            committed=True,
        )
        return [_waiting(row) for row in rows]

    async def lane_head(self, chat_id: int, visit_id: int | None) -> Waiting | None:
        """The oldest pending item of one lane (after its last one was sent or retried)."""
        row = await self._database.read_one(
            f"SELECT {_WAITING_COLUMNS} FROM outbox"
            " WHERE status = ? AND chat_id = ? AND visit_id IS ? ORDER BY id LIMIT 1",
            (PENDING, chat_id, visit_id),
            committed=True,
        )
        return _waiting(row) if row is not None else None

    async def pending(self, item_id: int) -> QueuedMessage | None:
        """The item with its content decrypted, if it is still pending. One that cannot be
        decrypted (another key, or altered) can never be sent: it is marked failed."""
        row = await self._database.read_one(
            f"SELECT {_COLUMNS} FROM outbox WHERE id = ? AND status = ?",
            (item_id, PENDING),
            committed=True,
        )
        if row is None:
            return None
        try:
            return _queued(row, self._database.cipher)
        except (InvalidToken, ValueError):
            await self.mark_failed(item_id, "payload unreadable with the data key")
            return None

    async def heads(self, limit: int = 100) -> list[QueuedMessage]:
        """The oldest pending item of each lane, decrypted (unreadable ones marked failed)."""
        heads = []
        for waiting in await self.waiting(limit):
            item = await self.pending(waiting.id)
            if item is not None:
                heads.append(item)
        return heads

    async def mark_sent(
        self, item_id: int, chat_id: int, now: float, message_id: int | None
    ) -> bool:
        """Delivered to ``chat_id``; False if the item was handed to another chat meanwhile
        (it stays pending, for them). Neither the text (names) nor the blob (a badge carries
        its token) is kept once delivered: the access log is elsewhere, this is the queue."""
        params = (SENT, now, message_id, CLEARED, item_id, chat_id)
        return await self._database.write(_MARK_SENT, params) == 1

    @staticmethod
    def marked_sent(item_id: int, chat_id: int, now: float, message_id: int | None) -> Statement:
        """mark_sent as a statement of the caller's transaction (`Database.write_all`), with
        what the delivery recorded."""
        return _MARK_SENT, (SENT, now, message_id, CLEARED, item_id, chat_id)

    async def mark_retry(
        self, item_id: int, next_attempt_at: float, error: str, chat_id: int | None = None
    ) -> None:
        """Try again at ``next_attempt_at``; with ``chat_id``, only if it is still for them."""
        await self._database.write(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE id = ? AND (? IS NULL OR chat_id = ?)",
            (next_attempt_at, error[:300], item_id, chat_id, chat_id),
        )

    async def mark_failed(self, item_id: int, error: str, chat_id: int | None = None) -> None:
        """Given up on: nothing of it is kept but what it was and why it failed. With
        ``chat_id``, only while it is still for them (a refusal by someone it was taken
        from says nothing about the one who has it now)."""
        await self._database.write(
            "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,"
            " blob = NULL, payload = ? WHERE id = ? AND (? IS NULL OR chat_id = ?)",
            (FAILED, error[:300], CLEARED, item_id, chat_id, chat_id),
        )

    async def fail_and_tell(
        self,
        item_id: int,
        chat_id: int,
        error: str,
        now: datetime,
        notices: Sequence[OutboxItem],
    ) -> bool:
        """Mark an item refused for good and queue the notices about it, atomically, so a
        crash never leaves a failure nobody hears about (bot/flows/undeliverable.py).

        Only while the item is still for ``chat_id``: one handed to another person while
        the refusal was on its way (a handover) stays theirs, and nobody is told of a
        failure that was not its last word. False then."""
        async with self._database.transaction() as db:
            cursor = await db.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?,"
                " payload = ?, blob = NULL WHERE id = ? AND chat_id = ?",
                (FAILED, error[:300], CLEARED, item_id, chat_id),
            )
            if cursor.rowcount == 0:
                return False
            await self.enqueue(db, notices, now)
            return True

    async def failed_to(self, chat_id: int) -> list[tuple[str, str, int]]:
        """What Telegram refused for good to this chat about a visit: (key, kind, visit id),
        oldest first. Read when the person comes back (undeliverable.returned)."""
        rows = await fetch_all(
            self._database.connection,
            "SELECT key, kind, visit_id FROM outbox WHERE chat_id = ? AND status = ?"
            " AND visit_id IS NOT NULL ORDER BY id",
            (chat_id, FAILED),
        )
        return [(str(r["key"]), str(r["kind"]), int(r["visit_id"])) for r in rows]

    async def reached(self, visit_id: int, chat_id: int, purpose: str) -> bool:
        """Whether a message of this purpose (its key's first part: "card", "badge_png")
        about the visit was sent to the chat or is on its way; one sent again after a
        failure is a row of its own, and counts."""
        row = await fetch_one(
            self._database.connection,
            "SELECT 1 FROM outbox WHERE visit_id = ? AND chat_id = ? AND status != ?"
            " AND substr(key, 1, length(?) + 1) = ? || ':' LIMIT 1",
            (visit_id, chat_id, FAILED, purpose, purpose),
        )
        return row is not None

    async def card_states(self, visit_id: int) -> dict[int, str]:
        """Each approval card of a visit: its chat and whether it is pending, sent or failed."""
        return {
            row["chat_id"]: row["status"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT chat_id, status FROM outbox WHERE visit_id = ? AND kind = 'card'",
                (visit_id,),
            )
        }

    async def withhold_in(self, db: aiosqlite.Connection, item_id: int, reason: str) -> bool:
        """Inside the caller's transaction (AuditLog.withhold): not sent, and never will be."""
        cur = await db.execute(
            "UPDATE outbox SET status = ?, last_error = ?, blob = NULL, payload = ?"
            " WHERE id = ? AND status = ?",
            (WITHHELD, reason[:300], CLEARED, item_id, PENDING),
        )
        return cur.rowcount == 1

    async def scrub(self, db: aiosqlite.Connection, visit_ids: Sequence[int], why: str) -> int:
        """Inside the caller's transaction: the undelivered messages about ``visit_ids`` that
        hold anything of the visit (texts, badges, approval cards with the KTP photo) are
        cleared and given up; edits rendered at send time stay queued. Returns how many."""
        if not visit_ids:
            return 0
        kinds = ", ".join("?" * len(RENDERED_AT_SEND))
        cur = await db.execute(
            "UPDATE outbox SET status = ?, payload = ?, blob = NULL, last_error = ?"
            " WHERE visit_id IN (SELECT value FROM json_each(?)) AND status = ?"
            f" AND kind NOT IN ({kinds})",
            (FAILED, CLEARED, why, json.dumps(list(visit_ids)), PENDING, *RENDERED_AT_SEND),
        )
        return cur.rowcount

    async def newer_pending(self, item: QueuedMessage, key_prefix: str) -> bool:
        """Is a later item of the same kind, whose key starts with ``key_prefix``, waiting
        for the same chat? Then ``item`` (an edit drawn at send time) has nothing to add."""
        return (
            await fetch_one(
                self._database.connection,
                "SELECT 1 FROM outbox WHERE chat_id = ? AND kind = ? AND status = ? AND id > ?"
                " AND substr(key, 1, ?) = ? LIMIT 1",
                (item.chat_id, item.kind, PENDING, item.id, len(key_prefix), key_prefix),
            )
            is not None
        )

    async def chats_keyed(self, prefix: str) -> list[int]:
        """The chats of every item whose key starts with ``prefix`` (a notice about a visit:
        who was told, whether or not it went out yet), by the key's own index."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = await self._database.read(
            "SELECT DISTINCT chat_id FROM outbox WHERE key >= ? AND key < ? ORDER BY chat_id",
            (prefix, upper),
        )
        return [int(row["chat_id"]) for row in rows]

    async def delivered_message(self, key: str) -> int | None:
        """The Telegram message id an item was delivered as (to edit it later), if it was:
        the item keyed ``key``, or the newest one sent again under it (``key:<when>``, a
        badge issued anew, bot/flows/reachable.py)."""
        row = await fetch_one(
            self._database.connection,
            "SELECT message_id FROM outbox WHERE (key = ? OR substr(key, 1, length(?) + 1)"
            " = ? || ':') AND status = ? ORDER BY id DESC LIMIT 1",
            (key, key, key, SENT),
        )
        return int(row["message_id"]) if row and row["message_id"] is not None else None

    async def counts(self) -> dict[str, int]:
        return {
            row["status"]: row["n"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status",
            )
        }
