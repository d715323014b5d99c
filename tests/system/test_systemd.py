"""The bot as systemd runs it (`Type=notify`, `WatchdogSec=`): READY=1 once it polls, WATCHDOG=1
from the event loop while it runs, STOPPING=1 when it stops; plain priority-prefixed lines
when stderr is the journal, JSON lines on request.

The notify socket is a unix datagram socket this test binds, passed as NOTIFY_SOCKET as
systemd would; the bot is `python -m bot run` against the simulator.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import BotApiSimulator
from tests.system.test_kill import ROOT, write_config


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    yield sock, path
    sock.close()


def start(
    config: Path, stderr: Path, *args: str, environ: dict[str, str] | None = None, **env: str
) -> subprocess.Popen[bytes]:
    base = dict(os.environ) if environ is None else environ
    with stderr.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config), *args],
            cwd=ROOT,
            env={**base, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1", **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def exited(bot: subprocess.Popen[bytes], within: float = 30) -> int:
    """Wait without blocking the event loop: the simulator must keep answering the bot."""
    deadline = time.monotonic() + within
    while bot.poll() is None:
        if time.monotonic() > deadline:
            bot.kill()
            raise AssertionError("the bot did not stop on SIGTERM")
        await asyncio.sleep(0.05)
    return bot.returncode


async def started(log: Path) -> None:
    """Until the bot runs (PTB's "Application started": a SIGTERM before it is missed)."""
    for _ in range(600):
        if "Application started" in text_of(log):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start:\n" + text_of(log)[-2000:])


def text_of(log: Path) -> str:
    return log.read_text(encoding="utf-8")


async def messages(sock: socket.socket, until: str, within: float = 30) -> list[str]:
    """Datagrams received until one contains ``until``."""
    got: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except BlockingIOError:
            await asyncio.sleep(0.05)
            continue
        if until in got[-1]:
            return got
    raise AssertionError(f"no {until} within {within} s; got {got}")


async def polled(sim: BotApiSimulator, within: float = 5) -> None:
    deadline = time.monotonic() + within
    while sim.call_counts["getUpdates"] == 0:
        assert time.monotonic() < deadline, "READY=1 but no getUpdates followed"
        await asyncio.sleep(0.02)


async def test_ready_then_watchdog_pings_then_stopping(
    tmp_path: Path, sim: BotApiSimulator, notify_socket: tuple[socket.socket, Path]
) -> None:
    sock, path = notify_socket
    config = write_config(tmp_path, sim)
    # WatchdogSec=2: a ping every second.
    bot = start(config, tmp_path / "bot.log", NOTIFY_SOCKET=str(path), WATCHDOG_USEC="2000000")
    try:
        first = await messages(sock, "READY=1")
        # READY=1 comes once polling has started (PTB's start_polling returned and the job
        # queue runs): the first getUpdates is then on its way, and on a loaded machine it
        # may reach the simulator a moment after the datagram does.
        await polled(sim)
        assert "STATUS=polling as @" in first[-1]
        pings = await messages(sock, "WATCHDOG=1")
        pings += await messages(sock, "WATCHDOG=1")  # repeatedly, not once
        assert sum("WATCHDOG=1" in m for m in pings) >= 2
        bot.send_signal(signal.SIGTERM)  # systemctl stop
        assert any("STOPPING=1" in m for m in await messages(sock, "STOPPING=1"))
        assert await exited(bot) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()


async def test_a_hung_event_loop_stops_the_pings(
    tmp_path: Path, sim: BotApiSimulator, notify_socket: tuple[socket.socket, Path]
) -> None:
    """SIGSTOP freezes the process as a hung loop would: no ping arrives meanwhile, so
    systemd's WatchdogSec would run out and restart the service."""
    sock, path = notify_socket
    config = write_config(tmp_path, sim)
    bot = start(config, tmp_path / "bot.log", NOTIFY_SOCKET=str(path), WATCHDOG_USEC="1000000")
    try:
        await messages(sock, "WATCHDOG=1")
        bot.send_signal(signal.SIGSTOP)
        await asyncio.sleep(0.6)  # a ping already in flight may land
        while True:
            try:
                sock.recv(4096)
            except BlockingIOError:
                break
        await asyncio.sleep(2)  # two watchdog intervals
        with pytest.raises(BlockingIOError):
            sock.recv(4096)
        bot.send_signal(signal.SIGCONT)
        await messages(sock, "WATCHDOG=1")  # alive again
    finally:
        bot.kill()
        bot.wait()


async def test_without_systemd_nothing_is_sent_and_the_bot_runs(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    config = write_config(tmp_path, sim)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    log = tmp_path / "bot.log"
    bot = start(config, log, environ=env)
    try:
        await started(log)
        bot.send_signal(signal.SIGTERM)
        assert await exited(bot) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    text = log.read_text()
    assert "told systemd" not in text and "could not notify systemd" not in text


async def test_under_journald_lines_carry_a_priority_and_no_time(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    config = write_config(tmp_path, sim)
    log = tmp_path / "journal.log"
    log.touch()
    info = log.stat()
    # systemd sets JOURNAL_STREAM to the device and inode of the stream stderr is.
    bot = start(config, log, JOURNAL_STREAM=f"{info.st_dev}:{info.st_ino}")
    try:
        await started(log)
    finally:
        bot.send_signal(signal.SIGTERM)
        await exited(bot)
    lines = log.read_text().splitlines()
    ready = next(line for line in lines if "ready, database" in line)
    assert ready.startswith("<6>bot.app.build: bot @")  # INFO = priority 6, no time stamp
    assert not any(line[:4].isdigit() for line in lines)  # journald adds the time itself


async def test_json_log_lines_with_the_nik_still_masked(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    config = write_config(tmp_path, sim)
    # A config path with a NIK-like number in it: logged at start, masked in JSON too.
    odd = tmp_path / "3508015507900002"
    odd.mkdir()
    moved = odd / "config.toml"
    config.rename(moved)
    moved.chmod(0o644)  # so the start logs the path in its warning
    log = tmp_path / "bot.log"
    bot = start(moved, log, "--log-format", "json")
    try:
        await started(log)
    finally:
        bot.send_signal(signal.SIGTERM)
        await exited(bot)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    warning = next(e for e in entries if "readable by other users" in e["message"])
    assert warning["level"] == "WARNING"
    assert "3508015507900002" not in log.read_text()
    assert "3508**********02" in warning["message"]
