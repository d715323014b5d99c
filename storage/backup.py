"""Online backups and their restore: one encrypted file holding a consistent snapshot of
the database, the encrypted files of the data folder and a manifest.

The snapshot is taken with SQLite's backup API (``sqlite3.Connection.backup``) on a
connection of its own, in one step, so it is one consistent state of the database even
while the bot writes to it. A backup file is ``MAGIC``, the length of what follows, and a
Fernet token (the data key) over a tar of ``manifest.json``, ``akses.sqlite3`` and
``ktp/*.ktp``. It is written to a temporary name, made 0600 and renamed, and reported
only after the snapshot passed ``PRAGMA integrity_check``, the audit chain verified and
the key check value matched.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage import audit
from storage.base import fetch_all, fetch_one
from storage.crypto import Cipher, InvalidToken
from storage.keys import ENCRYPTED_FILES, verify_key, write_private
from storage.keys import stored_key_check as _stored_key_check
from storage.migrations import HEAD, SchemaTooNew, schema_version

MAGIC = b"AKSES-RUANG-SERVER-BACKUP/1\n"
FORMAT = "akses-ruang-server-backup"
FORMAT_VERSION = 1
DATABASE = "akses.sqlite3"
MANIFEST = "manifest.json"
SUFFIX = ".akses-backup"


class BackupError(Exception):
    """A backup that cannot be made or restored; the message is one line for the admin."""


@dataclass(frozen=True)
class Facts:
    """What a database holds, as the manifest records it and a restore compares it."""

    schema: int
    key_check: str
    audit_head: str
    audit_events: int
    visits: int


@dataclass(frozen=True)
class Manifest:
    format: str
    format_version: int
    app_version: str
    created_at: str
    facts: Facts
    files: dict[str, str]  # name in the archive -> sha256

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            format=raw["format"],
            format_version=int(raw["format_version"]),
            app_version=str(raw["app_version"]),
            created_at=str(raw["created_at"]),
            facts=Facts(**raw["facts"]),
            files={str(k): str(v) for k, v in raw["files"].items()},
        )


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _snapshot(source: Path, target: Path) -> None:
    """One consistent copy of a live database (the backup API, in a single step)."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # A standalone file: no -wal beside it is needed to read it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    target.chmod(0o600)


async def verify_database(path: Path, cipher: Cipher, audit_key: bytes) -> Facts:
    """Check a database file: integrity, schema, key, audit chain. Raises BackupError."""
    async with aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        result = [row[0] for row in await fetch_all(db, "PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"the database fails its integrity check: {result[0]}")
        version = await schema_version(db)
        if version > HEAD:
            raise SchemaTooNew(version)
        await verify_key(db, cipher)
        key_check = await _stored_key_check(db) or cipher.key_check
        row = await fetch_one(db, "SELECT COUNT(*) FROM visits")
        visits = int(row[0]) if row else 0
    chain = await audit.verify(path, audit_key)
    if not chain.ok:
        raise BackupError(f"the audit chain is broken at event {chain.broken_at}: {chain.problem}")
    return Facts(version, key_check, chain.head, chain.count, visits)


def _archive(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _prepare(database: Path, data_dir: Path, staging: Path) -> Path:
    if not database.exists():
        raise BackupError(f"no database at {database}")
    staging.mkdir(mode=0o700)
    snapshot = staging / DATABASE
    _snapshot(database, snapshot)
    return snapshot


def _members(snapshot: Path, data_dir: Path) -> dict[str, bytes]:
    members = {DATABASE: snapshot.read_bytes()}
    # KTP files written after the snapshot are left out (nothing in it refers to them).
    for path in (p for pattern in ENCRYPTED_FILES for p in sorted(data_dir.glob(pattern))):
        try:
            members[path.relative_to(data_dir).as_posix()] = path.read_bytes()
        except FileNotFoundError:
            continue  # purged between the listing and the read
    return members


async def create(
    database: Path,
    data_dir: Path,
    cipher: Cipher,
    out: Path,
    app_version: str,
    now: datetime,
    *,
    audit_key: bytes,
) -> Manifest:
    """Write a verified, encrypted backup of a (possibly running) bot's data to ``out``."""
    staging = data_dir / f".backup-{os.getpid()}-{now.timestamp():.0f}"
    try:
        try:
            snapshot = await asyncio.to_thread(_prepare, database, data_dir, staging)
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(
                f"cannot write the snapshot in {data_dir}: {_reason(exc)} (is the disk full?)"
            ) from None
        facts = await verify_database(snapshot, cipher, audit_key)
        members = await asyncio.to_thread(_members, snapshot, data_dir)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)

    def seal() -> tuple[Manifest, list[bytes]]:
        # Off the event loop (hashing, packing and encrypting a large database takes
        # seconds), and each copy dropped as soon as the next one holds it.
        manifest = Manifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            app_version=app_version,
            created_at=now.isoformat(),
            facts=facts,
            files={name: _sha256(data) for name, data in members.items()},
        )
        archive = _archive({MANIFEST: manifest.to_json(), **members})
        members.clear()
        token = cipher.encrypt(archive)
        del archive
        return manifest, [MAGIC, f"{len(token)}\n".encode(), token]

    manifest, body = await asyncio.to_thread(seal)
    try:
        await asyncio.to_thread(write_private, out, body)
    except OSError as exc:
        raise BackupError(f"cannot write {out}: {_reason(exc)}") from None
    return manifest


def _open(blob: bytes, cipher: Cipher) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and members of a backup file's bytes; BackupError says what is wrong."""
    if not blob.startswith(MAGIC):
        raise BackupError("not a backup made by this bot (no backup header)")
    length_line, _, token = blob[len(MAGIC) :].partition(b"\n")
    try:
        length = int(length_line)
    except ValueError:
        raise BackupError("the backup header is damaged") from None
    if len(token) < length:
        raise BackupError(
            f"the backup is truncated ({len(token)} of {length} bytes): copy it again"
        )
    if len(token) > length:
        raise BackupError("the backup has extra bytes after its end: it was altered")
    try:
        archive = cipher.decrypt(token)
    except InvalidToken:
        raise BackupError(
            "the backup was made with another encryption key (or altered): restore it with "
            "the key in use when it was made"
        ) from None
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
            members: dict[str, bytes] = {}
            for info in tar.getmembers():
                handle = tar.extractfile(info) if info.isfile() else None
                if handle is None:
                    raise BackupError(f"the backup holds an unexpected entry {info.name!r}")
                members[info.name] = handle.read()
        manifest = Manifest.from_json(members.pop(MANIFEST))
    except (tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        raise BackupError(f"the backup's contents are damaged ({exc})") from None
    if manifest.format != FORMAT or manifest.format_version > FORMAT_VERSION:
        raise BackupError(
            f"unknown backup format {manifest.format} {manifest.format_version}: made by a "
            "newer version of the bot"
        )
    if manifest.facts.schema > HEAD:
        raise BackupError(
            f"the backup holds database schema {manifest.facts.schema}, newer than this "
            f"program's {HEAD}: restore it with version {manifest.app_version} or newer"
        )
    allowed = {DATABASE} | {n for n in members if _is_encrypted_file(n)}
    if set(members) != set(manifest.files) or not set(members) <= allowed:
        raise BackupError("the backup's files do not match its manifest")
    for name, data in members.items():
        if _sha256(data) != manifest.files[name]:
            raise BackupError(f"{name} in the backup does not match its manifest")
    return manifest, members


def _is_encrypted_file(name: str) -> bool:
    path = Path(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and any(path.match(pattern) for pattern in ENCRYPTED_FILES)
    )


def read(path: Path, cipher: Cipher) -> tuple[Manifest, dict[str, bytes]]:
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise BackupError(f"no backup file at {path}") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _open(blob, cipher)


def occupied(data_dir: Path, ignore: set[Path]) -> list[Path]:
    """What is in the data folder already (a restore replaces nothing without --force)."""
    if not data_dir.exists():
        return []
    return sorted(p for p in data_dir.iterdir() if p.resolve() not in ignore)


def _stage(members: dict[str, bytes], data_dir: Path, staging: Path) -> None:
    if not data_dir.exists():
        data_dir.mkdir(mode=0o700, parents=True)
    shutil.rmtree(staging, ignore_errors=True)
    for name, data in members.items():
        write_private(staging / name, data)


def _swap(members: dict[str, bytes], data_dir: Path, staging: Path) -> None:
    """Replace the old database (and its journal), then the encrypted files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{data_dir / DATABASE}{suffix}").unlink(missing_ok=True)
    for pattern in ENCRYPTED_FILES:
        for old in data_dir.glob(pattern):
            old.unlink()
    for name in members:
        target = data_dir / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(staging / name, target)
    data_dir.chmod(0o700)


async def restore(
    source: Path,
    data_dir: Path,
    cipher: Cipher,
    *,
    force: bool,
    ignore: set[Path],
    audit_key: bytes,
) -> Manifest:
    """Put a backup's database and files in ``data_dir`` and verify them there."""
    manifest, members = await asyncio.to_thread(read, source, cipher)
    found = await asyncio.to_thread(occupied, data_dir, ignore)
    if found and not force:
        raise BackupError(
            f"the data folder {data_dir} is not empty ({found[0].name} and"
            f" {len(found) - 1} more): restore into an empty folder, or add --force to"
            " replace its database and KTP files"
        )
    staging = data_dir / ".restore"
    try:
        await asyncio.to_thread(_stage, members, data_dir, staging)
        _compare(manifest.facts, await verify_database(staging / DATABASE, cipher, audit_key))
        await asyncio.to_thread(_swap, members, data_dir, staging)
    except OSError as exc:
        raise BackupError(f"cannot write to {data_dir}: {exc.strerror or exc}") from None
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)
    _compare(manifest.facts, await verify_database(data_dir / DATABASE, cipher, audit_key))
    return manifest


def _compare(expected: Facts, found: Facts) -> None:
    if found != expected:
        diff = [
            f"{name} {getattr(found, name)} (manifest: {getattr(expected, name)})"
            for name in asdict(expected)
            if getattr(found, name) != getattr(expected, name)
        ]
        raise BackupError("the restored database does not match the backup: " + ", ".join(diff))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest backups in ``folder`` beyond the newest ``keep``; return them."""
    backups = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.name)
    old = backups[:-keep] if keep > 0 else backups
    for path in old:
        path.unlink(missing_ok=True)
    return old
