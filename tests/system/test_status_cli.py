"""`python -m bot status` beside the running bot: what it shows, and one clear line (never a
traceback) for each thing that can be wrong with what it is given."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.app.config import Config
from bot.cli.status import BACKUP_DONE
from bot.flows import backups, privacy
from simulator import BotApiSimulator
from storage.migrations import MIGRATIONS
from storage.outbox import OutboxItem
from tests.conftest import AUDIT_KEY, ESCORT, KEY, OFFICER, SECRET, TOKEN, FakeClock
from tests.flows import approve, badge_link, register, scan

ROOT = Path(__file__).resolve().parents[2]
OTHER_KEY = "b3RoZXItZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMtISE="


def write_config(
    path: Path, data_dir: Path, key: str = KEY.decode(), secret: bytes = SECRET
) -> Path:
    path.write_text(
        f"""
[telegram]
token = "{TOKEN}"
[storage]
data_dir = "{data_dir}"
[security]
signing_secret = "{secret.decode()}"
encryption_key = "{key}"
audit_key = "{AUDIT_KEY.decode()}"
[[staff]]
id = 2001
name = "Budi"
roles = ["approver"]
""",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def status(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "status", "--config", str(config), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


async def test_status_of_a_running_bot(
    app: object, sim: BotApiSimulator, clock: FakeClock, config: Config, tmp_path: Path
) -> None:
    services = app.bot_data  # type: ignore[attr-defined]
    await register(sim)
    await approve(sim)
    await register(sim)  # a second request, left pending
    link = badge_link(sim)
    await scan(sim, link)
    await sim.user(ESCORT).tap("MASUK")
    await sim.user(ESCORT).wait_for("tercatat")
    await privacy.purge(services.storage, services.config, clock())
    await services.storage.audit.record(clock(), None, BACKUP_DONE, detail="test")
    path = write_config(tmp_path / "status.toml", config.data_dir)

    result = status(path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    # The fake clock is 28-11-2026 09:00 WIB; "ago" is measured from the real now.
    assert lines["last update handled"].strip().startswith("2026-11-28 09:00 WIB (")
    assert lines["pending requests"].strip() == "1"
    assert lines["visitors inside"].strip() == "1"
    assert lines["last backup"].strip().startswith("2026-11-28 09:00 WIB")
    assert lines["last retention purge"].strip().startswith("2026-11-28 09:00 WIB")
    assert lines["outbox"].strip() == "0 pending, 0 failed"

    data = json.loads(status(path, "--json").stdout)
    assert data["pending_visits"] == 1 and data["visitors_inside"] == 1
    assert data["last_update"].startswith("2026-11-28T02:00")


async def test_backlog_and_failed_messages(
    app: object, sim: BotApiSimulator, config: Config, tmp_path: Path
) -> None:
    services = app.bot_data  # type: ignore[attr-defined]
    officer, escort = sim.user(OFFICER), sim.user(ESCORT)
    await officer.send_text("/start")
    await escort.send_text("/start")
    await sim.settle()
    officer.block()  # 403: a message to the officer fails for good
    now = services.now()
    await services.storage.outbox.queue(
        [OutboxItem("probe:1", "text", OFFICER, payload={"text": "x"})], now
    )
    services.delivery.kick()
    for _ in range(100):
        if (await services.storage.outbox.counts()).get("failed"):
            break
        await asyncio.sleep(0.05)
    # 5xx on every send: a message to the escort waits in the outbox for its next attempt.
    sim.faults.inject("500", method="sendMessage", times=1000)
    await services.storage.outbox.queue(
        [OutboxItem("probe:2", "text", ESCORT, payload={"text": "y"})], now
    )
    services.delivery.kick()
    for _ in range(100):
        if sim.faults.counts["500"]:
            break
        await asyncio.sleep(0.05)
    path = write_config(tmp_path / "status.toml", config.data_dir)
    result = status(path)
    assert result.returncode == 0, result.stderr
    outbox = next(line for line in result.stdout.splitlines() if line.startswith("outbox:"))
    assert "1 pending (oldest queued " in outbox and outbox.endswith(", 1 failed")


def test_missing_config(tmp_path: Path) -> None:
    assert "config file not found" in one_line_error(status(tmp_path / "none.toml"))


def test_missing_database(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", tmp_path / "empty")
    assert "no database at" in one_line_error(status(path))


async def test_wrong_keys_are_named(
    app: object, sim: BotApiSimulator, config: Config, tmp_path: Path
) -> None:
    await register(sim)  # something encrypted to check the keys against
    wrong_key = write_config(tmp_path / "k.toml", config.data_dir, key=OTHER_KEY)
    assert "security.encryption_key" in one_line_error(status(wrong_key))
    # The signing secret keys nothing stored any more (the NIK index derives from the data
    # key, issue 11), so another one still reads the database.
    other_secret = write_config(
        tmp_path / "s.toml", config.data_dir, secret=b"another-signing-secret-0123456789abc"
    )
    assert status(other_secret).returncode == 0


def test_a_file_that_is_not_the_bots_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "akses.sqlite3").write_bytes(b"this is a restored file of something else" * 50)
    path = write_config(tmp_path / "c.toml", data)
    assert "cannot read" in one_line_error(status(path))


def test_a_database_of_a_newer_or_older_version(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    raw = sqlite3.connect(data / "akses.sqlite3")
    raw.execute(f"PRAGMA user_version = {max(MIGRATIONS) + 1}")
    raw.close()
    path = write_config(tmp_path / "c.toml", data)
    assert "newer version" in one_line_error(status(path))
    raw = sqlite3.connect(data / "akses.sqlite3")
    raw.execute("PRAGMA user_version = 3")
    raw.close()
    assert "start the bot once" in one_line_error(status(path))


async def test_a_failed_daily_backup_shows_with_its_reason_until_one_succeeds(
    app: object, sim: BotApiSimulator, clock: FakeClock, config: Config, tmp_path: Path
) -> None:
    """ "last backup: never" alone did not say that every night's backup was failing."""
    services = app.bot_data  # type: ignore[attr-defined]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    services.config = dataclasses.replace(
        config, backup=dataclasses.replace(config.backup, folder=blocked / "backups")
    )
    assert await backups.make(services) is None
    path = write_config(tmp_path / "status.toml", config.data_dir)
    result = status(path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert lines["last backup"].strip() == "never"
    assert lines["backup FAILED"].strip().startswith("2026-11-28 09:00 WIB (")
    assert "Not a directory" in lines["backup FAILED"]
    assert json.loads(status(path, "--json").stdout)["backup_failure"]
    clock.advance(minutes=5)
    services.config = dataclasses.replace(
        config, backup=dataclasses.replace(config.backup, folder=tmp_path / "backups")
    )
    assert await backups.make(services) is not None
    lines = dict(line.split(":", 1) for line in status(path).stdout.splitlines())
    assert "backup FAILED" not in lines
    assert lines["last backup"].strip().startswith("2026-11-28 09:05 WIB (")
