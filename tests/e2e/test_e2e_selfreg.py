"""Self-registration (issue 14.1): an officer's one-time link (/undang_tamu) lets a visitor
who has Telegram fill in their own form and KTP photo; the request is a visit planned for
the day and window the officer set, decided ahead by the section heads and checked at the
desk on the day. The link is the only thing a stranger may send, it works once and for 24
hours, and a visitor can do nothing but fill in their own form: every refusal changes
nothing."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

from bot.app import drafts
from bot.app.config import Config
from bot.core.form import INVITE_FORM
from bot.core.guests import PER_DAY
from bot.core.visits import VisitStatus
from bot.texts import approval as approval_texts
from bot.texts import form as form_texts
from bot.texts import guests as guest_texts
from bot.texts import planning as plan_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, STRANGER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_drafts import persisted
from tests.e2e.test_e2e_double_tap import idle, no_generic_error, tap_twice
from tests.e2e.test_e2e_planned import (
    BUTTON,
    REF,
    TOMORROW,
    WINDOW,
    next_day,
    stored,
    today_list,
)
from tests.flows import Visitor, badge_link, fill_in, ktp_image, scan

LINK = re.compile(r"https://t\.me/\w+\?start=(tamu_[A-Za-z0-9_-]{32})")
STRANGER_SAYS = "ID Telegram Anda"


async def make_link(sim: BotApiSimulator, day: str = TOMORROW, window: str = WINDOW) -> str:
    """/undang_tamu with the day and the window: the link's /start payload."""
    officer = sim.user(OFFICER)
    moves = form_texts.script({"planned_date": day, "window": window}, INVITE_FORM)
    await officer.send_text("/undang_tamu")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves)
    await officer.tap(guest_texts.BTN_GUEST_LINK, summary)
    made = await officer.wait_for("Tautan isi mandiri untuk kunjungan")
    found = LINK.search(made.text_or_caption)
    assert found is not None, made.text_or_caption
    return found.group(1)


async def guest_fills_in(sim: BotApiSimulator, payload: str, visitor: Visitor | None = None):
    """The stranger opens the link and answers the whole form; returns the summary."""
    guest = sim.user(STRANGER)
    await guest.send_text(f"/start {payload}")
    await guest.wait_for("Selamat datang")
    return await fill_in(guest, (visitor or Visitor()).script(visitor=True))


async def test_self_registration_from_link_to_badge(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    officer, guest, escort = sim.user(OFFICER), sim.user(STRANGER), sim.user(ESCORT)
    payload = await make_link(sim)
    # Only the keyed hash of the secret is stored.
    await idle(app, sim)
    db_text = "\n".join(
        str(row)
        for row in await services.storage.database.connection.execute_fetchall(  # type: ignore[attr-defined]
            "SELECT * FROM guest_links"
        )
    )
    assert payload not in db_text and payload[5:] not in db_text

    summary = await guest_fills_in(sim, payload)
    assert "Ayu Lestari" in summary.text_or_caption
    await guest.tap(form_texts.BTN_SUBMIT, summary)
    sent = await guest.wait_for("Terima kasih")
    assert REF in sent.text_or_caption

    # A planned visit for the link's day and window, registered by the officer, marked.
    visit = await stored(services)
    assert visit.status == VisitStatus.PENDING and visit.self_registered
    assert visit.officer_id == OFFICER and visit.ktp_file_id
    assert visit.plan is not None and visit.plan.window == WINDOW
    told = await officer.wait_for("mengisi sendiri")
    assert REF in told.text_or_caption and "Ayu Lestari" in told.text_or_caption

    # The section heads' card: the visitor's KTP photo, marked as planned and self-registered.
    card = await sim.user(APPROVER).wait_for("TERJADWAL", predicate=lambda m: m.buttons)
    assert "Diisi sendiri oleh pengunjung" in card.text_or_caption
    assert card.photo_bytes is not None
    await sim.user(APPROVER).tap(approval_texts.BTN_APPROVE, card)
    await officer.wait_for("disetujui")
    await idle(app, sim)
    assert (await stored(services)).status == VisitStatus.SCHEDULED
    decided = await sim.user(APPROVER2).wait_for("DISETUJUI")
    assert "Diisi sendiri" in decided.text_or_caption and not decided.buttons

    # The link is used up: opening it again is refused, nothing changes.
    db = await watch(app, sim)
    await guest.send_text(f"/start {payload}")
    await guest.wait_for("tidak berlaku")
    await idle(app, sim)
    await db.unchanged()

    # On the day the officer still checks the KTP against the person (a fresh photo).
    next_day(clock, 9, 5)
    listed = await today_list(sim)
    await officer.tap(BUTTON, listed)
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    check = await officer.wait_for("Cocokkan KTP dengan orangnya")
    await officer.tap(plan_texts.BTN_ISSUE, check)
    await officer.wait_for(predicate=lambda m: m.document_name is not None)
    await officer.wait_for("diterbitkan")
    assert (await stored(services)).status == VisitStatus.APPROVED
    await scan(sim, badge_link(sim))
    await escort.tap("MASUK")
    await officer.wait_for("masuk")
    assert (await stored(services)).status == VisitStatus.INSIDE
    # The visitor's Telegram id is kept nowhere once the form is sent.
    await idle(app, sim)
    rows = await services.storage.database.connection.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT user_id FROM user_state WHERE user_id = ?", (STRANGER,)
    )
    assert list(rows) == []
    # The access log's history says who filled it in (bot/reports/log.py notes()).
    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Diisi sendiri oleh pengunjung")
    assert "Terjadwal" in history.text
    no_generic_error(sim)


async def test_expired_and_forged_links_are_refused(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    guest = sim.user(STRANGER)
    payload = await make_link(sim)
    await idle(app, sim)
    db = await watch(app, sim)
    # A forged secret of the right shape, one of the wrong shape: refused alike.
    for forged in (
        "tamu_" + "A" * 32,
        "tamu_short",
        payload[:-1] + ("B" if payload[-1] != "B" else "C"),
    ):
        await guest.send_text(f"/start {forged}")
        if len(forged) == len(payload):
            await guest.wait_for("tidak berlaku")
        else:
            await guest.wait_for(STRANGER_SAYS)
    await idle(app, sim)
    await db.unchanged(new_audit=["stranger_refused"])

    # After 24 hours the link is dead, even when the form was opened before: nothing is
    # stored.
    clock.advance(hours=23, minutes=50)
    await guest.send_text(f"/start {payload}")
    await guest.wait_for("Selamat datang")
    moves = Visitor().script(visitor=True)
    summary = await fill_in(guest, moves)
    clock.advance(minutes=11)
    await guest.tap(form_texts.BTN_SUBMIT, summary)
    await guest.wait_for("tidak berlaku")
    await idle(app, sim)
    # Only the visitor's form is gone (the draft and its conversation): no request, the
    # link unused, no event.
    assert await services.storage.visits.get(1) is None  # type: ignore[attr-defined]
    link = await services.storage.guests.get(1)  # type: ignore[attr-defined]
    assert link is not None and link.used_at is None
    events = await services.storage.database.connection.execute_fetchall(  # type: ignore[attr-defined]
        "SELECT action FROM audit_events WHERE action LIKE 'guest%' OR action = 'submit'"
    )
    assert [e[0] for e in events] == ["guest_link_created"]
    db = await watch(app, sim)
    await guest.send_text(f"/start {payload}")
    await guest.wait_for("tidak berlaku")
    await idle(app, sim)
    await db.unchanged()
    no_generic_error(sim)


async def test_the_visitor_can_do_nothing_else(
    sim: BotApiSimulator, app: object, services: object
) -> None:
    guest = sim.user(STRANGER)
    payload = await make_link(sim)
    await guest.send_text(f"/start {payload}")
    await guest.wait_for("Selamat datang")
    await idle(app, sim)
    db = await watch(app, sim)
    # Commands, staff buttons: refused, with where they are (their form), not the
    # stranger's answer; nothing changes, and nothing is audited but the forged tap.
    for command in (
        "/daftar",
        "/jadwal",
        "/hari_ini",
        "/aktif",
        "/riwayat Ayu",
        "/start",
        "/undang_tamu",
    ):
        await guest.send_text(command)
        said = await guest.wait_for("sedang mengisi formulir kunjungan")
        assert STRANGER_SAYS not in said.text
    forged = await guest.send_callback(guest.bot_messages[-1], "v1:ok:1")
    await idle(app, sim)
    assert forged.answer is not None and "tidak berwenang" in forged.answer.text
    await db.unchanged(new_audit=["stranger_refused"])
    # The form's own input still works: text where the photo is asked, its answer.
    await guest.send_text("ini teks")
    await guest.wait_for(form_texts.plain(form_texts.WANT_PHOTO)[:30])
    # A returning visitor's stored details are never offered to a visitor.
    await guest.send_photo(ktp_image())
    # /batal closes their own form only; then anything is refused again.
    await guest.send_text("/batal")
    await guest.wait_for("Pengisian dibatalkan")
    await idle(app, sim)
    db = await watch(app, sim)
    await guest.send_text("Ayu Lestari")
    await guest.wait_for(STRANGER_SAYS)
    await guest.send_text("/batal")
    await guest.wait_for(STRANGER_SAYS)
    await idle(app, sim)
    await db.unchanged(new_audit=["stranger_refused"] * 2)
    no_generic_error(sim)


async def test_a_returning_nik_shows_the_visitor_nothing_stored(
    sim: BotApiSimulator, app: object, services: object
) -> None:
    """The NIK of a visitor the bot knows: the officer would be offered the stored details;
    the visitor typing it is simply asked the next question."""
    from tests.flows import register

    await register(sim)
    guest = sim.user(STRANGER)
    payload = await make_link(sim)
    summary = await guest_fills_in(sim, payload, Visitor(name="Ayu Baru"))
    assert not any("pernah terdaftar" in m.text_or_caption for m in guest.bot_messages)
    assert "Ayu Baru" in summary.text_or_caption
    no_generic_error(sim)


async def test_rate_limit_and_double_taps(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    officer, guest = sim.user(OFFICER), sim.user(STRANGER)
    # The link button tapped twice: one link.
    moves = form_texts.script({"planned_date": TOMORROW, "window": WINDOW}, INVITE_FORM)
    await officer.send_text("/undang_tamu")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves)
    await tap_twice(app, sim, officer, guest_texts.BTN_GUEST_LINK)
    made = [
        m
        for m in officer.bot_messages
        if "Tautan isi mandiri untuk kunjungan" in m.text_or_caption
    ]
    assert len(made) == 1
    payload = LINK.search(made[0].text_or_caption).group(1)  # type: ignore[union-attr]

    # The visitor's submit tapped twice: one request.
    summary = await guest_fills_in(sim, payload)
    await tap_twice(
        app, sim, guest, form_texts.BTN_SUBMIT, summary, late_audit=["stranger_refused"]
    )
    await idle(app, sim)
    assert await services.storage.visits.get(1) is not None  # type: ignore[attr-defined]
    assert await services.storage.visits.get(2) is None  # type: ignore[attr-defined]
    assert len([m for m in guest.bot_messages if "Terima kasih" in m.text_or_caption]) == 1

    # PER_DAY links within 24 hours; the next is refused, at once and without a change.
    for _ in range(PER_DAY - 1):
        await make_link(sim)
    await idle(app, sim)
    db = await watch(app, sim)
    await officer.send_text("/undang_tamu")
    await officer.wait_for("sudah membuat")
    await idle(app, sim)
    await db.unchanged()
    # A day later the oldest has aged out.
    clock.advance(hours=24, minutes=1)
    await make_link(sim, day="30-11-2026")
    no_generic_error(sim)


async def test_only_officers_make_links_and_staff_cannot_use_one(
    sim: BotApiSimulator, app: object, services: object
) -> None:
    payload = await make_link(sim)
    await idle(app, sim)
    db = await watch(app, sim)
    for person in (APPROVER, ESCORT):
        await sim.user(person).send_text("/undang_tamu")
        await sim.user(person).wait_for("khusus untuk Petugas")
    # A staff member opening the link: told it is the visitor's; the link stays unused.
    await sim.user(OFFICER).send_text(f"/start {payload}")
    await sim.user(OFFICER).wait_for("untuk pengunjung")
    await idle(app, sim)
    await db.unchanged()
    link = await services.storage.guests.get(1)  # type: ignore[attr-defined]
    assert link is not None and link.used_at is None
    assert link.expires_at - link.created_at == timedelta(hours=24)
    no_generic_error(sim)


async def test_a_visitors_abandoned_form_expires_and_leaves_no_trace(
    sim: BotApiSimulator, app: object, config: Config, clock: FakeClock
) -> None:
    """Like an officer's draft, a visitor's unfinished form is discarded; the visitor is told
    directly (nothing queued in the outbox for their chat), and then only the link works."""
    guest = sim.user(STRANGER)
    payload = await make_link(sim, day="30-11-2026")
    await guest.send_text(f"/start {payload}")
    await guest.wait_for("Selamat datang")
    moves = Visitor().script(visitor=True)
    await fill_in(guest, moves[:3])
    await idle(app, sim)
    assert persisted(config)[0] == [(STRANGER,)]
    clock.advance(hours=24, minutes=1)
    assert await drafts.expire_drafts(app) == 1  # type: ignore[arg-type]
    await guest.wait_for("tidak diselesaikan tepat waktu")
    await idle(app, sim)
    assert persisted(config) == ([], [])
    with sqlite3.connect(f"file:{config.database_path}?mode=ro", uri=True) as raw:
        chats = raw.execute("SELECT chat_id FROM outbox WHERE chat_id = ?", (STRANGER,))
        assert chats.fetchall() == []
    db = await watch(app, sim)
    await guest.send_text("Ayu Lestari")
    await guest.wait_for(STRANGER_SAYS)
    await idle(app, sim)
    await db.unchanged(new_audit=["stranger_refused"])
    no_generic_error(sim)
