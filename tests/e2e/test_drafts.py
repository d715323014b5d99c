"""Abandoned registration forms expire (issue 10, "Abandoned drafts are kept forever"): the
draft and its conversation are purged from memory and the database, the officer is told
once, and a restart does not bring the form back."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from bot.app import drafts
from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.app.services import Services
from bot.core.roles import Role
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import ADMIN, OFFICER, FakeClock
from tests.flows import Visitor, at, fill_in

DISCARDED = "tidak diselesaikan dalam"


def persisted(config: Config) -> tuple[list[tuple[int]], list[tuple[str, str]]]:
    """The officer's stored user data and the open registration conversations."""
    with sqlite3.connect(f"file:{config.database_path}?mode=ro", uri=True) as raw:
        users = raw.execute("SELECT user_id FROM user_state").fetchall()
        states = raw.execute(
            "SELECT name, key FROM conversation_state WHERE name = 'registration'"
        ).fetchall()
    return users, states


async def half_filled(sim: BotApiSimulator) -> None:
    """The officer starts a form and gets as far as the phone number."""
    moves = Visitor().script()
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[: at(moves, "phone")])
    await sim.settle()


async def test_an_abandoned_form_is_discarded_once_and_stays_gone(
    sim: BotApiSimulator, app: object, config: Config, clock: FakeClock
) -> None:
    await half_filled(sim)
    officer = sim.user(OFFICER)
    assert persisted(config) == ([(OFFICER,)], [("registration", f"[{OFFICER}, {OFFICER}]")])

    clock.advance(hours=23, minutes=59)
    assert await drafts.expire_drafts(app) == 0  # type: ignore[arg-type]
    clock.advance(minutes=2)
    assert await drafts.expire_drafts(app) == 1  # type: ignore[arg-type]
    notice = await officer.wait_for(DISCARDED)
    assert "24 jam" in notice.text and "/daftar" in notice.text
    assert Visitor().name not in notice.text
    assert persisted(config) == ([], [])
    assert not any(m.buttons for m in officer.bot_messages if not m.deleted)
    assert await drafts.expire_drafts(app) == 0  # type: ignore[arg-type]

    # What the officer types next is no answer to a form that is gone.
    await officer.send_text("081234567890")
    await officer.wait_for("/daftar")
    await sim.settle()
    assert sum(DISCARDED in m.text_or_caption for m in officer.bot_messages) == 1
    assert persisted(config) == ([], [])

    # A fresh form starts at its first question.
    await officer.send_text("/daftar")
    await officer.wait_for(Visitor().script()[0].asked)


async def test_a_form_abandoned_while_the_bot_was_down_is_not_resumed(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await half_filled(sim)
        await stop_polling(app)
        clock.advance(hours=30)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        officer = sim.user(OFFICER)
        await officer.wait_for(DISCARDED)
        await sim.settle()
        assert not any(form_texts.RESUMED in m.text_or_caption for m in officer.bot_messages)
        assert persisted(config) == ([], [])
        await stop_polling(app)
        # And once more: a restart after the expiry finds nothing to resume or discard.
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        await sim.settle()
        assert sum(DISCARDED in m.text_or_caption for m in officer.bot_messages) == 1
        assert not any(form_texts.RESUMED in m.text_or_caption for m in officer.bot_messages)
    finally:
        await stop_polling(app)


async def test_the_limit_is_configurable(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(replace(config, draft_expiry_hours=2), clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await half_filled(sim)
        clock.advance(hours=1)
        assert await drafts.expire_drafts(app) == 0
        clock.advance(hours=1)
        assert await drafts.expire_drafts(app) == 1
        notice = await sim.user(OFFICER).wait_for(DISCARDED)
        assert "2 jam" in notice.text
    finally:
        await stop_polling(app)


async def test_a_form_goes_at_once_when_its_owner_loses_the_officer_role(
    sim: BotApiSimulator, app: object, config: Config, services: Services
) -> None:
    """The admin takes Sari's officer role away (she stays an escort) while her form is
    half filled: the NIK and name she typed have no purpose left, so the form goes now, not
    after 24 hours, and she is told once."""
    await services.storage.staff.set_roles(
        OFFICER, frozenset({Role.OFFICER, Role.ESCORT}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await half_filled(sim)
    admin, officer = sim.user(ADMIN), sim.user(OFFICER)
    await admin.send_text("/staf")
    await admin.tap("Sari Petugas", await admin.wait_for("Daftar staf"))
    await admin.wait_for("Tekan peran")
    await admin.tap("☑️ Petugas")
    await admin.wait_for("Peran: Pendamping")
    notice = await officer.wait_for("karena peran Anda tidak lagi mencakup")
    assert Visitor().name not in notice.text
    await services.delivery.wait_idle()
    assert persisted(config) == ([], [])
    assert not any(m.buttons for m in officer.bot_messages if not m.deleted)


async def test_kirim_after_the_role_went_sends_nothing_and_says_so(
    sim: BotApiSimulator, app: object, config: Config, services: Services
) -> None:
    """The role goes while the summary is on screen, before the form is discarded (a change
    made outside the chat): Kirim stores nothing, says why, and the form goes."""
    moves = Visitor().script()
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves)
    await services.storage.staff.set_roles(
        OFFICER, frozenset({Role.ESCORT}), ADMIN, services.now()
    )
    await services.refresh_staff()
    tap = await officer.tap(form_texts.BTN_SUBMIT, summary)
    await sim.settle()
    assert tap.answer is not None and tap.answer.text == form_texts.NO_LONGER_ALLOWED
    assert summary.buttons == []
    assert await services.storage.visits.get(1) is None
    assert "draft" not in app.user_data.get(OFFICER, {})  # type: ignore[attr-defined]
