"""``python -m bot status``: is the bot well? Read from its database, opened read-only.

Shows the last update the bot handled (a heartbeat written at most once a minute), the
outbox's backlog and failed messages, pending requests, visitors inside, the last backup
(the audit event ``backup_done``, written by ``python -m bot backup``) and the last
retention purge (``privacy_purge``, bot/flows/privacy.py). The bot may keep running.

Exit status: 0 when it could read everything, 2 with one line on stderr when it could not
(no config, no database, a database of another version, keys that do not open it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app.config import (
    ENCRYPTION_KEY_ENV,
    SECRET_ENV,
    Config,
    ConfigError,
    load_config,
)
from bot.core.visits import VisitStatus
from bot.flows import health, privacy
from storage.crypto import Cipher
from storage.db import SchemaMismatch, Storage

BACKUP_DONE = "backup_done"  # the audit event of a finished backup (python -m bot backup)
BACKUP_FAILED = "backup_failed"  # a daily backup that failed, with its reason


@dataclass(frozen=True)
class Status:
    database: str
    last_update: datetime | None
    outbox_pending: int
    outbox_oldest_pending: datetime | None
    outbox_failed: int
    pending_visits: int
    visitors_inside: int
    last_backup: datetime | None
    last_purge: datetime | None
    # The newest daily backup that failed since the last good one, and why (None: none did).
    backup_failed: datetime | None = None
    backup_failure: str = ""


class Unreadable(Exception):
    """One line for the operator: what is wrong and what to do."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = sub.add_parser("status", help="is the bot well? (last update, outbox, visits, ...)")
    status.add_argument("--config", type=Path, default=Path("config.toml"))
    status.add_argument("--json", action="store_true", help="one JSON object, for monitoring")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        found = asyncio.run(read(config))
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except Unreadable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(asdict(found), default=_iso))
    else:
        print(render(found, config, datetime.now(UTC)))
    return 0


async def read(config: Config) -> Status:
    path = config.database_path.resolve()
    if not path.is_file():
        raise Unreadable(
            f"no database at {path}: the bot has not run with this config yet"
            " (check storage.data_dir)"
        )
    cipher = Cipher(config.encryption_key)
    try:
        storage = await Storage.open_readonly(path, cipher, config.audit_key)
    except SchemaMismatch as exc:
        newer = exc.found > exc.expected
        raise Unreadable(
            f"{path} has schema {exc.found}, this program's is {exc.expected}: "
            + (
                "it was written by a newer version; upgrade this one"
                if newer
                else "start the bot once (or run it after an upgrade) to migrate it"
            )
        ) from None
    except (sqlite3.DatabaseError, OSError) as exc:
        raise Unreadable(f"cannot read {path} as the bot's database: {exc}") from None
    try:
        wrong = await storage.health.wrong_key()
        if wrong:
            env = ENCRYPTION_KEY_ENV if wrong == "encryption_key" else SECRET_ENV
            raise Unreadable(
                f"security.{wrong} (or {env}) is not the key this database was written with:"
                " check the config and the environment file"
            )
        backlog = await storage.health.outbox()
        last_backup = await storage.audit.last_at(BACKUP_DONE)
        failed = await storage.audit.last(BACKUP_FAILED)
        if failed is not None and last_backup is not None and failed[0] <= last_backup:
            failed = None
        return Status(
            database=str(path),
            last_update=await storage.health.last_beat(health.UPDATE),
            outbox_pending=backlog.pending,
            outbox_oldest_pending=backlog.oldest_pending,
            outbox_failed=backlog.failed,
            pending_visits=await storage.health.visits_in(VisitStatus.PENDING),
            visitors_inside=await storage.health.visits_in(VisitStatus.INSIDE),
            last_backup=last_backup,
            last_purge=await storage.audit.last_at(privacy.PURGE),
            backup_failed=failed[0] if failed else None,
            backup_failure=failed[1] if failed else "",
        )
    except sqlite3.DatabaseError as exc:
        raise Unreadable(f"cannot read {path} as the bot's database: {exc}") from None
    finally:
        await storage.close()


def render(status: Status, config: Config, now: datetime) -> str:
    def when(at: datetime | None, never: str = "never") -> str:
        if at is None:
            return never
        local = at.astimezone(config.timezone).strftime("%Y-%m-%d %H:%M %Z")
        return f"{local} ({_ago(now - at)})"

    outbox = f"{status.outbox_pending} pending"
    if status.outbox_oldest_pending is not None:
        outbox += f" (oldest queued {_ago(now - status.outbox_oldest_pending)})"
    outbox += f", {status.outbox_failed} failed"
    rows = [
        ("database", status.database),
        ("last update handled", when(status.last_update)),
        ("outbox", outbox),
        ("pending requests", str(status.pending_visits)),
        ("visitors inside", str(status.visitors_inside)),
        ("last backup", when(status.last_backup)),
        ("last retention purge", when(status.last_purge)),
    ]
    if status.backup_failed is not None:
        failure = f"{when(status.backup_failed)}: {status.backup_failure}"
        rows.insert(
            rows.index(("last backup", when(status.last_backup))) + 1, ("backup FAILED", failure)
        )
    return "\n".join(f"{label + ':':<22}{value}" for label, value in rows)


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "in the future: check the clock"
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)
