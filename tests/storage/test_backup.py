"""The backup file in pieces (storage/backup.py, storage/backup_format.py): a backup made
and restored with real files, every way a file may be cut, shuffled, mixed or altered
refused in one line with the data folder left as it was, version 1 files still restored,
and the memory both take bounded whatever the database's size."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import sqlite3
import stat
import tarfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import backup
from storage.backup import BackupError, Facts, Manifest
from storage.crypto import Cipher, generate_key
from storage.db import Storage
from storage.migrations import HEAD
from tests.conftest import AUDIT_KEY, KEY
from tests.storage.test_storage import DRAFT, NOW

PIECE = 4096  # small pieces, so a small database makes many
KTP = {f"ktp/{n}.ktp": Cipher(KEY).encrypt(os.urandom(9000 * n)) for n in (1, 2, 3)}


async def fill(data: Path, visits: int) -> Path:
    """A data folder with ``visits`` visits and the KTP files of :data:`KTP`."""
    storage = await Storage.open(data / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    try:
        for n in range(visits):
            nik = f"35080101028500{n:02d}"
            await storage.visits.submit(dataclasses.replace(DRAFT, nik=nik), 1001, NOW)
    finally:
        await storage.close()
    for name, token in KTP.items():
        (data / name).parent.mkdir(mode=0o700, exist_ok=True)
        (data / name).write_bytes(token)
    return data / "akses.sqlite3"


async def make(data: Path, out: Path, *, piece: int = PIECE) -> Manifest:
    return await backup.create(
        data / "akses.sqlite3",
        data,
        Cipher(KEY),
        out,
        "1.0-test",
        NOW,
        audit_key=AUDIT_KEY,
        piece=piece,
    )


async def put_back(source: Path, data: Path, cipher: Cipher | None = None) -> Manifest:
    return await backup.restore(
        source, data, cipher or Cipher(KEY), force=True, ignore=set(), audit_key=AUDIT_KEY
    )


def tree(folder: Path) -> dict[str, tuple[int, str]] | None:
    """Every file and folder under ``folder``: its mode and contents (None: no folder)."""
    if not folder.exists():
        return None
    return {
        path.relative_to(folder).as_posix(): (
            stat.S_IMODE(path.stat().st_mode),
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "",
        )
        for path in sorted(folder.rglob("*"))
    }


def split(blob: bytes) -> tuple[bytes, list[bytes]]:
    """A version 2 file's header (its two lines) and its frames (length line and token)."""
    start = len(backup.MAGIC) + 33
    head, frames = blob[:start], []
    while start < len(blob):
        end = blob.index(b"\n", start) + 1
        end += int(blob[start:end])
        frames.append(blob[start:end])
        start = end
    return head, frames


def tar_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def snapshot_of(data: Path, scratch: Path) -> tuple[Path, dict[str, bytes]]:
    """A copy of the data folder's database (SQLite's backup API) and its files' bytes."""
    snapshot = scratch / "snapshot.sqlite3"
    src, dst = sqlite3.connect(data / "akses.sqlite3"), sqlite3.connect(snapshot)
    src.backup(dst)
    dst.execute("PRAGMA journal_mode=DELETE")
    src.close()
    dst.close()
    photos = {p.relative_to(data).as_posix(): p.read_bytes() for p in data.glob("ktp/*.ktp")}
    return snapshot, {"akses.sqlite3": snapshot.read_bytes(), **photos}


async def version_1(data: Path, out: Path, scratch: Path) -> Manifest:
    """A backup as releases before version 2 wrote it: one Fernet token over a tar whose
    first member is the manifest (the format those releases documented)."""
    snapshot, members = snapshot_of(data, scratch)
    facts = await backup.verify_database(snapshot, Cipher(KEY), AUDIT_KEY)
    manifest = Manifest(
        "akses-ruang-server-backup",
        1,
        "0.9",
        NOW.isoformat(),
        facts,
        {name: hashlib.sha256(body).hexdigest() for name, body in members.items()},
    )
    token = Cipher(KEY).encrypt(tar_of({"manifest.json": manifest.to_json(), **members}))
    write(out, backup.MAGIC_V1 + f"{len(token)}\n".encode() + token)
    return manifest


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def read(path: Path) -> bytes:
    return path.read_bytes()


def version_2(
    out: Path, members: dict[str, bytes], manifest_for: Callable[[dict[str, str]], Manifest]
) -> None:
    """A version 2 file of any members and manifest, encrypted with the right key."""
    with out.open("wb") as handle:
        sources = iter([(name, io.BytesIO(body)) for name, body in members.items()])
        backup.pack(handle, Cipher(KEY), sources, manifest_for, piece=PIECE)


@pytest.fixture
async def made(tmp_path: Path) -> Path:
    """A backup of two visits and three KTP files, in many pieces."""
    await fill(tmp_path / "data", 2)
    await make(tmp_path / "data", tmp_path / "made.akses-backup")
    return tmp_path / "made.akses-backup"


@pytest.fixture
async def live(tmp_path: Path) -> Path:
    """A data folder in use (one visit), which a refused restore must leave as it is."""
    await fill(tmp_path / "live", 1)
    (tmp_path / "live" / "ktp" / "9.ktp").write_bytes(b"not in any backup")
    return tmp_path / "live"


async def test_a_backup_in_pieces_restores_byte_for_byte(made: Path, tmp_path: Path) -> None:
    head, frames = split(read(made))
    assert head.startswith(b"AKSES-RUANG-SERVER-BACKUP/2\n") and len(frames) > 10
    assert tree(made.parent)["made.akses-backup"][0] == 0o600  # type: ignore[index]
    assert DRAFT.name.encode() not in read(made)
    manifest = await put_back(made, tmp_path / "restored")
    assert manifest.format_version == 2 and manifest.facts.visits == 2
    assert set(manifest.files) == {"akses.sqlite3", *KTP}
    restored = tmp_path / "restored"
    for name, token in KTP.items():
        assert (restored / name).read_bytes() == token
        assert stat.S_IMODE((restored / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(restored.stat().st_mode) == 0o700
    assert sorted(p.name for p in restored.iterdir()) == ["akses.sqlite3", "ktp"]
    raw = sqlite3.connect(restored / "akses.sqlite3")
    assert raw.execute("SELECT COUNT(*) FROM visits").fetchone() == (2,)
    raw.close()


def _flip(frame: bytes) -> bytes:
    """The frame with one byte of its token changed."""
    at = len(frame) // 2
    return frame[:at] + (b"A" if frame[at : at + 1] != b"A" else b"B") + frame[at + 1 :]


Frames = list[bytes]
# How the file is changed (from its header and frames, and another backup's made with the
# same key), and what the refusal says, counting pieces from 1 as a person would ({last}:
# the number of pieces, {before}: one fewer).
DAMAGES: dict[str, tuple[Callable[[bytes, Frames, bytes, Frames], bytes], str]] = {
    "reordered": (
        lambda h, f, oh, of: h + b"".join([f[0], f[2], f[1], *f[3:]]),
        "pieces are missing or out of order (piece 3 where 2 belongs): it was altered",
    ),
    "last piece moved first": (
        lambda h, f, oh, of: h + b"".join([f[-1], *f[:-1]]),
        "out of order (piece {last} where 1 belongs)",
    ),
    "a piece dropped": (
        lambda h, f, oh, of: h + b"".join(f[:3] + f[4:]),
        "piece 5 where 4 belongs",
    ),
    "a piece repeated": (
        lambda h, f, oh, of: h + b"".join(f[:3] + f[2:]),
        "piece 3 where 4 belongs",
    ),
    "a piece from another backup": (
        lambda h, f, oh, of: h + b"".join([f[0], of[1], *f[2:]]),
        "piece 2 of the backup belongs to another backup: it was altered",
    ),
    "another backup's header": (
        lambda h, f, oh, of: oh + b"".join(f),
        "piece 1 of the backup belongs to another backup",
    ),
    "cut after a piece": (
        lambda h, f, oh, of: h + b"".join(f[:-1]),
        "the backup is truncated (it ends after piece {before}, before its last piece):"
        " copy it again",
    ),
    "cut inside a piece": (
        lambda h, f, oh, of: h + b"".join(f[:5]) + f[5][:100],
        "the backup is truncated (piece 6 has",
    ),
    "cut after its header": (lambda h, f, oh, of: h, "ends before its first piece"),
    "bytes after the end": (
        lambda h, f, oh, of: h + b"".join(f) + b"\n",
        "the backup has extra bytes after its end: it was altered",
    ),
    "the last piece twice": (
        lambda h, f, oh, of: h + b"".join([*f, f[-1]]),
        "extra bytes after its end",
    ),
    "a piece altered": (
        lambda h, f, oh, of: h + b"".join([f[0], _flip(f[1]), *f[2:]]),
        "the backup is damaged at piece 2 (it fails its authentication): copy it again",
    ),
    "the first piece altered": (
        lambda h, f, oh, of: h + b"".join([_flip(f[0]), *f[1:]]),
        "another encryption key (or altered)",
    ),
    "a length altered": (
        lambda h, f, oh, of: h + f[0] + b"x" + f[1][1:] + b"".join(f[2:]),
        "the backup is damaged at piece 2: it was altered",
    ),
    "the id damaged": (
        lambda h, f, oh, of: h[:-5] + b"zz" + h[-3:] + b"".join(f),
        "the backup header is damaged",
    ),
    "the id line cut": (
        lambda h, f, oh, of: h[:-5] + b"\n" + b"".join(f),
        "the backup header is damaged",
    ),
    "the magic damaged": (
        lambda h, f, oh, of: b"X" + h[1:] + b"".join(f),
        "not a backup made by this bot (no backup header)",
    ),
    "a newer format": (
        lambda h, f, oh, of: h.replace(b"/2\n", b"/3\n", 1) + b"".join(f),
        "unknown backup format version 3: made by a newer version of the bot",
    ),
    "empty": (lambda h, f, oh, of: b"", "not a backup made by this bot (no backup header)"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
async def test_a_damaged_or_shuffled_backup_is_refused_and_nothing_changes(
    made: Path, live: Path, tmp_path: Path, damage: str
) -> None:
    other = tmp_path / "other.akses-backup"
    await make(tmp_path / "data", other)
    head, frames = split(read(made))
    other_head, other_frames = split(read(other))
    change, says = DAMAGES[damage]
    write(made, change(head, frames, other_head, other_frames))
    before = tree(live)
    for target in (live, tmp_path / "new"):
        with pytest.raises(BackupError) as refused:
            await put_back(made, target)
        message = str(refused.value)
        assert says.format(last=len(frames), before=len(frames) - 1) in message
        assert "\n" not in message
    assert tree(live) == before
    assert tree(tmp_path / "new") is None


async def test_a_backup_made_with_another_key_is_refused(made: Path, live: Path) -> None:
    before = tree(live)
    with pytest.raises(BackupError, match="made with another encryption key"):
        await put_back(made, live, Cipher(generate_key().encode()))
    assert tree(live) == before


async def test_a_backup_made_before_a_key_rotation_restores_with_the_previous_key(
    made: Path, tmp_path: Path
) -> None:
    """A Cipher holding the previous key too (MultiFernet, as during a rotation) decrypts
    the pieces written with it."""
    rotated = Cipher(generate_key().encode(), KEY)
    manifest = await put_back(made, tmp_path / "restored", rotated)
    assert manifest.facts.key_check == Cipher(KEY).key_check


async def test_a_version_1_backup_still_restores(live: Path, tmp_path: Path) -> None:
    await fill(tmp_path / "data", 2)
    old = tmp_path / "old.akses-backup"
    written = await version_1(tmp_path / "data", old, tmp_path)
    manifest = await put_back(old, live)
    assert manifest == written and manifest.format_version == 1
    assert "ktp/9.ktp" not in (tree(live) or {})
    for name, token in KTP.items():
        assert (live / name).read_bytes() == token
    raw = sqlite3.connect(live / "akses.sqlite3")
    assert raw.execute("SELECT COUNT(*) FROM visits").fetchone() == (2,)
    raw.close()


async def test_a_damaged_version_1_backup_is_still_refused(live: Path, tmp_path: Path) -> None:
    await fill(tmp_path / "data", 1)
    old = tmp_path / "old.akses-backup"
    await version_1(tmp_path / "data", old, tmp_path)
    blob = read(old)
    before = tree(live)
    for damaged, says in [
        (blob[:-100], "the backup is truncated"),
        (blob + b"x", "extra bytes after its end"),
        (blob[:-10] + b"0123456789", "another encryption key (or altered)"),
    ]:
        write(old, damaged)
        with pytest.raises(BackupError, match=says.replace("(", r"\(").replace(")", r"\)")):
            await put_back(old, live)
        assert tree(live) == before


async def test_what_the_manifest_says_is_checked_after_the_stream(
    live: Path, tmp_path: Path
) -> None:
    """Pieces that decrypt and fit together, holding what the manifest does not list, or
    not what it lists, or a manifest from a newer program."""
    await fill(tmp_path / "data", 1)
    database = (tmp_path / "data" / "akses.sqlite3").read_bytes()
    facts = Facts(HEAD, Cipher(KEY).key_check, "head", 1, 1)

    def manifest(files: dict[str, str], **changes: object) -> Manifest:
        made = Manifest("akses-ruang-server-backup", 2, "9.9", NOW.isoformat(), facts, files)
        return dataclasses.replace(made, **changes)

    out = tmp_path / "forged.akses-backup"
    before = tree(live)
    cases: list[tuple[dict[str, bytes], Callable[[dict[str, str]], Manifest], str]] = [
        (
            {"akses.sqlite3": database},
            lambda f: manifest(f, facts=dataclasses.replace(facts, schema=HEAD + 1)),
            f"schema {HEAD + 1}, newer than this program's {HEAD}: restore it with version 9.9",
        ),
        ({"akses.sqlite3": database}, lambda f: manifest(f, format_version=3), "unknown backup"),
        (
            {"akses.sqlite3": database, "ktp/1.ktp": b"x"},
            lambda f: manifest({**f, "ktp/1.ktp": "0" * 64}),
            "ktp/1.ktp in the backup does not match its manifest",
        ),
        (
            {"akses.sqlite3": database, "ktp/1.ktp": b"x"},
            lambda f: manifest({"akses.sqlite3": f["akses.sqlite3"]}),
            "the backup's files do not match its manifest",
        ),
        ({"ktp/1.ktp": b"x"}, manifest, "the backup's files do not match its manifest"),
        ({"akses.sqlite3": database, "../x.ktp": b"x"}, manifest, "unexpected entry '../x.ktp'"),
        ({"akses.sqlite3": database, "notes.txt": b"x"}, manifest, "unexpected entry 'notes"),
        (
            {"manifest.json": manifest({}).to_json(), "akses.sqlite3": database},
            manifest,
            "unexpected entry 'akses.sqlite3'",  # a manifest is last: nothing after it
        ),
    ]
    for members, manifest_for, says in cases:
        version_2(out, members, manifest_for)
        with pytest.raises(BackupError, match=says.replace("(", r"\(").replace(")", r"\)")):
            await put_back(out, live)
        assert tree(live) == before


def test_a_ktp_file_purged_while_the_backup_runs_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "ktp").mkdir()
    for name, token in KTP.items():
        (tmp_path / name).write_bytes(token)
    snapshot = tmp_path / "snapshot"
    snapshot.write_bytes(b"db")
    names = []
    for name, _ in backup._sources(snapshot, tmp_path):
        names.append(name)
        if name == "akses.sqlite3":  # the listing is made; the purge comes before the read
            (tmp_path / "ktp" / "2.ktp").unlink()
    assert names == ["akses.sqlite3", "ktp/1.ktp", "ktp/3.ktp"]


async def test_memory_stays_bounded_whatever_the_database_size(tmp_path: Path) -> None:
    """A 48 MB database is backed up and restored with a few MB of Python allocations
    (tracemalloc's peak, which counts every bytes object, the pieces and tokens included;
    about 2.4 MB when written); the version 1 format held the whole archive, several times
    over."""
    database = await fill(tmp_path / "data", 2)
    raw = sqlite3.connect(database)
    raw.execute("CREATE TABLE ballast (blob BLOB)")  # incompressible, as photos and tokens are
    raw.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 48)"
        " INSERT INTO ballast SELECT randomblob(1 << 20) FROM n"
    )
    raw.commit()
    raw.close()
    size = database.stat().st_size
    assert size > 48 << 20
    out = tmp_path / "big.akses-backup"
    tracemalloc.start()
    try:
        await backup.create(
            database, tmp_path / "data", Cipher(KEY), out, "1.0-test", NOW, audit_key=AUDIT_KEY
        )
        _, made = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await put_back(out, tmp_path / "restored")
        _, restored = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.stat().st_size > size
    assert (tmp_path / "restored" / "akses.sqlite3").stat().st_size == size
    limit = 8 << 20  # a piece (256 KiB) held a few times over while Fernet encrypts it
    assert made < limit and restored < limit, (made, restored, size)
