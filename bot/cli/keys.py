"""``python -m bot keys rotate``: re-encrypt everything under a new data key.

The new key comes from AKSES_NEW_ENCRYPTION_KEY; the config still names the current one.
Stop the bot first. The database is re-encrypted (and the NIK index rebuilt) in one
transaction, then each KTP file is rewritten under a temporary name and renamed; both keys
are accepted while it runs, so a rotation that stopped half-way is finished by running
the same command again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.app import runlock
from bot.app.config import ENCRYPTION_KEY_ENV, NEW_ENCRYPTION_KEY_ENV, Config
from bot.cli.common import config_or_none, fail
from storage import keys
from storage.crypto import Cipher, check_key, key_check_value
from storage.db import REFUSALS, Storage
from storage.privacy import compact_wal

ROTATED = "keys_rotated"  # the audit event: the key check values before and after, counts

GENERATE = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("keys", help="rotate the data encryption key")
    actions = group.add_subparsers(dest="action", required=True)
    rotate = actions.add_parser(
        "rotate", help=f"re-encrypt all data with the key in {NEW_ENCRYPTION_KEY_ENV}"
    )
    rotate.add_argument("--config", type=Path, default=Path("config.toml"))


def run(args: argparse.Namespace) -> int:
    config = config_or_none(args.config)
    if config is None:
        return 2
    text = os.environ.get(NEW_ENCRYPTION_KEY_ENV, "")
    if not text.strip():
        return fail(
            f"keys rotate: set {NEW_ENCRYPTION_KEY_ENV} to the new key; generate one with: "
            + GENERATE
        )
    try:
        new = check_key(text)
    except ValueError:
        return fail(
            f"keys rotate: {NEW_ENCRYPTION_KEY_ENV} is not a Fernet key (32 bytes, url-safe"
            " base64); generate one with: " + GENERATE
        )
    if not config.database_path.exists():
        return fail(f"keys rotate: no database at {config.database_path}")
    try:
        with runlock.held(config.data_dir, "keys rotate"):
            return asyncio.run(_rotate(config, new))
    except (runlock.Busy, runlock.Unusable) as exc:
        return fail(f"keys rotate: {runlock.refusal(config.data_dir, exc)}")
    except REFUSALS as exc:
        return fail(f"keys rotate: {exc}")
    except keys.UnreadableFile as exc:
        return fail(f"keys rotate: {exc}")
    except (OSError, sqlite3.Error) as exc:  # a full disk, a read-only folder
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        return fail(
            f"keys rotate stopped: {reason}; fix that and run the same command again"
            " (both keys are accepted until it ends)"
        )


async def _rotate(config: Config, new: bytes) -> int:
    # The new key encrypts; the configured one (and the new one, for a rerun after the
    # database was done) decrypt.
    cipher = Cipher(new, config.encryption_key)
    # The key the data was under: the configured one, or the new one on a rerun after the
    # database was done. Read before opening, which records a check value if none is kept.
    async with aiosqlite.connect(config.database_path) as raw:
        before = await keys.stored_key_check(raw)
    storage = await Storage.open(config.database_path, cipher, config.audit_key)
    try:
        counts = await keys.rotate_database(storage.database)
        files = await asyncio.to_thread(keys.rotate_files, config.data_dir, cipher)
        # Old ciphertext must not linger in the WAL (secure_delete clears the file itself).
        await compact_wal(storage.connection)
        done = keys.Rotated(counts, files)
        await storage.audit.record(
            datetime.now(UTC),
            None,
            ROTATED,
            detail=f"from={before or '-'} to={key_check_value(new)} {done.describe()}"[:300],
        )
    finally:
        await storage.close()
    print(
        f"Re-encrypted with the new key (check value {key_check_value(new)}): {done.describe()}."
    )
    if new != config.encryption_key:
        # The key the data was under before this run, named only when it was another one
        # (a rerun finds the data under the new key already).
        old = before if before is not None and before != key_check_value(new) else None
        tail = (
            f" The old key (check value {old}) no longer opens this data; keep it only to"
            " restore backups made before today, and make a new backup now."
            if old
            else " The data was under the new key already (a rerun)."
        )
        print(
            f"Now set security.encryption_key (or {ENCRYPTION_KEY_ENV}) to the value of"
            f" {NEW_ENCRYPTION_KEY_ENV}, then start the bot.{tail}"
        )
    return 0
