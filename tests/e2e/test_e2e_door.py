"""At the door: scans by the wrong people, forged, expired and reused badges, fallbacks."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from bot.app.services import Services
from bot.core.tokens import deep_link, new_credentials
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import (
    ADMIN,
    APPROVER,
    APPROVER2,
    BOT_USERNAME,
    ESCORT,
    OFFICER,
    STRANGER,
    FakeClock,
)
from tests.dbstate import watch
from tests.flows import Visitor, approve, badge_link, register, scan


async def approved(sim: BotApiSimulator) -> str:
    await register(sim)
    await approve(sim)
    return badge_link(sim)


async def visit_status(services: Services) -> VisitStatus:
    for status in VisitStatus:
        if await services.storage.visits.with_status(status):
            return status
    raise AssertionError("no visit")


def phone_photo(png: bytes) -> bytes:
    """The badge as a phone camera sees it: on a desk, tilted, soft, JPEG."""
    badge = Image.open(io.BytesIO(png)).convert("RGB")
    desk = Image.new("RGB", (1100, 1400), (120, 110, 100))
    desk.paste(badge, (200, 180))
    photo = desk.rotate(10, fillcolor=(120, 110, 100)).filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    photo.resize((825, 1050)).save(out, "JPEG", quality=70)
    return out.getvalue()


async def test_stranger_scanning_a_badge_learns_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await approved(sim)
    db = await watch(app, sim)
    stranger = sim.user(STRANGER)
    await stranger.open_link(link)
    reply = await stranger.wait_for("ID Telegram Anda")
    assert str(STRANGER) in reply.text_or_caption
    assert "Ayu" not in reply.text_or_caption and "KRS" not in reply.text_or_caption
    assert reply.buttons == []
    assert await visit_status(services) == VisitStatus.APPROVED
    events = await services.storage.audit.events()
    assert any(e.action == "stranger_refused" and e.actor_id == STRANGER for e in events)
    await db.unchanged(new_audit=["stranger_refused"])


async def test_forged_and_foreign_tokens_are_refused_and_audited(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await approved(sim)
    db = await watch(app, sim)
    escort = sim.user(ESCORT)
    foreign = new_credentials(b"another-deployment-secret-0123456789", 1).token
    for token in ("A" * 38, foreign, "abc"):
        await escort.open_link(deep_link(BOT_USERNAME, token))
        reply = await escort.wait_for("tidak dikenal atau palsu")
        assert reply.buttons == []
    await escort.send_text("/start <script>")  # not even token-shaped
    await escort.wait_for("tidak dikenal atau palsu")
    assert await visit_status(services) == VisitStatus.APPROVED
    events = [e.action for e in await services.storage.audit.events()]
    assert events.count("badge_unknown") == 4
    # One alert per approver: one per person per FORGED_ALERT_GAP (bot.core.tokens).
    await db.unchanged(
        new_audit=["badge_unknown"] * 4 + ["forged_alert"], new_outbox=["forged"] * 2
    )


async def test_expired_badge_is_refused_and_the_officer_told(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    link = await approved(sim)
    clock.advance(minutes=60 + 30 + 1)  # entry window + planned duration
    escort = sim.user(ESCORT)
    await escort.open_link(link)
    reply = await escort.wait_for("kedaluwarsa")
    assert reply.buttons == []
    await sim.user(OFFICER).wait_for("kedaluwarsa sebelum dipakai")
    assert await visit_status(services) == VisitStatus.EXPIRED


async def test_expiry_sweep_needs_no_scan(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await approved(sim)
    clock.advance(hours=3)
    waiting = await sim.user(ESCORT).wait_for("Pengunjung menunggu")
    (job,) = [j for j in app.job_queue.jobs() if j.name == "_expiry_sweep"]  # type: ignore[attr-defined]
    await job.run(app)
    await sim.user(OFFICER).wait_for("kedaluwarsa sebelum dipakai")
    assert await visit_status(services) == VisitStatus.EXPIRED
    # The escort told the visitor waits is told nobody needs fetching, the button gone.
    await sim.user(ESCORT).wait_for("Tidak perlu dijemput", predicate=lambda m: m is waiting)
    assert "kedaluwarsa" in waiting.text and waiting.buttons == []


async def test_a_request_nobody_decided_by_the_end_of_its_day_is_closed(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """A walk-in's visitor does not wait at the desk overnight: a request still undecided at
    local midnight is closed, every card says so, the officer is told, and a tap on Setujui
    the next morning issues no badge (even before the sweep has run)."""
    await register(sim)
    head = sim.user(APPROVER)
    card = await head.wait_for("Permintaan akses ruang server")
    assert "Diajukan: 28-11-2026 09:0" in card.caption  # its date, not only the time
    clock.advance(hours=15)  # 09:00 WIB -> 00:00 the next day
    tap = await head.tap("Setujui", card)
    await sim.settle()
    assert await visit_status(services) == VisitStatus.EXPIRED
    # Nobody decided it, and no badge ever existed: the tap is told so, not "decided".
    assert tap.answer is not None and tap.answer.text is not None
    assert "tidak diputuskan sampai batas waktunya" in tap.answer.text
    assert "diputuskan:" not in tap.answer.text and "Badge" not in tap.answer.text
    for person in (APPROVER, APPROVER2):
        lapsed = await sim.user(person).wait_for("KEDALUWARSA")
        assert lapsed.buttons == []
    await sim.user(OFFICER).wait_for("tidak diputuskan Kepala Seksi sampai batas waktunya")
    assert not any(m.photo_bytes and "Badge" in m.caption for m in sim.user(OFFICER).bot_messages)
    events = [e.action for e in await services.storage.audit.events(1)]
    assert "expire" in events and "approve" not in events


async def test_the_sweep_closes_an_undecided_request_at_midnight_not_before(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await register(sim)
    (job,) = [j for j in app.job_queue.jobs() if j.name == "_expiry_sweep"]  # type: ignore[attr-defined]
    clock.advance(hours=14, minutes=59)  # 23:59 WIB on the day it was submitted
    await job.run(app)
    assert await visit_status(services) == VisitStatus.PENDING
    clock.advance(minutes=1)
    await job.run(app)
    await sim.user(APPROVER).wait_for("KEDALUWARSA")
    assert await visit_status(services) == VisitStatus.EXPIRED


async def test_manual_code_and_badge_photo_work_like_a_scan(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await approved(sim)
    officer = sim.user(OFFICER)
    badge = next(m for m in officer.bot_messages if m.photo_bytes and "Kode manual" in m.caption)
    code = badge.caption.rsplit(" ", 1)[1]
    escort = sim.user(ESCORT)
    await escort.send_text(f"/kode {code.lower()}")
    view = await escort.wait_for("Badge pengunjung")
    assert view.buttons == [["✅ Catat MASUK"]]
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    # The badge photographed and sent "as File" (an image document): read like a photo.
    await escort.send_document(phone_photo(badge.photo_bytes), "IMG_0042.jpg", "image/jpeg")
    view = await escort.wait_for("Badge pengunjung")
    assert view.buttons == [["✅ Perangkat sesuai", "⚠️ Ada selisih"]]
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")
    assert await visit_status(services) == VisitStatus.DONE
    db = await watch(app, sim)
    await escort.send_text(f"/keluar {code}")
    await escort.wait_for("sudah tidak berlaku")
    await db.unchanged(new_audit=["badge_finished"])


async def test_bad_codes_and_unreadable_photos(sim: BotApiSimulator, app: object) -> None:
    await approved(sim)
    db = await watch(app, sim)
    escort = sim.user(ESCORT)
    await escort.send_text("/kode")
    await escort.wait_for("tercetak di bawah QR")
    await escort.send_text("/kode 12")
    await escort.wait_for("Format kode salah")
    await escort.send_text("/kode ABCD-EFGH")
    await escort.wait_for("tidak dikenal")
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, "JPEG")
    await escort.send_photo(blank.getvalue())
    await escort.wait_for("Tidak ada QR badge")
    await db.unchanged(new_audit=["badge_unknown"])


async def test_only_escorts_record_entry_and_exit(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await approved(sim)
    # The escort's scan stores its button's nonce (a change), and every scan that shows the
    # KTP photo is recorded (its photo leaves the chat when deleted: test_ktp_leaves_chats),
    # so the scans come before the snapshot; the taps after it must change nothing.
    await scan(sim, link)
    views = {}
    for person in (APPROVER, ADMIN):
        user = sim.user(person)
        await user.open_link(link)
        views[person] = await user.wait_for("Badge pengunjung")
    db = await watch(app, sim)
    for person, view in views.items():
        user = sim.user(person)
        assert "Hanya Pendamping" in view.text_or_caption and view.buttons == []
        visit = (await services.storage.visits.with_status(VisitStatus.APPROVED))[0]
        forged = await user.send_callback(view, f"v1:in:{visit.id}")
        await sim.settle()
        assert forged.answer is not None and "Hanya Pendamping" in forged.answer.text
    # An escort's forged exit for a visit that is not inside changes nothing.
    escort = sim.user(ESCORT)
    forged = await escort.send_callback(escort.last_bot_message, f"v1:out:{visit.id}")
    await sim.settle()
    assert forged.answer is not None and "tidak berlaku" in forged.answer.text
    assert await visit_status(services) == VisitStatus.APPROVED
    await db.unchanged(new_audit=["door_tap_refused"])


async def test_who_is_inside_and_what_is_pending(
    sim: BotApiSimulator, app: object, clock: FakeClock
) -> None:
    escort = sim.user(ESCORT)
    await escort.send_text("/aktif")
    await escort.wait_for("Tidak ada pengunjung")
    link = await approved(sim)
    await register(sim, Visitor(nik="3508010102850001", name="Bayu Aji"))
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    clock.advance(minutes=45)
    await escort.send_text("/aktif")
    inside = await escort.wait_for("Di dalam ruang server: 1")
    assert "Ayu Lestari" in inside.text_or_caption and "melewati rencana" in inside.text_or_caption
    approver = sim.user(APPROVER)
    await approver.send_text("/menunggu")
    waiting = await approver.wait_for("Menunggu keputusan: 1")
    assert "Bayu Aji" in waiting.text_or_caption and "melewati standar" in waiting.text_or_caption


async def test_start_menus_and_strangers(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    officer = sim.user(OFFICER)
    await officer.send_text("/start")
    welcome = await officer.wait_for("Selamat datang")
    assert "/daftar" in welcome.text_or_caption
    assert ("daftar", "Daftarkan pengunjung baru") in sim.commands_for(OFFICER)
    assert "daftar" not in [c for c, _ in sim.commands_for(ESCORT)]
    stranger = sim.user(STRANGER)
    for text in ("/start", "halo", "/daftar"):
        await stranger.send_text(text)
        reply = await stranger.wait_for("ID Telegram Anda")
        assert f"{STRANGER}" in reply.text_or_caption
    await db.unchanged(new_audit=["stranger_refused"] * 3)


async def test_forged_badge_alerts_every_approver(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await approved(sim)
    db = await watch(app, sim)
    escort = sim.user(ESCORT)
    forged = new_credentials(b"another-deployment-secret-0123456789", 1).token
    await escort.open_link(deep_link(BOT_USERNAME, forged))
    await escort.wait_for("tidak dikenal atau palsu")
    for approver in (APPROVER, APPROVER2):
        alert = await sim.user(approver).wait_for("Badge tidak dikenal/palsu")
        assert "Dewi" in alert.text_or_caption
    await db.unchanged(new_audit=["badge_unknown", "forged_alert"], new_outbox=["forged"] * 2)


async def test_manual_codes_are_rate_limited(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await approved(sim)
    db = await watch(app, sim)
    badge = next(m for m in sim.user(OFFICER).bot_messages if "Kode manual" in (m.caption or ""))
    good = badge.caption.rsplit(" ", 1)[1]
    escort = sim.user(ESCORT)
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        await escort.send_text(f"/kode {guess}")
        await escort.wait_for("tidak dikenal")
    await escort.send_text(f"/kode {good}")  # even the right code waits now
    await escort.wait_for("Terlalu banyak kode salah")
    assert not any("Catat MASUK" in str(m.buttons) for m in escort.bot_messages)
    await db.unchanged(new_audit=["badge_unknown"] * 5)
    clock.advance(minutes=11)
    await escort.send_text(f"/kode {good}")
    view = await escort.wait_for("Badge pengunjung")
    assert view.buttons == [["✅ Catat MASUK"]]
    # A scan of the QR is never rate-limited: the escort at the door is not slowed down.


async def test_escorts_are_told_a_visitor_waits_and_open_the_visit(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    escort = sim.user(ESCORT)
    notice = await escort.wait_for("Pengunjung menunggu di meja petugas")
    text = notice.text_or_caption
    assert "Ayu Lestari" in text and "Disetujui oleh Budi Kasi" in text
    assert "3508" not in text  # no NIK in a notice
    assert notice.buttons == [["🔎 Buka kunjungan"]]
    assert not any("menunggu di meja" in m.text_or_caption for m in sim.user(OFFICER).messages)
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    data = notice.inline_keyboard[0][0]["callback_data"]
    assert data == f"v1:dv:{visit.id}"

    # Opening the visit changes nothing; a double tap shows nobody an error.
    db = await watch(app, sim)
    first = await escort.send_callback(notice, data)
    second = await escort.send_callback(notice, data)
    await sim.settle()
    opened = escort.bot_messages[-1]
    assert opened.message_id == notice.message_id  # the notice became the visit's view
    assert "Badge pengunjung" in opened.text and "Pindai QR badge" in opened.text
    assert opened.buttons == []  # entry is recorded by the scan at the door, not here
    for tap in (first, second):
        assert tap.answer is not None and not tap.answer.show_alert
    assert not any("kesalahan" in m.text_or_caption for m in escort.bot_messages)
    await db.unchanged()

    # Once the visit is over, the old button says where it stands.
    await scan(sim, badge_link(sim))
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK")
    await scan(sim, badge_link(sim))
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR")
    late = await escort.send_callback(notice, data)
    await sim.settle()
    assert late.answer is not None and "Status: Selesai" in (late.answer.text or "")


async def test_a_visit_past_midnight_is_summarised_with_dates(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """In at 09:00 and out at 09:10 the next day: the exit summary dates both, or it would
    read as ten minutes."""
    link = await approved(sim)
    escort = sim.user(ESCORT)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    clock.advance(hours=24, minutes=10)
    await scan(sim, link)
    await escort.tap("Perangkat sesuai")
    summary = await sim.user(OFFICER).wait_for("Kunjungan selesai")
    assert "Masuk: 28-11-2026 09:0" in summary.text and "Keluar: 29-11-2026 09:1" in summary.text


async def test_an_exit_card_whose_step_was_taken_on_another_shows_where_the_visit_stands(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """The escort scanned the badge twice at the exit (a slow phone, a second try) and
    recorded KELUAR on the second card. A tap on the first is refused, and that card no
    longer says "lalu catat KELUAR di bawah": it shows the visit finished, without buttons."""
    await register(sim)
    await approve(sim)
    escort = sim.user(ESCORT)
    await scan(sim, badge_link(sim))
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK")
    await scan(sim, badge_link(sim))
    first = escort.bot_messages[-1]
    assert "lalu catat KELUAR" in first.text_or_caption
    data = first.inline_keyboard[0][0]["callback_data"]
    await scan(sim, badge_link(sim))
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR")

    db = await watch(app, sim)
    late = await escort.send_callback(first, data)
    await sim.settle()
    assert late.answer is not None and "Status: Selesai" in (late.answer.text or "")
    card = next(m for m in escort.bot_messages if m.message_id == first.message_id)
    assert "Status: Selesai" in card.text_or_caption
    assert "lalu catat KELUAR" not in card.text_or_caption and card.buttons == []
    assert card.photo  # still the KTP photo above it
    await db.unchanged()
