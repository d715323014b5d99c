"""The escorts' duty roster in SQLite (migration 22): one row per shift, kept as history.
Starting and ending a shift are audited (``duty_started``, ``duty_ended``); a shift that
lapsed at the end of its day is closed at its ``until`` the next time its escort's row is
touched, without an event: nobody did anything.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.core.duty import Shift
from storage.audit import AuditLog
from storage.base import Database, fetch_all, fetch_one

_COLUMNS = "user_id, started_at, until, ended_at"


def _shift(row: aiosqlite.Row) -> Shift:
    ended = row["ended_at"]
    return Shift(
        user_id=row["user_id"],
        started_at=datetime.fromisoformat(row["started_at"]),
        until=datetime.fromisoformat(row["until"]),
        ended_at=datetime.fromisoformat(ended) if ended is not None else None,
    )


async def _open_shift(db: aiosqlite.Connection, user_id: int) -> Shift | None:
    sql = f"SELECT {_COLUMNS} FROM escort_duty WHERE user_id = ? AND ended_at IS NULL"
    row = await fetch_one(db, sql, (user_id,))
    return _shift(row) if row else None


async def _close(db: aiosqlite.Connection, user_id: int, at: datetime) -> None:
    await db.execute(
        "UPDATE escort_duty SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
        (at.isoformat(), user_id),
    )


async def end_open_shift(
    db: aiosqlite.Connection,
    audit: AuditLog,
    user_id: int,
    actor_id: int | None,
    now: datetime,
    reason: str,
) -> bool:
    """End this person's running shift inside the caller's transaction (the escort's own
    "off", or their role or place on the staff taken away); a lapsed one is only closed.
    True if a running shift ended."""
    shift = await _open_shift(db, user_id)
    if shift is None:
        return False
    running = shift.running(now)
    await _close(db, user_id, now if running else shift.until)
    if running:
        await audit.append(db, now, actor_id, "duty_ended", detail=f"{user_id}:{reason}")
    return running


class Duty:
    """Who is on duty: started by the escort, ended by them, by the day's end, or by losing
    the role."""

    def __init__(self, database: Database, audit: AuditLog) -> None:
        self._database = database
        self._audit = audit

    async def open_shifts(self) -> list[Shift]:
        """Shifts not ended by hand (some may have lapsed: Shift.running says)."""
        sql = f"SELECT {_COLUMNS} FROM escort_duty WHERE ended_at IS NULL ORDER BY started_at"
        return [_shift(row) for row in await fetch_all(self._database.connection, sql)]

    async def start(self, user_id: int, now: datetime, until: datetime) -> bool:
        """Go on duty until ``until`` (the end of the local day); False, and nothing
        written, when already on duty (a second tap)."""
        async with self._database.transaction() as db:
            shift = await _open_shift(db, user_id)
            if shift is not None and shift.running(now):
                return False
            if shift is not None:  # yesterday's, never ended by hand: it lapsed
                await _close(db, user_id, shift.until)
            await db.execute(
                "INSERT INTO escort_duty (user_id, started_at, until) VALUES (?, ?, ?)",
                (user_id, now.isoformat(), until.isoformat()),
            )
            await self._audit.append(
                db, now, user_id, "duty_started", detail=f"{user_id}:{until.isoformat()}"
            )
        return True

    async def end(self, user_id: int, now: datetime) -> bool:
        """Go off duty; False, and nothing audited, when not on duty (a second tap)."""
        async with self._database.transaction() as db:
            return await end_open_shift(db, self._audit, user_id, user_id, now, "off")
