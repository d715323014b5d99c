"""A departing officer's open requests move to another officer or are cancelled (issue 10)."""

from __future__ import annotations

from typing import Any

from bot.app.services import Services
from bot.core.roles import Role
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER
from tests.dbstate import watch
from tests.flows import NIK_MAN, Visitor, approve, register


async def two_open_requests(sim: BotApiSimulator, services: Services) -> tuple[int, int]:
    """Sari has one approved request not yet used and one waiting; Dewi becomes an officer."""
    await register(sim)
    await approve(sim)
    await register(sim, Visitor(nik=NIK_MAN, name="Bayu Aji"))
    await services.storage.staff.set_roles(
        ESCORT, frozenset({Role.ESCORT, Role.OFFICER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    (approved,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    (pending,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    return approved.id, pending.id


async def open_member(sim: BotApiSimulator, name: str) -> None:
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listing = await admin.wait_for("Daftar staf")
    await admin.tap(name, listing)
    await admin.wait_for("Tekan peran")


async def _actions(services: Services) -> list[str]:
    return [e.action for e in await services.storage.audit.events()]


async def test_removing_an_officer_moves_their_open_requests_first(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    approved, pending = await two_open_requests(sim, services)
    await open_member(sim, "Sari Petugas")
    admin = sim.user(ADMIN)
    await admin.tap("🗑 Hapus dari staf")
    prompt = await admin.wait_for("masih memegang 2 permintaan terbuka")
    assert (
        "KRS-2026-00001" in prompt.text_or_caption and "KRS-2026-00002" in prompt.text_or_caption
    )
    assert services.member(OFFICER) is not None  # nothing changed until the admin chooses
    await admin.tap("➡️ Pindahkan ke Dewi Pendamping", prompt)
    await admin.wait_for("dipindahkan ke Dewi Pendamping")
    assert services.member(OFFICER) is None
    for visit_id in (approved, pending):
        visit = await services.storage.visits.get(visit_id)
        assert visit is not None and visit.officer_id == ESCORT
    dewi = sim.user(ESCORT)
    await dewi.wait_for("Anda kini menangani permintaan KRS-2026-00001, KRS-2026-00002")
    actions = await _actions(services)
    assert actions.count("visit_reassigned") == 2
    assert "officer_handover" in actions and "staff_removed" in actions
    # The waiting request's badge now goes to the officer who took it over.
    head = sim.user(APPROVER)
    card = await head.wait_for("Bayu Aji")
    await head.tap("Setujui", card)
    await dewi.wait_for(predicate=lambda m: m.document_name is not None)
    assert not any(
        m.document_name == "badge-KRS-2026-00002.pdf" for m in sim.user(OFFICER).bot_messages
    )


async def test_taking_the_officer_role_away_can_cancel_them_instead(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    approved, pending = await two_open_requests(sim, services)
    await services.storage.staff.set_roles(
        OFFICER, frozenset({Role.OFFICER, Role.ESCORT}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await open_member(sim, "Sari Petugas")
    admin = sim.user(ADMIN)
    await admin.tap("☑️ Petugas")
    prompt = await admin.wait_for("tidak lagi menjadi Petugas")
    await admin.tap("❌ Batalkan semuanya", prompt)
    await admin.wait_for("dibatalkan. Sari Petugas tidak lagi menjadi petugas")
    member = services.member(OFFICER)
    assert member is not None and member.roles == {Role.ESCORT}
    for visit_id in (approved, pending):
        visit = await services.storage.visits.get(visit_id)
        assert visit is not None and visit.status == VisitStatus.CANCELLED
        assert visit.cancelled_by == ADMIN
    for head in (APPROVER, APPROVER2):  # every approver's card says so
        await sim.user(head).wait_for("DIBATALKAN oleh Admin TI")
    actions = await _actions(services)
    assert actions.count("cancel") == 2 and "officer_handover" in actions
    assert "staff_roles" in actions


async def test_forged_handover_taps_change_nothing(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    await two_open_requests(sim, services)
    await open_member(sim, "Sari Petugas")
    admin = sim.user(ADMIN)
    shown = admin.bot_messages[-1]
    db = await watch(app, sim)
    head = sim.user(APPROVER)
    tap = await head.send_callback(
        head.bot_messages[-1], f"v1:hov:{OFFICER}:{ESCORT}:x"
    )  # not an admin
    await sim.settle()
    assert tap.answer is not None and "khusus untuk Admin" in tap.answer.text
    for data, says in (
        (f"v1:hov:{OFFICER}:{APPROVER}:x", "bukan Petugas"),  # to someone who is no officer
        (f"v1:hov:{ADMIN}:{ESCORT}:x", "tidak dapat menghapus diri sendiri"),
        (f"v1:hov:{OFFICER}:{OFFICER}:x", "tidak berlaku"),
        (f"v1:hov:{OFFICER}:9999:x", "bukan staf"),
    ):
        tap = await admin.send_callback(shown, data)
        await sim.settle()
        assert tap.answer is not None and says in tap.answer.text, data
    assert services.member(OFFICER) is not None
    await db.unchanged()


async def test_a_badge_the_departing_officer_never_got_is_issued_to_the_new_one(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """Sari blocked the bot, so her badge was refused for good, and she leaves: Dewi, who
    takes the visit over, gets a badge issued anew (nobody held the first one)."""
    await register(sim)
    sim.user(OFFICER).block()
    head = sim.user(APPROVER)
    await head.tap("Setujui", await head.wait_for("Permintaan akses ruang server"))
    await sim.user(ADMIN).wait_for("memblokir bot")
    await services.storage.staff.set_roles(
        ESCORT, frozenset({Role.ESCORT, Role.OFFICER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await open_member(sim, "Sari Petugas")
    admin = sim.user(ADMIN)
    await admin.tap("🗑 Hapus dari staf")
    prompt = await admin.wait_for("masih memegang 1 permintaan terbuka")
    await admin.tap("➡️ Pindahkan ke Dewi Pendamping", prompt)
    dewi = sim.user(ESCORT)
    badge = await dewi.wait_for("Dikirim ulang", predicate=lambda m: bool(m.photo_bytes))
    assert "KRS-2026-00001" in badge.text_or_caption
    await dewi.wait_for(predicate=lambda m: m.document_name == "badge-KRS-2026-00001.pdf")
    assert (await _actions(services)).count("badge_reissued") == 1
