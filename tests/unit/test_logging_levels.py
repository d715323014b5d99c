"""The libraries that log what passes through them never log below INFO (bot/app/
logging_setup.py ``NO_DEBUG``): at DEBUG, PTB logs every call's parameters and every update,
aiosqlite every statement's parameters. logsafe masks a NIK, but a name or a phone is text
like any other, so a whole visit logged at DEBUG holds none of the visitor's data."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.app import logging_setup, logsafe
from bot.core.fields import normalise_phone
from simulator import BotApiSimulator
from tests.conftest import APPROVER
from tests.flows import Visitor, approve, register

VISITOR = Visitor(
    name="Ayu Lestari",
    organisation="PT Jaringan Nusantara",
    phone="0812-3456-7890",
    purpose="Serah terima laptop Ayu Lestari",  # typed, not a button
    equipment="Laptop milik Ayu Lestari",
)
DENIED = Visitor(
    nik="3508012303880003",
    name="Bagus Santoso",
    organisation="CV Mitra Data",
    phone="0813-9876-5432",
)
REASON = "Tidak ada surat tugas, hubungi Bagus Santoso di 081398765432"
LOGGERS = (*logging_setup.NO_DEBUG, *logging_setup.QUIET_LOGGERS)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The bot's logging set up at DEBUG, every line captured; the loggers' levels as they
    were afterwards (the root's and the bot's handler: tests/conftest.py)."""
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging_setup.configure("text", logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        logsafe.uninstall()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_visit_logged_at_debug_holds_no_name_phone_or_nik(
    sim: BotApiSimulator, app: object, captured: io.StringIO
) -> None:
    await register(sim, VISITOR)
    await approve(sim)
    await register(sim, DENIED)
    approver = sim.user(APPROVER)
    await approver.wait_for("Permintaan akses ruang server")
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    await approver.send_text(REASON)
    await approver.wait_for("Permintaan ditolak")
    await sim.settle(quiet=0.3)
    # The simulator is the test's stand-in for Telegram: its own lines are not the bot's.
    lines = [ln for ln in captured.getvalue().splitlines() if not ln.startswith("simulator")]
    assert any(" DEBUG " in ln for ln in lines)  # the level was DEBUG (Pillow's lines show)
    personal = {
        value
        for visitor in (VISITOR, DENIED)
        for value in (
            visitor.nik,
            visitor.name,
            visitor.organisation,
            visitor.phone,
            normalise_phone(visitor.phone),
        )
    }
    assert [ln for ln in lines if any(value and value in ln for value in personal)] == []


def test_no_library_logs_below_info_whatever_the_level() -> None:
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    try:
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            logging_setup.configure("text", level)
            for name in logging_setup.NO_DEBUG:
                assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
                # A child logger of theirs (PTB's "telegram.ext.ExtBot") inherits the level.
                assert not logging.getLogger(f"{name}.child").isEnabledFor(logging.DEBUG), name
                if name not in logging_setup.QUIET_LOGGERS:  # those stay at WARNING
                    effective = logging.getLogger(name).getEffectiveLevel()
                    assert effective == max(level, logging.INFO), name
    finally:
        logsafe.uninstall()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
