"""Equipment checked in and out (issue 14, part 4): at KELUAR the escort confirms that the
listed equipment leaves with the visitor, or records a discrepancy with a note, which every
approver hears about."""

from __future__ import annotations

from typing import Any

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.app.services import Services
from bot.core import callbacks
from bot.core.fields import REASON_MAX
from bot.core.visits import EquipmentCheck, Visit, VisitStatus
from simulator import BotApiSimulator, SimMessage
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_e2e_double_tap import answered, no_generic_error
from tests.e2e.test_e2e_reports import todays_log
from tests.flows import Visitor, approve, badge_link, register, scan

NOTE = "Hard disk eksternal 2 TB tidak dibawa keluar"


async def inside(sim: BotApiSimulator, visitor: Visitor | None = None) -> str:
    """A visitor registered, approved and let in; the badge's link."""
    await register(sim, visitor)
    await approve(sim)
    link = badge_link(sim)
    escort = sim.user(ESCORT)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    return link


async def exit_card(sim: BotApiSimulator, link: str) -> SimMessage:
    await scan(sim, link)
    card = sim.user(ESCORT).last_bot_message
    assert card is not None
    return card


async def note_awaited(app: object, sim: BotApiSimulator) -> tuple[str, SimMessage, Any]:
    """A visitor inside, the exit scanned and ⚠️ Ada selisih tapped, the database watched
    from before the tap: (the badge's link, the exit card, the watch)."""
    link = await inside(sim)
    card = await exit_card(sim, link)
    escort = sim.user(ESCORT)
    db = await watch(app, sim)
    await escort.tap("Ada selisih", card)
    await escort.wait_for("Ketik catatannya")
    return link, card, db


async def the_visit(services: Services) -> Visit:
    (visit,) = [
        v for status in VisitStatus for v in await services.storage.visits.with_status(status)
    ]
    return visit


async def audited(services: Services, action: str) -> int:
    return [e.action for e in await services.storage.audit.events()].count(action)


async def test_equipment_matches_one_tap_records_the_exit_with_the_check(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    link = await inside(sim)
    clock.advance(minutes=20)
    card = await exit_card(sim, link)
    assert "Perangkat: Laptop, kabel konsol" in card.text_or_caption
    assert "Periksa perangkat yang dibawa keluar" in card.text_or_caption
    assert card.buttons == [["✅ Perangkat sesuai", "⚠️ Ada selisih"]]
    escort = sim.user(ESCORT)
    await escort.tap("Perangkat sesuai", card)
    exited = await escort.wait_for("KELUAR tercatat")
    assert exited is card and exited.buttons == []
    assert "✅ Perangkat sesuai" in exited.text_or_caption
    visit = await the_visit(services)
    assert visit.status == VisitStatus.DONE
    assert (visit.equipment_check, visit.equipment_note) == (EquipmentCheck.MATCHES, None)
    for person in (OFFICER, APPROVER, APPROVER2):
        summary = await sim.user(person).wait_for("Kunjungan selesai")
        assert "✅ Perangkat sesuai" in summary.text_or_caption
        assert "selisih" not in summary.text_or_caption
    assert await audited(services, "equipment_discrepancy") == 0


async def test_a_discrepancy_with_its_note_alerts_every_approver_and_is_audited(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    link = await inside(sim)
    card = await exit_card(sim, link)
    escort = sim.user(ESCORT)
    await escort.tap("Ada selisih", card)
    prompt = await escort.wait_for("Ketik catatannya")
    assert prompt.buttons == []
    # Nothing is recorded before the note.
    assert (await the_visit(services)).status == VisitStatus.INSIDE
    await escort.send_text(NOTE)
    await escort.wait_for("Catatan selisih tersimpan")
    assert card.buttons == [] and "KELUAR tercatat" in card.text_or_caption
    assert f"Selisih perangkat: {NOTE}" in card.text_or_caption
    visit = await the_visit(services)
    assert visit.status == VisitStatus.DONE
    assert (visit.equipment_check, visit.equipment_note) == (EquipmentCheck.DIFFERS, NOTE)
    # Encrypted at rest (storage/crypto.py DATA_KEY_COLUMNS).
    async with services.storage.connection.execute(
        "SELECT equipment_check, equipment_note FROM visits"
    ) as cur:
        row = await cur.fetchone()
    assert row["equipment_check"] == "diff" and "Hard disk" not in row["equipment_note"]
    for person in (APPROVER, APPROVER2, OFFICER):
        alert = await sim.user(person).wait_for("Kunjungan selesai")
        assert alert.text_or_caption.startswith("⚠️ Ada selisih perangkat saat keluar")
        assert f"Selisih perangkat: {NOTE}" in alert.text_or_caption
    assert await audited(services, "equipment_discrepancy") == 1
    exits = [e for e in await services.storage.audit.events(visit.id) if e.action == "exit"]
    assert [e.detail for e in exits] == ["scan:qr"]
    # The note never reaches the audit log (it may name people).
    assert all("Hard disk" not in (e.detail or "") for e in await services.storage.audit.events())


async def test_without_equipment_listed_keluar_is_one_button_as_before(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await inside(sim, Visitor(equipment=None))
    card = await exit_card(sim, link)
    assert card.buttons == [["🚪 Catat KELUAR"]]
    assert "Periksa perangkat" not in card.text_or_caption
    await sim.user(ESCORT).tap("Catat KELUAR", card)
    exited = await sim.user(ESCORT).wait_for("KELUAR tercatat")
    assert "Perangkat" not in exited.text_or_caption
    visit = await the_visit(services)
    assert (visit.status, visit.equipment_check, visit.equipment_note) == (
        VisitStatus.DONE,
        None,
        None,
    )


async def test_an_empty_or_too_long_note_is_refused_and_changes_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await inside(sim)
    card = await exit_card(sim, link)
    escort = sim.user(ESCORT)
    await escort.tap("Ada selisih", card)
    await escort.wait_for("Ketik catatannya")
    db = await watch(app, sim)
    await escort.send_text("\u200b\u200b")  # nothing but invisible characters
    await escort.wait_for("harus berupa kata-kata")
    await escort.send_text("x" * (REASON_MAX + 1))
    await escort.wait_for("Catatan terlalu panjang")
    await escort.send_text("y" * 4096)  # the longest message Telegram carries
    too_long = await escort.wait_for("Catatan terlalu panjang")
    await escort.send_document(b"%PDF-1.4", "catatan.pdf")
    await escort.wait_for("harus berupa kata-kata")
    await escort.send_text("😀 !!")  # an emoji is no note
    await escort.wait_for("harus berupa kata-kata")
    await db.unchanged()
    assert (await the_visit(services)).status == VisitStatus.INSIDE
    # Still waiting for the note: a good one records the exit.
    await escort.send_text(NOTE)
    saved = await escort.wait_for("Catatan selisih tersimpan")
    assert saved.message_id > too_long.message_id
    assert (await the_visit(services)).equipment_note == NOTE


async def test_double_taps_and_stale_buttons_change_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await inside(sim)
    card = await exit_card(sim, link)
    escort = sim.user(ESCORT)
    old_buttons = (card.callback_data("Ada selisih"), card.callback_data("sesuai"))
    # ⚠️ Ada selisih twice before the bot answered: one prompt, no error.
    first, second = await escort.double_tap("Ada selisih", card)
    await answered(sim, first, second)
    await sim.settle()
    prompts = [m for m in escort.bot_messages if "Ketik catatannya" in m.text_or_caption]
    assert len(prompts) == 1
    no_generic_error(sim)
    await escort.send_text(NOTE)
    await escort.wait_for("Catatan selisih tersimpan")
    # Both buttons of the spent scan, replayed late by the escort who used it: told the exit
    # is recorded, nothing else.
    db = await watch(app, sim)
    for data in old_buttons:
        tap = await escort.send_callback(card, data)
        await answered(sim, tap)
        assert tap.answer is not None and "KELUAR sudah tercatat" in (tap.answer.text or "")
    await db.unchanged()
    no_generic_error(sim)
    assert await audited(services, "exit") == 1


async def test_a_note_typed_after_the_scan_ran_out_is_not_recorded(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    # Watched from before the tap: the wait it opens ends with the refused note.
    link, card, db = await note_awaited(app, sim)
    escort = sim.user(ESCORT)
    clock.advance(minutes=6)  # door buttons live for a few minutes (DOOR_NONCE_TTL)
    await escort.send_text(NOTE)
    await escort.wait_for("Catatan tidak dicatat")
    await db.unchanged(new_audit=["door_tap_refused"])
    assert card.buttons == []
    assert (await the_visit(services)).status == VisitStatus.INSIDE
    # A new scan, a new button: the exit is recorded.
    card = await exit_card(sim, link)
    await escort.tap("Ada selisih", card)
    await escort.wait_for("Ketik catatannya")
    await escort.send_text(NOTE)
    await escort.wait_for("Catatan selisih tersimpan")
    assert (await the_visit(services)).equipment_check == EquipmentCheck.DIFFERS


async def test_forged_exit_buttons_are_refused(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await inside(sim)
    card = await exit_card(sim, link)
    visit = await the_visit(services)
    nonce = callbacks.parse_as(card.callback_data("sesuai"), callbacks.DoorTap)
    assert nonce is not None
    escort = sim.user(ESCORT)
    db = await watch(app, sim)
    # KELUAR without the check, on the scan's own nonce (a modified client): refused.
    plain = callbacks.DoorTap(callbacks.DOOR_EXIT, visit.id, nonce.nonce).data
    tap = await escort.send_callback(card, plain)
    await answered(sim, tap)
    assert tap.answer is not None and "Pindai ulang badge" in (tap.answer.text or "")
    # A made-up nonce on ⚠️ Ada selisih: refused before any prompt.
    made_up = callbacks.DoorTap(callbacks.DOOR_EXIT_DIFF, visit.id, "B" * 12).data
    tap = await escort.send_callback(card, made_up)
    await answered(sim, tap)
    assert tap.answer is not None and "Pindai ulang badge" in (tap.answer.text or "")
    assert not any("Ketik catatannya" in m.text_or_caption for m in escort.bot_messages)
    await db.unchanged(new_audit=["door_tap_refused"])
    assert (await the_visit(services)).status == VisitStatus.INSIDE
    no_generic_error(sim)


async def test_a_restart_between_the_tap_and_the_note_loses_nothing(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        link = await inside(sim)
        card = await exit_card(sim, link)
        escort = sim.user(ESCORT)
        await escort.tap("Ada selisih", card)
        await escort.wait_for("Ketik catatannya")
        await stop_polling(app)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        await escort.send_text(NOTE)
        await escort.wait_for("Catatan selisih tersimpan")
        visit = await app.bot_data.storage.visits.get(1)  # type: ignore[attr-defined]
        assert (visit.status, visit.equipment_note) == (VisitStatus.DONE, NOTE)
    finally:
        await stop_polling(app)


async def test_a_discrepancy_is_in_every_report_and_the_history(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """The note in the access log's Catatan (XLSX and CSV column, PDF line under the row)
    and in /riwayat."""
    link = await inside(sim)
    card = await exit_card(sim, link)
    escort = sim.user(ESCORT)
    await escort.tap("Ada selisih", card)
    await escort.wait_for("Ketik catatannya")
    await escort.send_text(NOTE)
    await escort.wait_for("Catatan selisih tersimpan")
    await sim.settle()
    officer = sim.user(OFFICER)
    row, text, table = await todays_log(sim, services, clock)
    assert row["Catatan"] == f"Selisih perangkat: {NOTE}"
    assert f"Catatan: Selisih perangkat: {NOTE}" in text  # a line under the row
    assert table["Catatan"] == f"Selisih perangkat: {NOTE}"
    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Riwayat kunjungan")
    assert f"Selisih perangkat: {NOTE}" in history.text


async def test_batal_ends_the_wait_for_a_note_and_records_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """/batal after ⚠️ Ada selisih: the wait ends, nothing is recorded, and a later chat line
    is not taken for the note. A scan of another badge meanwhile (a command too) does not end
    it; /batal does."""
    link, card, db = await note_awaited(app, sim)
    escort = sim.user(ESCORT)
    await escort.send_text("/aktif")  # another command passes, the note is still awaited
    await escort.wait_for(predicate=lambda m: "Ketik catatannya" not in m.text_or_caption)
    await escort.send_text("/batal")
    await escort.wait_for("Catatan selisih dibatalkan; KELUAR belum tercatat")
    await escort.send_text("halo")
    await sim.settle()
    assert not any("tersimpan" in m.text_or_caption for m in escort.bot_messages)
    await db.unchanged()
    assert card.buttons == []  # a new scan records the exit
    assert (await the_visit(services)).status == VisitStatus.INSIDE
    card = await exit_card(sim, link)
    await escort.tap("Perangkat sesuai", card)
    await escort.wait_for("KELUAR tercatat")
