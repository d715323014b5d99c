"""The escorts' duty roster (/piket): through the simulator and the real Application.

An escort's /piket shows their state with one button that toggles it, edited in place; an
approval's "visitor waiting" notice goes to the escorts on duty, or to every escort when
nobody is; duty lapses at local midnight and survives a restart.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.core.roles import Role, StaffMember
from bot.texts import duty as duty_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import ADMIN, APPROVER, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_e2e_double_tap import answered
from tests.flows import approve, register

ESCORT2 = 3002
WAITING = "Pengunjung menunggu di meja petugas"
OFF = "Anda sedang tidak piket"
ON = "Anda sedang piket"


@pytest.fixture
def config(config: Config, sim: BotApiSimulator) -> Config:
    """The shared config and a second escort."""
    sim.add_user(ESCORT2, "Eko")
    extra = StaffMember(ESCORT2, "Eko Pendamping", frozenset({Role.ESCORT}))
    return replace(config, staff=(*config.staff, extra))


def audited(config: Config, action: str) -> list[str]:
    """The details of the audit events with this action, read beside the bot."""
    with sqlite3.connect(f"file:{config.database_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT detail FROM audit_events WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [detail for (detail,) in rows]


async def piket(sim: BotApiSimulator, user_id: int) -> SimMessage:
    """/piket, and the status it answers with."""
    person = sim.user(user_id)
    await person.send_text("/piket")
    return await person.wait_for("piket", predicate=lambda m: bool(m.buttons))


async def go_on_duty(sim: BotApiSimulator, user_id: int) -> None:
    status = await piket(sim, user_id)
    await sim.user(user_id).tap(duty_texts.BTN_START, status)
    await sim.user(user_id).wait_for(ON)


async def told(sim: BotApiSimulator, app: Any) -> set[int]:
    """Register and approve a visit; the escorts that were told a visitor waits."""
    await register(sim)
    await approve(sim)
    await app.bot_data.delivery.wait_idle(timeout=10)
    await sim.settle()
    return {
        e
        for e in (ESCORT, ESCORT2)
        if any(WAITING in m.text_or_caption for m in sim.user(e).bot_messages)
    }


async def test_piket_toggles_in_place_and_lists_the_others(
    sim: BotApiSimulator, app: object, config: Config
) -> None:
    escort = sim.user(ESCORT)
    status = await piket(sim, ESCORT)
    assert OFF in status.text_or_caption
    assert "Tidak ada pendamping lain yang sedang piket" in status.text_or_caption
    assert status.buttons == [[duty_texts.BTN_START]]

    tap = await escort.tap(duty_texts.BTN_START, status)
    on = await escort.wait_for(ON)
    await answered(sim, tap)  # goes out beside the edit (handlers/edits.py answer_tap)
    assert on.message_id == status.message_id  # the same message, edited
    assert "sejak pukul 09:00 WIB" in on.text_or_caption
    assert "sampai pukul 24.00 hari ini" in on.text_or_caption
    assert on.buttons == [[duty_texts.BTN_END]]
    assert tap.answer is not None and tap.answer.text == duty_texts.STARTED  # type: ignore[union-attr]

    # The other escort sees who is on duty, by name and since when.
    other = await piket(sim, ESCORT2)
    assert OFF in other.text_or_caption
    assert "Dewi Pendamping, sejak 09:00 WIB" in other.text_or_caption

    tap = await escort.tap(duty_texts.BTN_END, on)
    off = await escort.wait_for(OFF)
    await answered(sim, tap)
    assert off.message_id == status.message_id
    assert off.buttons == [[duty_texts.BTN_START]]
    assert tap.answer is not None and tap.answer.text == duty_texts.ENDED  # type: ignore[union-attr]
    assert audited(config, "duty_started") == [f"{ESCORT}:2026-11-28T17:00:00+00:00"]
    assert audited(config, "duty_ended") == [f"{ESCORT}:off"]
    assert ("piket", "Mulai atau selesai piket pendamping") in sim.commands_for(ESCORT)
    assert "piket" not in [c for c, _ in sim.commands_for(OFFICER)]


@pytest.mark.parametrize("label", [duty_texts.BTN_START, duty_texts.BTN_END])
async def test_a_double_tap_changes_it_once_and_shows_no_error(
    sim: BotApiSimulator, app: object, config: Config, label: str
) -> None:
    escort = sim.user(ESCORT)
    if label == duty_texts.BTN_END:
        await go_on_duty(sim, ESCORT)
    status = await piket(sim, ESCORT)
    data = status.inline_keyboard[0][0]["callback_data"]
    first, second = await escort.double_tap(label, status)
    await sim.settle()
    on = label == duty_texts.BTN_START
    assert first.answer is not None and second.answer is not None
    assert first.answer.text == (duty_texts.STARTED if on else duty_texts.ENDED)
    assert second.answer.text == (duty_texts.ALREADY_ON if on else duty_texts.ALREADY_OFF)
    assert not first.answer.show_alert and not second.answer.show_alert
    shown = escort.bot_messages[-1]
    assert shown.message_id == status.message_id
    assert (ON if on else OFF) in shown.text_or_caption
    assert not any("kesalahan" in m.text_or_caption for m in escort.bot_messages)
    assert len(audited(config, "duty_started")) == 1
    assert len(audited(config, "duty_ended")) == (0 if on else 1)

    # The same stale button tapped again later changes nothing at all.
    db = await watch(app, sim)
    stale = await escort.send_callback(status, data)
    await sim.settle()
    assert stale.answer is not None and stale.answer.text == second.answer.text
    await db.unchanged()


async def test_piket_is_for_escorts_only(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    for user_id in (OFFICER, APPROVER, ADMIN):
        person = sim.user(user_id)
        await person.send_text("/piket")
        reply = await person.wait_for("khusus")
        assert reply.text_or_caption == "Perintah ini khusus untuk Pendamping."
        assert reply.buttons == []
    # A forged toggle changes nothing either.
    officer = sim.user(OFFICER)
    forged = await officer.send_callback(officer.bot_messages[-1], "v1:duty:on")
    await sim.settle()
    assert forged.answer is not None and forged.answer.show_alert
    assert forged.answer.text == duty_texts.NOT_AN_ESCORT
    await db.unchanged()


async def test_only_the_escort_on_duty_is_told_of_an_approval(
    sim: BotApiSimulator, app: object
) -> None:
    await go_on_duty(sim, ESCORT2)
    assert await told(sim, app) == {ESCORT2}


async def test_with_nobody_on_duty_every_escort_is_told(sim: BotApiSimulator, app: object) -> None:
    await go_on_duty(sim, ESCORT2)
    await sim.user(ESCORT2).tap(duty_texts.BTN_END)
    await sim.user(ESCORT2).wait_for(OFF)
    assert await told(sim, app) == {ESCORT, ESCORT2}


async def test_duty_lapses_at_local_midnight(
    sim: BotApiSimulator, app: object, clock: FakeClock
) -> None:
    await go_on_duty(sim, ESCORT2)  # 09:00 WIB on the 28th
    clock.advance(hours=14, minutes=59)  # 23:59 WIB: still on duty
    assert ON in (await piket(sim, ESCORT2)).text_or_caption
    clock.advance(minutes=1)  # 00:00 WIB on the 29th: the forgotten toggle pings nobody
    status = await piket(sim, ESCORT2)
    assert OFF in status.text_or_caption and status.buttons == [[duty_texts.BTN_START]]
    assert await told(sim, app) == {ESCORT, ESCORT2}
    # Going on duty again the next day opens a new shift (yesterday's is closed).
    await sim.user(ESCORT2).tap(duty_texts.BTN_START, status)
    assert "sejak pukul 00:00 WIB" in (await sim.user(ESCORT2).wait_for(ON)).text_or_caption


async def test_losing_the_escort_role_ends_duty(
    sim: BotApiSimulator, app: object, config: Config
) -> None:
    await go_on_duty(sim, ESCORT2)
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    await admin.tap("Eko Pendamping", await admin.wait_for("Daftar staf"))
    await admin.wait_for("Tekan peran")
    await admin.tap("⬜ Petugas")
    await admin.tap("☑️ Pendamping", await admin.wait_for("Peran: Petugas, Pendamping"))
    await admin.wait_for("Peran: Petugas\n")
    assert audited(config, "duty_ended") == [f"{ESCORT2}:role"]
    assert await told(sim, app) == {ESCORT}


async def test_duty_survives_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await go_on_duty(sim, ESCORT2)
        await stop_polling(app)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        assert ON in (await piket(sim, ESCORT2)).text_or_caption
        assert await told(sim, app) == {ESCORT2}
    finally:
        await stop_polling(app)
