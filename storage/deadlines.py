"""What the deadline job has already sent, so every deadline survives a restart.

The job (bot/flows/deadlines.py) decides from these columns and the clock; each "sent" mark is
written in the same transaction as the messages it queues, and only if nobody marked it
first, so a reminder, an escalation or an overstay alert goes out once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from storage.outbox import OutboxItem, insert_items

if TYPE_CHECKING:
    from storage.db import Storage

MIGRATION = """
ALTER TABLE visits ADD COLUMN reminded_at TEXT;
ALTER TABLE visits ADD COLUMN escalated_at TEXT;
ALTER TABLE visits ADD COLUMN last_overstay_alert_at TEXT;
ALTER TABLE visits ADD COLUMN overstay_alerts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE daily_reviews (
    day     TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class DeadlineMarks:
    visit_id: int
    reminded_at: datetime | None
    escalated_at: datetime | None
    overstay_alerts: int
    last_overstay_alert_at: datetime | None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


class DeadlineStore:
    """The deadline job's reads and guarded writes."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def marks(self, status: str) -> dict[int, DeadlineMarks]:
        async with self._storage.connection.execute(
            "SELECT id, reminded_at, escalated_at, overstay_alerts, last_overstay_alert_at"
            " FROM visits WHERE status = ?",
            (status,),
        ) as cur:
            rows = await cur.fetchall()
        return {r[0]: DeadlineMarks(r[0], _dt(r[1]), _dt(r[2]), r[3], _dt(r[4])) for r in rows}

    async def _mark(
        self,
        sql: str,
        params: tuple[object, ...],
        now: datetime,
        visit_id: int,
        messages: Sequence[OutboxItem],
    ) -> bool:
        async with self._storage.transaction() as db:
            cur = await db.execute(sql, params)
            if cur.rowcount != 1:
                return False
            await insert_items(db, list(messages), now.timestamp(), visit_id)
        return True

    async def remind(self, visit_id: int, now: datetime, messages: Sequence[OutboxItem]) -> bool:
        """Mark the decision reminder sent and queue it; False if it was sent already."""
        return await self._mark(
            "UPDATE visits SET reminded_at = ? WHERE id = ? AND status = 'pending'"
            " AND reminded_at IS NULL",
            (now.isoformat(), visit_id),
            now,
            visit_id,
            messages,
        )

    async def escalate(self, visit_id: int, now: datetime, messages: Sequence[OutboxItem]) -> bool:
        """Mark the request escalated and queue the backups' cards; False if done already."""
        return await self._mark(
            "UPDATE visits SET escalated_at = ?, reminded_at = COALESCE(reminded_at, ?)"
            " WHERE id = ? AND status = 'pending' AND escalated_at IS NULL",
            (now.isoformat(), now.isoformat(), visit_id),
            now,
            visit_id,
            messages,
        )

    async def overstay(
        self, visit_id: int, number: int, now: datetime, messages: Sequence[OutboxItem]
    ) -> bool:
        """Record overstay alert ``number`` (1, 2, ...) and queue it; False if not newer."""
        return await self._mark(
            "UPDATE visits SET overstay_alerts = ?, last_overstay_alert_at = ?"
            " WHERE id = ? AND status = 'inside' AND overstay_alerts < ?",
            (number, now.isoformat(), visit_id, number),
            now,
            visit_id,
            messages,
        )

    async def submitted_between(self, start: datetime, end: datetime) -> list[int]:
        """Ids of the visits submitted in [start, end) (timestamps are stored in UTC)."""
        async with self._storage.connection.execute(
            "SELECT id FROM visits WHERE submitted_at >= ? AND submitted_at < ? ORDER BY id",
            (start.isoformat(), end.isoformat()),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def last_review(self) -> date | None:
        async with self._storage.connection.execute("SELECT MAX(day) FROM daily_reviews") as cur:
            row = await cur.fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    async def record_review(
        self, day: date, now: datetime, messages: Sequence[OutboxItem]
    ) -> bool:
        """The review of ``day``'s morning is sent once; False if it was already."""
        async with self._storage.transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO daily_reviews (day, sent_at) VALUES (?, ?)",
                (day.isoformat(), now.isoformat()),
            )
            if cur.rowcount != 1:
                return False
            await insert_items(db, list(messages), now.timestamp())
        return True
