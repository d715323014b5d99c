"""``python -m bot keys rotate`` and the refusals at start: a wrong key or a database newer
than the program stops the bot and every command with one line, never a traceback."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from bot.app import runlock
from bot.flows import ktp
from storage import keys
from storage.crypto import Cipher, generate_key, key_check_value
from storage.db import Storage
from storage.migrations import HEAD
from tests.conftest import AUDIT_KEY, KEY
from tests.flows import ktp_image
from tests.storage.test_storage import DRAFT, NOW
from tests.system.test_backup_cli import bot, one_line, write_config

ROOT = Path(__file__).resolve().parents[2]


def data_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "akses.sqlite3"


NEW = generate_key()
BARRED = "3508010102850001"  # a NIK on the watchlist


@pytest.fixture
async def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    storage = await Storage.open(tmp_path / "data" / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    try:
        visit = await storage.visits.submit(DRAFT, 1001, NOW)
        ktp.write_private(
            tmp_path / "data" / ktp.relative_path(visit.id), storage.cipher.encrypt(ktp_image())
        )
        await storage.privacy.ktp_stored(visit.id, ktp.relative_path(visit.id), NOW)
        await storage.conversations.set_user_data(1001, {"nik": DRAFT.nik})
        await storage.watchlist.block(BARRED, "Merusak rak server", 2001, NOW)
    finally:
        await storage.close()
    return path


async def test_rotate_reencrypts_and_says_what_to_set(config: Path, tmp_path: Path) -> None:
    done = bot("keys", "rotate", "--config", str(config), new_key=NEW)
    assert done.returncode == 0, done.stderr
    # Every column of storage/crypto.py's list (the NIK, the name, ...), and the KTP file.
    for part in (
        "1 in visitors.nik_enc",
        "1 in visitors.name",
        "1 in user_state.data",
        "1 in watchlist.nik_enc",
        "1 in watchlist.reason",
    ):
        assert part in done.stdout
    assert done.stdout.count(" file(s)") == 1 and "1 file(s)" in done.stdout
    assert "Now set security.encryption_key" in done.stdout and NEW not in done.stdout
    # The old key no longer opens the data; the new one does, returning visitors included.
    with pytest.raises(keys.WrongKey):
        await Storage.open(tmp_path / "data" / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    storage = await Storage.open(
        tmp_path / "data" / "akses.sqlite3", Cipher(NEW.encode()), AUDIT_KEY
    )
    try:
        found = await storage.visits.find_visitor(DRAFT.nik)
        assert found is not None and found.nik == DRAFT.nik
        barred = await storage.watchlist.find(BARRED)  # the watchlist's hash follows the key
        assert barred is not None and barred.reason == "Merusak rak server"
        photo = ktp.read(storage.cipher, tmp_path / "data", ktp.relative_path(1))
        assert photo == ktp_image()
    finally:
        await storage.close()
    again = bot("keys", "rotate", "--config", str(config), new_key=NEW)  # a rerun is harmless
    assert again.returncode == 0, again.stderr
    # It does not call a key "old" that never opened the data (the config's is the old one
    # still: the rerun found the data under the new key).
    assert "under the new key already" in again.stdout and "The old key" not in again.stdout
    # Each run is in the audit log, with the key check values and nothing else secret.
    storage = await Storage.open(data_path(tmp_path), Cipher(NEW.encode()), AUDIT_KEY)
    try:
        rotations = [e for e in await storage.audit.events() if e.action == "keys_rotated"]
    finally:
        await storage.close()
    assert len(rotations) == 2
    assert rotations[0].detail.startswith(
        f"from={key_check_value(KEY)} to={key_check_value(NEW.encode())} "
    )
    assert NEW not in rotations[0].detail and KEY.decode() not in rotations[0].detail


def test_rotate_refuses_bad_input(config: Path, tmp_path: Path) -> None:
    missing = one_line(bot("keys", "rotate", "--config", str(config)))
    assert "set AKSES_NEW_ENCRYPTION_KEY" in missing
    assert "is not a Fernet key" in one_line(
        bot("keys", "rotate", "--config", str(config), new_key="not-a-key")
    )
    wrong = write_config(tmp_path, "data", generate_key().encode())
    assert "does not match the database" in one_line(
        bot("keys", "rotate", "--config", str(wrong), new_key=NEW)
    )
    empty = write_config(tmp_path, "empty")
    assert "no database at" in one_line(bot("keys", "rotate", "--config", str(empty), new_key=NEW))


def test_the_bot_refuses_a_wrong_key_at_start(config: Path, tmp_path: Path) -> None:
    """It used to start and then fail on every read."""
    wrong = write_config(tmp_path, "data", generate_key().encode())
    line = one_line(bot("run", "--config", str(wrong)))
    assert line.startswith("The bot cannot start: the encryption key does not match the database")


def test_every_command_refuses_a_newer_database(config: Path, tmp_path: Path) -> None:
    path = tmp_path / "data" / "akses.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {HEAD + 1}")
    raw.close()
    before = path.read_bytes()
    says = f"schema version {HEAD + 1}, newer than this program's {HEAD}"
    for args in (
        ("run",),
        ("audit", "verify"),
        ("privacy", "export", "-"),
        ("backup", "--out", str(tmp_path / "b.backup")),
        ("export", "--from", "2026-11-01", "--to", "2026-11-30"),
    ):
        typed = DRAFT.nik + "\n" if args[0] == "privacy" else None  # the NIK when asked
        assert says in one_line(bot(*args, "--config", str(config), stdin=typed)), args
    assert says in one_line(bot("keys", "rotate", "--config", str(config), new_key=NEW))
    assert path.read_bytes() == before
    assert not os.path.exists(tmp_path / "b.backup")


async def test_a_rotation_stopped_by_a_full_disk_is_finished_by_a_rerun(
    config: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    before = {p: p.read_bytes() for p in (data / "ktp").iterdir()}
    # The WAL cannot grow past two pages: the database transaction fails, changing nothing.
    line = one_line(
        bot("keys", "rotate", "--config", str(config), new_key=NEW, limit_file_size=8192)
    )
    assert line.startswith("keys rotate stopped: ") and "run the same command again" in line
    assert {p: p.read_bytes() for p in (data / "ktp").iterdir()} == before
    storage = await Storage.open(
        data / "akses.sqlite3", Cipher(KEY), AUDIT_KEY
    )  # still the old key
    await storage.close()
    done = bot("keys", "rotate", "--config", str(config), new_key=NEW)
    assert done.returncode == 0, done.stderr
    storage = await Storage.open(data / "akses.sqlite3", Cipher(NEW.encode()), AUDIT_KEY)
    try:
        assert (await storage.visits.find_visitor(DRAFT.nik)) is not None
    finally:
        await storage.close()


async def test_no_rotation_under_a_running_bot_and_no_bot_under_a_rotation(
    config: Path, tmp_path: Path
) -> None:
    """A rotation finished while the bot still wrote with the old key left the data under two
    keys. The bot holds its data folder's lock; the rotation is refused while it does, and a
    second bot (or a bot started during a rotation) is refused too. The lock goes with its
    holder, so nothing is left to clear once the bot stops."""
    data = tmp_path / "data"
    with runlock.held(data, "the bot"):
        line = one_line(bot("keys", "rotate", "--config", str(config), new_key=NEW))
        assert "is in use by the bot (pid" in line and "stop the bot first" in line
        line = one_line(bot("run", "--config", str(config)))
        assert line.startswith("The bot cannot start: its data folder")
    # Nothing was rotated: the old key still opens everything.
    storage = await Storage.open(data / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    try:
        found = await storage.visits.find_visitor(DRAFT.nik)
        assert found is not None and found.nik == DRAFT.nik
    finally:
        await storage.close()
    with runlock.held(data, "keys rotate"):
        assert "in use by keys rotate" in one_line(bot("run", "--config", str(config)))
    done = bot("keys", "rotate", "--config", str(config), new_key=NEW)  # the bot stopped
    assert done.returncode == 0, done.stderr


def _older_schema(database: Path) -> None:
    """The database as migration 22 left it (the KTP views' table came in 23)."""
    raw = sqlite3.connect(database)
    try:
        raw.execute("DROP TABLE ktp_views")
        raw.execute("PRAGMA user_version = 22")
        raw.commit()
    finally:
        raw.close()


def _schema(database: Path) -> int:
    raw = sqlite3.connect(database)
    try:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])
    finally:
        raw.close()


def test_a_bot_refused_by_the_lock_has_opened_nothing(config: Path, tmp_path: Path) -> None:
    """The lock comes first: a bot started while a rotation runs neither migrates the
    database nor writes anything to it before it is refused."""
    database = data_path(tmp_path)
    _older_schema(database)
    before = database.read_bytes()
    with runlock.held(tmp_path / "data", "keys rotate"):
        assert "in use by keys rotate" in one_line(bot("run", "--config", str(config)))
    assert _schema(database) == 22 and database.read_bytes() == before


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_a_lock_file_the_bot_cannot_use_is_one_line(
    config: Path, tmp_path: Path, mode: str
) -> None:
    """A folder where the lock file belongs (or another user's file) was reported as a
    webhook that cannot listen, or as a traceback."""
    if mode == "webhook":
        config.write_text(
            config.read_text().replace(
                "[telegram]\n",
                '[telegram]\nmode = "webhook"\nwebhook_url = "https://bot.example.org/hook"\n'
                'webhook_port = 8443\nwebhook_secret = "abcdefghijklmnopqrstuvwxyz0123456789"\n',
            )
        )
    (tmp_path / "data" / runlock.LOCK_NAME).mkdir()
    line = one_line(bot("run", "--config", str(config)))
    assert line.startswith("The bot cannot start: cannot use the lock file ")
    assert "webhook" not in line
    assert "cannot use the lock file" in one_line(
        bot("keys", "rotate", "--config", str(config), new_key=NEW)
    )
