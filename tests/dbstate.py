"""What the bot's database holds, read beside the running bot, so an end-to-end test can
show that a refused input changed nothing::

    db = await watch(app, sim)
    ...  # the refused input, and the answer it gets
    await db.unchanged(new_audit=["badge_unknown", "forged_alert"], new_outbox=["forged"] * 2)

The file is read through its own read-only ``sqlite3`` connection, not through Storage:
the check must not depend on the code it checks. Every table listed in ``sqlite_master``
is read, so a table or column added later is covered without touching this module.

Two things legitimately differ after a refused input, and a test names them:

- the audit log gains the refusal's events (``new_audit``: their actions), and
- the outbox may gain messages about it, such as an alert to the section heads
  (``new_outbox``: their purposes, the first part of each message's key).

Both are exact multisets: an event written twice, or a message not sent, is a change.

One mark may be set by any input: the first update from a staff member records that they
opened the bot (``staff.opened_at``, NULL until then, never changed after). It says who can
be reached, not what the input did, so its first setting is not counted as a change.

Encrypted cells are compared by what they decrypt to: the conversation's draft is written
again after every update with fresh ciphertext (Fernet tokens carry a timestamp and a
random IV), although what it says did not change.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from storage.crypto import Cipher, InvalidToken

# The two logs a refusal may append to, and what names a row of each: the audit event's
# action, and the outbox message's purpose, the first part of its idempotency key
# ("forged:<time>:<chat>" is an alert about a forged badge).
AUDIT = ("audit_events", "action")
OUTBOX = ("outbox", "key")
# SQLite's own table of AUTOINCREMENT counters.
_SEQUENCE = "sqlite_sequence"
# (table, column) set once, from NULL, by whatever update comes first (see above).
FIRST_MARKS = {("staff", "opened_at")}
# The bot's liveness record (the last update handled, for `python -m bot status`): a refused
# input is still an update handled, so this row may move; it holds no state of the procedure.
# The durable intake (storage/updates.py) records the updates themselves: every input,
# refused or not, passes through it.
_LIVENESS = frozenset({"heartbeats", "incoming_updates"})


class _Config(Protocol):
    """The part of bot.app.config.Config the snapshot needs."""

    @property
    def database_path(self) -> Path: ...

    encryption_key: bytes
    signing_secret: bytes


class _Simulator(Protocol):
    async def settle(self) -> None: ...


@dataclass(frozen=True)
class Decrypted:
    """A cell that was ciphertext, shown and compared by its plaintext."""

    plain: Any

    def __repr__(self) -> str:
        return f"decrypted({self.plain!r})"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    # Rows by their declared primary key, or by rowid where the table declares none.
    rows: dict[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class Snapshot:
    # Not in repr: a failing test prints differences(), not two copies of the database.
    schema: tuple[tuple[str, str, str], ...] = field(repr=False)  # (type, name, sql)
    user_version: int
    tables: dict[str, Table] = field(repr=False)


def snapshot(path: Path, cipher: Cipher) -> Snapshot:
    """Every row of every table, as committed (WAL included) when this is called."""
    # mode=ro: the check can never write. A fresh connection starts a fresh read
    # transaction, so it sees every commit the bot made so far, WAL frames included
    # (https://www.sqlite.org/wal.html#concurrency); one transaction reads all tables at
    # the same instant.
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        db.execute("BEGIN")
        schema = tuple(
            db.execute(
                "SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name"
            )
        )
        (user_version,) = db.execute("PRAGMA user_version").fetchone()
        tables = {name: _table(db, name, cipher) for kind, name, _ in schema if kind == "table"}
        db.execute("COMMIT")
    finally:
        db.close()
    return Snapshot(schema, user_version, tables)


def _table(db: sqlite3.Connection, name: str, cipher: Cipher) -> Table:
    info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
    columns = tuple(row[1] for row in info)
    key = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5])
    select = "*" if key else "rowid, *"
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for raw in db.execute(f'SELECT {select} FROM "{name}"'):
        cells = raw if key else raw[1:]
        row = {c: _plain(v, cipher) for c, v in zip(columns, cells, strict=True)}
        rows[tuple(row[c] for c in key) if key else (raw[0],)] = row
    return Table(columns, rows)


def _plain(value: Any, cipher: Cipher) -> Any:
    if not isinstance(value, str | bytes) or not value:
        return value
    try:
        plain = cipher.decrypt(value.encode() if isinstance(value, str) else value)
    except InvalidToken:  # not ciphertext (or not ours): compared as stored
        return value
    try:
        text = plain.decode()
    except UnicodeDecodeError:
        return Decrypted(plain)
    try:
        # JSON is compared as data: the same draft may be dumped with its keys reordered.
        return Decrypted(json.loads(text))
    except ValueError:
        return Decrypted(text)


def differences(
    before: Snapshot,
    after: Snapshot,
    *,
    new_audit: Collection[str] = (),
    new_outbox: Collection[str] = (),
    new_ktp_views: int = 0,
) -> list[str]:
    """What changed between two snapshots, apart from exactly the new audit events and
    outbox messages named (each a multiset of actions or purposes) and ``new_ktp_views``
    scan views that showed a KTP photo (storage/privacy.py); empty if nothing did."""
    found: list[str] = []
    if before.schema != after.schema:
        found.append(f"schema: {sorted(set(before.schema) ^ set(after.schema))}")
    if before.user_version != after.user_version:
        found.append(f"user_version: {before.user_version} -> {after.user_version}")
    appendable = {AUDIT[0]: (AUDIT[1], new_audit), OUTBOX[0]: (OUTBOX[1], new_outbox)}
    grew: set[str] = set()
    for name in sorted(set(before.tables) | set(after.tables)):
        old, new = before.tables.get(name), after.tables.get(name)
        if old is None or new is None:
            found.append(f"{name}: table {'added' if old is None else 'dropped'}")
            continue
        if name == _SEQUENCE or name in _LIVENESS:
            continue  # the counters below, once it is known which tables grew
        found += _edits(name, old, new)
        added = [new.rows[k] for k in sorted(new.rows.keys() - old.rows.keys(), key=repr)]
        if name == "ktp_views" and len(added) == new_ktp_views:
            continue
        if name not in appendable:
            found += [f"{name}: added {row}" for row in added]
            continue
        column, expected = appendable[name]
        got = Counter(str(row[column]).split(":", 1)[0] for row in added)
        if got != Counter(expected):
            found.append(f"{name}: new rows {dict(got)}, expected {dict(Counter(expected))}")
        elif added:
            grew.add(name)
    old_seq, new_seq = before.tables.get(_SEQUENCE), after.tables.get(_SEQUENCE)
    if old_seq is not None and new_seq is not None:
        # An AUTOINCREMENT counter moves with the rows it numbers, and only then.
        counters = dict(new_seq.rows)
        for key, row in new_seq.rows.items():
            if row.get("name") in grew and old_seq.rows.get(key) != row:
                if key in old_seq.rows:
                    counters[key] = old_seq.rows[key]
                else:
                    del counters[key]
        found += _edits(_SEQUENCE, old_seq, Table(new_seq.columns, counters))
        found += [f"{_SEQUENCE}: added {counters[k]}" for k in counters.keys() - old_seq.rows]
    return found


def _edits(name: str, old: Table, new: Table) -> list[str]:
    """Rows removed or changed (not added) between two reads of one table."""
    found = [f"{name}: removed {old.rows[k]}" for k in old.rows.keys() - new.rows.keys()]
    for k in old.rows.keys() & new.rows.keys():
        a, b = old.rows[k], new.rows[k]
        for table, column in FIRST_MARKS:
            if table == name and a.get(column) is None and column in b:
                a = {**a, column: b[column]}  # set for the first time: not a change
        if a != b:
            cells = ", ".join(f"{c}: {a.get(c)!r} -> {b.get(c)!r}" for c in b if a.get(c) != b[c])
            found.append(f"{name}: changed {k}: {cells}")
    return sorted(found)


def assert_unchanged(
    before: Snapshot,
    after: Snapshot,
    *,
    new_audit: Collection[str] = (),
    new_outbox: Collection[str] = (),
    new_ktp_views: int = 0,
) -> None:
    found = differences(
        before, after, new_audit=new_audit, new_outbox=new_outbox, new_ktp_views=new_ktp_views
    )
    assert not found, "the database changed:\n  " + "\n  ".join(found)


class DbWatch:
    """A snapshot taken once the bot is idle, to compare with the database later."""

    def __init__(self, app: object, sim: _Simulator, before: Snapshot) -> None:
        self._app = app
        self._sim = sim
        self.before = before

    async def unchanged(
        self,
        *,
        new_audit: Collection[str] = (),
        new_outbox: Collection[str] = (),
        new_ktp_views: int = 0,
    ) -> None:
        """Once the bot is idle again (its conversation state written, the outbox sent),
        nothing changed since watch() apart from the events and messages named."""
        after = await _settled_snapshot(self._app, self._sim)
        assert_unchanged(
            self.before,
            after,
            new_audit=new_audit,
            new_outbox=new_outbox,
            new_ktp_views=new_ktp_views,
        )


async def watch(app: object, sim: _Simulator) -> DbWatch:
    """``db = await watch(app, sim)``; the refused input; ``await db.unchanged()``.

    Every repeating job (expiry, deadlines, privacy) runs once first. Their timers fire a
    second or two after start and then every minute or hour, and a job owing work (the
    day's first purge, a review due since the test moved its clock) would otherwise do it
    inside the watch. With the test's clock standing still, a later run has nothing to do.
    """
    for job in app.job_queue.jobs():  # type: ignore[attr-defined]
        await job.run(app)
    return DbWatch(app, sim, await _settled_snapshot(app, sim))


async def _settled_snapshot(app: object, sim: _Simulator) -> Snapshot:
    services = app.bot_data  # type: ignore[attr-defined]
    # The simulator is quiet before the outbox worker may have picked up what a job or a
    # handler just queued; the worker says when nothing is left, then the bot's last
    # writes (the sent marks, the conversation state) follow its last Bot API call.
    await sim.settle()
    await services.delivery.wait_idle()
    await sim.settle()
    config: _Config = services.config
    cipher = Cipher(config.encryption_key)
    # Off the event loop: the bot under test runs on it.
    return await asyncio.to_thread(snapshot, config.database_path, cipher)
