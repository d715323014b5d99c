"""``python -m bot backup`` and ``restore`` from a shell: a verified, encrypted, private
backup; a restore that checks what it restored; one clear line for every bad input."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import runlock
from bot.flows import ktp
from storage import backup
from storage.backup import Facts, Manifest
from storage.crypto import Cipher, generate_key
from storage.db import Storage
from storage.migrations import HEAD
from tests.conftest import AUDIT_KEY, KEY, SECRET
from tests.flows import ktp_image
from tests.storage.test_backup import version_1, version_2
from tests.storage.test_storage import DRAFT, NOW

ROOT = Path(__file__).resolve().parents[2]


def config_text(data_dir: str, key: bytes = KEY) -> str:
    return f"""
[telegram]
token = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"
[security]
signing_secret = "{SECRET.decode()}"
encryption_key = "{key.decode()}"
audit_key = "{AUDIT_KEY.decode()}"
[storage]
data_dir = "{data_dir}"
[backup]
folder = ""
[[staff]]
id = 2001
name = "Budi"
roles = ["approver"]
"""


def unprivileged() -> list[str]:
    """The command prefix that runs a command subject to file permissions: as root, without
    the capabilities that override them (the folders stay root's, owned by the same user);
    as anyone else, nothing."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop root's permission override")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def bot(
    *args: str,
    limit_file_size: int | None = None,
    new_key: str | None = None,
    cwd: Path = ROOT,
    prefix: tuple[str, ...] | list[str] = (),
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in its own process, in ``cwd``, after ``prefix`` (e.g.
    :func:`unprivileged`); ``new_key`` is AKSES_NEW_ENCRYPTION_KEY (keys rotate); ``stdin``
    what is typed (a NIK the privacy commands read)."""
    # No bytecode written under a file size limit: a truncated .pyc would break later runs.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    if new_key is not None:
        env["AKSES_NEW_ENCRYPTION_KEY"] = new_key

    def limit() -> None:  # a disk that fills up: writes past this size fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert limit_file_size is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    done = subprocess.run(
        [*prefix, sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        input=stdin,
        timeout=60,
        check=False,
        preexec_fn=limit if limit_file_size else None,
    )
    assert "Traceback" not in done.stderr + done.stdout
    return done


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def write_config(folder: Path, data_dir: str = "data", key: bytes = KEY) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"config-{data_dir}-{key.decode()[:6]}.toml"
    path.write_text(config_text(data_dir, key), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
async def config(tmp_path: Path) -> Path:
    """A data folder with two visits and one encrypted KTP photo."""
    path = write_config(tmp_path)
    storage = await Storage.open(tmp_path / "data" / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    try:
        first = await storage.visits.submit(DRAFT, 1001, NOW)
        await storage.visits.submit(dataclasses.replace(DRAFT, nik="3508010102850001"), 1001, NOW)
        photo = storage.cipher.encrypt(ktp_image())
        ktp.write_private(tmp_path / "data" / ktp.relative_path(first.id), photo)
        await storage.privacy.ktp_stored(first.id, ktp.relative_path(first.id), NOW)
    finally:
        await storage.close()
    return path


@pytest.fixture
def made(config: Path, tmp_path: Path) -> Path:
    out = tmp_path / "akses.backup"
    done = bot("backup", "--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_backup_then_restore_into_an_empty_folder(config: Path, made: Path, tmp_path: Path):
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert DRAFT.nik.encode() not in made.read_bytes() and b"Ayu Lestari" not in made.read_bytes()
    target = write_config(tmp_path, "restored")
    done = bot("restore", "--config", str(target), str(made))
    assert done.returncode == 0, done.stderr
    assert "2 visit(s), 1 KTP file(s)" in done.stdout and "verified" in done.stdout
    restored = tmp_path / "restored"
    assert stat.S_IMODE(restored.stat().st_mode) == 0o700
    raw = sqlite3.connect(restored / "akses.sqlite3")
    assert raw.execute("SELECT COUNT(*) FROM visits").fetchone()[0] == 2
    raw.close()
    photo = (restored / ktp.relative_path(1)).read_bytes()
    assert Cipher(KEY).decrypt(photo) == ktp_image()
    head = done.stdout.rsplit("Audit head: ", 1)[1].strip()
    verify = bot("audit", "verify", "--config", str(target))
    assert head in verify.stdout


def test_restore_refuses_a_folder_that_is_not_empty_unless_forced(
    config: Path, made: Path, tmp_path: Path
) -> None:
    line = one_line(bot("restore", "--config", str(config), str(made)))
    assert "data folder" in line and "is not empty" in line and "--force" in line
    done = bot("restore", "--config", str(config), str(made), "--force")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda data: b"PK\x03\x04 a zip file", "not a backup made by this bot"),
        (lambda data: data[: len(data) // 2], "the backup is truncated"),
        (lambda data: data[:-10] + b"0123456789", "another encryption key (or altered)"),
    ],
)
def test_a_foreign_or_damaged_backup_is_one_line(
    config: Path, made: Path, tmp_path: Path, damage, says: str
) -> None:
    made.write_bytes(damage(made.read_bytes()))
    target = write_config(tmp_path, "restored")
    assert says in one_line(bot("restore", "--config", str(target), str(made)))
    assert not (tmp_path / "restored" / "akses.sqlite3").exists()


def test_a_backup_made_with_another_key(config: Path, made: Path, tmp_path: Path) -> None:
    other = write_config(tmp_path, "restored", generate_key().encode())
    line = one_line(bot("restore", "--config", str(other), str(made)))
    assert "made with another encryption key" in line


def test_a_backup_from_a_newer_version(config: Path, made: Path, tmp_path: Path) -> None:
    database = (tmp_path / "data" / "akses.sqlite3").read_bytes()
    facts = Facts(HEAD + 1, Cipher(KEY).key_check, "head", 0, 2)
    version_2(
        made,
        {"akses.sqlite3": database},
        lambda files: Manifest(backup.FORMAT, 2, "9.9", NOW.isoformat(), facts, files),
    )
    target = write_config(tmp_path, "restored")
    line = one_line(bot("restore", "--config", str(target), str(made)))
    assert f"schema {HEAD + 1}, newer than this program's {HEAD}: restore it with" in line
    assert not (tmp_path / "restored").exists()


def test_a_version_1_backup_restores(config: Path, tmp_path: Path) -> None:
    """A backup written before the format in pieces, as admins keep them."""
    old = tmp_path / "old.akses-backup"
    asyncio.run(version_1(tmp_path / "data", old, tmp_path))
    target = write_config(tmp_path, "restored")
    done = bot("restore", "--config", str(target), str(old))
    assert done.returncode == 0, done.stderr
    assert "by version 0.9" in done.stdout and "2 visit(s), 1 KTP file(s)" in done.stdout
    photo = (tmp_path / "restored" / ktp.relative_path(1)).read_bytes()
    assert Cipher(KEY).decrypt(photo) == ktp_image()
    assert "verified" in done.stdout


def test_missing_files_and_folders(config: Path, made: Path, tmp_path: Path) -> None:
    target = write_config(tmp_path, "restored")
    assert "no backup file at" in one_line(
        bot("restore", "--config", str(target), str(tmp_path / "nope.backup"))
    )
    assert "exists already" in one_line(bot("backup", "--config", str(config), "--out", str(made)))
    assert "does not exist" in one_line(
        bot("backup", "--config", str(config), "--out", str(tmp_path / "no" / "b"))
    )
    assert one_line(bot("backup", "--config", str(config), "--out", f"{config}/b")) == (
        f"backup failed: cannot write {config}/b: {config} is not a folder"
    )
    assert "no database at" in one_line(
        bot("backup", "--config", str(target), "--out", str(tmp_path / "b2"))
    )
    assert "config file not found" in one_line(
        bot("backup", "--config", str(tmp_path / "none.toml"), "--out", str(tmp_path / "b3"))
    )


@pytest.mark.parametrize("folder_mode", [0o1777, 0o755])
def test_a_backup_leaves_the_folder_it_is_written_to_as_it_was(
    config: Path, tmp_path: Path, folder_mode: int
) -> None:
    """The admin's folder (a shared one, /tmp with its sticky bit) is not the bot's: only
    the backup file is made private."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(folder_mode)
    out = shared / "akses.backup"
    done = bot("backup", "--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == folder_mode
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in shared.iterdir()] == [out.name]  # no temporary file left


def test_backup_and_restore_with_paths_relative_to_the_current_folder(
    config: Path, tmp_path: Path
) -> None:
    """As an admin types them: the config (and so its data folder) and the backup file
    relative to where the command runs."""
    (tmp_path / "bk").mkdir()
    done = bot("backup", "--config", config.name, "--out", "bk/b1.backup", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 visit(s), 1 KTP file(s)" in done.stdout
    restored = write_config(tmp_path / "other", "restored")
    done = bot("restore", "--config", restored.name, "../bk/b1.backup", cwd=tmp_path / "other")
    assert done.returncode == 0, done.stderr
    assert "2 visit(s), 1 KTP file(s)" in done.stdout and "verified" in done.stdout
    done = bot("restore", "--config", config.name, "bk/b1.backup", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_backup_into_a_folder_it_may_not_write_is_one_line(config: Path, tmp_path: Path) -> None:
    """A folder the user may not write to is refused as it is, not opened up: mode 0500
    stays 0500."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    out = locked / "akses.backup"
    try:
        done = bot("backup", "--config", str(config), "--out", str(out), prefix=unprivileged())
        assert one_line(done) == f"backup failed: cannot write {out}: Permission denied"
        assert stat.S_IMODE(locked.stat().st_mode) == 0o500 and not list(locked.iterdir())
    finally:
        locked.chmod(0o700)


def test_backup_with_the_wrong_key(config: Path, tmp_path: Path) -> None:
    other = write_config(tmp_path, "data", generate_key().encode())
    out = tmp_path / "x.backup"
    line = one_line(bot("backup", "--config", str(other), "--out", str(out)))
    assert "the encryption key does not match the database" in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("room", "says"),
    [
        (None, "backup failed: cannot write the snapshot in {data}: disk I/O error"),
        # Room for the snapshot (about the database's size: it grows with each migration's
        # tables) but not for the backup, which adds the KTP photo.
        (16_384, "backup failed: cannot write {out}: File too large"),
    ],
)
def test_a_full_disk_leaves_no_half_written_backup(
    config: Path, tmp_path: Path, room: int | None, says: str
) -> None:
    """The snapshot (in the data folder) or the backup itself cannot be written."""
    out = tmp_path / "full.backup"
    size = (tmp_path / "data" / "akses.sqlite3").stat().st_size
    limit = 4096 if room is None else size + room
    line = one_line(
        bot("backup", "--config", str(config), "--out", str(out), limit_file_size=limit)
    )
    assert line.startswith(says.format(data=tmp_path / "data", out=out))
    assert not out.exists() and not list(tmp_path.glob("*.tmp"))
    assert not [n for n in os.listdir(tmp_path / "data") if n.startswith(".")]  # no staging


def test_no_restore_under_a_running_bot(config: Path, made: Path, tmp_path: Path) -> None:
    """restore --force swapped the database files out from under a running bot, which then
    wrote into deleted files. It is refused while the bot holds its data folder, and a
    folder the bot once ran in (its lock file left behind) still counts as empty."""
    data = tmp_path / "data"
    before = (data / "akses.sqlite3").read_bytes()
    with runlock.held(data, "the bot"):
        line = one_line(bot("restore", "--force", "--config", str(config), str(made)))
        assert "in use by the bot (pid" in line and "stop the bot first" in line
    assert (data / "akses.sqlite3").read_bytes() == before
    other = write_config(tmp_path / "other")
    fresh = tmp_path / "other" / "data"
    fresh.mkdir(mode=0o700)
    with runlock.held(fresh, "the bot"):
        pass  # a bot ran there once: only its lock file is left
    done = bot("restore", "--config", str(other), str(made))
    assert done.returncode == 0, done.stderr


async def test_a_manual_backup_counts_as_the_last_backup(config: Path, made: Path) -> None:
    """`status` said "last backup: never" after a good manual backup: it is audited now as
    the daily ones are, after the snapshot (so the backup's own chain ends before it)."""
    storage = await Storage.open(config.parent / "data" / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    try:
        events = [e for e in await storage.audit.events() if e.action == "backup_done"]
    finally:
        await storage.close()
    (event,) = events
    size = os.path.getsize(made)  # noqa: ASYNC240 - a test's one small stat
    assert event.detail.startswith(f"file={made.name} bytes={size} visits=2")
    assert event.detail.endswith(" manual")
    status = bot("status", "--config", str(config))
    assert status.returncode == 0, status.stderr
    assert (
        "last backup:" in status.stdout
        and "never" not in status.stdout.split("last backup:")[1].splitlines()[0]
    )


def test_a_manual_backup_before_an_upgrade_leaves_the_database_as_it_was(
    config: Path, tmp_path: Path
) -> None:
    """The backup an admin makes before installing a new version must not upgrade the
    database (the old version could no longer run on it): it is not audited then."""
    database = tmp_path / "data" / "akses.sqlite3"
    raw = sqlite3.connect(database)
    raw.execute("DROP TABLE ktp_views")  # as migration 22 left it
    raw.execute("PRAGMA user_version = 22")
    raw.commit()
    raw.close()
    out = tmp_path / "before-upgrade.backup"
    done = bot("backup", "--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    raw = sqlite3.connect(database)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 22
        assert not raw.execute(
            "SELECT 1 FROM audit_events WHERE action = 'backup_done'"
        ).fetchall()
    finally:
        raw.close()
