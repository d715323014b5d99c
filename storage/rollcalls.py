"""Evacuation roll calls (issue 14, part 5): their start, every visitor's mark, their end.

One roll call is open at a time (a partial unique index), so two people starting one at
the same instant get the same roll call. Each write appends its audit event and queues the
messages it causes in the same transaction, like a visit's transition. Only ids and times
are stored here; the visitors' names are read from their visits when a message is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import aiosqlite

from bot.core.rollcall import Entry, MarkOutcome, RollCall
from bot.core.visits import VisitStatus
from storage.audit import AuditLog
from storage.base import Database, dt, fetch_all, fetch_one, ts
from storage.outbox import Outbox, OutboxItem

STARTED, MARKED, ENDED = "roll_call_started", "roll_call_marked", "roll_call_ended"

# The messages a write causes, given the roll call's id (and, for a mark, how many of its
# visitors are marked by now, so each mark's edits have keys of their own).
Messages = Callable[[int, int], Sequence[OutboxItem]]


def _entry(row: aiosqlite.Row) -> Entry:
    return Entry(
        visit_id=row["visit_id"],
        escort_id=row["escort_id"],
        entered_at=dt(row["entered_at"]),
        safe_at=dt(row["safe_at"]),
        marked_by=row["marked_by"],
    )


_RUNNING = "SELECT id FROM roll_calls WHERE ended_at IS NULL"


class RollCalls:
    def __init__(self, database: Database, audit: AuditLog, outbox: Outbox) -> None:
        self._database = database
        self._audit = audit
        self._outbox = outbox

    async def start(self, now: datetime, by: int, messages: Messages) -> tuple[RollCall, bool]:
        """Begin a roll call of every visitor inside and queue its messages; with nobody
        inside it ends at once. Returns (the roll call, True), or (the one already open,
        False): nothing is written then.

        Who is inside is read in the roll call's own transaction: read before it, a MASUK
        committed in between would leave that visitor out of an emergency count."""
        async with self._database.transaction() as db:
            open_id = await self._open_id(db)
            if open_id is not None:
                return await self._found(db, open_id), False
            inside = [
                (row["id"], row["entry_escort_id"], dt(row["entered_at"]))
                for row in await fetch_all(
                    db,
                    "SELECT id, entry_escort_id, entered_at FROM visits WHERE status = ?"
                    " ORDER BY id",
                    (VisitStatus.INSIDE.value,),
                )
            ]
            cur = await db.execute(
                "INSERT INTO roll_calls (started_at, started_by, ended_at) VALUES (?, ?, ?)",
                (ts(now), by, None if inside else ts(now)),
            )
            roll_id = int(cur.lastrowid or 0)
            await db.executemany(
                "INSERT INTO roll_call_entries (roll_call_id, visit_id, escort_id, entered_at)"
                " VALUES (?, ?, ?, ?)",
                [(roll_id, visit, escort, ts(at)) for visit, escort, at in inside],
            )
            await self._audit.append(db, now, by, STARTED, detail=f"{roll_id}:{len(inside)}")
            if not inside:
                await self._audit.append(db, now, by, ENDED, detail=f"{roll_id}:0")
            await self._outbox.enqueue(db, messages(roll_id, 0), now)
            return await self._found(db, roll_id), True

    async def mark(
        self, roll_id: int, visit_id: int, by: int, now: datetime, messages: Messages
    ) -> tuple[MarkOutcome, RollCall | None]:
        """Mark one visitor safe, once: a guarded UPDATE, so a double tap or two people at
        once yield one mark. The last mark ends the roll call in the same transaction."""
        async with self._database.transaction() as db:
            roll = await self._get(db, roll_id)
            entry = roll.entry(visit_id) if roll is not None else None
            if roll is None or entry is None:
                return MarkOutcome.UNKNOWN, roll
            if entry.safe:
                return MarkOutcome.ALREADY, roll
            if not roll.open:
                return MarkOutcome.CLOSED, roll
            await db.execute(
                "UPDATE roll_call_entries SET safe_at = ?, marked_by = ?"
                " WHERE roll_call_id = ? AND visit_id = ? AND safe_at IS NULL",
                (ts(now), by, roll_id, visit_id),
            )
            await self._audit.append(db, now, by, MARKED, visit_id, detail=str(roll_id))
            outcome = MarkOutcome.MARKED
            if len(roll.remaining) == 1:
                await db.execute(
                    "UPDATE roll_calls SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                    (ts(now), roll_id),
                )
                count = len(roll.entries)
                await self._audit.append(db, now, by, ENDED, detail=f"{roll_id}:{count}")
                outcome = MarkOutcome.ENDED
            marked = len(roll.entries) - len(roll.remaining) + 1
            await self._outbox.enqueue(db, messages(roll_id, marked), now)
            return outcome, await self._get(db, roll_id)

    async def get(self, roll_id: int) -> RollCall | None:
        return await self._get(self._database.connection, roll_id)

    async def running(self) -> bool:
        """Whether a roll call is in progress (a quick read: every exit asks)."""
        return await self._database.read_one(_RUNNING) is not None

    async def current(self) -> RollCall | None:
        """The roll call in progress, if any."""
        open_id = await self._open_id(self._database.connection)
        return await self.get(open_id) if open_id is not None else None

    async def between(self, start: datetime, end: datetime) -> list[RollCall]:
        """The roll calls begun in [start, end), oldest first (the reports)."""
        ids = [
            row["id"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT id FROM roll_calls WHERE started_at >= ? AND started_at < ? ORDER BY id",
                (ts(start), ts(end)),
            )
        ]
        return [r for i in ids if (r := await self.get(i)) is not None]

    async def of_visits(self, visit_ids: Sequence[int]) -> dict[int, list[tuple[RollCall, Entry]]]:
        """Each visit's roll calls, with its own entry (the reports' per-visit notes)."""
        if not visit_ids:
            return {}
        ids = [
            row["roll_call_id"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT DISTINCT roll_call_id FROM roll_call_entries"
                " WHERE visit_id IN (SELECT value FROM json_each(?)) ORDER BY roll_call_id",
                (f"[{','.join(str(int(v)) for v in visit_ids)}]",),
            )
        ]
        wanted = set(visit_ids)
        result: dict[int, list[tuple[RollCall, Entry]]] = {}
        for roll_id in ids:
            roll = await self.get(roll_id)
            for entry in roll.entries if roll is not None else ():
                if entry.visit_id in wanted and roll is not None:
                    result.setdefault(entry.visit_id, []).append((roll, entry))
        return result

    async def _open_id(self, db: aiosqlite.Connection) -> int | None:
        row = await fetch_one(db, _RUNNING)
        return int(row["id"]) if row is not None else None

    async def _found(self, db: aiosqlite.Connection, roll_id: int) -> RollCall:
        roll = await self._get(db, roll_id)
        assert roll is not None
        return roll

    async def _get(self, db: aiosqlite.Connection, roll_id: int) -> RollCall | None:
        row = await fetch_one(
            db,
            "SELECT id, started_at, started_by, ended_at FROM roll_calls WHERE id = ?",
            (roll_id,),
        )
        if row is None:
            return None
        entries = tuple(
            _entry(r)
            for r in await fetch_all(
                db,
                "SELECT visit_id, escort_id, entered_at, safe_at, marked_by FROM roll_call_entries"
                " WHERE roll_call_id = ? ORDER BY visit_id",
                (roll_id,),
            )
        )
        started = dt(row["started_at"])
        assert started is not None
        return RollCall(row["id"], started, row["started_by"], dt(row["ended_at"]), entries)
