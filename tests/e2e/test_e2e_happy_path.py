"""The whole SOP through the simulator: register, approve, badge, enter, exit."""

from __future__ import annotations

from bot.app.services import Services
from bot.core.form import FORM
from bot.core.visits import VisitStatus
from bot.texts.form import SUMMARY_TITLE
from simulator import BotApiSimulator
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import (
    NIK_WOMAN,
    Visitor,
    act,
    approve,
    at,
    badge_link,
    register,
    scan,
)


async def test_whole_visit(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await register(sim)

    # Every approver gets the KTP photo with the summary, NIK masked, and two buttons.
    for approver in (APPROVER, APPROVER2):
        card = await sim.user(approver).wait_for("Permintaan akses ruang server")
        assert card.photo_bytes is not None
        assert "3508**********02" in card.text_or_caption
        assert NIK_WOMAN not in card.text_or_caption
        assert card.buttons == [["✅ Setujui", "❌ Tolak"]]

    clock.advance(minutes=4)
    await approve(sim)

    # Both cards now say who decided, without buttons.
    for approver in (APPROVER, APPROVER2):
        card = await sim.user(approver).wait_for("DISETUJUI oleh Budi")
        assert card.buttons == []
    officer = sim.user(OFFICER)
    assert any("disetujui" in m.text_or_caption for m in officer.bot_messages)
    pdf = next(m for m in officer.bot_messages if m.document_name)
    assert pdf.document_name.endswith(".pdf") and pdf.document_bytes.startswith(b"%PDF")

    link = badge_link(sim)
    assert link.startswith("https://t.me/AksesServerBot?start=")

    # At the door: the escort scans, sees the visit and one button.
    clock.advance(minutes=6)
    await scan(sim, link)
    escort = sim.user(ESCORT)
    view = escort.last_bot_message
    assert "Ayu Lestari" in view.text_or_caption and "3508**********02" in view.text_or_caption
    assert view.buttons == [["✅ Catat MASUK"]]
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    await officer.wait_for("masuk ruang server")

    visit = (await services.storage.visits.with_status(VisitStatus.INSIDE))[0]
    assert visit.entry_escort_id == ESCORT

    # At the exit: the same QR, the other button; then the badge is dead.
    clock.advance(minutes=25)
    await scan(sim, link)
    assert escort.last_bot_message.buttons == [["✅ Perangkat sesuai", "⚠️ Ada selisih"]]
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")
    for person in (OFFICER, APPROVER, APPROVER2):
        summary = await sim.user(person).wait_for("Kunjungan selesai")
        assert "Lama: 25 menit" in summary.text_or_caption

    done = await services.storage.visits.get(visit.id)
    assert done is not None and done.status == VisitStatus.DONE
    assert done.exit_escort_id == ESCORT
    assert done.decided_by == APPROVER
    assert done.form_done_at is not None and done.handover_at is not None
    assert done.started_at <= done.form_done_at <= done.submitted_at <= done.handover_at

    db = await watch(app, sim)
    await escort.open_link(link)
    reused = await escort.wait_for("tidak berlaku")
    assert reused.buttons == []
    await db.unchanged(new_audit=["badge_finished"])

    actions = [e.action for e in await services.storage.audit.events(visit.id)]
    assert actions[:4] == ["submit", "approve", "enter", "exit"]


async def test_returning_visitor_is_offered_stored_details(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim, Visitor(name="Ayu Lestari", organisation="PT Lama"))
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("foto KTP")
    from tests.flows import ktp_image

    await officer.send_photo(ktp_image())
    await officer.wait_for("NIK")
    await officer.send_text(NIK_WOMAN)
    offer = await officer.wait_for("pernah terdaftar")
    assert "PT Lama" in offer.text_or_caption
    await officer.tap("Pakai data ini")
    # The stored details are not asked again: the form goes on with the visit's own fields.
    moves = Visitor().script()
    remembered = {field.name for field in FORM.remembered}
    rest = [m for m in moves[at(moves, "nik") + 1 :] if m.field not in remembered]
    await officer.wait_for(rest[0].asked)
    for move, following in zip(rest, [*(m.asked for m in rest[1:]), SUMMARY_TITLE], strict=True):
        await act(officer, move)
        summary = await officer.wait_for(following)
    assert "Instansi: PT Lama" in summary.text_or_caption
