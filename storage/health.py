"""What `python -m bot status` reads, and the bot's own heartbeats (the last update handled).

A heartbeat is one row per name with the time it last beat, written at most once a minute
by the bot (bot/flows/health.py), so recording it costs nothing measurable. Everything else
here only reads, and works on a connection opened read-only (``Storage.open_readonly``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from storage.base import Database, dt, fetch_one, ts
from storage.crypto import InvalidToken


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_pending: datetime | None  # when the oldest undelivered message was queued


class Health:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def beat(self, name: str, at: datetime) -> None:
        await self._database.write(
            "INSERT INTO heartbeats (name, at) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET at = excluded.at",
            (name, ts(at)),
        )

    async def last_beat(self, name: str) -> datetime | None:
        row = await fetch_one(
            self._database.connection, "SELECT at FROM heartbeats WHERE name = ?", (name,)
        )
        return dt(row["at"]) if row else None

    async def outbox(self) -> Backlog:
        row = await fetch_one(
            self._database.connection,
            "SELECT SUM(status = 'pending') AS pending, SUM(status = 'failed') AS failed,"
            " MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest FROM outbox",
        )
        oldest = row["oldest"] if row else None
        return Backlog(
            pending=int(row["pending"] or 0) if row else 0,
            failed=int(row["failed"] or 0) if row else 0,
            oldest_pending=datetime.fromtimestamp(oldest, UTC) if oldest else None,
        )

    async def visits_in(self, status: str) -> int:
        row = await fetch_one(
            self._database.connection, "SELECT COUNT(*) FROM visits WHERE status = ?", (status,)
        )
        return int(row[0]) if row else 0

    async def wrong_key(self) -> str | None:
        """ "encryption_key" when the configured data key does not open this database, ""
        when it does; None when nothing encrypted is stored yet. (The NIK index is keyed by
        the data key too, storage/crypto.py; the signing secret keys nothing stored.)"""
        row = await fetch_one(
            self._database.connection,
            "SELECT nik_enc FROM visitors WHERE nik_enc IS NOT NULL AND nik_enc != '' LIMIT 1",
        )
        if row is None:
            return None
        try:
            self._database.cipher.decrypt_text(row["nik_enc"])
        except InvalidToken:
            return "encryption_key"
        return ""
