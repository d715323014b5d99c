"""Once one escort records MASUK, the others' "🔔 Pengunjung menunggu di meja petugas" says
who took the visitor in and when, and its Buka kunjungan button goes: nobody walks to the
desk for nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app.config import Config
from bot.app.services import Services
from bot.core.roles import Role, StaffMember
from bot.texts import duty as duty_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import ESCORT, FakeClock
from tests.flows import approve, badge_link, register, scan

ESCORT2, ESCORT3 = 3002, 3003
WAITING = "Pengunjung menunggu di meja petugas"
TAKEN = "Sudah dijemput"


@pytest.fixture
def config(config: Config, sim: BotApiSimulator) -> Config:
    """Three escorts: Dewi (the shared one), Eko and Fajar."""
    sim.add_user(ESCORT2, "Eko")
    sim.add_user(ESCORT3, "Fajar")
    more = (
        StaffMember(ESCORT2, "Eko Pendamping", frozenset({Role.ESCORT})),
        StaffMember(ESCORT3, "Fajar Pendamping", frozenset({Role.ESCORT})),
    )
    return replace(config, staff=(*config.staff, *more))


def notice(sim: BotApiSimulator, user: int) -> SimMessage:
    (found,) = [
        m
        for m in sim.user(user).bot_messages
        if WAITING in m.text_or_caption or TAKEN in m.text_or_caption
    ]
    return found


async def enter(sim: BotApiSimulator, escort: int) -> None:
    await scan(sim, badge_link(sim), escort)
    await sim.user(escort).tap("Catat MASUK")
    await sim.user(escort).wait_for("MASUK tercatat")


async def settled(sim: BotApiSimulator, services: Services) -> None:
    await services.delivery.wait_idle()
    await sim.settle()


async def test_the_others_see_who_took_the_visitor_in(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    await settled(sim, services)
    for escort in (ESCORT, ESCORT2, ESCORT3):  # nobody on duty: every escort is told
        assert WAITING in notice(sim, escort).text_or_caption
    clock.advance(minutes=4)  # 09:04 WIB
    await enter(sim, ESCORT2)
    await settled(sim, services)
    for escort in (ESCORT, ESCORT3):
        told = notice(sim, escort)
        assert told.buttons == [], told
        assert TAKEN in told.text_or_caption and WAITING not in told.text_or_caption
        assert "oleh Eko Pendamping, pukul 09:04 WIB" in told.text_or_caption
        assert "KRS-2026-00001" in told.text_or_caption
        assert "Ayu" not in told.text_or_caption  # the edit keeps no visitor's name
    own = notice(sim, ESCORT2)  # Eko's own notice: his MASUK's card says the rest
    assert WAITING in own.text_or_caption and own.buttons == [["🔎 Buka kunjungan"]]
    # One edit queued per escort told but Eko, in MASUK's own transaction.
    assert await services.storage.outbox.chats_keyed("waiting_taken:1:") == [ESCORT, ESCORT3]


async def test_an_escort_off_duty_taking_the_visitor_in_clears_the_notice_on_duty(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Only Eko is on duty, so only he is told; Dewi, off duty, happens to take the visitor
    in: Eko's notice says so."""
    eko = sim.user(ESCORT2)
    await eko.send_text("/piket")
    status = await eko.wait_for("piket", predicate=lambda m: bool(m.buttons))
    await eko.tap(duty_texts.BTN_START, status)
    await eko.wait_for("Anda sedang piket")
    await register(sim)
    await approve(sim)
    await settled(sim, services)
    assert WAITING in notice(sim, ESCORT2).text_or_caption
    assert not [m for m in sim.user(ESCORT).bot_messages if WAITING in m.text_or_caption]
    await enter(sim, ESCORT)
    await settled(sim, services)
    told = notice(sim, ESCORT2)
    assert told.buttons == [] and "oleh Dewi Pendamping, pukul 09:00 WIB" in told.text
