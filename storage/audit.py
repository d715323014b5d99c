"""The audit log: append-only, hash-chained events, and the check of that chain.

Each event stores the hash of the one before it and an HMAC-SHA256 over that hash and its
own fields, keyed with the audit key (``security.audit_key``, kept outside the database).
Walking the rows in order (``python -m bot audit verify``) finds the first one that was
edited (its hash no longer matches its fields), removed or inserted (the link to the
previous row breaks, or the ids jump). Without the key nobody can recompute the chain, so
dropping the append-only triggers, editing a row and rehashing is caught.

Removing the newest rows leaves a shorter chain that still verifies, and whoever holds the
key could rewrite it whole; so the head hash is anchored outside the database: the daily
review sends it to the approvers and records an ``audit_anchor`` event, and
``audit verify --anchor HASH`` proves that nothing up to that head changed.

Databases from before the key hold a plain SHA-256 chain. The first open with a key does
not rewrite it: it appends one keyed ``audit_rekeyed`` event whose previous hash is the old
head, and verify checks the old part with the old formula up to that event, and the keyed
formula from it on.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.base import Database, begin, fetch_all, fetch_one, ts
from storage.keys import get_meta
from storage.migrations import HEAD, SchemaTooNew, schema_version
from storage.outbox import Outbox, OutboxItem

GENESIS_HASH = "0" * 64
REKEYED = "audit_rekeyed"  # links a chain from before the audit key into the keyed chain
ANCHOR = "audit_anchor"  # a head hash that was sent out of the database (the daily review)

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


def _payload(prev_hash: str, fields: Sequence[object]) -> bytes:
    return "\x1f".join([prev_hash, *("" if f is None else str(f) for f in fields)]).encode()


def audit_hash(prev_hash: str, fields: Sequence[object]) -> str:
    """The unkeyed link of databases from before the audit key: anyone can recompute it."""
    return hashlib.sha256(_payload(prev_hash, fields)).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, fields: Sequence[object]) -> str:
    """Chain link: HMAC-SHA256 with the audit key over the previous hash and the fields."""
    return hmac.new(key, _payload(prev_hash, fields), hashlib.sha256).hexdigest()


class AuditLog:
    """Appends happen inside the caller's transaction, next to the change they record."""

    def __init__(self, database: Database, outbox: Outbox, key: bytes) -> None:
        if not key:
            raise ValueError("the audit chain needs a key")
        self._database = database
        self._outbox = outbox
        self._key = key

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
        row = await fetch_one(db, "SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")
        prev = row["hash"] if row else GENESIS_HASH
        fields = (ts(at), actor_id, action, visit_id, from_status, to_status, detail)
        await db.execute(
            "INSERT INTO audit_events (at, actor_id, action, visit_id, from_status, to_status,"
            " detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, prev, keyed_hash(self._key, prev, fields)),
        )

    async def link_unkeyed(self, at: datetime) -> bool:
        """Once, on a database from before the audit key: link its chain into the keyed one.

        Nothing old is rewritten. The head is left alone when it is keyed already, or when it
        matches neither formula (a broken chain is for ``verify`` to report, not to bless).
        """
        async with self._database.transaction() as db:
            head = await fetch_one(db, _SELECT + " ORDER BY id DESC LIMIT 1")
            if head is None:
                return False
            fields = tuple(head[name] for name in _FIELDS)
            if keyed_hash(self._key, head["prev_hash"], fields) == head["hash"]:
                return False
            if audit_hash(head["prev_hash"], fields) != head["hash"]:
                return False
            detail = (
                f"unkeyed chain of {head['id']} events, head {head['hash']},"
                " linked into the keyed chain"
            )
            await self.append(db, at, None, REKEYED, detail=detail)
        return True

    async def head(self) -> str:
        """The newest event's hash (the chain's fingerprint), or the genesis hash."""
        row = await fetch_one(
            self._database.connection, "SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1"
        )
        return str(row["hash"]) if row else GENESIS_HASH

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

    async def withhold(
        self,
        now: datetime,
        item_id: int,
        visit_id: int | None,
        detail: str,
        messages: Sequence[OutboxItem] = (),
    ) -> bool:
        """An outbox message its recipient may no longer have (they lost the role it was
        for): marked withheld, audited, and what replaces it queued, in one transaction."""
        async with self._database.transaction() as db:
            if not await self._outbox.withhold_in(db, item_id, detail):
                return False
            await self.append(db, now, None, "outbox_withheld", visit_id, detail=detail)
            await self._outbox.enqueue(db, messages, now, visit_id)
        return True

    async def count(
        self, actor_id: int, action: str, since: datetime, detail: str | None = None
    ) -> int:
        """How often someone did something lately (rate limits derive from the audit log)."""
        sql = "SELECT COUNT(*) FROM audit_events WHERE actor_id = ? AND action = ? AND at >= ?"
        params: tuple[object, ...] = (actor_id, action, ts(since))
        if detail is not None:
            sql += " AND detail = ?"
            params = (*params, detail)
        row = await fetch_one(self._database.connection, sql, params)
        return int(row[0]) if row else 0

    async def tally(
        self,
        action: str,
        since: datetime,
        *,
        detail: str | None = None,
        not_detail: str | None = None,
        after_id: int = 0,
    ) -> tuple[int, int]:
        """How often anyone did something lately, and how many people did: (events, actors).
        Limits and alerts that look across accounts derive from this."""
        sql = (
            "SELECT COUNT(*), COUNT(DISTINCT actor_id) FROM audit_events"
            " WHERE action = ? AND at >= ? AND id > ?"
        )
        params: tuple[object, ...] = (action, ts(since), after_id)
        if detail is not None:
            sql += " AND detail = ?"
            params = (*params, detail)
        if not_detail is not None:
            sql += " AND detail != ?"
            params = (*params, not_detail)
        row = await fetch_one(self._database.connection, sql, params)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def latest(self, action: str, actor_id: int | None = None) -> AuditEvent | None:
        """The newest event of a kind (by one person, when given)."""
        sql = _SELECT + " WHERE action = ?"
        params: tuple[object, ...] = (action,)
        if actor_id is not None:
            sql, params = sql + " AND actor_id = ?", (action, actor_id)
        row = await fetch_one(self._database.connection, sql + " ORDER BY id DESC LIMIT 1", params)
        return _event(row) if row else None

    async def events(self, visit_id: int | None = None) -> list[AuditEvent]:
        sql = _SELECT
        params: tuple[object, ...] = ()
        if visit_id is not None:
            sql += " WHERE visit_id = ?"
            params = (visit_id,)
        return [
            _event(row)
            for row in await fetch_all(self._database.connection, sql + " ORDER BY id", params)
        ]

    async def last_at(self, action: str) -> datetime | None:
        last = await self.last(action)
        return last[0] if last is not None else None

    async def last(self, action: str) -> tuple[datetime, str] | None:
        """When the newest event of ``action`` happened, and its detail."""
        row = await fetch_one(
            self._database.connection,
            "SELECT at, detail FROM audit_events WHERE action = ? ORDER BY id DESC LIMIT 1",
            (action,),
        )
        return (datetime.fromisoformat(row["at"]), row["detail"] or "") if row else None


@dataclass(frozen=True)
class ChainReport:
    count: int  # events that verify, from the first
    head: str  # the last good event's hash: the chain's fingerprint, to keep elsewhere
    broken_at: int | None = None  # id of the first event that does not verify
    problem: str = ""
    keyed_from: int | None = None  # id of the first keyed event (1 on a database born keyed)
    anchor_at: int | None = None  # id of the event whose hash is the anchor asked for

    @property
    def ok(self) -> bool:
        return self.broken_at is None


class AuditError(Exception):
    """The chain cannot be checked at all (no such database, not an access log)."""


async def verify(path: Path, key: bytes, anchor: str | None = None) -> ChainReport:
    """Walk the chain in the database at ``path``, opened read-only.

    With ``anchor`` (a head hash kept outside the database), the report says at which
    event that head is (``anchor_at``), or None when no intact event has that hash: the
    events up to it were changed, or the hash never was a head of this chain.

    The rows are read one at a time in a worker thread, in one read transaction: a log of
    400,000 events (100,000 visits) held at once took about 300 MB, and its HMACs held up
    the event loop.
    """
    try:
        async with aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
            version = await schema_version(db)
        if version > HEAD:  # its chain may be computed in a way this program does not know
            raise SchemaTooNew(version)
        return await asyncio.to_thread(_verify, path, key, anchor)
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the audit log in {path} ({exc})") from None


def _verify(path: Path, key: bytes, anchor: str | None) -> ChainReport:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        db.execute("BEGIN")  # every query below sees the same log
        return _walk(_Log(db), key, anchor)
    finally:
        db.close()


class _Log:
    """The audit events in id order, read a row at a time (by index: 0 is the first)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.count = int(db.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0])

    def first(self, action: str) -> int | None:
        """The index of the first event with this action."""
        (found,) = self._db.execute(
            "SELECT MIN(id) FROM audit_events WHERE action = ?", (action,)
        ).fetchone()
        if found is None:
            return None
        (before,) = self._db.execute(
            "SELECT COUNT(*) FROM audit_events WHERE id < ?", (found,)
        ).fetchone()
        return int(before)

    def rows(self, start: int = 0) -> Iterator[sqlite3.Row]:
        return iter(self._db.execute(_SELECT + " ORDER BY id LIMIT -1 OFFSET ?", (start,)))

    def at(self, index: int) -> sqlite3.Row:
        return next(self.rows(index))


def _walk(log: _Log, key: bytes, anchor: str | None) -> ChainReport:
    # Rows before the re-key event carry the old, unkeyed hash; from it on, the keyed one.
    rekeyed = log.first(REKEYED)
    boundary = rekeyed if rekeyed is not None else 0
    legacy = False
    if boundary < log.count and not any(_self_keyed(key, r) for r in log.rows(boundary)):
        if not all(_self_unkeyed(r) for r in log.rows(boundary)):
            first = log.at(boundary)
            return ChainReport(
                boundary,
                first["prev_hash"],
                first["id"],
                "no event matches the audit key: the configured key is wrong"
                " (or every keyed event was rewritten)",
            )
        if rekeyed is None:
            # A chain from before the key that no keyed version has opened yet.
            boundary, legacy = log.count, True
    keyed_from = int(log.at(boundary)["id"]) if boundary < log.count else None
    prev, prev_id, anchor_at = GENESIS_HASH, 0, None

    def broken(count: int, event_id: int, problem: str) -> ChainReport:
        return ChainReport(count, prev, event_id, problem, keyed_from, anchor_at)

    for count, row in enumerate(log.rows()):
        event_id, stored_prev, stored_hash = row["id"], row["prev_hash"], row["hash"]
        fields = tuple(row[name] for name in _FIELDS)
        if event_id != prev_id + 1:
            return broken(
                count, event_id, f"ids jump from {prev_id} to {event_id}: event(s) removed"
            )
        if stored_prev != prev:
            return broken(
                count,
                event_id,
                f"prev_hash {stored_prev[:12]}... is not the hash of event {prev_id}"
                f" ({prev[:12]}...): an event before it was changed, removed or inserted",
            )
        if count < boundary:
            if audit_hash(stored_prev, fields) != stored_hash:
                return broken(
                    count, event_id, f"its fields do not match its hash: {_edited(fields)}"
                )
        elif not _self_keyed(key, row):
            how = "without the audit key" if _self_unkeyed(row) else "edited"
            return broken(
                count,
                event_id,
                f"its fields do not match its keyed hash ({how}): {_edited(fields)}",
            )
        elif count > boundary and row["action"] == REKEYED:
            return broken(count, event_id, "a second re-key event: the chain was re-linked")
        prev, prev_id = stored_hash, event_id
        if stored_hash == anchor:
            anchor_at = event_id
    if legacy:
        return broken(
            log.count,
            log.at(0)["id"],
            "the chain was written without the audit key (by a version before it):"
            " start the bot once, so it links the chain into the keyed one",
        )
    return ChainReport(log.count, prev, None, "", keyed_from, anchor_at)


def _edited(fields: tuple[object, ...]) -> str:
    return f"the row was edited or rehashed (now: {_describe(fields)})"


def _self_unkeyed(row: sqlite3.Row) -> bool:
    stored: str = row["hash"]
    return audit_hash(row["prev_hash"], tuple(row[name] for name in _FIELDS)) == stored


def _self_keyed(key: bytes, row: sqlite3.Row) -> bool:
    fields = tuple(row[name] for name in _FIELDS)
    return hmac.compare_digest(keyed_hash(key, row["prev_hash"], fields), row["hash"])


def _describe(fields: tuple[object, ...]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in zip(_FIELDS, fields, strict=True))


# --- the configured audit key, checked before anything is appended -----------------------

_CHECK_LABEL = b"akses audit key check"


class WrongAuditKey(Exception):
    """The configured audit key is not the one the chain was written with: every event
    appended with it would break the chain for good, so nothing is."""

    def __init__(self) -> None:
        super().__init__(
            "the audit key does not match this database's audit chain: set"
            " security.audit_key (or AKSES_AUDIT_KEY) to the key it was written with"
            " (python -m bot audit verify tells a wrong key from an altered log);"
            " nothing was changed"
        )


def audit_key_check(key: bytes) -> str:
    """A short value derived from the audit key (an HMAC of a fixed label, so it says
    nothing about the key), kept in the meta table to recognise the key again."""
    return hmac.new(key, _CHECK_LABEL, hashlib.sha256).hexdigest()[:16]


async def verify_audit_key(db: aiosqlite.Connection, key: bytes) -> bool:
    """Raise WrongAuditKey when ``key`` is not the one this database's check value was
    recorded with. True when it holds the check value; False when it does not yet (a
    database from before the check)."""
    stored = await get_meta(db, "audit_key_check")
    if stored is not None:
        if not hmac.compare_digest(stored, audit_key_check(key)):
            raise WrongAuditKey()
        return True
    return False


async def check_audit_key_at_open(db: aiosqlite.Connection, key: bytes) -> None:
    """Refuse a wrong audit key before any event is appended; record the check value once,
    when the key is known to be the chain's: no event yet, or the newest one verifies with
    it (or is from before the audit key, to be linked into the keyed chain). A head that
    verifies neither way is refused too, recording nothing: a wrong key (appending would
    break the chain, and a later open would take that key for the chain's), or an altered
    event, which ``audit verify`` names."""
    if await verify_audit_key(db, key):
        return
    head = await fetch_one(db, _SELECT + " ORDER BY id DESC LIMIT 1")
    if head is not None and not _self_keyed(key, head) and not _self_unkeyed(head):
        raise WrongAuditKey()
    await begin(db)
    try:
        await db.execute(
            "INSERT OR IGNORE INTO meta (name, value) VALUES ('audit_key_check', ?)",
            (audit_key_check(key),),
        )
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
