"""The officer withdraws a request (/batalkan): pending or approved and unused, with a reason;
the cards, the badge and the door follow; every refusal leaves the database as it was."""

from __future__ import annotations

import asyncio
import io
import sqlite3

from openpyxl import load_workbook
from pypdf import PdfReader

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.app.services import Services
from bot.core.fields import REASON_MAX
from bot.core.nik import mask_nik
from bot.core.period import Period
from bot.core.roles import Role
from bot.core.visits import VisitStatus
from bot.reports.export import load_access_log, render
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from simulator.message import SimMessage
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_e2e_door import phone_photo
from tests.flows import (
    NIK_MAN,
    NIK_WOMAN,
    Visitor,
    approve,
    badge_link,
    fill_in,
    ktp_image,
    register,
    scan,
)

REF = "KRS-2026-00001"
REASON = "Pengunjung tidak jadi datang <b>hari ini</b>"


async def visit_of(services: Services, visit_id: int = 1) -> object:
    visit = await services.storage.visits.get(visit_id)
    assert visit is not None
    return visit


async def choose(sim: BotApiSimulator, officer_id: int = OFFICER) -> SimMessage:
    """/batalkan, then the first request in the list tapped; returns the reason prompt."""
    officer = sim.user(officer_id)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    await officer.tap(REF, listed)
    return await officer.wait_for("alasan pembatalan")


async def cancel(sim: BotApiSimulator, reason: str = REASON, officer_id: int = OFFICER) -> None:
    await choose(sim, officer_id)
    officer = sim.user(officer_id)
    await officer.send_text(reason)
    await officer.wait_for("dibatalkan")


def keys(path: object) -> list[str]:
    """Every outbox key, in order (read beside the bot, like tests/dbstate.py)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT key FROM outbox ORDER BY id")]
    finally:
        db.close()


async def test_cancel_a_pending_request_from_the_list(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    for person in (APPROVER, APPROVER2):
        await sim.user(person).wait_for("Permintaan akses ruang server")
    officer = sim.user(OFFICER)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    assert listed.buttons == [[f"⏳ {REF} · Ayu Lestari"]]
    await officer.tap(REF, listed)
    prompt = await officer.wait_for("alasan pembatalan")
    assert prompt.buttons == [["↩ Tidak jadi"]] and "dinonaktifkan" not in prompt.text
    assert (await visit_of(services)).status == VisitStatus.PENDING  # nothing decided yet
    await officer.send_text(REASON)
    done = await officer.wait_for("dibatalkan")
    assert REF in done.text and REASON in done.text and "Badge" not in done.text
    for person in (APPROVER, APPROVER2):
        card = await sim.user(person).wait_for("DIBATALKAN oleh Sari Petugas")
        assert card.buttons == [] and f"Alasan: {REASON}" in card.text_or_caption
        assert "Disetujui oleh" not in card.text_or_caption
    visit = await visit_of(services)
    assert visit.status == VisitStatus.CANCELLED
    assert (visit.cancelled_by, visit.cancel_reason) == (OFFICER, REASON)
    (event,) = [e for e in await services.storage.audit.events(1) if e.action == "cancel"]
    assert (event.actor_id, event.from_status, event.to_status, event.detail) == (
        OFFICER,
        "pending",
        "cancelled",
        "",
    )
    await sim.settle()
    # Nothing for the door, nothing new for the approvers beyond their card.
    assert sim.user(ESCORT).bot_messages == []
    assert [k.split(":")[0] for k in keys(services.config.database_path)] == [
        "card",
        "card",
        "card_cancelled",
        "card_cancelled",
    ]
    # An approver's card on a slow phone still shows Setujui: the tap changes nothing.
    db = await watch(app, sim)
    card = next(m for m in sim.user(APPROVER).bot_messages if "Permintaan akses" in m.caption)
    late = await sim.user(APPROVER).send_callback(card, "v1:ok:1")
    await sim.settle()
    assert late.answer is not None and "Dibatalkan" in late.answer.text
    await db.unchanged()


async def test_cancel_an_approved_request_kills_its_badge(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    officer = sim.user(OFFICER)
    photo = next(m for m in officer.bot_messages if m.photo_bytes and "Kode manual" in m.caption)
    pdf = next(m for m in officer.bot_messages if (m.document_name or "").endswith(".pdf"))
    code = photo.caption.rsplit(" ", 1)[1]
    waiting = await sim.user(ESCORT).wait_for("Pengunjung menunggu")
    assert waiting.buttons == [["🔎 Buka kunjungan"]]
    await officer.send_text(f"/batalkan {REF.lower()}")  # typed, straight to the reason
    prompt = await officer.wait_for("alasan pembatalan")
    assert "dinonaktifkan" in prompt.text
    await officer.send_text("Salah tanggal, datang besok")
    done = await officer.wait_for("dibatalkan")
    assert "Badge-nya sudah dinonaktifkan" in done.text
    # The badge photo and the PDF, as delivered, now say they are void.
    await officer.wait_for("BADGE TIDAK BERLAKU", predicate=lambda m: m is photo)
    await officer.wait_for("BADGE TIDAK BERLAKU", predicate=lambda m: m is pdf)
    assert "Salah tanggal, datang besok" in photo.caption and photo.edit_count == 1
    for person in (APPROVER, APPROVER2):
        card = await sim.user(person).wait_for("DIBATALKAN oleh Sari Petugas")
        assert "Disetujui oleh Budi Kasi" in card.caption and card.buttons == []
    # The escort told that the visitor waits is told not to fetch them: the same message,
    # its button gone, the visitor's name and the reason too.
    await sim.user(ESCORT).wait_for("Tidak perlu dijemput", predicate=lambda m: m is waiting)
    assert waiting.buttons == [] and waiting.edit_count == 1
    assert REF in waiting.text and "Sari Petugas" in waiting.text
    assert "Ayu" not in waiting.text and "Salah tanggal" not in waiting.text
    path = services.config.database_path
    with sqlite3.connect(path) as raw:
        (revoked,) = raw.execute("SELECT revoked_at FROM badges").fetchone()
    assert revoked is not None
    events = await services.storage.audit.events(1)
    assert [(e.action, e.detail) for e in events if e.action == "cancel"] == [
        ("cancel", "badge revoked")
    ]
    # At the door: by QR, by the typed code and by a photo, each refused and audited.
    db = await watch(app, sim)
    escort = sim.user(ESCORT)
    await escort.open_link(link)
    reply = await escort.wait_for("dibatalkan")
    assert reply.buttons == [] and "Ayu" not in reply.text
    await escort.send_text(f"/kode {code}")
    await escort.wait_for("dibatalkan")
    await escort.send_photo(phone_photo(photo.photo_bytes or b""))
    await escort.wait_for("dibatalkan")
    await db.unchanged(new_audit=["badge_cancelled"] * 3)
    assert (await visit_of(services)).status == VisitStatus.CANCELLED


async def test_a_badge_message_that_is_gone_is_not_retried(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    officer = sim.user(OFFICER)
    photo = next(m for m in officer.bot_messages if m.photo_bytes and "Kode manual" in m.caption)
    photo.deleted = True  # the officer deleted it: Telegram answers "message to edit not found"
    await cancel(sim)
    await sim.settle()
    await services.delivery.wait_idle()
    counts = await services.storage.outbox.counts()
    assert counts.get("pending", 0) == 0 and counts["failed"] == 1


async def test_the_escorts_old_entry_button_is_refused_after_a_cancel(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim))
    escort = sim.user(ESCORT)
    view = escort.bot_messages[-1]
    assert view.buttons == [["✅ Catat MASUK"]]
    await cancel(sim)
    db = await watch(app, sim)
    tap = await escort.tap("Catat MASUK", view)
    await sim.settle()
    assert tap.answer is not None and "Status: Dibatalkan" in tap.answer.text  # type: ignore[union-attr]
    assert view.buttons == []
    await db.unchanged()
    assert (await visit_of(services)).status == VisitStatus.CANCELLED


async def test_who_may_cancel_what(sim: BotApiSimulator, app: object, services: Services) -> None:
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim))
    await sim.user(ESCORT).tap("Catat MASUK")
    await sim.user(ESCORT).wait_for("MASUK tercatat")
    await register(sim, Visitor(nik=NIK_MAN, name="Bayu Aji"))
    officer = sim.user(OFFICER)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    # The visit inside is not offered.
    assert listed.buttons == [["⏳ KRS-2026-00002 · Bayu Aji"]]
    db = await watch(app, sim)
    # Not an officer: refused by the policy, by command and by a forged tap.
    for person in (ESCORT, APPROVER):
        user = sim.user(person)
        await user.send_text("/batalkan")
        await user.wait_for("khusus untuk Petugas")
        await user.send_text(f"/batalkan {REF}")
        await user.wait_for("khusus untuk Petugas")
        own = user.bot_messages[-1]
        forged = await user.send_callback(own, "v1:cx:2")
        await sim.settle()
        assert forged.answer is not None and "khusus untuk Petugas" in forged.answer.text
    # Unknown, mistyped, another year's, and the visit already inside.
    for typed in ("KRS-2026-00999", "abc", "KRS-2025-00001", "KRS-2026-1"):
        await officer.send_text(f"/batalkan {typed}")
        await officer.wait_for("Tidak ada permintaan dengan nomor Ref")
    await officer.send_text(f"/batalkan {REF}")
    await officer.wait_for("tidak bisa dibatalkan lagi. Status: Di dalam ruang server")
    # Stale or forged buttons: out of range, not a number, no such visit, a visit inside.
    for data in ("v1:cx:0", "v1:cx:abc", "v1:cx:999999", "v1:cx:1000000000000"):
        tap = await officer.send_callback(listed, data)
        await sim.settle()
        assert tap.answer is not None and "tidak berlaku" in tap.answer.text
    tap = await officer.send_callback(listed, "v1:cx:1")
    await sim.settle()
    assert tap.answer is not None and "Di dalam ruang server" in tap.answer.text
    stale = await officer.send_callback(listed, "v1:cxn:2")
    await sim.settle()
    assert stale.answer is not None and "tidak berlaku" in stale.answer.text
    await db.unchanged()
    assert [v.status for v in await services.storage.visits.with_status(*VisitStatus)] == [
        VisitStatus.INSIDE,
        VisitStatus.PENDING,
    ]


async def test_nothing_to_cancel(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    await sim.user(OFFICER).send_text("/batalkan")
    await sim.user(OFFICER).wait_for("Tidak ada permintaan yang bisa dibatalkan")
    await db.unchanged()


async def test_a_reason_that_is_no_reason_and_changing_ones_mind(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    officer = sim.user(OFFICER)
    db = await watch(app, sim)
    prompt = await choose(sim)
    await officer.send_text("x" * (REASON_MAX + 1))
    await officer.wait_for("terlalu panjang")
    await officer.send_photo(ktp_image())
    await officer.wait_for("harus berupa kata-kata")
    await officer.send_text("😀")  # an emoji is no reason
    await officer.wait_for("harus berupa kata-kata")
    await officer.tap("Tidak jadi", prompt)
    await officer.wait_for("Tidak jadi dibatalkan")
    await db.unchanged()
    # Another command while the reason is awaited stops the cancel: what is typed next is
    # never taken for a reason.
    await choose(sim)
    await officer.send_text("/aktif")
    await officer.wait_for("tidak dilanjutkan")
    await officer.send_text("Ganti jadwal")  # free text outside any flow: a guide
    await officer.wait_for("Pilih perintah dari menu")
    await db.unchanged()
    assert (await visit_of(services)).status == VisitStatus.PENDING


async def test_double_taps_and_two_officers_at_once(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await services.storage.staff.set_roles(
        ADMIN, frozenset({Role.ADMIN, Role.OFFICER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await register(sim)
    officer, second = sim.user(OFFICER), sim.user(ADMIN)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    data = listed.callback_data(REF)
    await asyncio.gather(officer.send_callback(listed, data), officer.send_callback(listed, data))
    await sim.settle()
    prompts = [m for m in officer.bot_messages if "alasan pembatalan" in m.text_or_caption]
    assert len(prompts) == 1  # the second tap only reminds
    await choose(sim, ADMIN)
    # Both type their reason at the same moment: exactly one cancel.
    await asyncio.gather(officer.send_text("Tidak datang"), second.send_text("Salah tanggal"))
    await sim.settle()
    answers = [m.text or "" for user in (officer, second) for m in user.bot_messages]
    assert sum("dibatalkan.\nAlasan" in a for a in answers) == 1
    assert sum("tidak bisa dibatalkan lagi. Status: Dibatalkan" in a for a in answers) == 1
    events = await services.storage.audit.events(1)
    assert [e.action for e in events].count("cancel") == 1
    visit = await visit_of(services)
    winner = visit.cancelled_by
    if winner == ADMIN:  # another officer withdrew it: the registrant is told
        await officer.wait_for("yang Anda daftarkan dibatalkan oleh Admin TI", since=0)
    await sim.settle()
    for person in (APPROVER, APPROVER2):
        cards = [m for m in sim.user(person).bot_messages if "DIBATALKAN" in m.caption]
        assert len(cards) == 1
    # The list's button, tapped again later, changes nothing.
    db = await watch(app, sim)
    again = await officer.send_callback(listed, data)
    await sim.settle()
    assert again.answer is not None and "Status: Dibatalkan" in again.answer.text
    await db.unchanged()


async def test_an_open_form_waits_while_a_request_is_cancelled(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    moves = Visitor(nik=NIK_MAN, name="Bayu Aji").script()
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[:2])
    await cancel(sim)
    await officer.wait_for("masih tersimpan")
    await officer.wait_for(moves[1].then)
    summary = await fill_in(officer, moves[2:])
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")
    visit = await visit_of(services, 2)
    assert (visit.name, visit.status) == ("Bayu Aji", VisitStatus.PENDING)
    assert (await visit_of(services)).status == VisitStatus.CANCELLED


async def test_a_restart_between_the_tap_and_the_reason_loses_nothing(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await register(sim)
        await choose(sim)
        await stop_polling(app)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        officer = sim.user(OFFICER)
        await officer.send_text("Pengunjung sakit")
        await officer.wait_for("dibatalkan")
        visit = await app.bot_data.storage.visits.get(1)  # type: ignore[attr-defined]
        assert visit.status == VisitStatus.CANCELLED and visit.cancel_reason == "Pengunjung sakit"
    finally:
        await stop_polling(app)


async def test_reports_show_the_cancel_and_its_reason(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    await cancel(sim, "Salah tanggal")
    officer = sim.user(OFFICER)
    await officer.send_text("/laporan")
    await officer.wait_for("Pilih periode")
    await officer.tap("Hari ini")
    xlsx = await officer.wait_for(
        predicate=lambda m: (m.document_name or "").endswith(".xlsx"), timeout=60
    )
    pdf = await officer.wait_for(
        predicate=lambda m: (
            (m.document_name or "").startswith("laporan") and m.document_name.endswith(".pdf")
        )
    )
    assert xlsx.document_bytes is not None and pdf.document_bytes is not None
    rows = list(
        load_workbook(io.BytesIO(xlsx.document_bytes))["Log akses"].iter_rows(values_only=True)
    )
    col = {title: i for i, title in enumerate(rows[0])}
    (row,) = rows[1:]
    assert row[col["Status"]] == "Dibatalkan"
    assert row[col["Disetujui oleh"]] == "Budi Kasi"  # it was approved before the cancel
    assert row[col["Catatan"]] == "Dibatalkan oleh Sari Petugas, 28-11 09:00: Salah tanggal"
    reader = PdfReader(io.BytesIO(pdf.document_bytes))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # A line under the visit's row, whole (no longer a narrow column that wrapped it).
    assert "Catatan: Dibatalkan oleh Sari Petugas, 28-11 09:00: Salah tanggal" in text
    for page in reader.pages:  # A4 landscape, as before
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            842,
            595,
        )
    day = clock.now.astimezone(services.config.timezone).date()
    log = await load_access_log(services.storage, services.config, Period(day, day), clock.now)
    csv_text = render(log, "csv").decode("utf-8-sig")
    assert "Dibatalkan oleh Sari Petugas, 28-11 09:00: Salah tanggal" in csv_text
    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Riwayat kunjungan")
    assert "Dibatalkan oleh Sari Petugas, 28-11 09:00: Salah tanggal" in history.text


async def test_a_deny_reason_typed_after_the_cancel_decides_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    approver = sim.user(APPROVER)
    await approver.wait_for("Permintaan akses ruang server")
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    await cancel(sim)
    await approver.wait_for("DIBATALKAN oleh Sari Petugas")
    await approver.send_text("Tidak ada jadwal")
    await approver.wait_for("sudah diputuskan: Dibatalkan")
    # Only the approver's prompt closed (its conversation state): no decision, no event.
    events = await services.storage.audit.events(1)
    assert [e.action for e in events] == ["submit", "cancel"]
    visit = await visit_of(services)
    assert visit.status == VisitStatus.CANCELLED and visit.deny_reason is None


async def test_a_nik_typed_into_the_reason_is_masked_on_the_approvers_card(
    sim: BotApiSimulator, app: object
) -> None:
    """The cancelled card is a caption under the KTP photo: like the decided card, it never
    shows a NIK in full, even one typed into the reason (docs/privacy.md)."""
    await register(sim)
    await cancel(sim, reason=f"Salah orang, NIK {NIK_WOMAN} bukan yang dijadwalkan")
    card = await sim.user(APPROVER).wait_for("DIBATALKAN oleh Sari Petugas")
    assert NIK_WOMAN not in card.caption
    assert f"NIK {mask_nik(NIK_WOMAN)} bukan yang dijadwalkan" in card.caption


async def test_only_the_open_question_of_a_cancel_has_live_buttons(
    sim: BotApiSimulator, app: object
) -> None:
    """The list loses its buttons once a request is picked, the reason prompt its "Tidak
    jadi" once the reason is in, or once another command interrupts it (issue 12)."""
    await register(sim)
    await register(sim, Visitor(nik=NIK_MAN, name="Bayu Aji"))
    officer = sim.user(OFFICER)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    await officer.tap(REF, listed)
    prompt = await officer.wait_for("alasan pembatalan")
    await sim.settle()
    assert listed.buttons == [] and prompt.buttons == [["↩ Tidak jadi"]]
    await officer.send_text(REASON)
    await officer.wait_for("dibatalkan")
    await sim.settle()
    assert prompt.buttons == []
    assert [m for m in officer.bot_messages if m.buttons] == []

    await officer.send_text("/batalkan KRS-2026-00002")
    prompt = await officer.wait_for("alasan pembatalan KRS-2026-00002")
    await officer.send_text("/aktif")  # another command: the cancel stops here
    await officer.wait_for("tidak dilanjutkan")
    await sim.settle()
    assert prompt.buttons == []
