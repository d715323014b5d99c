"""Door buttons carry the nonce of the scan that showed them (issue 10, insider controls)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.app.config import Config
from bot.app.services import Services
from bot.core import callbacks
from bot.core.roles import Role, StaffMember
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import ESCORT, FakeClock
from tests.dbstate import watch
from tests.flows import approve, badge_link, register, scan

ESCORT2 = 3002


@pytest.fixture
def config(config: Config, sim: BotApiSimulator) -> Config:
    """The shared config and a second escort."""
    sim.add_user(ESCORT2, "Eko")
    extra = StaffMember(ESCORT2, "Eko Pendamping", frozenset({Role.ESCORT}))
    return replace(config, staff=(*config.staff, extra))


async def _approved_visit_id(sim: BotApiSimulator, services: Services) -> tuple[str, int]:
    await register(sim)
    await approve(sim)
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    return badge_link(sim), visit.id


async def test_a_forged_masuk_without_a_scan_changes_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    _, visit_id = await _approved_visit_id(sim, services)
    escort = sim.user(ESCORT)
    await escort.send_text("/aktif")  # any message of the bot's to hang the taps on
    shown = await escort.wait_for("pengunjung")
    db = await watch(app, sim)
    forged = (
        f"v1:in:{visit_id}",  # the old, nonce-less button: anyone could type it
        callbacks.DoorTap(callbacks.DOOR_ENTER, visit_id, "A" * 12).data,  # a made-up nonce
    )
    for data in forged:
        tap = await escort.send_callback(shown, data)
        await sim.settle()
        assert tap.answer is not None and "Pindai ulang badge" in tap.answer.text
    assert (await services.storage.visits.get(visit_id)).status == VisitStatus.APPROVED  # type: ignore[union-attr]
    await db.unchanged(new_audit=["door_tap_refused"] * 2)


async def test_the_scans_button_works_once_and_records_how_it_was_scanned(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link, visit_id = await _approved_visit_id(sim, services)
    await scan(sim, link)
    escort = sim.user(ESCORT)
    view = escort.last_bot_message
    assert view is not None
    data = view.inline_keyboard[0][0]["callback_data"]
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    # The same button again by the same escort (a double tap, a replay): it is told the
    # entry is recorded, and nothing changes. Another escort's tap on it is refused and
    # audited (test_the_button_is_bound_to_the_escort_who_scanned).
    db = await watch(app, sim)
    replay = await escort.send_callback(view, data)
    await sim.settle()
    assert replay.answer is not None and "MASUK sudah tercatat" in replay.answer.text
    await db.unchanged()
    entered = [e for e in await services.storage.audit.events(visit_id) if e.action == "enter"]
    assert [e.detail for e in entered] == ["scan:qr"]


async def test_a_scan_left_open_too_long_needs_a_new_scan(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    link, visit_id = await _approved_visit_id(sim, services)
    await scan(sim, link)
    escort = sim.user(ESCORT)
    clock.advance(minutes=6)
    await escort.tap("Catat MASUK")
    await sim.settle()
    assert "Pindai ulang badge" in (escort.alerts[-1].text or "")
    assert (await services.storage.visits.get(visit_id)).status == VisitStatus.APPROVED  # type: ignore[union-attr]
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")


async def test_the_button_is_bound_to_the_escort_who_scanned(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """A second escort with the first one's button data (copied, or a modified client) is
    refused and audited, before and after the first escort used it."""
    link, visit_id = await _approved_visit_id(sim, services)
    await scan(sim, link)
    data = sim.user(ESCORT).last_bot_message.inline_keyboard[0][0]["callback_data"]  # type: ignore[union-attr]
    other = sim.user(ESCORT2)
    await scan(sim, link, ESCORT2)
    own = other.last_bot_message
    assert own is not None
    db = await watch(app, sim)
    tap = await other.send_callback(own, data)
    await sim.settle()
    assert tap.answer is not None and "Pindai ulang badge" in tap.answer.text
    await db.unchanged(new_audit=["door_tap_refused"])
    await sim.user(ESCORT).tap("Catat MASUK")
    await sim.user(ESCORT).wait_for("MASUK tercatat")
    tap = await other.send_callback(own, data)
    await sim.settle()
    assert tap.answer is not None and "Pindai ulang badge" in tap.answer.text
    refused = [
        e for e in await services.storage.audit.events(visit_id) if e.action == "door_tap_refused"
    ]
    assert len(refused) == 2
