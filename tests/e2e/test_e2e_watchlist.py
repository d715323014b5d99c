"""The watchlist (issue 14, part 2): section heads bar a NIK, list and lift it; a request for
a barred NIK is marked on the officer's receipt and on every card, the approvers are alerted,
and approving it takes a second, explicit tap; every refusal leaves the database as it was."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bot.app.services import Services
from bot.core.nik import mask_nik
from bot.core.visits import VisitStatus
from bot.flows.workflow import WATCHLIST_CONFIRMED
from bot.texts import planning as plan_texts
from bot.texts import watchlist as watchlist_texts
from simulator import BotApiSimulator, Faults, SimCallback
from simulator.message import SimMessage
from storage.visits import WATCHLIST_MATCH
from storage.watchlist import BLOCKED, LIFTED
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, STRANGER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_e2e_deadlines import run_job, said
from tests.e2e.test_e2e_double_tap import answered, idle, no_generic_error
from tests.e2e.test_e2e_planned import BUTTON, approve_ahead, next_day, plan, today_list
from tests.flows import NIK_MAN, NIK_WOMAN, approve, badge_link, ktp_image, register, scan

REASON = "Merusak rak server <b>3 November</b>"
MASKED = mask_nik(NIK_WOMAN)
BARRED = "Ya, setujui meski diblokir"


async def block(sim: BotApiSimulator, nik: str = NIK_WOMAN, reason: str = REASON) -> SimMessage:
    person = sim.user(APPROVER)
    await person.send_text(f"/blokir {nik} {reason}")
    return await person.wait_for("daftar blokir")


def card(sim: BotApiSimulator, user_id: int) -> SimMessage:
    (found,) = [
        m
        for m in sim.user(user_id).bot_messages
        if "Permintaan akses ruang server" in (m.caption or "")
    ]
    return found


async def actions(services: Services) -> list[tuple[str, int | None, str]]:
    return [(e.action, e.visit_id, e.detail) for e in await services.storage.audit.events()]


async def test_block_list_and_a_barred_registration_needs_a_second_tap(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    done = await block(sim)
    assert MASKED in done.text and NIK_WOMAN not in done.text
    assert "Merusak rak server <b>3 November</b>" in done.text  # typed markup stays text
    approver = sim.user(APPROVER)
    await approver.send_text("/daftar_blokir")
    listed = await approver.wait_for("Daftar blokir")
    assert "(1)" in listed.text and MASKED in listed.text and REASON in listed.text
    assert "Budi Kasi" in listed.text and "28-11-2026 09:00" in listed.text
    assert NIK_WOMAN not in listed.text

    await register(sim)
    receipt = await sim.user(OFFICER).wait_for("terkirim")
    assert "⛔" in receipt.text and "daftar blokir" in receipt.text
    await sim.settle()
    await services.delivery.wait_idle()
    for person in (APPROVER, APPROVER2):
        shown = card(sim, person)
        assert "⛔" in shown.caption and "blokir" in shown.caption
        assert shown.buttons == [["✅ Setujui", "❌ Tolak"]]
        (alert,) = said(sim, person, "Peringatan blokir")
        assert "KRS-2026-00001" in alert and "Ayu Lestari" in alert and MASKED in alert
        assert REASON in alert and "Budi Kasi" in alert and "Sari Petugas" in alert
        assert NIK_WOMAN not in alert
    await approver.send_text("/menunggu")
    pending = await approver.wait_for("Menunggu keputusan: 1")
    assert "KRS-2026-00001 ⛔ blokir" in pending.text
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.watchlisted and visit.status == VisitStatus.PENDING
    entry = await services.storage.watchlist.find(NIK_WOMAN)
    assert entry is not None
    assert (WATCHLIST_MATCH, 1, str(entry.id)) in await actions(services)

    # Setujui, even twice, only asks for the second tap: nothing is decided.
    db = await watch(app, sim)
    first, second = await approver.double_tap("Setujui", card(sim, APPROVER))
    await answered(sim, first, second)
    await idle(app, sim)
    for tap in (first, second):
        assert tap.answer is not None and tap.answer.text == watchlist_texts.CONFIRM_FIRST
    assert card(sim, APPROVER).buttons == [[watchlist_texts.BTN_APPROVE_BARRED, "❌ Tolak"]]
    assert card(sim, APPROVER2).buttons == [["✅ Setujui", "❌ Tolak"]]  # only the tapper's
    await db.unchanged()

    # The second tap, double-tapped: approved once, the late one told so.
    first, second = await approver.double_tap(BARRED, card(sim, APPROVER))
    await answered(sim, first, second)
    await idle(app, sim)
    no_generic_error(sim)
    assert first.answer is not None and "Disetujui" in first.answer.text
    assert second.answer is not None and "sudah diputuskan" in second.answer.text
    officer = sim.user(OFFICER)
    await officer.wait_for(predicate=lambda m: m.document_name is not None)
    await services.delivery.wait_idle()
    await sim.settle()
    assert sum(m.document_name is not None for m in officer.bot_messages) == 1
    for person in (APPROVER, APPROVER2):
        decided = card(sim, person)
        assert "DISETUJUI" in decided.caption and "blokir" in decided.caption
        assert decided.buttons == []
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.status == VisitStatus.APPROVED
    assert ("approve", 1, WATCHLIST_CONFIRMED) in await actions(services)
    # The access log's history says so too (the Catatan lines, bot/reports/log.py notes()).
    await approver.send_text(f"/riwayat {NIK_WOMAN}")
    history = await approver.wait_for("KRS-2026-00001")
    assert watchlist_texts.LOG_NOTE in history.text


async def test_a_second_step_overtaken_by_a_decision_leaves_no_live_button(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """Setujui on a barred request turns the tapper's card into the second step with an edit
    of its own, outside the outbox. When another section head decides while that edit is on
    its way, the outbox's redraw of the card (decided, no buttons) can land first: the card
    must still end decided, without "Ya, setujui meski diblokir"."""
    await block(sim)
    await register(sim)
    await services.delivery.wait_idle()
    approver, approver2 = sim.user(APPROVER), sim.user(APPROVER2)
    await approver2.tap("Tolak", card(sim, APPROVER2))
    await approver2.wait_for("alasan penolakan")
    sim.faults = Faults(latency=4.0, methods={"editMessageReplyMarkup"})  # the second step
    tap = await approver.tap("Setujui", card(sim, APPROVER))
    assert isinstance(tap, SimCallback)
    async with asyncio.timeout(10):  # the bot read the pending visit and sent its edit
        while not sim.call_counts["editMessageReplyMarkup"]:
            await sim.changed(0.02)

    await approver2.send_text("KTP tidak cocok")
    await approver2.wait_for("Permintaan ditolak")
    await approver.wait_for("DITOLAK", predicate=lambda m: m is card(sim, APPROVER), since=0)
    await answered(sim, tap)
    sim.faults = Faults()
    await idle(app, sim)
    await services.delivery.wait_idle()
    await sim.settle()
    shown = card(sim, APPROVER)
    assert "DITOLAK" in shown.caption and shown.buttons == []
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.status == VisitStatus.DENIED


async def test_unblock_then_the_same_nik_registers_as_usual(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    await block(sim)
    approver = sim.user(APPROVER)
    await approver.send_text(f"/buka_blokir {NIK_WOMAN}")
    lifted = await approver.wait_for("dikeluarkan dari daftar blokir")
    assert MASKED in lifted.text
    await approver.send_text("/daftar_blokir")
    await approver.wait_for(watchlist_texts.EMPTY)
    entry_ids = [d for a, _, d in await actions(services) if a in (BLOCKED, LIFTED)]
    assert [a for a, _, _ in await actions(services) if a in (BLOCKED, LIFTED)] == [
        BLOCKED,
        LIFTED,
    ] and len(set(entry_ids)) == 1

    await register(sim)
    receipt = await sim.user(OFFICER).wait_for("terkirim")
    assert "blokir" not in receipt.text
    await sim.user(OFFICER).send_text("/menunggu")
    assert "blokir" not in (await sim.user(OFFICER).wait_for("Menunggu keputusan: 1")).text
    await approve(sim)  # one tap, as for anyone else
    await sim.settle()
    assert "blokir" not in (card(sim, APPROVER).caption or "")
    assert not said(sim, APPROVER, "Peringatan blokir")
    visit = await services.storage.visits.get(1)
    assert visit is not None and not visit.watchlisted and visit.status == VisitStatus.APPROVED


async def test_a_command_without_its_argument_asks_for_it(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    approver = sim.user(APPROVER)
    await approver.send_text("/blokir")
    await approver.wait_for("Ketik NIK (16 angka) lalu alasannya")
    # An answer that cannot be read gets its one-line error, changes nothing, and the bot
    # keeps waiting.
    await idle(app, sim)
    db = await watch(app, sim)
    await approver.send_text(NIK_MAN)
    await approver.wait_for("Alasan wajib diisi")
    await db.unchanged()
    await approver.send_text(f"{NIK_MAN} Mengambil kabel tanpa izin")
    done = await approver.wait_for("masuk")
    assert mask_nik(NIK_MAN) in done.text and "Mengambil kabel tanpa izin" in done.text
    await approver.send_text("/buka_blokir")
    await approver.wait_for("Buka blokir NIK")
    await idle(app, sim)
    db = await watch(app, sim)
    await approver.send_text("abc")
    await approver.wait_for("NIK harus tepat 16 angka")
    await db.unchanged()
    await approver.send_text(NIK_MAN)
    await approver.wait_for("dikeluarkan dari daftar blokir")
    assert await services.storage.watchlist.live() == []


async def test_bad_input_and_other_people_change_nothing(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    await block(sim, NIK_MAN, "Sudah diblokir")
    db = await watch(app, sim)
    approver = sim.user(APPROVER)
    cases = [
        (f"/blokir 1234 {REASON}", "NIK harus tepat 16 angka"),
        ("/blokir 3508013202900001 alasan", "tanggal lahir"),  # born on the 32nd
        (f"/blokir {NIK_WOMAN}", "Alasan wajib diisi"),
        (f"/blokir {NIK_WOMAN} 😀 !!", "Alasan wajib diisi"),  # an emoji is no reason
        (f"/blokir {NIK_WOMAN} {'x' * 301}", "Alasan terlalu panjang"),
        (f"/blokir {NIK_MAN} Lagi", "sudah ada dalam daftar blokir"),
        (f"/buka_blokir {NIK_WOMAN}", "tidak ada dalam daftar blokir"),
        ("/buka_blokir 12", "NIK harus tepat 16 angka"),
    ]
    for typed, says in cases:
        await approver.send_text(typed)
        reply = await approver.wait_for(says)
        assert "Tidak ada yang diubah" in reply.text
    officer = sim.user(OFFICER)
    for typed in (f"/blokir {NIK_WOMAN} alasan", f"/buka_blokir {NIK_MAN}", "/daftar_blokir"):
        await officer.send_text(typed)
        await officer.wait_for("khusus untuk Kepala Seksi")
    stranger = sim.user(STRANGER)
    for typed in (f"/blokir {NIK_WOMAN} alasan", f"/buka_blokir {NIK_MAN}", "/daftar_blokir"):
        await stranger.send_text(typed)
        reply = await stranger.wait_for("hanya untuk petugas")
        assert "blokir" not in reply.text
    await db.unchanged(new_audit=["stranger_refused"] * 3)
    assert [e.id for e in await services.storage.watchlist.live()] == [1]


async def test_the_daily_review_shows_watchlist_changes(
    sim: BotApiSimulator, app: Any, services: Services, clock: Any
) -> None:
    await block(sim)
    await register(sim)
    approver2 = sim.user(APPROVER2)
    await approver2.send_text(f"/buka_blokir {NIK_WOMAN}")
    await approver2.wait_for("dikeluarkan")
    clock.now = datetime(2026, 11, 29, 0, 30, tzinfo=UTC)  # 07:30 WIB the next day
    await run_job(app, "review_job")
    for person in (APPROVER, APPROVER2):
        (review,) = said(sim, person, "Tinjauan harian")
        assert "Perubahan daftar blokir: 2" in review
        line = "KRS-2026-00001 Ayu Lestari (PT Jaringan Nusantara) — Menunggu keputusan ⛔ blokir"
        assert line in review
        assert f"⛔ {MASKED} diblokir oleh Budi Kasi" in review
        assert f"✅ {MASKED} dibuka oleh Rina Kasi" in review
        assert NIK_WOMAN not in review


async def test_a_planned_visit_for_a_barred_nik_is_marked_and_needs_the_second_tap(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """/jadwal goes through the same submit as /daftar: the plan is checked too (issue 14)."""
    from tests.e2e.test_e2e_planned import plan

    await block(sim)
    await plan(sim)
    receipt = sim.user(OFFICER).bot_messages[-1]
    assert "terkirim" in receipt.text and "⛔" in receipt.text and "daftar blokir" in receipt.text
    await sim.settle()
    await services.delivery.wait_idle()
    approver = sim.user(APPROVER)
    shown = await approver.wait_for(
        "KRS-2026-00001", predicate=lambda m: "TERJADWAL" in m.text and bool(m.buttons)
    )
    assert "⛔" in shown.text and "blokir" in shown.text
    assert said(sim, APPROVER, "Peringatan blokir")
    db = await watch(app, sim)
    await approver.tap("Setujui", shown)
    await idle(app, sim)
    await db.unchanged()  # the first tap only asks for the second
    await approver.tap(BARRED, shown)
    await idle(app, sim)
    no_generic_error(sim)
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.watchlisted and visit.status == VisitStatus.SCHEDULED
    assert ("approve_ahead", 1, WATCHLIST_CONFIRMED) in await actions(services)


async def test_a_nik_barred_while_its_request_waits_marks_it(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """/blokir while the visitor's request waits: it is marked now, as at submit (every card
    shows ⛔, Setujui takes the second tap), and the one who blocked is told."""
    await register(sim)
    await services.delivery.wait_idle()
    assert "⛔" not in card(sim, APPROVER2).caption
    done = await block(sim)
    assert "1 permintaan terbuka untuk NIK ini kini ditandai ⛔" in done.text
    await services.delivery.wait_idle()
    await sim.settle()
    for person in (APPROVER, APPROVER2):
        shown = card(sim, person)
        assert "⛔" in shown.caption and shown.buttons == [["✅ Setujui", "❌ Tolak"]]
    entry = await services.storage.watchlist.find(NIK_WOMAN)
    assert entry is not None
    assert (WATCHLIST_MATCH, 1, str(entry.id)) in await actions(services)
    other = sim.user(APPROVER2)
    tap = await other.tap("Setujui", card(sim, APPROVER2))
    await answered(sim, tap)
    assert tap.answer is not None and tap.answer.text == watchlist_texts.CONFIRM_FIRST
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.status == VisitStatus.PENDING and visit.watchlisted


async def test_a_nik_barred_after_the_approval_is_refused_at_the_door(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """The badge was issued, then the NIK barred: the scan shows why and no MASUK, and a
    MASUK button from a scan before the block records nothing. Lifted again, the door opens."""
    await register(sim)
    await approve(sim)
    escort = sim.user(ESCORT)
    await scan(sim, badge_link(sim))
    early = escort.bot_messages[-1]  # scanned before the block: MASUK still on it
    data = early.inline_keyboard[0][0]["callback_data"]
    await block(sim)
    await scan(sim, badge_link(sim))
    view = escort.bot_messages[-1]
    assert "daftar blokir setelah badge terbit" in view.text_or_caption and view.buttons == []
    db = await watch(app, sim)
    tap = await escort.send_callback(early, data)
    await answered(sim, tap)
    await sim.settle()
    assert tap.answer is not None and "MASUK tidak dicatat" in (tap.answer.text or "")
    shown = next(m for m in escort.bot_messages if m.message_id == early.message_id)
    assert shown.buttons == [] and "daftar blokir" in shown.text_or_caption
    await db.unchanged(new_audit=["door_tap_refused"])
    await sim.user(APPROVER).send_text(f"/buka_blokir {NIK_WOMAN}")
    await sim.user(APPROVER).wait_for("dikeluarkan dari daftar blokir")
    await scan(sim, badge_link(sim))
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")


async def test_a_visit_approved_despite_the_watchlist_goes_in(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """Barred before the request, approved with the second tap: approved knowingly, so the
    door does not stop it."""
    await block(sim)
    await register(sim)
    approver = sim.user(APPROVER)
    await services.delivery.wait_idle()
    await approver.tap("Setujui", card(sim, APPROVER))
    await approver.wait_for(predicate=lambda m: BARRED in str(m.buttons))
    await approver.tap(BARRED, card(sim, APPROVER))
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    await scan(sim, badge_link(sim))
    await sim.user(ESCORT).tap("Catat MASUK")
    await sim.user(ESCORT).wait_for("MASUK tercatat")


async def test_a_planned_visit_barred_after_its_approval_gets_no_badge_at_the_desk(
    sim: BotApiSimulator, app: Any, services: Services, clock: FakeClock
) -> None:
    """Approved in advance, then the NIK barred: the block counts it, the desk cannot open
    it (nor issue its badge from a form opened before), and after /buka_blokir it can."""
    officer = sim.user(OFFICER)
    await plan(sim)
    await approve_ahead(sim)
    await idle(app, sim)
    done = await block(sim)
    assert "1 permintaan terbuka untuk NIK ini kini ditandai" in done.text
    next_day(clock, 9, 5)
    db = await watch(app, sim)
    await officer.tap(BUTTON, await today_list(sim))
    refused = await officer.wait_for("daftar blokir")
    assert "Badge tidak diterbitkan" in refused.text_or_caption
    await db.unchanged()
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.status == VisitStatus.SCHEDULED
    await sim.user(APPROVER).send_text(f"/buka_blokir {NIK_WOMAN}")
    await sim.user(APPROVER).wait_for("dikeluarkan dari daftar blokir")
    await officer.tap(BUTTON, await today_list(sim))
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    check = await officer.wait_for("Cocokkan KTP dengan orangnya")
    await officer.tap(plan_texts.BTN_ISSUE, check)
    await officer.wait_for(predicate=lambda m: m.document_name is not None)
