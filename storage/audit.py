"""Verify the audit log's hash chain (``python -m bot audit verify``).

Each event stores the hash of the one before it and a hash over its own fields
(storage.db.audit_hash). Walking the rows in order finds the first one that was edited
(its hash no longer matches its fields), removed or inserted (the link to the previous
row breaks, or the ids jump). The file is opened read-only: checking changes nothing.

Removing the newest rows leaves a shorter chain that still verifies; compare the head
hash printed by a previous run, kept somewhere else, to catch that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.db import GENESIS_HASH, audit_hash

_FIELDS = ("at", "actor_id", "action", "visit_id", "from_status", "to_status", "detail")


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
    """Walk the chain in the database at ``path`` (which must exist)."""
    sql = f"SELECT id, {', '.join(_FIELDS)}, prev_hash, hash FROM audit_events ORDER BY id"
    async with aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        rows = list(await db.execute_fetchall(sql))
    prev, prev_id = GENESIS_HASH, 0
    for count, row in enumerate(rows):
        event_id, fields, stored_prev, stored_hash = row[0], tuple(row[1:8]), row[8], row[9]
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
