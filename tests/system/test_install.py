"""deploy/install.sh into a temporary root: the layout and modes, the unit verified by
systemd-analyze, a second run changing nothing an admin set, and the installed program run
the way the unit runs it against the simulator (READY=1, an answer, STOPPING=1).

This machine's PID 1 is not systemd, so the unit itself is not started: the installed entry
point is, through the admin wrapper (deploy/akses), with the installed config and secrets.
The first install downloads the pinned wheels from PyPI (checked against their hashes).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import BotApiSimulator
from tests.conftest import TOKEN
from tests.system.test_systemd import exited, messages

SRC = Path(__file__).resolve().parents[2]
NAME = "akses-ruang-server"
PYTHON = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}")
# The example's staff are commented out (the bot refuses them): the admin adds the office's.
STAFF = 5001
STAFF_ENTRY = (
    f'\n[[staff]]\nid = {STAFF}\nname = "Sari"\nroles = ["officer"]\n'
    '\n[[staff]]\nid = 5002\nname = "Budi"\nroles = ["approver"]\n'
)


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SRC / "deploy" / "install.sh"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def new_root(base: Path) -> Path:
    """An empty root with systemd's own units, as every real root has (the unit's default
    dependencies, sysinit.target and the rest, must resolve for verify)."""
    root = base / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    return root


def tree(root: Path) -> dict[str, tuple[int, str]]:
    """Mode and content hash of everything installed outside the venv."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("usr/", f"opt/{NAME}/venv")) or path.is_dir():
            continue
        found[rel] = (path.stat().st_mode & 0o7777, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing: `make test` installs Debian's systemd package")
    root = new_root(tmp_path_factory.mktemp("install"))
    result = install(root, "--python", PYTHON)
    assert result.returncode == 0, result.stdout + result.stderr
    yield root


def test_layout_modes_and_the_verified_unit(installed: Path) -> None:
    root = installed
    etc, data = root / "etc" / NAME, root / "var/lib" / NAME
    assert (etc / "config.toml").stat().st_mode & 0o777 == 0o600
    assert (etc / "secrets.env").stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700
    assert (root / "var/backups" / NAME).stat().st_mode & 0o777 == 0o700
    assert os.access(root / "opt" / NAME / "venv/bin" / NAME, os.X_OK)
    config = (etc / "config.toml").read_text()
    assert f'data_dir = "/var/lib/{NAME}"' in config
    # Not "backups" beside the config: the service may not write under /etc.
    assert f'folder = "/var/backups/{NAME}"' in config
    secrets = dict(
        line.split("=", 1)
        for line in (etc / "secrets.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert secrets["BOT_TOKEN"] == ""
    assert (
        len(secrets["AKSES_SIGNING_SECRET"]) >= 32 and len(secrets["AKSES_ENCRYPTION_KEY"]) == 44
    )

    unit_path = root / "etc/systemd/system" / f"{NAME}.service"
    unit = unit_path.read_text()
    for line in (
        "User=akses",
        "ProtectSystem=strict",
        f"ReadWritePaths=/var/lib/{NAME} -/var/backups/{NAME}",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
        f"EnvironmentFile=/etc/{NAME}/secrets.env",
        "Type=notify",
        "WatchdogSec=60",
    ):
        assert re.search(rf"^{re.escape(line)}$", unit, re.M), line
    # The only writable paths are the data folder and the backups' folder.
    assert re.findall(r"^ReadWritePaths=(.*)$", unit, re.M) == [
        f"/var/lib/{NAME} -/var/backups/{NAME}"
    ]
    verify = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", f"/etc/systemd/system/{NAME}.service"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    # The installed program is the one from the lock: pip's own check finds nothing amiss.
    check = subprocess.run(
        [str(root / "opt" / NAME / "venv/bin/python"), "-m", "pip", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout


def test_a_second_run_keeps_config_secrets_and_data(installed: Path) -> None:
    root = installed
    config = root / "etc" / NAME / "config.toml"
    edited = config.read_text().replace('name = "Sari Petugas"', 'name = "Sari Edited"')
    config.write_text(edited)
    (root / "var/lib" / NAME / "marker").write_text("data")
    before = tree(root)
    result = install(root, "--python", PYTHON)
    assert result.returncode == 0, result.stderr
    assert tree(root) == before  # same files, same modes, same contents
    assert config.read_text() == edited


async def test_the_installed_program_runs_against_the_simulator(
    installed: Path, tmp_path: Path, sim: BotApiSimulator
) -> None:
    root = installed
    etc = root / "etc" / NAME
    data = root / "var/lib" / NAME
    # What the admin does after installing (docs/operasi.md), with the temporary root's
    # data folder and the simulator as the Bot API.
    config = etc / "config.toml"
    text = config.read_text()
    text = text.replace(f'data_dir = "/var/lib/{NAME}"', f'data_dir = "{data}"')
    text = text.replace(f'folder = "/var/backups/{NAME}"', f'folder = "{root}/var/backups/{NAME}"')
    text = text.replace('base_url = ""', f'base_url = "{sim.base_url}"')
    text = text.replace('base_file_url = ""', f'base_file_url = "{sim.base_file_url}"')
    config.write_text(text + STAFF_ENTRY)
    secrets = etc / "secrets.env"
    secrets.write_text(secrets.read_text().replace("BOT_TOKEN=\n", f"BOT_TOKEN={TOKEN}\n"))
    sim.add_user(STAFF, "Sari")

    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.setblocking(False)
    wrapper = root / "opt" / NAME / "bin" / "akses"
    log = tmp_path / "bot.log"
    env = {"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"}
    with log.open("ab") as err:
        bot = subprocess.Popen(  # noqa: ASYNC220 - the bot under test, stopped below
            [str(wrapper), "run"], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        await messages(sock, "READY=1", within=60)
        await messages(sock, "WATCHDOG=1")
        person = sim.user(STAFF)
        await person.send_text("/start")
        await person.wait_for(
            "Selamat datang, Sari."
        )  # the welcome, with the name from the config
        status = await asyncio.to_thread(
            subprocess.run,
            [str(wrapper), "status"],
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0, status.stderr
        assert "last update handled:  never" not in status.stdout
        bot.send_signal(signal.SIGTERM)
        await messages(sock, "STOPPING=1")
        assert await exited(bot) == 0
    finally:
        sock.close()
        if bot.poll() is None:
            bot.kill()
    # The wrapper's umask, as the unit's UMask=: nobody else may read the database.
    assert (data / "akses.sqlite3").stat().st_mode & 0o077 == 0


def test_bad_options_get_one_line(tmp_path: Path) -> None:
    for args, says in (
        (["--frobnicate"], "unknown option --frobnicate"),
        (["--python", "/nonexistent/python3"], "no /nonexistent/python3 found"),
    ):
        result = install(tmp_path, *args)
        assert result.returncode == 1 and says in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    result = install(tmp_path / "missing")
    assert result.returncode == 1 and "is not a directory" in result.stderr


def test_a_full_disk_is_named(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(small)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here to fill")
    try:
        shutil.copytree("/usr/lib/systemd/system", small / "usr/lib/systemd/system", symlinks=True)
        result = install(small, "--python", PYTHON)
        assert result.returncode == 1
        assert (
            "the disk is full" in result.stderr
            and "Traceback" not in result.stderr.split("\n")[-2]
        )
    finally:
        subprocess.run(["umount", str(small)], check=False)
