"""SQL for the access log's reports: visits in a period, and one visitor's history.

Reads only. Timestamps are stored as UTC ISO strings (the bot's clock is UTC), so a
period is compared as text and uses the visits_submitted index. Names are encrypted
(storage/crypto.py), so a search by name decrypts the visitors' names and matches here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime

from bot.core.visits import Visit
from storage.base import Database, fetch_all
from storage.visits import VISIT_SELECT, Opener, visit_from_row

HISTORY_LIMIT = 20
PAGE = 500  # visits a page of visit_pages


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("report bounds must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


class Reports:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def _visits(
        self, where: str, params: tuple[object, ...], unopened: Collection[str] = ()
    ) -> list[Visit]:
        async with self._database.connection.execute(VISIT_SELECT + where, params) as cur:
            rows = await cur.fetchall()
            names = [column[0] for column in cur.description]
        cipher = self._database.cipher
        # A returning visitor's row repeats (same ciphertext): decrypt each cell once.
        unseal = functools.lru_cache(maxsize=None)(cipher.unseal)
        return [
            visit_from_row(dict(zip(names, row, strict=True)), cipher, unseal, unopened)
            for row in rows
        ]

    async def visits_between(
        self, start: datetime, end: datetime, *, unopened: Collection[str] = ()
    ) -> list[Visit]:
        """Every request submitted in [start, end), oldest first, with its staff ids.

        The encrypted columns named in ``unopened`` (Visit attributes: "phone",
        "ktp_file_id") are left empty instead of decrypted: the access log passes the ones
        it never shows (bot/reports/log.py ``UNSHOWN``), a few thousand decryptions fewer
        for a month's log.
        """
        return await self._visits(
            " WHERE v.submitted_at >= ? AND v.submitted_at < ? ORDER BY v.submitted_at, v.id",
            (_utc(start), _utc(end)),
            unopened,
        )

    async def visit_pages(
        self,
        start: datetime,
        end: datetime,
        *,
        unopened: Collection[str] = (),
        size: int = PAGE,
    ) -> AsyncIterator[list[Visit]]:
        """``visits_between`` in pages of ``size``, oldest first: the export writes a page's
        rows while the next is read (bot/reports/export.py ``load_with_xlsx``).

        Each page is a query of its own, after the last one's (submitted_at, id), so no
        statement stays open on the bot's shared connection between pages; a visit
        submitted meanwhile is in a later page if it falls in the period.
        """
        cipher = self._database.cipher
        unseal: Opener = functools.lru_cache(maxsize=None)(cipher.unseal)  # across pages
        where = " WHERE v.submitted_at >= ? AND v.submitted_at < ?"
        after = " AND (v.submitted_at > ? OR v.id > ?)"
        order = " ORDER BY v.submitted_at, v.id LIMIT ?"
        params: tuple[object, ...] = (_utc(start), _utc(end), size)
        sql = VISIT_SELECT + where + order
        while True:
            rows = await fetch_all(self._database.connection, sql, params)
            if not rows:
                return
            names = rows[0].keys()
            page = [
                visit_from_row(dict(zip(names, row, strict=True)), cipher, unseal, unopened)
                for row in rows
            ]
            yield page
            if len(rows) < size:
                return
            last = rows[-1]
            # From the last one's time on (the index's range), past it at that time.
            params = (last["submitted_at"], _utc(end), last["submitted_at"], last["id"], size)
            sql = VISIT_SELECT + where + after + order

    async def history_by_nik(self, nik: str, limit: int = HISTORY_LIMIT) -> list[Visit]:
        """One person's visits, newest first (found through the keyed NIK hash)."""
        return await self._visits(
            " WHERE p.nik_hash = ? ORDER BY v.submitted_at DESC, v.id DESC LIMIT ?",
            (self._database.cipher.nik_hash(nik), limit),
        )

    async def history_by_name(self, name: str, limit: int = HISTORY_LIMIT) -> list[Visit]:
        """Visits of everyone whose name contains ``name`` (case-insensitive), newest first."""
        wanted = name.casefold()
        cipher = self._database.cipher
        async with self._database.connection.execute("SELECT id, name FROM visitors") as cur:
            rows = await cur.fetchall()
        ids = [row["id"] for row in rows if wanted in cipher.unseal(row["name"]).casefold()]
        if not ids:
            return []
        return await self._visits(
            " WHERE v.visitor_id IN (SELECT value FROM json_each(?))"
            " ORDER BY v.submitted_at DESC, v.id DESC LIMIT ?",
            (json.dumps(ids), limit),
        )
