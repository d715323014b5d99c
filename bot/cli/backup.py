"""``python -m bot backup --out FILE`` and ``python -m bot restore FILE [--force]``.

The backup runs while the bot runs (storage/backup.py takes a consistent snapshot); a
restore wants the bot stopped. Every refusal is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.app import runlock
from bot.cli.common import config_or_none, fail
from bot.flows import backups
from bot.flows.backups import app_version
from storage import backup
from storage.crypto import Cipher
from storage.db import REFUSALS, Storage
from storage.migrations import HEAD, schema_version


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    make = sub.add_parser("backup", help="write an encrypted, verified backup (bot may run)")
    make.add_argument("--config", type=Path, default=Path("config.toml"))
    make.add_argument("--out", type=Path, required=True, help="the backup file to write")
    restore = sub.add_parser("restore", help="restore a backup into the (empty) data folder")
    restore.add_argument("file", type=Path, help="a file written by python -m bot backup")
    restore.add_argument("--config", type=Path, default=Path("config.toml"))
    restore.add_argument(
        "--force", action="store_true", help="replace the database and KTP files already there"
    )


def run(args: argparse.Namespace) -> int:
    config = config_or_none(args.config)
    if config is None:
        return 2
    cipher = Cipher(config.encryption_key)
    try:
        if args.command == "backup":
            return _backup(
                args.out, config.database_path, config.data_dir, cipher, config.audit_key
            )
        ignore = {config.source.resolve()} if config.source else set()
        ignore.add((config.data_dir / runlock.LOCK_NAME).resolve())
        # Not under a running bot: it would go on writing into the files swapped away.
        with runlock.held(config.data_dir, "restore"):
            return asyncio.run(
                _restore(args.file, config.data_dir, cipher, args.force, ignore, config.audit_key)
            )
    except (runlock.Busy, runlock.Unusable) as exc:
        return fail(f"restore failed: {runlock.refusal(config.data_dir, exc)}")
    except backup.BackupError as exc:
        return fail(f"{args.command} failed: {exc}")
    except REFUSALS as exc:
        return fail(f"{args.command} failed: {exc}")
    except sqlite3.Error as exc:  # e.g. the disk filled up while reading the snapshot
        return fail(f"{args.command} failed: database error: {exc}")


def _backup(out: Path, database: Path, data_dir: Path, cipher: Cipher, audit_key: bytes) -> int:
    if out.exists():
        return fail(f"backup failed: {out} exists already; choose a new file name")
    if not out.parent.is_dir():
        if out.parent.exists():
            return fail(f"backup failed: cannot write {out}: {out.parent} is not a folder")
        return fail(f"backup failed: the folder {out.parent} does not exist")
    now = datetime.now(UTC)
    # The folder is the admin's (a shared one, /tmp): only the file is made private.
    made = backup.create(
        database, data_dir, cipher, out, app_version(), now, audit_key=audit_key, own_folder=False
    )
    manifest = asyncio.run(made)
    facts = manifest.facts
    # In the audit log as the daily ones are: `status` counts it as the last backup.
    detail = (
        f"file={out.name} bytes={out.stat().st_size} visits={facts.visits}"
        f" audit_head={facts.audit_head} manual"
    )
    asyncio.run(_audited(database, cipher, audit_key, detail))
    print(
        f"Backup written to {out} ({out.stat().st_size} bytes, mode 0600): {facts.visits}"
        f" visit(s), {len(manifest.files) - 1} KTP file(s), {facts.audit_events} audit"
        f" event(s), schema {facts.schema}; integrity and audit chain verified."
        f" Audit head: {facts.audit_head}"
    )
    return 0


async def _audited(database: Path, cipher: Cipher, audit_key: bytes, detail: str) -> None:
    """The backup_done event, unless the database is an older version's: a backup taken
    before an upgrade must leave it as it is (Storage.open would migrate it), so the old
    version can still run on it."""
    uri = f"{(await asyncio.to_thread(database.resolve)).as_uri()}?mode=ro"
    async with aiosqlite.connect(uri, uri=True) as db:
        if await schema_version(db) != HEAD:
            return
    storage = await Storage.open(database, cipher, audit_key)
    try:
        await storage.audit.record(datetime.now(UTC), None, backups.DONE, detail=detail)
    finally:
        await storage.close()


async def _restore(
    source: Path, data_dir: Path, cipher: Cipher, force: bool, ignore: set[Path], audit_key: bytes
) -> int:
    manifest = await backup.restore(
        source, data_dir, cipher, force=force, ignore=ignore, audit_key=audit_key
    )
    facts = manifest.facts
    print(
        f"Restored {source} (made {manifest.created_at} by version {manifest.app_version})"
        f" into {data_dir}: {facts.visits} visit(s), {len(manifest.files) - 1} KTP file(s),"
        f" {facts.audit_events} audit event(s); integrity, audit chain and manifest verified."
        f" Audit head: {facts.audit_head}"
    )
    return 0
