"""SQL for the access log's reports: visits in a period, and one visitor's history.

Reads only, on the Storage's connection. Timestamps are stored as UTC ISO strings (the
bot's clock is UTC), so a period is compared as text and uses the visits_submitted index.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.core.visits import Visit
from storage.db import _VISIT_SELECT, _visit

if TYPE_CHECKING:
    from storage.db import Storage

HISTORY_LIMIT = 20


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("report bounds must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


async def count_visits_between(store: Storage, start: datetime, end: datetime) -> int:
    """How many requests were submitted in [start, end)."""
    async with store.connection.execute(
        "SELECT count(*) FROM visits WHERE submitted_at >= ? AND submitted_at < ?",
        (_utc(start), _utc(end)),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def visits_between(store: Storage, start: datetime, end: datetime) -> list[Visit]:
    """Every request submitted in [start, end), oldest first, with its staff ids."""
    async with store.connection.execute(
        _VISIT_SELECT
        + " WHERE v.submitted_at >= ? AND v.submitted_at < ? ORDER BY v.submitted_at, v.id",
        (_utc(start), _utc(end)),
    ) as cur:
        rows = await cur.fetchall()
    return [_visit(row, store.cipher) for row in rows]


async def history_by_nik(store: Storage, nik: str, limit: int = HISTORY_LIMIT) -> list[Visit]:
    """One person's visits, newest first (found through the keyed NIK hash)."""
    async with store.connection.execute(
        _VISIT_SELECT + " WHERE p.nik_hash = ? ORDER BY v.submitted_at DESC, v.id DESC LIMIT ?",
        (store.cipher.nik_hash(nik), limit),
    ) as cur:
        rows = await cur.fetchall()
    return [_visit(row, store.cipher) for row in rows]


async def history_by_name(store: Storage, name: str, limit: int = HISTORY_LIMIT) -> list[Visit]:
    """Visits of everyone whose name contains ``name`` (case-insensitive), newest first."""
    pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with store.connection.execute(
        _VISIT_SELECT
        + " WHERE p.name LIKE ? ESCAPE '\\' ORDER BY v.submitted_at DESC, v.id DESC LIMIT ?",
        (pattern, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [_visit(row, store.cipher) for row in rows]
