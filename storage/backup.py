"""Online backups and their restore: one encrypted file holding a consistent snapshot of
the database, the encrypted files of the data folder and a manifest, written and read in
pieces (storage/backup_format.py) so that memory stays at a few MB whatever their size.

The snapshot is taken with SQLite's backup API (``sqlite3.Connection.backup``) on a
connection of its own, in one step, so it is one consistent state of the database even
while the bot writes to it. The backup file is a tar stream of ``akses.sqlite3``,
``ktp/*.ktp`` and, last, ``manifest.json``, encrypted in pieces as it is written. It is
written to a temporary name, 0600, fsync'd and renamed, and reported only after the
snapshot passed ``PRAGMA integrity_check``, the audit chain verified and the key check
value matched.

The manifest (each file's sha256, the database's facts) comes last, so the backup is one
pass over the data: each file is hashed as it goes into the tar. Hashing first in a pass of
its own would read the database twice, and a KTP photo purged between the two passes would
leave a manifest naming a file the archive lacks. A restore streams the same way: each
member goes straight to the staging folder while it is hashed, then the manifest at the end
is checked against those hashes before anything replaces the data folder.

A version 1 file (one Fernet token over the whole tar, written before version 2) is still
restored, in memory as it always was: several times the database's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import shutil
import sqlite3
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

import aiosqlite

from storage import audit
from storage.backup_format import (
    DATABASE,
    FORMAT,
    FORMAT_VERSION,
    MAGIC,
    MAGIC_V1,
    MANIFEST,
    PIECE,
    BackupError,
    Facts,
    Manifest,
    PieceReader,
    PieceWriter,
    is_encrypted_file,
    open_v1,
    read_manifest,
    version_of,
)
from storage.base import fetch_all, fetch_one
from storage.crypto import Cipher
from storage.keys import ENCRYPTED_FILES, private_file, verify_key, write_private
from storage.keys import stored_key_check as _stored_key_check
from storage.migrations import HEAD, SchemaTooNew, schema_version

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "DATABASE",
    "FORMAT",
    "FORMAT_VERSION",
    "MAGIC",
    "MAGIC_V1",
    "MANIFEST",
    "SUFFIX",
    "BackupError",
    "Facts",
    "Manifest",
    "create",
    "occupied",
    "prune",
    "restore",
    "verify_database",
]

SUFFIX = ".akses-backup"
_COPY = 1 << 16  # a member is copied to the staging folder in parts this size


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


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
    # A file URI names an absolute path; the config's paths may be relative to the cwd.
    path = await asyncio.to_thread(path.resolve)
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


def _prepare(database: Path, data_dir: Path, staging: Path) -> Path:
    if not database.exists():
        raise BackupError(f"no database at {database}")
    staging.mkdir(mode=0o700)
    snapshot = staging / DATABASE
    _snapshot(database, snapshot)
    return snapshot


class _Hashing(io.RawIOBase):
    """A file read through while its sha256 is computed."""

    def __init__(self, source: io.BufferedIOBase) -> None:
        self._source = source
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view:
            size = self._source.readinto(view)
            self.hash.update(view[:size])
        return size


def _sources(snapshot: Path, data_dir: Path) -> Iterator[tuple[str, io.BufferedIOBase]]:
    """The snapshot and the encrypted files, each open while it is packed."""
    with snapshot.open("rb") as handle:
        yield DATABASE, handle
    # KTP files written after the snapshot are left out (nothing in it refers to them).
    for path in (p for pattern in ENCRYPTED_FILES for p in sorted(data_dir.glob(pattern))):
        try:
            handle = path.open("rb")  # open, it is read whole even if purged meanwhile
        except FileNotFoundError:
            continue  # purged between the listing and the read
        with handle:
            yield path.relative_to(data_dir).as_posix(), handle


def _add(tar: tarfile.TarFile, name: str, handle: io.BufferedIOBase) -> str:
    """Pack one file, streamed; its sha256."""
    info = tarfile.TarInfo(name)
    info.size = handle.seek(0, io.SEEK_END)
    info.mode = 0o600
    handle.seek(0)
    hashing = _Hashing(handle)
    tar.addfile(info, hashing)
    return hashing.hash.hexdigest()


def pack(
    out: BinaryIO,
    cipher: Cipher,
    sources: Iterator[tuple[str, io.BufferedIOBase]],
    manifest_for: Callable[[dict[str, str]], Manifest],
    *,
    piece: int = PIECE,
) -> Manifest:
    """Write a version 2 backup of ``sources`` to ``out``, its manifest (made by
    ``manifest_for`` from the files' hashes) last; ``piece``: the plaintext per piece."""
    pieces = PieceWriter(out, cipher, piece)
    files: dict[str, str] = {}
    with tarfile.open(fileobj=pieces, mode="w|") as tar:
        for name, handle in sources:
            files[name] = _add(tar, name, handle)
        manifest = manifest_for(files)
        _add(tar, MANIFEST, io.BytesIO(manifest.to_json()))
    pieces.finish()
    return manifest


async def create(
    database: Path,
    data_dir: Path,
    cipher: Cipher,
    out: Path,
    app_version: str,
    now: datetime,
    *,
    audit_key: bytes,
    piece: int = PIECE,
    own_folder: bool = True,
) -> Manifest:
    """Write a verified, encrypted backup of a (possibly running) bot's data to ``out``.

    ``own_folder``: ``out``'s folder is the bot's backup folder (``backup.folder``), kept
    0700; False for a folder the admin named (``backup --out``), whose mode is left as it
    is (storage/keys.py ``private_file``)."""
    staging = data_dir / f".backup-{os.getpid()}-{now.timestamp():.0f}"
    try:
        try:
            snapshot = await asyncio.to_thread(_prepare, database, data_dir, staging)
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(
                f"cannot write the snapshot in {data_dir}: {_reason(exc)} (is the disk full?)"
            ) from None
        facts = await verify_database(snapshot, cipher, audit_key)

        def manifest_for(files: dict[str, str]) -> Manifest:
            return Manifest(FORMAT, FORMAT_VERSION, app_version, now.isoformat(), facts, files)

        def write() -> Manifest:
            # Off the event loop: hashing and encrypting a large database takes seconds.
            with private_file(out, own_folder=own_folder) as handle:
                files = _sources(snapshot, data_dir)
                return pack(handle, cipher, files, manifest_for, piece=piece)

        try:
            return await asyncio.to_thread(write)
        except OSError as exc:
            raise BackupError(f"cannot write {out}: {_reason(exc)}") from None
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)


_Opened = PieceReader | tuple[Manifest, dict[str, bytes]]


def _open(path: Path, cipher: Cipher) -> _Opened:
    """A version 2 file, its first piece read (so the key is known to fit), or a version 1
    file's manifest and members, checked (in memory)."""
    try:
        source = path.open("rb")
    except FileNotFoundError:
        raise BackupError(f"no backup file at {path}") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {_reason(exc)}") from None
    try:
        if version_of(source.readline(len(MAGIC))) == 1:
            with source:
                return open_v1(source.read(), cipher)
        return PieceReader(source, cipher)
    except BaseException:
        source.close()
        raise


def _copy(member: IO[bytes], target: Path) -> str:
    """Write one member to the staging folder (0600, fsync'd) as it is read; its sha256."""
    digest = hashlib.sha256()
    with private_file(target, own_folder=True) as out:  # in the staging folder
        while part := member.read(_COPY):
            digest.update(part)
            out.write(part)
    return digest.hexdigest()


def _unpack(pieces: PieceReader, staging: Path) -> tuple[Manifest, list[str]]:
    """Stream a version 2 backup into ``staging``; its manifest, checked, and the names."""
    found: dict[str, str] = {}
    manifest: Manifest | None = None
    try:
        with tarfile.open(fileobj=pieces, mode="r|") as tar:
            for info in tar:
                member = tar.extractfile(info) if info.isfile() else None
                if member is not None and info.name == MANIFEST and manifest is None:
                    manifest = read_manifest(member, info.size)
                    continue
                wanted = info.name == DATABASE or is_encrypted_file(info.name)
                if member is None or manifest is not None or info.name in found or not wanted:
                    raise BackupError(f"the backup holds an unexpected entry {info.name!r}")
                found[info.name] = _copy(member, staging / info.name)
        pieces.finish()
    except (tarfile.TarError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise BackupError(f"the backup's contents are damaged ({exc})") from None
    if manifest is None:
        raise BackupError("the backup's contents are damaged (it has no manifest)")
    manifest.check(found)
    return manifest, list(found)


def occupied(data_dir: Path, ignore: set[Path]) -> list[Path]:
    """What is in the data folder already (a restore replaces nothing without --force)."""
    if not data_dir.exists():
        return []
    return sorted(p for p in data_dir.iterdir() if p.resolve() not in ignore)


def _stage(opened: _Opened, data_dir: Path, staging: Path) -> tuple[Manifest, list[str]]:
    if not data_dir.exists():
        data_dir.mkdir(mode=0o700, parents=True)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    staging.chmod(0o700)
    if isinstance(opened, PieceReader):
        return _unpack(opened, staging)
    manifest, members = opened
    for name, data in members.items():
        write_private(staging / name, data)
    return manifest, list(members)


def _swap(names: list[str], data_dir: Path, staging: Path) -> None:
    """Replace the old database (and its journal), then the encrypted files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{data_dir / DATABASE}{suffix}").unlink(missing_ok=True)
    for pattern in ENCRYPTED_FILES:
        for old in data_dir.glob(pattern):
            old.unlink()
    for name in names:
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
    """Put a backup's database and files in ``data_dir`` and verify them there.

    Nothing in ``data_dir`` changes until the whole backup was read, checked against its
    manifest and verified in the staging folder; a folder the restore had to create is
    removed again when it fails."""
    opened = await asyncio.to_thread(_open, source, cipher)
    created = not await asyncio.to_thread(data_dir.exists)
    staging = data_dir / ".restore"
    swapped = False
    try:
        found = await asyncio.to_thread(occupied, data_dir, ignore)
        if found and not force:
            raise BackupError(
                f"the data folder {data_dir} is not empty ({found[0].name} and"
                f" {len(found) - 1} more): restore into an empty folder, or add --force to"
                " replace its database and KTP files"
            )
        try:
            manifest, names = await asyncio.to_thread(_stage, opened, data_dir, staging)
            _compare(manifest.facts, await verify_database(staging / DATABASE, cipher, audit_key))
            swapped = True
            await asyncio.to_thread(_swap, names, data_dir, staging)
        except OSError as exc:
            raise BackupError(f"cannot write to {data_dir}: {exc.strerror or exc}") from None
        finally:
            await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)
            if created and not swapped:
                await asyncio.to_thread(_remove_empty, data_dir)
    finally:
        if isinstance(opened, PieceReader):
            opened.close()
    _compare(manifest.facts, await verify_database(data_dir / DATABASE, cipher, audit_key))
    return manifest


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or gone: nothing of ours to remove
        folder.rmdir()


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
