"""``python -m bot check``: one line per problem, exit 1; the demo's config passes with
warnings only. Telegram is the simulator (getMe over HTTP, a wrong token refused)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.cli import check
from simulator import BotApiSimulator
from storage.crypto import Cipher, generate_key
from storage.db import Storage
from storage.migrations import HEAD
from tests.conftest import AUDIT_KEY, BOT_USERNAME, TOKEN
from tests.fixtures import schema_versions

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "kR3v9-QpZt2mW8xYbN4cLdF7gHjS1aUe6oIiVyTqPw0"
GOOD_KEY = generate_key()
GOOD_AUDIT = "Hq7Lz2Xw9Rk4Tb1Nv8Mc5Jd3Fg6Sp0YuAeKiWoQtErZ"


def config_text(url: str, **over: str) -> str:
    values = {
        "token": TOKEN,
        "base_url": url,
        "secret": GOOD_SECRET,
        "key": GOOD_KEY,
        "audit": GOOD_AUDIT,
        "timezone": "Asia/Jakarta",
        "staff_id": "2001",
    }
    values.update(over)
    return f"""
[telegram]
token = "{values["token"]}"
base_url = "{values["base_url"]}"
[office]
timezone = "{values["timezone"]}"
[security]
signing_secret = "{values["secret"]}"
encryption_key = "{values["key"]}"
audit_key = "{values["audit"]}"
[storage]
data_dir = "data"
[[staff]]
id = {values["staff_id"]}
name = "Budi"
roles = ["approver"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    (tmp_path / "data").mkdir(mode=0o700, exist_ok=True)
    (tmp_path / "data").chmod(0o700)
    return path


async def run_check(path: Path, env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    """The command as an admin runs it, in its own process (the simulator keeps serving);
    ``env``: more of its environment (the secrets, as systemd would give them)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        "--config",
        str(path),
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1"}
        | (env or {}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert b"Traceback" not in out + err
    return proc.returncode or 0, out.decode().splitlines(), err.decode()


def errors(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("ERROR")]


@pytest.fixture
async def sim() -> BotApiSimulator:  # type: ignore[misc]  # an async generator fixture
    simulator = BotApiSimulator(token=TOKEN, bot_username=BOT_USERNAME)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_a_good_config_passes(tmp_path: Path, sim: BotApiSimulator) -> None:
    path = write(tmp_path, config_text(sim.base_url))
    status, lines, _ = await run_check(path)
    assert status == 0, lines
    assert errors(lines) == []
    assert any(f"@{BOT_USERNAME}" in line for line in lines)
    warnings = [line.split(":")[0] for line in lines if line.startswith("WARNING")]
    # No database yet; no [backup] folder; not Telegram's own server.
    assert warnings == ["WARNING database", "WARNING backup", "WARNING telegram"]


async def test_a_backup_folder_the_bot_cannot_write(tmp_path: Path, sim: BotApiSimulator) -> None:
    """The packaged install once put the daily backups under /etc, where the service may not
    write: every night's backup failed and only the log said so."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    text = config_text(sim.base_url) + f'[backup]\nfolder = "{locked}/backups"\n'
    path = write(tmp_path, text)
    if os.geteuid() == 0:  # root writes anywhere: the folder's place is a file instead
        locked.rmdir()
        locked.write_text("")
    status, lines, _ = await run_check(path)
    assert status == 1
    (error,) = errors(lines)
    assert error.startswith("ERROR   backup:") and str(locked) in error
    locked.unlink() if locked.is_file() else locked.chmod(0o700)
    good = tmp_path / "backups"
    good.mkdir(mode=0o700)
    write(tmp_path, config_text(sim.base_url) + f'[backup]\nfolder = "{good}"\n')
    status, lines, _ = await run_check(path)
    assert status == 0 and f"OK      backup folder {good} is writable" in lines


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"secret": "short"}, "ERROR   config: security.signing_secret must be at least 32"),
        ({"timezone": "Asia/Jakart"}, "ERROR   config: office.timezone: unknown time zone"),
        ({"secret": "ab" * 20}, "signing_secret (AKSES_SIGNING_SECRET) is too weak"),
        (
            {"secret": "abcdefghijklmnopqrstuvwxyzABCDEFabcdefghijklmnopqrstuvwxyzABCDEF"},
            "signing_secret (AKSES_SIGNING_SECRET) is too weak: a repeated pattern",
        ),
        (
            {"key": "YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="},
            "encryption_key (AKSES_ENCRYPTION_KEY) is too weak: its 32 bytes are readable text",
        ),
        ({"staff_id": "222222222"}, "ERROR   staff: 222222222 are the example ids"),
        ({"token": "123456:WRONG-TOKEN"}, "refused the bot token (getMe: Unauthorized)"),
        ({"base_url": "http://127.0.0.1:9/bot"}, "http://127.0.0.1:9/bot is not reachable"),
    ],
)
async def test_each_problem_is_one_error_line(
    tmp_path: Path, sim: BotApiSimulator, change: dict[str, str], says: str
) -> None:
    path = write(tmp_path, config_text(sim.base_url, **change))
    status, lines, _ = await run_check(path)
    assert status == 1
    (error,) = errors(lines)
    assert says in error
    assert lines[-1].startswith("check: 1 error(s)")


async def test_another_time_zone_is_a_warning(tmp_path: Path, sim: BotApiSimulator) -> None:
    path = write(tmp_path, config_text(sim.base_url, timezone="Asia/Makassar"))
    status, lines, _ = await run_check(path)
    assert status == 0
    assert any(line.startswith("WARNING office.timezone is Asia/Makassar") for line in lines)


async def test_the_wrong_key_for_the_database(tmp_path: Path, sim: BotApiSimulator) -> None:
    path = write(tmp_path, config_text(sim.base_url))
    storage = await Storage.open(
        tmp_path / "data" / "akses.sqlite3", Cipher(generate_key().encode()), AUDIT_KEY
    )
    await storage.close()
    status, lines, _ = await run_check(path)
    assert status == 1
    (error,) = errors(lines)
    assert error.startswith("ERROR   encryption key: the encryption key does not match")


async def test_the_wrong_audit_key_for_the_database(tmp_path: Path, sim: BotApiSimulator) -> None:
    """The audit key of another chain: the bot would append events nobody can verify."""
    path = write(tmp_path, config_text(sim.base_url))
    storage = await Storage.open(
        tmp_path / "data" / "akses.sqlite3", Cipher(GOOD_KEY.encode()), b"another-audit-key-" * 3
    )
    await storage.close()
    status, lines, _ = await run_check(path)
    assert status == 1
    (error,) = errors(lines)
    assert error.startswith("ERROR   audit key: the audit key does not match")
    (tmp_path / "right").mkdir()
    right = write(tmp_path / "right", config_text(sim.base_url))
    storage = await Storage.open(
        tmp_path / "right" / "data" / "akses.sqlite3",
        Cipher(GOOD_KEY.encode()),
        GOOD_AUDIT.encode(),
    )
    await storage.close()
    status, lines, _ = await run_check(right)
    assert "OK      audit key matches the database's audit chain" in lines


@pytest.mark.parametrize("version", [1, 12])
async def test_a_database_of_an_earlier_version_is_to_be_upgraded_not_unreadable(
    tmp_path: Path, sim: BotApiSimulator, version: int
) -> None:
    """A schema 1 database said "cannot be read: no such column: nik_enc"; the bot itself
    migrates it fine."""
    path = write(tmp_path, config_text(sim.base_url))
    schema_versions.build(tmp_path / "data" / "akses.sqlite3", version, Cipher(GOOD_KEY.encode()))
    (tmp_path / "data" / "akses.sqlite3").chmod(0o600)
    status, lines, _ = await run_check(path)
    assert status == 0 and errors(lines) == [], lines
    upgrade = f"OK      database schema {version} of {HEAD}: upgraded when the bot starts"
    assert any(line.startswith(upgrade) for line in lines), lines


async def test_secrets_only_in_the_environment_are_no_reason_to_warn(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    text = config_text(sim.base_url, token="", secret="", key="", audit="")
    path = write(tmp_path, text)
    path.chmod(0o644)
    env = {
        "BOT_TOKEN": TOKEN,
        "AKSES_SIGNING_SECRET": GOOD_SECRET,
        "AKSES_ENCRYPTION_KEY": GOOD_KEY,
        "AKSES_AUDIT_KEY": GOOD_AUDIT,
    }
    _, lines, _ = await run_check(path, env)
    assert not any("holds secrets" in line for line in lines), lines
    assert any("holds no secrets" in line for line in lines)
    write(tmp_path, config_text(sim.base_url)).chmod(0o644)
    _, lines, _ = await run_check(path)
    assert any("holds secrets and other users may read it" in line for line in lines)


async def test_a_data_folder_open_to_others(tmp_path: Path, sim: BotApiSimulator) -> None:
    path = write(tmp_path, config_text(sim.base_url))
    storage = await Storage.open(
        tmp_path / "data" / "akses.sqlite3", Cipher(GOOD_KEY.encode()), GOOD_AUDIT.encode()
    )
    await storage.close()
    (tmp_path / "data").chmod(0o755)
    (tmp_path / "data" / "akses.sqlite3").chmod(0o644)
    status, lines, _ = await run_check(path)
    assert status == 1
    assert [e.split(":")[0] for e in errors(lines)] == ["ERROR   data folder"] * 2
    assert "chmod 700" in errors(lines)[0] and "chmod 600" in errors(lines)[1]


async def test_the_example_secret_is_refused(
    tmp_path: Path, sim: BotApiSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.example.toml ships empty secrets today; should it ever ship values, a config
    that copied them fails the check."""
    example = tmp_path / "example.toml"
    example.write_text(f'[security]\nsigning_secret = "{GOOD_SECRET}"\n', encoding="utf-8")
    monkeypatch.setattr(check, "EXAMPLE_CONFIG", example)
    path = write(tmp_path, config_text(sim.base_url))
    found = await check.check(path)
    assert found.errors == [
        "secrets: security.signing_secret is the example value from config.example.toml"
    ]


async def test_the_demo_config_passes_with_warnings_only(tmp_path: Path) -> None:
    from demo.app import DemoBot

    demo = DemoBot(tmp_path / "demo")
    await demo.start()
    try:
        status, lines, _ = await run_check(demo.config_path)
    finally:
        await demo.stop()
    assert status == 0, lines
    assert errors(lines) == [] and any(line.startswith("WARNING") for line in lines)
