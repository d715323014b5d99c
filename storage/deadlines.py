"""What the deadline job has already sent, so every deadline survives a restart.

The job (bot/flows/deadlines.py) decides from these columns and the clock; each "sent" mark is
written in the same transaction as the messages it queues, and only if nobody marked it
first, so a reminder, an escalation or an overstay alert goes out once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from storage.base import Database, dt, fetch_all, fetch_one
from storage.outbox import Outbox, OutboxItem


@dataclass(frozen=True)
class DeadlineMarks:
    visit_id: int
    reminded_at: datetime | None
    escalated_at: datetime | None
    overstay_alerts: int
    last_overstay_alert_at: datetime | None


def _marks(row: aiosqlite.Row) -> DeadlineMarks:
    return DeadlineMarks(
        visit_id=row["id"],
        reminded_at=dt(row["reminded_at"]),
        escalated_at=dt(row["escalated_at"]),
        overstay_alerts=row["overstay_alerts"],
        last_overstay_alert_at=dt(row["last_overstay_alert_at"]),
    )


class Deadlines:
    """The deadline job's reads and guarded writes."""

    def __init__(self, database: Database, outbox: Outbox) -> None:
        self._database = database
        self._outbox = outbox

    async def marks(self, status: str) -> dict[int, DeadlineMarks]:
        return {
            row["id"]: _marks(row)
            for row in await fetch_all(
                self._database.connection,
                "SELECT id, reminded_at, escalated_at, overstay_alerts, last_overstay_alert_at"
                " FROM visits WHERE status = ?",
                (status,),
            )
        }

    async def _mark(
        self,
        sql: str,
        params: tuple[object, ...],
        now: datetime,
        visit_id: int,
        messages: Sequence[OutboxItem],
    ) -> bool:
        async with self._database.transaction() as db:
            cur = await db.execute(sql, params)
            if cur.rowcount != 1:
                return False
            await self._outbox.enqueue(db, messages, now, visit_id)
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

    async def remind_planned(
        self, visit_id: int, now: datetime, messages: Sequence[OutboxItem]
    ) -> bool:
        """Mark a planned visit's day-before reminder sent and queue it; False if it was
        sent already, or the visit is no longer pending or scheduled."""
        return await self._mark(
            "UPDATE visits SET plan_reminded_at = ? WHERE id = ? AND plan_reminded_at IS NULL"
            " AND status IN ('pending', 'scheduled')",
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
        return [
            row["id"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT id FROM visits WHERE submitted_at >= ? AND submitted_at < ? ORDER BY id",
                (start.isoformat(), end.isoformat()),
            )
        ]

    async def last_review(self) -> date | None:
        row = await fetch_one(
            self._database.connection, "SELECT MAX(day) AS day FROM daily_reviews"
        )
        return date.fromisoformat(row["day"]) if row and row["day"] else None

    async def record_review(
        self, day: date, now: datetime, messages: Sequence[OutboxItem]
    ) -> bool:
        """The review of ``day``'s morning is sent once; False if it was already."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "INSERT OR IGNORE INTO daily_reviews (day, sent_at) VALUES (?, ?)",
                (day.isoformat(), now.isoformat()),
            )
            if cur.rowcount != 1:
                return False
            await self._outbox.enqueue(db, messages, now)
        return True
