"""Door nonces: the MASUK/KELUAR button a scan showed is good for that scan only.

A nonce is a short random string carried on the button; the table keeps its hash, bound to
the visit, the escort who scanned, the step the button records and how the badge was read
(QR, photo, code). It lives a few minutes and is used once. Kept in SQLite, so a restart
between the scan and the tap loses nothing; a tap that forges or replays one finds no row.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from storage.base import Database, fetch_all, ts


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


@dataclass(frozen=True)
class DoorPass:
    """What a valid nonce was issued for: how the badge was read at the scan."""

    id: int
    visit_id: int
    escort_id: int
    action: str
    via: str


class DoorNonces:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def issue(
        self,
        nonce: str,
        visit_id: int,
        escort_id: int,
        action: str,
        via: str,
        now: datetime,
        until: datetime,
    ) -> None:
        """Store a fresh nonce; expired ones are swept in the same write."""
        await self._database.write_all(
            [
                ("DELETE FROM door_nonces WHERE expires_at <= ?", (ts(now),)),
                (
                    "INSERT INTO door_nonces (nonce_hash, visit_id, escort_id, action, via,"
                    " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (_digest(nonce), visit_id, escort_id, action, via, ts(now), ts(until)),
                ),
            ]
        )

    async def find(
        self, nonce: str, visit_id: int, escort_id: int, action: str, now: datetime
    ) -> DoorPass | None:
        """The unused, unexpired pass this nonce was issued for, or None (unknown, expired,
        used, another escort's, another visit's or another step's). Nothing is written: a
        tap the visit's state then refuses leaves the nonce as it was."""
        wanted = _digest(nonce)
        rows = await fetch_all(
            self._database.connection,
            "SELECT id, nonce_hash, via FROM door_nonces WHERE visit_id = ?"
            " AND escort_id = ? AND action = ? AND used_at IS NULL AND expires_at > ?",
            (visit_id, escort_id, action, ts(now)),
        )
        match = None
        for row in rows:
            # Compared in constant time: how far a guess matches must not show in the timing.
            if hmac.compare_digest(row["nonce_hash"], wanted):
                match = row
        if match is None:
            return None
        return DoorPass(int(match["id"]), visit_id, escort_id, action, match["via"])

    async def spent(self, nonce: str, visit_id: int, escort_id: int, action: str) -> bool:
        """Did this escort already use this very nonce for this step of this visit (a
        double tap: the first one recorded it)? Used passes are swept a few minutes after
        they expire, well after any double tap."""
        wanted = _digest(nonce)
        rows = await fetch_all(
            self._database.connection,
            "SELECT nonce_hash FROM door_nonces WHERE visit_id = ?"
            " AND escort_id = ? AND action = ? AND used_at IS NOT NULL",
            (visit_id, escort_id, action),
        )
        return any(hmac.compare_digest(row["nonce_hash"], wanted) for row in rows)

    async def spend(self, door_pass: DoorPass, now: datetime) -> bool:
        """Mark the pass used once its step is recorded; False if it was used already."""
        changed = await self._database.write(
            "UPDATE door_nonces SET used_at = ? WHERE id = ? AND used_at IS NULL",
            (ts(now), door_pass.id),
        )
        return changed == 1
