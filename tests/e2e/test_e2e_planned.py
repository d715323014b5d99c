"""Visits planned ahead (issue 14, part 1): /jadwal on the visitor form without the KTP photo,
decided in advance on the same card, opened on the day from /hari_ini (the KTP photo checked
against the person, the badge at once), the day-before reminder; every refusal changes
nothing."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import timedelta

from bot.core.form import PLAN_FORM
from bot.core.standards import Step, measure
from bot.core.visits import Visit, VisitStatus
from bot.flows import deadlines, workflow
from bot.texts import approval as approval_texts
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from bot.texts import planning as plan_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, STRANGER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_e2e_double_tap import idle, no_generic_error, tap_twice
from tests.flows import Visitor, badge_link, fill_in, ktp_image, scan

# The tests' clock starts on Saturday 28-11-2026, 09:00 WIB (02:00 UTC).
TOMORROW = "29-11-2026"
WINDOW = "09:00-12:00"
REF = "KRS-2026-00001"
BUTTON = f"{WINDOW} Ayu Lestari"


def plan_moves(day: str = TOMORROW, window: str = WINDOW, visitor: Visitor | None = None) -> list:
    values = {**asdict(visitor or Visitor()), "planned_date": day, "window": window}
    return form_texts.script(values, PLAN_FORM)


async def plan(sim: BotApiSimulator, by: int = OFFICER, **kwargs: str) -> None:
    """/jadwal filled in and sent to the section heads."""
    moves = plan_moves(**kwargs)
    person = sim.user(by)
    await person.send_text("/jadwal")
    await person.wait_for(moves[0].asked)
    summary = await fill_in(person, moves)
    await person.tap(form_texts.BTN_SUBMIT, summary)
    await person.wait_for("terkirim")


async def approve_ahead(sim: BotApiSimulator, approver: int = APPROVER, ref: str = REF) -> None:
    person = sim.user(approver)
    card = await person.wait_for(ref, predicate=lambda m: "TERJADWAL" in m.text and m.buttons)
    await person.tap(approval_texts.BTN_APPROVE, card)
    await sim.user(OFFICER).wait_for("disetujui")


async def stored(services: object, visit_id: int = 1) -> Visit:
    visit = await services.storage.visits.get(visit_id)  # type: ignore[attr-defined]
    assert visit is not None
    return visit


def next_day(clock: FakeClock, hour: int, minute: int = 0) -> None:
    """To 29-11-2026 at this office time (WIB, UTC+7)."""
    clock.now = clock.now.replace(day=29, hour=hour - 7, minute=minute)


async def today_list(sim: BotApiSimulator, by: int = OFFICER):
    person = sim.user(by)
    await person.send_text("/hari_ini")
    return await person.wait_for("Kunjungan terjadwal hari ini")


async def test_planned_visit_from_jadwal_to_the_door(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    officer, escort = sim.user(OFFICER), sim.user(ESCORT)
    await plan(sim)
    visit = await stored(services)
    assert visit.status == VisitStatus.PENDING and visit.planned and visit.ktp_file_id == ""
    assert visit.plan is not None and visit.plan.window == WINDOW
    assert visit.plan.day.isoformat() == "2026-11-29"

    # The section head decides now, on the same card, marked as planned with the day.
    card = await sim.user(APPROVER).wait_for("TERJADWAL")
    assert "Minggu, 29-11-2026, 09:00-12:00" in card.text_or_caption
    assert card.photo_bytes is None  # no KTP photo yet
    await sim.user(APPROVER).tap(approval_texts.BTN_APPROVE, card)
    notice = await officer.wait_for("disetujui")
    assert "/hari_ini" in notice.text_or_caption
    await idle(app, sim)
    visit = await stored(services)
    assert visit.status == VisitStatus.SCHEDULED and visit.valid_until is None
    decided = await sim.user(APPROVER2).wait_for("DISETUJUI")
    assert "TERJADWAL" in decided.text_or_caption and not decided.buttons
    assert not [m for m in officer.bot_messages if m.document_name]  # no badge before the day

    # On the day, within the window: listed, opened, the KTP photo, the check, the badge.
    next_day(clock, 9, 5)
    listed = await today_list(sim)
    assert "09:00-12:00" in listed.text_or_caption and "Ayu Lestari" in listed.text_or_caption
    await officer.tap(BUTTON, listed)
    await officer.wait_for("foto KTP")
    # Text where the photo is asked: the form's own answer, nothing stored.
    db = await watch(app, sim)
    await officer.send_text("sudah saya cek")
    await officer.wait_for(form_texts.plain(form_texts.WANT_PHOTO)[:30])
    await idle(app, sim)
    await db.unchanged()
    clock.advance(minutes=2)
    await officer.send_photo(ktp_image("BURAM"))
    check = await officer.wait_for("Cocokkan KTP dengan orangnya")
    assert "3508**********02" in check.text_or_caption
    # A blurred photo is taken again: back to the check.
    await officer.tap(plan_texts.BTN_RETAKE, check)
    retake = await officer.wait_for("foto KTP")
    # Typed (a photo): no buttons; /kembali leads back to the check, /batal closes it.
    assert not retake.buttons and form_texts.GO_BACK in retake.text_or_caption
    await officer.send_text("/kembali")
    check = await officer.wait_for("Cocokkan KTP dengan orangnya")
    await officer.tap(plan_texts.BTN_RETAKE, check)
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    check = await officer.wait_for("Cocokkan KTP dengan orangnya")
    clock.advance(minutes=1)
    await officer.tap(plan_texts.BTN_ISSUE, check)
    await officer.wait_for(predicate=lambda m: m.document_name is not None)
    await officer.wait_for("diterbitkan")
    waiting = await escort.wait_for("menunggu")
    assert "Ayu Lestari" in waiting.text_or_caption
    visit = await stored(services)
    assert visit.status == VisitStatus.APPROVED and visit.ktp_file_id
    assert visit.arrived_at is not None and visit.checked_at is not None
    assert visit.checked_at - visit.arrived_at == timedelta(minutes=3)
    # The KTP photo taken on the day is kept encrypted like a walk-in's (bot/flows/ktp.py).
    for _ in range(50):
        if await services.storage.privacy.ktp_path(1) is not None:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.1)
    assert await services.storage.privacy.ktp_path(1) == "ktp/1.ktp"  # type: ignore[attr-defined]

    # The time standards count from arrival: the form and the decision, taken ahead, are not
    # measured; the recording step is the check at the desk.
    timings = {t.step: t for t in measure(visit, services.config.standards)}  # type: ignore[attr-defined]
    assert timings[Step.FORM].duration is None and timings[Step.DECISION].duration is None
    assert timings[Step.RECORDING].duration == timedelta(minutes=3)
    assert not any(t.breached for t in timings.values())

    # The badge works at the door like any other.
    await scan(sim, badge_link(sim))
    await escort.tap("MASUK")
    await officer.wait_for("masuk")
    assert (await stored(services)).status == VisitStatus.INSIDE

    # Planned vs walk-in in the access log's notes, as /riwayat shows them.
    await officer.send_text("/riwayat 3508015507900002")
    history = await officer.wait_for("Ayu Lestari")
    assert "Terjadwal 29-11-2026 09:00-12:00" in history.text_or_caption
    no_generic_error(sim)


async def test_bad_plans_are_refused_and_change_nothing(
    sim: BotApiSimulator, app: object, services: object
) -> None:
    officer = sim.user(OFFICER)
    moves = plan_moves()
    words = form_texts.FIELDS
    for field, typed, says in [
        ("planned_date", "31-02-2026", words["planned_date"].invalid),
        ("planned_date", "besok pagi", words["planned_date"].invalid),
        ("planned_date", "27-11-2026", "sudah lewat"),
        ("planned_date", "01-06-2027", "paling lama"),
        ("window", "9-12", words["window"].invalid),
        ("window", "25:00-26:00", words["window"].invalid),
        ("window", "12:00-09:00", "setelah jam mulai"),
    ]:
        await officer.send_text("/jadwal")
        await officer.wait_for(moves[0].asked)
        if field == "window":
            await officer.send_text(TOMORROW)
            await officer.wait_for(moves[1].asked)
        await idle(app, sim)
        db = await watch(app, sim)
        await officer.send_text(typed)
        await officer.wait_for(says.split(".")[0])
        await idle(app, sim)
        await db.unchanged()
        if field == "window":  # the next case starts on a form of its own
            await officer.send_text("/batal")
            await officer.wait_for("Jadwal kunjungan dibatalkan")
    # The right answers move on.
    await officer.send_text("/jadwal")
    await officer.wait_for(moves[0].asked)
    await officer.send_text(TOMORROW)
    await officer.wait_for(moves[1].asked)
    await officer.send_text(WINDOW)
    await officer.wait_for(moves[2].asked)
    no_generic_error(sim)


async def test_today_with_a_window_already_over_cannot_be_sent(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    """Planned for today (09:00 WIB now) with a window that ended at 08:00: the summary
    refuses to send it, and nothing is stored."""
    officer = sim.user(OFFICER)
    moves = plan_moves(day="28-11-2026", window="06:00-08:00")
    await officer.send_text("/jadwal")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves)
    db = await watch(app, sim)
    tap = await officer.tap(form_texts.BTN_SUBMIT, summary)
    await idle(app, sim)
    assert tap.answer is not None and "sudah lewat" in (tap.answer.text or "")
    await db.unchanged()
    assert await services.storage.visits.with_status(VisitStatus.PENDING) == []  # type: ignore[attr-defined]


async def test_not_approved_or_outside_the_window_cannot_be_opened(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    officer = sim.user(OFFICER)
    await plan(sim)
    await sim.user(APPROVER).wait_for("TERJADWAL")
    await idle(app, sim)

    # Still pending on the day: listed with ⏳, and opening it is refused.
    next_day(clock, 9, 30)
    await officer.send_text("/menunggu")
    waiting = await officer.wait_for("Menunggu keputusan")
    assert "terjadwal Minggu, 29-11-2026" in waiting.text_or_caption
    assert "melewati standar" not in waiting.text_or_caption  # a day old, decided ahead
    listed = await today_list(sim)
    assert "⏳" in listed.text_or_caption
    db = await watch(app, sim)
    await officer.tap(BUTTON, listed)
    await officer.wait_for("belum disetujui")
    await idle(app, sim)
    await db.unchanged()

    # Approved now; too early (before 09:00 less the 30 minutes' grace): refused.
    await approve_ahead(sim)
    await idle(app, sim)
    next_day(clock, 8, 0)
    listed = await today_list(sim)
    db = await watch(app, sim)
    await officer.tap(BUTTON, listed)
    await officer.wait_for("belum waktunya")
    await idle(app, sim)
    await db.unchanged()

    # Within the grace before the window: opens (and is left by /batal, nothing stored).
    next_day(clock, 8, 40)
    db = await watch(app, sim)
    await officer.tap(BUTTON, listed)
    photo = await officer.wait_for("foto KTP")
    assert not photo.buttons and photo.text_or_caption.endswith(form_texts.CANCEL_COMMAND)
    await officer.send_text("/batal")
    await officer.wait_for("tidak dibuka")
    await idle(app, sim)
    await db.unchanged()

    # Past the window and its grace: the sweep lets it expire (the officer is told), and a
    # tap on the old list is refused without changing anything more.
    next_day(clock, 12, 31)
    assert await workflow.expire_overdue(services) == 1  # type: ignore[arg-type]
    await officer.wait_for("lewat tanpa pengunjung datang")
    await idle(app, sim)
    db = await watch(app, sim)
    await officer.tap(BUTTON, listed)
    await officer.wait_for("sudah lewat")
    await idle(app, sim)
    await db.unchanged()
    assert (await stored(services)).status == VisitStatus.EXPIRED
    empty = await officer.send_text("/hari_ini")
    assert empty and (await officer.wait_for(plan_texts.NOTHING_TODAY[:20]))
    no_generic_error(sim)


async def test_the_window_closing_while_the_photo_is_taken_refuses_the_badge(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    officer = sim.user(OFFICER)
    await plan(sim)
    await approve_ahead(sim)
    next_day(clock, 12, 25)
    listed = await today_list(sim)
    await officer.tap(BUTTON, listed)
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    check = await officer.wait_for("Cocokkan KTP")
    next_day(clock, 12, 35)
    await officer.tap(plan_texts.BTN_ISSUE, check)
    await officer.wait_for("sudah lewat")
    await idle(app, sim)
    visit = await stored(services)
    assert visit.status == VisitStatus.EXPIRED and visit.checked_at is None
    assert not [m for m in officer.bot_messages if m.document_name]
    no_generic_error(sim)


async def test_strangers_and_other_roles_are_refused(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    await plan(sim)
    await approve_ahead(sim)
    await idle(app, sim)
    next_day(clock, 9, 30)
    for person, command, says in [
        (STRANGER, "/jadwal", "hanya untuk petugas"),
        (STRANGER, "/hari_ini", "hanya untuk petugas"),
        (ESCORT, "/jadwal", plan_texts.ONLY_PLANNERS),
        (ESCORT, "/hari_ini", plan_texts.ONLY_PLANNERS),
    ]:
        db = await watch(app, sim)
        await sim.user(person).send_text(command)
        await sim.user(person).wait_for(says)
        await idle(app, sim)
        await db.unchanged(new_audit=["stranger_refused"] if person == STRANGER else ())

    # A section head sees today's list, but the KTP at the desk is the officer's.
    listed = await today_list(sim, APPROVER)
    db = await watch(app, sim)
    tap = await sim.user(APPROVER).tap(BUTTON, listed)
    await idle(app, sim)
    assert tap.answer is not None and tap.answer.text == common_texts.ONLY_OFFICER
    await db.unchanged()
    no_generic_error(sim)


async def test_a_section_head_plans_and_another_decides(
    sim: BotApiSimulator, app: object, services: object
) -> None:
    """Four eyes holds for planned visits: the planner's own card cannot approve it."""
    await plan(sim, by=APPROVER)
    card = await sim.user(APPROVER2).wait_for("TERJADWAL")
    await idle(app, sim)
    own = [m for m in sim.user(APPROVER).bot_messages if "TERJADWAL" in m.text_or_caption]
    if own:
        tap = await sim.user(APPROVER).tap(approval_texts.BTN_APPROVE, own[-1])
        await idle(app, sim)
        assert tap.answer is not None and tap.answer.text == approval_texts.OWN_REQUEST
    await sim.user(APPROVER2).tap(approval_texts.BTN_APPROVE, card)
    await idle(app, sim)
    told = [m for m in sim.user(APPROVER).bot_messages if "✅ Kunjungan terjadwal" in m.text]
    assert len(told) == 1  # the planner hears it, though not an officer
    assert (await stored(services)).status == VisitStatus.SCHEDULED


async def test_double_taps_open_once_and_issue_one_badge(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    officer = sim.user(OFFICER)
    await plan(sim)
    await approve_ahead(sim)
    next_day(clock, 10, 0)
    listed = await today_list(sim)
    await tap_twice(app, sim, officer, BUTTON, listed, late=False)
    opened = [m for m in officer.bot_messages if "Pengunjung terjadwal datang" in m.text]
    assert len(opened) == 1
    await officer.send_photo(ktp_image())
    check = await officer.wait_for("Cocokkan KTP")
    await tap_twice(app, sim, officer, plan_texts.BTN_ISSUE, check)
    await idle(app, sim)
    assert len([m for m in officer.bot_messages if m.document_name]) == 1
    assert len([m for m in officer.bot_messages if "diterbitkan" in m.text_or_caption]) == 1
    visit = await stored(services)
    assert visit.status == VisitStatus.APPROVED
    # The old list's button, tapped again after the badge was issued: refused, unchanged.
    db = await watch(app, sim)
    await officer.tap(BUTTON, listed)
    await officer.wait_for("sudah dibuka")
    await idle(app, sim)
    await db.unchanged()
    no_generic_error(sim)


async def test_the_day_before_the_officer_and_escorts_are_reminded_once(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    await plan(sim)
    await approve_ahead(sim)
    await idle(app, sim)
    # 28-11 09:00 WIB: before planning.remind_at (15:00), nothing yet.
    await deadlines.check_deadlines(services)  # type: ignore[arg-type]
    await idle(app, sim)
    for person in (OFFICER, ESCORT):
        assert not [m for m in sim.user(person).bot_messages if "Besok" in m.text_or_caption]
    clock.now = clock.now.replace(hour=15 - 7, minute=1)
    await deadlines.check_deadlines(services)  # type: ignore[arg-type]
    await deadlines.check_deadlines(services)  # type: ignore[arg-type]
    await idle(app, sim)
    for person in (OFFICER, ESCORT):
        reminded = [m for m in sim.user(person).bot_messages if "Besok" in m.text_or_caption]
        assert len(reminded) == 1, person
        assert "09:00-12:00" in reminded[0].text_or_caption
        assert "sudah disetujui" in reminded[0].text_or_caption
    assert not [m for m in sim.user(APPROVER).bot_messages if "Besok" in m.text_or_caption]


async def test_a_denied_or_withdrawn_plan_is_not_listed_on_the_day(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    """Denied on its card (edited in place, a text card), or withdrawn by /batalkan after
    approval: /hari_ini has nothing to open."""
    officer, approver = sim.user(OFFICER), sim.user(APPROVER)
    await plan(sim)
    card = await approver.wait_for("TERJADWAL")
    await approver.tap(approval_texts.BTN_DENY, card)
    await approver.wait_for("alasan penolakan")
    await approver.send_text("Jadwal bentrok dengan audit")
    denied = await officer.wait_for("ditolak")
    assert "Jadwal bentrok" in denied.text_or_caption
    edited = await sim.user(APPROVER2).wait_for("DITOLAK")
    assert "TERJADWAL" in edited.text_or_caption
    assert (await stored(services)).status == VisitStatus.DENIED

    await plan(sim)
    await approve_ahead(sim, ref="KRS-2026-00002")
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    await officer.tap("KRS-2026-00002", listed)
    await officer.wait_for("alasan pembatalan")
    await officer.send_text("Vendor menunda")
    await officer.wait_for("dibatalkan")
    await idle(app, sim)
    assert (await stored(services, 2)).status == VisitStatus.CANCELLED
    next_day(clock, 10)
    await officer.send_text("/hari_ini")
    await officer.wait_for(plan_texts.NOTHING_TODAY[:30])
    no_generic_error(sim)


async def test_an_undecided_plan_is_also_a_reminder_to_the_section_heads(
    sim: BotApiSimulator, app: object, services: object, clock: FakeClock
) -> None:
    await plan(sim)
    await idle(app, sim)
    clock.now = clock.now.replace(hour=16 - 7)
    await deadlines.check_deadlines(services)  # type: ignore[arg-type]
    await idle(app, sim)
    for person in (OFFICER, ESCORT, APPROVER, APPROVER2):
        reminded = [m for m in sim.user(person).bot_messages if "Besok" in m.text_or_caption]
        assert len(reminded) == 1, person
        assert "BELUM disetujui" in reminded[0].text_or_caption
