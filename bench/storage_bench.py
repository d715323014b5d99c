"""The database side: seeding many visits fast, transitions on a big log, the export.

`seed` fills a fresh database straight with executemany, not through the bot: benchmark
set-up, not application code, so it is the one place outside storage/ that writes SQL. It
inserts only the columns the current schema has and refuses to guess a required column it
does not know, so a schema change fails loudly (tests/system/test_bench_smoke.py runs it).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.micro import Timing
from bench.visits import nik_for
from bot.app.config import Config, load_config
from bot.core.tokens import lookup_hash, new_credentials
from bot.core.visits import VisitStatus
from storage.db import Storage

try:
    from storage.audit import GENESIS_HASH, audit_hash
except ImportError:  # a commit from before the repositories (storage.db had the chain)
    from storage.db import GENESIS_HASH, audit_hash  # type: ignore[attr-defined,no-redef]
try:
    from storage.audit import keyed_hash
except ImportError:  # a commit from before the audit key: the chain was unkeyed
    keyed_hash = None  # type: ignore[assignment]  # (marks the missing function)

if TYPE_CHECKING:
    from bench.report import Results

ROOT = Path(__file__).resolve().parent.parent


def _in_this_tree(module_file: str | None) -> bool:
    return module_file is not None and Path(module_file).resolve().is_relative_to(ROOT)


PENDING, APPROVED, INSIDE = 20, 10, 10  # the newest visits, still open
# Inside the default record retention, so no visit is anonymized at start; KTP photos
# older than their retention are marked deleted, as the daily purge leaves them.
SPREAD = timedelta(days=300)


async def open_storage(config: Config) -> Storage:
    if "cipher" not in inspect.signature(Storage.open).parameters:
        return await Storage.open(config.database_path)  # before encryption at rest
    from storage.crypto import Cipher  # type: ignore[import-not-found]

    cipher = Cipher(config.encryption_key)  # type: ignore[attr-defined]
    return await Storage.open(config.database_path, cipher, config.audit_key)


async def seed(config_path: Path, count: int, pending: int = PENDING) -> float:
    """Create the bot's database for this config and seed `count` visits; seconds taken.

    The newest `pending` visits wait for a decision; a few more are approved or inside.
    """
    config = load_config(config_path)
    storage = await open_storage(config)  # the bot's own migrations make the schema
    await storage.close()
    start = time.perf_counter()
    await asyncio.to_thread(_seed, config, count, pending)
    return time.perf_counter() - start


def _seed(config: Config, count: int, pending: int) -> None:
    db = sqlite3.connect(config.database_path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN")
        Seeder(db, config, pending).seed(count)
        db.execute("COMMIT")
    finally:
        db.close()


class Seeder:
    def __init__(self, db: sqlite3.Connection, config: Config, pending: int = PENDING) -> None:
        self.db = db
        self.config = config
        self.pending = pending
        self.rng = random.Random(6)
        self.officer = config.with_role("officer")[0].user_id
        self.approver = config.with_role("approver")[0].user_id
        escorts = config.with_role("escort") or config.with_role("officer")
        self.escort = escorts[0].user_id
        self.now = datetime.now(UTC)
        self.prev_hash = self._last_hash()
        self.rows: dict[str, list[dict[str, Any]]] = {
            "visitors": [],
            "visits": [],
            "badges": [],
            "audit_events": [],
        }

    def seed(self, count: int) -> None:
        visitors = max(1, count // 2)  # half the visits are by returning visitors
        first_visitor = self._next_id("visitors")
        identity = self._identity()
        for i in range(visitors):
            at = _ts(self.now - SPREAD)
            self.rows["visitors"].append(
                {
                    "id": first_visitor + i,
                    **identity(nik_for(10_000_000 + i)),
                    "name": f"Pengunjung Arsip {i:06d}",
                    "organisation": f"Instansi {i % 500}",
                    "phone": f"0812{i:08d}",
                    "created_at": at,
                    "updated_at": at,
                }
            )
        first_visit = self._next_id("visits")
        for i in range(count):
            # Oldest first, so the audit chain runs forward in time.
            submitted = self.now - SPREAD * (count - i) / count
            status = self._status(count - i)
            visitor = first_visitor + self.rng.randrange(visitors)
            self._visit(first_visit + i, visitor, status, submitted)
        for table, rows in self.rows.items():
            self._insert(table, rows)

    def _status(self, left: int) -> str:
        """`left` counts down to 1 (the newest visit): the newest are still open."""
        if left <= self.pending:
            return "pending"
        if left <= self.pending + APPROVED:
            return "approved"
        if left <= self.pending + APPROVED + INSIDE:
            return "inside"
        return self.rng.choices(["done", "denied", "cancelled", "expired"], [94, 2, 1, 3])[0]

    def _visit(self, visit_id: int, visitor: int, status: str, submitted: datetime) -> None:
        minutes = lambda m: submitted + timedelta(minutes=m)  # noqa: E731
        recent = status in ("pending", "approved", "inside")
        if recent:  # still open: as if submitted a few minutes ago
            submitted = self.now - timedelta(minutes=5)
        row: dict[str, Any] = {
            "id": visit_id,
            "visitor_id": visitor,
            "status": status,
            "purpose": "Pemeliharaan server",
            "duration_minutes": 30,
            "equipment": "Laptop",
            "ktp_file_id": f"AgACAgUAAxkBench{visit_id:08d}",
            "officer_id": self.officer,
            "started_at": _ts(minutes(-6)),
            "form_done_at": _ts(minutes(-3)),
            "submitted_at": _ts(submitted),
            "handover_at": _ts(minutes(0)),
        }
        privacy = getattr(self.config, "privacy", None)
        ktp_days = getattr(privacy, "ktp_retention_days", 30)
        if self.now - submitted > timedelta(days=ktp_days):
            # The daily purge has deleted this KTP photo, as it would have in service.
            row.update(ktp_file_id="", ktp_deleted_at=_ts(submitted + timedelta(days=ktp_days)))
        else:  # kept (encrypted) since submission; the file itself is not made
            row.update(ktp_path=f"ktp/{visit_id}.ktp", ktp_stored_at=_ts(minutes(1)))
        events = [("submit", self.officer, None, "pending", submitted)]
        decided = status not in ("pending", "cancelled")
        if decided:
            row.update(decided_at=_ts(minutes(4)), decided_by=self.approver)
        if status == "denied":
            row["deny_reason"] = "Jadwal bentrok"
            events.append(("deny", self.approver, "pending", "denied", minutes(4)))
        if status == "cancelled":
            events.append(("cancel", self.officer, "pending", "cancelled", minutes(2)))
        if status in ("approved", "inside", "done", "expired"):
            valid_until = (self.now + timedelta(hours=1)) if recent else minutes(94)
            row["valid_until"] = _ts(valid_until)
            events.append(("approve", self.approver, "pending", "approved", minutes(4)))
            self._badge(visit_id, minutes(4), valid_until, status in ("done", "expired"))
        if status in ("inside", "done"):
            row.update(entered_at=_ts(minutes(10)), entry_escort_id=self.escort)
            events.append(("enter", self.escort, "approved", "inside", minutes(10)))
        if status == "done":
            row.update(exited_at=_ts(minutes(35)), exit_escort_id=self.escort)
            events.append(("exit", self.escort, "inside", "done", minutes(35)))
        if status == "expired":
            events.append(("expire", 0, "approved", "expired", minutes(94)))
        self.rows["visits"].append(row)
        for action, actor, source, target, at in events:
            self._audit(visit_id, action, actor, source, target, at)

    def _badge(self, visit_id: int, issued: datetime, expires: datetime, revoked: bool) -> None:
        # Nobody scans an archived badge: unique random stand-ins for the keyed hashes.
        self.rows["badges"].append(
            {
                "visit_id": visit_id,
                "token_hash": os.urandom(32).hex(),
                "code_hash": os.urandom(32).hex(),
                "issued_at": _ts(issued),
                "expires_at": _ts(expires),
                "revoked_at": _ts(expires) if revoked else None,
            }
        )

    def _audit(
        self,
        visit_id: int,
        action: str,
        actor: int,
        source: str | None,
        target: str,
        at: datetime,
    ) -> None:
        # The same chain as AuditLog.append writes, so a verifier accepts the seeded log.
        fields = (_ts(at), actor, action, visit_id, source, target, "")
        key = getattr(self.config, "audit_key", None)
        if keyed_hash is not None and key is not None:
            digest = keyed_hash(key, self.prev_hash, fields)
        else:
            digest = audit_hash(self.prev_hash, fields)
        self.rows["audit_events"].append(
            dict(
                zip(
                    ("at", "actor_id", "action", "visit_id", "from_status", "to_status", "detail"),
                    fields,
                    strict=True,
                ),
                prev_hash=self.prev_hash,
                hash=digest,
            )
        )
        self.prev_hash = digest

    def _identity(self) -> Callable[[str], dict[str, Any]]:
        """The visitor's NIK columns, in clear or encrypted, as the schema has them."""
        columns = self._columns("visitors")
        if "nik_enc" in columns:
            from storage.crypto import Cipher  # type: ignore[import-not-found]

            key = self.config.encryption_key  # type: ignore[attr-defined]
            cipher = Cipher(key)
            return lambda nik: {
                "nik_hash": cipher.nik_hash(nik),
                "nik_enc": cipher.encrypt_text(nik),
            }
        return lambda nik: {"nik": nik}

    def _columns(self, table: str) -> dict[str, tuple[bool, bool]]:
        """name -> (required, has a default) for the table as it is now."""
        rows = self.db.execute(f"PRAGMA table_info({table})").fetchall()
        return {r[1]: (bool(r[3]) and not r[5], r[4] is not None) for r in rows}

    def _sealer(self, table: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """Encrypts the cells the bot keeps encrypted (storage.crypto.DATA_KEY_COLUMNS), on
        a commit that has that list; the NIK is encrypted by _identity already."""
        try:
            from storage.crypto import DATA_KEY_COLUMNS, Cipher  # type: ignore[attr-defined]
        except ImportError:  # before names were encrypted
            return lambda row: row
        cipher = Cipher(self.config.encryption_key)  # type: ignore[attr-defined]
        sealed = set(DATA_KEY_COLUMNS.get(table, ())) - {"nik_enc"}

        def seal(row: dict[str, Any]) -> dict[str, Any]:
            return {k: cipher.seal(v) if k in sealed else v for k, v in row.items()}

        return seal

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        seal = self._sealer(table)
        rows = [seal(row) for row in rows]
        columns = self._columns(table)
        names = [name for name in columns if any(name in row for row in rows[:1])]
        unknown = [
            name
            for name, (required, has_default) in columns.items()
            if required and not has_default and name not in names
        ]
        if unknown:
            raise RuntimeError(f"bench seeder does not know required {table} columns {unknown}")
        placeholders = ", ".join("?" for _ in names)
        self.db.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",
            ([row.get(name) for name in names] for row in rows),
        )

    def _next_id(self, table: str) -> int:
        return int(self.db.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])

    def _last_hash(self) -> str:
        row = self.db.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else GENESIS_HASH


def _ts(value: datetime) -> str:
    return value.isoformat()


async def run(results: Results, count: int, *, quick: bool) -> None:
    """Seed `count` visits, time transitions on that log, and the export if it exists."""
    from bench.load import config_text, staff

    with tempfile.TemporaryDirectory(prefix="akses-bench-db-") as tmp:
        config_path = Path(tmp) / "config.toml"
        people = staff(officers=1, approvers=1)
        config_path.write_text(config_text("http://127.0.0.1:9/bot", "", people))
        transitions_n = 50 if quick else 200
        seconds = await seed(config_path, count, pending=transitions_n)
        config = load_config(config_path)
        size = sum(p.stat().st_size for p in config.database_path.parent.glob("akses.sqlite3*"))
        results.seeded = count
        results.database += [
            (
                f"Seeding {count:,} visits (with their visitors, badges and audit events)",
                f"{seconds:.1f} s",
            ),
            ("Database size after seeding", f"{size / 2**20:.0f} MB"),
        ]
        storage = await open_storage(config)
        try:
            results.micro += await transitions(storage, config, transitions_n)
            results.export = await export(storage, config, count, 1000 if quick else 10_000)
            results.export_pdf = await export(
                storage, config, count, 1000 if quick else 10_000, "pdf", runs=1
            )
            if results.export is None:
                results.export_note = "bot/reports (issue 4) is not in this commit"
        finally:
            await storage.close()


async def transitions(storage: Storage, config: Config, n: int) -> list[Timing]:
    """approve and enter, each one guarded UPDATE plus its audit event, on the big log."""
    if not hasattr(storage, "visits"):
        return await _transitions_before_repositories(storage, config, n)
    from bot.core import visits as lifecycle
    from storage.visits import BadgeHashes

    pending = await storage.visits.with_status(VisitStatus.PENDING)
    if len(pending) < n:
        raise RuntimeError(f"need {n} pending visits, the seeded log has {len(pending)}")
    approver = config.with_role("approver")[0].user_id
    escort = (config.with_role("escort") or config.with_role("officer"))[0].user_id
    secret = config.signing_secret
    approve, enter = [], []
    approved = []
    for visit in pending[:n]:
        now = datetime.now(UTC)
        creds = new_credentials(secret, visit.id)
        badge = BadgeHashes(
            lookup_hash(secret, creds.token, "token"), lookup_hash(secret, creds.code, "code")
        )
        start = time.perf_counter()
        change = lifecycle.approve(visit, approver, now, now + timedelta(hours=1))
        stored = await storage.visits.apply(change, badge=badge)
        approve.append(time.perf_counter() - start)
        assert stored is not None
        approved.append(stored)
    for visit in approved:
        start = time.perf_counter()
        await storage.visits.apply(lifecycle.enter(visit, escort, datetime.now(UTC)))
        enter.append(time.perf_counter() - start)
    return [
        Timing("State transition + audit event: approve (big log)", approve),
        Timing("State transition + audit event: enter (big log)", enter),
    ]


async def _transitions_before_repositories(storage: Any, config: Config, n: int) -> list[Timing]:
    """The same measurement through the Storage methods an older commit had."""
    visits = [v.id for v in await storage.visits_with_status(VisitStatus.PENDING)]
    if len(visits) < n:
        raise RuntimeError(f"need {n} pending visits, the seeded log has {len(visits)}")
    approver = config.with_role("approver")[0].user_id
    escort = (config.with_role("escort") or config.with_role("officer"))[0].user_id
    secret = config.signing_secret
    approve, enter = [], []
    for visit_id in visits[:n]:
        now = datetime.now(UTC)
        creds = new_credentials(secret, visit_id)
        start = time.perf_counter()
        await storage.approve(
            visit_id,
            approver,
            now,
            now + timedelta(hours=1),
            lookup_hash(secret, creds.token, "token"),
            lookup_hash(secret, creds.code, "code"),
        )
        approve.append(time.perf_counter() - start)
    for visit_id in visits[:n]:
        start = time.perf_counter()
        await storage.enter(visit_id, escort, datetime.now(UTC))
        enter.append(time.perf_counter() - start)
    return [
        Timing("State transition + audit event: approve (big log)", approve),
        Timing("State transition + audit event: enter (big log)", enter),
    ]


async def export(
    storage: Storage, config: Config, seeded: int, wanted: int, fmt: str = "xlsx", runs: int = 3
) -> Timing | None:
    """The access log of the newest `wanted` visits to `fmt` (xlsx or pdf) as the bot makes
    it: query, rows, document (an XLSX written meanwhile in its own process, where the
    commit has ``load_with_xlsx``)."""
    try:
        from bot.core.period import Period  # type: ignore[import-not-found]
        from bot.reports.export import render  # type: ignore[import-not-found]
        from bot.reports.log import build_access_log  # type: ignore[import-not-found]
        from storage.reports import visits_between  # type: ignore[attr-defined]
    except ImportError:
        visits_between = None
    if visits_between is None and not hasattr(storage, "reports"):
        return None
    try:  # the bot's own query and rows (issue 13's second round on): what /laporan runs
        from bot.reports.export import load_access_log  # type: ignore[import-not-found]
    except ImportError:
        load_access_log = None
    try:  # the XLSX written in a process of its own while the log is read (p8-xlsx on)
        from bot.reports.export import load_with_xlsx  # type: ignore[import-not-found]
    except ImportError:
        load_with_xlsx = None
    import bot.reports  # type: ignore[import-not-found]

    if not _in_this_tree(bot.reports.__file__):
        return None  # another checkout's (an editable install's) reports, not this tree's
    tz = config.timezone
    now = datetime.now(UTC)
    # Seeded visits are spread evenly over SPREAD, so this many days hold about `wanted`.
    days = SPREAD.days * wanted // seeded
    period = Period(
        start=(now - timedelta(days=days)).astimezone(tz).date(), end=now.astimezone(tz).date()
    )
    names = {m.user_id: m.name for m in config.staff}
    count = 0

    async def run_once() -> None:
        nonlocal count
        if fmt == "xlsx" and load_with_xlsx is not None:  # as /laporan makes it
            log, _ = await load_with_xlsx(storage, config, period, now)
            count = len(log.rows)
            return
        if load_access_log is not None:
            log = await load_access_log(storage, config, period, now)
        else:  # an older commit: its query and rows, as its bot made them
            start, end = period.bounds(tz)
            if visits_between is None:
                visits = await storage.reports.visits_between(start, end)
            else:
                visits = await visits_between(storage, start, end)
            log = build_access_log(
                visits, period, tz=tz, standards=config.standards, names=names, now=now
            )
        count = len(log.rows)
        render(log, fmt)

    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await run_once()
        samples.append(time.perf_counter() - started)
    target = EXPORT_TARGETS[fmt]
    return Timing(
        f"Export of {count:,} visits to {fmt.upper()} (query, rows, document)", samples, target
    )


# Issue 13's targets for 10,000 visits, end to end as the bot exports them.
EXPORT_TARGETS = {"xlsx": 1.5, "pdf": 5.0}
