"""Shared fixtures: the simulator, a config in tmp_path, and the real bot polling it."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.app.logging_setup import _HANDLER_NAME as BOT_LOG_HANDLER
from bot.app.services import Services
from bot.core.roles import Role, StaffMember
from simulator import BotApiSimulator

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
os.environ.setdefault("PTB_TIMEDELTA", "1")

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"
BOT_USERNAME = "AksesServerBot"
SECRET = b"test-signing-secret-0123456789abcdef"
KEY = b"YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="  # a Fernet key (32 bytes, base64)
AUDIT_KEY = b"test-audit-key-of-the-hmac-chain-0123456789"

OFFICER, APPROVER, APPROVER2, ESCORT, ADMIN, STRANGER = 1001, 2001, 2002, 3001, 4001, 9001
STAFF = (
    StaffMember(OFFICER, "Sari Petugas", frozenset({Role.OFFICER})),
    StaffMember(APPROVER, "Budi Kasi", frozenset({Role.APPROVER})),
    StaffMember(APPROVER2, "Rina Kasi", frozenset({Role.APPROVER})),
    StaffMember(ESCORT, "Dewi Pendamping", frozenset({Role.ESCORT})),
    StaffMember(ADMIN, "Admin TI", frozenset({Role.ADMIN})),
)


class FakeClock:
    """Time the tests move by hand, instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 09:00 WIB

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(autouse=True)
def _bot_log_handler_removed() -> Iterator[None]:
    """A test that sets up the bot's logging (bot/app/logging_setup.py) leaves no handler on
    its own captured stderr, and the root logger's level as it found it: a later test (in
    another order, or in the same pytest-xdist worker) would log into a closed stream."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler.get_name() == BOT_LOG_HANDLER and handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator(token=TOKEN, bot_username=BOT_USERNAME)
    await simulator.start()
    for member in STAFF:
        simulator.add_user(member.user_id, member.name.split()[0])
    simulator.add_user(STRANGER, "Orang", last_name="Asing")
    yield simulator
    await simulator.stop()


@pytest.fixture
def config(tmp_path: Path, sim: BotApiSimulator) -> Config:
    return Config(
        token=TOKEN,
        signing_secret=SECRET,
        data_dir=tmp_path / "data",
        staff=STAFF,
        encryption_key=KEY,
        audit_key=AUDIT_KEY,
        base_url=sim.base_url,
        base_file_url=sim.base_file_url,
    )


@pytest.fixture
async def app(config: Config, clock: FakeClock, sim: BotApiSimulator) -> AsyncIterator[object]:
    application = build_application(config, clock=clock, rate_limit=False)
    await start_polling(application, poll_timeout=1)
    yield application
    await stop_polling(application)


@pytest.fixture
def services(app: object) -> Services:
    return app.bot_data  # type: ignore[attr-defined,no-any-return]
