"""The audit log: append-only, hash-chained events, and the check of that chain.

Each event stores the hash of the one before it and a hash over its own fields, so
walking the rows in order (``python -m bot audit verify``) finds the first one that was
edited (its hash no longer matches its fields), removed or inserted (the link to the
previous row breaks, or the ids jump). Removing the newest rows leaves a shorter chain
that still verifies; compare the head hash printed by a previous run, kept elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.base import Database, ts
from storage.migrations import HEAD, SchemaTooNew, schema_version
from storage.outbox import Outbox, OutboxItem

GENESIS_HASH = "0" * 64

_FIELDS = ("at", "actor_id", "action", "visit_id", "from_status", "to_status", "detail")
_SELECT = f"SELECT id, {', '.join(_FIELDS)}, prev_hash, hash FROM audit_events"


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    visit_id: int | None
    from_status: str | None
    to_status: str | None
    detail: str
    prev_hash: str
    hash: str


def _event(row: aiosqlite.Row) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        actor_id=row["actor_id"],
        action=row["action"],
        visit_id=row["visit_id"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        detail=row["detail"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def audit_hash(prev_hash: str, fields: Sequence[object]) -> str:
    """Chain link: sha256 over the previous hash and this event's fields."""
    payload = "\x1f".join([prev_hash, *("" if f is None else str(f) for f in fields)])
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditLog:
    """Appends happen inside the caller's transaction, next to the change they record."""

    def __init__(self, database: Database, outbox: Outbox) -> None:
        self._database = database
        self._outbox = outbox

    async def append(
        self,
        db: aiosqlite.Connection,
        at: datetime,
        actor_id: int | None,
        action: str,
        visit_id: int | None = None,
        from_status: str | None = None,
        to_status: str | None = None,
        detail: str = "",
    ) -> None:
        """Add one event to the chain; ``db`` is the connection of an open transaction."""
        async with db.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        prev = row["hash"] if row else GENESIS_HASH
        fields = (ts(at), actor_id, action, visit_id, from_status, to_status, detail)
        await db.execute(
            "INSERT INTO audit_events (at, actor_id, action, visit_id, from_status, to_status,"
            " detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, prev, audit_hash(prev, fields)),
        )

    async def record(
        self,
        now: datetime,
        actor_id: int | None,
        action: str,
        visit_id: int | None = None,
        detail: str = "",
        messages: Sequence[OutboxItem] = (),
    ) -> None:
        """An event that is not a transition (a refused stranger, a forged badge), with
        the alerts it causes queued in the same transaction."""
        async with self._database.transaction() as db:
            await self.append(db, now, actor_id, action, visit_id, detail=detail)
            await self._outbox.enqueue(db, messages, now, visit_id)

    async def count(
        self, actor_id: int, action: str, since: datetime, detail: str | None = None
    ) -> int:
        """How often someone did something lately (rate limits derive from the audit log)."""
        sql = "SELECT COUNT(*) FROM audit_events WHERE actor_id = ? AND action = ? AND at >= ?"
        params: tuple[object, ...] = (actor_id, action, ts(since))
        if detail is not None:
            sql += " AND detail = ?"
            params = (*params, detail)
        async with self._database.connection.execute(sql, params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def events(self, visit_id: int | None = None) -> list[AuditEvent]:
        sql = _SELECT
        params: tuple[object, ...] = ()
        if visit_id is not None:
            sql += " WHERE visit_id = ?"
            params = (visit_id,)
        async with self._database.connection.execute(sql + " ORDER BY id", params) as cur:
            return [_event(row) for row in await cur.fetchall()]

    async def last_at(self, action: str) -> datetime | None:
        async with self._database.connection.execute(
            "SELECT at FROM audit_events WHERE action = ? ORDER BY id DESC LIMIT 1", (action,)
        ) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row["at"]) if row else None


@dataclass(frozen=True)
class ChainReport:
    count: int
    head: str  # the last event's hash: the chain's fingerprint, to keep elsewhere
    broken_at: int | None = None  # id of the first event that does not verify
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify(path: Path) -> ChainReport:
    """Walk the chain in the database at ``path`` (which must exist), opened read-only."""
    async with aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        version = await schema_version(db)
        if version > HEAD:  # its chain may be computed in a way this program does not know
            raise SchemaTooNew(version)
        db.row_factory = aiosqlite.Row
        rows = list(await db.execute_fetchall(_SELECT + " ORDER BY id"))
    prev, prev_id = GENESIS_HASH, 0
    for count, row in enumerate(rows):
        event_id, stored_prev, stored_hash = row["id"], row["prev_hash"], row["hash"]
        fields = tuple(row[name] for name in _FIELDS)
        if event_id != prev_id + 1:
            return ChainReport(
                count,
                prev,
                event_id,
                f"ids jump from {prev_id} to {event_id}: event(s) removed",
            )
        if stored_prev != prev:
            return ChainReport(
                count,
                prev,
                event_id,
                f"prev_hash {stored_prev[:12]}... is not the hash of event {prev_id}"
                f" ({prev[:12]}...): an event before it was changed, removed or inserted",
            )
        if audit_hash(stored_prev, fields) != stored_hash:
            return ChainReport(
                count,
                prev,
                event_id,
                f"its fields do not match its hash: the row was edited (now: {_describe(fields)})",
            )
        prev, prev_id = stored_hash, event_id
    return ChainReport(len(rows), prev)


def _describe(fields: tuple[object, ...]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in zip(_FIELDS, fields, strict=True))
