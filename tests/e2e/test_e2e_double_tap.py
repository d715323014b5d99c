"""Every kind of inline button, tapped twice: nobody sees the generic error, nothing happens
twice (issue 10, "Telegram's real answers").

A double tap is the same callback delivered twice before the bot answered the first (a
thumb, or a phone on a slow network); a late tap is the same data again once the bot has
answered, on a message whose keyboard is gone or changed (an old phone's stale view). The
simulator answers as Telegram does: an edit to identical content is "message is not
modified", a second answerCallbackQuery "query is too old".
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Collection

import pytest

from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from simulator import BotApiSimulator, SimCallback, SimMessage, SimUser
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER
from tests.dbstate import watch
from tests.flows import Visitor, act, at, badge_link, fill_in, register

NEWCOMER = 9002


@pytest.fixture(autouse=True)
def _errors_logged(caplog: pytest.LogCaptureFixture):
    """The global error handler logs every error it shows as the generic message."""
    caplog.set_level(logging.ERROR, logger="handlers.errors")
    yield
    unhandled = [r for r in caplog.records if r.name == "handlers.errors"]
    assert not unhandled, [r.exc_info for r in unhandled]


def no_generic_error(sim: BotApiSimulator) -> None:
    for person in sim.users.values():
        shown = [m for m in person.bot_messages if common_texts.ERROR in m.text_or_caption]
        assert not shown, f"{person.first_name} saw the generic error"


async def idle(app: object, sim: BotApiSimulator) -> None:
    services: Services = app.bot_data  # type: ignore[attr-defined]
    await sim.settle()
    await services.delivery.wait_idle()
    await sim.settle()


async def answered(sim: BotApiSimulator, *taps: SimCallback) -> None:
    """Until the bot answered every tap (a slow step, like rendering a badge, may come first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    while any(tap.answer is None for tap in taps):
        remaining = deadline - loop.time()
        assert remaining > 0, f"taps left unanswered: {[t for t in taps if t.answer is None]}"
        await sim.changed(remaining)


async def audit(services: Services) -> Counter[str]:
    return Counter(e.action for e in await services.storage.audit.events())


async def tap_twice(
    app: object,
    sim: BotApiSimulator,
    person: SimUser,
    label: str,
    message: SimMessage | None = None,
    *,
    late: bool = True,
    late_audit: Collection[str] = (),
    late_says: str = "",
) -> SimMessage:
    """Double-tap the button; then (``late``) tap its data once more and prove that changed
    nothing (and that its answer says ``late_says``). Returns the message the button was on."""
    target, button = person.find_button(label, message)
    first, second = await person.double_tap(label, target)
    await answered(sim, first, second)  # no spinner left turning
    await idle(app, sim)
    no_generic_error(sim)
    if late:
        db = await watch(app, sim)
        again = await person.send_callback(target, button["callback_data"])
        await answered(sim, again)
        await db.unchanged(new_audit=late_audit)
        no_generic_error(sim)
        assert again.answer is not None and late_says in (again.answer.text or "")
    return target


async def test_every_form_button_twice(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    # ✖ Batal, twice, on the first question with buttons: one form closed, no error.
    moves = Visitor().script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[: at(moves, "assignment_letter")])
    await tap_twice(app, sim, officer, form_texts.BTN_CANCEL)

    # Every suggestion and "none" button of the form, each double-tapped, and « Kembali.
    visitor = Visitor(equipment=None)
    moves = visitor.script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    for index, move in enumerate(moves):
        if move.act.value != "tap":
            await act(officer, move)
            await officer.wait_for(move.then)
            continue
        if move.field == "purpose":
            # « Kembali twice goes back one question, not two (the phone, typed).
            await tap_twice(app, sim, officer, form_texts.BTN_BACK)
            assert moves[index - 1].asked in officer.bot_messages[-1].text_or_caption
            await act(officer, moves[index - 1])
            await officer.wait_for(move.asked)
        await tap_twice(app, sim, officer, move.text)
        assert move.then in officer.bot_messages[-1].text_or_caption
    summary = officer.bot_messages[-1]

    # An edit button on the summary, twice: one question asked.
    name = next(m for m in moves if m.field == "name")
    await tap_twice(app, sim, officer, form_texts.FIELDS["name"].button, summary, late=False)
    assert sum(name.asked in m.text_or_caption for m in officer.bot_messages[-3:]) == 1
    await officer.send_text(name.text)
    summary = await officer.wait_for(moves[-1].then)

    # Submit twice: one request, one card per approver.
    await tap_twice(app, sim, officer, form_texts.BTN_SUBMIT, summary)
    assert len(await services.storage.visits.with_status(VisitStatus.PENDING)) == 1
    assert len([m for m in officer.bot_messages if "terkirim" in m.text_or_caption]) == 1
    cards = [m for m in sim.user(APPROVER).bot_messages if "Permintaan akses" in m.text_or_caption]
    assert len(cards) == 1

    # A returning visitor's "use these details", twice.
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await act(officer, moves[0])
    await officer.wait_for(moves[1].asked)
    await act(officer, moves[1])
    await officer.wait_for("pernah terdaftar")
    await tap_twice(app, sim, officer, form_texts.BTN_REUSE)
    # ... and "fill in again", twice, in another form.
    await officer.tap(form_texts.BTN_CANCEL)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await act(officer, moves[0])
    await officer.wait_for(moves[1].asked)
    await act(officer, moves[1])
    offer = await officer.wait_for("pernah terdaftar")
    await tap_twice(app, sim, officer, form_texts.BTN_FRESH, offer)
    assert sum(moves[2].asked in m.text_or_caption for m in officer.bot_messages[-2:]) == 1


async def test_approval_and_door_buttons_twice(
    sim: BotApiSimulator, app: object, services: Services, clock
) -> None:
    head, escort = sim.user(APPROVER), sim.user(ESCORT)
    await register(sim)
    card = await head.wait_for("Permintaan akses ruang server")
    await tap_twice(app, sim, head, "Setujui", card)
    assert (await audit(services))["approve"] == 1
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)

    notice = await escort.wait_for(predicate=lambda m: "Buka kunjungan" in str(m.buttons))
    await tap_twice(app, sim, escort, "Buka kunjungan", notice)

    await escort.open_link(badge_link(sim))
    await escort.wait_for("Badge pengunjung")
    # A door button's nonce is spent by the step it recorded: the same escort's late tap on
    # it is told the step is recorded (not "scan again"), and nothing changes.
    await tap_twice(app, sim, escort, "Catat MASUK", late_says="MASUK sudah tercatat")
    await escort.open_link(badge_link(sim))
    await escort.wait_for("Badge pengunjung")
    await tap_twice(app, sim, escort, "Perangkat sesuai", late_says="KELUAR sudah tercatat")
    counts = await audit(services)
    assert (counts["enter"], counts["exit"]) == (1, 1)
    assert (
        len(
            [
                m
                for m in sim.user(OFFICER).bot_messages
                if "masuk ruang server" in m.text_or_caption
            ]
        )
        == 1
    )

    # Tolak twice: one reason prompt is live; "Batal menolak" twice; then a real denial.
    await register(sim)
    card = await head.wait_for("Permintaan akses ruang server")
    await tap_twice(app, sim, head, "Tolak", card, late=False)
    prompts = [m for m in head.bot_messages if "alasan penolakan" in m.text_or_caption]
    assert len(prompts) == 1 and prompts[0].buttons
    await tap_twice(app, sim, head, "Batal menolak", prompts[0])
    await head.tap("Tolak", card)
    await head.wait_for("alasan")
    await head.send_text("Tidak ada jadwal pemeliharaan")
    await head.wait_for("ditolak")
    await tap_twice(app, sim, head, "Tolak", card) if card.buttons else None
    assert (await audit(services))["deny"] == 1


async def test_cancel_buttons_twice(sim: BotApiSimulator, app: object, services: Services) -> None:
    officer = sim.user(OFFICER)
    await register(sim)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for(predicate=lambda m: bool(m.buttons))
    label = listed.buttons[0][0]
    await tap_twice(app, sim, officer, label, listed)
    prompts = [m for m in officer.bot_messages if m.buttons and "Tidak jadi" in str(m.buttons)]
    assert len(prompts) == 1
    await tap_twice(app, sim, officer, "Tidak jadi", prompts[0])
    assert len(await services.storage.visits.with_status(VisitStatus.PENDING)) == 1


async def test_staff_buttons_twice(sim: BotApiSimulator, app: object, services: Services) -> None:
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listed = await admin.wait_for("Daftar staf")
    view = await tap_twice(app, sim, admin, "Dewi Pendamping", listed)
    await tap_twice(app, sim, admin, "⬜ Petugas", view)
    assert (await audit(services))["staff_roles"] == 1
    await tap_twice(app, sim, admin, "Hapus", view)
    assert (await audit(services))["staff_removed"] == 1

    await admin.send_text("/undang")
    ask = await admin.wait_for("Undang staf baru")
    await tap_twice(app, sim, admin, "⬜ Petugas", ask)
    await tap_twice(app, sim, admin, "Buat tautan", ask)
    assert (await audit(services))["staff_invited"] == 1
    link = next(w for w in ask.text_or_caption.split() if w.startswith("https://t.me/"))
    newcomer = sim.add_user(NEWCOMER, "Joko")
    await newcomer.open_link(link)
    claimed = await admin.wait_for("membuka tautan undangan")
    await tap_twice(app, sim, admin, "Konfirmasi", claimed)
    assert (await audit(services))["staff_added"] == 1
    assert len([m for m in newcomer.bot_messages if "Selamat datang" in m.text_or_caption]) == 1

    # A declined invitation, twice.
    await admin.send_text("/undang")
    ask = await admin.wait_for("Undang staf baru")
    await admin.tap("⬜ Pendamping", ask)
    await admin.wait_for(predicate=lambda m: "☑️ Pendamping" in str(m.buttons))
    await admin.tap("Buat tautan", ask)
    await admin.wait_for("Tautan undangan")
    link = next(w for w in ask.text_or_caption.split() if w.startswith("https://t.me/"))
    await sim.add_user(NEWCOMER + 1, "Tono").open_link(link)
    claimed = await admin.wait_for("membuka tautan undangan")
    await tap_twice(app, sim, admin, "❌ Tolak", claimed)
    assert (await audit(services))["invitation_declined"] == 1
    assert services.member(NEWCOMER + 1) is None

    head = sim.user(APPROVER)
    await head.send_text("/delegasi")
    choose = await head.wait_for(predicate=lambda m: bool(m.buttons))
    await tap_twice(app, sim, head, "Rina Kasi", choose)
    await tap_twice(app, sim, head, common_texts.BTN_TODAY, choose)
    assert (await audit(services))["delegation_added"] == 1
    told = [m for m in sim.user(2002).bot_messages if "ditunjuk mewakili" in m.text_or_caption]
    assert len(told) == 1


async def test_report_buttons_twice(sim: BotApiSimulator, app: object) -> None:
    head = sim.user(APPROVER)
    for command in ("/laporan", "/statistik"):
        await head.send_text(command)
        ask = await head.wait_for(predicate=lambda m: bool(m.buttons))
        before = len(head.bot_messages)
        await tap_twice(app, sim, head, common_texts.BTN_TODAY, ask)
        sent = head.bot_messages[before:]
        assert sent and len({m.document_name or m.text_or_caption for m in sent}) == len(sent)


async def test_a_tap_answered_too_late_still_takes_effect_without_an_error(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """A tap that waited too long (queued while the bot was down or busy): Telegram refuses
    the answer as "query is too old"; the entry is still recorded and shown."""
    await register(sim)
    head, escort = sim.user(APPROVER), sim.user(ESCORT)
    await head.wait_for("Permintaan akses ruang server")
    sim.state.callback_answer_window = 0.0  # every answer arrives after the client gave up
    approved = await head.tap("Setujui")
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    await escort.open_link(badge_link(sim))
    await escort.wait_for("Badge pengunjung")
    entered = await escort.tap("Catat MASUK")
    shown = await escort.wait_for("MASUK tercatat")
    await idle(app, sim)
    assert approved.answer is None and entered.answer is None  # both refused as too old
    assert not shown.buttons
    counts = await audit(services)
    assert (counts["approve"], counts["enter"]) == (1, 1)
    no_generic_error(sim)
    # Their answers were a toast and nothing: the edits say it all, no extra message.
    for person in (head, escort):
        assert not any(m.text_or_caption.startswith("ℹ️") for m in person.bot_messages)


async def test_an_alert_too_late_to_show_comes_as_a_reply(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """A section head's tap that waited too long on a card another head decided meanwhile:
    Telegram refuses the alert that says so, so the bot says it as a reply to the card."""
    await register(sim)
    head, other = sim.user(APPROVER), sim.user(APPROVER2)
    card = await head.wait_for("Permintaan akses ruang server")
    data = card.inline_keyboard[0][0]["callback_data"]
    await other.wait_for("Permintaan akses ruang server")
    await other.tap("Setujui")
    await idle(app, sim)
    sim.state.callback_answer_window = 0.0
    db = await watch(app, sim)
    late = await head.send_callback(card, data)
    reply = await head.wait_for("sudah diputuskan oleh Rina Kasi")
    assert late.answer is None
    assert reply.text_or_caption.startswith("ℹ️") and reply.reply_to_message_id == card.message_id
    assert (await audit(services))["approve"] == 1
    await db.unchanged()
    no_generic_error(sim)
