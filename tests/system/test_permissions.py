"""File permissions (issue 10, "Permissions"): the bot refuses a data folder others can
open, and what it writes (the database, exports) is the bot's user's alone."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY, SECRET
from tests.system.test_export import CONFIG, seed

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_bot_refuses_a_data_folder_others_can_read(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.format(secret=SECRET.decode(), key=KEY.decode(), audit=AUDIT_KEY.decode()),
        encoding="utf-8",
    )
    config.chmod(0o600)
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()  # one clear line, no traceback
    assert line.endswith(f"chmod 700 {data}") and "755" in line
    assert list(data.iterdir()) == []  # no database was made there


def modes(folder: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in folder.iterdir()}


def loosen(folder: Path) -> None:
    for file in folder.iterdir():
        file.chmod(0o644)  # as an older version under umask 022 left them


async def test_a_new_database_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "akses.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    await storage.close()
    assert mode(path.parent) == 0o700
    found = modes(path.parent)
    assert path.name in found and set(found.values()) == {0o600}, found


async def test_a_database_left_readable_is_made_private_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Made private, and said: loose modes may mean the install is wrong (an admin command
    opening the database is the one that finds them; the bot refuses to start on them)."""
    path = tmp_path / "data" / "akses.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    await storage.close()
    loosen(path.parent)
    path.parent.chmod(0o755)
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    try:
        found = modes(path.parent)
        assert f"{path.name}-wal" in found and set(found.values()) == {0o600}, found
        assert mode(path.parent) == 0o700
    finally:
        await storage.close()
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert f"data folder {path.parent} was open to other users (mode 755); made 0700" in said
    assert f"{path} was open to other users (mode 644); made 0600" in said


@pytest.fixture
async def seeded(tmp_path: Path) -> Path:
    """A config whose database holds two finished visits."""
    path = tmp_path / "config.toml"
    path.write_text(
        CONFIG.format(secret=SECRET.decode(), key=KEY.decode(), audit=AUDIT_KEY.decode()),
        encoding="utf-8",
    )
    storage = await Storage.open(tmp_path / "data" / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    try:
        await seed(storage, 2)
    finally:
        await storage.close()
    return path


def test_every_export_is_private(seeded: Path, tmp_path: Path) -> None:
    args = ["export", "--config", str(seeded), "--from", "2026-11-01", "--to", "2026-11-30"]
    for fmt in ("xlsx", "pdf", "csv"):
        out = tmp_path / f"log.{fmt}"
        out.write_bytes(b"")
        out.chmod(0o644)  # an earlier export, or a file made by hand
        assert main([*args, "--format", fmt, "--out", str(out), "--force"]) == 0
        assert mode(out) == 0o600 and out.stat().st_size > 0
