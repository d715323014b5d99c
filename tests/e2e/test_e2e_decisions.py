"""The section head's decision: deny with a reason, races, forged and stale taps."""

from __future__ import annotations

import asyncio

from bot.app.services import Services
from bot.core.roles import Role
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, STRANGER
from tests.dbstate import watch
from tests.flows import ktp_image, register


async def card(sim: BotApiSimulator, approver: int = APPROVER) -> object:
    return await sim.user(approver).wait_for("Permintaan akses ruang server")


async def only_visit(services: Services) -> object:
    visits = [
        v for status in VisitStatus for v in await services.storage.visits.with_status(status)
    ]
    assert len(visits) == 1
    return visits[0]


async def test_deny_asks_for_a_reason_and_tells_the_officer(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    approver = sim.user(APPROVER)
    await card(sim)
    await approver.tap("Tolak")
    prompt = await approver.wait_for("alasan penolakan")
    assert prompt.buttons == [["↩ Batal menolak"]]
    assert (await only_visit(services)).status == VisitStatus.PENDING  # nothing decided yet
    await approver.send_text("Jadwal pemeliharaan belum disetujui <b>vendor</b>")
    await approver.wait_for("Permintaan ditolak")
    await sim.settle()
    assert prompt.buttons == []  # the denial is done: nothing left to cancel
    notice = await sim.user(OFFICER).wait_for("ditolak")
    assert "Jadwal pemeliharaan belum disetujui <b>vendor</b>" in notice.text_or_caption
    for person in (APPROVER, APPROVER2):
        updated = await sim.user(person).wait_for("DITOLAK oleh Budi")
        assert updated.buttons == []
    visit = await only_visit(services)
    assert visit.status == VisitStatus.DENIED and visit.decided_by == APPROVER
    assert not any(m.document_name for m in sim.user(OFFICER).bot_messages)  # no badge


async def test_changing_ones_mind_after_deny_keeps_the_request_pending(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    approver = sim.user(APPROVER)
    await card(sim)
    db = await watch(app, sim)
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    await approver.tap("Batal menolak")
    await approver.wait_for("Penolakan dibatalkan")
    await db.unchanged()
    await approver.tap("Setujui")
    await sim.user(OFFICER).wait_for("disetujui")
    assert (await only_visit(services)).status == VisitStatus.APPROVED


async def test_two_approvers_at_once_one_decision(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await card(sim, APPROVER)
    await card(sim, APPROVER2)
    first, second = await asyncio.gather(
        sim.user(APPROVER).tap("Setujui"), sim.user(APPROVER2).tap("Setujui")
    )
    await sim.settle()
    answers = sorted([first.answer.text, second.answer.text])  # type: ignore[union-attr]
    assert any("Disetujui" in a for a in answers)
    assert any("sudah diputuskan" in a for a in answers)
    visit = await only_visit(services)
    decider = "Budi" if visit.decided_by == APPROVER else "Rina"
    for person in (APPROVER, APPROVER2):
        last = sim.user(person).bot_messages[-1]
        assert f"DISETUJUI oleh {decider}" in last.text_or_caption
    badges = [m for m in sim.user(OFFICER).bot_messages if m.document_name]
    assert len(badges) == 1
    events = await services.storage.audit.events(visit.id)
    assert [e.action for e in events].count("approve") == 1


async def test_second_tap_after_decision_changes_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    approval = await card(sim)
    visit_id = approval_visit(approval)
    await sim.user(APPROVER).tap("Setujui")
    await sim.user(OFFICER).wait_for("disetujui")
    db = await watch(app, sim)
    # A client showing the old card (a slow phone) taps its Tolak button late.
    again = await sim.user(APPROVER).send_callback(approval, f"v1:no:{visit_id}")
    await sim.settle()
    assert again.answer is not None and "sudah diputuskan" in again.answer.text
    assert (await only_visit(services)).status == VisitStatus.APPROVED
    await db.unchanged()


def approval_visit(message: object) -> int:
    data = message.callback_data("Setujui")  # type: ignore[attr-defined]
    return int(data.rsplit(":", 1)[1])


async def test_forged_approve_taps_are_refused(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    approval = await card(sim)
    visit_id = approval_visit(approval)
    db = await watch(app, sim)
    # The officer and the escort forge the approver's callback data on their own messages.
    for person in (OFFICER, ESCORT):
        user = sim.user(person)
        await user.send_text("/start")
        own = await user.wait_for("Selamat datang")
        forged = await user.send_callback(own, f"v1:ok:{visit_id}")
        await sim.settle()
        assert forged.answer is not None and "khusus untuk Kepala Seksi" in forged.answer.text
    # A stranger's forged tap is refused at the gate.
    stranger = sim.user(STRANGER)
    await stranger.send_text("/start")
    refusal = await stranger.wait_for("ID Telegram Anda")
    forged = await stranger.send_callback(refusal, f"v1:ok:{visit_id}")
    await sim.settle()
    assert forged.answer is not None and "tidak berwenang" in forged.answer.text
    # Garbage and unknown visits from a real approver change nothing.
    for data in ("v1:ok:999999", "v1:ok:abc", "v9:ok:1", "x" * 64):
        tap = await sim.user(APPROVER).send_callback(approval, data)
        await sim.settle()
        assert tap.answer is not None and "tidak berlaku" in tap.answer.text
    assert (await only_visit(services)).status == VisitStatus.PENDING
    await db.unchanged(new_audit=["stranger_refused"] * 2)


async def test_a_reason_that_is_no_reason_decides_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    approver = sim.user(APPROVER)
    await card(sim)
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    db = await watch(app, sim)  # the prompt is open: the reason is what is refused
    await approver.send_text("x" * 301)
    await approver.wait_for("Alasan terlalu panjang")
    await approver.send_photo(ktp_image())
    await approver.wait_for("harus berupa kata-kata")
    await approver.send_text("😀")  # an emoji is no reason
    await approver.wait_for("harus berupa kata-kata")
    await db.unchanged()
    assert (await only_visit(services)).status == VisitStatus.PENDING
    await approver.send_text("Tidak ada jadwal")  # the prompt is still waiting
    await approver.wait_for("Permintaan ditolak")


async def test_four_eyes_the_registrant_never_decides_their_own_request(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """An officer who is also a section head gets the card, but only another head decides."""
    await services.storage.staff.set_roles(
        OFFICER, frozenset({Role.OFFICER, Role.APPROVER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await register(sim)
    own = await card(sim, OFFICER)
    db = await watch(app, sim)
    for label in ("Setujui", "Tolak"):
        tap = await sim.user(OFFICER).tap(label, own)
        await sim.settle()
        assert tap.answer is not None and "empat mata" in tap.answer.text, label
    await db.unchanged(new_audit=["decision_refused_own_request"] * 2)
    assert (await only_visit(services)).status == VisitStatus.PENDING  # type: ignore[attr-defined]
    await sim.user(APPROVER).tap("Setujui", await card(sim))
    await sim.user(OFFICER).wait_for("disetujui")


async def test_a_reason_prompt_outlived_by_another_decision_says_so(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Tolak, then the other section head approves first: the prompt's "Batal menolak" does
    not claim the request still waits; it loses its button and changes nothing."""
    await register(sim)
    approver = sim.user(APPROVER)
    await card(sim)
    await approver.tap("Tolak")
    prompt = await approver.wait_for("alasan penolakan")
    await sim.user(APPROVER2).tap("Setujui", await card(sim, APPROVER2))
    await sim.user(OFFICER).wait_for("disetujui")
    visit = await only_visit(services)
    events = await services.storage.audit.events(visit.id)  # type: ignore[attr-defined]
    tap = await approver.tap("Batal menolak", prompt)
    await sim.settle()
    assert (
        tap.answer is not None and "sudah diputuskan oleh Rina Kasi: Disetujui" in tap.answer.text
    )
    assert not any("masih menunggu" in m.text_or_caption for m in approver.bot_messages)
    assert prompt.buttons == []
    # Only the prompt's conversation ended: the decision and its trail are as they were.
    assert await only_visit(services) == visit
    assert await services.storage.audit.events(visit.id) == events  # type: ignore[attr-defined]


async def test_approving_while_the_reason_prompt_is_open_closes_it(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Tolak, then Setujui on the card after all: the decision is the approval, and the
    reason prompt's button goes with it (only the current question has live buttons)."""
    await register(sim)
    approver = sim.user(APPROVER)
    approval = await card(sim)
    await approver.tap("Tolak")
    prompt = await approver.wait_for("alasan penolakan")
    await approver.tap("Setujui", approval)
    await sim.user(OFFICER).wait_for("disetujui")
    await sim.settle()
    assert prompt.buttons == []
    assert (await only_visit(services)).status == VisitStatus.APPROVED  # type: ignore[attr-defined]


async def test_batal_ends_the_wait_for_a_deny_reason_and_other_commands_pass(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Tolak, then /batal: nothing is decided, and a later chat line is not taken for the
    reason. Tolak, then another command (/menunggu): it is answered, and the prompt still
    waits for its reason."""
    await register(sim)
    head = sim.user(APPROVER)
    card = await head.wait_for("Permintaan akses ruang server")
    db = await watch(app, sim)
    await head.tap("Tolak", card)
    prompt = await head.wait_for("Tulis alasan penolakan")
    await head.send_text("/batal")
    said = await head.wait_for("Penolakan KRS-2026-00001 dibatalkan")
    assert "Kirim lagi" not in said.text_or_caption and prompt.buttons == []
    await head.send_text("oke siap")
    await sim.settle()
    assert not any("ditolak" in m.text_or_caption.lower() for m in head.bot_messages)
    await db.unchanged()
    await head.tap("Tolak", card)
    prompt = await head.wait_for("Tulis alasan penolakan", predicate=lambda m: bool(m.buttons))
    await head.send_text("/menunggu")
    await head.wait_for("Menunggu keputusan: 1")
    assert prompt.buttons  # still waiting for the reason
    await head.send_text("Dokumen tidak lengkap")
    await head.wait_for("Permintaan ditolak.")
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.deny_reason == "Dokumen tidak lengkap"


async def test_an_approver_who_is_an_officer_too_starts_a_form_from_a_deny_prompt(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Rina decides and registers. Tolak, then /daftar: the denial stops (nothing decided),
    and the KTP photo and the NIK she sends go to her new form, not to the reason."""
    await services.storage.staff.set_roles(
        APPROVER2, frozenset({Role.APPROVER, Role.OFFICER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    await register(sim)
    rina = sim.user(APPROVER2)
    card = await rina.wait_for("Permintaan akses ruang server")
    await rina.tap("Tolak", card)
    await rina.wait_for("Tulis alasan penolakan")
    await rina.send_text("/daftar")
    await rina.wait_for("Penolakan KRS-2026-00001 dibatalkan")
    await rina.send_text("/daftar")
    await rina.wait_for("Kirim foto KTP pengunjung")
    await rina.send_photo(ktp_image())
    await rina.wait_for(predicate=lambda m: "NIK" in m.text_or_caption)
    assert not any("Alasan penolakan" in m.text_or_caption for m in rina.bot_messages)
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.deny_reason is None
