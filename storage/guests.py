"""Self-registration links (migration 20, bot/core/guests.py): the keyed hash of each link's
secret, the officer who made it, the planned day and window, and its life.

Nothing of the visitor is kept here: not their Telegram id, not their answers (those become
the visit, encrypted like any other). A link is used up in the same transaction that stores
the visit it produced (``claim``, called by ``Visits.submit``), so a link yields one visit at
most, whoever taps first. Making a link is audited; its secret never is.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.core.guests import PER_DAY, VALID, GuestLink
from storage.audit import AuditLog
from storage.base import Database, dt, fetch_all, fetch_one, ts

_SELECT = (
    "SELECT id, officer_id, planned_date, planned_window, created_at, expires_at, used_at,"
    " visit_id FROM guest_links"
)
# Audit actions; their detail names the link by id, never by its secret.
CREATED = "guest_link_created"
USED = "guest_link_used"


def _link(row: aiosqlite.Row) -> GuestLink:
    return GuestLink(
        id=row["id"],
        officer_id=row["officer_id"],
        planned_date=row["planned_date"],
        window=row["planned_window"],
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=datetime.fromisoformat(row["expires_at"]),
        used_at=dt(row["used_at"]),
        visit_id=row["visit_id"],
    )


class LinkGone(Exception):
    """The link was used or expired meanwhile: the visit that would use it is not stored."""


class GuestLinks:
    def __init__(self, database: Database, audit: AuditLog) -> None:
        self._database = database
        self._audit = audit

    async def _recent(self, db: aiosqlite.Connection, officer_id: int, now: datetime) -> int:
        """How many links this officer made within the last VALID."""
        since = now - VALID
        rows = await fetch_all(
            db, "SELECT created_at FROM guest_links WHERE officer_id = ?", (officer_id,)
        )
        return sum(1 for row in rows if datetime.fromisoformat(row["created_at"]) > since)

    async def may_create(self, officer_id: int, now: datetime) -> bool:
        """Below the rate limit (asked before the officer fills in the day and window)."""
        return await self._recent(self._database.connection, officer_id, now) < PER_DAY

    async def create(
        self, token_hash: str, officer_id: int, planned_date: str, window: str, now: datetime
    ) -> GuestLink | None:
        """Store a new link, audited; None when the officer is at the rate limit (the count
        and the insert are one transaction, so two taps cannot both pass it)."""
        async with self._database.transaction() as db:
            if await self._recent(db, officer_id, now) >= PER_DAY:
                return None
            cur = await db.execute(
                "INSERT INTO guest_links (token_hash, officer_id, planned_date, planned_window,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash, officer_id, planned_date, window, ts(now), ts(now + VALID)),
            )
            link_id = cur.lastrowid
            assert link_id is not None
            await self._audit.append(db, now, officer_id, CREATED, detail=f"link{link_id}")
            link = await self._get(db, "id", link_id)
        assert link is not None
        return link

    async def find(self, token_hash: str) -> GuestLink | None:
        """The link with this secret's hash, used or not; None for a forged one."""
        return await self._get(self._database.connection, "token_hash", token_hash)

    async def get(self, link_id: int) -> GuestLink | None:
        return await self._get(self._database.connection, "id", link_id)

    async def _get(self, db: aiosqlite.Connection, column: str, value: object) -> GuestLink | None:
        assert column in ("id", "token_hash")
        row = await fetch_one(db, _SELECT + f" WHERE {column} = ?", (value,))
        return _link(row) if row else None

    async def claim(
        self, db: aiosqlite.Connection, link_id: int, visit_id: int, now: datetime
    ) -> None:
        """Inside the transaction storing the visit: use the link up, audited, or raise
        LinkGone (used meanwhile, or expired) so that nothing is stored."""
        link = await self._get(db, "id", link_id)
        if link is None or not link.usable(now):
            raise LinkGone
        await db.execute(
            "UPDATE guest_links SET used_at = ?, visit_id = ? WHERE id = ? AND used_at IS NULL",
            (ts(now), visit_id, link_id),
        )
        await self._audit.append(db, now, None, USED, visit_id, detail=f"link{link_id}")
