"""SQL for citizens' data (UU 27/2022): KTP file records, retention, export and erasure.

Anonymizing a visit keeps the log (dates, times, status, staff ids, organisation, purpose
with its NIKs masked) and removes the person: the visit is moved to a visitor row of its own
named ANONYMOUS, with no NIK and no phone, and visitor rows left without visits are deleted;
the free text typed about the visit that may name someone goes too (the reasons, the
equipment note, the assignment letter, the equipment brought: :func:`_clear_typed_text`).
A returning visitor's recent visits are not touched when an old one is anonymized.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.core.form import DECLARED
from bot.core.nik import mask_niks_in
from bot.core.visits import VisitStatus
from storage.audit import AuditLog
from storage.base import Database, Statement, fetch_all, fetch_one
from storage.crypto import DATA_KEY_COLUMNS, Cipher
from storage.outbox import REDRAW, Outbox, OutboxItem, seal_payload

ANONYMOUS = "(dianonimkan)"


@dataclass(frozen=True)
class KtpRecord:
    visit_id: int
    file_id: str
    path: str | None
    submitted_at: datetime  # when the photo was taken: submission, or a planned visit's check


def _ktp(row: aiosqlite.Row, cipher: Cipher) -> KtpRecord:
    return KtpRecord(
        visit_id=row["id"],
        file_id=cipher.unseal(row["ktp_file_id"]),
        path=row["ktp_path"],
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
    )


@dataclass(frozen=True)
class Person:
    """Everything stored about one person, decrypted, for an export."""

    visitors: list[dict[str, Any]]  # usually one; see visitor_ids_for_nik
    visits: list[dict[str, Any]]
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class Forgotten:
    ktp_deleted: int
    visits_anonymized: int
    visitors_deleted: int
    messages_scrubbed: int = 0
    visits_cancelled: int = 0  # open requests withdrawn first (bot/flows/privacy.py)

    def detail(self) -> str:
        scrubbed = f" messages_scrubbed={self.messages_scrubbed}" if self.messages_scrubbed else ""
        return (
            f"ktp_deleted={self.ktp_deleted} visits_anonymized={self.visits_anonymized}"
            f" visitors_deleted={self.visitors_deleted}{scrubbed}"
        )


async def encrypt_plain_niks(db: aiosqlite.Connection, cipher: Cipher) -> int:
    """Migration 3's data step: rows from before it hold the plain NIK in nik_hash.

    Idempotent (a converted row has nik_enc); secure_delete and the checkpoint make sure
    the plain NIK is overwritten in the file and gone from the WAL.
    """
    await db.execute("BEGIN IMMEDIATE")
    try:
        rows = list(
            await fetch_all(
                db,
                "SELECT id, nik_hash FROM visitors"
                " WHERE nik_enc IS NULL AND anonymized_at IS NULL",
            )
        )
        for row in rows:
            nik = row["nik_hash"]
            await db.execute(
                "UPDATE visitors SET nik_hash = ?, nik_enc = ? WHERE id = ?",
                (cipher.nik_hash(nik), cipher.encrypt_text(nik), row["id"]),
            )
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    if rows:
        await compact_wal(db)
    return len(rows)


class Privacy:
    """KTP file records, retention and one person's export and erasure."""

    def __init__(self, database: Database, audit: AuditLog, outbox: Outbox) -> None:
        self._database = database
        self._audit = audit
        self._outbox = outbox

    # --- KTP files ---------------------------------------------------------------------------

    async def ktp_stored(self, visit_id: int, path: str, now: datetime) -> bool:
        """Record the encrypted file; False if the visit was anonymized in the meantime."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "UPDATE visits SET ktp_path = ?, ktp_stored_at = ?, ktp_failed_at = NULL"
                " WHERE id = ? AND anonymized_at IS NULL AND ktp_deleted_at IS NULL",
                (path, now.isoformat(), visit_id),
            )
            return cur.rowcount == 1

    async def ktp_shown(self, visit_id: int, chat_id: int, message_id: int, now: datetime) -> None:
        """An escort's scan view showed the visit's KTP photo (Telegram's ``message_id``):
        recorded, so that deleting the photo or anonymizing the visit redraws it too
        (``forget``). A view sent as the photo was being deleted is redrawn at once."""
        await self._database.write_all(
            [
                (
                    "INSERT OR IGNORE INTO ktp_views (chat_id, message_id, visit_id)"
                    " SELECT ?, ?, id FROM visits"
                    " WHERE id = ? AND ktp_deleted_at IS NULL AND anonymized_at IS NULL",
                    (chat_id, message_id, visit_id),
                ),
                *late_redraws(self._database.cipher, visit_id, chat_id, message_id, "scan", now),
            ]
        )

    async def ktp_failed(self, visit_id: int, now: datetime) -> None:
        async with self._database.transaction() as db:
            await db.execute(
                "UPDATE visits SET ktp_failed_at = ? WHERE id = ?", (now.isoformat(), visit_id)
            )

    async def ktp_records(self, *, stored: bool | None = None) -> list[KtpRecord]:
        """Visits whose KTP is still kept (stored=True), still to download (False), or both."""
        sql = (
            # A planned visit's photo is taken on its day (checked_at), maybe weeks after the
            # request: its retention counts from then, as a walk-in's does from submission. A
            # visitor who registered themselves sent a photo ahead: until they arrive (the
            # photo taken then replaces it), it counts from the end of the planned day, so it
            # is not purged before the visit and the photo of the day is still kept.
            "SELECT id, ktp_file_id, ktp_path, COALESCE(checked_at, CASE WHEN self_registered"
            " = 1 THEN planned_date || 'T23:59:59+00:00' END, submitted_at) AS submitted_at"
            " FROM visits"
            " WHERE ktp_deleted_at IS NULL AND anonymized_at IS NULL"
        )
        if stored is True:
            sql += " AND ktp_path IS NOT NULL"
        elif stored is False:
            sql += " AND ktp_path IS NULL AND ktp_file_id != ''"
        rows = await fetch_all(self._database.connection, sql + " ORDER BY id")
        return [_ktp(row, self._database.cipher) for row in rows]

    async def ktp_path(self, visit_id: int) -> str | None:
        row = await fetch_one(
            self._database.connection, "SELECT ktp_path FROM visits WHERE id = ?", (visit_id,)
        )
        return row["ktp_path"] if row else None

    # --- retention ---------------------------------------------------------------------------

    async def visits_submitted_before(self, before: datetime) -> list[int]:
        """Visits not yet anonymized that were submitted before ``before``."""
        rows = await fetch_all(
            self._database.connection,
            "SELECT id, submitted_at FROM visits WHERE anonymized_at IS NULL ORDER BY id",
        )
        return [r["id"] for r in rows if datetime.fromisoformat(r["submitted_at"]) < before]

    async def forget(
        self,
        now: datetime,
        action: str,
        *,
        ktp_of: Sequence[int] = (),
        visits: Sequence[int] = (),
        detail: str = "",
        purposes: Purposes | None = None,
    ) -> Forgotten:
        """Drop the KTP records of ``ktp_of``, anonymize ``visits`` and clear their undelivered
        messages (Outbox.scrub), audit it: one transaction. ``purposes``: the suggested
        purposes an anonymized visit keeps; one typed instead becomes its ``typed`` word
        (without it, typed purposes are kept with their NIKs masked).

        The files themselves are deleted by the caller first (bot/flows/ktp.py). The audit event
        holds counts (and the caller's ``detail``), never personal data.
        """
        ts = now.isoformat()
        ktp_ids = sorted(set(ktp_of) | set(visits))
        async with self._database.transaction() as db:
            redrawn: dict[int, str] = {}  # visit -> why its messages are redrawn
            for visit_id in ktp_ids:
                cur = await db.execute(
                    "UPDATE visits SET ktp_path = NULL, ktp_file_id = '', ktp_deleted_at = ?"
                    " WHERE id = ? AND ktp_deleted_at IS NULL",
                    (ts, visit_id),
                )
                if cur.rowcount:
                    redrawn[visit_id] = "ktp"
            ktp_deleted = len(redrawn)
            anonymized = 0
            for visit_id in sorted(set(visits)):
                if await _anonymize_visit(db, visit_id, ts, self._database.cipher, purposes):
                    anonymized += 1
                    redrawn[visit_id] = "anon"
            cleared = await _clear_typed_text(db)
            if purposes is not None:
                cleared += await _clear_earlier_purposes(db, self._database.cipher, purposes)
            scrubbed = await self._outbox.scrub(db, sorted(set(visits)), action)
            for visit_id, why in sorted(redrawn.items()):
                await self._outbox.enqueue(db, await _redraws(db, visit_id, why), now, visit_id)
            # An anonymized visit's views are redrawn for the last time: nothing is left to
            # take out of them.
            await db.execute(
                "DELETE FROM ktp_views WHERE visit_id IN (SELECT value FROM json_each(?))",
                (json.dumps([v for v, why in redrawn.items() if why == "anon"]),),
            )
            cur = await db.execute(
                "DELETE FROM visitors WHERE anonymized_at IS NULL"
                " AND id NOT IN (SELECT visitor_id FROM visits)"
            )
            result = Forgotten(ktp_deleted, anonymized, cur.rowcount, scrubbed)
            full = f"{detail} {result.detail()}".strip()
            await self._audit.append(db, now, None, action, detail=full)
        if (
            result.ktp_deleted
            or result.visits_anonymized
            or result.visitors_deleted
            or scrubbed
            or cleared
        ):
            await compact_wal(self._database.connection)
        return result

    # --- one person: export and erasure ------------------------------------------------------

    async def visitor_ids_for_nik(self, nik: str) -> list[int]:
        """Every visitor row holding this NIK.

        Decrypts every row rather than trusting nik_hash alone: after a change of the signing
        secret the same person may have rows under two hashes, and erasure must find both.
        """
        rows = await fetch_all(
            self._database.connection,
            "SELECT id, nik_enc FROM visitors WHERE nik_enc IS NOT NULL ORDER BY id",
        )
        return [r["id"] for r in rows if self._database.cipher.decrypt_text(r["nik_enc"]) == nik]

    async def visit_ids_of(self, visitor_ids: Sequence[int]) -> list[int]:
        if not visitor_ids:
            return []
        marks = ", ".join("?" * len(visitor_ids))
        return [
            r["id"]
            for r in await fetch_all(
                self._database.connection,
                f"SELECT id FROM visits WHERE visitor_id IN ({marks}) ORDER BY id",
                tuple(visitor_ids),
            )
        ]

    async def person(self, visitor_ids: Sequence[int]) -> Person:
        """The stored rows of one person (NIK decrypted), their visits and those visits' events."""
        db = self._database.connection
        marks = ", ".join("?" * len(visitor_ids))
        visitors = [
            _row_dict(r)
            for r in await fetch_all(
                db,
                f"SELECT id, nik_enc, {', '.join(DECLARED.visitor_columns)},"
                " created_at, updated_at"
                f" FROM visitors WHERE id IN ({marks}) ORDER BY id",
                tuple(visitor_ids),
            )
        ]
        cipher = self._database.cipher
        for row in visitors:
            row["nik"] = cipher.unseal(row.pop("nik_enc"))
            _unseal(row, "visitors", cipher)
        visits = [
            _unseal(_row_dict(r), "visits", cipher)
            for r in await fetch_all(
                db,
                f"SELECT * FROM visits WHERE visitor_id IN ({marks}) ORDER BY id",
                tuple(visitor_ids),
            )
        ]
        ids = [v["id"] for v in visits]
        events: list[dict[str, Any]] = []
        if ids:
            vmarks = ", ".join("?" * len(ids))
            events = [
                _row_dict(r)
                for r in await fetch_all(
                    db,
                    "SELECT id, at, actor_id, action, visit_id, from_status, to_status, detail"
                    f" FROM audit_events WHERE visit_id IN ({vmarks}) ORDER BY id",
                    tuple(ids),
                )
            ]
        return Person(visitors=visitors, visits=visits, events=events)


async def compact_wal(db: aiosqlite.Connection) -> bool:
    """Checkpoint and empty the WAL, so old page images (with what was just overwritten)
    do not linger in it. Best effort and never blocking: it gives up while another
    connection is reading, and the next purge tries again.
    """
    path = next(
        row["file"] for row in await fetch_all(db, "PRAGMA database_list") if row["name"] == "main"
    )
    # Its own connection: a checkpoint fails while this connection has a statement open.
    async with aiosqlite.connect(path) as own:
        await own.execute("PRAGMA busy_timeout=0")
        own.row_factory = aiosqlite.Row
        row = await fetch_one(own, "PRAGMA wal_checkpoint(TRUNCATE)")
    return row is not None and row["busy"] == 0


def late_redraws(
    cipher: Cipher, visit_id: int, chat_id: int, message_id: int, of: str, now: datetime
) -> list[Statement]:
    """A card or a scan view that reached its chat after its visit's KTP photo was deleted
    or the visit anonymized (it was on the wire as ``forget`` ran, which found no record of
    it): its redraw, queued by the statements that record it, in the same transaction.
    Each statement adds the item only when the visit is in that state; at most one does."""
    statements: list[Statement] = []
    for why, gone in (
        ("anon", "anonymized_at IS NOT NULL"),
        ("ktp", "anonymized_at IS NULL AND ktp_deleted_at IS NOT NULL"),
    ):
        item = _redraw(why, chat_id, message_id, of, visit_id)
        statements.append(
            (
                "INSERT OR IGNORE INTO outbox (key, kind, chat_id, visit_id, payload, blob,"
                f" created_at, for_role) SELECT ?, ?, ?, id, ?, NULL, ?, NULL FROM visits"
                f" WHERE id = ? AND {gone}",
                (
                    item.key.format(visit=visit_id),
                    item.kind,
                    chat_id,
                    seal_payload(item.payload, cipher),
                    now.timestamp(),
                    visit_id,
                ),
            )
        )
    return statements


def _redraw(why: str, chat_id: int, message_id: int, of: str, visit_id: int) -> OutboxItem:
    return OutboxItem(
        f"{REDRAW}_{why}:{{visit}}:{chat_id}:{message_id}",
        REDRAW,
        chat_id,
        visit_id,
        payload={"of": of, "message_id": message_id},
        # No role: it takes the photo and the name out of a chat, former staff's too.
    )


async def _redraws(db: aiosqlite.Connection, visit_id: int, why: str) -> list[OutboxItem]:
    """The bot's own messages that show the visit's KTP photo and the visitor's details: the
    section heads' approval cards and the escorts' scan views, each to be drawn again from
    the visit as it now is (bot/flows/delivery.py): the photo a placeholder, an anonymized
    visit's name gone. ``why`` ("ktp", "anon") keys them apart: an anonymization after the
    photo's deletion redraws the same messages once more."""
    rows = await fetch_all(
        db,
        "SELECT chat_id, message_id, 'card' AS what FROM approval_cards WHERE visit_id = ?"
        " UNION ALL SELECT chat_id, message_id, 'scan' FROM ktp_views WHERE visit_id = ?"
        " ORDER BY chat_id, message_id",
        (visit_id, visit_id),
    )
    return [_redraw(why, row["chat_id"], row["message_id"], row["what"], visit_id) for row in rows]


@dataclass(frozen=True)
class Purposes:
    """What an anonymized visit's purpose may stay: the form's suggested answers (a button's
    label names no one); a purpose typed instead ("Serah terima laptop <name>") becomes
    ``typed``, a word that says one was typed."""

    suggested: frozenset[str]
    typed: str


async def _anonymize_visit(
    db: aiosqlite.Connection,
    visit_id: int,
    ts: str,
    cipher: Cipher,
    purposes: Purposes | None = None,
) -> int:
    row = await fetch_one(
        db,
        "SELECT p.organisation, p.created_at, v.purpose FROM visits v JOIN visitors p"
        " ON p.id = v.visitor_id WHERE v.id = ? AND v.anonymized_at IS NULL",
        (visit_id,),
    )
    if row is None:
        return 0
    cur = await db.execute(
        "INSERT INTO visitors (nik_hash, nik_enc, name, organisation, phone, created_at,"
        " updated_at, anonymized_at) VALUES (?, NULL, ?, ?, '', ?, ?, ?)",
        (
            f"anonymized:{visit_id}",
            cipher.seal(ANONYMOUS),
            row["organisation"],  # still encrypted, as read
            row["created_at"],
            ts,
            ts,
        ),
    )
    # The deny and cancel reasons and the equipment note are free text a person typed about
    # the visitor ("KTP tidak cocok, a.n. ..."): they may carry personal data, so they go with
    # the name (the letter and the equipment too: _clear_typed_text). The equipment check
    # itself (matched or not) stays with the log, and so does a suggested purpose; a typed
    # one becomes the word for it (``purposes``), or, without it, stays with NIKs masked.
    purpose = cipher.unseal(row["purpose"])
    masked = mask_niks_in(purpose)
    if purposes is not None and purpose and purpose not in purposes.suggested:
        masked = purposes.typed
    await db.execute(
        "UPDATE visits SET visitor_id = ?, anonymized_at = ?, ktp_path = NULL, ktp_file_id = '',"
        " deny_reason = NULL, cancel_reason = NULL, equipment_note = NULL, purpose = ?"
        " WHERE id = ?",
        (
            cur.lastrowid,
            ts,
            row["purpose"] if masked == purpose else cipher.seal(masked),
            visit_id,
        ),
    )
    return 1


# meta.name: the typed purposes of visits anonymized before anonymizing cleared them (an
# earlier release only masked their NIKs) are cleared, once.
EARLIER_PURPOSES = "anonymized_purposes_cleared"


async def _clear_earlier_purposes(
    db: aiosqlite.Connection, cipher: Cipher, purposes: Purposes
) -> int:
    """Once per database: each visit anonymized by an earlier release whose purpose was
    typed gets the word for it, as anonymizing does now. Marked in ``meta``, so the daily
    purge does not decrypt every anonymized purpose again. Returns the visits changed."""
    if await fetch_one(db, "SELECT 1 FROM meta WHERE name = ?", (EARLIER_PURPOSES,)):
        return 0
    count = 0
    rows = await fetch_all(
        db, "SELECT id, purpose FROM visits WHERE anonymized_at IS NOT NULL AND purpose != ''"
    )
    for row in rows:
        purpose = cipher.unseal(row["purpose"])
        if purpose and purpose not in purposes.suggested and purpose != purposes.typed:
            await db.execute(
                "UPDATE visits SET purpose = ? WHERE id = ?",
                (cipher.seal(purposes.typed), row["id"]),
            )
            count += 1
    await db.execute(
        "INSERT OR REPLACE INTO meta (name, value) VALUES (?, '1')", (EARLIER_PURPOSES,)
    )
    return count


async def _clear_typed_text(db: aiosqlite.Connection) -> int:
    """Anonymized visits lose the assignment letter ("090/7/ST a.n. <name>") and the
    equipment brought ("Laptop milik <name>"): free text that may name someone. The
    equipment stays while the visitor is still inside, since the escort checks it at KELUAR;
    run by every ``forget`` (the daily purge, an erasure), this clears it after the exit, and
    what an earlier release kept. Returns the visits changed."""
    inside = VisitStatus.INSIDE.value
    cur = await db.execute(
        "UPDATE visits SET assignment_letter = '',"
        " equipment = CASE WHEN status = ? THEN equipment ELSE '' END"
        " WHERE anonymized_at IS NOT NULL"
        " AND (assignment_letter != '' OR (equipment != '' AND status != ?))",
        (inside, inside),
    )
    return cur.rowcount


def _row_dict(row: aiosqlite.Row) -> dict[str, Any]:
    return dict(zip(row.keys(), row, strict=True))


def _unseal(row: dict[str, Any], table: str, cipher: Cipher) -> dict[str, Any]:
    """The row's encrypted cells decrypted in place (for an export)."""
    for column in DATA_KEY_COLUMNS[table]:
        if column in row:
            row[column] = cipher.unseal(row[column])
    return row
