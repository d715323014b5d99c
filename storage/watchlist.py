"""The watchlist's rows (migration 16): barred NIKs, found by their keyed hash.

The NIK is looked up by ``Cipher.nik_hash``, the NIK index's HMAC (storage/crypto.py), and
kept Fernet-encrypted beside it only so that a data key rotation can recompute that hash
(storage/keys.py ``_reindex_watchlist``); the reason is encrypted too. Every change is an
audit event in the same transaction; the event names the entry's id, never the NIK.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

import aiosqlite

from bot.core.visits import VisitStatus
from bot.core.watchlist import WatchEntry
from storage.audit import AuditLog
from storage.base import Database, dt, fetch_all, fetch_one, ts
from storage.outbox import Outbox, OutboxItem
from storage.visits import WATCHLIST_MATCH

_SELECT = "SELECT id, nik_enc, reason, blocked_by, blocked_at, lifted_by, lifted_at FROM watchlist"
# Audit actions (their detail is the entry id).
BLOCKED = "watchlist_block"
LIFTED = "watchlist_lift"


class Watchlist:
    def __init__(self, database: Database, audit: AuditLog, outbox: Outbox) -> None:
        self._database = database
        self._audit = audit
        self._outbox = outbox

    def _entry(self, row: aiosqlite.Row) -> WatchEntry:
        cipher = self._database.cipher
        return WatchEntry(
            id=row["id"],
            nik=cipher.decrypt_text(row["nik_enc"]),
            reason=cipher.decrypt_text(row["reason"]),
            blocked_by=row["blocked_by"],
            blocked_at=datetime.fromisoformat(row["blocked_at"]),
            lifted_by=row["lifted_by"],
            lifted_at=dt(row["lifted_at"]),
        )

    async def find(self, nik: str) -> WatchEntry | None:
        """The live entry for this NIK, or None (a read by key: every door scan asks)."""
        row = await self._database.read_one(
            _SELECT + " WHERE nik_hash = ? AND lifted_at IS NULL",
            (self._database.cipher.nik_hash(nik),),
        )
        return self._entry(row) if row else None

    async def get(self, entry_id: int) -> WatchEntry | None:
        row = await fetch_one(self._database.connection, _SELECT + " WHERE id = ?", (entry_id,))
        return self._entry(row) if row else None

    async def block(
        self,
        nik: str,
        reason: str,
        by: int,
        now: datetime,
        cards: Callable[[int], Sequence[OutboxItem]] = lambda visit_id: (),
    ) -> tuple[WatchEntry, list[int]] | None:
        """Put a NIK on the list, audited; None when it is already there (nothing changes).

        The holder's requests still waiting for a decision are marked as a match at submit
        would have marked them (one more tap to approve, the mark on every card: their
        ``cards(visit_id)`` redraws are queued), and audited as matches, as are visits
        approved in advance and not yet opened (the desk then issues no badge,
        bot/flows/workflow.py ``opening``); all in the same transaction. Both kinds' ids
        come back with the entry."""
        cipher = self._database.cipher
        async with self._database.transaction() as db:
            try:
                cur = await db.execute(
                    "INSERT INTO watchlist (nik_hash, nik_enc, reason, blocked_by, blocked_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        cipher.nik_hash(nik),
                        cipher.encrypt_text(nik),
                        cipher.seal(reason),
                        by,
                        ts(now),
                    ),
                )
            except sqlite3.IntegrityError:  # the live-entry index: already barred
                return None
            entry_id = cur.lastrowid
            assert entry_id is not None
            await self._audit.append(db, now, by, BLOCKED, detail=str(entry_id))
            holder = "visitor_id IN (SELECT id FROM visitors WHERE nik_hash = ?)"
            pending = await fetch_all(
                db,
                "UPDATE visits SET watchlisted = 1 WHERE status = ? AND watchlisted = 0"
                f" AND {holder} RETURNING id",
                (VisitStatus.PENDING.value, cipher.nik_hash(nik)),
            )
            # Approved in advance: not marked (the mark means "decided knowing it"), the
            # entry's time after the decision is what stops the badge at the desk.
            scheduled = await fetch_all(
                db,
                f"SELECT id FROM visits WHERE status = ? AND {holder}",
                (VisitStatus.SCHEDULED.value, cipher.nik_hash(nik)),
            )
            for row in pending:
                await self._outbox.enqueue(db, cards(int(row["id"])), now)
            flagged = sorted(int(row["id"]) for row in [*pending, *scheduled])
            for visit_id in flagged:
                await self._audit.append(
                    db, now, by, WATCHLIST_MATCH, visit_id, detail=str(entry_id)
                )
        return WatchEntry(entry_id, nik, reason, by, now), flagged

    async def lift(self, nik: str, by: int, now: datetime) -> WatchEntry | None:
        """Take a NIK off the list, audited; None when it is not on it."""
        async with self._database.transaction() as db:
            row = await fetch_one(
                db,
                "UPDATE watchlist SET lifted_by = ?, lifted_at = ?"
                " WHERE nik_hash = ? AND lifted_at IS NULL RETURNING id",
                (by, ts(now), self._database.cipher.nik_hash(nik)),
            )
            if row is None:
                return None
            await self._audit.append(db, now, by, LIFTED, detail=str(row["id"]))
            lifted = await fetch_one(db, _SELECT + " WHERE id = ?", (row["id"],))
        assert lifted is not None
        return self._entry(lifted)

    async def live(self) -> list[WatchEntry]:
        """Every NIK barred now, oldest first."""
        return [
            self._entry(row)
            for row in await fetch_all(
                self._database.connection, _SELECT + " WHERE lifted_at IS NULL ORDER BY id"
            )
        ]

    async def changed_between(self, start: datetime, end: datetime) -> list[WatchEntry]:
        """Entries barred or lifted in [start, end), for the daily review, oldest first."""
        return [
            self._entry(row)
            for row in await fetch_all(
                self._database.connection,
                _SELECT + " WHERE (blocked_at >= ? AND blocked_at < ?)"
                " OR (lifted_at >= ? AND lifted_at < ?) ORDER BY id",
                (ts(start), ts(end), ts(start), ts(end)),
            )
        ]
