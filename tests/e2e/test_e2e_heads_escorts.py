"""Section heads and escorts as people really use Telegram (a black-box review's findings).

Two escorts at one exit, a section head whose role changes while he types a reason, one
who escorts too and photographs a badge with a reason prompt open, and the daily review's
words: each got a wrong, missing or English answer, or lost a discrepancy note.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.roles import Role
from bot.core.visits import EquipmentCheck, VisitStatus
from bot.texts import common as common_texts
from bot.texts import door as door_texts
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.e2e.test_e2e_duty import ESCORT2
from tests.e2e.test_e2e_duty import config as config  # the shared config and Eko, an escort
from tests.flows import NIK_MAN, Visitor, approve, badge_link, register, scan

NOTE = "Hard disk 2 TB milik kantor tidak ada di tas pengunjung"


def said(sim: BotApiSimulator, user_id: int, text: str) -> list[str]:
    return [m.text_or_caption for m in sim.user(user_id).bot_messages if text in m.text_or_caption]


async def enter(sim: BotApiSimulator, link: str, escort: int = ESCORT) -> None:
    await scan(sim, link, escort)
    await sim.user(escort).tap("Catat MASUK")
    await sim.user(escort).wait_for("MASUK tercatat")


async def test_a_discrepancy_typed_while_another_escort_records_keluar_reaches_the_heads(
    sim: BotApiSimulator, app: Any, services: Any
) -> None:
    """Dewi taps Ada selisih and types; Eko, at the other side, taps Perangkat sesuai first.
    The exit stands; Dewi's note is kept on the visit and reaches the heads and the officer."""
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    await enter(sim, link)
    dewi, eko = sim.user(ESCORT), sim.user(ESCORT2)
    await scan(sim, link, ESCORT)
    dewi_card = dewi.bot_messages[-1]
    await scan(sim, link, ESCORT2)
    eko_card = eko.bot_messages[-1]
    await dewi.tap("Ada selisih", dewi_card)
    await dewi.wait_for("Ketik catatannya")
    await eko.tap("Perangkat sesuai", eko_card)
    await eko.wait_for("KELUAR tercatat")
    await dewi.send_text(NOTE)
    told = await dewi.wait_for("sudah dicatat oleh Eko Pendamping")
    assert "tetap tersimpan" in told.text
    await services.delivery.wait_idle()
    await sim.settle()
    for person in (APPROVER, APPROVER2, OFFICER):
        (alert,) = said(sim, person, "Selisih perangkat dilaporkan setelah KELUAR")
        assert NOTE in alert and "Eko Pendamping" in alert and "Dewi" in alert
    (visit,) = await services.storage.visits.with_status(VisitStatus.DONE)
    assert (visit.equipment_check, visit.equipment_note) == (EquipmentCheck.DIFFERS, NOTE)
    assert visit.exit_escort_id == ESCORT2  # the exit as recorded
    events = [(e.action, e.detail) for e in await services.storage.audit.events()]
    assert ("equipment_discrepancy", "late") in events
    assert dewi_card.buttons == []


async def test_a_reason_typed_after_losing_the_approver_role_is_answered_and_decides_nothing(
    sim: BotApiSimulator, app: Any, services: Any
) -> None:
    await register(sim)
    head = sim.user(APPROVER)
    await head.tap("Tolak", await head.wait_for("Permintaan akses ruang server"))
    prompt = await head.wait_for("Tulis alasan penolakan")
    await services.storage.staff.set_roles(
        APPROVER, frozenset({Role.OFFICER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await sim.settle()
    before = [e.action for e in await services.storage.audit.events()]
    await head.send_text("Dokumen tidak lengkap")
    await head.wait_for(common_texts.ONLY_APPROVER)
    await sim.settle()
    # Nothing decided (the prompt's own state is all that went).
    assert [e.action for e in await services.storage.audit.events()] == before
    assert prompt.buttons == []  # "Batal menolak" is gone with the prompt
    assert await services.storage.visits.with_status(VisitStatus.PENDING)


async def test_a_badge_photo_while_a_deny_reason_waits_is_read_as_a_scan(
    sim: BotApiSimulator, app: Any, services: Any
) -> None:
    """Rina is a section head who escorts too; with a reason prompt open she photographs a
    badge at the door: the scan view, not "the reason must be words"."""
    await services.storage.staff.set_roles(
        APPROVER2, frozenset({Role.APPROVER, Role.ESCORT}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await register(sim)
    await approve(sim)
    badge = next(m for m in reversed(sim.user(OFFICER).bot_messages) if m.photo_bytes)
    await register(sim, Visitor(nik=NIK_MAN, name="Bagus Santoso"))
    rina = sim.user(APPROVER2)
    card = await rina.wait_for(
        "Bagus", predicate=lambda m: any("Tolak" in b for r in m.buttons for b in r)
    )
    await rina.tap("Tolak", card)
    await rina.wait_for("Tulis alasan penolakan")
    await rina.send_photo(badge.photo_bytes)
    await rina.wait_for("Badge pengunjung")
    # The prompt still waits: the next words are the reason.
    await rina.send_text("Jadwal bentrok dengan pemeliharaan UPS")
    await sim.user(OFFICER).wait_for("ditolak")


async def test_the_daily_review_names_statuses_in_indonesian(
    sim: BotApiSimulator, app: Any, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    await enter(sim, badge_link(sim))
    await register(sim, Visitor(nik=NIK_MAN, name="Bagus Santoso", organisation="CV Data"))
    clock.now = datetime(2026, 11, 29, 0, 30, tzinfo=UTC)  # 07:30 WIB the next day
    (job,) = [j for j in app.job_queue.jobs() if j.name == "review_job"]
    await job.run(app)
    await app.bot_data.delivery.wait_idle()
    (review,) = said(sim, APPROVER, "Tinjauan harian")
    assert "— inside" not in review and "— pending" not in review
    assert "Di dalam ruang server" in review and "Menunggu keputusan" in review
    assert door_texts.BTN_ENTER not in review
