"""The access log in SQLite (WAL) through aiosqlite. Every SQL statement lives here."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.visits import TRANSITIONS, Action, Visit, VisitDraft, VisitStatus, transition
from storage.crypto import Cipher
from storage.migrations import migrate
from storage.outbox import OutboxItem, insert_items
from storage.privacy import encrypt_plain_niks

GENESIS_HASH = "0" * 64

_VISIT_SELECT = """
    SELECT v.id, v.status, v.visitor_id, p.nik_enc, p.name, p.organisation, p.phone, v.purpose,
           v.duration_minutes, v.equipment, v.ktp_file_id, v.officer_id, v.started_at,
           v.submitted_at, v.decided_at, v.decided_by, v.deny_reason, v.valid_until,
           v.entered_at, v.entry_escort_id, v.exited_at, v.exit_escort_id, v.form_done_at,
           v.handover_at
    FROM visits v JOIN visitors p ON p.id = v.visitor_id
"""


@dataclass(frozen=True)
class Visitor:
    id: int
    nik: str
    name: str
    organisation: str
    phone: str


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


@dataclass(frozen=True)
class Card:
    visit_id: int
    chat_id: int
    message_id: int


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _visit(row: aiosqlite.Row, cipher: Cipher) -> Visit:
    return Visit(
        id=row[0],
        status=VisitStatus(row[1]),
        visitor_id=row[2],
        nik=_nik(row[3], cipher),
        name=row[4],
        organisation=row[5],
        phone=row[6],
        purpose=row[7],
        duration_minutes=row[8],
        equipment=row[9],
        ktp_file_id=row[10],
        officer_id=row[11],
        started_at=datetime.fromisoformat(row[12]),
        submitted_at=datetime.fromisoformat(row[13]),
        decided_at=_dt(row[14]),
        decided_by=row[15],
        deny_reason=row[16],
        valid_until=_dt(row[17]),
        entered_at=_dt(row[18]),
        entry_escort_id=row[19],
        exited_at=_dt(row[20]),
        exit_escort_id=row[21],
        form_done_at=_dt(row[22]),
        handover_at=_dt(row[23]),
    )


def _nik(nik_enc: str | None, cipher: Cipher) -> str:
    """The NIK decrypted; empty once the record is anonymized."""
    return cipher.decrypt_text(nik_enc) if nik_enc else ""


# A read left open on this shared connection (another coroutine between execute and fetch)
# pins an old snapshot; when another connection (the conversation state) has committed
# since, SQLite refuses the write lock at once, without a busy wait
# (https://www.sqlite.org/rescode.html#busy_snapshot). That read ends in milliseconds.
_BEGIN_RETRIES = (0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


async def _begin(db: aiosqlite.Connection) -> None:
    for delay in _BEGIN_RETRIES:
        try:
            await db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(delay)
    await db.execute("BEGIN IMMEDIATE")


def audit_hash(prev_hash: str, fields: tuple[Any, ...]) -> str:
    """Chain link: sha256 over the previous hash and this event's fields."""
    payload = "\x1f".join([prev_hash, *("" if f is None else str(f) for f in fields)])
    return hashlib.sha256(payload.encode()).hexdigest()


class Storage:
    """One connection; writes are serialised so each transaction stays atomic."""

    def __init__(self, db: aiosqlite.Connection, cipher: Cipher) -> None:
        self._db = db
        self.cipher = cipher
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, cipher: Cipher) -> Storage:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        # Deleted and anonymized personal data is overwritten, not left in free pages.
        await db.execute("PRAGMA secure_delete=ON")
        await migrate(db)
        await encrypt_plain_niks(db, cipher)
        return cls(db, cipher)

    async def close(self) -> None:
        await self._db.close()

    @property
    def connection(self) -> aiosqlite.Connection:
        """For reads by the other storage modules; writes go through transaction()."""
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await _begin(self._db)
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself fails: never leave the shared connection inside
                # a half-done transaction that later statements would silently join.
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def _audit(
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
        async with db.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        prev = row[0] if row else GENESIS_HASH
        fields = (_ts(at), actor_id, action, visit_id, from_status, to_status, detail)
        await db.execute(
            "INSERT INTO audit_events (at, actor_id, action, visit_id, from_status, to_status,"
            " detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, prev, audit_hash(prev, fields)),
        )

    # --- visitors ---------------------------------------------------------------------------

    async def find_visitor(self, nik: str) -> Visitor | None:
        async with self._db.execute(
            "SELECT id, nik_enc, name, organisation, phone FROM visitors WHERE nik_hash = ?",
            (self.cipher.nik_hash(nik),),
        ) as cur:
            row = await cur.fetchone()
        return Visitor(row[0], _nik(row[1], self.cipher), *row[2:]) if row else None

    # --- visits -----------------------------------------------------------------------------

    async def submit_visit(
        self,
        draft: VisitDraft,
        officer_id: int,
        now: datetime,
        messages: Sequence[OutboxItem] = (),
    ) -> Visit:
        """Store the visitor (updating a returning one) and a PENDING visit, audited.

        ``messages`` (the approval cards) are queued in the same transaction.
        """
        status = transition(Action.SUBMIT, None)
        async with self.transaction() as db:
            nik_hash = self.cipher.nik_hash(draft.nik)
            await db.execute(
                "INSERT INTO visitors (nik_hash, nik_enc, name, organisation, phone, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(nik_hash) DO UPDATE SET"
                " name = excluded.name, organisation = excluded.organisation,"
                " phone = excluded.phone, updated_at = excluded.updated_at",
                (
                    nik_hash,
                    self.cipher.encrypt_text(draft.nik),
                    draft.name,
                    draft.organisation,
                    draft.phone,
                    _ts(now),
                    _ts(now),
                ),
            )
            async with db.execute(
                "SELECT id FROM visitors WHERE nik_hash = ?", (nik_hash,)
            ) as cur:
                row = await cur.fetchone()
            assert row is not None
            cur2 = await db.execute(
                "INSERT INTO visits (visitor_id, status, purpose, duration_minutes, equipment,"
                " ktp_file_id, officer_id, started_at, form_done_at, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row[0],
                    status.value,
                    draft.purpose,
                    draft.duration_minutes,
                    draft.equipment,
                    draft.ktp_file_id,
                    officer_id,
                    _ts(draft.started_at),
                    _ts(draft.form_done_at),
                    _ts(now),
                ),
            )
            visit_id = cur2.lastrowid
            assert visit_id is not None
            await self._audit(db, now, officer_id, Action.SUBMIT, visit_id, None, status)
            await insert_items(db, list(messages), now.timestamp(), visit_id)
        visit = await self.get_visit(visit_id)
        assert visit is not None
        return visit

    async def mark_handover(self, visit_id: int, now: datetime) -> None:
        """The first card reached a section head: SOP step 3 is done (kept once)."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE visits SET handover_at = ? WHERE id = ? AND handover_at IS NULL",
                (_ts(now), visit_id),
            )

    async def get_visit(self, visit_id: int) -> Visit | None:
        async with self._db.execute(_VISIT_SELECT + " WHERE v.id = ?", (visit_id,)) as cur:
            row = await cur.fetchone()
        return _visit(row, self.cipher) if row else None

    async def visits_with_status(self, status: VisitStatus) -> list[Visit]:
        async with self._db.execute(
            _VISIT_SELECT + " WHERE v.status = ? ORDER BY v.id", (status.value,)
        ) as cur:
            return [_visit(row, self.cipher) for row in await cur.fetchall()]

    async def _guarded(
        self,
        db: aiosqlite.Connection,
        visit_id: int,
        action: Action,
        actor_id: int,
        now: datetime,
        assignments: dict[str, Any],
        detail: str = "",
        messages: Sequence[OutboxItem] = (),
    ) -> bool:
        """One guarded transition: UPDATE ... WHERE id=? AND status=?, its audit event and
        the messages it causes, all or nothing."""
        source, target = _edge(action)
        columns = ", ".join(f"{name} = ?" for name in assignments)
        sql = f"UPDATE visits SET status = ?{', ' if columns else ''}{columns}"
        cur = await db.execute(
            sql + " WHERE id = ? AND status = ?",
            (target.value, *assignments.values(), visit_id, source.value),
        )
        if cur.rowcount != 1:
            return False
        await self._audit(db, now, actor_id, action, visit_id, source, target, detail)
        await insert_items(db, list(messages), now.timestamp(), visit_id)
        return True

    async def approve(
        self,
        visit_id: int,
        approver_id: int,
        now: datetime,
        valid_until: datetime,
        token_hash: str,
        code_hash: str,
        messages: Sequence[OutboxItem] = (),
    ) -> bool:
        """First decision wins: False when someone decided already."""
        async with self.transaction() as db:
            done = await self._guarded(
                db,
                visit_id,
                Action.APPROVE,
                approver_id,
                now,
                {
                    "decided_at": _ts(now),
                    "decided_by": approver_id,
                    "valid_until": _ts(valid_until),
                },
                messages=messages,
            )
            if done:
                await db.execute(
                    "INSERT INTO badges (visit_id, token_hash, code_hash, issued_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (visit_id, token_hash, code_hash, _ts(now), _ts(valid_until)),
                )
        return done

    async def deny(
        self,
        visit_id: int,
        approver_id: int,
        now: datetime,
        reason: str,
        messages: Sequence[OutboxItem] = (),
    ) -> bool:
        async with self.transaction() as db:
            return await self._guarded(
                db,
                visit_id,
                Action.DENY,
                approver_id,
                now,
                {"decided_at": _ts(now), "decided_by": approver_id, "deny_reason": reason},
                messages=messages,
            )

    async def cancel(self, visit_id: int, officer_id: int, now: datetime) -> bool:
        async with self.transaction() as db:
            return await self._guarded(db, visit_id, Action.CANCEL, officer_id, now, {})

    async def enter(
        self, visit_id: int, escort_id: int, now: datetime, messages: Sequence[OutboxItem] = ()
    ) -> bool:
        async with self.transaction() as db:
            return await self._guarded(
                db,
                visit_id,
                Action.ENTER,
                escort_id,
                now,
                {"entered_at": _ts(now), "entry_escort_id": escort_id},
                messages=messages,
            )

    async def exit(
        self, visit_id: int, escort_id: int, now: datetime, messages: Sequence[OutboxItem] = ()
    ) -> bool:
        """Check-out: the visit is DONE and its badge dies in the same transaction."""
        async with self.transaction() as db:
            done = await self._guarded(
                db,
                visit_id,
                Action.EXIT,
                escort_id,
                now,
                {"exited_at": _ts(now), "exit_escort_id": escort_id},
                messages=messages,
            )
            if done:
                await db.execute(
                    "UPDATE badges SET revoked_at = ? WHERE visit_id = ?", (_ts(now), visit_id)
                )
        return done

    async def expire(
        self, visit_id: int, now: datetime, messages: Sequence[OutboxItem] = ()
    ) -> bool:
        async with self.transaction() as db:
            done = await self._guarded(db, visit_id, Action.EXPIRE, 0, now, {}, messages=messages)
            if done:
                await db.execute(
                    "UPDATE badges SET revoked_at = ? WHERE visit_id = ?", (_ts(now), visit_id)
                )
        return done

    # --- badges -----------------------------------------------------------------------------

    async def badge_visit(self, column: str, value_hash: str) -> int | None:
        """The visit id for a token or code hash; column is 'token' or 'code'."""
        if column not in ("token", "code"):
            raise ValueError(column)
        async with self._db.execute(
            f"SELECT visit_id FROM badges WHERE {column}_hash = ?", (value_hash,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    # --- approval cards ---------------------------------------------------------------------

    async def add_card(self, visit_id: int, chat_id: int, message_id: int) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO approval_cards (visit_id, chat_id, message_id)"
                " VALUES (?, ?, ?)",
                (visit_id, chat_id, message_id),
            )

    async def cards(self, visit_id: int) -> list[Card]:
        async with self._db.execute(
            "SELECT visit_id, chat_id, message_id FROM approval_cards WHERE visit_id = ?",
            (visit_id,),
        ) as cur:
            return [Card(*row) for row in await cur.fetchall()]

    # --- audit ------------------------------------------------------------------------------

    async def record_event(
        self,
        now: datetime,
        actor_id: int | None,
        action: str,
        visit_id: int | None = None,
        detail: str = "",
        messages: Sequence[OutboxItem] = (),
    ) -> None:
        """An audit event that is not a transition (a refused stranger, a forged badge),
        with the alerts it causes queued in the same transaction."""
        async with self.transaction() as db:
            await self._audit(db, now, actor_id, action, visit_id, detail=detail)
            await insert_items(db, list(messages), now.timestamp(), visit_id)

    async def count_events(
        self, actor_id: int, action: str, since: datetime, detail: str | None = None
    ) -> int:
        """How often someone did something lately (rate limits derive from the audit log)."""
        sql = "SELECT COUNT(*) FROM audit_events WHERE actor_id = ? AND action = ? AND at >= ?"
        params: tuple[Any, ...] = (actor_id, action, _ts(since))
        if detail is not None:
            sql += " AND detail = ?"
            params = (*params, detail)
        async with self._db.execute(sql, params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def audit_events(self, visit_id: int | None = None) -> list[AuditEvent]:
        sql = (
            "SELECT id, at, actor_id, action, visit_id, from_status, to_status, detail,"
            " prev_hash, hash FROM audit_events"
        )
        params: tuple[Any, ...] = ()
        if visit_id is not None:
            sql += " WHERE visit_id = ?"
            params = (visit_id,)
        async with self._db.execute(sql + " ORDER BY id", params) as cur:
            rows = await cur.fetchall()
        return [
            AuditEvent(r[0], datetime.fromisoformat(r[1]), *r[2:])
            for r in rows  # type: ignore[arg-type]
        ]


def _edge(action: Action) -> tuple[VisitStatus, VisitStatus]:
    source, target = TRANSITIONS[action]
    assert source is not None
    return source, target
